//! One servent driven by hand, byte by byte: the handshakes it accepts and refuses, and the
//! malformed input that costs a connection (or just a descriptor) but never the servent.

use std::net::SocketAddr;
use std::time::Duration;

mod common;

use common::bench::{closed, descriptors, ping, sent_bytes, Bench};
use p2plab_gnutella::handshake::CONNECT_04;
use p2plab_gnutella::{Descriptor, Guid, Payload, Pong};
use p2plab_peer_protocol::{
    Command, Effect, Event, Hit, Holder, Input, Instant, Node, RequestId, SearchError, WireMessage,
};

#[test]
fn a_04_handshake_is_answered_and_the_new_neighbour_pinged() {
    let mut b = Bench::new(|_| {});
    let conn = b.accept();
    // Split anywhere: TCP chunks mean nothing.
    assert!(b.recv(conn, &CONNECT_04[..7]).is_empty());
    let effects = b.recv(conn, &CONNECT_04[7..]);
    let bytes = sent_bytes(&effects, conn);
    assert_eq!(&bytes[..13], b"GNUTELLA OK\n\n");
    let ping = Descriptor::decode(&bytes[13..]).expect("a ping follows").0;
    assert!(matches!(ping.payload, Payload::Ping(_)));
    assert_eq!((ping.ttl, ping.hops), (7, 0));
    assert_eq!(ping.guid.0[8], 0xFF);
    assert_eq!(b.servent.neighbour_count(), 1);
}

#[test]
fn a_ping_is_answered_with_our_pong_on_the_same_guid() {
    let mut b = Bench::new(|_| {});
    let conn = b.neighbour();
    let effects = b.recv(conn, &ping(0x42, 3));
    let pong = &descriptors(&effects, conn)[0];
    assert_eq!(pong.guid, Guid([0x42; 16]));
    assert_eq!(
        (pong.ttl, pong.hops),
        (1, 0),
        "a direct neighbour's answer: TTL 1, the one link the Ping crossed"
    );
    let Payload::Pong(p) = &pong.payload else {
        panic!("expected a pong, got {pong:?}");
    };
    assert_eq!(p.addr(), Some("10.0.0.1:6346".parse().expect("addr")));
    assert_eq!((p.files, p.kbytes), (2, 3));
}

#[test]
fn the_06_handshake_is_accepted_with_a_user_agent() {
    let mut b = Bench::new(|_| {});
    let conn = b.accept();
    let hello = b"GNUTELLA CONNECT/0.6\r\nUser-Agent: test/1\r\nListen-IP: 10.0.0.7:6346\r\n\r\n";
    let reply = String::from_utf8(sent_bytes(&b.recv(conn, hello), conn)).expect("text");
    assert!(reply.starts_with("GNUTELLA/0.6 200 OK\r\n"), "{reply}");
    assert!(reply.contains("\r\nUser-Agent: "), "{reply}");
    assert!(reply.ends_with("\r\n\r\n"));
    assert_eq!(b.servent.neighbour_count(), 0, "waits for the client's 200");
    let mut last = b"GNUTELLA/0.6 200 OK\r\n\r\n".to_vec();
    last.extend_from_slice(&ping(1, 1));
    let effects = b.recv(conn, &last);
    assert_eq!(b.servent.neighbour_count(), 1);
    assert_eq!(
        b.servent.neighbours(),
        ["10.0.0.7:6346".parse().expect("addr")]
    );
    let kinds: Vec<u8> = descriptors(&effects, conn)
        .iter()
        .map(|d| d.payload.code())
        .collect();
    assert_eq!(kinds, [0x00, 0x01], "our ping, then the pong to its ping");
}

