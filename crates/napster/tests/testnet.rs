//! A server and peers on the in-memory network, on virtual time: searching, locating,
//! crashes, reconnection, clients that misbehave, and the server's limits.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use p2plab_napster::message::{Endpoint, Frame};
use p2plab_napster::{
    FileInfo, Message, NapsterNode, Peer, PeerConfig, Server, ServerConfig,
    MAX_PENDING_LOGINS_PER_ADDRESS, NO_MD5,
};
use p2plab_netsim::{Latency, NodeIdx, TestNet};
use p2plab_peer_protocol::{
    Answer, Command, Download, Event, Hit, Holder, Input, Instant, Library, Metrics, Node, Outbox,
    Question, RequestId, SearchError, TransferNotice, UserInfo, WireMessage,
};

/// A scripted client or server: writes `script` when connected (or on the first bytes it
/// receives, when it is the listening side), and records what comes back.
#[derive(Default)]
struct Raw {
    dial: Option<SocketAddr>,
    script: Vec<u8>,
    sent: bool,
    got: Vec<u8>,
    closed: bool,
    metrics: Metrics,
}

impl Raw {
    fn frames(&self) -> Vec<Frame> {
        let mut buf = &self.got[..];
        let mut out = Vec::new();
        while let Ok((frame, used)) = Frame::decode(buf) {
            out.push(frame);
            buf = &buf[used..];
        }
        out
    }

    /// The frames after the server's greeting of a login, which is checked: the ack (3),
    /// the three motd lines (621), the stats (214).
    fn replies(&self) -> Vec<Frame> {
        let mut frames = self.frames();
        let greeting: Vec<u16> = frames.drain(..5.min(frames.len())).map(|f| f.ty).collect();
        assert_eq!(greeting, GREETING, "the login's greeting");
        frames
    }
}

/// The types a server greets a login with, as OpenNap does: ack, motd lines, stats.
const GREETING: [u16; 5] = [3, 621, 621, 621, 214];

/// A client that opens `connections` connections to `server` at start and never says a word.
struct Squatter {
    server: SocketAddr,
    connections: usize,
    metrics: Metrics,
}

/// The runtime refuses connections beyond this many per node at accept (its
/// `MAX_CONNECTIONS`). The lab's server is held to it too, so that what fills a real
/// server's slots fills the lab's.
const DRIVER_MAX_CONNECTIONS: usize = 1024;

fn napster(node: impl Into<NapsterNode>) -> TestNode {
    TestNode::Napster(Box::new(node.into()))
}

enum TestNode {
    Napster(Box<NapsterNode>),
    Raw(Box<Raw>),
    Squatter(Box<Squatter>),
}

/// A server's input, unless the driver refuses it: a connection past
/// [`DRIVER_MAX_CONNECTIONS`] is closed before the core hears of it.
fn handle_as_driver(server: &mut NapsterNode, now: Instant, input: Input<'_>, out: &mut Outbox) {
    let full = server
        .as_server()
        .is_some_and(|s| s.connection_count() >= DRIVER_MAX_CONNECTIONS);
    match input {
        Input::Accepted { conn, .. } if full => out.close(conn),
        _ => server.handle(now, input, out),
    }
}

impl Node for TestNode {
    fn handle(&mut self, now: Instant, input: Input<'_>, out: &mut Outbox) {
        let raw = match self {
            TestNode::Napster(n) => return handle_as_driver(n, now, input, out),
            TestNode::Squatter(s) => {
                if let Input::Start = input {
                    for _ in 0..s.connections {
                        out.connect(s.server);
                    }
                }
                return;
            }
            TestNode::Raw(raw) => raw,
        };
        match input {
            Input::Start => {
                if let Some(addr) = raw.dial {
                    out.connect(addr);
                }
            }
            Input::Connected { conn } => {
                out.send(conn, std::mem::take(&mut raw.script));
                raw.sent = true;
            }
            Input::Received { conn, bytes } => {
                raw.got.extend_from_slice(bytes);
                if !raw.sent {
                    raw.sent = true;
                    out.send(conn, std::mem::take(&mut raw.script));
                }
            }
            Input::Closed { .. } => raw.closed = true,
            _ => {}
        }
    }
    fn poll_timeout(&self) -> Option<Instant> {
        match self {
            TestNode::Napster(n) => n.poll_timeout(),
            TestNode::Raw(_) | TestNode::Squatter(_) => None,
        }
    }
    fn metrics(&self) -> &Metrics {
        match self {
            TestNode::Napster(n) => n.metrics(),
            TestNode::Raw(r) => &r.metrics,
            TestNode::Squatter(s) => &s.metrics,
        }
    }
    /// A peer's library, which the simulator's uploads serve.
    fn library(&self) -> Option<&Library> {
        match self {
            TestNode::Napster(n) => n.library(),
            TestNode::Raw(_) | TestNode::Squatter(_) => None,
        }
    }
}

const TIMEOUT: Duration = Duration::from_secs(5);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn frame(msg: &Message) -> Vec<u8> {
    msg.to_bytes()
}

fn share_bytes(name: &str, size: u64) -> Vec<u8> {
    frame(&Message::AddFile(FileInfo {
        name: name.into(),
        md5: NO_MD5.into(),
        size,
        bitrate: 128,
        frequency: 44_100,
        seconds: 0,
    }))
}

/// `len LE, type LE, data`, written out by hand.
fn frame_of(ty: u16, data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u16).to_le_bytes().to_vec();
    out.extend_from_slice(&ty.to_le_bytes());
    out.extend_from_slice(data);
    out
}

fn login_bytes(nick: &str) -> Vec<u8> {
    let mut login = format!("{nick} pass 6699 \"raw\" 3").into_bytes();
    let mut out = vec![login.len() as u8, 0, 2, 0];
    out.append(&mut login);
    out
}

struct Lab {
    net: TestNet<TestNode>,
    server: NodeIdx,
    next_request: u64,
}

impl Lab {
    fn new() -> Self {
        Lab::with_config(ServerConfig::default())
    }

    fn with_config(config: ServerConfig) -> Self {
        let mut net = TestNet::new(Latency::Uniform(ms(1), ms(5)), 7);
        let server = net.add(napster(Server::new(config)));
        Lab {
            net,
            server,
            next_request: 0,
        }
    }

    fn server_addr(&self) -> SocketAddr {
        self.net.addr(self.server)
    }

    fn peer_config(&self, nick: &str, files: &[(&str, u64)], data_port: u16) -> PeerConfig {
        let library = Arc::new(Library::synthetic(files.iter().copied(), 1));
        PeerConfig {
            password: "secret".into(),
            link_type: 7,
            search_timeout: TIMEOUT,
            ..PeerConfig::new(self.server_addr(), nick, data_port, library)
        }
    }

