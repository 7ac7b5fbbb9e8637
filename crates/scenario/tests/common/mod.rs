//! What the scenario tests share: reading one phase out of a report, and running nodes in
//! this process.

#![allow(clippy::unwrap_used, dead_code)] // a test fails by panicking; each test uses a part

use std::path::Path;

use p2plab_scenario::report::{NetworkReport, PhaseReport};
use p2plab_scenario::spec::Network;
use p2plab_scenario::{Report, RunOptions};

/// `net` in the report's first run.
fn network(report: &Report, net: Network) -> &NetworkReport {
    let networks = &report.runs[0].networks;
    networks.iter().find(|n| n.network == net).unwrap()
}

/// The phase labelled `label` of `net` in the report's first run.
pub fn phase<'a>(report: &'a Report, net: Network, label: &str) -> &'a PhaseReport {
    let phases = &network(report, net).phases;
    phases.iter().find(|p| p.label == label).unwrap()
}

/// The same, after checking that the network became ready.
pub fn ready_phase<'a>(report: &'a Report, net: Network, label: &str) -> &'a PhaseReport {
    let n = network(report, net);
    assert!(
        n.ready,
        "{net} never became ready in {} mode: {:?} {:?}",
        report.mode, n.not_ready, n.failure
    );
    phase(report, net, label)
}

/// Every node a task of this process, scratch files under `scratch`, no progress shown.
pub fn in_process(scratch: &Path) -> RunOptions {
    RunOptions {
        scratch: scratch.to_owned(),
        processes: None,
        roster: None,
        progress: false,
        events: None,
    }
}
