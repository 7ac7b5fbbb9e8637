//! The report: every number of a run, per node count, network and phase, as it goes into
//! `report.json`. [`crate::markdown`] and [`crate::charts`] draw from it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::machine::MachineLoad;
use crate::spec::{Network, Scenario};
use crate::spread::SeedSpread;

/// The shortest phase a per-second rate is given for: shorter ones (a kill) would turn a
/// handful of messages into an absurd rate.
pub const MIN_RATE_SECONDS: f64 = 0.25;
use crate::hit_times::HitTiming;
use crate::misses::MissCauses;
use crate::overlay::OverlayShape;
use crate::stats::Delta;
use crate::workload::{Outcomes, Tally};

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
    /// The headline figures over several seeds on the simulator, with 95% intervals (see
    /// [`crate::spread`]); absent when the run is one seed alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spread: Option<SeedSpread>,
    /// The same figures at a few network sizes on the simulator (`p2plab compare`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling: Option<SeedSpread>,
    /// Where each node ran, when a roster placed them (mode `roster`); empty when the
    /// runner started every node itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub placement: Vec<Placed>,
}

/// One node of a roster run, and the seat it ran on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Placed {
    /// Its network.
    pub network: Network,
    /// `server`, or `p<i>` for peer i.
    pub node: String,
    /// Where it listened, as its peers reached it.
    pub listen: std::net::SocketAddr,
    /// The seat's control port, through which the runner drove it.
    pub control: std::net::SocketAddr,
}

impl Report {
    /// The simulator's latency model for `s`, in words.
    pub fn sim_model(s: &Scenario) -> String {
        format!(
            "virtual time, one-way latency {} per message, loss {}",
            s.sim_latency(),
            s.sim.loss
        )
    }

