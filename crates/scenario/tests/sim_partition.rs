//! A partition, played by the simulator: each side finds only what its own side holds,
//! Napster's far side loses its index server, and the network is whole again after the cut
//! heals. Real sockets refuse the step before anything starts.

#![allow(clippy::unwrap_used)] // a test fails by panicking

use p2plab_scenario::report::PhaseReport;
use p2plab_scenario::{parse, run, sim, RunOptions};

const SCENARIO: &str = r#"{
  "name": "cut in two",
  "networks": ["napster", "chord"],
  "nodes": 12,
  "seed": 9,
  "files": { "count": 24, "copies": 1, "min_size": 100, "max_size": 1000 },
  "workload": { "rate": 100, "zipf": 0, "missing_share": 0, "download_share": 0, "concurrency": 16 },
  "settings": {
    "chord": { "successors": 4, "replicas": 2, "stabilize_ms": 100, "fix_fingers_ms": 50, "join_batch": 4 }
  },
  "engine": "sim",
  "timeline": [
    { "start": { "label": "start", "settle_s": 0.5 } },
    { "queries": { "label": "whole", "count": 60 } },
    { "partition": { "label": "cut", "groups": 2, "seconds": 1 } },
    { "wait": { "label": "healing", "seconds": 3 } },
    { "queries": { "label": "after", "count": 60 } }
  ]
}"#;

#[test]
fn each_side_finds_only_its_own_and_the_network_is_whole_again_after() {
    let scenario = parse(SCENARIO).unwrap();
    let report = sim::run(&scenario, false).unwrap().report;
    let phase = |net: usize, label: &str| -> PhaseReport {
        let phases = &report.runs[0].networks[net].phases;
        phases.iter().find(|p| p.label == label).unwrap().clone()
    };
    let (napster, chord) = (0, 1);
    for net in [napster, chord] {
        assert_eq!(phase(net, "whole").success_rate, Some(1.0), "{net}");
        assert_eq!(phase(net, "after").success_rate, Some(1.0), "{net}");
        let cut = phase(net, "cut");
        assert_eq!(cut.kind, "partition");
        assert_eq!(cut.queries, 100);
        // With one copy of each file, about half of the queries ask for a file held across
        // the cut: those count as unfindable, not as failures of the asker's side.
        assert!(cut.unfindable > 20 && cut.findable > 20, "{net}: {cut:?}");
    }
    // Napster's peers on the far side cannot reach the index server: their searches fail.
    assert!(
        phase(napster, "cut").errors > 10,
        "{:?}",
        phase(napster, "cut")
    );
}

#[tokio::test]
async fn real_sockets_refuse_a_partition_before_anything_starts() {
    let scenario = parse(&SCENARIO.replace(r#""engine": "sim","#, "")).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let opts = RunOptions {
        scratch: scratch.path().join("scratch"),
        processes: None,
        progress: false,
    };
    let err = run(&scenario, &opts).await.unwrap_err().to_string();
    assert!(
        err.starts_with("timeline[2].partition: only the simulator"),
        "{err}"
    );
    assert!(err.contains("--sim"), "{err}");
    assert!(!opts.scratch.exists(), "nothing started");
}
