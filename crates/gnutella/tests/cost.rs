//! Cost by cause: one search is charged exactly the flood the overlay predicts — its Query
//! copies and the QueryHits that come back — on graphs built link by link.

mod common;

use std::collections::BTreeSet;

use common::{bfs, build, one_file, search, sent};
use p2plab_gnutella::topology::random_overlay as random_graph;
use p2plab_gnutella::Servent;
use p2plab_netsim::TestNet;
use p2plab_peer_protocol::{Library, Node};

/// Messages charged to searches by all servents so far.
fn charged(net: &TestNet<Servent>) -> u64 {
    (0..net.len())
        .map(|i| net.node(i).metrics().search.messages)
        .sum()
}

/// The flood a query from `s` with TTL `t` costs on `adj`: the searcher sends it on all its
/// links; a servent at distance `1 <= d < t` (first reached along a shortest path, links
/// being equally fast) passes its first copy on to every other neighbour, and one at
/// distance `t` receives it with TTL 1 and stops it. Duplicates are dropped, not forwarded.
fn predicted_queries(adj: &[BTreeSet<usize>], s: usize, t: usize) -> usize {
    let dist = bfs(adj, s);
    adj[s].len()
        + (0..adj.len())
            .filter(|&v| dist[v].is_some_and(|d| d >= 1 && d < t))
            .map(|v| adj[v].len() - 1)
            .sum::<usize>()
}

/// Each holder within `t` hops sends one QueryHit, relayed back along the Query's path:
/// `d(holder)` messages.
fn predicted_hits(adj: &[BTreeSet<usize>], s: usize, t: usize, holders: &[usize]) -> usize {
    let dist = bfs(adj, s);
    holders
        .iter()
        .filter_map(|&h| dist[h].filter(|&d| d >= 1 && d <= t))
        .sum()
}

#[test]
fn a_search_is_charged_its_flood_and_its_hits_and_nothing_else() {
    // (servents, links each, seed, holders): trees and graphs with cycles; TTLs short
    // enough that the horizon cuts some holders off.
    let graphs: [(usize, usize, u64, &[usize]); 3] = [
        (12, 1, 1, &[3, 7, 11]),
        (20, 2, 2, &[1, 5, 9, 14, 19]),
        (30, 3, 4, &[2, 13, 21, 29]),
    ];
    for (n, links, seed, holders) in graphs {
        let adj = random_graph(n, links, seed);
        for ttl in 1..=4u8 {
            let t = usize::from(ttl);
            let files = |i| match holders.contains(&i) {
                true => one_file("needle.mp3"),
                false => Library::empty(),
            };
            let mut net = build(&adj, ttl, files, |_| {});
            let before = (charged(&net), sent(&net, "query"), sent(&net, "query_hit"));
            let hits = search(&mut net, 0, "needle").expect("connected");
            let queries = (sent(&net, "query") - before.1) as usize;
            let query_hits = (sent(&net, "query_hit") - before.2) as usize;
            let case = format!("n={n} links={links} ttl={ttl}");
            assert_eq!(queries, predicted_queries(&adj, 0, t), "{case}");
            assert_eq!(query_hits, predicted_hits(&adj, 0, t, holders), "{case}");
            assert_eq!(
                (charged(&net) - before.0) as usize,
                queries + query_hits,
                "{case}"
            );
            let reached = bfs(&adj, 0);
            let found = holders
                .iter()
                .filter(|&&h| reached[h].is_some_and(|d| d <= t))
                .count();
            assert_eq!(hits.len(), found, "{case}");
        }
    }
}

#[test]
fn pings_and_handshakes_are_never_charged_to_a_search() {
    let adj = random_graph(12, 2, 5);
    let net = build(&adj, 3, |_| Library::empty(), |_| {});
    assert!(sent(&net, "handshake") > 0);
    assert_eq!(charged(&net), 0, "no search ran");
}
