//! The scenario file: what a run starts, what it asks and how it breaks things.
//!
//! A scenario is one JSON document (see `scenarios/README.md`). Every struct here refuses
//! fields it does not know (`deny_unknown_fields`), so a typo is an error rather than a
//! setting silently left at its default. [`load`] and [`parse`] name the field that is
//! wrong by its path (`timeline[2].fraction`) and by line and column, before anything starts.

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use p2plab_peer_protocol::settings::{millis, CHECK_ADDR};
use p2plab_peer_protocol::SettingError;
use p2plab_sim::churn::Lifetime;
use serde::{Deserialize, Serialize};

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

/// The three networks a scenario can compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Network {
    /// Central index server plus peers (OpenNap).
    Napster,
    /// Gnutella 0.4 flooding overlay.
    Gnutella,
    /// Chord distributed hash table.
    Chord,
}

impl Network {
    /// The name used in reports and file names.
    pub fn name(self) -> &'static str {
        match self {
            Network::Napster => "napster",
            Network::Gnutella => "gnutella",
            Network::Chord => "chord",
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A whole scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name, used as the report's title.
    pub name: String,
    /// The question the scenario answers, one or two sentences.
    #[serde(default)]
    pub description: String,
    /// Which networks take part; they all run at once, side by side.
    pub networks: Vec<Network>,
    /// Run the networks one after another instead of side by side: each gets the whole
    /// machine (file descriptors, cores) for sizes that would not fit at once. The plan,
    /// queries and victims are the same either way.
    #[serde(default)]
    pub one_at_a_time: bool,
    /// Peers per network (the Napster index server comes on top): one number, or a list to
    /// sweep over (the scenario then runs once per value, and the report has one row per
    /// value).
    pub nodes: NodeCount,
    /// Seeds files, placement, queries, victims: the same seed gives the same run in every
    /// network.
    pub seed: u64,
    /// The files the peers share.
    pub files: FilesSpec,
    /// The queries.
    pub workload: WorkloadSpec,
    /// Per-network knobs.
    #[serde(default)]
    pub settings: Settings,
    /// What happens, in order; the first step must be `start`.
    pub timeline: Vec<Step>,
    /// Which engine plays the timeline: real sockets (the default) or the simulator.
    #[serde(default)]
    pub engine: Engine,
    /// One-way latency of every link, on both engines: the simulator's links take this
    /// long, and on real sockets every node holds each message it sends this long before
    /// writing it (on top of loopback's own). Absent: loopback's own on sockets, and
    /// `sim.latency_ms` in the simulator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<LatencyMs>,
    /// The simulator's network: latency and loss (real sockets ignore it).
    #[serde(default)]
    pub sim: SimSettings,
}

impl Scenario {
    /// The latency model the simulator's links follow.
    pub fn sim_latency(&self) -> LatencyMs {
        self.latency_ms.unwrap_or(self.sim.latency_ms)
    }
}

/// Who carries the bytes between nodes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// Every node on its own 127.0.0.1 port, over real TCP and real time.
    #[default]
    Sockets,
    /// The same cores on the deterministic simulator's virtual network and virtual time.
    Sim,
}

/// The simulated network, for `"engine": "sim"` or `--sim`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimSettings {
    /// One-way latency of every message, milliseconds, drawn per message from the seed.
    pub latency_ms: LatencyMs,
    /// Share of messages lost in transit, 0..1.
    pub loss: f64,
}

impl Default for SimSettings {
    /// Close to this machine's loopback: a message between two nodes of one process takes
    /// some tens of microseconds through the kernel and the tokio driver.
    fn default() -> Self {
        SimSettings {
            latency_ms: LatencyMs::Uniform([0.02, 0.1]),
            loss: 0.0,
        }
    }
}

