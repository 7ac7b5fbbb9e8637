//! Byte-literal tests written from PROTOCOLS.md §2, and round trips.

use std::net::Ipv4Addr;

use p2plab_peer_protocol::{CodecError, WireMessage};
use proptest::prelude::*;

use super::*;
use crate::search::{Compare, Limit};

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

fn decodes_to(bytes: &[u8], want: Message) {
    assert_eq!(Message::decode(bytes), Ok((want.clone(), bytes.len())));
    assert_eq!(want.to_bytes(), bytes, "encoding of {want:?}");
    assert_eq!(want.encoded_len(), bytes.len());
}

fn foo_login() -> Login {
    Login {
        nick: "foo".into(),
        password: "badpass".into(),
        port: 6699,
        client_info: "nap v0.8".into(),
        link_type: 3,
    }
}

#[test]
fn login_is_framed_as_the_spec_shows() {
    let mut bytes = vec![0x1d, 0x00, 0x02, 0x00];
    bytes.extend_from_slice(b"foo badpass 6699 \"nap v0.8\" 3");
    decodes_to(
        &bytes,
        Message::Login {
            login: foo_login(),
            build: None,
        },
    );
    decodes_to(
        &framed(2, b"foo badpass 6699 \"nap v0.8\" 3 42"),
        Message::Login {
            login: foo_login(),
            build: Some("42".into()),
        },
    );
}

#[test]
fn register_ack_error_and_nick_check() {
    decodes_to(
        &framed(6, b"foo badpass 6699 \"nap v0.8\" 3 email@here.com"),
        Message::Register {
            login: foo_login(),
            email: "email@here.com".into(),
        },
    );
    decodes_to(
        &[
            0x0b, 0x00, 0x03, 0x00, b'a', b'n', b'o', b'n', b'@', b'p', b'2', b'p', b'l', b'a',
            b'b',
        ],
        Message::LoginAck {
            email: "anon@p2plab".into(),
        },
    );
    decodes_to(
        &framed(0, b"foo is already active"),
        Message::Error("foo is already active".into()),
    );
    decodes_to(
        &framed(7, b"foo"),
        Message::NickCheck { nick: "foo".into() },
    );
    decodes_to(&[0, 0, 8, 0], Message::NickFree);
    decodes_to(&[0, 0, 9, 0], Message::NickTaken);
    decodes_to(&[0, 0, 10, 0], Message::NickInvalid);
}

fn song() -> FileInfo {
    FileInfo {
        name: "generic band - generic song.mp3".into(),
        md5: "b92870e0d41bc8e698cf2f0a1ddfeac7".into(),
        size: 443_332,
        bitrate: 128,
        frequency: 44_100,
        seconds: 60,
    }
}

#[test]
fn share_remove_and_unshare_all() {
    decodes_to(
        &framed(
            100,
            b"\"generic band - generic song.mp3\" b92870e0d41bc8e698cf2f0a1ddfeac7 443332 128 44100 60",
        ),
        Message::AddFile(song()),
    );
    decodes_to(
        &[
            0x08, 0x00, 0x66, 0x00, b'a', b' ', b'b', b'.', b'm', b'p', b'3', b'x',
        ],
        Message::RemoveFile {
            name: "a b.mp3x".into(),
        },
    );
    decodes_to(&[0x00, 0x00, 0x6e, 0x00], Message::UnshareAll);
}

