//! Each network's trace is checked against what the protocol must do, computed here
//! independently: the Napster search touches only the searcher and the server; the Gnutella
//! flood reaches each servent at its BFS distance and no further than the TTL; every Chord
//! jump is the closest preceding node in the previous node's exact finger table, whether the
//! searcher asks each hop (iterative) or each hop passes the lookup on (recursive).

use std::collections::{BTreeSet, VecDeque};

use p2plab_napster::Kind as NapsterKind;
use p2plab_peer_protocol::{MessageKind, Query};
use p2plab_trace::catalogue;
use p2plab_trace::chord::{converged, successor_of};
use p2plab_trace::config::Routing;
use p2plab_trace::model::{Flood, RingFigure, RingNode};
use p2plab_trace::{run, Figure, Network, Role, Trace, TraceConfig};

fn trace(network: Network, tweak: impl FnOnce(&mut TraceConfig)) -> (TraceConfig, Trace) {
    let mut config = TraceConfig::new(network);
    tweak(&mut config);
    let trace = run(&config).expect("the search finishes");
    (config, trace)
}

fn matches(i: usize, seed: u64, query: &str) -> bool {
    let q = Query::parse(query);
    catalogue::library(i, seed)
        .files()
        .iter()
        .any(|f| q.matches(&f.name))
}

#[test]
fn napster_asks_the_server_once_and_no_peer_at_all() {
    let (config, trace) = trace(Network::Napster, |_| {});
    let Figure::Star(star) = &trace.figure else {
        panic!("not a star")
    };
    let kinds: Vec<&str> = trace.messages.iter().map(|m| m.kind).collect();
    let results = kinds
        .iter()
        .filter(|k| **k == NapsterKind::SearchResult.name())
        .count();
    assert_eq!(kinds.first(), Some(&NapsterKind::Search.name()));
    assert_eq!(kinds.last(), Some(&NapsterKind::SearchEnd.name()));
    assert_eq!(kinds.len(), results + 2);
    assert_eq!(results, trace.hits.len());
    for m in &trace.messages {
        let ends = BTreeSet::from([m.from, m.to]);
        assert_eq!(ends, BTreeSet::from([trace.origin, star.server]), "{m:?}");
    }
    let expected: Vec<usize> = (2..=config.nodes)
        .filter(|&i| matches(i, config.seed, &config.query))
        .collect();
    assert!(!expected.is_empty(), "the default query finds something");
    assert_eq!(star.holders, expected);
    assert!(
        trace.find(NapsterKind::Login.name()).is_some(),
        "the logins were recorded"
    );
}

/// More peers than the server lets wait for their login at once: the ones it turns away
/// retry, and the trace waits for every one before it searches.
#[test]
fn a_burst_of_logins_beyond_the_servers_bound_all_gets_in() {
    let peers = p2plab_napster::MAX_PENDING_LOGINS + 100;
    let (_, trace) = trace(Network::Napster, |c| c.nodes = peers);
    let Figure::Star(star) = &trace.figure else {
        panic!("not a star")
    };
    assert_eq!(star.peers.len(), peers);
    assert!(!trace.hits.is_empty());
}

fn bfs(n: usize, edges: &[(usize, usize)], src: usize) -> Vec<Option<u32>> {
    let mut adj = vec![Vec::new(); n];
    for &(a, b) in edges {
        adj[a].push(b);
        adj[b].push(a);
    }
    let mut dist = vec![None; n];
    dist[src] = Some(0);
    let mut queue = VecDeque::from([src]);
    while let Some(u) = queue.pop_front() {
        for &v in &adj[u] {
            if dist[v].is_none() {
                dist[v] = dist[u].map(|d| d + 1);
                queue.push_back(v);
            }
        }
    }
    dist
}

fn flood_of(trace: &Trace) -> &Flood {
    match &trace.figure {
        Figure::Flood(f) => f,
        _ => panic!("not a flood"),
    }
}

