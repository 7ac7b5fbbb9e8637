//! The routing rules of section 4 of the 0.4 spec, checked on one servent between hand-driven
//! neighbours: what it forwards, where, with which TTL and Hops, and what it drops.

mod common;

use std::net::Ipv4Addr;
use std::time::Duration;

use common::bench::{closed, descriptors, ping, Bench};
use p2plab_gnutella::{
    Descriptor, Guid, HitRecord, Payload, Pong, Push, Query, QueryHit, SpeedField,
    MAX_PINGS_PER_WINDOW, MAX_QUERIES_FORWARDED_PER_WINDOW, MAX_QUERIES_PER_WINDOW, QUERY_WINDOW,
};
use p2plab_peer_protocol::{
    Command, Effect, Event, Holder, Input, Instant, Node, RequestId, SearchError, WireMessage,
};

fn pong(guid: u8, port: u16) -> Vec<u8> {
    let pong = Pong {
        port,
        ip: Ipv4Addr::new(10, 0, 0, 5),
        files: 1,
        kbytes: 1,
        extra: Vec::new(),
    };
    Descriptor::new(Guid([guid; 16]), 3, Payload::Pong(pong)).to_bytes()
}

fn query(guid: u8, ttl: u8, hops: u8, text: &str) -> Vec<u8> {
    let mut d = Descriptor::new(Guid([guid; 16]), ttl, Payload::Query(Query::new(text)));
    d.hops = hops;
    d.to_bytes()
}

/// Query number `n` (a distinct descriptor ID for each `n`), TTL 3, from a neighbour.
fn numbered_query(n: u32, text: &str) -> Vec<u8> {
    let mut guid = [0x51; 16];
    guid[..4].copy_from_slice(&n.to_le_bytes());
    Descriptor::new(Guid(guid), 3, Payload::Query(Query::new(text))).to_bytes()
}

fn query_hit(guid: u8, servent: u8, names: &[&str]) -> Vec<u8> {
    let hit = QueryHit {
        port: 6346,
        ip: Ipv4Addr::new(10, 0, 0, servent),
        speed: 56,
        results: names
            .iter()
            .enumerate()
            .map(|(i, n)| HitRecord::new(i as u32, 100, n))
            .collect(),
        trailer: Vec::new(),
        servent_id: Guid([servent; 16]),
    };
    Descriptor::new(Guid([guid; 16]), 4, Payload::QueryHit(hit)).to_bytes()
}

fn push(guid: u8, target: u8) -> Vec<u8> {
    let push = Push {
        servent_id: Guid([target; 16]),
        index: 0,
        ip: Ipv4Addr::new(10, 0, 0, 2),
        port: 6346,
        extra: Vec::new(),
    };
    Descriptor::new(Guid([guid; 16]), 5, Payload::Push(push)).to_bytes()
}

fn drops(b: &Bench, reason: &str) -> u64 {
    b.servent
        .metrics()
        .dropped
        .get(reason)
        .copied()
        .unwrap_or(0)
}

#[test]
fn pings_flood_and_pongs_retrace_their_path() {
    let mut b = Bench::new(|_| {});
    let (a, c) = (b.neighbour(), b.neighbour());
    let effects = b.recv(c, &ping(7, 3));
    let forwarded = descriptors(&effects, a);
    assert_eq!(forwarded.len(), 1);
    assert_eq!(
        (forwarded[0].guid, forwarded[0].ttl, forwarded[0].hops),
        (Guid([7; 16]), 2, 1)
    );
    assert_eq!(
        descriptors(&effects, c).len(),
        1,
        "our own pong goes back to c"
    );

    let effects = b.recv(a, &pong(7, 6346));
    let back = descriptors(&effects, c);
    assert_eq!((back.len(), back[0].ttl, back[0].hops), (1, 2, 1));
    assert!(
        descriptors(&effects, a).is_empty(),
        "a pong is never flooded"
    );
    let cached = b.servent.host_cache_len();

    assert!(
        descriptors(&b.recv(a, &pong(7, 0)), c).is_empty(),
        "firewalled"
    );
    assert_eq!(drops(&b, "firewalled"), 1);
    assert!(
        b.recv(a, &pong(99, 6346)).is_empty(),
        "a pong for an unknown ping"
    );
    assert_eq!(drops(&b, "unroutable"), 1);
    assert_eq!(b.servent.host_cache_len(), cached, "port 0 is not cached");
    assert!(b
        .servent
        .neighbours()
        .contains(&"10.0.0.5:6346".parse().expect("addr")));

    assert!(b.recv(a, &ping(7, 3)).is_empty(), "the same ping again");
    assert_eq!(drops(&b, "duplicate"), 1);
    let effects = b.recv(c, &ping(8, 1));
    assert!(
        descriptors(&effects, a).is_empty(),
        "TTL 1: answered, not forwarded"
    );
    assert_eq!(descriptors(&effects, c).len(), 1);
}