#[test]
fn search_result_and_end() {
    let data = b"\"random band - random song.mp3\" 7d733c1e7419674744768db71bff8bcd 2558199 128 44100 159 lefty 3437166285 4";
    let want = Message::SearchResult(SearchResult {
        file: FileInfo {
            name: "random band - random song.mp3".into(),
            md5: "7d733c1e7419674744768db71bff8bcd".into(),
            size: 2_558_199,
            bitrate: 128,
            frequency: 44_100,
            seconds: 159,
        },
        nick: "lefty".into(),
        ip: Ipv4Addr::new(205, 254, 222, 204),
        link_type: 4,
    });
    decodes_to(&framed(0xc9, data), want.clone());
    let mut weighted = data.to_vec();
    weighted.extend_from_slice(b" 7");
    assert_eq!(
        Message::decode(&framed(201, &weighted)).map(|m| m.0),
        Ok(want)
    );
    decodes_to(&[0x00, 0x00, 0xca, 0x00], Message::SearchEnd);
}

#[test]
fn search_request() {
    decodes_to(
        &framed(
            0xc8,
            b"FILENAME CONTAINS \"daft punk\" MAX_RESULTS 100 BITRATE \"AT LEAST\" \"128\"",
        ),
        Message::Search(SearchRequest {
            contains: vec!["daft punk".into()],
            max_results: Some(100),
            bitrate: Some(Limit {
                compare: Compare::AtLeast,
                value: 128,
            }),
            ..SearchRequest::default()
        }),
    );
}

fn lefty_ack() -> Endpoint {
    Endpoint {
        nick: "lefty".into(),
        ip: Ipv4Addr::new(205, 254, 222, 204),
        port: 6699,
        name: "generic band - generic song.mp3".into(),
        md5: "10fe9e623b1962da85eea61df7ac1f69".into(),
        link_type: 3,
    }
}

#[test]
fn download_request_ack_and_error() {
    let nf = NickFile {
        nick: "mred".into(),
        name: "generic cowboy song.mp3".into(),
    };
    decodes_to(
        &framed(0xcb, b"mred \"generic cowboy song.mp3\""),
        Message::Download(nf.clone()),
    );
    decodes_to(
        &framed(0xce, b"mred \"generic cowboy song.mp3\""),
        Message::GetError(nf.clone()),
    );
    decodes_to(
        &framed(0x1f4, b"mred \"generic cowboy song.mp3\""),
        Message::DownloadFirewall(nf),
    );
    let data = b"lefty 3437166285 6699 \"generic band - generic song.mp3\" 10fe9e623b1962da85eea61df7ac1f69 3";
    decodes_to(&framed(0xcc, data), Message::DownloadAck(lefty_ack()));
    decodes_to(&framed(0x1f5, data), Message::UploadFirewall(lefty_ack()));
}

#[test]
fn upload_request_accept_and_accept_failed_are_framed_as_napster_txt_shows() {
    let lefty = NickFile {
        nick: "lefty".into(),
        name: "generic band - generic song.mp3".into(),
    };
    // 607 = 0x25f; the December 2000 edition adds the speed, OpenNap 0.36 leaves it out.
    let mut bytes = vec![0x29, 0x00, 0x5f, 0x02];
    bytes.extend_from_slice(b"lefty \"generic band - generic song.mp3\" 7");
    decodes_to(
        &bytes,
        Message::UploadRequest(UploadRequest {
            asker: lefty.clone(),
            speed: Some(7),
        }),
    );
    let mut bytes = vec![0x27, 0x00, 0x5f, 0x02];
    bytes.extend_from_slice(b"lefty \"generic band - generic song.mp3\"");
    decodes_to(
        &bytes,
        Message::UploadRequest(UploadRequest {
            asker: lefty.clone(),
            speed: None,
        }),
    );
    // 608 = 0x260 and 609 = 0x261 carry the same `<nick> "<filename>"`.
    bytes[2] = 0x60;
    decodes_to(&bytes, Message::UploadAccept(lefty.clone()));
    bytes[2] = 0x61;
    decodes_to(&bytes, Message::AcceptFailed(lefty.clone()));
    // The August 2000 edition writes 609's name bare; it reads the same.
    assert_eq!(
        Message::decode(&framed(609, b"lefty generic band - generic song.mp3")),
        Ok((Message::AcceptFailed(lefty), 41))
    );
}

