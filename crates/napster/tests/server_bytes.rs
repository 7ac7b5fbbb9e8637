//! The server driven by hand, one input at a time, checking the exact bytes it writes —
//! including those written just before it closes a connection.

use std::net::SocketAddr;

use p2plab_napster::message::{Endpoint, NickFile};
use p2plab_napster::{Message, Server, ServerConfig};
use p2plab_peer_protocol::{
    ConnId, ConnIds, Effect, Effects, Input, Instant, Node, Outbox, WireMessage,
};

/// The server and what its driver keeps beside it: the effect queue and the connection ids.
struct Desk {
    server: Server,
    effects: Effects,
    conn_ids: ConnIds,
}

impl Desk {
    fn new() -> Self {
        Desk {
            server: Server::new(ServerConfig::default()),
            effects: Effects::new(),
            conn_ids: ConnIds::new(),
        }
    }

    fn input(&mut self, input: Input<'_>) -> Vec<Effect> {
        let mut out = Outbox::new(&mut self.effects, &mut self.conn_ids);
        self.server.handle(Instant::ZERO, input, &mut out);
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
        ack,
        [Effect::Send {
            conn: a,
            bytes: want
        }]
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
fn a_download_request_for_a_firewalled_holder_relays_501() {
    let mut desk = Desk::new();
    let holder = desk.accept("205.254.222.204");
    let asker = desk.accept("10.0.0.2");
    desk.feed(holder, &login("lefty", 0));
    desk.feed(asker, &login("mred", 6699));
    let share = b"\"song.mp3\" 00000000000000000000000000000000 10 128 44100 0";
    let mut frame = vec![share.len() as u8, 0, 100, 0];
    frame.extend_from_slice(share);
    assert!(desk.feed(holder, &frame).is_empty());

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
        }]
    );

    let push = desk.feed(asker, &Message::DownloadFirewall(ask).to_bytes());
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

    let unknown = NickFile {
        nick: "nobody".into(),
        name: "song.mp3".into(),
    };
    let reply = desk.feed(asker, &Message::Download(unknown.clone()).to_bytes());
    assert_eq!(
        reply,
        [Effect::Send {
            conn: asker,
            bytes: Message::GetError(unknown).to_bytes()
        }]
    );
}

#[test]
fn unknown_types_after_login_are_skipped() {
    let mut desk = Desk::new();
    let a = desk.accept("10.0.0.1");
    desk.feed(a, &login("foo", 6699));
    // 205 private message, unknown to p2plab, then 214 stats in the same chunk.
    let effects = desk.feed(a, b"\x04\x00\xcd\x00x hi\x00\x00\xd6\x00");
    assert_eq!(
        effects,
        [Effect::Send {
            conn: a,
            bytes: b"\x05\x00\xd6\x001 0 0".to_vec()
        }]
    );
    assert_eq!(desk.server.metrics().dropped["unknown_type"], 1);
}
