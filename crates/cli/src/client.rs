//! The client side of the control protocol: one request, one reply, printed for a person.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context};

use p2plab_chord::ring::{PeerView, RingView};
use p2plab_peer_protocol::control::{ControlReply, ControlRequest, NodeStats};
use p2plab_peer_protocol::{Answer, Hit, Problem, Question, UserInfo};
use p2plab_runtime::control::{token, ControlClient};

/// How long a command waits for its node's answer. A search ends in seconds; a download of a
/// large file may take long, so this only catches a node that hung.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// Sends one request to a node's control port, with the token its node left for this user,
/// and reads its reply.
async fn ask(control: SocketAddr, req: &ControlRequest) -> anyhow::Result<ControlReply> {
    let dir = token::control_dir()?;
    let client = ControlClient::find(control, &dir).map_err(|e| anyhow!(e))?;
    client
        .ask(req, ANSWER_TIMEOUT)
        .await
        .map_err(|e| anyhow!(e))
}

/// `p2plab search`: one hit a line; exit code 1 when nothing is found.
pub async fn search(control: SocketAddr, query: &str) -> anyhow::Result<ExitCode> {
    match ask(
        control,
        &ControlRequest::Search {
            query: query.to_owned(),
        },
    )
    .await?
    {
        ControlReply::Hits { hits } if hits.is_empty() => {
            eprintln!("no file matches {query:?}");
            Ok(ExitCode::from(1))
        }
        ControlReply::Hits { hits } => {
            print!("{}", hits_text(&hits));
            Ok(ExitCode::SUCCESS)
        }
        ControlReply::NotReady { message } => {
            bail!("the network cannot answer yet: {message}; try again shortly")
        }
        ControlReply::Error { message } => bail!("search failed: {message}"),
        other => bail!("unexpected reply: {other:?}"),
    }
}

/// One hit a line: name, size, holder, tab-separated.
fn hits_text(hits: &[Hit]) -> String {
    hits.iter()
        .map(|hit| format!("{}\t{}\t{}\n", hit.name, hit.size, hit.holder))
        .collect()
}

/// `p2plab napster browse|whois|ping`: asks the network about a user and prints the
/// answer; a browse of a user who shares nothing exits with 1, as a search that finds
/// nothing does.
pub async fn ask_about(control: SocketAddr, question: Question) -> anyhow::Result<ExitCode> {
    let what = match &question {
        Question::Browse { .. } => "browse",
        Question::Whois { .. } => "whois",
        Question::Ping { .. } => "ping",
    };
    let nick = question.nick().to_owned();
    match ask(control, &ControlRequest::Ask { question }).await? {
        ControlReply::Answer {
            answer: Answer::Files { hits },
        } if hits.is_empty() => {
            eprintln!("{nick} shares no files");
            Ok(ExitCode::from(1))
        }
        ControlReply::Answer { answer } => {
            print!("{}", answer_text(&answer, SystemTime::now()));
            Ok(ExitCode::SUCCESS)
        }
        ControlReply::Error { message } => bail!("{what} {nick} failed: {message}"),
        other => bail!("unexpected reply: {other:?}"),
    }
}

/// An answer as a person reads it: a browse's files as a search's hits, a whois one field
/// a line, a ping's time; `now` dates a last-seen time.
fn answer_text(answer: &Answer, now: SystemTime) -> String {
    match answer {
        Answer::Files { hits } => hits_text(hits),
        Answer::Online(user) => user_text(user),
        Answer::Offline {
            nick,
            level,
            last_seen_unix,
        } => {
            let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            let ago = now.saturating_sub(*last_seen_unix);
            format!(
                "{nick} is offline ({level}); last seen at UNIX time {last_seen_unix}, {ago} s ago\n"
            )
        }
        Answer::Pong { nick, round_trip } => {
            let ms = round_trip.as_secs_f64() * 1000.0;
            format!("{nick} answered in {ms:.1} ms\n")
        }
    }
}

/// A whois of a user online, one field a line.
fn user_text(user: &UserInfo) -> String {
    let channels = if user.channels.is_empty() {
        "none".to_owned()
    } else {
        user.channels.join(" ")
    };
    format!(
        "nick      {}\nlevel     {}\nonline    {} s\nchannels  {channels}\nstatus    {}\n\
         shared    {} files\ntransfers {} down, {} up\nlink type {}\nclient    {}\n",
        user.nick,
        user.level,
        user.online_secs,
        user.status,
        user.shared,
        user.downloads,
        user.uploads,
        user.link_type,
        user.client
    )
}