#[test]
fn motd_lines_and_server_stats() {
    // 621 = 0x26d: one line of text each, no terminator; a blank line is an empty 621.
    let mut bytes = vec![0x14, 0x00, 0x6d, 0x02];
    bytes.extend_from_slice(b"VERSION opennap 0.36");
    decodes_to(&bytes, Message::Motd("VERSION opennap 0.36".into()));
    decodes_to(&[0x00, 0x00, 0x6d, 0x02], Message::Motd(String::new()));
    // 214 = 0xd6, napster.txt's example.
    let mut bytes = vec![0x0d, 0x00, 0xd6, 0x00];
    bytes.extend_from_slice(b"553 64692 254");
    decodes_to(
        &bytes,
        Message::Stats {
            users: 553,
            files: 64_692,
            gigabytes: 254,
        },
    );
}

#[test]
fn stats_transfers_and_general_error() {
    decodes_to(&[0x00, 0x00, 0xd6, 0x00], Message::StatsRequest);
    decodes_to(
        &framed(214, b"553 64692 254"),
        Message::Stats {
            users: 553,
            files: 64_692,
            gigabytes: 254,
        },
    );
    decodes_to(&[0, 0, 0xda, 0], Message::Downloading);
    decodes_to(&[0, 0, 0xdb, 0], Message::DownloadDone);
    decodes_to(&[0, 0, 0xdc, 0], Message::Uploading);
    decodes_to(&[0, 0, 0xdd, 0], Message::UploadDone);
    decodes_to(
        &framed(0x194, b"User x is not currently online."),
        Message::NoSuch("User x is not currently online.".into()),
    );
}

#[test]
fn broken_frames_are_errors() {
    let login = framed(2, b"foo badpass 6699 \"nap v0.8\" 3");
    for cut in 0..login.len() {
        assert_eq!(
            Message::decode(&login[..cut]),
            Err(CodecError::Incomplete),
            "cut {cut}"
        );
    }
    assert_eq!(
        Message::decode(&[0xff, 0xff, 0x02, 0x00]),
        Err(CodecError::TooLarge {
            len: 0xffff,
            max: crate::MAX_DATA_LEN
        })
    );
    assert_eq!(
        Message::decode(&[0, 0, 4, 0]),
        Err(CodecError::UnknownType(4))
    );
    assert_eq!(
        Message::decode(&framed(640, b"x")),
        Err(CodecError::UnknownType(640))
    );
    for (ty, data) in [
        (2u16, &b"foo badpass notaport \"nap\" 3"[..]),
        (2, b"foo badpass 70000 \"nap\" 3"),
        (2, b"foo badpass 6699 nap 3"),
        (6, b"foo badpass 6699 \"nap\" 3"),
        (100, b"\"x\" md5 -5 128 44100 0"),
        (102, b""),
        (200, b"FILENAME CONTAINS \"x\" SORTED"),
        (201, b"\"x\" md5 1 128 44100 0 nick notanip 3"),
        (202, b"junk"),
        (203, b"nick unquoted.mp3"),
        (204, b"nick 1 2"),
        (214, b"1 2"),
        (607, b"nick \"x.mp3\" fast"),
        (607, b"nick \"x.mp3\" 7 8"),
        (608, b"nick"),
        (609, b"nick"),
        (3, &[0xff, 0xfe]),
    ] {
        assert!(
            matches!(
                Message::decode(&framed(ty, data)),
                Err(CodecError::Malformed(_))
            ),
            "type {ty} data {data:?}"
        );
    }
}

fn word() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_.@-]{1,12}"
}

fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ._()-]{0,40}".prop_map(|s| format!("f{s}"))
}

