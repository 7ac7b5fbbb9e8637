//! A network that cannot be started is reported, with the reason, and the run goes on.

#![allow(clippy::unwrap_used)] // a test fails by panicking

use p2plab_scenario::markdown::tables;
use p2plab_scenario::{parse, run, RunOptions};

const SCENARIO: &str = r#"{
  "name": "nodes that cannot start",
  "networks": ["napster", "gnutella", "chord"],
  "nodes": 3,
  "seed": 7,
  "files": { "count": 4, "copies": 1, "min_size": 100, "max_size": 200 },
  "workload": { "rate": 10, "zipf": 0.8, "missing_share": 0.0, "download_share": 0.0, "concurrency": 2 },
  "timeline": [
    { "start": { "label": "start", "settle_s": 0 } },
    { "queries": { "label": "ask", "count": 5 } }
  ]
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_network_that_fails_to_start_is_reported_not_fatal() {
    let scenario = parse(SCENARIO).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let missing = scratch.path().join("no-such-p2plab");
    let opts = RunOptions {
        scratch: scratch.path().join("scratch"),
        processes: Some(missing.clone()),
        roster: None,
        progress: false,
        events: None,
    };
    let report = run(&scenario, &opts).await.unwrap();
    let networks = &report.runs[0].networks;
    assert_eq!(networks.len(), 3, "every network has its report");
    for net in networks {
        let why = net.failure.as_deref().unwrap_or_default();
        assert!(why.contains("no-such-p2plab"), "{}: {why:?}", net.network);
        assert!(!net.ready);
        assert!(net.phases.is_empty(), "{}: no phases played", net.network);
    }
    assert!(tables(&report).contains("failed to start"));
}
