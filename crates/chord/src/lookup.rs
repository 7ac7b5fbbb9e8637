//! The iterative lookup: `find_successor(target)` driven by the node that asks.
//!
//! ToN Fig. 5 writes `find_successor` recursively; run *iteratively* (ToN §IV-C), the
//! requester asks each hop in turn "what is the successor of `target`, or whom should I ask
//! next?" and moves on itself. A [`Lookup`] is that loop as a state machine with no I/O, in
//! the style of rust-libp2p kad's `ClosestPeersIter`: the node calls [`Lookup::next`] to learn
//! what to do, sends the RPC, and feeds back [`Lookup::on_reply`] or [`Lookup::on_timeout`].
//!
//! # Implementation notes
//!
//! - Candidates are kept sorted by clockwise distance *to* the target: the best candidate is
//!   the one that most closely precedes it, exactly `closest_preceding_node`'s choice.
//! - A reply may only point forward: nodes in a [`Answer::Closer`] from `x` must lie in
//!   `(x, target)`, and a [`Answer::SuccessorIs`] from `x` naming `s` must have
//!   `target ∈ (x, s]`. Anything else is ignored, so a confused or lying peer cannot send the
//!   lookup in circles, and every lookup ends.
//! - One RPC is in flight at a time (Chord's lookups are sequential). When a hop fails the
//!   lookup falls back to the next-best candidate it has heard of — "skipped to the
//!   next-best finger" — and pays one timeout for it.
//! - Hops are the replies from other nodes: the path length the paper measures. The
//!   origin's own answer (a table lookup, no message) is free.

use std::time::Duration;

use p2plab_peer_protocol::Instant;

use crate::id::{Id, Ring};
use crate::node_ref::NodeRef;
use crate::MAX_LOOKUP_ASKS;

/// One node's answer to "find the successor of `target`".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// `target ∈ (me, successor]`: this is successor(target).
    SuccessorIs(NodeRef),
    /// Ask one of these, best first.
    Closer(Vec<NodeRef>),
}

/// What the lookup wants next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Ask this node for its [`Answer`].
    Ask(NodeRef),
    /// An answer is awaited; call again after [`Lookup::on_reply`] or [`Lookup::on_timeout`].
    Waiting,
    /// The lookup is over: `node` is successor(target).
    Found {
        /// successor(target).
        node: NodeRef,
        /// Replies it took.
        hops: u32,
    },
    /// Every candidate failed, or the lookup hit [`MAX_LOOKUP_ASKS`].
    Failed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    NotAsked,
    /// Asked; failed if no answer by this deadline.
    Waiting(Instant),
    Answered,
    Failed,
}

#[derive(Clone, Debug)]
struct Candidate {
    node: NodeRef,
    state: State,
}

/// An iterative `find_successor(target)` in progress.
#[derive(Clone, Debug)]
pub struct Lookup {
    ring: Ring,
    target: Id,
    /// How long an asked node has to answer.
    timeout: Duration,
    /// The node running the lookup, asked first and for free.
    origin: Option<Candidate>,
    /// Sorted by distance to the target, nearest first.
    candidates: Vec<Candidate>,
    found: Option<NodeRef>,
    asked: usize,
    path: Vec<NodeRef>,
}

impl Lookup {
    /// A lookup of `target` that starts with `seeds`.
    ///
    /// `origin` is the node running the lookup, when it is part of the ring: it is asked
    /// first (locally, for free) and its answer is not counted as a hop. A joining node has
    /// no useful answer and passes `None` with its bootstrap node as the seed.
    pub fn new(
        ring: Ring,
        target: Id,
        timeout: Duration,
        origin: Option<NodeRef>,
        seeds: impl IntoIterator<Item = NodeRef>,
    ) -> Self {
        let mut lookup = Lookup {
            ring,
            target,
            timeout,
            origin: origin.map(|node| Candidate {
                node,
                state: State::NotAsked,
            }),
            candidates: Vec::new(),
            found: None,
            asked: 0,
            path: Vec::new(),
        };
        for node in seeds {
            lookup.insert(node);
        }
        lookup
    }

    /// The identifier being looked up.
    pub fn target(&self) -> Id {
        self.target
    }

