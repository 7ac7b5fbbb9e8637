//! Every query lands in exactly one outcome: for every scenario in `scenarios/`, shrunk so
//! that it runs in seconds but with every one of its steps, every phase of every network
//! reports outcomes that add up to its queries — on the simulator, and for one scenario
//! on real loopback sockets. The sums are read from `report.json`'s own shape, as a reader
//! of the file would check them.

#![allow(clippy::unwrap_used)] // a test fails by panicking

mod common;

use std::path::{Path, PathBuf};

use p2plab_scenario::spec::{NodeCount, Step};
use p2plab_scenario::{load, run, sim, Report, Scenario};
use serde_json::Value;

/// Peers per network in a shrunk scenario: enough for a ring, an overlay and a kill.
const SHRUNK_PEERS: usize = 16;

/// The scenario files the project ships.
fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// `s` with at most `peers` peers, fewer files, and every step kept but short: a query
/// phase asks at most 30 queries, a timed step lasts at most 3 s.
fn shrink(mut s: Scenario, peers: usize) -> Scenario {
    let fewest = s.nodes.values().into_iter().min().unwrap_or(peers);
    s.nodes = NodeCount::One(fewest.min(peers));
    s.files.count = s.files.count.min(3 * peers);
    let cap = |x: &mut f64, max: f64| *x = x.min(max);
    for step in &mut s.timeline {
        match step {
            Step::Start { settle_s, .. } => cap(settle_s, 0.5),
            Step::Wait { seconds, .. } => cap(seconds, 1.0),
            Step::Queries { count, .. } => *count = (*count).min(30),
            Step::Churn { seconds, .. } | Step::Partition { seconds, .. } => cap(seconds, 3.0),
            Step::KillPeers { .. } | Step::KillServer { .. } => {}
        }
    }
    s
}

/// A phase's number field, read from the JSON a report is written as.
fn count(phase: &Value, field: &str) -> u64 {
    phase[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} in {phase}"))
}

/// Checks every phase of every network of `report`, through its JSON: the outcomes add up
/// to the queries, the classes (findable, unfindable, absent) too, and each class holds
/// its own outcomes. Returns how many queries were checked.
fn check_outcomes(report: &Report) -> u64 {
    let json = serde_json::to_value(report).unwrap();
    let mut checked = 0;
    for run in json["runs"].as_array().unwrap() {
        for net in run["networks"].as_array().unwrap() {
            for p in net["phases"].as_array().unwrap() {
                let at = format!("{} {} {}", report.scenario.name, net["network"], p["label"]);
                let o = &p["outcomes"];
                let outcomes: u64 = o
                    .as_object()
                    .unwrap()
                    .values()
                    .map(|v| v.as_u64().unwrap())
                    .sum();
                let queries = count(p, "queries");
                assert_eq!(
                    outcomes, queries,
                    "{at}: outcomes add up to the queries: {o}"
                );
                let (findable, missing) = (count(p, "findable"), count(p, "missing"));
                let unfindable = count(o, "unfindable");
                assert_eq!(
                    findable + missing + unfindable,
                    queries,
                    "{at}: classes add up"
                );
                assert_eq!(count(p, "found"), count(o, "found"), "{at}");
                let answered_findable =
                    count(o, "found") + count(o, "false_not_found") + count(o, "stale");
                let unanswered = count(o, "not_ready") + count(o, "errors");
                assert!(
                    (answered_findable..=answered_findable + unanswered).contains(&findable),
                    "{at}: findable queries are found, missed, stale, not ready or errors: {p}"
                );
                let answered_absent = count(o, "rightly_empty") + count(o, "wrong_hits");
                assert!(
                    (answered_absent..=answered_absent + unanswered).contains(&missing),
                    "{at}: absent files are answered empty, wrongly, or not at all: {p}"
                );
                assert_eq!(
                    findable - answered_findable + missing - answered_absent,
                    unanswered,
                    "{at}: every not-ready or failed query is findable or absent"
                );
                checked += queries;
            }
        }
    }
    checked
}

#[test]
fn every_phase_of_every_scenario_adds_up_on_the_simulator() {
    let files = scenario_files();
    assert!(files.len() >= 8, "{files:?}");
    for file in files {
        let scenario = shrink(load(&file).unwrap(), SHRUNK_PEERS);
        let report = sim::run(&scenario, false).unwrap().report;
        let checked = check_outcomes(&report);
        assert!(checked > 0, "{}: no query was asked", file.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_phase_of_the_default_tour_adds_up_on_sockets() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/default.json");
    let scenario = shrink(load(&file).unwrap(), 10);
    let scratch = tempfile::tempdir().unwrap();
    let report = run(&scenario, &common::in_process(scratch.path()))
        .await
        .unwrap();
    assert_eq!(report.runs[0].networks.len(), 3);
    assert!(check_outcomes(&report) > 0);
}
