//! What the timeline asks of an engine ([`Action`]), what it is told back ([`Reply`]), and
//! what [`Timeline::poll`](super::Timeline::poll) says to do next ([`Poll`]).
//!
//! An action is either a **call** or a **request**:
//!
//! - a call (start, stop, kill the server, cut, heal, census, snapshot) is carried out and
//!   answered with its [`Reply`] before the engine polls again — the timeline waits for it,
//!   as a script waits for each line;
//! - a request ([`Action::Ask`], [`Action::Fetch`]) runs concurrently with everything
//!   else; its reply comes back whenever it is done, stamped with the instant it finished,
//!   so a search's latency is the engine's own clock from asking to answer.

use std::net::SocketAddr;

use p2plab_peer_protocol::{Hit, Instant};

use crate::node_spec::NodeSpec;
use crate::ready::Census;
use crate::report::NetworkReport;
use crate::stats::Snapshot;
use crate::workload::Answer;

/// A node of one network: Napster's index server, or peer `i` of the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Who {
    /// Napster's index server.
    Server,
    /// Peer `i` (the plan's numbering, the same in every network and on every engine).
    Peer(usize),
}

/// A search or a download the timeline is waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ticket(pub u64);

/// Something for the engine to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Call: start this node with these settings; reply [`Reply::Started`].
    Start {
        /// Which node.
        who: Who,
        /// Everything it needs to run (its files come from the plan, by `who`).
        spec: NodeSpec,
    },
    /// Call: stop peer `peer` — at once if `crash`, else after a polite goodbye; reply
    /// [`Reply::Stopped`].
    Stop {
        /// Which peer.
        peer: usize,
        /// Crash (no goodbye) or leave politely.
        crash: bool,
    },
    /// Call: crash Napster's index server; reply [`Reply::Stopped`] for [`Who::Server`].
    KillServer,
    /// Call: cut the network into `sides` (peers by index; Napster's index server and any
    /// peer not listed is on side 0): nothing crosses from one side to another. Reply
    /// [`Reply::Done`].
    Cut {
        /// Peers by side.
        sides: Vec<Vec<usize>>,
    },
    /// Call: end the cut; reply [`Reply::Done`].
    Heal,
    /// Call: read what the network's readiness condition needs; reply [`Reply::Census`].
    Census,
    /// Call: read every running node's counters; reply [`Reply::Snapshot`].
    Snapshot {
        /// Also measure the memory the network's nodes use.
        memory: bool,
    },
    /// Request: search for `text` from peer `peer`; reply [`Reply::Answer`].
    Ask {
        /// Names the answer.
        ticket: Ticket,
        /// The peer that asks (it is up).
        peer: usize,
        /// The query.
        text: String,
    },
    /// Request: download `hit` through peer `peer`; reply [`Reply::Fetched`].
    Fetch {
        /// Names the answer.
        ticket: Ticket,
        /// The peer that downloads (it searched for the file).
        peer: usize,
        /// The hit to download from.
        hit: Hit,
    },
}

/// What happened, for the timeline.
#[derive(Debug)]
pub enum Reply {
    /// A node started at this listen address, or could not be started, and why.
    Started {
        /// Which node.
        who: Who,
        /// Its address, or the error.
        result: Result<SocketAddr, String>,
    },
    /// A node is down now.
    Stopped {
        /// Which node.
        who: Who,
    },
    /// A call with nothing to report is done.
    Done,
    /// What readiness needs.
    Census(Census),
    /// Every running node's counters, and (when asked) the memory they use.
    Snapshot {
        /// The counters.
        snapshot: Snapshot,
        /// KiB of memory the network's nodes use, where the engine can tell.
        memory_kib: Option<u64>,
    },
    /// A search ended.
    Answer {
        /// Which one.
        ticket: Ticket,
        /// When it ended, on the engine's clock.
        at: Instant,
        /// Its hits, or why it has none.
        result: Answer,
    },
    /// A download ended: the bytes received, or why it failed.
    Fetched {
        /// Which one.
        ticket: Ticket,
        /// The file's bytes, or the error.
        result: Result<Vec<u8>, String>,
    },
}

/// What the engine should do now.
#[derive(Debug)]
pub enum Poll {
    /// Carry out this action (and, for a call, reply before polling again).
    Act(Action),
    /// Nothing to do before `until`. If `early`, a request's reply before then may change
    /// that: hand it over as soon as it arrives. If not, replies can wait until `until`
    /// (each is stamped with its own instant), and an engine whose clock is virtual should
    /// not stop before `until`, so that everything due at one instant happens before the
    /// timeline acts.
    Wait {
        /// When to poll again at the latest.
        until: Instant,
        /// Whether to poll again as soon as a reply arrives.
        early: bool,
    },
    /// Step number `k` of the timeline has ended. An engine that plays several networks
    /// side by side waits here for the others; then it polls again.
    Stepped(usize),
    /// The timeline is over: stop every node. Here is the network's report.
    Done(Box<NetworkReport>),
}
