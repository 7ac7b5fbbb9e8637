//! `find_successor`, hop by hop (ToN Fig. 5).
//!
//! ```text
//! n.find_successor(id)
//!     if id ∈ (n, successor] return successor
//!     else n' = closest_preceding_node(id); return n'.find_successor(id)
//!
//! n.closest_preceding_node(id)
//!     for i = m downto 1
//!         if finger[i] ∈ (n, id) return finger[i]
//!     return n
//! ```
//!
//! [`ChordNode::answer`] is one step of it, what a node replies to a `find_successor`
//! message: either "the successor is s" or "ask these closer nodes". Under p2plab's
//! [`LookupRules`] (the default), following the paper's §V-B, the candidates come from the
//! successor list as well as the fingers, and several are offered so the asker has a
//! fallback when the best one is dead. Under [`LookupRules::Paper`] the candidates are the
//! fingers alone, as in the pseudocode above, and one is offered: a dead next hop leaves
//! the lookup nothing else to ask, so it fails, as in the papers' simulator.
//!
//! Lookups run iteratively by default: a [`Lookup`] state machine decides whom to ask next.
//! With [`Routing::Recursive`] the first hop is handed a `route_recursive` message that
//! each node forwards to its own closest preceding node; the last one tells the origin. If
//! no answer comes within the RPC timeout, the same lookup is redone iteratively.

use p2plab_peer_protocol::{Instant, Outbox};

use super::{cost, Active, ChordNode, Goal, Purpose};
use crate::config::{LookupRules, Routing};
use crate::id::Id;
use crate::lookup::{Answer, Lookup, Step};
use crate::message::Message;
use crate::node_ref::NodeRef;
use crate::{CLOSER_NODES, MAX_LOOKUP_ASKS};

impl ChordNode {
    /// One step of `find_successor(target)`: the successor if `target ∈ (n, successor]`,
    /// else the closest preceding nodes we know of, best first.
    pub fn answer(&self, target: Id) -> Answer {
        let succ = self.successor();
        if self.ring.in_half_open(target, self.me.id, succ.id) {
            Answer::SuccessorIs(succ)
        } else {
            Answer::Closer(self.closest_preceding_nodes(target, self.next_hops_offered()))
        }
    }

    /// How many next hops an answer offers: fallbacks under p2plab's rules; under the
    /// paper's, the one node of `closest_preceding_node`, so a dead hop ends the lookup.
    fn next_hops_offered(&self) -> usize {
        match self.config.lookup_rules {
            LookupRules::P2plab => CLOSER_NODES,
            LookupRules::Paper => 1,
        }
    }

    /// `closest_preceding_node(id)` (ToN Fig. 5): the known node that most closely
    /// precedes `target`, or ourselves if none does.
    pub fn closest_preceding_node(&self, target: Id) -> NodeRef {
        self.closest_preceding_nodes(target, 1)
            .first()
            .copied()
            .unwrap_or(self.me)
    }

    /// Up to `k` known nodes in `(n, target)`, nearest to `target` first: the fingers and,
    /// under p2plab's [`LookupRules`], the successor list too. Under the paper's rules the
    /// successor list is not consulted — only its head, which is finger 1 by definition
    /// (`finger[1].node = successor`), so a node whose `fix_fingers` has not run yet
    /// still routes.
    ///
    /// One pass over the distinct fingers (about log2 N of them, not m) and the successor
    /// list keeps the best `k` so far in a small sorted array, so a message costs no
    /// allocation beyond its answer.
    pub fn closest_preceding_nodes(&self, target: Id, k: usize) -> Vec<NodeRef> {
        let mut best: Vec<(Id, NodeRef)> = Vec::with_capacity(k + 1);
        let successors = self.successors.as_slice();
        let also_known = match self.config.lookup_rules {
            LookupRules::P2plab => successors,
            LookupRules::Paper => &successors[..successors.len().min(1)],
        };
        for &node in self.fingers.distinct().iter().chain(also_known) {
            if !self.ring.in_open(node.id, self.me.id, target) || best.iter().any(|b| b.1 == node) {
                continue;
            }
            let gap = self.ring.distance(node.id, target);
            // After any equal gap: an earlier entry keeps its place, as a stable sort would.
            let pos = best.partition_point(|b| b.0 <= gap);
            if pos < k {
                best.insert(pos, (gap, node));
                best.truncate(k);
            }
        }
        best.into_iter().map(|(_, node)| node).collect()
    }

    /// Starts a lookup of `target` for `goal`.
    pub(super) fn start_lookup(&mut self, now: Instant, target: Id, goal: Goal, out: &mut Outbox) {
        self.next_lookup += 1;
        let id = self.next_lookup;
        let lookup = match &goal {
            Goal::Join => Lookup::new(
                self.ring,
                target,
                self.config.rpc_timeout,
                None,
                self.ring_contacts(),
            ),
            _ => Lookup::new(
                self.ring,
                target,
                self.config.rpc_timeout,
                Some(self.me),
                [],
            ),
        };
        let recursive = self.config.routing == Routing::Recursive && !matches!(goal, Goal::Join);
        self.lookups.insert(id, Active { lookup, goal });
        if recursive {
            self.start_recursive(now, id, target, out);
        } else {
            self.drive(now, id, out);
        }
    }

