//! The Chord paper's simulation experiments (Stoica et al., SIGCOMM 2001, §6 — the
//! set-ups the four below follow; the ToN 2003 version re-ran the failure experiments
//! differently), run on the unchanged Chord core under both [`rules`], each from a file in
//! `scenarios/chord-paper/`.
//!
//! - [`spec`] — the experiment files and their parser, which names a bad field and line.
//! - [`rules`] — the paper simulator's lookup rules and p2plab's, side by side.
//! - [`path_length`] — 1. path length against N, against (1/2) log2 N (§6.3, Fig. 10).
//! - [`keys_per_node`] — 2. keys per node, 1 and 20 virtual nodes (§6.2, Fig. 8, 9);
//!   hashing only, no messages.
//! - [`failures`] — 3. failed lookups after a fraction p of the nodes fail at once (§6.4,
//!   Fig. 11).
//! - [`churn`] — 4. failed lookups under Poisson joins and failures at rate R (§6.5,
//!   Fig. 12).
//! - [`report`] — what each writes: `table.md`, `table.json`, `plot.svg`.

pub mod churn;
pub mod failures;
pub mod keys_per_node;
pub mod path_length;
pub mod report;
pub mod rules;
pub mod spec;

use std::path::Path;

pub use report::Report;
pub use spec::{load, parse, Experiment};

/// Runs an experiment.
///
/// # Errors
/// When a ring does not become exact (see [`crate::chord::SimRing::build`]).
pub fn run(experiment: &Experiment) -> anyhow::Result<Report> {
    match experiment {
        Experiment::PathLength(s) => path_length::run(s),
        Experiment::KeysPerNode(s) => Ok(keys_per_node::run(s)),
        Experiment::Failures(s) => failures::run(s),
        Experiment::Churn(s) => churn::run(s),
    }
}

/// Runs the experiment in `file` and writes its report into `out`.
///
/// # Errors
/// When the file does not parse, the experiment fails, or the report cannot be written.
pub fn run_file(file: &Path, out: &Path) -> anyhow::Result<Report> {
    let report = run(&load(file)?)?;
    report.write(out)?;
    Ok(report)
}
