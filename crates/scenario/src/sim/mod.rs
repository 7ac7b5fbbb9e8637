//! The scenario on the simulator: the engine that plays the [`Timeline`] with the unchanged
//! Napster, Gnutella and Chord cores on virtual time.
//!
//! A real run and a simulated run of one scenario file differ only in who carries the
//! bytes and who keeps the time. Everything else is the timeline's, and so the same: the
//! plan (files, placement, queries, victims, bootstrap lists), the readiness conditions,
//! the verdicts, the traffic counters and the phase arithmetic. So the two reports sit side
//! by side, and where they disagree beyond noise one of them has a bug.
//!
//! [`Timeline`]: crate::timeline::Timeline
//!
//! Downloads are simulated too: the same transfer cores the runtime pumps move the file
//! over the virtual network (see [`p2plab_netsim::TestNet::start_download`]). What the
//! simulator cannot show is the cost of the machine itself — latency comes from the
//! scenario's model (`"sim": {"latency_ms": ...}`: constant, uniform or log-normal), not
//! from two busy cores.
//!
//! ## Layout
//!
//! - [`cores`] — [`SimNode`], the three cores behind one type, built from a node spec.
//! - [`world`] — [`SimCluster`], one network's nodes on one virtual network.
//! - [`book`] — searches asked of the network and their answers, in virtual time.
//! - [`player`] — [`Player`], which carries out the timeline's actions on virtual time.
//!
//! Each network gets its own virtual network and clock, so running them one after the
//! other is the same as running them side by side.

pub(crate) mod book;
pub(crate) mod cores;
pub(crate) mod player;
pub(crate) mod world;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant as WallClock;

use p2plab_peer_protocol::Instant;

use crate::live::{Event, Log, Stamped, Teller};
use crate::plan::Plan;
use crate::report::{Memory, Report, RunReport, Versions};
use crate::spec::{Network, Scenario};

pub use cores::SimNode;
pub use player::Player;
pub use world::SimCluster;

/// The `mode` a simulated run's report names.
pub const MODE: &str = "sim";

/// A simulated run: the report, and what the simulator itself measured.
#[derive(Debug, Clone)]
pub struct SimRun {
    /// The same report a run on sockets writes.
    pub report: Report,
    /// One entry per node count and network, in the report's order.
    pub networks: Vec<SimNetwork>,
}

/// The simulator's own numbers for one network of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct SimNetwork {
    /// Peers.
    pub nodes: usize,
    /// Which network.
    pub network: Network,
    /// Virtual time the whole timeline took, seconds.
    pub virtual_s: f64,
    /// Inputs the cores were fed (messages, timeouts, connection changes, commands).
    pub events: u64,
    /// The fingerprint of every one of those inputs: equal digests, equal runs.
    pub digest: u64,
    /// Wall time it took to simulate, seconds.
    pub wall_s: f64,
}

impl SimNetwork {
    /// Events simulated per second of wall time.
    pub fn events_per_s(&self) -> f64 {
        self.events as f64 / self.wall_s.max(f64::MIN_POSITIVE)
    }
}

/// Plays `scenario` on the simulator; `progress` draws a bar per step on stderr (when it
/// is a terminal): simulated time, events, events per second.
///
/// # Errors
/// If the timeline does not begin with `start`.
pub fn run(scenario: &Scenario, progress: bool) -> anyhow::Result<SimRun> {
    play(scenario, progress, None)
}

/// Plays `scenario` on the simulator and records its events ([`crate::live`]), each stamped
/// with its virtual time, with a snapshot of every network at each phase's end: the same
/// scenario and seed give the same log, byte for byte.
///
/// The simulator plays the networks one after another, each on its own clock from zero;
/// the log puts each node count's events in virtual-time order, so a replay shows its
/// networks side by side as a run on sockets plays them (node counts one after another).
///
/// # Errors
/// If the timeline does not begin with `start`.
pub fn run_logged(scenario: &Scenario, progress: bool) -> anyhow::Result<(SimRun, Log)> {
    let mut log = Log::new(&scenario.name, &scenario.networks, scenario.seed);
    let run = play(scenario, progress, Some(&mut log))?;
    Ok((run, log))
}

/// Plays `scenario`, recording into `log` if given.
fn play(scenario: &Scenario, progress: bool, mut log: Option<&mut Log>) -> anyhow::Result<SimRun> {
    let started = WallClock::now();
    let scenario = Arc::new(scenario.clone());
    let mut runs = Vec::new();
    let mut networks = Vec::new();
    // The end is told at the latest instant any network reached.
    let mut last = Instant::ZERO;
    for n in scenario.nodes.values() {
        // This node count's events, each network's on its own clock, merged below.
        let count = Arc::new(Mutex::new(Log::default()));
        let teller = match log {
            Some(_) => Teller::recorded(Arc::clone(&count)),
            None => Teller::default(),
        };
        let plan = Arc::new(Plan::new(scenario.seed, n, &scenario.files));
        let mut reports = Vec::new();
        for &network in &scenario.networks {
            let wall = WallClock::now();
            let told = teller.clone();
            let mut player = Player::new(&scenario, plan.clone(), network, progress, told);
            reports.push(player.play());
            let net = &player.cluster.net;
            last = last.max(net.now());
            networks.push(SimNetwork {
                nodes: n,
                network,
                virtual_s: net.now().as_micros() as f64 / 1e6,
                events: net.events(),
                digest: net.digest(),
                wall_s: wall.elapsed().as_secs_f64(),
            });
        }
        runs.push(RunReport {
            nodes: n,
            networks: reports,
        });
        if let Some(log) = log.as_deref_mut() {
            let mut told =
                std::mem::take(&mut *count.lock().unwrap_or_else(PoisonError::into_inner));
            // Stable: what one network told at one instant keeps its order.
            told.events.sort_by_key(|e| e.at_us);
            log.dropped += told.dropped;
            told.events.into_iter().for_each(|e| log.push(e));
        }
    }
    if let Some(log) = log {
        log.push(Stamped {
            at_us: last.as_micros(),
            event: Event::Done,
        });
    }
    let report = Report {
        scenario: (*scenario).clone(),
        versions: Versions::default(),
        mode: MODE.to_owned(),
        runs,
        runner_memory: crate::memory::memory_kib("self")
            .map(|(rss_kib, peak_kib)| Memory { rss_kib, peak_kib }),
        wall_s: started.elapsed().as_secs_f64(),
        spread: None,
        scaling: None,
        placement: Vec::new(),
    };
    Ok(SimRun { report, networks })
}
