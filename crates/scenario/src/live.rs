//! What a run on real sockets tells someone watching it while it runs: each phase's report
//! as soon as the phase ends, and each node that joins, leaves or crashes as it happens.
//!
//! The runner sends [`Event`]s into a [`tokio::sync::broadcast`] channel made by
//! [`channel`] and given in [`crate::RunOptions::events`]. A broadcast send never waits: a
//! watcher that falls more than [`BACKLOG`] events behind loses the oldest ones (its next
//! receive says how many), so a slow watcher can never hold the run up. The numbers are the
//! phase reports the run's own report is made of ([`PhaseReport`]), not a second
//! measurement.

use serde::Serialize;
use tokio::sync::broadcast;

use crate::report::PhaseReport;
use crate::spec::Network;
use crate::timeline::Who;

/// Events a watcher may fall behind before it loses the oldest. A run of the largest
/// scenario starts its peers in batches, one event each, so a start step sends up to one
/// event per peer in a burst; this holds a burst of a few hundred starts while a watcher
/// wakes up, and at a few hundred bytes an event costs well under a megabyte.
pub const BACKLOG: usize = 1024;

/// One thing that happened in a run.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
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
    /// The run is over: every network of every node count played its timeline.
    Done,
}

/// A channel for a run's events, holding [`BACKLOG`] of them for each watcher.
pub fn channel() -> (broadcast::Sender<Event>, broadcast::Receiver<Event>) {
    broadcast::channel(BACKLOG)
}

/// How an event names a node.
pub(crate) fn node_name(who: Who) -> String {
    match who {
        Who::Server => "server".to_owned(),
        Who::Peer(i) => format!("peer {i}"),
    }
}