#[test]
fn the_flood_reaches_each_servent_at_its_bfs_distance_within_the_ttl() {
    for ttl in [2, 3, 7] {
        let (config, trace) = trace(Network::Gnutella, |c| c.ttl = ttl);
        let flood = flood_of(&trace);
        let overlay =
            p2plab_trace::gnutella::random_overlay(config.nodes, config.degree, config.seed);
        let built: Vec<(usize, usize)> = (0..config.nodes)
            .flat_map(|a| {
                overlay[a]
                    .iter()
                    .filter(move |&&b| a < b)
                    .map(move |&b| (a, b))
            })
            .collect();
        assert_eq!(flood.edges, built, "the overlay is the one built");
        let dist = bfs(config.nodes, &flood.edges, trace.origin);
        let expected: Vec<Option<u32>> = dist
            .iter()
            .map(|d| d.filter(|&d| d <= u32::from(ttl)))
            .collect();
        assert_eq!(flood.hop, expected, "TTL {ttl}");
        for &(from, to, _, dup) in &flood.copies {
            let (hf, ht) = (
                flood.hop[from].expect("a sender was reached"),
                flood.hop[to],
            );
            assert!(hf < u32::from(ttl), "a copy leaves only with TTL left");
            assert_eq!(dup, ht != Some(hf + 1) || flood.parent[to] != Some(from));
        }
        let holders: BTreeSet<usize> = (0..config.nodes)
            .filter(|&i| i != trace.origin && expected[i].is_some())
            .filter(|&i| matches(i, config.seed, &config.query))
            .collect();
        assert_eq!(
            flood.holders.iter().copied().collect::<BTreeSet<_>>(),
            holders
        );
    }
}

#[test]
fn every_query_hit_retraces_the_query_tree() {
    let (_, trace) = trace(Network::Gnutella, |c| c.ttl = 3);
    let flood = flood_of(&trace);
    assert!(!flood.hit_links.is_empty());
    for &(from, to) in &flood.hit_links {
        assert_eq!(
            flood.parent[from],
            Some(to),
            "{from} sends hits to its parent only"
        );
    }
    let dups = trace
        .messages
        .iter()
        .filter(|m| m.role == Role::Duplicate)
        .count();
    assert_eq!(dups, flood.copies.iter().filter(|c| c.3).count());
}

fn ring_of(trace: &Trace) -> &RingFigure {
    match &trace.figure {
        Figure::Ring(r) => r,
        _ => panic!("not a ring"),
    }
}

/// x ∈ (a, b) on the circle modulo 2^bits.
fn in_open(x: u64, a: u64, b: u64, bits: u32) -> bool {
    let m = 1u64 << bits;
    let (dx, db) = ((x + m - a) % m, (b + m - a) % m);
    dx > 0 && (dx < db || db == 0)
}

/// The paper's closest_preceding_node, over fingers and successor list.
fn closest_preceding(n: &RingNode, key: u64, bits: u32) -> Option<u64> {
    let m = 1u64 << bits;
    n.fingers
        .iter()
        .flatten()
        .chain(&n.successors)
        .copied()
        .filter(|&x| in_open(x, n.id, key, bits))
        .min_by_key(|&x| (key + m - x) % m)
}

#[test]
fn chord_jumps_follow_the_finger_tables_to_the_keys_successor() {
    let runs = [(1, 10), (2, 12), (3, 8)]
        .into_iter()
        .flat_map(|run| [(run, Routing::Iterative), (run, Routing::Recursive)]);
    for ((seed, bits), routing) in runs {
        let (_, trace) = trace(Network::Chord, |c| {
            c.seed = seed;
            c.id_bits = bits;
            c.routing = routing;
        });
        let ring = ring_of(&trace);
        assert!(converged(&ring.nodes, ring.bits), "tables are exact");
        let mut ids: Vec<u64> = ring.nodes.iter().map(|n| n.id).collect();
        ids.sort_unstable();
        let owner = ring.owner.expect("an owner");
        assert_eq!(ring.nodes[owner].id, successor_of(&ids, ring.key));
        let mut at = trace.origin;
        for jump in &ring.jumps {
            assert_eq!(jump.from, at, "each jump starts where the last one led");
            let want = closest_preceding(&ring.nodes[at], ring.key, ring.bits);
            assert_eq!(
                Some(ring.nodes[jump.to].id),
                want,
                "seed {seed}, {routing:?}: {jump:?}"
            );
            at = jump.to;
        }
        assert_eq!(ring.nodes[at].successors[0], ring.nodes[owner].id);
        let n = ring.nodes.len() as f64;
        assert!(
            ring.jumps.len() as f64 <= n.log2().ceil() + 1.0,
            "O(log N) hops"
        );
        assert!(!trace.hits.is_empty());
    }
}

