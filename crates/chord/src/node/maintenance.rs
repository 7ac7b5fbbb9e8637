//! Keeping the ring whole (ToN Fig. 6), plus a voluntary leave.
//!
//! ```text
//! n.create()            predecessor = nil; successor = n
//! n.join(n')            predecessor = nil; successor = n'.find_successor(n)
//! n.stabilize()         x = successor.predecessor
//!                       if x ∈ (n, successor) then successor = x
//!                       successor.notify(n)
//! n.notify(n')          if predecessor is nil or n' ∈ (predecessor, n) then predecessor = n'
//! n.fix_fingers()       next = next + 1; if next > m then next = 1
//!                       finger[next] = find_successor(n + 2^(next-1))
//! n.check_predecessor() if predecessor has failed then predecessor = nil
//! ```
//!
//! # Implementation notes
//!
//! - `stabilize`'s question also returns the successor's successor list, from which ours is
//!   rebuilt (ToN §V-B); a successor that does not answer is dropped and the next one
//!   asked at once.
//! - When `stabilize` adopts a closer successor it asks that one at once instead of waiting
//!   a period: each step moves strictly closer, so this ends, and a crowd that joined
//!   through one node sorts itself out in round trips rather than in periods.
//! - `notify` hands the keys in `(old predecessor, n']` to a new predecessor that joined
//!   between: they are its keys now.
//! - The paper's stabilization assumes a node never loses its whole successor list. It can:
//!   a partition, or a node starved of CPU long enough that every neighbour timed it out.
//!   Such a node is then a ring of one that nobody points at, and `stabilize` alone never
//!   brings it back. It looks up its own successor again, as a join does, starting from its
//!   bootstrap node and the successors it lost (the ring's creator has only the latter),
//!   but stays in the ring meanwhile: it keeps answering and keeps its entries.
//! - `fix_fingers` fills a finger without a message when its start lies in
//!   `(n, successor]`, and one lookup answer fills every following finger whose start it
//!   also covers ([`FingerTable::fill`](crate::finger::FingerTable::fill)); only about log N
//!   fingers ever need a lookup.

use std::net::SocketAddr;

use p2plab_peer_protocol::{Event, Instant, Outbox, RequestId, SearchError};

use super::{ChordNode, Goal, Phase, Purpose, Timer};
use crate::message::Message;
use crate::node_ref::NodeRef;

impl ChordNode {
    /// `n.create()`: a new ring of one.
    pub(super) fn create(&mut self, now: Instant, out: &mut Outbox) {
        self.phase = Phase::Joined;
        self.predecessor = None;
        self.publish_all(now, out);
        // Alone, we own every key; the nodes that join take their shares by hand-over,
        // and the early re-publications put right whatever a hand-over still in flight
        // missed — as for a node that joins.
        self.republish_soon(now);
    }

    /// `n.join(n')`: find our successor through `bootstrap`.
    pub(super) fn join(&mut self, now: Instant, bootstrap: SocketAddr, out: &mut Outbox) {
        tracing::debug!(%bootstrap, "joining");
        self.phase = Phase::Joining;
        self.predecessor = None;
        self.start_lookup(now, self.me.id, Goal::Join, out);
    }

    /// Why the node cannot answer a lookup correctly yet, or `None` when it can.
    ///
    /// In the paper's terms (ToN §IV-C and Theorem IV.2), a lookup is correct once the
    /// successor pointers are: `find_successor` walks fingers only as shortcuts, and
    /// successors alone decide the answer. So a node can answer once it has a successor
    /// that is not itself — or is alone by right, as the ring's creator is before anyone
    /// joins. It cannot while it is still joining (its successor is the join lookup's
    /// answer, not yet known), nor once it has lost every successor and looks for the ring
    /// again: the empty answer it would give is a false "not found". The node's own key
    /// range is a second condition, for the keys it owns (see `owns_range_known`).
    pub(super) fn not_ready(&self) -> Option<String> {
        let through = || {
            self.config
                .join
                .map_or_else(String::new, |a| format!(" through {a}"))
        };
        match self.phase {
            Phase::Fresh | Phase::Joining => Some(format!(
                "still joining the ring{}: no successor yet",
                through()
            )),
            Phase::Joined
                if self.successor().id == self.me.id && self.ring_contacts().next().is_some() =>
            {
                Some(format!(
                    "no live successor: every neighbour was lost; looking for the ring again{}",
                    through()
                ))
            }
            Phase::Joined => None,
            Phase::Left => Some("this node has left the ring".to_owned()),
        }
    }