#[test]
fn a_ttl_above_the_maximum_is_lowered_never_raised() {
    let mut b = Bench::new(|c| c.max_ttl = 7);
    let (a, c) = (b.neighbour(), b.neighbour());
    let forwarded = descriptors(&b.recv(c, &query(1, 200, 2, "x")), a);
    assert_eq!(
        (forwarded[0].ttl, forwarded[0].hops),
        (4, 3),
        "7 - 2 hops, minus one"
    );
    let forwarded = descriptors(&b.recv(c, &query(2, 3, 2, "x")), a);
    assert_eq!((forwarded[0].ttl, forwarded[0].hops), (2, 3));
}

#[test]
fn query_hits_retrace_the_query_and_pushes_follow_the_servent_id() {
    let mut b = Bench::new(|_| {});
    let (a, c) = (b.neighbour(), b.neighbour());
    let effects = b.recv(c, &query(8, 2, 1, "ABBA"));
    let ours = descriptors(&effects, c);
    assert_eq!(ours.len(), 1, "we share a match");
    assert_eq!(
        (ours[0].guid, ours[0].ttl, ours[0].hops),
        (Guid([8; 16]), 2, 0),
        "the Query crossed 2 links: its answer gets TTL 2"
    );
    let Payload::QueryHit(qh) = &ours[0].payload else {
        panic!("{:?}", ours[0]);
    };
    let urn = b.servent.library().unwrap().files()[0]
        .meta
        .urn_sha1()
        .unwrap();
    let mut record = HitRecord::new(0, 4_000, "abba gold.mp3");
    record.extra = urn.into_bytes();
    assert_eq!(qh.results, [record], "the file named by its urn:sha1");
    assert_eq!(qh.trailer, b"PLAB\x02\x10\x01", "p2plab's vendor trailer");
    assert_eq!((qh.ip, qh.port), (Ipv4Addr::new(10, 0, 0, 1), 6346));
    assert_eq!(qh.servent_id, b.servent.servent_id());
    assert_eq!(descriptors(&effects, a)[0].ttl, 1);

    let effects = b.recv(a, &query_hit(8, 44, &["abba live.mp3"]));
    let back = descriptors(&effects, c);
    assert_eq!((back.len(), back[0].hops), (1, 1));
    assert!(descriptors(&effects, a).is_empty());

    let effects = b.recv(c, &push(50, 44));
    assert_eq!(
        descriptors(&effects, a).len(),
        1,
        "towards servent 44's query hits"
    );
    assert!(
        b.recv(c, &push(51, 45)).is_empty(),
        "servent 45 never answered"
    );
    assert!(
        b.recv(a, &query_hit(77, 44, &["x"])).is_empty(),
        "no such query"
    );
    assert_eq!(drops(&b, "unroutable"), 2);
}

#[test]
fn an_answer_whose_path_is_gone_is_dropped() {
    let mut b = Bench::new(|_| {});
    let (a, c) = (b.neighbour(), b.neighbour());
    b.recv(c, &query(9, 3, 0, "nothing"));
    b.input(Input::Closed {
        conn: c,
        reason: p2plab_peer_protocol::CloseReason::PeerClosed,
    });
    assert!(b.recv(a, &query_hit(9, 44, &["nothing.mp3"])).is_empty());
    assert_eq!(drops(&b, "unroutable"), 1);
}

