//! Dynamic querying (`servent/dynamic.rs`): an ultrapeer probes, widens one ultrapeer link
//! at a time with a TTL chosen from the results so far, and stops at its target.
//!
//! On the bench, byte for byte and step by step: the probe's links and TTL, the wait, each
//! step's link and TTL, the stop on enough results, a leaf's Query Status Response
//! overriding the results routed to it and stopping the query, and the Query Status
//! Responses a leaf sends. On the in-memory network, with virtual time: a common file stops
//! the search after the probe at a fraction of a TTL-7 flood's Query messages; a rare file
//! five hops away is found by widening; no holder ends the search once every link had it,
//! not found; a leaf whose search closes stops its ultrapeer's query.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::bench::{descriptors, sent_bytes, Bench};
use common::{build, one_file, search, sent};
use p2plab_gnutella::message::query_status::{QueryStatus, STOP, VENDOR_MESSAGE};
use p2plab_gnutella::servent::{
    horizon, MAX_DYNAMIC_PER_SEARCHER, MAX_DYNAMIC_TTL, PROBE_LINKS, PROBE_TTL,
};
use p2plab_gnutella::topology::random_overlay;
use p2plab_gnutella::{
    Descriptor, DynamicOutcome, Guid, HitRecord, Payload, Query, QueryHit, Role, Servent, Stop,
    DEFAULT_TTL,
};
use p2plab_netsim::TestNet;
use p2plab_peer_protocol::{
    Command, ConnId, Effect, Event, Input, Library, Node, RequestId, WireMessage,
};

/// The ultrapeer on the bench waits the default 2.4 s per hop.
const HOP: Duration = p2plab_gnutella::config::DEFAULT_HOP_WAIT;

/// An ultrapeer on the bench keeping up to 8 ultrapeer links.
fn ultrapeer() -> Bench {
    Bench::new(|c| {
        c.role = Role::Ultrapeer;
        c.max_peers = 8;
    })
}

/// A peer connects with `headers` (each ending `\r\n`) and confirms the servent's `200`.
fn join(b: &mut Bench, headers: &str) -> ConnId {
    let conn = b.accept();
    let hello = format!("GNUTELLA CONNECT/0.6\r\nUser-Agent: t/1\r\n{headers}\r\n");
    let answer = sent_bytes(&b.recv(conn, hello.as_bytes()), conn);
    assert!(answer.starts_with(b"GNUTELLA/0.6 200"));
    b.recv(conn, b"GNUTELLA/0.6 200 OK\r\n\r\n");
    conn
}

/// Another dynamic-querying ultrapeer of degree 8 that takes fresh Queries up to TTL 4.
const ULTRAPEER: &str =
    "X-Ultrapeer: True\r\nX-Degree: 8\r\nX-Max-TTL: 4\r\nX-Dynamic-Querying: 0.1\r\n";

/// [`ULTRAPEER`], which also passes on a Query it saw when a copy comes deeper.
const DEEPER: &str = "X-Ultrapeer: True\r\nX-Degree: 8\r\nX-Max-TTL: 4\r\n\
                      X-Dynamic-Querying: 0.1\r\nX-Ext-Probes: 0.1\r\n";

/// A leaf.
const LEAF: &str = "X-Ultrapeer: False\r\nX-Query-Routing: 0.1\r\n";

/// The Queries among `effects` to each of `conns`, as (TTL, hops), flattened with the
/// index of the connection in `conns`.
fn queries(effects: &[Effect], conns: &[ConnId]) -> Vec<(usize, u8, u8)> {
    let mut found = Vec::new();
    for (i, conn) in conns.iter().enumerate() {
        for d in descriptors(effects, *conn) {
            if matches!(d.payload, Payload::Query(_)) {
                found.push((i, d.ttl, d.hops));
            }
        }
    }
    found
}

/// Moves the bench's clock to `at` past its start and lets the servent's timers run.
fn at(b: &mut Bench, at: Duration) -> Vec<Effect> {
    b.now = p2plab_peer_protocol::Instant::ZERO + at;
    b.input(Input::Timeout)
}