    /// Replies received so far from nodes other than the origin.
    pub fn hops(&self) -> u32 {
        self.path.len() as u32
    }

    /// The nodes that answered, in order (the origin excluded).
    pub fn path(&self) -> &[NodeRef] {
        &self.path
    }

    /// What to do now. A node asked more than the timeout ago counts as failed.
    pub fn next(&mut self, now: Instant) -> Step {
        for c in self.origin.iter_mut().chain(self.candidates.iter_mut()) {
            if matches!(c.state, State::Waiting(deadline) if deadline <= now) {
                c.state = State::Failed;
            }
        }
        if let Some(node) = self.found {
            return Step::Found {
                node,
                hops: self.hops(),
            };
        }
        let all = || self.origin.iter().chain(&self.candidates);
        if all().any(|c| matches!(c.state, State::Waiting(_))) {
            return Step::Waiting;
        }
        if let Some(o) = self.origin.as_mut().filter(|o| o.state == State::NotAsked) {
            o.state = State::Waiting(now + self.timeout);
            return Step::Ask(o.node);
        }
        if self.asked >= MAX_LOOKUP_ASKS {
            return Step::Failed;
        }
        match self
            .candidates
            .iter_mut()
            .find(|c| c.state == State::NotAsked)
        {
            Some(c) => {
                c.state = State::Waiting(now + self.timeout);
                self.asked += 1;
                Step::Ask(c.node)
            }
            None => Step::Failed,
        }
    }

    /// `from` answered. Answers from nodes not being waited on are ignored.
    pub fn on_reply(&mut self, from: Id, answer: Answer) {
        let Some(c) = self.waiting_on(from) else {
            return;
        };
        let asked = c.node;
        c.state = State::Answered;
        if self.origin.as_ref().is_none_or(|o| o.node.id != from) {
            self.path.push(asked);
        }
        match answer {
            Answer::SuccessorIs(s) if self.ring.in_half_open(self.target, from, s.id) => {
                self.found = Some(s);
            }
            Answer::SuccessorIs(_) => {
                tracing::debug!(%from, "successor answer that does not cover the target");
            }
            Answer::Closer(nodes) => {
                for n in nodes {
                    if self.ring.in_open(n.id, from, self.target) {
                        self.insert(n);
                    }
                }
            }
        }
    }

    /// Asking `from` failed (timeout or lost connection): it will not be asked again.
    pub fn on_timeout(&mut self, from: Id) {
        if let Some(c) = self.waiting_on(from) {
            c.state = State::Failed;
        }
    }

    fn waiting_on(&mut self, id: Id) -> Option<&mut Candidate> {
        self.origin
            .iter_mut()
            .chain(self.candidates.iter_mut())
            .find(|c| c.node.id == id && matches!(c.state, State::Waiting(_)))
    }

    /// Adds a candidate in distance order, unless already known.
    fn insert(&mut self, node: NodeRef) {
        if self
            .origin
            .iter()
            .chain(&self.candidates)
            .any(|c| c.node.id == node.id)
        {
            return;
        }
        let d = self.ring.distance(node.id, self.target);
        let pos = self
            .candidates
            .partition_point(|c| self.ring.distance(c.node.id, self.target) < d);
        self.candidates.insert(
            pos,
            Candidate {
                node,
                state: State::NotAsked,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, SocketAddr};

    /// The ToN paper's example ring: m = 6, ten nodes (Fig. 3).
    const NODES: [u64; 10] = [1, 8, 14, 21, 32, 38, 42, 48, 51, 56];
    const TIMEOUT: Duration = Duration::from_secs(1);

    fn node(id: u64) -> NodeRef {
        NodeRef {
            id: Id::from_u64(id),
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, id as u16)),
        }
    }

    /// successor(k) on the example ring.
    fn successor(k: u64) -> u64 {
        NODES.iter().copied().find(|n| *n >= k).unwrap_or(NODES[0])
    }

