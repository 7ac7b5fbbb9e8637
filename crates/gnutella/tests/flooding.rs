//! Flooding on random overlays, checked against a BFS of the graph: a Query with TTL t is
//! handled once by exactly the servents within t hops; each QueryHit retraces its Query's path;
//! cycles cost duplicates that are dropped, never re-forwarded; beyond the TTL horizon a file
//! is simply not found.

mod common;

use std::collections::BTreeSet;

use common::{bfs, build, dropped, one_file, search, sent};
use p2plab_gnutella::topology::random_overlay as random_graph;
use p2plab_gnutella::{Descriptor, Payload};
use p2plab_peer_protocol::{Holder, Library, Node, WireMessage};

/// (servents, links per servent, seed): sparse to dense, trees to many cycles.
const GRAPHS: [(usize, usize, u64); 4] = [(12, 1, 1), (20, 2, 2), (40, 2, 3), (30, 3, 4)];

#[test]
fn a_query_reaches_exactly_the_servents_within_its_ttl_once_each() {
    for (n, links, seed) in GRAPHS {
        let adj = random_graph(n, links, seed);
        let dist = bfs(&adj, 0);
        for ttl in 1..=4u8 {
            let mut net = build(&adj, ttl, |_| Library::empty(), |_| {});
            let before: Vec<u64> = (0..n).map(|i| net.node(i).queries_handled()).collect();
            let hits = search(&mut net, 0, "nothing matches this").expect("connected");
            assert!(hits.is_empty());
            for i in 0..n {
                let handled = net.node(i).queries_handled() - before[i];
                let within = dist[i].is_some_and(|d| d > 0 && d <= usize::from(ttl));
                assert_eq!(
                    handled,
                    u64::from(within),
                    "n={n} links={links} ttl={ttl}: servent {i} at distance {:?}",
                    dist[i]
                );
            }
            if links == 1 {
                assert_eq!(dropped(&net, "duplicate"), 0, "a tree has no cycles");
            }
        }
    }
}

#[test]
fn cycles_cost_duplicates_which_are_dropped_not_forwarded() {
    let adj = random_graph(30, 3, 4);
    let dist = bfs(&adj, 0);
    let mut net = build(&adj, 7, |_| Library::empty(), |_| {});
    let queries_before = sent(&net, "query");
    search(&mut net, 0, "nothing").expect("connected");
    let queries = sent(&net, "query") - queries_before;
    // Every servent sends the Query once on every link but the one it came in on (the source
    // on all of its links), unless the TTL ran out. With TTL 7 on this small graph, nobody runs
    // out, so the count is exact: deg(0) + sum over the others of (deg - 1).
    let expected: usize = adj[0].len() + (1..30).map(|i| adj[i].len() - 1).sum::<usize>();
    assert!(dist.iter().all(|d| d.is_some_and(|d| d < 7)));
    assert_eq!(queries, expected as u64);
    // Every copy beyond the first at each servent (the source included) was a duplicate.
    let first_copies = 29;
    assert_eq!(dropped(&net, "duplicate"), queries - first_copies);
}

#[test]
fn each_query_hit_retraces_its_querys_path() {
    for (n, links, seed) in GRAPHS {
        let adj = random_graph(n, links, seed);
        let dist = bfs(&adj, 0);
        let ttl = 3;
        let mut net = build(
            &adj,
            ttl,
            |i| one_file(&format!("common song {i}.mp3")),
            |_| {},
        );
        let hits_before = sent(&net, "query_hit");
        let hits = search(&mut net, 0, "common song").expect("connected");
        let holders: Vec<usize> = (1..n)
            .filter(|&i| dist[i].is_some_and(|d| d <= usize::from(ttl)))
            .collect();
        assert_eq!(
            hits.len(),
            holders.len(),
            "n={n}: one hit per servent in range"
        );
        let mut path_links = 0;
        for hit in &hits {
            let Holder::Http { addr, index } = hit.holder else {
                panic!("gnutella hits are http: {hit:?}");
            };
            let i = net.idx_of(addr).expect("a servent's advertised address");
            let d = dist[i].expect("reachable");
            assert_eq!(index, 0);
            assert_eq!(hit.name, format!("common song {i}.mp3"));
            assert_eq!(hit.hops, Some(d as u32), "servent {i} is {d} links away");
            path_links += d as u64;
        }
        // Each QueryHit crossed exactly the links of its path, once: no flooding of answers.
        assert_eq!(sent(&net, "query_hit") - hits_before, path_links);
        assert_eq!(dropped(&net, "unroutable"), 0);
    }
}

/// A path 0 - 1 - ... - (n-1), each servent linked to the one before and the one after.
fn line(n: usize) -> Vec<BTreeSet<usize>> {
    (0..n)
        .map(|i| {
            [i.checked_sub(1), (i + 1 < n).then_some(i + 1)]
                .into_iter()
                .flatten()
                .collect()
        })
        .collect()
}

