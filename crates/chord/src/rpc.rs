//! Requests in flight: who was asked, on which connection, until when, and why.
//!
//! Every request carries a random 64-bit id that its response repeats. A response is
//! accepted only if its id is pending *and* it came back on the connection the request went
//! out on; anything else is a response to a request never sent, and is dropped. A request
//! that has no answer by its deadline, or whose connection closes, fails: the caller then
//! treats the peer as dead.

use std::collections::BTreeMap;

use p2plab_peer_protocol::{ConnId, Instant};
use rand::RngCore;
use rand_chacha::ChaCha8Rng;

use crate::node_ref::NodeRef;

/// One request awaiting its response.
#[derive(Clone, Debug)]
pub struct Pending<P> {
    /// The node asked.
    pub peer: NodeRef,
    /// The connection the request went out on; `None` while it waits for a free connection
    /// slot (every one of the node's dialled connections busy).
    pub conn: Option<ConnId>,
    /// When it fails if unanswered.
    pub deadline: Instant,
    /// What the answer is for.
    pub purpose: P,
}

/// Pending requests by id.
#[derive(Clone, Debug)]
pub struct RpcTable<P> {
    pending: BTreeMap<u64, Pending<P>>,
}

impl<P> Default for RpcTable<P> {
    fn default() -> Self {
        RpcTable {
            pending: BTreeMap::new(),
        }
    }
}

impl<P> RpcTable<P> {
    /// Registers a request; returns its fresh, non-zero id.
    pub fn start(&mut self, rng: &mut ChaCha8Rng, pending: Pending<P>) -> u64 {
        let id = loop {
            let id = rng.next_u64();
            if id != 0 && !self.pending.contains_key(&id) {
                break id;
            }
        };
        self.pending.insert(id, pending);
        id
    }

    /// Takes the request `id` if its response may come from `conn` (any connection when
    /// `conn` is `None`, for answers that arrive by another path).
    pub fn take(&mut self, id: u64, conn: Option<ConnId>) -> Option<Pending<P>> {
        self.peek(id, conn)?;
        self.pending.remove(&id)
    }

    /// The request [`RpcTable::take`] would take, left in place.
    pub fn peek(&self, id: u64, conn: Option<ConnId>) -> Option<&Pending<P>> {
        self.pending
            .get(&id)
            .filter(|p| conn.is_none_or(|c| Some(c) == p.conn))
    }

    /// Takes every request whose deadline has passed.
    pub fn expired(&mut self, now: Instant) -> Vec<Pending<P>> {
        self.take_where(|p| p.deadline <= now)
    }

    /// Takes every request sent on `conn` (it closed).
    pub fn on_closed(&mut self, conn: ConnId) -> Vec<Pending<P>> {
        self.take_where(|p| p.conn == Some(conn))
    }

    /// The connections some request waits on for its answer, sorted: one pass over the
    /// requests in flight, however many connections are then asked about.
    pub fn conns_waited_on(&self) -> Vec<ConnId> {
        let mut conns: Vec<ConnId> = self.pending.values().filter_map(|p| p.conn).collect();
        conns.sort_unstable();
        conns.dedup();
        conns
    }

    /// True while request `id` waits for a connection slot (not sent, not yet failed).
    pub fn is_unsent(&self, id: u64) -> bool {
        self.pending.get(&id).is_some_and(|p| p.conn.is_none())
    }

    /// Records the connection a waiting request finally goes out on, and its deadline:
    /// the peer's time to answer starts when the request leaves.
    pub fn sent_on(&mut self, id: u64, conn: ConnId, deadline: Instant) {
        if let Some(p) = self.pending.get_mut(&id) {
            p.conn = Some(conn);
            p.deadline = deadline;
        }
    }

    /// The earliest deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.pending.values().map(|p| p.deadline).min()
    }

    /// Requests in flight.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// True when nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Takes every request `pred` holds for, soonest deadline first.
    pub fn take_where(&mut self, pred: impl Fn(&Pending<P>) -> bool) -> Vec<Pending<P>> {
        let ids: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| pred(p))
            .map(|(id, _)| *id)
            .collect();
        let mut out: Vec<Pending<P>> = ids
            .into_iter()
            .filter_map(|id| self.pending.remove(&id))
            .collect();
        out.sort_by_key(|p| p.deadline);
        out
    }
}