/// The simulated network's latency model, in milliseconds, as a scenario writes it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "[lo, hi] (uniform; constant when lo == hi) or {\"median\": ms, \"sigma\": s} (log-normal)"
)]
pub enum LatencyMs {
    /// `[lo, hi]`: uniform between the bounds; `lo == hi` makes it constant.
    Uniform([f64; 2]),
    /// Log-normal: wide-area latencies have a long right tail, which a uniform draw lacks.
    LogNormal(LogNormalMs),
}

/// A log-normal latency: half of the messages are faster than `median`; `sigma`, the
/// standard deviation of the latency's logarithm, sets the tail (measured Internet round
/// trips fit 0.5 to 1).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogNormalMs {
    /// The middle latency, milliseconds.
    pub median: f64,
    /// Spread of `ln(latency)`.
    pub sigma: f64,
}

/// The largest log-normal `sigma` a scenario may give: at 4, one message in a thousand
/// already takes 10^5 times the median.
const MAX_SIGMA: f64 = 4.0;

impl LatencyMs {
    /// The simulator's model.
    pub fn model(self) -> p2plab_peer_protocol::latency::Latency {
        use p2plab_peer_protocol::latency::Latency;
        let ms = |ms: f64| Duration::from_secs_f64(ms / 1e3);
        match self {
            LatencyMs::Uniform([lo, hi]) if lo == hi => Latency::Constant(ms(lo)),
            LatencyMs::Uniform([lo, hi]) => Latency::Uniform(ms(lo), ms(hi)),
            LatencyMs::LogNormal(LogNormalMs { median, sigma }) => Latency::LogNormal {
                median: ms(median),
                sigma,
            },
        }
    }
}

impl fmt::Display for LatencyMs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LatencyMs::Uniform([lo, hi]) if lo == hi => write!(f, "{lo} ms"),
            LatencyMs::Uniform([lo, hi]) => write!(f, "{lo}–{hi} ms"),
            LatencyMs::LogNormal(LogNormalMs { median, sigma }) => {
                write!(f, "log-normal, median {median} ms, σ {sigma}")
            }
        }
    }
}

/// Peers per network: one value, or a sweep.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum NodeCount {
    /// One run with this many peers.
    One(usize),
    /// One run per value, in order.
    Sweep(Vec<usize>),
}

impl<'de> Deserialize<'de> for NodeCount {
    /// Either shape, and when it is neither, a message that says what is expected (serde's
    /// own for an untagged enum names only the Rust type).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            One(usize),
            Sweep(Vec<usize>),
        }
        match Either::deserialize(d) {
            Ok(Either::One(n)) => Ok(NodeCount::One(n)),
            Ok(Either::Sweep(ns)) => Ok(NodeCount::Sweep(ns)),
            Err(_) => Err(serde::de::Error::custom(
                "expected a number of peers, like 100, or a list of them, like [100, 1000]",
            )),
        }
    }
}

impl NodeCount {
    /// The values to run, in order.
    pub fn values(&self) -> Vec<usize> {
        match self {
            NodeCount::One(n) => vec![*n],
            NodeCount::Sweep(ns) => ns.clone(),
        }
    }
}

/// The shared files: how many distinct files, how many copies of each, how big.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesSpec {
    /// Distinct files in the whole network.
    pub count: usize,
    /// Peers holding each file (placed at random, seeded).
    pub copies: usize,
    /// Smallest file, bytes.
    pub min_size: u64,
    /// Largest file, bytes.
    pub max_size: u64,
}

/// The queries peers ask.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    /// Queries per second started across the network (they run concurrently).
    pub rate: f64,
    /// Zipf exponent s of file popularity: file k (from 1) is asked with weight 1/k^s;
    /// 0 asks all files equally.
    pub zipf: f64,
    /// Share of queries, 0..=1, for files that exist nowhere (they must find nothing).
    pub missing_share: f64,
    /// Share of successful queries, 0..=1, whose file is then downloaded and checked.
    pub download_share: f64,
    /// The most queries in flight at once per network.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
}

fn default_concurrency() -> usize {
    64
}

