//! What a run tells someone watching it: each phase's report as soon as the phase ends, and
//! each node that joins, leaves or crashes as it happens, each [`Stamped`] with the run's
//! time — and, on the simulator, what every node links to at each phase's end ([`World`]).
//!
//! Both engines tell it through one [`Teller`], which makes every event; only where it goes
//! differs:
//!
//! - **Live** (real sockets): into a [`tokio::sync::broadcast`] channel made by [`channel`]
//!   and given in [`crate::RunOptions::events`]. A broadcast send never waits: a watcher
//!   that falls more than [`BACKLOG`] events behind loses the oldest ones (its next receive
//!   says how many), so a slow watcher can never hold the run up.
//! - **Recorded** (the simulator, [`crate::sim::run_logged`]): into a [`Log`], stamped with
//!   virtual time, so the run can be replayed at any speed — the same scenario and seed give
//!   the same log, byte for byte.
//!
//! The numbers are the phase reports the run's own report is made of ([`PhaseReport`]), not
//! a second measurement.

use std::sync::{Arc, Mutex, PoisonError};

use p2plab_peer_protocol::Instant;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

pub use crate::neighbours::{Links, NodeView, World};
use crate::report::PhaseReport;
use crate::spec::Network;
use crate::timeline::{Timeline, Who};

/// Events a watcher may fall behind before it loses the oldest. A run of the largest
/// scenario starts its peers in batches, one event each, so a start step sends up to one
/// event per peer in a burst; this holds a burst of a few hundred starts while a watcher
/// wakes up, and at a few hundred bytes an event costs well under a megabyte.
pub const BACKLOG: usize = 1024;

/// Entries a [`Log`] keeps: one per node event, one per node of each [`World`]. At about a
/// hundred bytes of JSON an entry, the log stays under 50 MB in memory and on disk, which a
/// replay reads in a second or two; a 100,000-node ring's snapshot fits, as do the joins,
/// leaves and phase snapshots of a scenario of a few thousand peers. Past it the log keeps
/// only the phase reports and the end (at most one per step and network, so the counters
/// still reach their final values) and counts what it left out ([`Log::dropped`]).
pub const MAX_LOG_ENTRIES: usize = 500_000;

/// One thing that happened in a run, and when: microseconds of the run's clock (virtual on
/// the simulator).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stamped {
    /// When it happened, µs since the network's start.
    pub at_us: u64,
    /// What happened.
    pub event: Event,
}

/// One thing that happened in a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
// Adjacently tagged (`{"kind": "phase", "data": {..}}`): read back, the tag comes first and
// the data is read as what it is; an internally tagged enum is read through a buffer that
// loses the types of map keys (a phase report's histograms).
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum Event {
    /// A phase (timeline step) of one network ended; `index` counts from the `start` step.
    Phase {
        /// Peers per network in this run (one value of a sweep).
        nodes: usize,
        /// Which network.
        network: Network,
        /// The step's place in the timeline.
        index: usize,
        /// Its report, as it goes into `report.json`.
        report: Box<PhaseReport>,
    },
    /// A node started and joined its network.
    Joined {
        /// Which network.
        network: Network,
        /// The node: `server` or `peer N`.
        node: String,
    },
    /// A node left politely, or crashed.
    Left {
        /// Which network.
        network: Network,
        /// The node: `server` or `peer N`.
        node: String,
        /// Whether it crashed (no goodbye to its neighbours).
        crashed: bool,
    },
    /// What every node of one network linked to at a phase's end (the simulator only: it
    /// reads its cores directly).
    World(Box<World>),
    /// The run is over: every network of every node count played its timeline.
    Done,
}

/// A channel for a run's events, holding [`BACKLOG`] of them for each watcher.
pub fn channel() -> (broadcast::Sender<Stamped>, broadcast::Receiver<Stamped>) {
    broadcast::channel(BACKLOG)
}

/// A run's events, recorded to be replayed: what `p2plab view` reads back from a file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Log {
    /// What the run was: the scenario's name, or the snapshot's.
    pub title: String,
    /// The networks it played, in order.
    pub networks: Vec<Network>,
    /// Its seed.
    pub seed: u64,
    /// Every event, in the order the run told them.
    pub events: Vec<Stamped>,
    /// Node events and snapshots left out past [`MAX_LOG_ENTRIES`].
    pub dropped: u64,
    /// Entries held so far (see [`MAX_LOG_ENTRIES`]).
    #[serde(skip)]
    entries: usize,
}