/// `p2plab get`: locate, then download into `out` (replacing a file there only if `force`).
pub async fn get(
    control: SocketAddr,
    name: &str,
    out: &Path,
    force: bool,
) -> anyhow::Result<ExitCode> {
    // The node writes the file, so it needs a path that does not depend on our directory.
    let out =
        std::path::absolute(out).with_context(|| format!("bad output path {}", out.display()))?;
    match ask(
        control,
        &ControlRequest::Get {
            name: name.to_owned(),
            out: out.clone(),
            overwrite: force,
        },
    )
    .await?
    {
        ControlReply::Downloaded { bytes, from, .. } => {
            println!("{name}: {bytes} bytes from {from} -> {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        ControlReply::Error { message } => bail!("get failed: {message}"),
        other => bail!("unexpected reply: {other:?}"),
    }
}

/// A node's counters and state.
pub async fn node_stats(control: SocketAddr) -> anyhow::Result<NodeStats> {
    match ask(control, &ControlRequest::Stats).await? {
        ControlReply::Stats(stats) => Ok(*stats),
        ControlReply::Error { message } => bail!("stats failed: {message}"),
        other => bail!("unexpected reply: {other:?}"),
    }
}

/// `p2plab stats`: the node's counters and state, pretty JSON on stdout; and on stderr,
/// as a sentence, why the node cannot reach its server or bootstrap, if it cannot.
pub async fn stats(control: SocketAddr) -> anyhow::Result<ExitCode> {
    let stats = node_stats(control).await?;
    println!("{}", serde_json::to_string_pretty(&stats)?);
    if let Some(problem) = &stats.problem {
        eprintln!("{}", problem_line(problem));
    }
    Ok(ExitCode::SUCCESS)
}

/// A node's problem as a person reads it, with when it began on the node's clock.
fn problem_line(problem: &Problem) -> String {
    let since = Duration::from_micros(problem.since.as_micros()).as_secs_f64();
    format!("problem (since {since:.1} s after start): {problem}")
}

/// `p2plab chord ring`: the node's id, predecessor, successor list and fingers.
pub async fn ring(control: SocketAddr) -> anyhow::Result<ExitCode> {
    let stats = node_stats(control).await?;
    if stats.kind != "chord" {
        bail!(
            "the node at {control} is a {} node, not a Chord node",
            stats.kind
        );
    }
    let view: RingView = serde_json::from_value(stats.state).context("unreadable ring view")?;
    print!("{}", ring_text(&view));
    Ok(ExitCode::SUCCESS)
}

/// The ring view as text; runs of fingers that point at the same node share one line.
fn ring_text(view: &RingView) -> String {
    let peer = |p: &PeerView| format!("{} {}", p.id, p.addr);
    let mut out = format!("node         {} (m = {})\n", peer(&view.node), view.id_bits);
    let pred = view
        .predecessor
        .as_ref()
        .map_or_else(|| "unknown".to_owned(), peer);
    out.push_str(&format!("predecessor  {pred}\n"));
    for (i, s) in view.successors.iter().enumerate() {
        out.push_str(&format!("successor {:<2} {}\n", i + 1, peer(s)));
    }
    let mut i = 0;
    while i < view.fingers.len() {
        let target = &view.fingers[i].node;
        let run = view.fingers[i..]
            .iter()
            .take_while(|f| &f.node == target)
            .count();
        let (first, last) = (&view.fingers[i], &view.fingers[i + run - 1]);
        let node = target.as_ref().map_or_else(|| "unknown".to_owned(), peer);
        let span = if run == 1 {
            format!("{}", first.index)
        } else {
            format!("{}..{}", first.index, last.index)
        };
        out.push_str(&format!(
            "finger {span:<8} start {:<12} -> {node}\n",
            first.start
        ));
        i += run;
    }
    out.push_str(&format!("stored keys  {}\n", view.stored_keys));
    out
}

#[cfg(test)]
mod tests {
    use p2plab_peer_protocol::{CloseReason, Failure, Instant};

    use super::*;

    #[test]
    fn whois_and_ping_answers_read_one_field_a_line() {
        let user = UserInfo {
            nick: "alice".into(),
            level: "User".into(),
            online_secs: 75,
            channels: Vec::new(),
            status: "Active".into(),
            shared: 2,
            downloads: 0,
            uploads: 1,
            link_type: 10,
            client: "p2plab 0.1".into(),
        };
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!(
            answer_text(&Answer::Online(user), now),
            "nick      alice\nlevel     User\nonline    75 s\nchannels  none\n\
             status    Active\nshared    2 files\ntransfers 0 down, 1 up\n\
             link type 10\nclient    p2plab 0.1\n"
        );
        let gone = Answer::Offline {
            nick: "alice".into(),
            level: "User".into(),
            last_seen_unix: 940,
        };
        assert_eq!(
            answer_text(&gone, now),
            "alice is offline (User); last seen at UNIX time 940, 60 s ago\n"
        );
        let pong = Answer::Pong {
            nick: "bob".into(),
            round_trip: Duration::from_micros(2_345),
        };
        assert_eq!(answer_text(&pong, now), "bob answered in 2.3 ms\n");
    }

    #[test]
    fn a_problem_reads_as_one_line_with_its_start() {
        let addr: SocketAddr = "127.0.0.1:8888".parse().unwrap();
        let failure = Failure::Closed(CloseReason::Refused);
        let problem = Problem::one(
            "index server",
            addr,
            failure,
            Instant::from_micros(1_500_000),
        )
        .retrying_in(Some(Duration::from_secs(2)));
        assert_eq!(
            problem_line(&problem),
            "problem (since 1.5 s after start): cannot reach index server 127.0.0.1:8888: \
             connection refused; retrying in 2 s"
        );
    }
}
