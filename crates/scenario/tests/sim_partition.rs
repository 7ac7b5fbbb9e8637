//! A partition, on both engines: each side finds only what its own side holds, Napster's
//! far side loses its index server, and the network is whole again after the cut heals.
//! On real sockets every node's driver refuses traffic across the cut; the two reports
//! agree on what each side could find, and within noise on what it found.
//!
//! The cut lasts four seconds, forty of Chord's stabilize periods: every node drops each
//! successor across it, so each side closes into a ring of its own, and "whole again"
//! means the two rings merged (see `p2plab_chord::lost`).

#![allow(clippy::unwrap_used)] // a test fails by panicking

mod common;

use p2plab_scenario::report::PhaseReport;
use p2plab_scenario::spec::Network;
use p2plab_scenario::{parse, run, sim, Report};

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
  "timeline": [
    { "start": { "label": "start", "settle_s": 0.5 } },
    { "queries": { "label": "whole", "count": 60 } },
    { "partition": { "label": "cut", "groups": 2, "seconds": 4 } },
    { "wait": { "label": "healing", "seconds": 3 } },
    { "queries": { "label": "after", "count": 60 } }
  ]
}"#;

/// How far Napster's share of findable queries found during the cut may differ between the
/// engines: a search in flight when the cut began can fail on sockets where the
/// simulator's timing spared it. Chord's share is left out of the comparison: during the
/// cut its lookups that meet a finger across it wait out the RPC timeout, and on
/// a loaded machine that is most of the cut (one CI run measured 51% on sockets against
/// the simulator's 96%); its truth must still be the same, and the ring whole afterwards.
const CUT_SUCCESS_NOISE: f64 = 0.25;

fn phase(report: &Report, net: Network, label: &str) -> PhaseReport {
    common::phase(report, net, label).clone()
}

/// What the cut must do on either engine.
fn check_cut(report: &Report) {
    let (napster, chord) = (Network::Napster, Network::Chord);
    for net in [napster, chord] {
        let mode = &report.mode;
        assert_eq!(
            phase(report, net, "whole").success_rate,
            Some(1.0),
            "{mode} {net}"
        );
        assert_eq!(
            phase(report, net, "after").success_rate,
            Some(1.0),
            "{mode} {net}"
        );
        let cut = phase(report, net, "cut");
        assert_eq!(cut.kind, "partition");
        assert_eq!(cut.queries, 400);
        // With one copy of each file, about half of the queries ask for a file held across
        // the cut: those count as unfindable, not as failures of the asker's side.
        assert!(
            cut.outcomes.unfindable > 20 && cut.findable > 20,
            "{mode} {net}: {cut:?}"
        );
    }
    // Napster's peers on the far side cannot reach the index server: their searches fail.
    let cut = phase(report, napster, "cut");
    assert!(
        cut.outcomes.errors + cut.outcomes.false_not_found > 10,
        "{}: {cut:?}",
        report.mode
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_side_finds_only_its_own_and_the_network_is_whole_again_after() {
    let scenario = parse(SCENARIO).unwrap();
    let simulated = sim::run(&scenario, false).unwrap().report;
    check_cut(&simulated);
    let scratch = tempfile::tempdir().unwrap();
    let real = run(&scenario, &common::in_process(scratch.path()))
        .await
        .unwrap();
    check_cut(&real);
    for net in [Network::Napster, Network::Chord] {
        let (r, s) = (phase(&real, net, "cut"), phase(&simulated, net, "cut"));
        assert_eq!(
            (r.findable, r.outcomes.unfindable),
            (s.findable, s.outcomes.unfindable),
            "{net}: the same sides, the same truth"
        );
    }
    let (r, s) = (
        phase(&real, Network::Napster, "cut"),
        phase(&simulated, Network::Napster, "cut"),
    );
    let (rs, ss) = (r.success_rate.unwrap(), s.success_rate.unwrap());
    assert!(
        (rs - ss).abs() <= CUT_SUCCESS_NOISE,
        "napster: real {rs}, simulated {ss}"
    );
}
