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
    // Type 4660, unknown to p2plab (and to OpenNap), then 214 stats in the same chunk:
    // OpenNap's 404, and the stats.
    let effects = desk.feed(a, b"\x04\x00\x34\x12x hi\x00\x00\xd6\x00");
    assert_eq!(
        effects,
        [
            send(a, 404, b"Unknown command code 4660"),
            Effect::Send {
                conn: a,
                bytes: b"\x05\x00\xd6\x001 0 0".to_vec()
            }
        ]
    );
    assert_eq!(desk.server.metrics().dropped["unknown_type"], 1);
}

// Hotlist, resume, link speed, server ping, and the 404s for messages the server cannot
// act on.

/// What a client that just logged in as `nick` is sent: the ack, three motd lines, stats.
const GREETING_LEN: usize = 5;

impl Desk {
    /// A client logs in as `nick` from `ip`; returns its connection and what the server
    /// sent to others at its login (the greeting to it is dropped).
    fn user_announced(&mut self, ip: &str, nick: &str) -> (ConnId, Vec<Effect>) {
        let conn = self.accept(ip);
        let mut effects = self.feed(conn, &login(nick, 6699));
        let greeting: Vec<Effect> = effects.drain(..GREETING_LEN).collect();
        assert!(greeting
            .iter()
            .all(|e| matches!(e, Effect::Send { conn: c, .. } if *c == conn)));
        (conn, effects)
    }

    /// `conn` shares `name` with md5 `md5` and `size` bytes; the server says nothing.
    fn share(&mut self, conn: ConnId, name: &str, md5: &str, size: u64) {
        let data = format!("\"{name}\" {md5} {size} 128 44100 60");
        assert!(self.feed(conn, &framed(100, data.as_bytes())).is_empty());
    }

    fn close(&mut self, conn: ConnId) -> Vec<Effect> {
        self.input(Input::Closed {
            conn,
            reason: CloseReason::PeerClosed,
        })
    }
}

#[test]
fn a_hotlisted_user_who_logs_in_later_gets_209_and_then_210_when_it_leaves() {
    let mut desk = Desk::new();
    let mred = desk.user("10.0.0.2", "mred", 6699);
    // lefty is not online: only the ack.
    assert_eq!(
        desk.feed(mred, &framed(207, b"lefty")),
        [send(mred, 301, b"lefty")]
    );
    let (lefty, told) = desk.user_announced("205.254.222.204", "lefty");
    assert_eq!(told, [send(mred, 209, b"lefty 3")]);
    assert_eq!(desk.close(lefty), [send(mred, 210, b"lefty")]);
    // The entry stays for the next login under that nick.
    let (_, told) = desk.user_announced("10.0.0.3", "lefty");
    assert_eq!(told, [send(mred, 209, b"lefty 3")]);
    assert_eq!(desk.server.hotlist_entries(), 1);
    desk.close(mred);
    assert_eq!(desk.server.hotlist_entries(), 0, "the list left with mred");
}

#[test]
fn an_entry_for_a_user_online_is_acked_then_announced_at_once() {
    let mut desk = Desk::new();
    desk.user("205.254.222.204", "lefty", 6699);
    let mred = desk.user("10.0.0.2", "mred", 6699);
    // 208, the list sent after login, is answered as 207 is.
    assert_eq!(
        desk.feed(mred, &framed(208, b"lefty")),
        [send(mred, 301, b"lefty"), send(mred, 209, b"lefty 3")]
    );
    // Listed already: OpenNap says nothing, and neither does p2plab.
    assert_eq!(desk.feed(mred, &framed(207, b"lefty")), []);
    assert_eq!(desk.server.hotlist_entries(), 1);
}

#[test]
fn removing_an_entry_stops_the_notices() {
    let mut desk = Desk::new();
    let mred = desk.user("10.0.0.2", "mred", 6699);
    let other = desk.user("10.0.0.3", "other", 6699);
    desk.feed(mred, &framed(207, b"lefty"));
    desk.feed(other, &framed(207, b"lefty"));
    assert_eq!(desk.feed(mred, &framed(303, b"lefty")), [], "no reply");
    let (lefty, told) = desk.user_announced("205.254.222.204", "lefty");
    assert_eq!(told, [send(other, 209, b"lefty 3")], "only other is told");
    assert_eq!(desk.close(lefty), [send(other, 210, b"lefty")]);
    assert_eq!(
        desk.feed(mred, &framed(303, b"lefty")),
        [send(mred, 404, b"user is not in your hotlist")]
    );
}

