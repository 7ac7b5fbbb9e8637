//! Saying why a joining node cannot get into the ring: its bootstrap node refused the
//! dial, closed on it, never answered, or answered from a ring of another id width.
//!
//! A joining node learns each of these from what happens to its bootstrap link: the close
//! and its [`CloseReason`], the join request's deadline passing, or an answer whose node
//! references are the hashes of their addresses on another ring (`--id-bits` differ: see
//! [`Id::width_of_addr`]). It records the latest as its [`Problem`] — a wider ring's ids
//! do not fit ours, so such an answer is dropped, the join retries at the next stabilize,
//! and the node neither crashes nor spins. Joining clears the problem.

use std::net::SocketAddr;

use p2plab_peer_protocol::{CloseReason, ConnId, Failure, Instant, Problem};

use super::{ChordNode, Phase, Purpose, Timer};
use crate::id::Id;
use crate::node_ref::NodeRef;
use crate::rpc::Pending;

impl ChordNode {
    /// The bootstrap node's address, while we are joining through it.
    fn joining_through(&self) -> Option<SocketAddr> {
        self.config.join.filter(|_| self.phase == Phase::Joining)
    }

    /// Records why the bootstrap at `addr` did not let us in; the join retries at the next
    /// stabilize.
    fn bootstrap_failed(&mut self, now: Instant, addr: SocketAddr, failure: Failure) {
        let retry = self
            .timers
            .get(Timer::Stabilize)
            .map(|t| t.saturating_since(now));
        let problem = Problem::one("bootstrap node", addr, failure, now);
        self.reach.fail(problem.retrying_in(retry));
    }

    /// `conn` closed for `reason` (before the node forgets it): a problem if it was our
    /// link to the bootstrap node.
    pub(super) fn note_link_closed(&mut self, now: Instant, conn: ConnId, reason: CloseReason) {
        let Some(bootstrap) = self.joining_through() else {
            return;
        };
        if self.dialled.get(&bootstrap) == Some(&conn) {
            self.bootstrap_failed(now, bootstrap, Failure::Closed(reason));
        }
    }

    /// Request `p` reached its deadline unanswered: a problem if it asked the bootstrap for
    /// our successor — unless the bootstrap did answer, from another ring (that says more).
    pub(super) fn note_expired(&mut self, now: Instant, p: &Pending<Purpose>) {
        let bootstrap = self.joining_through();
        if p.conn.is_none() || bootstrap != Some(p.peer.addr) {
            return;
        }
        let foreign = self.reach.problem().is_some_and(|old| {
            old.tried
                .iter()
                .any(|a| matches!(a.failure, Failure::Incompatible(_)))
        });
        if !foreign {
            let ms = u64::try_from(self.config.rpc_timeout.as_millis()).unwrap_or(u64::MAX);
            self.bootstrap_failed(now, p.peer.addr, Failure::NoAnswer(ms));
        }
    }

    /// A frame on `conn` carried `refs`, not all genuine on our ring: if they are genuine
    /// on a ring of another width and came from our bootstrap, that is why we cannot join.
    pub(super) fn note_foreign_ids(&mut self, now: Instant, conn: ConnId, refs: &[NodeRef]) {
        let Some(bootstrap) = self.joining_through() else {
            return;
        };
        if self.link_sender(conn).map(|n| n.addr) != Some(bootstrap) {
            return;
        }
        let ours = self.ring.bits();
        let theirs = refs
            .iter()
            .filter(|n| !n.is_genuine(self.ring))
            .find_map(|n| Id::width_of_addr(n.addr, n.id));
        if let Some(theirs) = theirs.filter(|b| *b != ours) {
            let why = format!(
                "it speaks a ring of {theirs}-bit ids, this node {ours}-bit (--id-bits differ)"
            );
            self.bootstrap_failed(now, bootstrap, Failure::Incompatible(why));
        }
    }

    /// After every input: a node in the ring has no problem.
    pub(super) fn clear_reach(&mut self) {
        if self.phase != Phase::Joined || self.reach.problem().is_none() {
            return;
        }
        let via = self
            .config
            .join
            .map_or_else(String::new, |a| format!(" via {a}"));
        self.reach.clear(format_args!("joined the ring{via}"));
    }
}
