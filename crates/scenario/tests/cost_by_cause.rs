//! Cost by cause in the report, on the simulator: every phase's messages split exactly into
//! those searches caused, those downloads caused, and upkeep; and a query's cost is its own
//! messages, not the ring's upkeep that ran beside it.

#![allow(clippy::unwrap_used)] // a test fails by panicking

use p2plab_scenario::report::PhaseReport;
use p2plab_scenario::spec::Network;
use p2plab_scenario::{parse, sim};

/// A slow workload (10 queries a second) on a ring that stabilizes ten times a second:
/// during the query phase Chord's upkeep sends far more than its searches do.
const SCENARIO: &str = r#"{
  "name": "cost by cause",
  "networks": ["napster", "gnutella", "chord"],
  "nodes": 16,
  "seed": 11,
  "files": { "count": 40, "copies": 2, "min_size": 1000, "max_size": 5000 },
  "workload": { "rate": 10, "zipf": 0.5, "missing_share": 0.2, "download_share": 0.5, "concurrency": 4 },
  "settings": {
    "gnutella": { "degree": 2, "max_peers": 8, "ttl": 4, "ping_ttl": 1, "ping_interval_s": 2, "search_window_ms": 300 },
    "chord": { "successors": 4, "replicas": 2, "stabilize_ms": 100, "fix_fingers_ms": 50, "join_batch": 4 }
  },
  "timeline": [
    { "start": { "label": "start", "settle_s": 2 } },
    { "queries": { "label": "queries", "count": 40 } },
    { "wait": { "label": "idle", "seconds": 3 } }
  ]
}"#;

fn phases(net: Network) -> Vec<PhaseReport> {
    let scenario = parse(SCENARIO).unwrap();
    let report = sim::run(&scenario, false).unwrap().report;
    let network = report.runs[0]
        .networks
        .iter()
        .find(|n| n.network == net)
        .unwrap();
    assert!(network.ready, "{net}: {:?}", network.not_ready);
    network.phases.clone()
}

#[test]
fn every_phases_messages_are_search_fetch_or_upkeep_and_nothing_twice() {
    for net in [Network::Napster, Network::Gnutella, Network::Chord] {
        for p in phases(net) {
            let case = format!("{net} {}", p.label);
            assert_eq!(
                p.search_messages + p.fetch_messages + p.upkeep_messages,
                p.messages,
                "{case}"
            );
            assert_eq!(
                p.search_bytes + p.fetch_bytes + p.upkeep_bytes,
                p.bytes,
                "{case}"
            );
            if p.queries == 0 {
                assert_eq!(p.search_messages, 0, "{case}: no search, no search cost");
            } else {
                assert!(p.search_messages >= p.queries, "{case}: {p:?}");
                assert!(p.upkeep_messages_per_node_s.is_some(), "{case}");
            }
        }
    }
}

#[test]
fn a_chord_query_costs_far_less_than_the_rings_traffic_per_query() {
    let phases = phases(Network::Chord);
    let q = phases.iter().find(|p| p.label == "queries").unwrap();
    let search = q.search_messages_per_query.unwrap();
    let all = q.all_messages_per_query.unwrap();
    assert!(search * 4.0 < all, "search {search:.1}, all {all:.1}");
    assert!(q.upkeep_messages_per_node_s.unwrap() > 1.0, "{q:?}");
    // A lookup of the mean hops costs two messages a hop and the index read, at most.
    let hops = q.mean_hops.unwrap();
    assert!(
        search <= 2.0 * hops + 2.0 + 1e-9,
        "{search} > 2 x {hops} + 2"
    );
}

#[test]
fn napster_downloads_are_counted_in_their_phase_as_fetches() {
    let phases = phases(Network::Napster);
    let q = phases.iter().find(|p| p.label == "queries").unwrap();
    assert!(q.downloads > 0, "{q:?}");
    // Each download asks the index where the holder is (203) and gets its answer (204).
    assert!(q.fetch_messages >= 2 * q.downloads, "{q:?}");
}