#[test]
fn a_full_hotlist_or_a_bad_nick_gets_302_then_a_404_saying_why() {
    let mut desk = Desk::new();
    let mred = desk.user("10.0.0.2", "mred", 6699);
    for i in 0..p2plab_napster::MAX_HOTLIST_PER_USER {
        let nick = format!("friend{i}");
        assert_eq!(
            desk.feed(mred, &framed(207, nick.as_bytes())),
            [send(mred, 301, nick.as_bytes())]
        );
    }
    assert_eq!(
        desk.feed(mred, &framed(207, b"onemore")),
        [
            send(mred, 302, b"onemore"),
            send(mred, 404, b"hotlist is limited to 32 entries")
        ]
    );
    // A nick no one can log in with: too long, or with a quote.
    for bad in [&b"twentycharacterslong"[..], b"a\"b"] {
        assert_eq!(
            desk.feed(mred, &framed(207, bad)),
            [send(mred, 302, bad), send(mred, 404, b"invalid nickname")]
        );
    }
    assert_eq!(desk.server.metrics().dropped["hotlist_refused"], 3);
    // Making room lets the next one in.
    desk.feed(mred, &framed(303, b"friend0"));
    assert_eq!(
        desk.feed(mred, &framed(207, b"onemore")),
        [send(mred, 301, b"onemore")]
    );
}

const SONG_MD5: &str = "b92870e0d41bc8e698cf2f0a1ddfeac7";
const OTHER_MD5: &str = "10fe9e623b1962da85eea61df7ac1f69";

#[test]
fn a_resume_request_finds_exactly_the_files_with_that_md5_and_size() {
    let mut desk = Desk::new();
    let lefty = desk.user("205.254.222.204", "lefty", 6699);
    let mred = desk.user("10.0.0.2", "mred", 0);
    let asker = desk.user("10.0.0.3", "asker", 6699);
    desk.share(lefty, "song.mp3", SONG_MD5, 443_332);
    desk.share(lefty, "song (short).mp3", SONG_MD5, 1_000);
    desk.share(lefty, "other.mp3", OTHER_MD5, 443_332);
    desk.share(
        lefty,
        "unhashed.mp3",
        "00000000000000000000000000000000",
        443_332,
    );
    desk.share(mred, "same song, renamed.mp3", SONG_MD5, 443_332);

    let ask = format!("{SONG_MD5} 443332");
    let found = [
        send(
            asker,
            216,
            b"lefty 3437166285 6699 \"song.mp3\" b92870e0d41bc8e698cf2f0a1ddfeac7 443332 3",
        ),
        send(
            asker,
            216,
            b"mred 33554442 0 \"same song, renamed.mp3\" b92870e0d41bc8e698cf2f0a1ddfeac7 443332 3",
        ),
        send(asker, 217, b""),
    ];
    assert_eq!(desk.feed(asker, &framed(215, ask.as_bytes())), found);
    // The md5's digits in capitals name the same file.
    let upper = format!("{} 443332", SONG_MD5.to_uppercase());
    assert_eq!(desk.feed(asker, &framed(215, upper.as_bytes())), found);
    // "No md5" names no file, whatever shares it.
    assert_eq!(
        desk.feed(
            asker,
            &framed(215, b"00000000000000000000000000000000 443332")
        ),
        [send(asker, 217, b"")]
    );
    // Size 0: OpenNap's refusal, then the end.
    let empty = format!("{SONG_MD5} 0");
    assert_eq!(
        desk.feed(asker, &framed(215, empty.as_bytes())),
        [
            send(asker, 404, b"invalid file size"),
            send(asker, 217, b"")
        ]
    );
    // lefty's files leave the map with lefty.
    desk.close(lefty);
    let only_mred = desk.feed(asker, &framed(215, ask.as_bytes()));
    assert_eq!(only_mred, found[1..]);
}

#[test]
fn resume_matches_are_capped_like_search_results() {
    let mut desk = Desk {
        server: Server::new(ServerConfig {
            max_results: 2,
            ..ServerConfig::default()
        }),
        ..Desk::new()
    };
    let lefty = desk.user("10.0.0.1", "lefty", 6699);
    for i in 0..5 {
        desk.share(lefty, &format!("copy {i}.mp3"), SONG_MD5, 10);
    }
    let ask = format!("{SONG_MD5} 10");
    let types: Vec<u16> = desk
        .feed(lefty, &framed(215, ask.as_bytes()))
        .iter()
        .map(|e| match e {
            Effect::Send { bytes, .. } => u16::from_le_bytes([bytes[2], bytes[3]]),
            other => panic!("not a send: {other:?}"),
        })
        .collect();
    assert_eq!(types, [216, 216, 217]);
}