#[test]
fn connections_beyond_max_peers_are_refused() {
    let mut b = Bench::new(|c| c.max_peers = 1);
    b.neighbour();
    let late = b.accept();
    let effects = b.recv(late, b"GNUTELLA CONNECT/0.6\r\nUser-Agent: x\r\n\r\n");
    assert!(sent_bytes(&effects, late).starts_with(b"GNUTELLA/0.6 503 "));
    assert!(closed(&effects, late));
    let late04 = b.accept();
    let effects = b.recv(late04, CONNECT_04);
    assert!(sent_bytes(&effects, late04).is_empty());
    assert!(closed(&effects, late04));
    assert_eq!(b.servent.neighbour_count(), 1);
}

#[test]
fn bad_streams_cost_their_connection_only() {
    let mut b = Bench::new(|_| {});
    let good = b.neighbour();
    let mut huge = ping(1, 1);
    huge[19..23].copy_from_slice(&5_000u32.to_le_bytes());
    let mut unknown = ping(2, 1);
    unknown[16] = 0x99;
    // An HTTP request on an open Gnutella connection frames as a header with an absurd length.
    let cases: [&[u8]; 3] = [&huge, &unknown, b"GET /get/0/abba HTTP/1.0\r\n\r\n"];
    for bytes in cases {
        let conn = b.neighbour();
        let effects = b.recv(conn, bytes);
        assert!(closed(&effects, conn), "{bytes:?}");
    }
    let not_gnutella = b.accept();
    assert!(closed(&b.recv(not_gnutella, b"HELO"), not_gnutella));
    let effects = b.recv(good, &ping(3, 1));
    assert_eq!(
        descriptors(&effects, good).len(),
        1,
        "the good neighbour is still served"
    );
    assert_eq!(b.servent.metrics().dropped["malformed"], 4);
}

/// A Bye as the spec lays it out — type `0x02`, TTL 1, hops 0; code 200 (`C8 00`, LE) and a
/// NUL-terminated reason — makes its receiver close the link; what follows it is not read.
#[test]
fn a_bye_closes_the_connection_it_came_on() {
    let mut b = Bench::new(|_| {});
    let (leaving, staying) = (b.neighbour(), b.neighbour());
    let mut bye = vec![0xB0; 16];
    bye.extend_from_slice(&[0x02, 0x01, 0x00, 0x10, 0x00, 0x00, 0x00]);
    bye.extend_from_slice(b"\xC8\x00Shutting down\0");
    assert_eq!(bye.len(), 23 + 16);
    bye.extend_from_slice(&ping(5, 1));
    let effects = b.recv(leaving, &bye);
    assert!(closed(&effects, leaving));
    assert!(
        descriptors(&effects, leaving).is_empty(),
        "the Ping behind it is not answered"
    );
    assert_eq!(b.servent.neighbour_count(), 1);
    assert!(!closed(&effects, staying));
    assert_eq!(descriptors(&b.recv(staying, &ping(6, 1)), staying).len(), 1);
}

#[test]
fn a_malformed_payload_is_skipped_and_the_stream_goes_on() {
    let mut b = Bench::new(|_| {});
    let conn = b.neighbour();
    let mut short_pong = Descriptor::new(
        Guid([9; 16]),
        1,
        Payload::Pong(Pong::decode(&[0; 14]).expect("pong")),
    )
    .to_bytes();
    short_pong.truncate(23 + 10);
    short_pong[19..23].copy_from_slice(&10u32.to_le_bytes());
    let mut zero_ttl = ping(4, 0);
    zero_ttl[18] = 0;
    let mut stream = short_pong;
    stream.extend_from_slice(&zero_ttl);
    stream.extend_from_slice(&ping(5, 1));
    let effects = b.recv(conn, &stream);
    assert!(!closed(&effects, conn));
    let answers = descriptors(&effects, conn);
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].guid, Guid([5; 16]));
    assert_eq!(b.servent.metrics().dropped["malformed"], 2);
}