    /// What a latency of this report is made of, in a sentence.
    pub fn latency_model(&self) -> String {
        let s = &self.scenario;
        if self.mode == crate::sim::MODE {
            return format!("{}; the machine adds nothing", Report::sim_model(s));
        }
        let held = s
            .latency_ms
            .map_or_else(String::new, |l| format!(" plus {l} held per message"));
        if self.placement.is_empty() {
            format!("real loopback TCP on this machine{held}: the machine's scheduling included")
        } else {
            format!(
                "real TCP between the roster's hosts{held}: their network and scheduling included"
            )
        }
    }
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
    /// Queries asked: the sum of [`PhaseReport::outcomes`].
    pub queries: u64,
    /// Queries for files that had a live holder: the denominator of `success_rate`.
    pub findable: u64,
    /// Of those, found (the same number as `outcomes.found`).
    pub found: u64,
    /// `found / findable`.
    pub success_rate: Option<f64>,
    /// Queries for files that exist nowhere (answered rightly empty, with wrong hits, not
    /// ready or with an error).
    pub missing: u64,
    /// Every query in exactly one outcome (see [`crate::workload`]): found, false "not
    /// found", stale, not ready, error, unfindable, rightly empty, wrong hits.
    #[serde(default)]
    pub outcomes: Outcomes,
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
    /// Messages sent by all nodes during the phase, whatever their cause.
    pub messages: u64,
    /// Those messages by kind (as each core names its messages).
    #[serde(default)]
    pub messages_by_kind: BTreeMap<String, u64>,
    /// Bytes sent by all nodes during the phase.
    pub bytes: u64,
    /// Of those messages, the ones the phase's searches caused: floods and their hits,
    /// lookups' hops and index reads, round trips to the index server.
    #[serde(default)]
    pub search_messages: u64,
    /// Their bytes.
    #[serde(default)]
    pub search_bytes: u64,
    /// The ones downloads caused (Napster's download request and answer, pushes).
    #[serde(default)]
    pub fetch_messages: u64,
    /// Their bytes.
    #[serde(default)]
    pub fetch_bytes: u64,
    /// The rest: upkeep (pings, keep-alives, stabilization, re-publication, logins).
    /// `search_messages + fetch_messages + upkeep_messages = messages`.
    #[serde(default)]
    pub upkeep_messages: u64,
    /// Their bytes.
    #[serde(default)]
    pub upkeep_bytes: u64,
    /// `search_messages / queries`: what one search cost.
    #[serde(default)]
    pub search_messages_per_query: Option<f64>,
    /// `search_bytes / queries`.
    #[serde(default)]
    pub search_bytes_per_query: Option<f64>,
    /// `messages / queries`: every message of the phase over its queries, upkeep and
    /// downloads included — not what a search costs, but what the network sent per search.
    #[serde(default, alias = "messages_per_query")]
    pub all_messages_per_query: Option<f64>,
    /// `bytes / queries`, upkeep and downloads included.
    #[serde(default, alias = "bytes_per_query")]
    pub all_bytes_per_query: Option<f64>,
    /// Upkeep messages per node per second, on every phase of at least
    /// [`MIN_RATE_SECONDS`]: what keeping the network together costs each node.
    #[serde(default)]
    pub upkeep_messages_per_node_s: Option<f64>,
    /// Upkeep bytes per node per second.
    #[serde(default)]
    pub upkeep_bytes_per_node_s: Option<f64>,
    /// The busiest node's share of all messages (sent or received by it).
    pub busiest_share: Option<f64>,
    /// The busiest node (kind and address).
    pub busiest_node: String,
    /// How busy the machine was (real sockets only; see [`crate::machine`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<MachineLoad>,
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
        self.found = tally.outcomes.found;
        self.success_rate = ratio(tally.outcomes.found, tally.findable);
        self.missing = tally.absent;
        self.outcomes = tally.outcomes;
        self.downloads = tally.downloads;
        self.downloads_ok = tally.downloads_ok;
        self.mean_hops = ratio(tally.hops_sum, tally.hops_n);
        self.latency_ms = Latency::of(&tally.latency);
        self.fill_traffic(tally.queries, delta);
    }

    /// The traffic numbers: all messages, and by cause.
    fn fill_traffic(&mut self, queries: u64, delta: &Delta) {
        self.messages = delta.messages;
        self.messages_by_kind = delta.by_kind.clone();
        self.bytes = delta.bytes;
        let upkeep = delta.upkeep();
        (self.search_messages, self.search_bytes) = (delta.search.messages, delta.search.bytes);
        (self.fetch_messages, self.fetch_bytes) = (delta.fetch.messages, delta.fetch.bytes);
        (self.upkeep_messages, self.upkeep_bytes) = (upkeep.messages, upkeep.bytes);
        self.search_messages_per_query = ratio(delta.search.messages, queries);
        self.search_bytes_per_query = ratio(delta.search.bytes, queries);
        self.all_messages_per_query = ratio(delta.messages, queries);
        self.all_bytes_per_query = ratio(delta.bytes, queries);
        let node_seconds = (delta.nodes > 0 && self.seconds >= MIN_RATE_SECONDS)
            .then_some(delta.nodes as f64 * self.seconds);
        self.upkeep_messages_per_node_s = node_seconds.map(|ns| upkeep.messages as f64 / ns);
        self.upkeep_bytes_per_node_s = node_seconds.map(|ns| upkeep.bytes as f64 / ns);
        self.busiest_share = delta.busiest_share();
        self.busiest_node = delta.busiest.clone();
    }
}

#[cfg(test)]
impl Report {
    /// A report of the default scenario with `seed`, and one run of `network` with `phases`.
    pub(crate) fn for_test(seed: u64, network: Network, phases: Vec<PhaseReport>) -> Report {
        let mut scenario = crate::spec::parse(include_str!("../../../scenarios/default.json"))
            .unwrap_or_else(|e| panic!("the default scenario parses: {e}"));
        scenario.seed = seed;
        Report {
            scenario,
            versions: Versions::default(),
            mode: "in-process".to_owned(),
            runs: vec![RunReport {
                nodes: 100,
                networks: vec![NetworkReport {
                    network,
                    startup_s: 1.0,
                    ready: true,
                    not_ready: None,
                    failure: None,
                    memory_kib: None,
                    phases,
                }],
            }],
            runner_memory: None,
            wall_s: 1.0,
            spread: None,
            scaling: None,
            placement: Vec::new(),
        }
    }
}