#[test]
fn too_slow_to_answer_a_min_speed_query_but_a_flagged_one_asks_no_speed() {
    let mut b = Bench::new(|c| c.speed_kbps = 56);
    let c = b.neighbour();
    let mut fast = Descriptor::decode(&query(3, 1, 0, "abba"))
        .expect("query")
        .0;
    if let Payload::Query(q) = &mut fast.payload {
        q.speed = SpeedField::MinSpeed(300);
    }
    assert_eq!(&fast.to_bytes()[23..25], b"\x2C\x01", "300, little-endian");
    assert!(descriptors(&b.recv(c, &fast.to_bytes()), c).is_empty());
    // The same Query with the flags of a deployed servent asks no speed: it is answered.
    let mut flagged = fast.clone();
    flagged.guid = Guid([4; 16]);
    if let Payload::Query(q) = &mut flagged.payload {
        q.speed = SpeedField::Flags(0xB800);
    }
    let hits = descriptors(&b.recv(c, &flagged.to_bytes()), c);
    assert_eq!(hits.len(), 1, "answered: {hits:?}");
}

#[test]
fn pings_beyond_the_per_connection_limit_are_dropped() {
    let mut b = Bench::new(|_| {});
    let c = b.neighbour();
    let mut stream = Vec::new();
    for g in 0..=MAX_PINGS_PER_WINDOW {
        stream.extend_from_slice(&ping(g as u8, 1));
    }
    let pongs = descriptors(&b.recv(c, &stream), c).len();
    assert_eq!(pongs as u32, MAX_PINGS_PER_WINDOW);
    assert_eq!(drops(&b, "ping_rate"), 1);
    b.now = Instant::ZERO + Duration::from_secs(2);
    assert_eq!(
        descriptors(&b.recv(c, &ping(200, 1)), c).len(),
        1,
        "a new window"
    );
}

#[test]
fn queries_beyond_a_links_budget_are_dropped_and_other_links_keep_their_share() {
    let mut b = Bench::new(|_| {});
    let (flooder, a, c) = (b.neighbour(), b.neighbour(), b.neighbour());
    let flood: Vec<u8> = (0..=MAX_QUERIES_PER_WINDOW)
        .flat_map(|n| numbered_query(n, "abba"))
        .collect();
    let effects = b.recv(flooder, &flood);
    let (budget, share) = (MAX_QUERIES_PER_WINDOW, MAX_QUERIES_FORWARDED_PER_WINDOW);
    assert_eq!(
        descriptors(&effects, flooder).len(),
        budget as usize,
        "answered"
    );
    assert_eq!(descriptors(&effects, a).len(), share as usize, "passed on");
    assert_eq!(descriptors(&effects, c).len(), share as usize, "passed on");
    assert_eq!(drops(&b, "query_rate"), 1, "neither answered nor passed on");
    assert_eq!(drops(&b, "forward_rate"), u64::from(budget - share));
    assert_eq!(b.servent.queries_handled(), u64::from(budget));

    // In the same window, another neighbour's Query is answered and passed on as usual.
    let effects = b.recv(c, &query(9, 3, 0, "abba"));
    assert_eq!(descriptors(&effects, c).len(), 1, "answered");
    assert_eq!(descriptors(&effects, a).len(), 1, "passed on");
    assert_eq!(descriptors(&effects, flooder).len(), 1, "passed on");

    b.now = Instant::ZERO + QUERY_WINDOW;
    let effects = b.recv(flooder, &numbered_query(budget + 1, "abba"));
    assert_eq!(descriptors(&effects, a).len(), 1, "a new window");
    assert_eq!(drops(&b, "query_rate"), 1);
}