/// The dynamic query `servent` ended last.
fn last_outcome(servent: &Servent) -> DynamicOutcome {
    servent.dynamic_outcomes().last().expect("stopped").clone()
}

/// A fresh Query for "zebra" (which the ultrapeer's own library does not hold), with
/// descriptor ID `guid` repeated.
fn zebra(guid: u8) -> Descriptor {
    Descriptor::new(
        Guid([guid; 16]),
        DEFAULT_TTL,
        Payload::Query(Query::new("zebra")),
    )
}

/// Six ultrapeer links and a leaf; the leaf's own Query for "zebra" (which the ultrapeer's
/// own library does not hold) arrives, with descriptor ID `guid`.
fn leaf_query(b: &mut Bench, guid: u8) -> (Vec<ConnId>, ConnId, Vec<Effect>) {
    let links: Vec<ConnId> = (0..6).map(|_| join(b, ULTRAPEER)).collect();
    let leaf = join(b, LEAF);
    let query = zebra(guid);
    let effects = b.recv(leaf, &query.to_bytes());
    (links, leaf, effects)
}

#[test]
fn a_leafs_query_is_probed_then_widened_one_link_per_wait() {
    let mut b = ultrapeer();
    let (links, _, effects) = leaf_query(&mut b, 1);
    let probe = queries(&effects, &links);
    assert_eq!(probe.len(), PROBE_LINKS, "{probe:?}");
    assert!(
        probe
            .iter()
            .all(|&(_, ttl, hops)| (ttl, hops) == (PROBE_TTL, 1)),
        "{probe:?}"
    );
    let probed: BTreeSet<usize> = probe.iter().map(|q| q.0).collect();
    // The probe waits 2.4 s per hop of its TTL: nothing before.
    let wait = HOP * u32::from(PROBE_TTL);
    assert!(queries(&at(&mut b, wait - Duration::from_millis(1)), &links).is_empty());
    // Nothing came back: each step goes as far as the link takes (its X-Max-TTL 4, below
    // MAX_DYNAMIC_TTL), one link at a time, 4 hop waits apart.
    let mut when = wait;
    let mut used = probed;
    for _ in PROBE_LINKS..links.len() {
        let step = queries(&at(&mut b, when), &links);
        assert_eq!(step.len(), 1, "one link per step: {step:?}");
        let (link, ttl, hops) = step[0];
        assert_eq!((ttl, hops), (4.min(MAX_DYNAMIC_TTL), 1));
        assert!(used.insert(link), "each link gets the Query once");
        assert!(queries(
            &at(&mut b, when + HOP * 4 - Duration::from_millis(1)),
            &links
        )
        .is_empty());
        when += HOP * 4;
    }
    assert!(queries(&at(&mut b, when), &links).is_empty());
    let outcome = last_outcome(&b.servent);
    assert_eq!(outcome.stop, Stop::LinksUsed);
    assert_eq!(outcome.ttls, [2, 2, 2, 4, 4, 4]);
    assert!(outcome.for_leaf);
    let reached = 3.0 * horizon(8, 2) + 3.0 * horizon(8, 4);
    assert!((outcome.horizon - reached).abs() < 1e-9);
}

#[test]
fn with_every_link_probed_the_widening_queries_probed_links_again_deeper() {
    let mut b = ultrapeer();
    let links: Vec<ConnId> = (0..PROBE_LINKS).map(|_| join(&mut b, DEEPER)).collect();
    let leaf = join(&mut b, LEAF);
    let query = zebra(2);
    let probe = queries(&b.recv(leaf, &query.to_bytes()), &links);
    assert_eq!(probe.len(), PROBE_LINKS);
    let mut when = HOP * u32::from(PROBE_TTL);
    let mut again = BTreeSet::new();
    for _ in 0..PROBE_LINKS {
        let step = queries(&at(&mut b, when), &links);
        assert_eq!(step.len(), 1, "{step:?}");
        assert_eq!((step[0].1, step[0].2), (4, 1), "deeper than the probe's 2");
        assert!(again.insert(step[0].0), "each probed link once more");
        when += HOP * 4;
    }
    assert!(queries(&at(&mut b, when), &links).is_empty());
    let outcome = last_outcome(&b.servent);
    assert_eq!(
        (outcome.stop, outcome.ttls),
        (Stop::LinksUsed, vec![2, 2, 2, 4, 4, 4])
    );
    let reached = 3.0 * horizon(8, 4);
    assert!(
        (outcome.horizon - reached).abs() < 1e-9,
        "each link counted once, at its deepest"
    );
}