    /// Whether the node knows which keys it owns: `(predecessor, n]` needs a predecessor.
    /// A node that joined (or whose predecessor failed) has none until the next `notify`;
    /// until then a key that routes to it may still sit at the node that held it before.
    /// A ring of one owns every key.
    pub(super) fn owns_range_known(&self) -> bool {
        self.predecessor.is_some() || self.successor().id == self.me.id
    }

    /// Where a lookup of our own successor starts: the bootstrap node, then the successors
    /// we lost, newest first. Empty for the node that created the ring, until it loses one.
    pub(super) fn ring_contacts(&self) -> impl Iterator<Item = NodeRef> + '_ {
        let bootstrap = self.config.join.filter(|a| *a != self.me.addr);
        bootstrap
            .map(|a| NodeRef::at(a, self.ring))
            .into_iter()
            .chain(self.lost_successors.newest_first())
    }

    /// True while a lookup of our own successor is under way.
    fn is_finding_own_successor(&self) -> bool {
        self.lookups.values().any(|a| matches!(a.goal, Goal::Join))
    }

    /// The join lookup found our successor: we are in the ring (or, if we had lost every
    /// neighbour, back in it; our entries stayed with us, and stabilize does the rest).
    pub(super) fn joined(&mut self, now: Instant, successor: NodeRef, out: &mut Outbox) {
        if successor.id == self.me.id {
            return;
        }
        match self.phase {
            Phase::Joining => {
                self.phase = Phase::Joined;
                self.republish_soon(now);
            }
            Phase::Joined if self.successor().id == self.me.id => {}
            Phase::Joined | Phase::Fresh | Phase::Left => return,
        }
        self.successors.set_successor(successor);
        self.fingers.fill(1, successor);
        self.stabilize(now, out);
    }

    /// Publishes once the ring has had a moment to take us in, then again after waits that
    /// double up to the republish period (see `ChordNode::republish_gap`).
    fn republish_soon(&mut self, now: Instant) {
        self.republish_gap = self.config.stabilize_every * 2;
        self.timers.set(Timer::Republish, now + self.republish_gap);
    }

    /// `n.stabilize()`, or a retry of a join that has not completed.
    pub(super) fn stabilize(&mut self, now: Instant, out: &mut Outbox) {
        match self.phase {
            Phase::Joining => {
                let joining = self.is_finding_own_successor();
                if let (false, Some(bootstrap)) = (joining, self.config.join) {
                    self.join(now, bootstrap, out);
                }
            }
            Phase::Joined => {
                self.suspects.expire(now);
                let succ = self.successor();
                if succ.id == self.me.id {
                    // Alone (or all successors lost): our predecessor, if any, follows us.
                    // With none either, nobody will ever tell us of the ring again (the
                    // others dropped us too): look for it as a join does.
                    if let Some(p) = self.predecessor {
                        self.successors.set_successor(p);
                        self.send_notify(now, out);
                    } else if self.ring_contacts().next().is_some()
                        && !self.is_finding_own_successor()
                    {
                        tracing::debug!("lost every neighbour; looking for the ring again");
                        self.start_lookup(now, self.me.id, Goal::Join, out);
                    }
                } else {
                    self.request(now, succ, Message::GetPredecessor, Purpose::Stabilize, out);
                    self.ask_lost_successor(now, out);
                }
            }
            Phase::Fresh | Phase::Left => {}
        }
    }

    /// The successor told us its predecessor and successor list.
    pub(super) fn on_neighbours(
        &mut self,
        now: Instant,
        succ: NodeRef,
        predecessor: Option<NodeRef>,
        successors: &[NodeRef],
        out: &mut Outbox,
    ) {
        if succ != self.successor() {
            return;
        }
        // What the successor reports may still name nodes we just saw fail.
        let believable = |n: &NodeRef| !self.suspects.contains(n.addr, now);
        let successors: Vec<NodeRef> = successors.iter().copied().filter(believable).collect();
        let closer = predecessor
            .filter(believable)
            .filter(|x| self.ring.in_open(x.id, self.me.id, succ.id));
        self.successors.adopt(succ, &successors);
        if let Some(x) = closer {
            self.successors.set_successor(x);
        }
        self.fingers.fill(1, self.successor());
        self.send_notify(now, out);
        if closer.is_some() {
            // Walk on at once: after many joins at one spot, the true successor may be
            // several predecessor hops away, and one hop per period would take long.
            self.stabilize(now, out);
        }
    }

    /// Ring unification (see [`crate::lost`]): puts `stabilize`'s question to the first
    /// lost successor due to be asked again, unless it is a successor again already.
    fn ask_lost_successor(&mut self, now: Instant, out: &mut Outbox) {
        let max_gap = self.config.stabilize_every * crate::LOST_PROBE_MAX_PERIODS;
        while let Some(lost) = self.lost_successors.next_due(now, max_gap) {
            if self.successors.as_slice().contains(&lost) {
                self.lost_successors.remove(lost.addr);
                continue;
            }
            if !self.suspects.contains(lost.addr, now) {
                self.request(now, lost, Message::GetPredecessor, Purpose::Unify, out);
            }
            return;
        }
    }

    /// A lost successor answered: it is alive. If it, or a node it names, lies between us
    /// and our successor — the ring it is on is not ours, or ours missed it — the nearest
    /// such node becomes our successor, and `stabilize` walks on from there at once.
    pub(super) fn on_lost_answered(
        &mut self,
        now: Instant,
        lost: NodeRef,
        predecessor: Option<NodeRef>,
        successors: &[NodeRef],
        out: &mut Outbox,
    ) {
        self.lost_successors.remove(lost.addr);
        self.suspects.clear(lost.addr);
        let succ = self.successor();
        let closer = std::iter::once(lost)
            .chain(predecessor)
            .chain(successors.iter().copied())
            .filter(|n| !self.suspects.contains(n.addr, now))
            .filter(|n| self.ring.in_open(n.id, self.me.id, succ.id))
            .min_by_key(|n| self.ring.distance(self.me.id, n.id));
        if let Some(x) = closer {
            tracing::debug!(node = %x.addr, "a lost successor's ring meets ours again");
            self.successors.set_successor(x);
            self.fingers.fill(1, x);
            self.stabilize(now, out);
        }
    }

    fn send_notify(&mut self, now: Instant, out: &mut Outbox) {
        let succ = self.successor();
        if succ.id != self.me.id {
            self.send_to(now, succ.addr, 0, Message::Notify { node: self.me }, out);
        }
    }

    /// `n.notify(n')`: `n'` thinks it might be our predecessor.
    pub(super) fn notify(&mut self, now: Instant, n: NodeRef, out: &mut Outbox) {
        if n.id == self.me.id {
            return;
        }
        self.suspects.clear(n.addr);
        let adopt = match self.predecessor {
            None => true,
            Some(p) => self.ring.in_open(n.id, p.id, self.me.id),
        };
        if !adopt {
            return;
        }
        // The keys in (old predecessor, n] are n's now. With no old predecessor (the
        // ring's creator, a node that just joined, or one whose predecessor died), all we
        // know is that the keys in (n, us] stay ours: n gets copies of every other one.
        let from = self.predecessor.replace(n).map_or(self.me.id, |old| old.id);
        self.hand_over(now, from, n, out);
    }

    /// `n.fix_fingers()`: refresh the next finger.
    pub(super) fn fix_fingers(&mut self, now: Instant, out: &mut Outbox) {
        if self
            .lookups
            .values()
            .any(|a| matches!(a.goal, Goal::FixFinger(_)))
        {
            return;
        }
        let i = self.fingers.advance();
        let start = self.fingers.start(i);
        let succ = self.successor();
        if self.ring.in_half_open(start, self.me.id, succ.id) {
            self.fingers.fill(i, succ);
        } else {
            self.start_lookup(now, start, Goal::FixFinger(i), out);
        }
    }

    /// `n.check_predecessor()`: ping the predecessor; no answer clears it. The same tick
    /// checks a few of the holders our records name ([`Self::check_holders`]).
    pub(super) fn check_predecessor(&mut self, now: Instant, out: &mut Outbox) {
        if let Some(p) = self.predecessor {
            self.request(now, p, Message::Ping, Purpose::CheckPredecessor, out);
        }
        self.check_holders(now, out);
    }

    /// Pings the next [`crate::HOLDER_PINGS_PER_ROUND`] distinct holders named by the
    /// records this node stores, in turn (a cursor walks them in address order); one that
    /// does not answer loses every record that names its address, and nothing else (see
    /// [`Self::drop_holder`]).
    ///
    /// Why the storing node checks, and not a short record TTL: a TTL short enough to be
    /// seconds would make every publisher re-send every record (files x keywords x
    /// replicas) that often. A storing node holds records of far fewer distinct holders
    /// than records, and one ping learns about all of a holder's records at once.
    ///
    /// - **Bound:** with H distinct holders in the store, a dead holder's records leave
    ///   within `ceil(H / HOLDER_PINGS_PER_ROUND)` check periods (`check_predecessor_every`)
    ///   plus one RPC timeout; any other request that finds it dead drops them at once, for
    ///   free. A ping that never got a connection slot blames nobody, so under our own
    ///   congestion the next cycle retries. The entry TTL stays the backstop, also for a
    ///   holder that answers pings but no longer shares the file.
    /// - **Cost:** at most `HOLDER_PINGS_PER_ROUND` pings and their pongs per check period
    ///   per node, charged as upkeep, whatever the store holds: holder addresses come from
    ///   peers' `store`s, so a peer that names thousands of made-up holders only makes the
    ///   cycle longer, never the pings more frequent.
    fn check_holders(&mut self, now: Instant, out: &mut Outbox) {
        let holders = self
            .store
            .holders_after(self.holder_cursor, crate::HOLDER_PINGS_PER_ROUND);
        self.holder_cursor = holders.last().copied().or(self.holder_cursor);
        let me = self.me.addr;
        for addr in holders.into_iter().filter(|a| *a != me) {
            let peer = NodeRef::at(addr, self.ring);
            self.request(now, peer, Message::Ping, Purpose::CheckHolder, out);
        }
    }

    /// A lookup started by ring upkeep ended.
    pub(super) fn upkeep_lookup_done(
        &mut self,
        now: Instant,
        goal: &Goal,
        found: Option<NodeRef>,
        out: &mut Outbox,
    ) {
        match (goal, found) {
            (Goal::Join, Some(s)) => self.joined(now, s, out),
            (Goal::FixFinger(i), Some(s)) => {
                self.fingers.fill(*i, s);
            }
            _ => {}
        }
    }

    /// Leaves voluntarily: our keys go to the successor, both neighbours learn to route
    /// around us, then the node goes quiet.
    pub(super) fn leave(&mut self, now: Instant, request: RequestId, out: &mut Outbox) {
        if self.phase == Phase::Joined {
            let succ = self.successor();
            let msg = Message::Leaving {
                node: self.me,
                predecessor: self.predecessor,
                successors: self.successors.as_slice().to_vec(),
            };
            let mut told: Vec<SocketAddr> = Vec::new();
            for n in [Some(succ), self.predecessor].into_iter().flatten() {
                if n.id != self.me.id && !told.contains(&n.addr) {
                    told.push(n.addr);
                    self.send_to(now, n.addr, 0, msg.clone(), out);
                }
            }
            // After `leaving`, on the same connection: the successor has taken our
            // predecessor as its own by the time our keys arrive, so it owns them.
            if succ.id != self.me.id {
                self.hand_over_all(now, succ, out);
            }
        }
        self.phase = Phase::Left;
        self.answer_searches_on_leave(out);
        self.to_publish.clear();
        out.report(Event::Left { request });
        self.close_idle_links(out);
    }

    /// Ends every lookup, and answers each user search still running — looking up its key
    /// or reading its owner's records — with [`SearchError::Left`], as a search asked
    /// after the leave is answered ([`Command::answer_when_left`]): the node's part in the
    /// ring ends here, and no answer to them would be read.
    ///
    /// [`Command::answer_when_left`]: p2plab_peer_protocol::Command::answer_when_left
    fn answer_searches_on_leave(&mut self, out: &mut Outbox) {
        let looking = std::mem::take(&mut self.lookups)
            .into_values()
            .filter_map(|a| match a.goal {
                Goal::Search(run) => Some(run),
                _ => None,
            });
        let reading = self
            .rpc
            .take_where(|p| matches!(p.purpose, Purpose::Get(_)))
            .into_iter()
            .filter_map(|p| match p.purpose {
                Purpose::Get(run) => Some(run),
                _ => None,
            });
        for run in looking.chain(reading).collect::<Vec<_>>() {
            out.report(Event::SearchDone {
                request: run.request,
                result: Err(SearchError::Left),
            });
        }
    }

    /// A neighbour is leaving: route around it.
    pub(super) fn on_leaving(
        &mut self,
        node: NodeRef,
        predecessor: Option<NodeRef>,
        successors: &[NodeRef],
    ) {
        if self.predecessor == Some(node) {
            self.predecessor = predecessor.filter(|p| p.id != self.me.id);
        }
        if self.successor() == node {
            if let Some((first, rest)) = successors.split_first() {
                self.successors.adopt(*first, rest);
            }
        }
        self.successors.remove(node.addr);
        self.fingers.forget(node.addr);
    }
}