/// The lookup's messages of a Chord trace, as (kind, from, to).
fn lookup_messages(trace: &Trace) -> Vec<(&'static str, usize, usize)> {
    let lookup = [
        "find_successor",
        "closer_nodes",
        "successor_is",
        "route_recursive",
        "recursive_found",
    ];
    trace
        .messages
        .iter()
        .filter(|m| lookup.contains(&m.kind))
        .map(|m| (m.kind, m.from, m.to))
        .collect()
}

/// On exact tables both routings choose the same hops; they differ in who sends what. The
/// searcher asks each hop and each answers it (two messages a hop), or the hops pass the
/// lookup along a chain and the last one answers (one a hop, and one answer).
#[test]
fn iterative_asks_every_hop_from_the_searcher_and_recursive_passes_it_along() {
    let (_, iterative) = trace(Network::Chord, |_| {});
    let (_, recursive) = trace(Network::Chord, |c| c.routing = Routing::Recursive);
    let (a, b) = (ring_of(&iterative), ring_of(&recursive));
    let hops = |r: &RingFigure| r.jumps.iter().map(|j| j.to).collect::<Vec<_>>();
    assert!(a.jumps.len() >= 2, "the lookup crosses the ring");
    assert_eq!(hops(a), hops(b), "the same hops");
    assert_eq!((a.owner, iterative.origin), (b.owner, recursive.origin));
    let origin = iterative.origin;

    let asked = lookup_messages(&iterative);
    let mut want = Vec::new();
    for (k, &hop) in hops(a).iter().enumerate() {
        let last = k + 1 == a.jumps.len();
        want.push(("find_successor", origin, hop));
        want.push((
            if last { "successor_is" } else { "closer_nodes" },
            hop,
            origin,
        ));
    }
    assert_eq!(asked, want, "iterative: question and answer per hop");

    let passed = lookup_messages(&recursive);
    let mut want = Vec::new();
    let mut at = origin;
    for &hop in &hops(b) {
        want.push(("route_recursive", at, hop));
        at = hop;
    }
    want.push(("recursive_found", at, origin));
    assert_eq!(passed, want, "recursive: a chain and one answer");
    let records = |t: &Trace| {
        let mut r: Vec<String> = t
            .hits
            .iter()
            .map(|h| format!("{} {}", h.name, h.holder))
            .collect();
        r.sort_unstable();
        r
    };
    assert!(!iterative.hits.is_empty());
    assert_eq!(
        records(&recursive),
        records(&iterative),
        "the same records either way"
    );
}

#[test]
fn the_same_seed_gives_the_same_trace() {
    for network in [Network::Napster, Network::Gnutella, Network::Chord] {
        let a = p2plab_trace::text::render(&trace(network, |_| {}).1);
        let b = p2plab_trace::text::render(&trace(network, |_| {}).1);
        assert_eq!(a, b);
    }
}

#[test]
fn every_picture_names_every_node() {
    for network in [Network::Napster, Network::Gnutella] {
        let (_, trace) = trace(network, |_| {});
        let svg = p2plab_trace::svg::render(&trace);
        for label in &trace.labels {
            assert!(
                svg.contains(&format!(">{label}</text>")),
                "{network}: {label}"
            );
        }
    }
    let (_, trace) = trace(Network::Chord, |_| {});
    let svg = p2plab_trace::svg::render(&trace);
    for n in &ring_of(&trace).nodes {
        assert!(svg.contains(&format!(">{}</text>", n.id)));
    }
}