/// A QueryHit for Query `guid` holding `n` results, as a probed ultrapeer passes it back.
fn hits(guid: u8, n: u32) -> Vec<u8> {
    let hit = QueryHit {
        port: 6346,
        ip: std::net::Ipv4Addr::new(10, 0, 0, 9),
        speed: 1_000,
        results: (0..n)
            .map(|i| HitRecord::new(i, 1, &format!("zebra {i}.mp3")))
            .collect(),
        trailer: Vec::new(),
        servent_id: Guid([7; 16]),
    };
    let mut d = Descriptor::new(Guid([guid; 16]), 3, Payload::QueryHit(hit));
    d.hops = 1;
    d.to_bytes()
}

/// The Query Status Response a leaf sends about Query `guid`.
fn status(guid: u8, kept: u16) -> Vec<u8> {
    let payload = Payload::Extension {
        code: VENDOR_MESSAGE,
        data: QueryStatus { kept }.to_bytes().to_vec(),
    };
    Descriptor::new(Guid([guid; 16]), 1, payload).to_bytes()
}

#[test]
fn results_routed_to_the_leaf_stop_the_query_at_the_target() {
    let mut b = ultrapeer();
    let (links, leaf, effects) = leaf_query(&mut b, 1);
    let (first, ..) = queries(&effects, &links)[0];
    let routed = b.recv(links[first], &hits(1, 50));
    assert_eq!(
        descriptors(&routed, leaf).len(),
        1,
        "the hit goes on to the leaf"
    );
    assert!(
        queries(&at(&mut b, HOP * 2), &links).is_empty(),
        "50 back: no step"
    );
    let outcome = last_outcome(&b.servent);
    assert_eq!((outcome.stop, outcome.results), (Stop::Enough, 50));
    assert_eq!(outcome.ttls, [2, 2, 2]);
}

#[test]
fn the_leafs_own_count_overrides_what_was_routed_and_its_stop_ends_the_query() {
    let mut b = ultrapeer();
    let (links, leaf, effects) = leaf_query(&mut b, 1);
    let (first, ..) = queries(&effects, &links)[0];
    b.recv(links[first], &hits(1, 50));
    // The leaf kept 3 of the 50 (duplicates, filters): the query goes on.
    b.recv(leaf, &status(1, 3));
    let step = queries(&at(&mut b, HOP * 2), &links);
    // 47 more at 3 per 19.8 ultrapeers reached need 310, 103 per link of the 3 left:
    // TTL 3 (38 through a degree-8 link) and not 4 (214).
    assert_eq!(step.len(), 1);
    assert_eq!((step[0].1, step[0].2), (3, 1));
    // A stop from another connection is not the leaf's to give.
    b.recv(links[first], &status(1, STOP));
    assert!(b.servent.dynamic_outcomes().next().is_none());
    b.recv(leaf, &status(1, STOP));
    let outcome = last_outcome(&b.servent);
    assert_eq!((outcome.stop, outcome.ttls.len()), (Stop::Told, 4));
    assert!(
        queries(&at(&mut b, HOP * 60), &links).is_empty(),
        "nothing after a stop"
    );
}

