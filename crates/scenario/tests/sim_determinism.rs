//! The simulator replays a scenario exactly: one seed, one run, event for event; another
//! seed, another run.

#![allow(clippy::unwrap_used)] // a test fails by panicking

use p2plab_scenario::report::RunReport;
use p2plab_scenario::sim::{self, SimRun};
use p2plab_scenario::{markdown, parse};

/// The small mixed scenario of `small_mixed_run.rs`, with a seed to vary.
fn scenario(seed: u64) -> String {
    format!(
        r#"{{
  "name": "small mixed run",
  "networks": ["napster", "gnutella", "chord"],
  "nodes": 10,
  "seed": {seed},
  "files": {{ "count": 20, "copies": 2, "min_size": 1000, "max_size": 20000 }},
  "workload": {{ "rate": 200, "zipf": 0.8, "missing_share": 0.2, "download_share": 0.5, "concurrency": 32 }},
  "settings": {{
    "gnutella": {{ "degree": 2, "max_peers": 6, "ttl": 7, "ping_ttl": 2, "ping_interval_s": 30, "search_window_ms": 400 }},
    "chord": {{ "successors": 4, "replicas": 2, "stabilize_ms": 100, "fix_fingers_ms": 50, "join_batch": 3 }}
  }},
  "timeline": [
    {{ "start": {{ "label": "start", "settle_s": 0.5 }} }},
    {{ "queries": {{ "label": "warm", "count": 40 }} }},
    {{ "wait": {{ "label": "idle", "seconds": 0.5 }} }},
    {{ "kill_peers": {{ "label": "a third dies", "fraction": 0.3 }} }},
    {{ "kill_server": {{ "label": "server dies" }} }},
    {{ "churn": {{ "label": "churn", "seconds": 2, "joins_per_s": 2, "leaves_per_s": 2, "crash": false }} }},
    {{ "queries": {{ "label": "after", "count": 20 }} }}
  ]
}}"#
    )
}

fn simulate(seed: u64) -> SimRun {
    sim::run(&parse(&scenario(seed)).unwrap(), false).unwrap()
}

/// The report's numbers without what the machine measured (wall time and memory).
fn numbers(run: &SimRun) -> String {
    let runs: Vec<RunReport> = run
        .report
        .runs
        .iter()
        .cloned()
        .map(|mut r| {
            for n in &mut r.networks {
                n.memory_kib = None;
            }
            r
        })
        .collect();
    serde_json::to_string(&runs).unwrap()
}

fn digests(run: &SimRun) -> Vec<(String, u64, u64)> {
    run.networks
        .iter()
        .map(|n| (n.network.to_string(), n.events, n.digest))
        .collect()
}

#[test]
fn one_seed_gives_one_run_and_another_seed_another() {
    let a = simulate(42);
    let b = simulate(42);
    assert_eq!(a.report.mode, "sim");
    assert_eq!(digests(&a), digests(&b));
    assert_eq!(numbers(&a), numbers(&b));
    // The run did something in every network: queries asked, answers judged, events fed.
    let warm = |net: usize| &a.report.runs[0].networks[net].phases[1];
    for net in 0..3 {
        assert_eq!(warm(net).queries, 40);
        assert!(warm(net).found > 0, "{:?}", warm(net));
        assert!(a.networks[net].events > 100, "{:?}", a.networks[net]);
    }
    // Downloads travel the virtual network too, every byte checked against the plan.
    for net in 0..3 {
        let w = warm(net);
        assert!(w.downloads > 0 && w.downloads_ok == w.downloads, "{w:?}");
    }
    let md = markdown::render(&a.report);
    assert!(md.contains("mode sim"), "{md}");
    let c = simulate(43);
    for (x, y) in digests(&a).iter().zip(&digests(&c)) {
        assert_ne!(x.2, y.2, "{}: another seed, another trace", x.0);
    }
    assert_ne!(numbers(&a), numbers(&c));
}