/// A – B – C – D with the file on D alone: D's QueryHit leaves it with Hops 0, C and B each
/// add one as they pass it back, so A gets it with Hops 2 — and the hit, and the search's
/// path length, say 3: the links between A and D.
#[test]
fn a_hit_three_links_away_arrives_with_hops_2_and_counts_3_links() {
    let (a, d) = (0, 3);
    let files = |i: usize| {
        if i == d {
            one_file("rare bootleg.ogg")
        } else {
            Library::empty()
        }
    };
    let mut net = build(&line(4), 7, files, |_| {});
    net.record();
    let hits = search(&mut net, a, "rare bootleg").expect("connected");
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].hops, Some(3), "A and D are three links apart");
    let hit_hops: Vec<u8> = delivered_to(&mut net, a)
        .into_iter()
        .filter(|(_, desc)| matches!(desc.payload, Payload::QueryHit(_)))
        .map(|(from, desc)| {
            assert_eq!(from, 1, "the hit comes back through B");
            desc.hops
        })
        .collect();
    assert_eq!(hit_hops, [2], "the wire's Hops field on arrival");
    assert_eq!(net.node(a).metrics().mean_hops(), Some(3.0));
}

#[test]
fn a_file_beyond_the_ttl_horizon_is_not_found() {
    // A path 0 - 1 - 2 - 3 - 4 - 5: the file sits 5 links away.
    let adj = line(6);
    let files = |i: usize| {
        if i == 5 {
            one_file("rare bootleg.ogg")
        } else {
            Library::empty()
        }
    };
    for ttl in 1..=7u8 {
        let mut net = build(&adj, ttl, files, |_| {});
        let hits = search(&mut net, 0, "rare bootleg").expect("connected");
        assert_eq!(hits.len(), usize::from(ttl >= 5), "ttl {ttl}");
    }
}

/// Every descriptor in what the network delivered to `to`, with who sent it.
fn delivered_to(
    net: &mut p2plab_netsim::TestNet<p2plab_gnutella::Servent>,
    to: usize,
) -> Vec<(usize, Descriptor)> {
    let mut found = Vec::new();
    for t in net.take_trace().into_iter().filter(|t| t.to == to) {
        let mut bytes = &t.bytes[..];
        while let Ok((d, used)) = Descriptor::decode(bytes) {
            found.push((t.from, d));
            bytes = &bytes[used..];
        }
    }
    found
}

/// The spec's reply TTL: an answer starts with the hops its request traversed, so it reaches
/// the requester with exactly TTL 1 — from a direct neighbour (TTL 1, hops 0) as from three
/// links away (TTL 3, hops 2 on arrival) — and no hop is wasted or missing.
#[test]
fn answers_start_with_the_hops_their_request_crossed_and_arrive_with_ttl_1() {
    // A path 0 - 1 - 2 - 3; everyone but the searcher holds the file.
    let adj: Vec<BTreeSet<usize>> = (0..4usize)
        .map(|i| {
            [i.checked_sub(1), (i < 3).then_some(i + 1)]
                .into_iter()
                .flatten()
                .collect()
        })
        .collect();
    let files = |i: usize| {
        if i == 0 {
            Library::empty()
        } else {
            one_file("abba gold.mp3")
        }
    };
    let mut net = build(&adj, 7, files, |_| {});
    net.record();
    let hits = search(&mut net, 0, "abba").expect("connected");
    assert_eq!(hits.len(), 3, "all three holders found");
    let answers: Vec<(u8, u8)> = delivered_to(&mut net, 0)
        .into_iter()
        .filter(|(from, d)| *from == 1 && matches!(d.payload, Payload::QueryHit(_)))
        .map(|(_, d)| (d.ttl, d.hops))
        .collect();
    assert_eq!(answers.len(), 3);
    for hops in 0..3 {
        assert!(answers.contains(&(1, hops)), "{answers:?}");
    }
    // Servent 1 answered directly with TTL 1: what it sent 2 came back from 2 at TTL 2.
    net.record();
    net.command(
        1,
        p2plab_peer_protocol::Command::Search {
            request: p2plab_peer_protocol::RequestId(9),
            query: "abba".into(),
        },
    );
    net.run_for(std::time::Duration::from_secs(3));
    let at_1: Vec<(u8, u8)> = delivered_to(&mut net, 1)
        .into_iter()
        .filter(|(from, d)| *from == 2 && matches!(d.payload, Payload::QueryHit(_)))
        .map(|(_, d)| (d.ttl, d.hops))
        .collect();
    assert_eq!(at_1.len(), 2, "{at_1:?}");
    assert!(at_1.contains(&(1, 0)) && at_1.contains(&(1, 1)), "{at_1:?}");
}
