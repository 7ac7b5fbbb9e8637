//! The control port on real loopback sockets: it obeys its owner's token and nothing else —
//! not a web page's POST, not a request without the token — and `get` and `fetch` never
//! write over a file or leave half of one behind.

#![allow(clippy::unwrap_used)] // a test fails by panicking

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use p2plab_peer_protocol::control::{ControlReply, ControlRequest};
use p2plab_peer_protocol::Library;
use p2plab_runtime::control::{self, ControlClient, ControlOptions, ControlServer};
use p2plab_runtime::{launch, NodeError, NodeHandle};

const ASK: Duration = Duration::from_secs(20);

async fn node_with_control(dir: &std::path::Path) -> (NodeHandle, ControlServer) {
    let node = launch::gnutella_servent(common::any_port(), Library::empty(), |c| {
        c.min_peers = 0;
        c.search_window = Duration::from_millis(200);
    })
    .await
    .unwrap();
    let options = ControlOptions::new(dir.to_owned());
    let server = control::serve(&node, common::any_port(), &options)
        .await
        .unwrap();
    (node, server)
}

/// Writes `bytes` and reads until the node closes the connection (bounded).
async fn send_raw(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    String::from_utf8(common::exchange(&mut stream, &[bytes]).await).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_pages_post_is_never_obeyed() {
    let dir = tempfile::tempdir().unwrap();
    let (node, control) = node_with_control(&dir.path().join("run")).await;
    // What `fetch(url, {method: "POST", mode: "no-cors", body})` sends: no preflight.
    let body = "{\"cmd\":\"crash\"}\n";
    let post = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nOrigin: http://evil.example\r\n\
         Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n\r\n{body}",
        control.addr,
        body.len()
    );
    let reply = send_raw(control.addr, post.as_bytes()).await;
    assert_eq!(reply, "", "the session ends without a word");
    assert!(!node.is_stopped(), "the POST's body was obeyed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_the_token_ends_the_session_unobeyed() {
    let dir = tempfile::tempdir().unwrap();
    let (node, control) = node_with_control(&dir.path().join("run")).await;
    let reply = send_raw(control.addr, b"{\"cmd\":\"crash\"}\n{\"cmd\":\"crash\"}\n").await;
    let lines: Vec<&str> = reply.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "one refusal, then the session ends: {reply}"
    );
    let refusal: ControlReply = serde_json::from_str(lines[0]).unwrap();
    assert!(
        matches!(&refusal, ControlReply::Error { message } if message.contains("token")),
        "{refusal:?}"
    );
    let wrong = format!("{{\"token\":\"{}\",\"cmd\":\"crash\"}}\n", "ab".repeat(32));
    send_raw(control.addr, wrong.as_bytes()).await;
    assert!(!node.is_stopped());

    // The owner, who can read the token file, is obeyed.
    let client = ControlClient::find(control.addr, &dir.path().join("run")).unwrap();
    let reply = client.ask(&ControlRequest::Stats, ASK).await.unwrap();
    assert!(matches!(reply, ControlReply::Stats(_)), "{reply:?}");
    client.ask(&ControlRequest::Crash, ASK).await.unwrap();
    tokio::time::timeout(ASK, node.stopped()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_may_send_many_requests_on_one_session() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let (_node, control) = node_with_control(&run).await;
    let token = p2plab_runtime::control::token::find(&run, control.addr).unwrap();
    let line = p2plab_peer_protocol::control::RequestLine::encode(&token, &ControlRequest::Stats);
    let stream = TcpStream::connect(control.addr).await.unwrap();
    let (rd, mut wr) = stream.into_split();
    let mut replies = BufReader::new(rd).lines();
    for _ in 0..3 {
        wr.write_all(line.as_bytes()).await.unwrap();
        let reply = tokio::time::timeout(ASK, replies.next_line())
            .await
            .unwrap();
        let reply: ControlReply = serde_json::from_str(&reply.unwrap().unwrap()).unwrap();
        assert!(matches!(reply, ControlReply::Stats(_)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_port_off_loopback_needs_the_owners_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let node = launch::gnutella_servent(common::any_port(), Library::empty(), |c| c.min_peers = 0)
        .await
        .unwrap();
    let mut options = ControlOptions::new(dir.path().join("run"));
    let everywhere: SocketAddr = "0.0.0.0:0".parse().unwrap();
    let err = control::serve(&node, everywhere, &options)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied);
    assert!(err.to_string().contains("--control-allow-remote"), "{err}");
    options.allow_remote = true;
    let served = control::serve(&node, everywhere, &options).await.unwrap();
    // Reached on loopback, it still wants the token.
    let local = SocketAddr::from(([127, 0, 0, 1], served.addr.port()));
    let reply = send_raw(local, b"{\"cmd\":\"stats\"}\n").await;
    assert!(reply.contains("token"), "{reply}");
    let client = ControlClient::find(local, &options.dir).unwrap();
    let reply = client.ask(&ControlRequest::Stats, ASK).await.unwrap();
    assert!(matches!(reply, ControlReply::Stats(_)));
}

/// A servent sharing `name` (with `bytes`) from a folder of its own, and a servent
/// connected to it that shares nothing; the folder is returned so a test can change the file.
async fn holder_and_seeker(
    name: &str,
    bytes: &[u8],
) -> (tempfile::TempDir, NodeHandle, NodeHandle) {
    let shared = tempfile::tempdir().unwrap();
    std::fs::write(shared.path().join(name), bytes).unwrap();
    let holder = launch::gnutella_servent(
        common::any_port(),
        Library::from_dir(shared.path()).unwrap(),
        |c| c.min_peers = 1,
    )
    .await
    .unwrap();
    let seeker = launch::gnutella_servent(common::any_port(), Library::empty(), |c| {
        c.bootstrap = vec![holder.addr()];
        c.min_peers = 1;
        c.search_window = Duration::from_millis(300);
    })
    .await
    .unwrap();
    (shared, holder, seeker)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_keeps_an_existing_file_and_leaves_no_half_file() {
    let song: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    let (shared, _holder, seeker) = holder_and_seeker("kept song.mp3", &song).await;
    let outdir = tempfile::tempdir().unwrap();
    let out = outdir.path().join("song.mp3");
    std::fs::write(&out, b"mine").unwrap();

    // An existing file is not replaced...
    let refused = seeker.get("kept song.mp3", &out, false).await;
    assert!(
        matches!(&refused, Err(NodeError::Output(m)) if m.contains("exists")),
        "{refused:?}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"mine");
    // ...unless asked.
    for _ in 0..100 {
        if seeker.get("kept song.mp3", &out, true).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(std::fs::read(&out).unwrap(), song);

    // A holder that stops short (its file shrank after it was listed) leaves nothing behind.
    std::fs::OpenOptions::new()
        .write(true)
        .open(shared.path().join("kept song.mp3"))
        .unwrap()
        .set_len(10)
        .unwrap();
    let short = outdir.path().join("short.mp3");
    let failed = seeker.get("kept song.mp3", &short, false).await;
    assert!(matches!(failed, Err(NodeError::Transfer(_))), "{failed:?}");
    let left: Vec<_> = std::fs::read_dir(outdir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["song.mp3"], "no short.mp3, no short.mp3.part");

    // A folder, or a path in a folder that does not exist, is named in the error.
    let missing = outdir.path().join("no such folder").join("x.mp3");
    let err = seeker
        .get("kept song.mp3", &missing, false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no such folder"), "{err}");
    let err = seeker
        .get("kept song.mp3", outdir.path(), false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("is a folder"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_downloads_the_very_hit_it_is_given_and_keeps_an_existing_file() {
    let song: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    let (_shared, _holder, seeker) = holder_and_seeker("one hit.mp3", &song).await;
    let run = tempfile::tempdir().unwrap();
    let options = ControlOptions::new(run.path().join("run"));
    let served = control::serve(&seeker, common::any_port(), &options)
        .await
        .unwrap();
    let client = ControlClient::find(served.addr, &options.dir).unwrap();
    let search = ControlRequest::Search {
        query: "one hit".into(),
    };
    let mut hits = Vec::new();
    for _ in 0..100 {
        if let Ok(ControlReply::Hits { hits: found }) = client.ask(&search, ASK).await {
            if !found.is_empty() {
                hits = found;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let hit = hits.into_iter().next().expect("the holder answers");
    let outdir = tempfile::tempdir().unwrap();
    let out = outdir.path().join("song.mp3");
    let fetch = ControlRequest::Fetch {
        hit,
        out: out.clone(),
        overwrite: false,
    };
    let reply = client.ask(&fetch, ASK).await.unwrap();
    assert!(
        matches!(&reply, ControlReply::Downloaded { bytes, .. } if *bytes == song.len() as u64),
        "{reply:?}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), song);
    // The same request again finds the file there, and leaves it.
    let again = client.ask(&fetch, ASK).await.unwrap();
    assert!(
        matches!(&again, ControlReply::Error { message } if message.contains("exists")),
        "{again:?}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), song);
}

/// A session that sends nothing is closed once its idle time is up (shortened here, so the
/// test does not wait the default `IDLE_TIMEOUT`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_is_closed() {
    use tokio::io::AsyncReadExt;
    let dir = tempfile::tempdir().unwrap();
    let node = launch::napster_server(common::any_port(), Default::default())
        .await
        .unwrap();
    let options = ControlOptions {
        idle: Duration::from_millis(200),
        ..ControlOptions::new(dir.path().join("run"))
    };
    let control = control::serve(&node, common::any_port(), &options)
        .await
        .unwrap();
    let mut idle = TcpStream::connect(control.addr).await.unwrap();
    let mut byte = [0u8; 1];
    let n = tokio::time::timeout(ASK, idle.read(&mut byte))
        .await
        .expect("the idle session was never closed")
        .unwrap();
    assert_eq!(n, 0);
}