/// Knobs for each network; all optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Napster's.
    #[serde(default)]
    pub napster: NapsterSettings,
    /// Gnutella's.
    #[serde(default)]
    pub gnutella: GnutellaSettings,
    /// Chord's.
    #[serde(default)]
    pub chord: ChordSettings,
}

/// Napster knobs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NapsterSettings {
    /// Where the index server listens; default 127.0.0.1:0 (any free port).
    pub server: Option<SocketAddr>,
}

/// Gnutella knobs. Defaults and ranges are the servent's own
/// ([`p2plab_gnutella::config`]): a cluster's defaults where a cluster differs from a lone
/// servent, and [`ServentConfig::validate`](p2plab_gnutella::ServentConfig::validate) checks
/// them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GnutellaSettings {
    /// Earlier servents each new servent dials at start, and the fewest neighbours it keeps
    /// (`min_peers`; the overlay's mean degree is about twice this).
    pub degree: usize,
    /// The most neighbours a servent keeps.
    pub max_peers: usize,
    /// TTL of queries: the search horizon in hops.
    pub ttl: u8,
    /// TTL of pings.
    pub ping_ttl: u8,
    /// Seconds between pings to all neighbours.
    pub ping_interval_s: f64,
    /// Milliseconds a search collects QueryHits.
    pub search_window_ms: u64,
    /// How the overlay the servents start on is drawn: `random` or `power-law`.
    #[serde(default)]
    pub overlay: OverlayModel,
}

/// The shape of the overlay a scenario's servents start on: whom each dials at start (its
/// neighbours in a seeded graph that started before it). Both respect `max_peers`, as the
/// servents themselves do, and give a mean degree of about `2 · degree`.
///
/// Crawls of the real network (Ripeanu, Foster and Iamnitchi, "Mapping the Gnutella
/// Network", IEEE Internet Computing 2002) found a power-law degree distribution in
/// November 2000; by March 2001 the many servents with few links no longer followed it —
/// clients then kept a handful of connections each — while paths stayed short (most pairs
/// within 7 hops). A scenario's servents all share one small `max_peers`, close to the mean
/// degree, which leaves preferential attachment no room to grow hubs: the random model is
/// the closer one, and the default. `power-law` shows the November 2000 network when
/// `max_peers` is well above `2 · degree`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OverlayModel {
    /// Each servent links to `degree` servents drawn uniformly from all that still have
    /// room (Erdős–Rényi-like: degrees close to the mean, diameter ~ ln N / ln degree).
    #[default]
    Random,
    /// Barabási–Albert preferential attachment, `degree` links per servent to earlier
    /// ones in proportion to their degree, capped at `max_peers`.
    PowerLaw,
}

impl Default for GnutellaSettings {
    fn default() -> Self {
        use p2plab_gnutella::config as g;
        GnutellaSettings {
            degree: g::CLUSTER_MIN_PEERS,
            max_peers: g::DEFAULT_MAX_PEERS,
            ttl: g::CLUSTER_TTL,
            ping_ttl: g::CLUSTER_PING_TTL,
            ping_interval_s: g::DEFAULT_PING_INTERVAL.as_secs_f64(),
            search_window_ms: millis(g::CLUSTER_SEARCH_WINDOW),
            overlay: OverlayModel::default(),
        }
    }
}

/// Chord knobs. Defaults and ranges are the node's own ([`p2plab_chord::config`]): a
/// cluster's defaults where a cluster differs from a lone node, and
/// [`ChordConfig::validate`](p2plab_chord::ChordConfig::validate) checks them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChordSettings {
    /// r: successor-list length.
    pub successors: usize,
    /// Copies of every index entry.
    pub replicas: usize,
    /// Milliseconds between `stabilize` rounds.
    pub stabilize_ms: u64,
    /// Milliseconds between `fix_fingers` calls.
    pub fix_fingers_ms: u64,
    /// Nodes that join through node 0 at the same time.
    pub join_batch: usize,
}

