//! # p2plab-scenario
//!
//! Scenario files → clusters of Napster, Gnutella and Chord nodes → the same files, the
//! same queries and the same failures for each → one report that puts them side by side.
//!
//! ## Layout
//!
//! From the bottom up; a file only ever uses the ones above it in this list.
//!
//! - [`spec`] — the scenario file: networks, node counts (or a sweep), files, workload,
//!   per-network settings, the timeline; parsing that names the bad field and line.
//! - [`plan`] — the seeded plan: file names and sizes, placement, query sequences, victims.
//! - [`roster`] — who is up, and the seeded picks of victims and rejoiners.
//! - [`churn`] — when peers leave and come back in a churn step: periodic, Poisson or
//!   session churn.
//! - [`workload`] — judging each answer against the plan, and a phase's tally.
//! - [`hit_times`] — when a search's first and last hits came, beside its answer.
//! - [`ready`] — each network's own "ready to be asked" condition.
//! - [`stats`] — traffic over a phase, from the nodes' counters before and after.
//! - [`overlay`] — the Gnutella overlay the servents report, and its shape.
//! - [`misses`] — why each Gnutella false "not found" happened.
//! - [`memory`] — what a process's memory is, from `/proc`.
//! - [`machine`] — how busy the machine was in a phase, and when that makes its latencies
//!   a measure of the machine (saturated).
//! - [`report`], [`markdown`], [`charts`] — the numbers, the tables, the SVG charts;
//!   [`search_tables`] the tables of how searches behaved.
//! - [`spread`] — the headline figures over several seeds: means and 95% intervals.
//! - [`node_spec`] — one node to start, with all its settings: what both engines build a
//!   node from, and the JSON document a child process reads.
//! - [`timeline`] — the scenario's steps as a sans-IO state machine: it emits actions and
//!   takes back what happened; every pick, verdict and number is made there, once.
//! - [`neighbours`] — what every simulated node links to, read from its core: the
//!   snapshots a recorded run keeps for a replay to zoom into.
//! - [`live`] — what a run tells a watcher as it goes: phase reports and nodes joining,
//!   leaving, crashing, live over a channel that never holds the run up, or recorded into a
//!   log to replay.
//! - [`seat`] — [`seat::Seat`]: a control port with no node of its own, that starts the
//!   node the runner sends (`p2plab seat`), for nodes the runner does not launch.
//! - [`hosts`] — the roster file: each network's seats, their addresses and tokens.
//! - [`sockets`] — the engine of real nodes on loopback TCP (in this process or as child
//!   processes), or on a roster's seats, that plays the timeline.
//! - [`sim`] — the engine of the same cores on the simulator's virtual network and clock.
//!
//! ## Measuring honestly
//!
//! A query for an existing file succeeds only if a hit names a peer that was up and really
//! shares the file; queries whose holders are all down are counted apart; queries for files
//! that exist nowhere must find nothing. Messages per query are all messages sent by all
//! nodes during a query phase, divided by its queries, background traffic included (as a
//! user of the network would pay it); `wait` phases show the background alone.

pub(crate) mod charts;
pub(crate) mod churn;
pub mod hit_times;
pub mod hosts;
pub mod live;
pub mod machine;
pub mod markdown;
pub(crate) mod memory;
pub mod misses;
pub mod neighbours;
pub mod node_spec;
pub mod overlay;
pub(crate) mod plan;
pub(crate) mod ready;
pub mod report;
pub(crate) mod roster;
pub(crate) mod search_tables;
pub mod seat;
pub mod sim;
pub(crate) mod sockets;
pub mod spec;
pub mod spread;
pub(crate) mod stats;
pub(crate) mod timeline;
pub(crate) mod workload;

use std::path::{Path, PathBuf};

pub use report::Report;
pub use sockets::{run, Peer, RunOptions};
pub use spec::{load, parse, Scenario, SpecError};

/// Writes `report.json`, `report.md` and the SVG charts into `out`; returns the Markdown.
///
/// # Errors
/// If a file cannot be written.
pub fn write_report(report: &Report, out: &Path) -> anyhow::Result<(String, Vec<PathBuf>)> {
    std::fs::create_dir_all(out)?;
    let json = serde_json::to_string_pretty(report)?;
    std::fs::write(out.join("report.json"), json)?;
    let md = markdown::render(report);
    std::fs::write(out.join("report.md"), &md)?;
    let charts = charts::draw_all(report, &out.join("charts"))?;
    Ok((md, charts))
}
