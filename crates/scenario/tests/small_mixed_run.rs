//! A small mixed run end to end: ten peers per network on real loopback sockets, a query
//! phase, a quiet wait, the index server's death and a second query phase. The assertions
//! are on the report's content, never on timings.

#![allow(clippy::unwrap_used)] // a test fails by panicking

mod common;

use common::phase;
use p2plab_scenario::spec::Network;
use p2plab_scenario::{parse, run, write_report, RunOptions};

const SCENARIO: &str = r#"{
  "name": "small mixed run",
  "networks": ["napster", "gnutella", "chord"],
  "nodes": 10,
  "seed": 42,
  "files": { "count": 20, "copies": 2, "min_size": 1000, "max_size": 20000 },
  "workload": { "rate": 200, "zipf": 0.8, "missing_share": 0.2, "download_share": 0.5, "concurrency": 32 },
  "settings": {
    "gnutella": { "degree": 2, "max_peers": 6, "ttl": 7, "ping_ttl": 2, "ping_interval_s": 30, "search_window_ms": 400 },
    "chord": { "successors": 4, "replicas": 2, "stabilize_ms": 100, "fix_fingers_ms": 50, "join_batch": 3 }
  },
  "timeline": [
    { "start": { "label": "start", "settle_s": 0.5 } },
    { "queries": { "label": "warm", "count": 40 } },
    { "wait": { "label": "idle", "seconds": 0.5 } },
    { "kill_server": { "label": "server dies" } },
    { "queries": { "label": "after server", "count": 20 } }
  ]
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_peers_per_network_side_by_side() {
    let scenario = parse(SCENARIO).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let opts = RunOptions {
        scratch: scratch.path().join("scratch"),
        processes: None,
        roster: None,
        progress: false,
        events: None,
    };
    let report = run(&scenario, &opts).await.unwrap();
    assert_eq!(report.runs.len(), 1);
    assert_eq!(report.runs[0].nodes, 10);
    for net in [Network::Napster, Network::Gnutella, Network::Chord] {
        let n = report.runs[0]
            .networks
            .iter()
            .find(|n| n.network == net)
            .unwrap();
        assert!(n.ready, "{net} never became ready");
        assert_eq!(n.phases.len(), 5, "{net}: one report per step");
        let warm = phase(&report, net, "warm");
        assert_eq!(warm.queries, 40, "{net}");
        assert_eq!(warm.live_peers, 10);
        // Ten peers within TTL 7, an index and a ring: (nearly) every file with a holder is
        // found, and the report counts the rest as misses, not as successes.
        assert!(warm.success_rate.unwrap() >= 0.9, "{net}: {warm:?}");
        assert_eq!(warm.outcomes.total(), warm.queries, "{net}: {warm:?}");
        assert_eq!(
            warm.findable + warm.outcomes.unfindable + warm.missing,
            warm.queries
        );
        assert_eq!(warm.outcomes.wrong_hits, 0, "{net}");
        assert!(warm.missing > 0, "{net}: the plan asks for missing files");
        assert_eq!(
            warm.downloads_ok, warm.downloads,
            "{net}: every download verified"
        );
        assert!(warm.downloads > 0, "{net}");
        assert!(warm.search_messages_per_query.unwrap() > 0.0, "{net}");
        assert_eq!(
            warm.search_messages + warm.fetch_messages + warm.upkeep_messages,
            warm.messages,
            "{net}: every message has one cause"
        );
        assert!(warm.latency_ms.is_some());
    }
    // The index server carries (nearly) every Napster message; its death stops all search.
    let napster = phase(&report, Network::Napster, "warm");
    assert!(
        napster.busiest_node.starts_with("napster-server"),
        "{}",
        napster.busiest_node
    );
    assert!(napster.busiest_share.unwrap() > 0.9, "{napster:?}");
    let dead = phase(&report, Network::Napster, "after server");
    assert_eq!(dead.server_up, Some(false));
    assert_eq!(dead.found, 0);
    assert_eq!(dead.outcomes.errors, dead.queries, "{dead:?}");
    assert_eq!(
        phase(&report, Network::Napster, "warm").success_rate,
        Some(1.0)
    );
    // The others have no server to lose.
    for net in [Network::Gnutella, Network::Chord] {
        let after = phase(&report, net, "after server");
        assert!(after.success_rate.unwrap() >= 0.9, "{net}: {after:?}");
    }
    // Chord reports hops; a 10-node ring needs few.
    let chord = phase(&report, Network::Chord, "warm");
    assert!(chord.mean_hops.unwrap() <= 5.0, "{chord:?}");

    let out = scratch.path().join("out");
    let (md, charts) = write_report(&report, &out).unwrap();
    if let Ok(dir) = std::env::var("P2PLAB_KEEP_REPORT") {
        write_report(&report, std::path::Path::new(&dir)).unwrap();
    }
    assert!(md.contains("| 10 | warm | napster |"), "{md}");
    assert!(md.contains("| 10 | warm | chord |"), "{md}");
    assert!(md.contains("idle (wait)"), "{md}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["scenario"]["name"], "small mixed run");
    assert_eq!(json["runs"][0]["networks"][0]["phases"][1]["queries"], 40);
    assert!(charts.iter().any(|c| c.ends_with("success-rate.svg")));
    let svg = std::fs::read_to_string(out.join("charts/success-rate.svg")).unwrap();
    assert!(
        svg.contains("<svg") && svg.contains("gnutella"),
        "chart has a legend"
    );
}