/// How many Chord nodes join through node 0 at once, by default: a hundred-node ring forms
/// in a dozen batches.
pub const DEFAULT_JOIN_BATCH: usize = 8;

impl Default for ChordSettings {
    fn default() -> Self {
        use p2plab_chord::config as c;
        ChordSettings {
            successors: c::DEFAULT_SUCCESSORS,
            replicas: c::DEFAULT_REPLICAS,
            stabilize_ms: millis(c::CLUSTER_STABILIZE_EVERY),
            fix_fingers_ms: millis(c::CLUSTER_FIX_FINGERS_EVERY),
            join_batch: DEFAULT_JOIN_BATCH,
        }
    }
}

/// One step of the timeline. Every step has a label the report uses.
///
/// A step is written as an object with one key, its kind:
/// `{"kill_peers": {"label": "20% die", "fraction": 0.2}}`. (An outer tag, not a `"step"`
/// field inside, so that an error deep in a step is reported with its full path.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Start every network and wait until each is ready (index filled, overlay connected,
    /// ring closed), plus `settle_s` seconds.
    Start {
        /// The phase's name in the report.
        label: String,
        /// Extra seconds after the networks are ready.
        #[serde(default)]
        settle_s: f64,
    },
    /// Do nothing for a while: measures background (maintenance) traffic.
    Wait {
        /// The phase's name in the report.
        label: String,
        /// How long.
        seconds: f64,
    },
    /// Ask `count` queries at the workload's rate.
    Queries {
        /// The phase's name in the report.
        label: String,
        /// How many.
        count: usize,
    },
    /// Crash a share of the live peers (at least one), chosen by the seed.
    KillPeers {
        /// The phase's name in the report.
        label: String,
        /// Share of live peers, 0..=1.
        fraction: f64,
    },
    /// Crash Napster's index server (the other networks have none).
    KillServer {
        /// The phase's name in the report.
        label: String,
    },
    /// For `seconds`, peers leave and come back (with their files) while queries run at
    /// the workload's rate: at rates (`joins_per_s`, `leaves_per_s`, spaced as `process`
    /// says), or each peer on its own drawn `sessions` (see [`crate::churn`]).
    Churn {
        /// The phase's name in the report.
        label: String,
        /// How long.
        seconds: f64,
        /// Peers (re)joining per second.
        #[serde(default)]
        joins_per_s: f64,
        /// Peers leaving per second.
        #[serde(default)]
        leaves_per_s: f64,
        /// How the joins and leaves are spaced in time.
        #[serde(default)]
        process: ChurnProcess,
        /// Instead of rates: every live peer stays for a drawn session, goes, and comes back
        /// after a drawn offline time, again and again.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sessions: Option<Sessions>,
        /// Whether leaving peers crash (true) or leave politely (false).
        #[serde(default)]
        crash: bool,
    },
    /// For `seconds`, the network is cut into `groups` seeded groups of peers (Napster's
    /// index server on the first side) while queries run at the workload's rate; then the
    /// cut heals and the protocols reconnect by themselves. On real sockets every node's
    /// driver refuses traffic across the cut (see `p2plab_runtime::fabric`).
    Partition {
        /// The phase's name in the report.
        label: String,
        /// How many sides, of (nearly) equal size.
        groups: usize,
        /// How long the cut lasts.
        seconds: f64,
    },
}

/// The most sides a partition may cut a network into.
pub const MAX_PARTITION_GROUPS: usize = 16;

/// How a churn step spaces its joins and its leaves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChurnProcess {
    /// One every `1/rate` seconds, on the dot: the same moments in every run.
    #[default]
    Periodic,
    /// A Poisson process of that rate: the gaps are exponential with mean `1/rate`, drawn
    /// from the seed, as the Chord paper's churn experiment has it.
    Poisson,
}

/// Session churn (OverSim's *LifetimeChurn*): how long a peer stays, and how long it is
/// away before it comes back with its files. Measured sessions are heavy-tailed, so the
/// distributions are Weibull or Pareto as often as exponential.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sessions {
    /// How long a peer stays up.
    pub session: Lifetime,
    /// How long it stays away.
    pub offline: Lifetime,
}

