//! # p2plab-scenario
//!
//! Scenario files → clusters of Napster, Gnutella and Chord nodes → the same files, the
//! same queries and the same failures for each → one report that puts them side by side.
//!
//! ## Layout
//!
//! - [`spec`] — the scenario file: networks, node counts (or a sweep), files, workload,
//!   per-network settings, the timeline; parsing that names the bad field and line.
//! - [`plan`] — the seeded plan: file names and sizes, placement, query sequences, victims.
//! - [`roster`] — who is up, and the seeded picks of victims and rejoiners.
//! - [`churn`] — when peers leave and come back in a churn step: periodic, Poisson or
//!   session churn.
//! - [`peer`] — [`Peer`]: a node in this process or a child process, driven the same way.
//! - [`process`] — starting `p2plab ... node` children and reading their ports and memory.
//! - [`cluster`] — all nodes of one network: start, restart, crash, who is up.
//! - [`ready`] — each network's own "ready to be asked" condition.
//! - [`workload`] — asking queries and judging each answer against the plan.
//! - [`stats`] — traffic over a phase, from the nodes' counters before and after.
//! - [`runner`] — plays the timeline on every network at once and measures each phase.
//! - [`sim`] — plays the same timeline on the simulator: the same cores on virtual time.
//! - [`report`], [`markdown`], [`charts`] — the numbers, the tables, the SVG charts.
//!
//! ## Measuring honestly
//!
//! A query for an existing file succeeds only if a hit names a peer that was up and really
//! shares the file; queries whose holders are all down are counted apart; queries for files
//! that exist nowhere must find nothing. Messages per query are all messages sent by all
//! nodes during a query phase, divided by its queries, background traffic included (as a
//! user of the network would pay it); `wait` phases show the background alone.

pub mod charts;
pub mod churn;
pub mod cluster;
pub mod markdown;
pub mod peer;
pub mod plan;
pub mod process;
pub mod ready;
pub mod report;
pub mod roster;
pub mod runner;
pub mod sim;
pub mod spec;
pub mod stats;
pub mod workload;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use peer::Peer;
pub use report::Report;
pub use runner::{run, RunOptions};
pub use spec::{load, parse, Scenario, SpecError};

/// The most peers per network a scenario may ask for: past this, one machine's ports and
/// file descriptors run out before the question is answered.
pub const MAX_NODES: usize = 5_000;

/// The most distinct files in a scenario (each one a name in every index).
pub const MAX_FILES: usize = 1_000_000;

/// The largest file size a scenario may ask for, bytes: downloads are checked in memory.
pub const MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;

/// The most queries one phase may ask.
pub const MAX_QUERIES_PER_PHASE: usize = 1_000_000;

/// The longest any one step may last, seconds (a day).
pub const MAX_SECONDS: f64 = 86_400.0;

/// The most steps in a timeline.
pub const MAX_STEPS: usize = 1_000;

/// How long the runner waits for a child node's control reply (a search's own timeout is
/// far shorter; this only catches a hung child).
pub const CONTROL_TIMEOUT: Duration = Duration::from_secs(90);

/// The shortest phase a per-second rate is given for: shorter ones (a kill) would turn a
/// handful of messages into an absurd rate.
pub const MIN_RATE_SECONDS: f64 = 0.25;

/// Stats requests in flight at once when reading a whole cluster.
pub const STATS_CONCURRENCY: usize = 128;

/// Downloads in flight at once per network.
pub const DOWNLOAD_CONCURRENCY: usize = 16;

/// How long a network may take to become ready: this, plus [`READY_TIMEOUT_PER_NODE`]
/// per peer. Past it the run goes on and the report says "not ready".
pub const READY_TIMEOUT_BASE: Duration = Duration::from_secs(20);

/// See [`READY_TIMEOUT_BASE`]. A Chord ring of a thousand nodes joining at once needs a few
/// minutes of stabilization on this 2-core machine before every successor is right; a
/// shorter wait measured a ring still forming rather than Chord.
pub const READY_TIMEOUT_PER_NODE: Duration = Duration::from_millis(300);

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