#[test]
fn link_speed_is_told_for_a_user_online_and_404_for_one_who_is_not() {
    let mut desk = Desk::new();
    desk.user("205.254.222.204", "lefty", 6699);
    let mred = desk.user("10.0.0.2", "mred", 6699);
    assert_eq!(
        desk.feed(mred, &framed(600, b"lefty")),
        [send(mred, 601, b"lefty 3")]
    );
    assert_eq!(
        desk.feed(mred, &framed(600, b"nobody")),
        [send(mred, 404, b"User is not currently online.")]
    );
}

#[test]
fn a_server_ping_is_answered_with_an_empty_750() {
    let mut desk = Desk::new();
    let mred = desk.user("10.0.0.2", "mred", 6699);
    assert_eq!(desk.feed(mred, &framed(750, b"")), [send(mred, 750, b"")]);
    assert_eq!(
        desk.feed(mred, &framed(750, b"mred")),
        [send(mred, 750, b"")]
    );
}

#[test]
fn each_garbled_message_gets_a_404_that_says_what_was_wrong_and_the_client_stays() {
    let mut desk = Desk::new();
    let mred = desk.user("10.0.0.2", "mred", 6699);
    let unparsable = |why: &str| format!("parameters are unparsable: {why}").into_bytes();
    let cases: [(u16, &[u8], Vec<u8>); 8] = [
        (100, b"", unparsable("file name is not quoted")),
        (
            100,
            b"\"x.mp3\" md5 big 128 44100 60",
            unparsable("size is not a number"),
        ),
        (100, b"\"x.mp3\" \xff\xfe", unparsable("data is not text")),
        (102, b"", unparsable("empty file name")),
        (203, b"lefty", unparsable("file name is not quoted")),
        (203, b"", unparsable("missing nick")),
        (214, b"1 2 3", unparsable("a stats request has no data")),
        (214, b"junk", unparsable("a stats request has no data")),
    ];
    for (ty, data, want) in &cases {
        assert_eq!(
            desk.feed(mred, &framed(*ty, data)),
            [send(mred, 404, want)],
            "type {ty} data {data:?}"
        );
    }
    // A garbled 215 ends its (empty) list of matches, as a garbled 200 ends its results.
    assert_eq!(
        desk.feed(mred, &framed(215, b"b92870e0d41bc8e698cf2f0a1ddfeac7")),
        [
            send(mred, 404, &unparsable("missing size")),
            send(mred, 217, b"")
        ]
    );
    assert_eq!(
        desk.feed(mred, &framed(200, b"FILENAME CONTAINS \"x\" COLOR \"red\"")),
        [
            send(mred, 404, b"invalid search request"),
            send(mred, 202, b"")
        ]
    );
    assert_eq!(desk.server.metrics().dropped["unparsable"], 10);
    // Still logged in, and still served.
    assert_eq!(desk.server.user("mred").map(|u| u.data_port), Some(6699));
    assert_eq!(
        desk.feed(mred, &framed(214, b"")),
        [send(mred, 214, b"1 0 0")]
    );
}

#[test]
fn a_reason_that_quotes_a_long_field_is_cut_to_max_reason_len() {
    let mut desk = Desk::new();
    let mred = desk.user("10.0.0.2", "mred", 6699);
    // Control characters come back escaped, six bytes for each: the reason would be far
    // longer than the message.
    let mut data = b"\"x.mp3\" md5 1 128 44100 60 ".to_vec();
    data.extend([0x01; 1_500]);
    let effects = desk.feed(mred, &framed(100, &data));
    let [Effect::Send { conn, bytes }] = &effects[..] else {
        panic!("one reply: {effects:?}")
    };
    assert_eq!(*conn, mred);
    assert_eq!(bytes[2..4], [0x94, 0x01], "a 404");
    assert_eq!(bytes.len() - 4, p2plab_napster::MAX_REASON_LEN);
    assert!(bytes[4..].starts_with(b"parameters are unparsable: unexpected trailing fields"));
}

#[test]
fn types_the_server_does_not_take_get_404_unknown_command_code() {
    let mut desk = Desk::new();
    let mred = desk.user("10.0.0.2", "mred", 6699);
    for (ty, data) in [
        (1001u16, &b"anything"[..]),
        (10_000, b""),
        (0xffff, b"x"),
        // Types only a server sends.
        (202, b""),
        (209, b"lefty 3"),
    ] {
        let want = format!("Unknown command code {ty}");
        assert_eq!(
            desk.feed(mred, &framed(ty, data)),
            [send(mred, 404, want.as_bytes())],
            "type {ty}"
        );
    }
    assert_eq!(desk.server.metrics().dropped["unknown_type"], 5);
    // A client's own 404 is only counted: answering it could start an endless exchange.
    assert_eq!(desk.feed(mred, &framed(404, b"whatever")), []);
    assert_eq!(desk.server.metrics().dropped["client_error"], 1);
}
