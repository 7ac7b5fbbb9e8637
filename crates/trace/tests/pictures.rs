//! Each network's trace is checked against what the protocol must do, computed here
//! independently: the Napster search touches only the searcher and the server; the Gnutella
//! flood reaches each servent at its BFS distance and no further than the TTL; every Chord
//! jump is the closest preceding node in the previous node's exact finger table.

use std::collections::{BTreeSet, VecDeque};

use p2plab_napster::Kind as NapsterKind;
use p2plab_peer_protocol::{MessageKind, Query};
use p2plab_trace::catalogue;
use p2plab_trace::chord::{converged, successor_of};
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
    for (seed, bits) in [(1, 10), (2, 12), (3, 8)] {
        let (_, trace) = trace(Network::Chord, |c| {
            c.seed = seed;
            c.id_bits = bits;
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
            assert_eq!(Some(ring.nodes[jump.to].id), want, "seed {seed}: {jump:?}");
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