fn file_info() -> impl Strategy<Value = FileInfo> {
    (
        name(),
        word(),
        any::<u64>(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(|(name, md5, size, bitrate, frequency, seconds)| FileInfo {
            name,
            md5,
            size,
            bitrate,
            frequency,
            seconds,
        })
}

fn endpoint() -> impl Strategy<Value = Endpoint> {
    (
        word(),
        any::<u32>(),
        any::<u16>(),
        name(),
        word(),
        any::<u8>(),
    )
        .prop_map(|(nick, ip, port, name, md5, link_type)| Endpoint {
            nick,
            ip: crate::ip::from_wire(ip),
            port,
            name,
            md5,
            link_type,
        })
}

fn login() -> impl Strategy<Value = Login> {
    (word(), word(), any::<u16>(), name(), any::<u8>()).prop_map(
        |(nick, password, port, client_info, link_type)| Login {
            nick,
            password,
            port,
            client_info,
            link_type,
        },
    )
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        (login(), proptest::option::of(word()))
            .prop_map(|(login, build)| Message::Login { login, build }),
        (login(), word()).prop_map(|(login, email)| Message::Register { login, email }),
        file_info().prop_map(Message::AddFile),
        name().prop_map(|name| Message::RemoveFile { name }),
        (file_info(), word(), any::<u32>(), any::<u8>()).prop_map(|(file, nick, ip, link_type)| {
            Message::SearchResult(SearchResult {
                file,
                nick,
                ip: crate::ip::from_wire(ip),
                link_type,
            })
        }),
        (word(), name()).prop_map(|(nick, name)| Message::Download(NickFile { nick, name })),
        endpoint().prop_map(Message::DownloadAck),
        endpoint().prop_map(Message::UploadFirewall),
        (any::<u64>(), any::<u64>(), any::<u64>()).prop_map(|(users, files, gigabytes)| {
            Message::Stats {
                users,
                files,
                gigabytes,
            }
        }),
        "[a-z ]{0,30}".prop_map(Message::NoSuch),
        (word(), name(), proptest::option::of(any::<u8>())).prop_map(|(nick, name, speed)| {
            Message::UploadRequest(UploadRequest {
                asker: NickFile { nick, name },
                speed,
            })
        }),
        (word(), name()).prop_map(|(nick, name)| Message::UploadAccept(NickFile { nick, name })),
        (word(), name()).prop_map(|(nick, name)| Message::AcceptFailed(NickFile { nick, name })),
        "[ -~]{0,40}".prop_map(Message::Motd),
        (word(), "[!-~][ -~]{0,40}")
            .prop_map(|(nick, text)| Message::PrivateMessage { nick, text }),
        (word(), proptest::option::of(any::<u32>()))
            .prop_map(|(nick, max)| Message::Browse { nick, max }),
        (word(), file_info()).prop_map(|(nick, file)| Message::BrowseEntry { nick, file }),
        (word(), proptest::option::of(any::<u32>())).prop_map(|(nick, ip)| Message::BrowseEnd {
            nick,
            ip: ip.map(crate::ip::from_wire),
        }),
        (word(), word(), any::<u64>()).prop_map(|(nick, level, last_seen)| Message::Whowas {
            nick,
            level,
            last_seen
        }),
        word().prop_map(|nick| Message::PingUser { nick }),
        Just(Message::SearchEnd),
        Just(Message::StatsRequest),
    ]
}

proptest! {
    #[test]
    fn every_message_round_trips(msg in message()) {
        let bytes = msg.to_bytes();
        prop_assert_eq!(bytes.len(), msg.encoded_len());
        prop_assert_eq!(Message::decode(&bytes), Ok((msg, bytes.len())));
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = Message::decode(&bytes);
    }
}

// Hotlist, resume, link speed and server ping, from napster.txt and OpenNap.

#[test]
fn hotlist_messages_are_framed_as_napster_txt_shows() {
    let lefty = || "lefty".to_owned();
    // 207 = 0xcf, 208 = 0xd0: `<user>`.
    decodes_to(
        &[0x05, 0x00, 0xcf, 0x00, b'l', b'e', b'f', b't', b'y'],
        Message::HotlistAdd { nick: lefty() },
    );
    decodes_to(
        &[0x05, 0x00, 0xd0, 0x00, b'l', b'e', b'f', b't', b'y'],
        Message::HotlistInit { nick: lefty() },
    );
    // 209 = 0xd1: `<user> <speed>`; 210 = 0xd2: `<user>`.
    decodes_to(
        &[
            0x07, 0x00, 0xd1, 0x00, b'l', b'e', b'f', b't', b'y', b' ', b'4',
        ],
        Message::UserSignon(NickLink {
            nick: lefty(),
            link_type: 4,
        }),
    );
    decodes_to(
        &[0x05, 0x00, 0xd2, 0x00, b'l', b'e', b'f', b't', b'y'],
        Message::UserSignoff { nick: lefty() },
    );
    // 301 = 0x12d, 302 = 0x12e, 303 = 0x12f: `<user>`.
    decodes_to(
        &[0x05, 0x00, 0x2d, 0x01, b'l', b'e', b'f', b't', b'y'],
        Message::HotlistAck { nick: lefty() },
    );
    decodes_to(
        &[0x05, 0x00, 0x2e, 0x01, b'l', b'e', b'f', b't', b'y'],
        Message::HotlistError { nick: lefty() },
    );
    decodes_to(
        &[0x05, 0x00, 0x2f, 0x01, b'l', b'e', b'f', b't', b'y'],
        Message::HotlistRemove { nick: lefty() },
    );
}

#[test]
fn resume_request_matches_and_end() {
    // 215 = 0xd7: `<checksum> <filesize>`.
    let mut bytes = vec![0x27, 0x00, 0xd7, 0x00];
    bytes.extend_from_slice(b"b92870e0d41bc8e698cf2f0a1ddfeac7 443332");
    decodes_to(
        &bytes,
        Message::ResumeRequest(ResumeRequest {
            md5: "b92870e0d41bc8e698cf2f0a1ddfeac7".into(),
            size: 443_332,
        }),
    );
    // 216 = 0xd8: `<user> <ip> <port> "<filename>" <checksum> <size> <speed>`, the name
    // quoted as OpenNap's resume.c writes it.
    let data = b"lefty 3437166285 6699 \"generic band - generic song.mp3\" 10fe9e623b1962da85eea61df7ac1f69 443332 3";
    let mut bytes = vec![data.len() as u8, 0x00, 0xd8, 0x00];
    bytes.extend_from_slice(data);
    decodes_to(
        &bytes,
        Message::ResumeMatch(ResumeMatch {
            holder: lefty_ack(),
            size: 443_332,
        }),
    );
    // 217 = 0xd9: no data.
    decodes_to(&[0x00, 0x00, 0xd9, 0x00], Message::ResumeEnd);
}

#[test]
fn link_speed_and_server_ping() {
    // 600 = 0x258: `<nick>`; 601 = 0x259: `<nick> <linespeed>`.
    decodes_to(
        &[0x05, 0x00, 0x58, 0x02, b'l', b'e', b'f', b't', b'y'],
        Message::LinkSpeedRequest {
            nick: "lefty".into(),
        },
    );
    decodes_to(
        &[
            0x08, 0x00, 0x59, 0x02, b'l', b'e', b'f', b't', b'y', b' ', b'1', b'0',
        ],
        Message::LinkSpeed(NickLink {
            nick: "lefty".into(),
            link_type: 10,
        }),
    );
    // 750 = 0x2ee: empty from the server; Napster 2.0b5a sends its nick.
    decodes_to(
        &[0x00, 0x00, 0xee, 0x02],
        Message::ServerPing(String::new()),
    );
    decodes_to(
        &[0x05, 0x00, 0xee, 0x02, b'l', b'e', b'f', b't', b'y'],
        Message::ServerPing("lefty".into()),
    );
}

#[test]
fn private_messages_carry_a_nick_and_the_rest_as_text() {
    // 205 = 0xcd; the text runs to the end of the data, spaces and all.
    let mut bytes = vec![0x0f, 0x00, 0xcd, 0x00];
    bytes.extend_from_slice(b"lefty hello you");
    decodes_to(
        &bytes,
        Message::PrivateMessage {
            nick: "lefty".into(),
            text: "hello you".into(),
        },
    );
}

#[test]
fn browse_request_entries_and_end_are_framed_as_napster_txt_shows() {
    // 211 = 0xd3, with OpenNap's optional max.
    decodes_to(
        &[0x05, 0x00, 0xd3, 0x00, b'l', b'e', b'f', b't', b'y'],
        Message::Browse {
            nick: "lefty".into(),
            max: None,
        },
    );
    decodes_to(
        &framed(0xd3, b"lefty 10"),
        Message::Browse {
            nick: "lefty".into(),
            max: Some(10),
        },
    );
    // 212 = 0xd4, napster.txt's example.
    let data = b"foouser \"generic band - generic song.mp3\" b92870e0d41bc8e698cf2f0a1ddfeac7 443332 128 44100 60";
    let mut bytes = vec![0x5e, 0x00, 0xd4, 0x00];
    bytes.extend_from_slice(data);
    decodes_to(
        &bytes,
        Message::BrowseEntry {
            nick: "foouser".into(),
            file: song(),
        },
    );
    // 213 = 0xd5: the Aug 2000 edition's `<nick>`, the Dec 2000 one's `<nick> [ip]`.
    decodes_to(
        &framed(0xd5, b"foouser"),
        Message::BrowseEnd {
            nick: "foouser".into(),
            ip: None,
        },
    );
    decodes_to(
        &framed(0xd5, b"foouser 3437166285"),
        Message::BrowseEnd {
            nick: "foouser".into(),
            ip: Some(Ipv4Addr::new(205, 254, 222, 204)),
        },
    );
    // 210 = 0xd2: what answers a browse of a user not online.
    decodes_to(
        &[0x03, 0x00, 0xd2, 0x00, b'b', b'o', b'b'],
        Message::UserSignoff { nick: "bob".into() },
    );
}

#[test]
fn broken_hotlist_resume_and_speed_messages_are_errors() {
    for (ty, data) in [
        (207u16, &b""[..]),
        (208, b"two nicks"),
        (209, b"lefty"),
        (209, b"lefty fast"),
        (209, b"lefty 256"),
        (210, b""),
        (215, b"b92870e0d41bc8e698cf2f0a1ddfeac7"),
        (215, b"b92870e0d41bc8e698cf2f0a1ddfeac7 -1"),
        (215, b"b92870e0d41bc8e698cf2f0a1ddfeac7 1 2"),
        (216, b"lefty 1 6699 unquoted.mp3 md5 1 3"),
        (216, b"lefty 1 6699 \"x.mp3\" md5 1"),
        (217, b"junk"),
        (301, b""),
        (303, b""),
        (600, b""),
        (601, b"lefty"),
    ] {
        assert!(
            matches!(
                Message::decode(&framed(ty, data)),
                Err(CodecError::Malformed(_))
            ),
            "type {ty} data {data:?}"
        );
    }
}

#[test]
fn whois_and_its_two_answers_are_framed_as_opennap_sends_them() {
    // 603 = 0x25b.
    decodes_to(
        &[0x05, 0x00, 0x5b, 0x02, b'l', b'e', b'f', b't', b'y'],
        Message::Whois {
            nick: "lefty".into(),
        },
    );
    // 604 = 0x25c, OpenNap's `%s "%s" %d "%s" "Active" %d %d %d %d "%s"` for a user in no
    // channel (its list is written `" "`).
    let data = br#"lefty "User" 1203 " " "Active" 3 0 1 10 "p2plab 0.1""#;
    let mut bytes = vec![0x34, 0x00, 0x5c, 0x02];
    bytes.extend_from_slice(data);
    decodes_to(
        &bytes,
        Message::WhoisReply(WhoisInfo {
            nick: "lefty".into(),
            level: "User".into(),
            online_secs: 1203,
            channels: " ".into(),
            status: "Active".into(),
            shared: 3,
            downloads: 0,
            uploads: 1,
            link_type: 10,
            client_info: "p2plab 0.1".into(),
        }),
    );
    // 605 = 0x25d: OpenNap quotes the level; napster.txt shows it bare, which reads too.
    let whowas = Message::Whowas {
        nick: "lefty".into(),
        level: "User".into(),
        last_seen: 966_000_000,
    };
    decodes_to(&framed(0x25d, br#"lefty "User" 966000000"#), whowas.clone());
    assert_eq!(
        Message::decode(&framed(0x25d, b"lefty User 966000000")),
        Ok((whowas, 4 + 20))
    );
}

#[test]
fn ping_and_pong_name_one_user() {
    // 751 = 0x2ef, 752 = 0x2f0.
    decodes_to(
        &[0x03, 0x00, 0xef, 0x02, b'b', b'o', b'b'],
        Message::PingUser { nick: "bob".into() },
    );
    decodes_to(
        &[0x03, 0x00, 0xf0, 0x02, b'b', b'o', b'b'],
        Message::PongUser { nick: "bob".into() },
    );
}

#[test]
fn broken_user_messages_are_malformed() {
    for (ty, data) in [
        (205u16, &b"lefty"[..]),
        (205, b"lefty "),
        (210, b""),
        (211, b"lefty many"),
        (211, b"lefty 1 2"),
        (212, b"lefty \"x\" md5 1 2 3"),
        (213, b"lefty notanip"),
        (603, b"two nicks"),
        (604, br#"lefty "User" 1 " " "Active" 3 0 1 10"#),
        (605, br#"lefty "User""#),
        (751, b""),
        (752, b"a b"),
    ] {
        assert!(
            matches!(
                Message::decode(&framed(ty, data)),
                Err(CodecError::Malformed(_))
            ),
            "type {ty} data {data:?}"
        );
    }
}

fn nick_link() -> impl Strategy<Value = NickLink> {
    (word(), any::<u8>()).prop_map(|(nick, link_type)| NickLink { nick, link_type })
}

fn presence_or_resume_message() -> impl Strategy<Value = Message> {
    prop_oneof![
        word().prop_map(|nick| Message::HotlistAdd { nick }),
        word().prop_map(|nick| Message::HotlistInit { nick }),
        nick_link().prop_map(Message::UserSignon),
        word().prop_map(|nick| Message::UserSignoff { nick }),
        (word(), any::<u64>())
            .prop_map(|(md5, size)| Message::ResumeRequest(ResumeRequest { md5, size })),
        (endpoint(), any::<u64>())
            .prop_map(|(holder, size)| Message::ResumeMatch(ResumeMatch { holder, size })),
        Just(Message::ResumeEnd),
        word().prop_map(|nick| Message::HotlistAck { nick }),
        word().prop_map(|nick| Message::HotlistError { nick }),
        word().prop_map(|nick| Message::HotlistRemove { nick }),
        word().prop_map(|nick| Message::LinkSpeedRequest { nick }),
        nick_link().prop_map(Message::LinkSpeed),
        "[ -~]{0,40}".prop_map(Message::ServerPing),
    ]
}

proptest! {
    #[test]
    fn every_presence_and_resume_message_round_trips(msg in presence_or_resume_message()) {
        let bytes = msg.to_bytes();
        prop_assert_eq!(bytes.len(), msg.encoded_len());
        prop_assert_eq!(Message::decode(&bytes), Ok((msg, bytes.len())));
    }
}
