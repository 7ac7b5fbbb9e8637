//! The server driven by hand, one input at a time, checking the exact bytes it writes —
//! including those written just before it closes a connection.

use std::net::SocketAddr;

use p2plab_napster::message::{Endpoint, NickFile};
use p2plab_napster::{Message, Server, ServerConfig};
use p2plab_peer_protocol::{
    CloseReason, ConnId, ConnIds, Effect, Effects, Input, Instant, Node, Outbox, WireMessage,
};

/// The server and what its driver keeps beside it: the effect queue and the connection ids.
struct Desk {
    server: Server,
    effects: Effects,
    conn_ids: ConnIds,
    now: Instant,
}

impl Desk {
    fn new() -> Self {
        Desk {
            server: Server::new(ServerConfig::default()),
            effects: Effects::new(),
            conn_ids: ConnIds::new(),
            now: Instant::ZERO,
        }
    }

    fn input(&mut self, input: Input<'_>) -> Vec<Effect> {
        let mut out = Outbox::new(&mut self.effects, &mut self.conn_ids);
        self.server.handle(self.now, input, &mut out);
        std::iter::from_fn(|| self.effects.pop()).collect()
    }

    /// A client connects from `ip`; the server writes nothing before its login.
    fn accept(&mut self, ip: &str) -> ConnId {
        let conn = self.conn_ids.next_id();
        let remote: SocketAddr = format!("{ip}:40000").parse().expect("a literal address");
        assert_eq!(self.input(Input::Accepted { conn, remote }), []);
        conn
    }

    fn feed(&mut self, conn: ConnId, bytes: &[u8]) -> Vec<Effect> {
        self.input(Input::Received { conn, bytes })
    }

    /// A client that logged in as `nick` from `ip` with data port `port`; its greeting is
    /// checked elsewhere and dropped here.
    fn user(&mut self, ip: &str, nick: &str, port: u16) -> ConnId {
        let conn = self.accept(ip);
        let greeting = self.feed(conn, &login(nick, port));
        assert_eq!(greeting.len(), 5, "3, three 621s, 214");
        conn
    }

    /// `conn` shares `song.mp3` (10 bytes); the server says nothing.
    fn share_song(&mut self, conn: ConnId) {
        let share = b"\"song.mp3\" 00000000000000000000000000000000 10 128 44100 0";
        let mut frame = vec![share.len() as u8, 0, 100, 0];
        frame.extend_from_slice(share);
        assert!(self.feed(conn, &frame).is_empty());
    }
}

/// `len LE, type LE, data`, written out by hand.
fn framed(ty: u16, data: &[u8]) -> Vec<u8> {
    let mut out = vec![
        data.len() as u8,
        (data.len() >> 8) as u8,
        ty as u8,
        (ty >> 8) as u8,
    ];
    out.extend_from_slice(data);
    out
}

fn send(conn: ConnId, ty: u16, data: &[u8]) -> Effect {
    Effect::Send {
        conn,
        bytes: framed(ty, data),
    }
}

fn login(nick: &str, port: u16) -> Vec<u8> {
    let data = format!("{nick} pw {port} \"nap v0.8\" 3");
    let mut out = vec![data.len() as u8, 0, 0x02, 0x00];
    out.extend_from_slice(data.as_bytes());
    out
}

#[test]
fn a_duplicate_nick_gets_error_0_then_close() {
    let mut desk = Desk::new();
    let a = desk.accept("10.0.0.1");
    let b = desk.accept("10.0.0.2");
    let ack = desk.feed(a, &login("foo", 6699));
    let mut want = vec![0x0b, 0x00, 0x03, 0x00];
    want.extend_from_slice(b"anon@p2plab");
    assert_eq!(
        ack[0],
        Effect::Send {
            conn: a,
            bytes: want
        }
    );
    let refused = desk.feed(b, &login("foo", 6699));
    let mut want = vec![0x15, 0x00, 0x00, 0x00];
    want.extend_from_slice(b"foo is already active");
    assert_eq!(
        refused,
        [
            Effect::Send {
                conn: b,
                bytes: want
            },
            Effect::Close { conn: b }
        ]
    );
}

#[test]
fn a_bad_link_type_is_an_invalid_speed() {
    let mut desk = Desk::new();
    let a = desk.accept("10.0.0.1");
    let effects = desk.feed(a, b"\x19\x00\x02\x00foo pw 6699 \"nap v0.8\" 11");
    let mut want = vec![13, 0, 0, 0];
    want.extend_from_slice(b"invalid speed");
    assert_eq!(
        effects,
        [
            Effect::Send {
                conn: a,
                bytes: want
            },
            Effect::Close { conn: a }
        ]
    );
}

#[test]
fn a_login_is_acked_then_greeted_with_the_motd_and_the_true_stats() {
    let mut desk = Desk::new();
    let a = desk.user("10.0.0.1", "alice", 6699);
    desk.share_song(a);
    let b = desk.accept("10.0.0.2");
    let version = format!("VERSION p2plab {}", env!("CARGO_PKG_VERSION"));
    assert_eq!(
        desk.feed(b, &login("bob", 6699)),
        [
            send(b, 3, b"anon@p2plab"),
            send(b, 0x26d, version.as_bytes()),
            send(b, 0x26d, b"Welcome to p2plab's Napster index server."),
            send(b, 0x26d, b"2 users online, sharing 1 files (0 GB)."),
            send(b, 0xd6, b"2 1 0"),
        ]
    );
    // An empty 621 asks for the motd again.
    assert_eq!(desk.feed(b, &framed(621, b"")).len(), 3);
}