impl Step {
    /// The step's label.
    pub fn label(&self) -> &str {
        match self {
            Step::Start { label, .. }
            | Step::Wait { label, .. }
            | Step::Queries { label, .. }
            | Step::KillPeers { label, .. }
            | Step::KillServer { label }
            | Step::Churn { label, .. }
            | Step::Partition { label, .. } => label,
        }
    }

    /// The step's kind, as written in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Start { .. } => "start",
            Step::Wait { .. } => "wait",
            Step::Queries { .. } => "queries",
            Step::KillPeers { .. } => "kill_peers",
            Step::KillServer { .. } => "kill_server",
            Step::Churn { .. } => "churn",
            Step::Partition { .. } => "partition",
        }
    }
}

/// Why a scenario file was refused.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The JSON does not fit the format.
    #[error("{field}: {message} at line {line} column {column}")]
    Syntax {
        /// Path of the offending field, e.g. `timeline[2].fraction` (`.` for the root).
        field: String,
        /// What is wrong.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The JSON fits, but a value makes no sense.
    #[error("{field}: {message}")]
    Invalid {
        /// Path of the offending field.
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// Reads and checks a scenario file.
///
/// # Errors
/// [`SpecError`] naming the file, field and position.
pub fn load(path: &Path) -> Result<Scenario, SpecError> {
    parse(&read(path)?)
}

/// Reads a JSON file's text; the error names the file.
pub(crate) fn read(path: &Path) -> Result<String, SpecError> {
    std::fs::read_to_string(path).map_err(|source| SpecError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// Parses and checks scenario text.
///
/// # Errors
/// [`SpecError::Syntax`] with the field path and line/column, or [`SpecError::Invalid`].
pub fn parse(text: &str) -> Result<Scenario, SpecError> {
    let scenario: Scenario = from_json(text)?;
    validate(&scenario)?;
    Ok(scenario)
}

/// Reads JSON text into `T`, naming a field that does not fit by its path and position.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, SpecError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        // serde_path_to_error writes `?` for a field it never got to read (the text ended,
        // or is not JSON): name the object it was in, or the file.
        let path = e.path().to_string();
        let field = match path.trim_end_matches('?').trim_end_matches('.') {
            "" => "the file".to_owned(),
            known => known.to_owned(),
        };
        let inner = e.into_inner();
        SpecError::Syntax {
            field,
            line: inner.line(),
            column: inner.column(),
            message: strip_position(&inner.to_string()),
        }
    })
}

/// serde_json appends " at line L column C"; the error carries them apart.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> SpecError {
    SpecError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

fn check(ok: bool, field: &str, message: &str) -> Result<(), SpecError> {
    if ok {
        Ok(())
    } else {
        Err(invalid(field, message))
    }
}

fn share(x: f64) -> bool {
    (0.0..=1.0).contains(&x)
}

fn seconds(x: f64) -> bool {
    x.is_finite() && (0.0..=MAX_SECONDS).contains(&x)
}

fn validate(s: &Scenario) -> Result<(), SpecError> {
    check(
        !s.networks.is_empty(),
        "networks",
        "name at least one network",
    )?;
    let nodes = s.nodes.values();
    check(!nodes.is_empty(), "nodes", "give at least one node count")?;
    for (i, n) in nodes.iter().enumerate() {
        let field = if nodes.len() == 1 {
            "nodes".to_owned()
        } else {
            format!("nodes[{i}]")
        };
        check(
            (2..=MAX_NODES).contains(n),
            &field,
            &format!("must be 2..={MAX_NODES}"),
        )?;
        check(
            s.files.copies <= *n,
            "files.copies",
            "more copies than peers",
        )?;
    }
    let f = &s.files;
    check(
        (1..=MAX_FILES).contains(&f.count),
        "files.count",
        &format!("must be 1..={MAX_FILES}"),
    )?;
    check(f.copies >= 1, "files.copies", "must be at least 1")?;
    let indexed = f.count.saturating_mul(f.copies);
    check(
        !s.networks.contains(&Network::Napster) || indexed <= p2plab_napster::MAX_INDEXED_FILES,
        "files.count",
        &format!(
            "{} × {} copies is {indexed} files, more than a Napster index server holds ({})",
            f.count,
            f.copies,
            p2plab_napster::MAX_INDEXED_FILES
        ),
    )?;
    check(
        f.min_size <= f.max_size,
        "files.min_size",
        "larger than files.max_size",
    )?;
    check(f.max_size <= MAX_FILE_SIZE, "files.max_size", "too large")?;
    let w = &s.workload;
    check(
        w.rate.is_finite() && w.rate > 0.0,
        "workload.rate",
        "must be positive",
    )?;
    check(
        w.zipf.is_finite() && w.zipf >= 0.0,
        "workload.zipf",
        "must be 0 or more",
    )?;
    check(
        share(w.missing_share),
        "workload.missing_share",
        "must be 0..=1",
    )?;
    check(
        share(w.download_share),
        "workload.download_share",
        "must be 0..=1",
    )?;
    check(
        w.concurrency >= 1,
        "workload.concurrency",
        "must be at least 1",
    )?;
    validate_settings(&s.settings)?;
    validate_sim(&s.sim)?;
    if let Some(latency) = &s.latency_ms {
        check(
            s.sim.latency_ms == SimSettings::default().latency_ms,
            "latency_ms",
            "give latency_ms (both engines) or sim.latency_ms (the simulator's), not both",
        )?;
        validate_latency(latency, "latency_ms")?;
    }
    validate_timeline(&s.timeline, nodes.iter().copied().min().unwrap_or(0))
}

fn validate_sim(s: &SimSettings) -> Result<(), SpecError> {
    validate_latency(&s.latency_ms, "sim.latency_ms")?;
    check(
        s.loss.is_finite() && (0.0..1.0).contains(&s.loss),
        "sim.loss",
        "must be 0 or more and below 1",
    )
}

/// Checks a latency model; a bad field is named under `at`.
fn validate_latency(l: &LatencyMs, at: &str) -> Result<(), SpecError> {
    let ms = |x: f64| x.is_finite() && (0.0..=MAX_SECONDS * 1e3).contains(&x);
    match *l {
        LatencyMs::Uniform([lo, hi]) => check(
            ms(lo) && ms(hi) && lo <= hi,
            at,
            "must be [lo, hi] with 0 <= lo <= hi",
        ),
        LatencyMs::LogNormal(LogNormalMs { median, sigma }) => {
            check(
                ms(median) && median > 0.0,
                &format!("{at}.median"),
                "must be positive",
            )?;
            check(
                sigma.is_finite() && (0.0..=MAX_SIGMA).contains(&sigma),
                &format!("{at}.sigma"),
                &format!("must be 0..={MAX_SIGMA}"),
            )
        }
    }
}

fn validate_settings(s: &Settings) -> Result<(), SpecError> {
    let g = &s.gnutella;
    // Zero would start every servent with no link: the overlay would never form.
    check(
        g.degree >= 1,
        "settings.gnutella.degree",
        "must be at least 1",
    )?;
    g.validate("settings.gnutella")?;
    let c = &s.chord;
    c.validate("settings.chord")?;
    check(
        c.join_batch >= 1,
        "settings.chord.join_batch",
        "must be at least 1",
    )
}

fn validate_timeline(steps: &[Step], fewest_peers: usize) -> Result<(), SpecError> {
    check(
        matches!(steps.first(), Some(Step::Start { .. })),
        "timeline[0]",
        "the first step must be `start`",
    )?;
    check(
        steps.len() <= MAX_STEPS,
        "timeline",
        &format!("at most {MAX_STEPS} steps"),
    )?;
    for (i, step) in steps.iter().enumerate() {
        let at = |f: &str| format!("timeline[{i}].{}.{f}", step.kind());
        if i > 0 && matches!(step, Step::Start { .. }) {
            return Err(invalid(
                format!("timeline[{i}]"),
                "only the first step may be `start`",
            ));
        }
        if steps[..i].iter().any(|s| s.label() == step.label()) {
            return Err(invalid(
                at("label"),
                format!("label {:?} is used twice", step.label()),
            ));
        }
        match step {
            Step::Start { settle_s: t, .. } | Step::Wait { seconds: t, .. } => check(
                seconds(*t),
                &at(if i == 0 { "settle_s" } else { "seconds" }),
                "bad duration",
            )?,
            Step::Queries { count, .. } => check(
                (1..=MAX_QUERIES_PER_PHASE).contains(count),
                &at("count"),
                &format!("must be 1..={MAX_QUERIES_PER_PHASE}"),
            )?,
            Step::KillPeers { fraction, .. } => check(
                *fraction > 0.0 && *fraction <= 1.0,
                &at("fraction"),
                "must be in (0, 1]",
            )?,
            Step::KillServer { .. } => {}
            Step::Churn {
                seconds: t,
                joins_per_s,
                leaves_per_s,
                process,
                sessions,
                ..
            } => {
                check(seconds(*t), &at("seconds"), "bad duration")?;
                let rate = |r: f64| (0.0..=MAX_CHURN_RATE).contains(&r);
                let message = format!("must be 0..={MAX_CHURN_RATE}");
                check(rate(*joins_per_s), &at("joins_per_s"), &message)?;
                check(rate(*leaves_per_s), &at("leaves_per_s"), &message)?;
                if let Some(Sessions { session, offline }) = sessions {
                    check(
                        *joins_per_s == 0.0
                            && *leaves_per_s == 0.0
                            && *process == ChurnProcess::default(),
                        &at("sessions"),
                        "give sessions or rates (joins_per_s, leaves_per_s, process), not both",
                    )?;
                    validate_lifetime(session, &at("sessions.session"))?;
                    validate_lifetime(offline, &at("sessions.offline"))?;
                }
            }
            Step::Partition {
                groups, seconds: t, ..
            } => {
                check(seconds(*t), &at("seconds"), "bad duration")?;
                check(
                    (2..=MAX_PARTITION_GROUPS.min(fewest_peers)).contains(groups),
                    &at("groups"),
                    &format!("must be 2..={MAX_PARTITION_GROUPS}, and no more than the peers"),
                )?;
            }
        }
    }
    Ok(())
}

/// The shortest mean or scale a churn lifetime may have, seconds: below it, peers would
/// come and go faster than anything could be measured, and a run would never end.
pub const MIN_LIFETIME_SECS: f64 = 0.1;

/// The range of a Weibull or Pareto shape. A Weibull shape far below 1 draws most
/// lifetimes as good as zero; a Pareto shape of 1 or less has no mean, but is a
/// distribution all the same.
pub const LIFETIME_SHAPES: std::ops::RangeInclusive<f64> = 0.1..=100.0;

/// The most joins, or leaves, per second a churn step may ask for.
pub const MAX_CHURN_RATE: f64 = 1_000.0;

fn validate_lifetime(l: &Lifetime, field: &str) -> Result<(), SpecError> {
    let (name, value) = match *l {
        Lifetime::Exponential { mean_secs } => ("mean_secs", mean_secs),
        Lifetime::Weibull { shape, scale_secs } | Lifetime::Pareto { shape, scale_secs } => {
            check(
                LIFETIME_SHAPES.contains(&shape),
                &format!("{field}.shape"),
                "must be 0.1..=100",
            )?;
            ("scale_secs", scale_secs)
        }
    };
    check(
        (MIN_LIFETIME_SECS..=MAX_SECONDS).contains(&value),
        &format!("{field}.{name}"),
        &format!("must be {MIN_LIFETIME_SECS}..={MAX_SECONDS} seconds"),
    )
}

/// A network's block of `settings` (`settings.gnutella`, `settings.chord`): the fields a
/// scenario file writes, over the config that network's nodes take.
///
/// Each block is checked the same way — written into a config for a node that never runs,
/// judged by that node's own `validate`, a bad field named as the file spells it — so the
/// checking is written once, in [`NetworkSettings::validate`], and a block says only what
/// differs: its config, how it fills it, and which fields it calls otherwise.
pub trait NetworkSettings {
    /// The config a node of this network takes.
    type Config;

    /// The config fields the file names otherwise, as (config field, file field) pairs;
    /// every other field has one name in both.
    const RENAMED: &'static [(&'static str, &'static str)];

    /// A config for a node that is only checked, never started.
    fn check_config() -> Self::Config;

    /// Writes these settings into `c` (the same on real sockets and in the simulator).
    fn configure(&self, c: &mut Self::Config);

    /// The node's own check of its config.
    ///
    /// # Errors
    /// The first setting out of its range.
    fn check(c: &Self::Config) -> Result<(), SettingError>;

    /// Checks these settings as a node would take them; a bad one is named under `at`
    /// (`settings.gnutella`) by its name in the file.
    ///
    /// # Errors
    /// [`SpecError::Invalid`] naming the field.
    fn validate(&self, at: &str) -> Result<(), SpecError> {
        let mut config = Self::check_config();
        self.configure(&mut config);
        Self::check(&config).map_err(|e| {
            let file_name = |f: &str| {
                let renamed = Self::RENAMED.iter().find(|(config, _)| *config == f);
                format!("{at}.{}", renamed.map_or(f, |(_, file)| file))
            };
            let (field, message) = e.describe(file_name);
            invalid(field, message)
        })
    }
}

impl NetworkSettings for GnutellaSettings {
    type Config = p2plab_gnutella::ServentConfig;

    const RENAMED: &'static [(&'static str, &'static str)] = &[
        ("min_peers", "degree"),
        ("ping_interval", "ping_interval_s"),
        ("search_window", "search_window_ms"),
    ];

    fn check_config() -> Self::Config {
        p2plab_gnutella::ServentConfig::new(CHECK_ADDR, Arc::default())
    }

    /// Sets a servent's TTLs, degree bounds and periods.
    fn configure(&self, c: &mut Self::Config) {
        c.ttl = self.ttl;
        c.ping_ttl = self.ping_ttl;
        c.min_peers = self.degree;
        c.max_peers = self.max_peers;
        c.ping_interval = seconds_to_duration(self.ping_interval_s);
        c.search_window = Duration::from_millis(self.search_window_ms);
    }

    fn check(c: &Self::Config) -> Result<(), SettingError> {
        c.validate()
    }
}

impl NetworkSettings for ChordSettings {
    type Config = p2plab_chord::ChordConfig;

    const RENAMED: &'static [(&'static str, &'static str)] = &[
        ("stabilize_every", "stabilize_ms"),
        ("fix_fingers_every", "fix_fingers_ms"),
    ];

    fn check_config() -> Self::Config {
        p2plab_chord::ChordConfig::new(CHECK_ADDR, None, Arc::default())
    }

    /// Sets a node's successor-list length, replicas and periods.
    fn configure(&self, c: &mut Self::Config) {
        c.successors = self.successors;
        c.replicas = self.replicas;
        c.stabilize_every = Duration::from_millis(self.stabilize_ms);
        c.fix_fingers_every = Duration::from_millis(self.fix_fingers_ms);
    }

    fn check(c: &Self::Config) -> Result<(), SettingError> {
        c.validate()
    }
}

/// Seconds as a scenario writes them, as a duration. A value no duration can hold (negative,
/// not a number, too large) becomes the nearest bound, which validation then refuses.
fn seconds_to_duration(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or(if s > 0.0 {
        Duration::MAX
    } else {
        Duration::ZERO
    })
}