#[test]
fn a_leaf_reports_its_kept_share_byte_by_byte_and_stops_when_its_search_closes() {
    let mut b = Bench::new(|c| c.role = Role::Leaf);
    let up = join(&mut b, ULTRAPEER);
    let request = RequestId(9);
    let effects = b.input(Input::Command(Command::Search {
        request,
        query: "zebra".into(),
    }));
    let query = descriptors(&effects, up)
        .into_iter()
        .find(|d| matches!(d.payload, Payload::Query(_)))
        .expect("the search's Query");
    let guid = query.guid;
    let answer = |n: u32| {
        let mut bytes = hits(0, n);
        bytes[..16].copy_from_slice(&guid.0);
        bytes
    };
    let vendor = |effects: &[Effect]| -> Vec<Vec<u8>> {
        descriptors(effects, up)
            .into_iter()
            .filter(|d| d.payload.code() == VENDOR_MESSAGE)
            .map(|d| d.to_bytes())
            .collect()
    };
    let mut want = guid.0.to_vec();
    want.extend_from_slice(&[0x31, 1, 0, 10, 0, 0, 0]); // type, TTL 1, hops 0, length 10
    want.extend_from_slice(b"BEAR\x0c\x00\x01\x00\x03\x00"); // BEAR 12 v1, 3 kept
    assert_eq!(vendor(&b.recv(up, &answer(3))), [want.clone()]);
    assert!(
        vendor(&b.recv(up, &answer(3))).is_empty(),
        "the same three again: kept no more, nothing to say"
    );
    let window = b.servent.config().search_window;
    let closed = at(&mut b, window);
    assert!(closed.iter().any(
        |e| matches!(e, Effect::Report(Event::SearchDone { request: r, .. }) if *r == request)
    ));
    want.truncate(want.len() - 2);
    want.extend_from_slice(&[0xFF, 0xFF]);
    assert_eq!(vendor(&closed), [want], "stop");
}

#[test]
fn a_leaf_says_nothing_to_an_ultrapeer_that_does_not_query_dynamically() {
    let mut b = Bench::new(|c| c.role = Role::Leaf);
    let up = join(&mut b, "X-Ultrapeer: True\r\n");
    b.input(Input::Command(Command::Search {
        request: RequestId(1),
        query: "zebra".into(),
    }));
    let window = b.servent.config().search_window;
    let effects = at(&mut b, window);
    assert!(descriptors(&effects, up)
        .iter()
        .all(|d| d.payload.code() != VENDOR_MESSAGE));
}

/// How long a step waits per hop on the in-memory network, where a hop takes
/// [`common::LINK`] each way: a round trip and some.
const NET_HOP: Duration = Duration::from_millis(50);

/// The overlay `adj` of servents playing `role` (searching with `ttl`), servent `i`
/// sharing `files(i)`.
fn overlay(
    adj: &[BTreeSet<usize>],
    role: Role,
    ttl: u8,
    files: impl Fn(usize) -> Library,
) -> TestNet<Servent> {
    let degree = adj.iter().map(BTreeSet::len).max().unwrap_or(1);
    build(adj, ttl, files, |c| {
        c.role = role;
        c.max_peers = degree;
        c.hop_wait = NET_HOP;
    })
}

/// Twenty files matching "tune" on every servent.
fn tunes(i: usize) -> Library {
    Library::synthetic((0..20).map(|k| (format!("tune {i} {k}.mp3"), 1_000)), 1)
}

#[test]
fn a_common_file_stops_after_the_probe_at_a_fraction_of_a_flood() {
    let adj = random_overlay(60, 3, 5);
    let searcher = (0..adj.len()).max_by_key(|&i| adj[i].len()).unwrap_or(0);
    assert!(
        adj[searcher].len() > PROBE_LINKS,
        "links left after the probe"
    );
    let mut net = overlay(&adj, Role::Ultrapeer, DEFAULT_TTL, tunes);
    let found = search(&mut net, searcher, "tune").expect("search").len();
    let outcome = last_outcome(net.node(searcher));
    assert_eq!(outcome.stop, Stop::Enough);
    assert_eq!(
        outcome.ttls, [PROBE_TTL; PROBE_LINKS],
        "the probe was enough"
    );
    assert!(found >= 150, "{found} hits");
    // The probe's links pass it to their other links with TTL 1, which go no further.
    let dynamic = sent(&net, "query");
    let max_degree = adj.iter().map(BTreeSet::len).max().unwrap_or(0) as u64;
    assert!(
        dynamic <= PROBE_LINKS as u64 * max_degree,
        "{dynamic} Queries"
    );
    let mut flood = overlay(&adj, Role::Flooding, DEFAULT_TTL, tunes);
    assert!(!search(&mut flood, searcher, "tune")
        .expect("search")
        .is_empty());
    let flooded = sent(&flood, "query");
    let reached: u64 = (0..flood.len())
        .map(|i| flood.node(i).queries_handled())
        .sum();
    assert_eq!(reached, 59, "the flood reaches everyone");
    assert!(
        dynamic * 5 < flooded,
        "{dynamic} Queries against the flood's {flooded}"
    );
}