#[test]
fn a_handshake_that_never_finishes_times_out() {
    let mut b = Bench::new(|c| c.handshake_timeout = Duration::from_secs(5));
    // Alone, the servent has one timer: its first ping round, at a random point of the
    // first interval (so that servents started together do not ping in step).
    let ping_at = b.servent.poll_timeout().expect("the ping timer");
    assert!(ping_at < Instant::ZERO + b.servent.config().ping_interval);
    assert!(
        ping_at > Instant::ZERO + Duration::from_secs(5),
        "seeded: after the handshake timeout"
    );
    let conn = b.accept();
    b.recv(conn, b"GNUTELLA CONNECT/0.4\n");
    assert_eq!(
        b.servent.poll_timeout(),
        Some(Instant::ZERO + Duration::from_secs(5))
    );
    b.now = Instant::ZERO + Duration::from_secs(4);
    assert!(
        !closed(&b.input(Input::Timeout), conn),
        "early timeouts do nothing"
    );
    b.now = Instant::ZERO + Duration::from_secs(5);
    assert!(closed(&b.input(Input::Timeout), conn));
    assert_eq!(
        b.servent.poll_timeout(),
        Some(ping_at),
        "only the ping timer is left"
    );
}

#[test]
fn finished_handshakes_leave_no_timer_behind() {
    let secs = |s| Instant::ZERO + Duration::from_secs(s);
    let mut b = Bench::new(|c| c.handshake_timeout = Duration::from_secs(5));
    let [first, second, third] = [0, 1, 2].map(|s| {
        b.now = secs(s);
        b.accept()
    });
    b.now = secs(3);
    b.recv(first, CONNECT_04);
    b.recv(third, CONNECT_04);
    assert_eq!(b.servent.neighbour_count(), 2);
    assert_eq!(
        b.servent.poll_timeout(),
        Some(secs(6)),
        "the oldest handshake is done: the second one's deadline is next"
    );
    // Late, past the third's deadline too: only the handshake still under way closes.
    b.now = secs(8);
    let effects = b.input(Input::Timeout);
    assert!(closed(&effects, second));
    assert!(!closed(&effects, first) && !closed(&effects, third));
    assert_eq!(b.servent.neighbour_count(), 2);
    assert!(
        b.servent.poll_timeout() > Some(secs(8)),
        "no handshake deadline is left to wake the servent"
    );
}

#[test]
fn without_neighbours_a_search_fails_and_locate_is_immediate() {
    let mut b = Bench::new(|_| {});
    let effects = b.input(Input::Command(Command::Search {
        request: RequestId(1),
        query: "abba".into(),
    }));
    assert!(matches!(
        &effects[..],
        [Effect::Report(Event::SearchDone {
            result: Err(SearchError::NotConnected(_)),
            ..
        })]
    ));
    let addr: SocketAddr = "1.2.3.4:6346".parse().expect("addr");
    let hit = Hit {
        name: "abba gold.mp3".into(),
        size: 4_000,
        holder: Holder::Http { addr, index: 7 },
        hops: Some(2),
        arrived: None,
    };
    let effects = b.input(Input::Command(Command::Locate {
        request: RequestId(2),
        hit,
    }));
    let Some(Effect::Report(Event::Located {
        result: Ok(download),
        ..
    })) = effects.first()
    else {
        panic!("{effects:?}");
    };
    assert_eq!(
        *download,
        p2plab_peer_protocol::Download::Http {
            addr,
            index: 7,
            name: "abba gold.mp3".into()
        }
    );
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Whatever arrives, in whatever chunks, on a fresh or an open connection, the servent
        /// survives and keeps serving its other neighbour.
        #[test]
        fn garbage_never_takes_the_servent_down(
            open in any::<bool>(),
            chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..8)
        ) {
            let mut b = Bench::new(|_| {});
            let good = b.neighbour();
            let victim = if open { b.neighbour() } else { b.accept() };
            for chunk in &chunks {
                b.recv(victim, chunk);
            }
            b.now = Instant::ZERO + std::time::Duration::from_secs(60);
            b.input(Input::Timeout);
            let effects = b.recv(good, &ping(0xEE, 1));
            prop_assert_eq!(descriptors(&effects, good).len(), 1);
        }
    }
}