    fn peer(&mut self, nick: &str, files: &[(&str, u64)]) -> NodeIdx {
        let cfg = self.peer_config(nick, files, 6699);
        let idx = self.net.add(napster(Peer::new(cfg)));
        self.net.run_for(ms(100));
        idx
    }

    fn raw(&mut self, script: Vec<u8>) -> NodeIdx {
        let raw = Raw {
            dial: Some(self.server_addr()),
            script,
            ..Raw::default()
        };
        let idx = self.net.add(TestNode::Raw(Box::new(raw)));
        self.net.run_for(ms(100));
        idx
    }

    fn raw_node(&self, idx: NodeIdx) -> &Raw {
        match self.net.node(idx) {
            TestNode::Raw(r) => r,
            _ => panic!("not a raw node"),
        }
    }

    fn server(&self) -> &Server {
        match self.net.node(self.server) {
            TestNode::Napster(n) => n.as_server().expect("the server"),
            _ => panic!("not the server"),
        }
    }

    fn peer_node(&self, idx: NodeIdx) -> &Peer {
        match self.net.node(idx) {
            TestNode::Napster(n) => n.as_peer().expect("a peer"),
            _ => panic!("not a peer"),
        }
    }

    fn request(&mut self) -> RequestId {
        self.next_request += 1;
        RequestId(self.next_request)
    }

    /// Runs until `idx` reports an answer to `request`, and returns it.
    fn answer(&mut self, idx: NodeIdx, request: RequestId) -> Event {
        let mut found = None;
        self.net.run_until_cond(Duration::from_secs(60), |net| {
            for e in net.take_events(idx) {
                let id = match &e {
                    Event::SearchDone { request, .. }
                    | Event::Located { request, .. }
                    | Event::Left { request }
                    | Event::Answered { request, .. } => *request,
                    Event::PushUpload { .. } => continue,
                };
                if id == request {
                    found = Some(e);
                }
            }
            found.is_some()
        });
        found.expect("the node answered")
    }

    fn search(&mut self, idx: NodeIdx, query: &str) -> Result<Vec<Hit>, SearchError> {
        let request = self.request();
        let query = query.to_owned();
        self.net.command(idx, Command::Search { request, query });
        match self.answer(idx, request) {
            Event::SearchDone { result, .. } => result,
            other => panic!("unexpected {other:?}"),
        }
    }

    fn ask(&mut self, idx: NodeIdx, question: Question) -> Result<Answer, SearchError> {
        let request = self.request();
        self.net.command(idx, Command::Ask { request, question });
        match self.answer(idx, request) {
            Event::Answered { result, .. } => result,
            other => panic!("unexpected {other:?}"),
        }
    }

    fn locate(&mut self, idx: NodeIdx, hit: Hit) -> Result<Download, SearchError> {
        let request = self.request();
        self.net.command(idx, Command::Locate { request, hit });
        match self.answer(idx, request) {
            Event::Located { result, .. } => result,
            other => panic!("unexpected {other:?}"),
        }
    }
}

fn names_and_nicks(hits: &[Hit]) -> Vec<(String, String)> {
    let mut out: Vec<_> = hits
        .iter()
        .map(|h| match &h.holder {
            Holder::Napster { nick, .. } => (h.name.clone(), nick.clone()),
            other => panic!("not a Napster holder: {other:?}"),
        })
        .collect();
    out.sort();
    out
}

fn three_peers(lab: &mut Lab) -> (NodeIdx, NodeIdx, NodeIdx) {
    let a = lab.peer(
        "alice",
        &[
            ("Daft Punk - One More Time.mp3", 4_000),
            ("Bach - Cello Suite 1.ogg", 9_000),
        ],
    );
    let b = lab.peer(
        "bob",
        &[("daft punk live.mp3", 7_000), ("Punk Rock 101.ogg", 100)],
    );
    let c = lab.peer("carol", &[]);
    (a, b, c)
}

#[test]
fn a_keyword_search_finds_the_right_files_and_holders() {
    let mut lab = Lab::new();
    let (a, _, c) = three_peers(&mut lab);
    assert_eq!(lab.server().user_count(), 3);
    assert_eq!(lab.server().file_count(), 4);

    let hits = lab.search(c, "PUNK daft").unwrap();
    assert_eq!(
        names_and_nicks(&hits),
        [
            (
                "Daft Punk - One More Time.mp3".to_owned(),
                "alice".to_owned()
            ),
            ("daft punk live.mp3".to_owned(), "bob".to_owned()),
        ]
    );
    let alice = hits.iter().find(|h| h.size == 4_000).unwrap();
    assert_eq!(alice.hops, Some(1));
    let alice_ip = lab.net.addr(a).ip();
    assert!(
        matches!(&alice.holder, Holder::Napster { ip, .. } if std::net::IpAddr::V4(*ip) == alice_ip)
    );
    assert_eq!(lab.search(c, "cello").unwrap().len(), 1);
    assert!(lab.search(c, "jazz").unwrap().is_empty());
    assert!(lab.search(c, "  ").unwrap().is_empty());

    let m = lab.peer_node(c).metrics();
    assert_eq!(m.lookups, 3, "the empty query never reached the server");
    assert_eq!(m.hops[1], 3);
    assert_eq!(m.sent["search"].messages, 3);
    assert_eq!(m.received["search_result"].messages, 3);
    assert_eq!(m.received["search_end"].messages, 3);
    assert_eq!(lab.server().metrics().received["share"].messages, 4);
}

#[test]
fn a_locate_returns_the_holders_data_port() {
    let mut lab = Lab::new();
    let (a, _, c) = three_peers(&mut lab);
    let hit = lab.search(c, "one more time").unwrap().remove(0);
    let download = lab.locate(c, hit).unwrap();
    assert_eq!(
        download,
        Download::Napster {
            addr: SocketAddr::new(lab.net.addr(a).ip(), 6699),
            my_nick: "carol".into(),
            name: "Daft Punk - One More Time.mp3".into(),
        }
    );
    let ghost = Hit {
        name: "nothing.mp3".into(),
        size: 1,
        holder: Holder::Napster {
            nick: "alice".into(),
            ip: Ipv4Addr::LOCALHOST,
        },
        hops: Some(1),
        arrived: None,
    };
    assert!(matches!(lab.locate(c, ghost), Err(SearchError::Refused(_))));
}

#[test]
fn a_crashed_peers_files_leave_the_index_at_once() {
    let mut lab = Lab::new();
    let (a, _, c) = three_peers(&mut lab);
    assert_eq!(lab.search(c, "daft").unwrap().len(), 2);
    lab.net.crash(a);
    lab.net.run_for(ms(20));
    assert_eq!(lab.server().user_count(), 2);
    assert_eq!(lab.server().file_count(), 2);
    let hits = lab.search(c, "daft").unwrap();
    assert_eq!(
        names_and_nicks(&hits),
        [("daft punk live.mp3".to_owned(), "bob".to_owned())]
    );
    assert!(lab.search(c, "cello").unwrap().is_empty());
}