    /// What node `n` answers with perfect fingers, as `ChordNode::answer` does.
    fn answer(n: u64, target: Id) -> Answer {
        let ring = Ring::new(6);
        let succ = successor((n + 1) % 64);
        if ring.in_half_open(target, Id::from_u64(n), Id::from_u64(succ)) {
            return Answer::SuccessorIs(node(succ));
        }
        let mut fingers: Vec<u64> = (0..6).map(|i| successor((n + (1 << i)) % 64)).collect();
        fingers.dedup();
        fingers.retain(|f| ring.in_open(Id::from_u64(*f), Id::from_u64(n), target));
        fingers.sort_by_key(|f| ring.distance(Id::from_u64(*f), target));
        Answer::Closer(fingers.into_iter().take(4).map(node).collect())
    }

    /// Runs `lookup` against the example ring; `dead` nodes never answer.
    fn run(lookup: &mut Lookup, dead: &[u64]) -> Step {
        let mut now = Instant::ZERO;
        loop {
            match lookup.next(now) {
                Step::Ask(n) if dead.contains(&n.id.low_u64()) => now += TIMEOUT,
                Step::Ask(n) => lookup.on_reply(n.id, answer(n.id.low_u64(), lookup.target())),
                Step::Waiting => now += TIMEOUT,
                end => return end,
            }
        }
    }

    #[test]
    fn the_papers_lookup_of_54_from_8_goes_via_42_and_51_to_56() {
        let mut l = Lookup::new(Ring::new(6), Id::from_u64(54), TIMEOUT, Some(node(8)), []);
        let end = run(&mut l, &[]);
        assert_eq!(
            end,
            Step::Found {
                node: node(56),
                hops: 2
            }
        );
        assert_eq!(l.path(), [node(42), node(51)]);
    }

    #[test]
    fn a_dead_hop_times_out_and_the_next_best_finger_is_asked() {
        let mut l = Lookup::new(Ring::new(6), Id::from_u64(54), TIMEOUT, Some(node(8)), []);
        let end = run(&mut l, &[42]);
        assert_eq!(
            end,
            Step::Found {
                node: node(56),
                hops: 3
            }
        );
        assert_eq!(l.path(), [node(32), node(48), node(51)]);
    }

    #[test]
    fn every_key_from_every_node_finds_its_successor() {
        for n in NODES {
            for k in 0..64 {
                let mut l = Lookup::new(Ring::new(6), Id::from_u64(k), TIMEOUT, Some(node(n)), []);
                match run(&mut l, &[]) {
                    Step::Found { node: s, hops } => {
                        assert_eq!(s, node(successor(k)), "key {k} from {n}");
                        assert!(hops <= 6);
                    }
                    other => panic!("key {k} from {n}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn answers_that_point_backwards_or_come_unasked_are_ignored() {
        let mut l = Lookup::new(Ring::new(6), Id::from_u64(54), TIMEOUT, Some(node(8)), []);
        assert_eq!(l.next(Instant::ZERO), Step::Ask(node(8)));
        l.on_reply(Id::from_u64(8), answer(8, Id::from_u64(54)));
        assert_eq!(l.next(Instant::ZERO), Step::Ask(node(42)));
        // 32 was never asked (it is only a candidate): ignored.
        l.on_reply(Id::from_u64(32), Answer::SuccessorIs(node(38)));
        // 42 points back at 14, behind itself.
        l.on_reply(Id::from_u64(42), Answer::Closer(vec![node(14)]));
        assert_eq!(
            l.next(Instant::ZERO),
            Step::Ask(node(32)),
            "14 was not accepted"
        );
        // 32 claims 38 as successor(54), which (32, 38] does not cover.
        l.on_reply(Id::from_u64(32), Answer::SuccessorIs(node(38)));
        assert_eq!(l.next(Instant::ZERO), Step::Ask(node(21)));
        l.on_timeout(Id::from_u64(21));
        assert_eq!(l.next(Instant::ZERO), Step::Ask(node(14)));
        l.on_timeout(Id::from_u64(14));
        assert_eq!(l.next(Instant::ZERO), Step::Failed);
    }

    #[test]
    fn a_joining_node_starts_from_its_bootstrap_only() {
        let mut l = Lookup::new(Ring::new(6), Id::from_u64(26), TIMEOUT, None, [node(1)]);
        let end = run(&mut l, &[]);
        assert!(matches!(end, Step::Found { node: n, .. } if n == node(32)));
        assert_eq!(
            l.path().first(),
            Some(&node(1)),
            "the bootstrap answer is a hop"
        );
    }
}
