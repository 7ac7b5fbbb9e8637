//! The report: every number of a run, per node count, network and phase, as it goes into
//! `report.json`. [`crate::markdown`] and [`crate::charts`] draw from it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::spec::{Network, Scenario};

/// The shortest phase a per-second rate is given for: shorter ones (a kill) would turn a
/// handful of messages into an absurd rate.
pub const MIN_RATE_SECONDS: f64 = 0.25;
use crate::hit_times::HitTiming;
use crate::misses::MissCauses;
use crate::overlay::OverlayShape;
use crate::stats::Delta;
use crate::workload::Tally;

/// A whole run of a scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// The scenario as it was read.
    pub scenario: Scenario,
    /// Versions of the code that ran.
    pub versions: Versions,
    /// `in-process`, `processes`, or `sim` (the simulator: virtual time, no downloads).
    pub mode: String,
    /// One entry per node count (one, or one per sweep value).
    pub runs: Vec<RunReport>,
    /// The runner's own memory at the end, KiB (all in-process nodes live in it).
    pub runner_memory: Option<Memory>,
    /// Wall time of the whole scenario, seconds.
    pub wall_s: f64,
}

/// Versions of the crates that ran.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Versions {
    /// p2plab-scenario (all crates of the workspace share one version).
    pub p2plab: String,
}

impl Default for Versions {
    fn default() -> Self {
        Versions {
            p2plab: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// Resident and peak memory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memory {
    /// VmRSS, KiB.
    pub rss_kib: u64,
    /// VmHWM (peak resident), KiB.
    pub peak_kib: u64,
}

/// One node count.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    /// Peers per network.
    pub nodes: usize,
    /// One entry per network.
    pub networks: Vec<NetworkReport>,
}

/// One network in one run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NetworkReport {
    /// Which network.
    pub network: Network,
    /// Seconds from the first node started to the network ready.
    pub startup_s: f64,
    /// Whether it reached its readiness condition (see [`crate::ready`]).
    pub ready: bool,
    /// What it still lacked when the runner stopped waiting, if it never became ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_ready: Option<String>,
    /// Why the network could not be started, if it could not: it then has no phases, and
    /// the other networks of the run carry on without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Memory the network's nodes took: the runner's growth while starting it (in-process),
    /// or the sum over its child processes (processes).
    pub memory_kib: Option<u64>,
    /// One entry per timeline step.
    pub phases: Vec<PhaseReport>,
}

/// One phase (timeline step) of one network.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PhaseReport {
    /// The step's label.
    pub label: String,
    /// The step's kind.
    pub kind: String,
    /// How long it took, seconds.
    pub seconds: f64,
    /// Peers up at its end.
    pub live_peers: usize,
    /// Whether the index server (Napster) was up at its end.
    pub server_up: Option<bool>,
    /// Queries asked.
    pub queries: u64,
    /// Queries for files that had a live holder.
    pub findable: u64,
    /// Of those, found.
    pub found: u64,
    /// `found / findable`.
    pub success_rate: Option<f64>,
    /// Findable files answered with no hit.
    pub false_not_found: u64,
    /// Findable files answered only with dead or wrong holders.
    pub stale: u64,
    /// Searches that failed outright.
    pub errors: u64,
    /// Queries whose file had no live holder.
    pub unfindable: u64,
    /// Queries for files that exist nowhere.
    pub missing: u64,
    /// Of those, answered with hits (should be 0).
    pub wrong_hits: u64,
    /// Downloads tried (a sample of found files).
    pub downloads: u64,
    /// Downloads whose bytes matched.
    pub downloads_ok: u64,
    /// Search latency: from a query's start until the searcher had its answer (for
    /// Gnutella, the end of the search window), milliseconds.
    pub latency_ms: Option<Latency>,
    /// When the hits of the answered searches came, beside the search window
    /// ([`crate::hit_times`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hit_timing: Option<HitTiming>,
    /// Gnutella query phases: the overlay's shape at the phase's start, measured from the
    /// servents' own neighbour lists ([`crate::overlay`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlay: Option<OverlayShape>,
    /// Gnutella query phases: the false "not found"s by cause ([`crate::misses`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub miss_causes: Option<MissCauses>,
    /// Mean overlay hops of found queries, where the network reports hops.
    pub mean_hops: Option<f64>,
    /// Messages sent by all nodes during the phase.
    pub messages: u64,
    /// Those messages by kind (as each core names its messages).
    #[serde(default)]
    pub messages_by_kind: BTreeMap<String, u64>,
    /// Bytes sent by all nodes during the phase.
    pub bytes: u64,
    /// `messages / queries`.
    pub messages_per_query: Option<f64>,
    /// `bytes / queries`.
    pub bytes_per_query: Option<f64>,
    /// Messages sent per node per second: the background cost, on phases without queries
    /// (only for phases of at least [`MIN_RATE_SECONDS`]).
    pub messages_per_node_s: Option<f64>,
    /// The busiest node's share of all messages (sent or received by it).
    pub busiest_share: Option<f64>,
    /// The busiest node (kind and address).
    pub busiest_node: String,
}

/// Latency percentiles, milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest.
    pub max: f64,
}

impl Latency {
    /// The percentiles of a histogram of microseconds; `None` when it is empty.
    pub fn of(h: &hdrhistogram::Histogram<u64>) -> Option<Latency> {
        let ms = |q: f64| h.value_at_quantile(q) as f64 / 1_000.0;
        (!h.is_empty()).then(|| Latency {
            p50: ms(0.50),
            p95: ms(0.95),
            p99: ms(0.99),
            max: h.max() as f64 / 1_000.0,
        })
    }
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

impl PhaseReport {
    /// Fills the query and traffic numbers from a phase's tally and traffic.
    pub fn fill(&mut self, tally: &Tally, delta: &Delta) {
        self.queries = tally.queries;
        self.findable = tally.findable;
        self.found = tally.found;
        self.success_rate = ratio(tally.found, tally.findable);
        self.false_not_found = tally.false_not_found;
        self.stale = tally.stale;
        self.errors = tally.errors;
        self.unfindable = tally.unfindable;
        self.missing = tally.missing;
        self.wrong_hits = tally.wrong_hits;
        self.downloads = tally.downloads;
        self.downloads_ok = tally.downloads_ok;
        self.mean_hops = ratio(tally.hops_sum, tally.hops_n);
        self.latency_ms = Latency::of(&tally.latency);
        self.messages = delta.messages;
        self.messages_by_kind = delta.by_kind.clone();
        self.bytes = delta.bytes;
        self.messages_per_query = ratio(delta.messages, tally.queries);
        self.bytes_per_query = ratio(delta.bytes, tally.queries);
        self.messages_per_node_s = (delta.nodes > 0 && self.seconds >= MIN_RATE_SECONDS)
            .then(|| delta.messages as f64 / delta.nodes as f64 / self.seconds);
        self.busiest_share = delta.busiest_share();
        self.busiest_node = delta.busiest.clone();
    }
}