#[test]
fn without_the_server_searches_fail_and_peers_come_back_when_it_does() {
    let mut lab = Lab::new();
    let (_, b, c) = three_peers(&mut lab);
    let request = lab.request();
    lab.net.command(
        c,
        Command::Search {
            request,
            query: "daft".into(),
        },
    );
    lab.net.crash(lab.server);
    let Event::SearchDone { result, .. } = lab.answer(c, request) else {
        panic!("no search answer")
    };
    assert!(
        matches!(result, Err(SearchError::NotConnected(ref why)) if why.contains("lost the index server"))
    );
    assert!(matches!(
        lab.search(c, "daft"),
        Err(SearchError::NotConnected(_))
    ));
    lab.net.run_for(ms(50));
    assert!(!lab.peer_node(b).is_online());

    // A new server at the same address: the peers dial again, log in and share again.
    let addr = lab.server_addr();
    lab.server = lab
        .net
        .add_at(addr, napster(Server::new(ServerConfig::default())));
    lab.net.run_for(Duration::from_secs(5));
    assert_eq!(lab.server().user_count(), 3);
    assert_eq!(lab.search(c, "daft").unwrap().len(), 2);
}

#[test]
fn garbled_messages_get_404s_and_the_client_stays_and_can_still_search() {
    let mut lab = Lab::new();
    three_peers(&mut lab);
    let mut script = login_bytes("mallory");
    for (ty, data) in [
        (100u16, &b""[..]),
        (100, b"\"x\" y z w"),
        (102, b""),
        (203, b"alice"),
        (214, b"1 2 3"),
        (1001, b"what is this"),
    ] {
        script.extend(frame_of(ty, data));
    }
    script.extend(frame_of(200, b"FILENAME CONTAINS \"daft\""));
    let m = lab.raw(script);
    let raw = lab.raw_node(m);
    assert!(!raw.closed, "the server kept the client");
    let replies = raw.replies();
    let types: Vec<u16> = replies.iter().map(|f| f.ty).collect();
    assert_eq!(types, [404, 404, 404, 404, 404, 404, 201, 201, 202]);
    assert_eq!(
        replies[1].data,
        b"parameters are unparsable: size is not a number"
    );
    assert_eq!(replies[5].data, b"Unknown command code 1001");
    let server = lab.server().metrics();
    assert_eq!(server.dropped["unparsable"], 5);
    assert_eq!(server.dropped["unknown_type"], 1);
    assert_eq!(lab.server().user_count(), 4);
}

#[test]
fn an_oversized_frame_drops_the_client() {
    let mut lab = Lab::new();
    let (_, _, c) = three_peers(&mut lab);
    let mut script = login_bytes("mallory");
    script.extend_from_slice(&[0xff, 0xff, 200, 0, b'F']);
    let m = lab.raw(script);
    assert!(lab.raw_node(m).closed, "the server closed the bad client");
    let server = lab.server().metrics();
    assert_eq!(server.sent["login_ack"].messages, 4, "it had logged in");
    assert_eq!(server.dropped["malformed"], 1);
    assert_eq!(lab.server().user_count(), 3);
    assert_eq!(lab.search(c, "daft").unwrap().len(), 2);
}

#[test]
fn a_hotlist_follows_a_real_peer_signing_on_and_crashing() {
    let mut lab = Lab::new();
    let mut script = login_bytes("watcher");
    script.extend(frame_of(207, b"bob"));
    let w = lab.raw(script);
    let bob = lab.peer("bob", &[("bob's song.mp3", 100)]);
    lab.net.crash(bob);
    lab.net.run_for(ms(100));
    let replies = lab.raw_node(w).replies();
    let seen: Vec<(u16, &[u8])> = replies.iter().map(|f| (f.ty, &f.data[..])).collect();
    assert_eq!(
        seen,
        [(301, &b"bob"[..]), (209, b"bob 7"), (210, b"bob")],
        "ack, signed on with its link type, signed off"
    );
    assert_eq!(lab.server().hotlist_entries(), 1);
}

#[test]
fn a_silent_connection_is_closed_at_the_login_deadline() {
    let mut lab = Lab::new();
    let m = lab.raw(Vec::new());
    assert_eq!(lab.server().connection_count(), 1);
    lab.net.run_for(Duration::from_secs(9));
    assert!(!lab.raw_node(m).closed);
    lab.net.run_for(Duration::from_secs(2));
    assert!(lab.raw_node(m).closed);
    assert_eq!(lab.server().connection_count(), 0);
    assert_eq!(lab.server().metrics().dropped["login_timeout"], 1);
}

#[test]
fn anything_before_login_is_refused_with_error_0() {
    let mut lab = Lab::new();
    let m = lab.raw(frame(&Message::StatsRequest));
    // The error frame itself is not observable: the in-memory network drops bytes still
    // in flight when the sender closes. The server's counters show it was sent.
    assert!(lab.raw_node(m).closed);
    let server = lab.server().metrics();
    assert_eq!(server.sent["error"].messages, 1);
    assert_eq!(server.dropped["before_login"], 1);
}

#[test]
fn a_taken_nick_is_refused() {
    let mut lab = Lab::new();
    lab.peer("alice", &[]);
    let m = lab.raw(login_bytes("alice"));
    assert!(lab.raw_node(m).closed);
    let bad = lab.raw(login_bytes("this-nick-is-far-too-long"));
    assert!(lab.raw_node(bad).closed);
    let server = lab.server().metrics();
    assert_eq!(server.sent["error"].messages, 2);
    assert_eq!(server.dropped["login_refused"], 2);
    assert_eq!(lab.server().user_count(), 1);
}

#[test]
fn an_invalid_search_gets_404_and_202_and_the_client_stays() {
    let mut lab = Lab::new();
    let mut script = login_bytes("eve");
    let bad = b"FILENAME CONTAINS \"x\" COLOR \"red\"";
    script.extend_from_slice(&[bad.len() as u8, 0, 200, 0]);
    script.extend_from_slice(bad);
    script.extend(frame(&Message::StatsRequest));
    let m = lab.raw(script);
    let raw = lab.raw_node(m);
    assert!(!raw.closed);
    let replies = raw.replies();
    let types: Vec<u16> = replies.iter().map(|f| f.ty).collect();
    assert_eq!(types, [404, 202, 214]);
    assert_eq!(replies[0].data, b"invalid search request");
    assert_eq!(replies[2].data, b"1 0 0");
}