    /// Runs lookup `id` until it waits for an answer or ends.
    pub(super) fn drive(&mut self, now: Instant, id: u64, out: &mut Outbox) {
        loop {
            let Some(active) = self.lookups.get_mut(&id) else {
                return;
            };
            let target = active.lookup.target();
            match active.lookup.next(now) {
                Step::Ask(node) if node.id == self.me.id => {
                    let answer = self.answer(target);
                    if let Some(active) = self.lookups.get_mut(&id) {
                        active.lookup.on_reply(self.me.id, answer);
                    }
                }
                Step::Ask(node) => {
                    let msg = Message::FindSuccessor { target };
                    self.request(now, node, msg, Purpose::Ask { lookup: id }, out);
                    return;
                }
                Step::Waiting => return,
                Step::Found { node, hops } => {
                    return self.end_lookup(now, id, Some((node, hops)), out)
                }
                Step::Failed => return self.end_lookup(now, id, None, out),
            }
        }
    }

    /// A lookup step's answer arrived from `from`.
    pub(super) fn on_step_answer(
        &mut self,
        now: Instant,
        id: u64,
        from: NodeRef,
        answer: Answer,
        out: &mut Outbox,
    ) {
        if let Some(active) = self.lookups.get_mut(&id) {
            active.lookup.on_reply(from.id, answer);
        }
        self.drive(now, id, out);
    }

    /// A lookup step got no answer: try the next-best node, and forget the peer if it
    /// was its failure (not a request that never got a connection).
    pub(super) fn on_step_failed(
        &mut self,
        now: Instant,
        id: u64,
        peer: NodeRef,
        peer_failed: bool,
        out: &mut Outbox,
    ) {
        if peer_failed {
            self.forget(now, peer.addr);
        }
        if let Some(active) = self.lookups.get_mut(&id) {
            active.lookup.on_timeout(peer.id);
        }
        self.drive(now, id, out);
    }

    fn end_lookup(
        &mut self,
        now: Instant,
        id: u64,
        found: Option<(NodeRef, u32)>,
        out: &mut Outbox,
    ) {
        if let Some(active) = self.lookups.remove(&id) {
            self.lookup_done(now, active.goal, found, out);
        }
    }

    /// Hands recursive lookup `id` to the first hop, or answers it locally.
    fn start_recursive(&mut self, now: Instant, id: u64, target: Id, out: &mut Outbox) {
        match self.answer(target) {
            Answer::SuccessorIs(s) => self.end_lookup(now, id, Some((s, 0)), out),
            Answer::Closer(nodes) => match nodes.first() {
                Some(first) => {
                    let msg = Message::RouteRecursive {
                        origin: self.me,
                        target,
                        hops: 0,
                    };
                    self.request(now, *first, msg, Purpose::Recursive { lookup: id }, out);
                }
                None => self.drive(now, id, out),
            },
        }
    }

    /// A `route_recursive` reached us: answer the origin, or pass it on.
    pub(super) fn on_route_recursive(
        &mut self,
        now: Instant,
        request: u64,
        origin: NodeRef,
        target: Id,
        hops: u8,
        out: &mut Outbox,
    ) {
        let hops = hops.saturating_add(1);
        match self.answer(target) {
            Answer::SuccessorIs(node) if origin.id == self.me.id => {
                self.recursive_ended(now, request, node, hops, false, out);
            }
            Answer::SuccessorIs(node) => {
                let msg = Message::RecursiveFound { node, hops };
                self.send_to(now, origin.addr, request, msg, out);
            }
            Answer::Closer(nodes) if usize::from(hops) < MAX_LOOKUP_ASKS => {
                if let Some(next) = nodes.first() {
                    let msg = Message::RouteRecursive {
                        origin,
                        target,
                        hops,
                    };
                    self.send_to(now, next.addr, request, msg, out);
                }
            }
            Answer::Closer(_) => self.metrics.record_drop("recursive_hop_limit"),
        }
    }

    /// The end of a recursive lookup arrived.
    pub(super) fn on_recursive_found(
        &mut self,
        now: Instant,
        request: u64,
        node: NodeRef,
        hops: u8,
        out: &mut Outbox,
    ) {
        self.recursive_ended(now, request, node, hops, true, out);
    }

    /// A recursive lookup ended at `node`, after `hops` nodes handled it; its answer came
    /// over the wire if `answered`, else the route ended here.
    fn recursive_ended(
        &mut self,
        now: Instant,
        request: u64,
        node: NodeRef,
        hops: u8,
        answered: bool,
        out: &mut Outbox,
    ) {
        match self.rpc.take(request, None) {
            Some(p) => match p.purpose {
                Purpose::Recursive { lookup } => {
                    let answer = answered.then(|| cost::recursive_answer(request, node, hops));
                    self.charge_recursive(lookup, hops, answer.as_ref());
                    self.end_lookup(now, lookup, Some((node, u32::from(hops))), out)
                }
                other => {
                    self.metrics.record_drop("mismatched_response");
                    self.on_failed(
                        now,
                        crate::rpc::Pending {
                            purpose: other,
                            ..p
                        },
                        out,
                    );
                }
            },
            None => self.metrics.record_drop("unsolicited_response"),
        }
    }
}
