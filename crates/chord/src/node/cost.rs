//! Cost by cause: which of a node's messages a user's search caused.
//!
//! The rule of [`p2plab_peer_protocol::Metrics`] (each message charged once, by the node
//! that knows why it was sent) works out for Chord as follows:
//!
//! - **Requests** are charged by their sender, from what they are for
//!   ([`Purpose`]): a `find_successor` step or a `route_recursive` of a lookup whose goal is
//!   a search, and the search's `get`, are the search's; the rest (`stabilize`,
//!   `fix_fingers`, re-publication, `check_predecessor`) is upkeep.
//! - **Replies to a lookup step** (`successor_is`, `closer_nodes`) cannot be charged by
//!   the node that answers: it cannot tell a search's lookup from `fix_fingers`. The origin
//!   charges them when they arrive on the connection its request went out on, for as long
//!   as that request is pending — exactly the replies [`RpcTable::take`] accepts.
//! - **A recursive lookup's forwards** never pass the origin. Its answer reports `hops`,
//!   the nodes that handled the lookup; the origin sent the first `route_recursive` (and
//!   charged it), so `hops − 1` forwards followed, each the same message as the first but
//!   for its fixed-width hop count, and one `recursive_found` came back — unless the
//!   lookup's route ended at the origin itself, which then answers itself for free.
//! - Everything else is charged by its sender by kind ([`MessageKind::cause`]): the index
//!   read's `values` is a search's, the rest upkeep.
//!
//! So on a converged ring an iterative search costs `2 × hops` messages plus its `get` and
//! `values`, and a recursive one `hops` forwards, the answer, and the same two.
//!
//! [`RpcTable::take`]: crate::rpc::RpcTable::take
//! [`MessageKind::cause`]: p2plab_peer_protocol::MessageKind::cause

use p2plab_peer_protocol::{Cause, ConnId, MessageKind, WireMessage};

use super::{ChordNode, Goal, Purpose};
use crate::message::{Frame, Message};
use crate::node_ref::NodeRef;

/// What a message that is not one of our requests is charged to: its kind's cause, or
/// upkeep for the lookup kinds whose cause is charged elsewhere (by the lookup's origin).
pub(super) fn by_kind(frame: &Frame) -> Cause {
    frame.kind().cause().unwrap_or(Cause::Upkeep)
}

impl ChordNode {
    /// What a request of ours for `purpose` is charged to.
    pub(super) fn request_cause(&self, purpose: &Purpose) -> Cause {
        match purpose {
            Purpose::Ask { lookup } | Purpose::Recursive { lookup } => self.lookup_cause(*lookup),
            Purpose::Get(_) => Cause::Search,
            Purpose::Stabilize
            | Purpose::CheckPredecessor
            | Purpose::CheckHolder
            | Purpose::Unify => Cause::Upkeep,
        }
    }

    /// What lookup `lookup`'s messages are charged to: a search's, or upkeep.
    fn lookup_cause(&self, lookup: u64) -> Cause {
        match self.lookups.get(&lookup).map(|a| &a.goal) {
            Some(Goal::Search(_)) => Cause::Search,
            _ => Cause::Upkeep,
        }
    }

    /// Charges a lookup step's reply, just read off `conn` (`len` bytes), to its lookup's
    /// cause, if it answers a step we still wait for on that connection.
    pub(super) fn charge_reply(&mut self, conn: ConnId, frame: &Frame, len: usize) {
        if !matches!(
            frame.msg,
            Message::SuccessorIs { .. } | Message::CloserNodes { .. }
        ) {
            return;
        }
        let cause = match self.rpc.peek(frame.request, Some(conn)).map(|p| &p.purpose) {
            Some(Purpose::Ask { lookup }) => self.lookup_cause(*lookup),
            _ => Cause::Upkeep,
        };
        self.metrics.charge(cause, len);
    }

    /// Charges what recursive lookup `lookup` cost beyond the request we sent: the
    /// `hops − 1` forwards that followed it and, if it came over the wire (`answer`), the
    /// answer.
    pub(super) fn charge_recursive(&mut self, lookup: u64, hops: u8, answer: Option<&Frame>) {
        let cause = self.lookup_cause(lookup);
        let Some(active) = self.lookups.get(&lookup) else {
            return;
        };
        let forward = Frame {
            request: 0,
            msg: Message::RouteRecursive {
                origin: self.me,
                target: active.lookup.target(),
                hops: 0,
            },
        }
        .encoded_len();
        for _ in 1..hops {
            self.metrics.charge(cause, forward);
        }
        if let Some(answer) = answer {
            self.metrics.charge(cause, answer.encoded_len());
        }
    }
}

/// The answer a recursive lookup's last hop sends its origin, as it went on the wire.
pub(super) fn recursive_answer(request: u64, node: NodeRef, hops: u8) -> Frame {
    Frame {
        request,
        msg: Message::RecursiveFound { node, hops },
    }
}