#[test]
fn a_download_is_asked_of_the_holder_and_acked_only_after_its_608() {
    let mut desk = Desk::new();
    let holder = desk.user("205.254.222.204", "lefty", 6699);
    let asker = desk.user("10.0.0.2", "mred", 7777);
    desk.share_song(holder);

    // 203 → 607 to the holder, naming the downloader and its link type; nothing to mred yet.
    let ask = framed(203, b"lefty \"song.mp3\"");
    assert_eq!(
        desk.feed(asker, &ask),
        [send(holder, 607, b"mred \"song.mp3\" 3")]
    );
    // 608 → 204 to mred with lefty's address and data port.
    assert_eq!(
        desk.feed(holder, &framed(608, b"mred \"song.mp3\"")),
        [send(
            asker,
            204,
            b"lefty 3437166285 6699 \"song.mp3\" 00000000000000000000000000000000 3"
        )]
    );
    // The request is answered: a second 608 for it is nobody's, and is ignored.
    assert_eq!(desk.feed(holder, &framed(608, b"mred \"song.mp3\"")), []);
    assert_eq!(desk.server.metrics().dropped["unasked_upload_accept"], 1);
    assert_eq!(
        desk.feed(holder, &framed(608, b"nobody \"song.mp3\"")),
        [send(holder, 404, b"User is not currently online.")]
    );
    // Unknown user or file: 206 at once, as OpenNap.
    assert_eq!(
        desk.feed(asker, &framed(203, b"nobody \"song.mp3\"")),
        [send(asker, 206, b"nobody \"song.mp3\"")]
    );
}

#[test]
fn a_holder_that_never_accepts_or_leaves_gets_the_downloader_a_609() {
    let mut desk = Desk::new();
    let holder = desk.user("10.0.0.1", "lefty", 6699);
    let asker = desk.user("10.0.0.2", "mred", 6699);
    desk.share_song(holder);
    let ask = framed(203, b"lefty \"song.mp3\"");
    assert_eq!(desk.feed(asker, &ask).len(), 1, "the 607");
    let due = Instant::ZERO + p2plab_napster::UPLOAD_ACCEPT_TIMEOUT;
    assert_eq!(desk.server.poll_timeout(), Some(due));
    desk.now = due;
    assert_eq!(
        desk.input(Input::Timeout),
        [send(asker, 609, b"lefty \"song.mp3\"")]
    );
    assert_eq!(desk.server.poll_timeout(), None);
    // A 608 after the deadline is too late.
    assert_eq!(desk.feed(holder, &framed(608, b"mred \"song.mp3\"")), []);

    desk.feed(asker, &ask);
    assert_eq!(
        desk.input(Input::Closed {
            conn: holder,
            reason: CloseReason::PeerClosed,
        }),
        [send(asker, 609, b"lefty \"song.mp3\"")],
        "the holder left before accepting"
    );
}

#[test]
fn a_push_request_is_asked_of_the_firewalled_holder_whose_608_gets_it_the_501() {
    let mut desk = Desk::new();
    let holder = desk.user("205.254.222.204", "lefty", 0);
    let asker = desk.user("10.0.0.2", "mred", 6699);
    desk.share_song(holder);

    let ask = NickFile {
        nick: "lefty".into(),
        name: "song.mp3".into(),
    };
    let reply = desk.feed(asker, &Message::Download(ask.clone()).to_bytes());
    let want = Message::DownloadAck(Endpoint {
        nick: "lefty".into(),
        ip: "205.254.222.204".parse().expect("a literal address"),
        port: 0,
        name: "song.mp3".into(),
        md5: "00000000000000000000000000000000".into(),
        link_type: 3,
    });
    assert_eq!(
        reply,
        [Effect::Send {
            conn: asker,
            bytes: want.to_bytes()
        }],
        "port 0 tells mred to send 500"
    );

    let relayed = desk.feed(asker, &Message::DownloadFirewall(ask).to_bytes());
    assert_eq!(relayed, [send(holder, 607, b"mred \"song.mp3\" 3")]);
    let push = desk.feed(holder, &framed(608, b"mred \"song.mp3\""));
    let want = b"mred 33554442 6699 \"song.mp3\" 00000000000000000000000000000000 3";
    let mut bytes = vec![want.len() as u8, 0, 0xf5, 0x01];
    bytes.extend_from_slice(want);
    assert_eq!(
        push,
        [Effect::Send {
            conn: holder,
            bytes
        }]
    );
}

#[test]
fn unknown_types_after_login_are_skipped() {
    let mut desk = Desk::new();
    let a = desk.user("10.0.0.1", "foo", 6699);
    // 640 direct browse (Napster 2.0b8), unknown to p2plab, then 214 stats in the same chunk.
    let effects = desk.feed(a, b"\x01\x00\x80\x02x\x00\x00\xd6\x00");
    assert_eq!(
        effects,
        [Effect::Send {
            conn: a,
            bytes: b"\x05\x00\xd6\x001 0 0".to_vec()
        }]
    );
    assert_eq!(desk.server.metrics().dropped["unknown_type"], 1);
}