/// A folder of real MP3s at three bit rates and sample rates, and a text file, with what
/// each MP3's frame headers say: (name, kbit/s, Hz, seconds).
fn mp3_folder() -> (tempfile::TempDir, [(&'static str, u32, u32, u32); 3]) {
    // Frames of 1152 samples: 383 at 44.1 kHz, 250 at 48 kHz and 139 at 32 kHz play
    // 10.005 s, 6 s and 5.004 s.
    let songs = [
        ("song low.mp3", 128, 44_100, 10),
        ("song mid.mp3", 192, 48_000, 6),
        ("song high.mp3", 320, 32_000, 5),
    ];
    let frames = [383, 250, 139];
    let dir = tempfile::tempdir().expect("a temporary folder");
    for ((name, kbps, hz, _), frames) in songs.iter().zip(frames) {
        let mp3 = p2plab_peer_protocol::metadata::silent_mp3(*kbps, *hz, frames)
            .expect("MPEG-1 Layer III rates");
        std::fs::write(dir.path().join(name), mp3).expect("written");
    }
    std::fs::write(dir.path().join("song notes.txt"), b"la la la").expect("written");
    (dir, songs)
}

/// The 201 results a raw client logged in as `nick` gets for the search `request`.
fn raw_results(
    lab: &mut Lab,
    nick: &str,
    request: &str,
) -> Vec<p2plab_napster::message::SearchResult> {
    let mut script = login_bytes(nick);
    script.extend_from_slice(&[request.len() as u8, 0, 200, 0]);
    script.extend_from_slice(request.as_bytes());
    let m = lab.raw(script);
    let frames = lab.raw_node(m).frames();
    assert_eq!(frames.last().map(|f| f.ty), Some(202), "the results end");
    frames
        .iter()
        .filter_map(|f| match Message::from_frame(f) {
            Ok(Message::SearchResult(r)) => Some(r),
            _ => None,
        })
        .collect()
}

#[test]
fn mp3s_shared_from_a_folder_are_found_with_their_true_md5_bitrate_frequency_and_length() {
    let mut lab = Lab::new();
    let (dir, songs) = mp3_folder();
    let library = Arc::new(Library::from_dir(dir.path()).unwrap());
    let cfg = PeerConfig::new(lab.server_addr(), "alice", 6699, Arc::clone(&library));
    lab.net.add(napster(Peer::new(cfg)));
    lab.net.run_for(ms(100));

    let mut found: Vec<_> = raw_results(&mut lab, "eve", "FILENAME CONTAINS \"song\"")
        .into_iter()
        .map(|r| r.file)
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    let mut want: Vec<FileInfo> = songs
        .iter()
        .map(|&(name, bitrate, frequency, seconds)| FileInfo {
            name: name.into(),
            md5: library.by_name(name).unwrap().meta.md5_hex(),
            size: library.by_name(name).unwrap().size,
            bitrate,
            frequency,
            seconds,
        })
        .collect();
    want.push(FileInfo {
        name: "song notes.txt".into(),
        md5: library.by_name("song notes.txt").unwrap().meta.md5_hex(),
        size: 8,
        bitrate: 0,
        frequency: 0,
        seconds: 0,
    });
    want.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(found, want);
    assert!(found.iter().all(|f| f.md5 != NO_MD5 && f.md5.len() == 32));
}

#[test]
fn a_bitrate_filter_finds_only_the_mp3s_encoded_at_that_rate_or_better() {
    let mut lab = Lab::new();
    let (dir, _) = mp3_folder();
    let library = Arc::new(Library::from_dir(dir.path()).unwrap());
    let cfg = PeerConfig::new(lab.server_addr(), "alice", 6699, library);
    lab.net.add(napster(Peer::new(cfg)));
    lab.net.run_for(ms(100));

    let names = |results: Vec<p2plab_napster::message::SearchResult>| {
        let mut names: Vec<String> = results.into_iter().map(|r| r.file.name).collect();
        names.sort();
        names
    };
    let at_least_192 = r#"FILENAME CONTAINS "song" BITRATE "AT LEAST" "192""#;
    assert_eq!(
        names(raw_results(&mut lab, "eve", at_least_192)),
        ["song high.mp3", "song mid.mp3"]
    );
    let at_best_128 = r#"FILENAME CONTAINS "song" BITRATE "AT BEST" "128""#;
    assert_eq!(
        names(raw_results(&mut lab, "mallory", at_best_128)),
        ["song low.mp3", "song notes.txt"],
        "the text file announces a bit rate of 0"
    );
    let cd_rate = r#"FILENAME CONTAINS "song" FREQ "EQUAL TO" "44100""#;
    assert_eq!(
        names(raw_results(&mut lab, "trent", cd_rate)),
        ["song low.mp3"]
    );
}

#[test]
fn sharing_a_new_library_sends_the_difference() {
    let mut lab = Lab::new();
    let (a, _, c) = three_peers(&mut lab);
    let library = Arc::new(Library::synthetic(
        [
            ("Bach - Cello Suite 1.ogg", 9_000u64),
            ("Miles Davis - So What.flac", 50),
        ],
        1,
    ));
    lab.net.command(a, Command::Share { library });
    lab.net.run_for(ms(50));
    let m = lab.peer_node(a).metrics();
    assert_eq!(m.sent["unshare"].messages, 1);
    assert_eq!(m.sent["share"].messages, 3, "two at login, one new");
    assert_eq!(lab.search(c, "daft").unwrap().len(), 1);
    assert_eq!(lab.search(c, "miles").unwrap().len(), 1);
}

#[test]
fn transfers_are_counted_by_the_server() {
    let mut lab = Lab::new();
    let a = lab.peer("alice", &[]);
    for notice in [
        TransferNotice::DownloadStarted,
        TransferNotice::DownloadStarted,
        TransferNotice::DownloadFinished,
        TransferNotice::UploadStarted,
    ] {
        lab.net.command(a, Command::Transfer(notice));
    }
    lab.net.run_for(ms(50));
    let user = lab.server().user("alice").unwrap();
    assert_eq!((user.downloads, user.uploads), (1, 1));
}

/// napster.txt §4.2 through the server: the 204 names a holder with data port 0, so the
/// downloader's locate becomes a push and it sends 500; the server asks the holder (607,
/// 608) and gives it the downloader's address in a 501; the holder asks its driver to
/// connect out.
#[test]
fn a_firewalled_holder_is_asked_to_push_to_the_downloader() {
    let mut lab = Lab::new();
    let cfg = lab.peer_config("walled", &[("secret song.mp3", 10)], 0);
    let walled = lab.net.add(napster(Peer::new(cfg)));
    let c = lab.peer("carol", &[]);
    let hit = lab.search(c, "secret").unwrap().remove(0);
    assert_eq!(
        lab.locate(c, hit),
        Ok(Download::NapsterPush {
            holder: "walled".into(),
            name: "secret song.mp3".into(),
        })
    );
    lab.net.run_for(ms(100));
    assert_eq!(
        lab.net.take_events(walled),
        [Event::PushUpload {
            to: SocketAddr::new(lab.net.addr(c).ip(), 6699),
            my_nick: "walled".into(),
            name: "secret song.mp3".into(),
        }]
    );
    assert_eq!(
        lab.peer_node(c).metrics().sent["download_firewall"].messages,
        1
    );
    let server = lab.server().metrics();
    assert_eq!(server.received["download_firewall"].messages, 1);
    assert_eq!(server.sent["upload_firewall"].messages, 1);
    assert_eq!(
        lab.peer_node(walled).metrics().received["upload_firewall"].messages,
        1
    );
}

#[test]
fn two_firewalled_peers_cannot_reach_each_other() {
    let mut lab = Lab::new();
    let cfg = lab.peer_config("walled", &[("secret song.mp3", 10)], 0);
    let walled = lab.net.add(napster(Peer::new(cfg)));
    let cfg = lab.peer_config("hidden", &[], 0);
    let hidden = lab.net.add(napster(Peer::new(cfg)));
    lab.net.run_for(ms(100));
    let hit = lab.search(hidden, "secret").unwrap().remove(0);
    assert!(
        matches!(lab.locate(hidden, hit), Err(SearchError::Refused(why)) if why.contains("both firewalled"))
    );
    lab.net.run_for(ms(100));
    assert!(
        lab.net.take_events(walled).is_empty(),
        "no push was asked for"
    );
    assert!(!lab
        .peer_node(hidden)
        .metrics()
        .sent
        .contains_key("download_firewall"));
}

/// A 501 from a server (here a scripted one) moves the holder only for a file it shares,
/// to a downloader with a data port; any other is dropped and counted.
#[test]
fn a_holder_pushes_only_files_it_shares() {
    let mut net: TestNet<TestNode> = TestNet::new(Latency::Constant(ms(2)), 1);
    let push = |name: &str, port| {
        frame(&Message::UploadFirewall(Endpoint {
            nick: "bob".into(),
            ip: Ipv4Addr::new(10, 0, 0, 9),
            port,
            name: name.into(),
            md5: NO_MD5.into(),
            link_type: 7,
        }))
    };
    let mut script = frame(&Message::LoginAck {
        email: "x@y".into(),
    });
    script.extend(push("../secret.txt", 6699));
    script.extend(push("other song.mp3", 6699));
    script.extend(push("song.mp3", 0));
    script.extend(push("SONG.mp3", 6699));
    let server = net.add(TestNode::Raw(Box::new(Raw {
        script,
        ..Raw::default()
    })));
    let library = Arc::new(Library::synthetic([("song.mp3", 10)], 1));
    let cfg = PeerConfig::new(net.addr(server), "walled", 0, library);
    let walled = net.add(napster(Peer::new(cfg)));
    net.run_for(ms(100));
    assert_eq!(
        net.take_events(walled),
        [Event::PushUpload {
            to: "10.0.0.9:6699".parse().unwrap(),
            my_nick: "walled".into(),
            name: "SONG.mp3".into(),
        }]
    );
    let drops = &net.node(walled).metrics().dropped;
    assert_eq!(drops.get("push_unshared"), Some(&2));
    assert_eq!(drops.get("push_no_port"), Some(&1));
}

#[test]
fn leaving_closes_the_connection_and_unshares() {
    let mut lab = Lab::new();
    let (a, _, c) = three_peers(&mut lab);
    let request = lab.request();
    lab.net.command(a, Command::Leave { request });
    assert!(matches!(lab.answer(a, request), Event::Left { .. }));
    lab.net.run_for(Duration::from_secs(10));
    assert_eq!(lab.server().user_count(), 2);
    assert!(lab.search(c, "cello").unwrap().is_empty());
    assert_eq!(lab.search(a, "daft"), Err(SearchError::Left));
    assert_eq!(lab.ask(a, whois("bob")), Err(SearchError::Left));
}

#[test]
fn a_silent_server_makes_searches_time_out() {
    let mut net: TestNet<TestNode> = TestNet::new(Latency::Constant(ms(2)), 1);
    let silent = net.add(TestNode::Raw(Box::new(Raw {
        script: frame(&Message::LoginAck {
            email: "x@y".into(),
        }),
        ..Raw::default()
    })));
    let cfg = PeerConfig {
        server: net.addr(silent),
        nick: "p".into(),
        password: "p".into(),
        data_port: 1,
        library: Arc::new(Library::empty()),
        link_type: 0,
        search_timeout: TIMEOUT,
        reconnect_every: Duration::from_secs(1),
        seed: 1,
    };
    let p = net.add(napster(Peer::new(cfg)));
    net.run_for(ms(50));
    net.command(
        p,
        Command::Search {
            request: RequestId(1),
            query: "anything".into(),
        },
    );
    let start = net.now();
    net.run_for(TIMEOUT + ms(1));
    let events = net.take_events(p);
    assert_eq!(
        events,
        [Event::SearchDone {
            request: RequestId(1),
            result: Err(SearchError::Timeout(5_000)),
        }]
    );
    assert!(net.now() >= start + TIMEOUT);
}

#[test]
fn shares_past_the_global_file_budget_are_refused_with_404() {
    let mut lab = Lab::with_config(ServerConfig {
        max_files: 3,
        ..ServerConfig::default()
    });
    let mut alice = login_bytes("alice");
    alice.extend(share_bytes("alice one.mp3", 10));
    alice.extend(share_bytes("alice two.mp3", 10));
    let a = lab.raw(alice);
    let mut bob = login_bytes("bob");
    bob.extend(share_bytes("bob one.mp3", 10));
    bob.extend(share_bytes("bob two.mp3", 10));
    bob.extend(frame(&Message::StatsRequest));
    let b = lab.raw(bob);

    let types = |idx| -> Vec<u16> { lab.raw_node(idx).replies().iter().map(|f| f.ty).collect() };
    assert!(types(a).is_empty(), "both of alice's files fit");
    assert_eq!(types(b), [404, 214], "bob's second file does not");
    let frames = lab.raw_node(b).replies();
    assert_eq!(
        frames[0].data,
        b"The server's index is full: at most 3 files."
    );
    assert_eq!(frames[1].data, b"2 3 0", "users, files, gigabytes");
    let carol = lab.peer("carol", &[]);
    assert_eq!(lab.search(carol, "two").map(|h| h.len()), Ok(1));
    assert_eq!(lab.server().metrics().dropped["share_refused"], 1);
}

#[test]
fn a_share_near_2_to_the_64_bytes_cannot_wrap_the_total() {
    let mut lab = Lab::new();
    let mut script = login_bytes("eve");
    script.extend(share_bytes("huge.mp3", u64::MAX - 1));
    script.extend(share_bytes("small.mp3", 1_000));
    script.extend(share_bytes("huge too.mp3", u64::MAX));
    script.extend(frame(&Message::StatsRequest));
    let m = lab.raw(script);
    let frames = lab.raw_node(m).replies();
    let types: Vec<u16> = frames.iter().map(|f| f.ty).collect();
    assert_eq!(types, [404, 404, 214]);
    assert_eq!(
        frames[0].data,
        b"The server's index is full: at most 1125899906842624 bytes."
    );
    assert_eq!(frames[2].data, b"1 1 0");
    assert_eq!(lab.server().index().total_bytes(), 1_000);
}

#[test]
fn silent_connections_from_one_address_cannot_keep_anyone_from_logging_in() {
    let mut lab = Lab::new();
    let squatter = lab.net.add(TestNode::Squatter(Box::new(Squatter {
        server: lab.server_addr(),
        connections: DRIVER_MAX_CONNECTIONS,
        metrics: Metrics::default(),
    })));
    lab.net.run_for(ms(100));

    // From another address, and from the squatter's own: each closes a silent connection.
    let alice = lab.peer("alice", &[("alice song.mp3", 10)]);
    assert!(lab.peer_node(alice).is_online());
    let next_door = SocketAddr::new(lab.net.addr(squatter).ip(), 7_000);
    let cfg = lab.peer_config("bob", &[], 6699);
    let bob = lab.net.add_at(next_door, napster(Peer::new(cfg)));
    lab.net.run_for(ms(100));
    assert!(lab.peer_node(bob).is_online());

    assert_eq!(lab.server().user_count(), 2);
    assert_eq!(
        lab.server().connection_count(),
        2 + MAX_PENDING_LOGINS_PER_ADDRESS - 1,
        "the squatter keeps at most its address's share, less bob's room"
    );
    let evicted = DRIVER_MAX_CONNECTIONS - MAX_PENDING_LOGINS_PER_ADDRESS + 1;
    assert_eq!(
        lab.server().metrics().dropped["login_evicted"],
        evicted as u64
    );
}

#[test]
fn a_burst_of_peers_from_one_address_all_log_in() {
    const BURST: u16 = 300;
    let mut lab = Lab::new();
    let ip = std::net::IpAddr::V4(Ipv4Addr::new(10, 200, 0, 1));
    let peers: Vec<NodeIdx> = (0..BURST)
        .map(|i| {
            let cfg = lab.peer_config(&format!("p{i}"), &[], 6699);
            let addr = SocketAddr::new(ip, 10_000 + i);
            lab.net.add_at(addr, napster(Peer::new(cfg)))
        })
        .collect();
    lab.net.run_for(Duration::from_secs(4));
    let server = lab.server().metrics();
    assert!(
        server.dropped["login_evicted"] > 0,
        "the burst went past the cap"
    );
    assert!(peers.iter().all(|&p| lab.peer_node(p).is_online()));
    assert_eq!(lab.server().user_count(), usize::from(BURST));
}

/// Messages charged to searches and to fetches, summed over the server and every peer.
fn charged(lab: &Lab) -> (u64, u64) {
    (0..lab.net.len())
        .map(|i| lab.net.node(i).metrics())
        .fold((0, 0), |(s, f), m| {
            (s + m.search.messages, f + m.fetch.messages)
        })
}

#[test]
fn a_search_costs_its_request_its_results_and_their_end_whatever_the_index_holds() {
    let mut lab = Lab::new();
    let (_, _, c) = three_peers(&mut lab);
    for i in 0..5 {
        lab.peer(&format!("fan{i}"), &[(&format!("punk hit {i}.mp3"), 10)]);
    }
    assert_eq!(charged(&lab), (0, 0), "logging in and sharing are upkeep");
    for query in ["jazz", "cello", "daft punk", "punk"] {
        let before = charged(&lab);
        let hits = lab.search(c, query).unwrap();
        let after = charged(&lab);
        assert_eq!(
            after.0 - before.0,
            1 + hits.len() as u64 + 1,
            "{query:?}: the search, {} results, the end",
            hits.len()
        );
        assert_eq!(after.1, before.1, "{query:?}: no fetch");
    }
}

#[test]
fn a_locate_costs_the_request_the_holders_accepting_and_the_answer_as_a_fetch() {
    let mut lab = Lab::new();
    let (_, _, c) = three_peers(&mut lab);
    let hit = lab.search(c, "one more time").unwrap().remove(0);
    let before = charged(&lab);
    lab.locate(c, hit).unwrap();
    let after = charged(&lab);
    assert_eq!(after.0, before.0, "no search");
    assert_eq!(
        after.1 - before.1,
        4,
        "203, the 607 and 608 it took, and the 204"
    );
}

/// Downloads what `download` names to `idx` over the virtual network, and returns the bytes.
fn fetch(lab: &mut Lab, idx: NodeIdx, download: &Download, size: u64) -> Vec<u8> {
    lab.net.start_download(idx, download, size);
    lab.net
        .run_until_cond(Duration::from_secs(60), |net| net.has_finished_downloads());
    let mut done = lab.net.take_finished_downloads();
    assert_eq!(done.len(), 1);
    done.remove(0).result.expect("the download succeeded")
}

/// The bytes `holder` shares under `name`.
fn shared_bytes(lab: &Lab, holder: NodeIdx, name: &str) -> Vec<u8> {
    let file = lab
        .peer_node(holder)
        .library()
        .by_name(name)
        .expect("shared");
    file.read_all().expect("a synthetic file reads")
}

/// A client that logs in as `nick`, shares `name` and never answers a 607.
fn mute_holder(lab: &mut Lab, nick: &str, name: &str) -> NodeIdx {
    let mut script = login_bytes(nick);
    script.extend(share_bytes(name, 10));
    lab.raw(script)
}

#[test]
fn a_download_is_asked_of_the_holder_then_brings_its_bytes() {
    let mut lab = Lab::new();
    let (a, _, c) = three_peers(&mut lab);
    let hit = lab.search(c, "one more time").unwrap().remove(0);
    let size = hit.size;
    let download = lab.locate(c, hit).unwrap();
    let alice = lab.peer_node(a).metrics();
    assert_eq!(alice.received["upload_request"].messages, 1, "the 607");
    assert_eq!(alice.sent["upload_accept"].messages, 1, "the 608");
    assert_eq!(
        lab.peer_node(c).metrics().received["download_ack"].messages,
        1
    );
    let name = "Daft Punk - One More Time.mp3";
    assert_eq!(
        fetch(&mut lab, c, &download, size),
        shared_bytes(&lab, a, name)
    );
}

#[test]
fn a_holder_that_does_not_accept_or_leaves_gets_the_downloader_a_609() {
    let mut lab = Lab::with_config(ServerConfig {
        upload_accept_timeout: Duration::from_secs(1),
        ..ServerConfig::default()
    });
    let mute = mute_holder(&mut lab, "mute", "mute song.mp3");
    let gone = mute_holder(&mut lab, "gone", "gone song.mp3");
    let c = lab.peer("carol", &[]);
    let hit = lab.search(c, "mute").unwrap().remove(0);
    let refused = lab.locate(c, hit);
    assert!(
        matches!(&refused, Err(SearchError::Refused(why)) if why.contains("did not accept")),
        "{refused:?}"
    );
    assert_eq!(lab.raw_node(mute).replies()[0].ty, 607, "it was asked");

    let hit = lab.search(c, "gone").unwrap().remove(0);
    let request = lab.request();
    lab.net.command(c, Command::Locate { request, hit });
    lab.net.run_for(ms(20));
    lab.net.crash(gone);
    let start = lab.net.now();
    let Event::Located { result, .. } = lab.answer(c, request) else {
        panic!("no locate answer")
    };
    assert!(matches!(result, Err(SearchError::Refused(why)) if why.contains("did not accept")));
    assert!(
        lab.net.now() < start + Duration::from_secs(1),
        "told when the holder left, not at the deadline"
    );
    assert_eq!(lab.server().metrics().sent["accept_failed"].messages, 2);
}

#[test]
fn a_peer_accepts_only_uploads_of_files_it_shares() {
    let mut net: TestNet<TestNode> = TestNet::new(Latency::Constant(ms(2)), 1);
    let mut script = frame(&Message::LoginAck {
        email: "x@y".into(),
    });
    for name in ["not mine.mp3", "mine.mp3"] {
        let data = format!("mred \"{name}\"");
        script.extend_from_slice(&[data.len() as u8, 0, 0x5f, 0x02]);
        script.extend_from_slice(data.as_bytes());
    }
    let server = net.add(TestNode::Raw(Box::new(Raw {
        script,
        ..Raw::default()
    })));
    let library = Arc::new(Library::synthetic([("mine.mp3", 100u64)], 1));
    let cfg = PeerConfig::new(net.addr(server), "lefty", 6699, library);
    let p = net.add(napster(Peer::new(cfg)));
    net.run_for(ms(50));
    let TestNode::Raw(raw) = net.node(server) else {
        panic!("the raw server")
    };
    let accepts: Vec<Vec<u8>> = raw
        .frames()
        .into_iter()
        .filter(|f| f.ty == 608)
        .map(|f| f.data)
        .collect();
    assert_eq!(accepts, [b"mred \"mine.mp3\"".to_vec()]);
    assert_eq!(net.node(p).metrics().dropped["upload_request_unshared"], 1);
}

#[test]
fn an_unanswered_locate_expires_and_its_late_reply_is_taken_for_no_other() {
    let mut lab = Lab::with_config(ServerConfig {
        upload_accept_timeout: Duration::from_secs(30),
        ..ServerConfig::default()
    });
    mute_holder(&mut lab, "mute", "mute song.mp3");
    let (a, _, c) = three_peers(&mut lab);
    let mute_hit = lab.search(c, "mute").unwrap().remove(0);
    let alice_hit = lab.search(c, "one more time").unwrap().remove(0);

    // Both in flight: alice accepts at once, mute never; replies come out of order.
    let (first, second) = (lab.request(), lab.request());
    lab.net.command(
        c,
        Command::Locate {
            request: first,
            hit: mute_hit,
        },
    );
    lab.net.command(
        c,
        Command::Locate {
            request: second,
            hit: alice_hit.clone(),
        },
    );
    let Event::Located { result, .. } = lab.answer(c, second) else {
        panic!("no answer for alice's file")
    };
    assert!(result.is_ok(), "alice's 204 is alice's: {result:?}");
    let Event::Located { result, .. } = lab.answer(c, first) else {
        panic!("no answer for mute's file")
    };
    assert_eq!(result, Err(SearchError::Timeout(5_000)));

    // The server gives up on mute later; its 609 finds no request and is dropped.
    lab.net.run_for(Duration::from_secs(30));
    assert_eq!(lab.server().metrics().sent["accept_failed"].messages, 1);
    assert!(lab.net.take_events(c).is_empty());
    assert_eq!(lab.peer_node(c).metrics().dropped["late_download_reply"], 1);

    // And the peer downloads again.
    let size = alice_hit.size;
    let download = lab.locate(c, alice_hit).unwrap();
    let name = "Daft Punk - One More Time.mp3";
    assert_eq!(
        fetch(&mut lab, c, &download, size),
        shared_bytes(&lab, a, name)
    );
}

fn browse(nick: &str) -> Question {
    Question::Browse { nick: nick.into() }
}

fn whois(nick: &str) -> Question {
    Question::Whois { nick: nick.into() }
}

fn ping(nick: &str) -> Question {
    Question::Ping { nick: nick.into() }
}

#[test]
fn a_browse_lists_a_users_files_as_hits_on_its_address() {
    let mut lab = Lab::new();
    let (a, _, c) = three_peers(&mut lab);
    let Ok(Answer::Files { hits }) = lab.ask(c, browse("alice")) else {
        panic!("alice's files")
    };
    let alice_ip = ipv4_of(&lab, a);
    let listed: Vec<(&str, u64, &Holder)> = hits
        .iter()
        .map(|h| (h.name.as_str(), h.size, &h.holder))
        .collect();
    let holder = Holder::Napster {
        nick: "alice".into(),
        ip: alice_ip,
    };
    assert_eq!(
        listed,
        [
            ("Bach - Cello Suite 1.ogg", 9_000, &holder),
            ("Daft Punk - One More Time.mp3", 4_000, &holder),
        ],
        "in name order, on the address the 213 gave"
    );
    assert_eq!(
        lab.ask(c, browse("carol")),
        Ok(Answer::Files { hits: Vec::new() })
    );
    let located = lab.locate(c, hits[0].clone());
    assert!(
        matches!(located, Ok(Download::Napster { .. })),
        "{located:?}"
    );
}

#[test]
fn a_browse_of_a_user_not_online_is_210_then_213_and_fails() {
    let mut lab = Lab::new();
    let (a, _, c) = three_peers(&mut lab);
    assert_eq!(
        lab.ask(c, browse("nobody")),
        Err(SearchError::Refused("nobody is not online".into()))
    );
    let mut script = login_bytes("eve");
    script.extend(frame(&Message::Browse {
        nick: "nobody".into(),
        max: None,
    }));
    script.extend(frame(&Message::Browse {
        nick: "alice".into(),
        max: Some(1),
    }));
    script.extend(frame(&Message::Browse {
        nick: "carol".into(),
        max: None,
    }));
    let m = lab.raw(script);
    let replies: Vec<(u16, String)> = lab
        .raw_node(m)
        .replies()
        .into_iter()
        .map(|f| (f.ty, String::from_utf8(f.data).unwrap()))
        .collect();
    let alice_ip = p2plab_napster::ip::to_wire(ipv4_of(&lab, a));
    let bach = "Bach - Cello Suite 1.ogg";
    assert_eq!(
        replies,
        [
            (210, "nobody".to_owned()),
            (213, "nobody".to_owned()),
            (
                212,
                format!("alice \"{bach}\" {} 9000 0 0 0", md5_of(&lab, a, bach)),
            ),
            (213, format!("alice {alice_ip}")),
            (213, "carol 0".to_owned()),
        ],
        "a max of 1 sends one entry; a user who shares nothing ends with ip 0"
    );
}

/// The md5 field `peer` shares `name` with.
fn md5_of(lab: &Lab, peer: NodeIdx, name: &str) -> String {
    let file = lab.peer_node(peer).library().by_name(name).expect("shared");
    FileInfo::from_shared(file).md5
}

/// The IPv4 address `idx` has on the lab's network.
fn ipv4_of(lab: &Lab, idx: NodeIdx) -> Ipv4Addr {
    match lab.net.addr(idx).ip() {
        std::net::IpAddr::V4(ip) => ip,
        other => panic!("not IPv4: {other}"),
    }
}

#[test]
fn a_whois_tells_what_the_server_knows_and_a_whowas_when_the_user_left() {
    let mut lab = Lab::new();
    let (a, _, c) = three_peers(&mut lab);
    lab.net
        .command(a, Command::Transfer(TransferNotice::UploadStarted));
    let Ok(Answer::Online(first)) = lab.ask(c, whois("alice")) else {
        panic!("alice is online")
    };
    assert_eq!(
        first,
        UserInfo {
            nick: "alice".into(),
            level: "User".into(),
            online_secs: first.online_secs,
            channels: Vec::new(),
            status: "Active".into(),
            shared: 2,
            downloads: 0,
            uploads: 1,
            link_type: 7,
            client: "p2plab 0.1".into(),
        }
    );
    lab.net.run_for(Duration::from_secs(30));
    let Ok(Answer::Online(later)) = lab.ask(c, whois("alice")) else {
        panic!("alice is still online")
    };
    let waited = later.online_secs - first.online_secs;
    assert!((30..=31).contains(&waited), "online {waited} s more");

    lab.net.crash(a);
    lab.net.run_for(ms(20));
    let left = lab.net.now().saturating_since(Instant::ZERO).as_secs();
    assert_eq!(
        lab.ask(c, whois("alice")),
        Ok(Answer::Offline {
            nick: "alice".into(),
            level: "User".into(),
            last_seen_unix: left,
        }),
        "the server's clock origin is 0 here: last seen counts from the start"
    );
    assert_eq!(
        lab.ask(c, whois("zed")),
        Err(SearchError::Refused("User is not currently online.".into())),
        "a nick never seen"
    );
}

#[test]
fn a_ping_is_relayed_both_ways_and_fails_for_a_user_not_online() {
    let mut lab = Lab::new();
    let (a, _, c) = three_peers(&mut lab);
    let Ok(Answer::Pong { nick, round_trip }) = lab.ask(c, ping("alice")) else {
        panic!("alice answers")
    };
    assert_eq!(nick, "alice");
    assert!(round_trip >= ms(4), "two hops each way: {round_trip:?}");
    assert_eq!(lab.net.node(a).metrics().sent["pong_user"].messages, 1);
    assert_eq!(
        lab.ask(c, ping("zed")),
        Err(SearchError::Refused(
            "ping failed, zed is not online".into()
        ))
    );
}

#[test]
fn raw_pings_and_private_messages_reach_their_target_under_the_senders_nick() {
    let mut lab = Lab::new();
    let a = lab.peer("alice", &[]);
    let target = lab.raw(login_bytes("rita"));
    let long = "x".repeat(200);
    let mut script = login_bytes("sam");
    for msg in [
        Message::PingUser {
            nick: "alice".into(),
        },
        Message::PingUser {
            nick: "rita".into(),
        },
        Message::PingUser { nick: "zed".into() },
        Message::PrivateMessage {
            nick: "rita".into(),
            text: "hello there".into(),
        },
        Message::PrivateMessage {
            nick: "rita".into(),
            text: long.clone(),
        },
        Message::PrivateMessage {
            nick: "zed".into(),
            text: "anyone?".into(),
        },
    ] {
        script.extend(frame(&msg));
    }
    let sender = lab.raw(script);
    let texts = |idx| -> Vec<(u16, String)> {
        lab.raw_node(idx)
            .replies()
            .into_iter()
            .map(|f| (f.ty, String::from_utf8(f.data).unwrap()))
            .collect()
    };
    assert_eq!(
        texts(sender),
        [
            (404, "ping failed, zed is not online".to_owned()),
            (404, "User is not currently online.".to_owned()),
            (752, "alice".to_owned()),
        ],
        "the errors come at once, the peer's answer a round trip later; the raw client never answers"
    );
    assert_eq!(
        texts(target),
        [
            (751, "sam".to_owned()),
            (205, "sam hello there".to_owned()),
            (205, format!("sam {}", &long[..180])),
        ],
        "text past 180 bytes is cut, as OpenNap cuts it"
    );
    assert_eq!(lab.net.node(a).metrics().received["ping_user"].messages, 1);
}

#[test]
fn a_peer_pongs_a_ping_and_takes_no_unasked_answer_for_a_later_question() {
    let mut net: TestNet<TestNode> = TestNet::new(Latency::Constant(ms(2)), 1);
    let mut script = frame(&Message::LoginAck {
        email: "x@y".into(),
    });
    script.extend(frame(&Message::PingUser { nick: "sam".into() }));
    script.extend(frame(&Message::PongUser { nick: "bob".into() }));
    script.extend(frame(&Message::Whowas {
        nick: "alice".into(),
        level: "User".into(),
        last_seen: 1,
    }));
    let server = net.add(TestNode::Raw(Box::new(Raw {
        script,
        ..Raw::default()
    })));
    let cfg = PeerConfig {
        search_timeout: TIMEOUT,
        ..PeerConfig::new(net.addr(server), "lefty", 6699, Arc::new(Library::empty()))
    };
    let p = net.add(napster(Peer::new(cfg)));
    net.run_for(ms(50));
    let TestNode::Raw(raw) = net.node(server) else {
        panic!("the raw server")
    };
    let pongs: Vec<Vec<u8>> = raw
        .frames()
        .into_iter()
        .filter(|f| f.ty == 752)
        .map(|f| f.data)
        .collect();
    assert_eq!(
        pongs,
        [b"sam".to_vec()],
        "the ping is answered with the pinger's nick"
    );
    assert_eq!(net.node(p).metrics().dropped["late_answer"], 2);

    net.command(
        p,
        Command::Ask {
            request: RequestId(1),
            question: whois("alice"),
        },
    );
    net.run_for(TIMEOUT + ms(1));
    assert_eq!(
        net.take_events(p),
        [Event::Answered {
            request: RequestId(1),
            result: Err(SearchError::Timeout(5_000)),
        }],
        "the whowas that came unasked answers nothing; the question times out"
    );
}