/// The searcher 0 with four ultrapeer links, each the head of a chain of four servents;
/// servent 17 (if `holder`) at the end of every chain, five hops from the searcher.
fn four_chains(holder: bool) -> Vec<BTreeSet<usize>> {
    let mut adj = vec![BTreeSet::new(); 17 + usize::from(holder)];
    let mut link = |a: usize, b: usize| {
        adj[a].insert(b);
        adj[b].insert(a);
    };
    for chain in 0..4 {
        let head = 1 + chain * 4;
        link(0, head);
        for k in 0..3 {
            link(head + k, head + k + 1);
        }
        if holder {
            link(head + 3, 17);
        }
    }
    adj
}

fn rare(i: usize) -> Library {
    if i == 17 {
        one_file("Rare Bootleg 1969.ogg")
    } else {
        Library::default()
    }
}

#[test]
fn a_rare_file_five_hops_away_is_found_by_widening() {
    let mut net = overlay(&four_chains(true), Role::Ultrapeer, DEFAULT_TTL, rare);
    let hits = search(&mut net, 0, "bootleg").expect("search");
    assert_eq!(hits.len(), 1, "found");
    assert_eq!(
        hits[0].hops,
        Some(5),
        "five links: through the four servents of its chain to the holder"
    );
    let outcome = last_outcome(net.node(0));
    assert_eq!(
        outcome.ttls,
        [2, 2, 2, 5, 5, 5, 5],
        "probed, the fourth link as far as allowed, then the probed ones again as far"
    );
    assert_eq!((outcome.stop, outcome.results), (Stop::LinksUsed, 1));
}

#[test]
fn with_no_holder_the_search_ends_not_found_once_every_link_had_it() {
    let mut net = overlay(&four_chains(false), Role::Ultrapeer, DEFAULT_TTL, rare);
    let started = net.now();
    assert_eq!(search(&mut net, 0, "bootleg"), Ok(Vec::new()), "not found");
    let outcome = last_outcome(net.node(0));
    assert_eq!(
        (outcome.stop, outcome.ttls),
        (Stop::LinksUsed, vec![2, 2, 2, 5, 5, 5, 5])
    );
    assert_eq!(
        net.now().saturating_since(started),
        NET_HOP * (2 + 4 * 5),
        "reported when the last step's wait ended"
    );
    assert_eq!(
        net.node(0).metrics().sent["query"].messages,
        7,
        "one per link, and again deeper on each probed one"
    );
}

/// [`four_chains`] with a leaf (servent 18) under the searcher's ultrapeer, whose search
/// collects for `window`.
fn leaf_under_chains(window: Duration) -> TestNet<Servent> {
    let mut adj = four_chains(true);
    adj.push(BTreeSet::from([0]));
    adj[0].insert(18);
    build(&adj, DEFAULT_TTL, rare, |c| {
        c.role = if c.seed == 18 {
            Role::Leaf
        } else {
            Role::Ultrapeer
        };
        c.max_peers = 8;
        c.hop_wait = NET_HOP;
        c.search_window = window;
    })
}

