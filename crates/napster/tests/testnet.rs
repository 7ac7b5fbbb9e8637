//! A server and peers on the in-memory network, on virtual time: searching, locating,
//! crashes, reconnection, clients that misbehave, and the server's limits.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use p2plab_napster::message::Frame;
use p2plab_napster::{
    FileInfo, Message, NapsterNode, Peer, PeerConfig, Server, ServerConfig,
    MAX_PENDING_LOGINS_PER_ADDRESS, NO_MD5,
};
use p2plab_netsim::{Latency, NodeIdx, TestNet};
use p2plab_peer_protocol::{
    Command, Download, Event, Hit, Holder, Input, Instant, Library, Metrics, Node, Outbox,
    RequestId, SearchError, TransferNotice, WireMessage,
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
}

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
                    | Event::Left { request } => *request,
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
fn a_malformed_frame_drops_only_that_client() {
    let mut lab = Lab::new();
    let (_, _, c) = three_peers(&mut lab);
    let mut script = login_bytes("mallory");
    script.extend_from_slice(&[9, 0, 100, 0]);
    script.extend_from_slice(b"\"x\" y z w");
    let m = lab.raw(script);
    assert!(lab.raw_node(m).closed, "the server closed the bad client");
    let server = lab.server().metrics();
    assert_eq!(server.sent["login_ack"].messages, 4, "it had logged in");
    assert_eq!(server.dropped["malformed"], 1);
    assert_eq!(lab.server().user_count(), 3);
    assert_eq!(lab.search(c, "daft").unwrap().len(), 2);
}

#[test]
fn an_oversized_frame_drops_the_client() {
    let mut lab = Lab::new();
    let mut script = login_bytes("mallory");
    script.extend_from_slice(&[0xff, 0xff, 200, 0, b'F']);
    let m = lab.raw(script);
    assert!(lab.raw_node(m).closed);
    assert_eq!(lab.server().user_count(), 0);
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
    let types: Vec<u16> = raw.frames().iter().map(|f| f.ty).collect();
    assert_eq!(types, [3, 404, 202, 214]);
    assert_eq!(raw.frames()[1].data, b"invalid search request");
    assert_eq!(raw.frames()[3].data, b"1 0 0");
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

#[test]
fn a_firewalled_holder_cannot_be_located_directly() {
    let mut lab = Lab::new();
    let cfg = lab.peer_config("walled", &[("secret song.mp3", 10)], 0);
    lab.net.add(napster(Peer::new(cfg)));
    let c = lab.peer("carol", &[]);
    let hit = lab.search(c, "secret").unwrap().remove(0);
    assert!(
        matches!(lab.locate(c, hit), Err(SearchError::Refused(why)) if why.contains("firewalled"))
    );
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

    let types = |idx| -> Vec<u16> { lab.raw_node(idx).frames().iter().map(|f| f.ty).collect() };
    assert_eq!(types(a), [3], "both of alice's files fit");
    assert_eq!(types(b), [3, 404, 214], "bob's second file does not");
    let frames = lab.raw_node(b).frames();
    assert_eq!(
        frames[1].data,
        b"The server's index is full: at most 3 files."
    );
    assert_eq!(frames[2].data, b"2 3 0", "users, files, gigabytes");
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
    let frames = lab.raw_node(m).frames();
    let types: Vec<u16> = frames.iter().map(|f| f.ty).collect();
    assert_eq!(types, [3, 404, 404, 214]);
    assert_eq!(
        frames[1].data,
        b"The server's index is full: at most 1125899906842624 bytes."
    );
    assert_eq!(frames[3].data, b"1 1 0");
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
fn a_locate_costs_the_download_request_and_its_answer_as_a_fetch() {
    let mut lab = Lab::new();
    let (_, _, c) = three_peers(&mut lab);
    let hit = lab.search(c, "one more time").unwrap().remove(0);
    let before = charged(&lab);
    lab.locate(c, hit).unwrap();
    let after = charged(&lab);
    assert_eq!(after.0, before.0, "no search");
    assert_eq!(after.1 - before.1, 2, "203 and its 204");
}