#[test]
fn a_search_collects_distinct_hits_until_its_window_closes() {
    let mut b = Bench::new(|c| c.search_window = Duration::from_secs(3));
    let (a, c) = (b.neighbour(), b.neighbour());
    let effects = b.input(Input::Command(Command::Search {
        request: RequestId(5),
        query: "song".into(),
    }));
    let sent = descriptors(&effects, a);
    assert_eq!((sent.len(), sent[0].ttl, sent[0].hops), (1, 7, 0));
    assert_eq!(
        descriptors(&effects, c),
        sent,
        "the same query to every neighbour"
    );
    let mut twice = Descriptor::decode(&query_hit(0, 44, &["song a.mp3", "song b.mp3"]))
        .expect("qh")
        .0;
    twice.guid = sent[0].guid;
    twice.hops = 2;
    b.now = Instant::ZERO + Duration::from_millis(250);
    b.recv(a, &twice.to_bytes());
    b.recv(c, &twice.to_bytes());
    let mut other = Descriptor::decode(&query_hit(0, 45, &["song a.mp3"]))
        .expect("qh")
        .0;
    other.guid = sent[0].guid;
    b.recv(c, &other.to_bytes());
    b.now = Instant::ZERO + Duration::from_secs(3);
    let effects = b.input(Input::Timeout);
    let Some(Effect::Report(Event::SearchDone {
        request,
        result: Ok(hits),
    })) = effects.first()
    else {
        panic!("{effects:?}");
    };
    assert_eq!(*request, RequestId(5));
    let found: Vec<(String, Option<u32>)> = hits
        .iter()
        .map(|h| (h.holder.to_string(), h.hops))
        .collect();
    assert_eq!(
        found,
        [
            // Hops 2 on arrival: three links away; Hops 0: a neighbour's own hit, one link.
            ("10.0.0.44:6346 (index 0)".to_owned(), Some(3)),
            ("10.0.0.44:6346 (index 1)".to_owned(), Some(3)),
            ("10.0.0.45:6346 (index 0)".to_owned(), Some(1)),
        ]
    );
    assert!(matches!(hits[0].holder, Holder::Http { index: 0, .. }));
    let m = b.servent.metrics();
    assert_eq!(
        (m.lookups, m.lookup_micros, m.mean_hops()),
        (1, 250_000, Some(3.0))
    );
}

#[test]
fn leaving_closes_everything_and_refuses_newcomers() {
    let mut b = Bench::new(|_| {});
    let (a, c) = (b.neighbour(), b.neighbour());
    let effects = b.input(Input::Command(Command::Leave {
        request: RequestId(9),
    }));
    assert!(closed(&effects, a) && closed(&effects, c));
    assert!(matches!(
        effects.last(),
        Some(Effect::Report(Event::Left {
            request: RequestId(9)
        }))
    ));
    let late = b.conn_ids.next_id();
    let remote = "10.9.9.8:40001".parse().expect("addr");
    assert!(closed(
        &b.input(Input::Accepted { conn: late, remote }),
        late
    ));
    assert_eq!(b.servent.neighbour_count(), 0);
    assert_eq!(
        b.servent.poll_timeout(),
        None,
        "a servent that left wants no timers"
    );
    let search = b.input(Input::Command(Command::Search {
        request: RequestId(10),
        query: "anything".into(),
    }));
    assert_eq!(
        search,
        [Effect::Report(Event::SearchDone {
            request: RequestId(10),
            result: Err(SearchError::Left),
        })],
        "answered at once, not as a servent that lost its neighbours"
    );
}

#[test]
fn a_question_about_a_user_is_refused_at_once() {
    let mut b = Bench::new(|_| {});
    let effects = b.input(Input::Command(Command::Ask {
        request: RequestId(5),
        question: p2plab_peer_protocol::Question::Browse {
            nick: "alice".into(),
        },
    }));
    let [Effect::Report(Event::Answered {
        request: RequestId(5),
        result: Err(SearchError::Refused(why)),
    })] = effects.as_slice()
    else {
        panic!("refused at once: {effects:?}")
    };
    assert_eq!(
        why,
        "Gnutella keeps no directory of users: browse is not supported by this network"
    );
}