#[test]
fn a_leaf_whose_search_closes_stops_its_ultrapeer() {
    let mut patient = leaf_under_chains(NET_HOP * 30);
    assert_eq!(patient.node(18).config().role, Role::Leaf);
    assert_eq!(
        search(&mut patient, 18, "bootleg").expect("search").len(),
        1
    );
    let widened = last_outcome(patient.node(0));
    assert!(widened.for_leaf);
    assert_eq!(
        (widened.stop, widened.ttls),
        (Stop::LinksUsed, vec![2, 2, 2, 5, 5, 5, 5])
    );
    // A leaf that gives up before the probe's wait ends tells its ultrapeer to stop.
    let mut hasty = leaf_under_chains(NET_HOP);
    assert!(search(&mut hasty, 18, "bootleg")
        .expect("search")
        .is_empty());
    hasty.run_for(NET_HOP * 10);
    let stopped = last_outcome(hasty.node(0));
    assert_eq!((stopped.stop, stopped.ttls), (Stop::Told, vec![2, 2, 2]));
    assert_eq!(hasty.node(0).metrics().sent["query"].messages, 3);
}

#[test]
fn a_copy_with_more_ttl_left_goes_on_unanswered_and_a_shallower_one_is_dropped() {
    let mut b = ultrapeer();
    let links: Vec<ConnId> = (0..3).map(|_| join(&mut b, ULTRAPEER)).collect();
    let copy =
        |ttl| Descriptor::new(Guid([4; 16]), ttl, Payload::Query(Query::new("abba"))).to_bytes();
    let first = b.recv(links[0], &copy(1));
    assert_eq!(
        descriptors(&first, links[0]).len(),
        1,
        "answered: abba gold.mp3"
    );
    assert!(queries(&first, &links).is_empty(), "TTL 1: no further");
    let deeper = b.recv(links[1], &copy(3));
    assert_eq!(
        queries(&deeper, &links),
        [(0, 2, 1), (2, 2, 1)],
        "on, as TTL 3 allows"
    );
    assert!(
        descriptors(&deeper, links[1]).is_empty(),
        "not answered twice"
    );
    assert!(
        b.recv(links[2], &copy(3)).is_empty(),
        "no more TTL than before: dropped"
    );
    assert_eq!(b.servent.queries_handled(), 1);
}

#[test]
fn a_leafs_query_already_seen_from_another_ultrapeer_is_a_duplicate_not_a_deeper_copy() {
    let mut b = ultrapeer();
    let links: Vec<ConnId> = (0..3).map(|_| join(&mut b, DEEPER)).collect();
    let leaf = join(&mut b, LEAF);
    let query =
        |ttl| Descriptor::new(Guid([6; 16]), ttl, Payload::Query(Query::new("zebra"))).to_bytes();
    // The leaf's other ultrapeer, querying for it, reached us first.
    let relayed = b.recv(links[0], &query(2));
    assert_eq!(queries(&relayed, &links).len(), 2, "flooded on with TTL 1");
    let own = b.recv(leaf, &query(DEFAULT_TTL));
    assert!(
        queries(&own, &links).is_empty(),
        "no second query, no flood at TTL 6"
    );
    assert!(b.servent.dynamic_outcomes().next().is_none());
    assert_eq!(b.servent.metrics().dropped["duplicate"], 1);
}

#[test]
fn a_leaf_gets_at_most_its_share_of_dynamic_queries_and_the_rest_are_dropped() {
    let mut b = ultrapeer();
    let links: Vec<ConnId> = (0..6).map(|_| join(&mut b, ULTRAPEER)).collect();
    let leaf = join(&mut b, LEAF);
    let busy = |b: &Bench| {
        b.servent
            .metrics()
            .dropped
            .get("dq_busy")
            .copied()
            .unwrap_or(0)
    };
    // Each of the leaf's own Queries, up to its share, starts a dynamic query: a probe.
    for guid in 1..=MAX_DYNAMIC_PER_SEARCHER {
        let query = zebra(guid as u8);
        let probe = queries(&b.recv(leaf, &query.to_bytes()), &links);
        assert_eq!(probe.len(), PROBE_LINKS, "query {guid}: {probe:?}");
    }
    assert_eq!(busy(&b), 0);
    // One more while all of them run goes nowhere, and is counted.
    let one_more = zebra(0xEE);
    assert!(queries(&b.recv(leaf, &one_more.to_bytes()), &links).is_empty());
    assert_eq!(busy(&b), 1);
}