impl Log {
    /// An empty log of `title`'s run over `networks` from `seed`.
    pub fn new(title: &str, networks: &[Network], seed: u64) -> Self {
        Log {
            title: title.to_owned(),
            networks: networks.to_vec(),
            seed,
            ..Log::default()
        }
    }

    /// Adds `stamped`, unless it is a node event or a snapshot past [`MAX_LOG_ENTRIES`].
    pub fn push(&mut self, stamped: Stamped) {
        let cost = match &stamped.event {
            Event::Phase { .. } | Event::Done => 0,
            Event::Joined { .. } | Event::Left { .. } => 1,
            Event::World(world) => world.nodes.len().max(1),
        };
        if cost > 0 && self.entries + cost > MAX_LOG_ENTRIES {
            self.dropped += 1;
            return;
        }
        self.entries += cost;
        self.events.push(stamped);
    }
}

/// Where a [`Teller`]'s events go.
#[derive(Debug, Clone)]
enum Sink {
    /// To whoever watches a live run.
    Live(broadcast::Sender<Stamped>),
    /// Into a log, to be replayed.
    Recorded(Arc<Mutex<Log>>),
}

/// What an engine tells about one network: it makes every event, for both engines, and
/// sends it where it goes (nowhere when nobody watches).
#[derive(Debug, Clone, Default)]
pub struct Teller {
    sink: Option<Sink>,
}

impl Teller {
    /// A teller that sends to a live run's watchers, if there are any.
    pub fn live(events: Option<broadcast::Sender<Stamped>>) -> Self {
        Teller {
            sink: events.map(Sink::Live),
        }
    }

    /// A teller that records into `log`.
    pub fn recorded(log: Arc<Mutex<Log>>) -> Self {
        Teller {
            sink: Some(Sink::Recorded(log)),
        }
    }

    /// Whether snapshots of the network are wanted: only a recording keeps them.
    pub(crate) fn wants_worlds(&self) -> bool {
        matches!(self.sink, Some(Sink::Recorded(_)))
    }

    fn tell(&self, at: Instant, event: Event) {
        let stamped = Stamped {
            at_us: at.as_micros(),
            event,
        };
        match &self.sink {
            None => {}
            // A send fails only when no page is listening; the run goes on all the same.
            Some(Sink::Live(events)) => drop(events.send(stamped)),
            Some(Sink::Recorded(log)) => log
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(stamped),
        }
    }

    /// `who` of `network` started and joined.
    pub(crate) fn joined(&self, at: Instant, network: Network, who: Who) {
        let node = node_name(who);
        self.tell(at, Event::Joined { network, node });
    }

    /// `who` of `network` left politely, or crashed.
    pub(crate) fn left(&self, at: Instant, network: Network, who: Who, crashed: bool) {
        let node = node_name(who);
        let event = Event::Left {
            network,
            node,
            crashed,
        };
        self.tell(at, event);
    }

    /// Step `index` of `timeline` ended, in a run of `nodes` peers: its report.
    pub(crate) fn phase(&self, at: Instant, timeline: &Timeline, nodes: usize, index: usize) {
        if self.sink.is_none() {
            return;
        }
        if let Some(phase) = timeline.phases().last() {
            let event = Event::Phase {
                nodes,
                network: timeline.network(),
                index,
                report: Box::new(phase.clone()),
            };
            self.tell(at, event);
        }
    }

    /// What every node links to now, made only if a recording wants it.
    pub(crate) fn world(&self, at: Instant, world: impl FnOnce() -> World) {
        if self.wants_worlds() {
            self.tell(at, Event::World(Box::new(world())));
        }
    }

    /// The run is over.
    pub(crate) fn done(&self, at: Instant) {
        self.tell(at, Event::Done);
    }
}

/// How an event names a node.
pub(crate) fn node_name(who: Who) -> String {
    match who {
        Who::Server => "server".to_owned(),
        Who::Peer(i) => format!("peer {i}"),
    }
}
