//! The finger table (ToN §IV-D, Table I): m shortcuts around the circle.
//!
//! Entry `i` (1 ≤ i ≤ m) of node `n` is meant to hold `successor(n + 2^(i-1))`, the first
//! node at least `2^(i-1)` past `n`. Finger 1 is the successor; each
//! higher finger reaches twice as far, so a lookup halves its remaining distance per hop and
//! takes O(log N) hops. Only about log2 N entries are distinct: the low fingers all point at
//! the successor.
//!
//! Fingers only make lookups fast; correctness rests on successor pointers. A stale finger
//! costs a detour or a timeout, never a wrong answer.

use std::net::SocketAddr;

use crate::id::{Id, Ring};
use crate::node_ref::NodeRef;

/// Node `owner`'s m fingers, with `fix_fingers`'s cycling index `next`.
#[derive(Clone, Debug)]
pub struct FingerTable {
    owner: Id,
    ring: Ring,
    /// `fingers[i - 1]` is finger i, `None` until found (or after it failed).
    fingers: Vec<Option<NodeRef>>,
    /// The finger `fix_fingers` refreshed last (ToN Fig. 6 `next`), 1-based, 0 at first.
    next: usize,
    /// The distinct fingers in table order, kept up to date by every change: routing
    /// reads them on every message, while the table changes only when a finger is
    /// refreshed or fails. About log2 N entries instead of m.
    distinct: Vec<NodeRef>,
}

impl FingerTable {
    /// An empty table for `owner` on `ring`.
    pub fn new(owner: Id, ring: Ring) -> Self {
        FingerTable {
            owner,
            ring,
            fingers: vec![None; ring.bits() as usize],
            next: 0,
            distinct: Vec::new(),
        }
    }

    /// m, the number of fingers.
    pub fn len(&self) -> usize {
        self.fingers.len()
    }

    /// Always false: a ring has at least one bit.
    pub fn is_empty(&self) -> bool {
        self.fingers.is_empty()
    }

    /// `finger[i].start = n + 2^(i-1) mod 2^m`, for 1 ≤ i ≤ m.
    pub fn start(&self, i: usize) -> Id {
        self.ring.add_pow2(self.owner, i.saturating_sub(1) as u32)
    }

    /// Finger i (1-based).
    pub fn get(&self, i: usize) -> Option<NodeRef> {
        self.fingers.get(i.checked_sub(1)?).copied().flatten()
    }

    /// All fingers, finger 1 first.
    pub fn entries(&self) -> &[Option<NodeRef>] {
        &self.fingers
    }

    /// `next = next + 1; if next > m then next = 1` — the finger to refresh now.
    pub fn advance(&mut self) -> usize {
        self.next = if self.next >= self.len() {
            1
        } else {
            self.next + 1
        };
        self.next
    }

    /// Records `node = successor(start(i))` in finger i, and in every following finger
    /// whose start also lies in `[start(i), node]` — they share that successor. Moves `next`
    /// past them, so the cycle does not look them up again. Returns how many were set.
    pub fn fill(&mut self, i: usize, node: NodeRef) -> usize {
        let Some(first) = i.checked_sub(1).filter(|f| *f < self.len()) else {
            return 0;
        };
        // Every finger whose start lies in [start(i), node] has node for its successor: no
        // node lies between them.
        let reach = self.ring.distance(self.start(i), node.id);
        let end = first + self.ring.fingers_within(i as u32, reach) as usize;
        let covered = &mut self.fingers[first..end];
        let changed = covered.iter().any(|f| *f != Some(node));
        covered.fill(Some(node));
        self.next = self.next.max(end);
        if changed {
            self.refresh_distinct();
        }
        end - first
    }

    /// Clears every finger that points at `addr` (a node that failed).
    pub fn forget(&mut self, addr: SocketAddr) {
        if !self.distinct.iter().any(|n| n.addr == addr) {
            return;
        }
        for f in &mut self.fingers {
            if f.is_some_and(|n| n.addr == addr) {
                *f = None;
            }
        }
        self.refresh_distinct();
    }

    /// Distinct fingers, in table order.
    pub fn distinct(&self) -> &[NodeRef] {
        &self.distinct
    }

    fn refresh_distinct(&mut self) {
        self.distinct.clear();
        for n in self.fingers.iter().flatten() {
            // Equal fingers mostly come in runs (the low ones all hold the successor).
            if self.distinct.last() != Some(n) && !self.distinct.contains(n) {
                self.distinct.push(*n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use crate::node_ref::test_node as node;

    #[test]
    fn starts_double_their_reach() {
        let t = FingerTable::new(Id::from_u64(8), Ring::new(6));
        let starts: Vec<u64> = (1..=6).map(|i| t.start(i).low_u64()).collect();
        assert_eq!(starts, [9, 10, 12, 16, 24, 40]);
    }

    #[test]
    fn one_answer_fills_every_finger_it_covers() {
        let mut t = FingerTable::new(Id::from_u64(8), Ring::new(6));
        assert_eq!(t.advance(), 1);
        assert_eq!(t.fill(1, node(14)), 3, "9, 10 and 12 all have successor 14");
        assert_eq!(t.advance(), 4);
        assert_eq!(t.fill(4, node(21)), 1);
        assert_eq!(t.get(3), Some(node(14)));
        assert_eq!(
            t.fill(5, node(24)),
            1,
            "start 24 is node 24 itself: nothing more"
        );
        assert_eq!(t.get(6), None);
        t.forget(node(14).addr);
        assert_eq!(t.get(2), None);
        assert_eq!(t.distinct(), [node(21), node(24)]);
    }

    /// The rule as the paper states it: finger j takes `node` while its start is in
    /// `[start(i), node]`, going up from i.
    fn covered_by_walking(t: &FingerTable, ring: Ring, i: usize, node: Id) -> usize {
        let from = t.start(i);
        let reach = ring.distance(from, node);
        (i..=t.len())
            .take_while(|&j| j == i || ring.distance(from, t.start(j)) <= reach)
            .count()
    }

    proptest! {
        #[test]
        fn fill_covers_exactly_the_starts_up_to_the_node(
            bits in prop::sample::select(vec![1u32, 2, 6, 31, 64, 127, 128, 129, 159, 160]),
            owner: [u8; 20],
            target: [u8; 20],
            i in 1usize..=160,
        ) {
            let ring = Ring::new(bits);
            let i = 1 + (i - 1) % bits as usize;
            let owner = ring.distance(Id::ZERO, Id::from_bytes(owner));
            let target = ring.distance(Id::ZERO, Id::from_bytes(target));
            let mut t = FingerTable::new(owner, ring);
            let node = NodeRef { id: target, addr: node(1).addr };
            let want = covered_by_walking(&t, ring, i, target);
            prop_assert_eq!(t.fill(i, node), want);
            for j in 1..=t.len() {
                prop_assert_eq!(t.get(j).is_some(), (i..i + want).contains(&j));
            }
        }
    }

    #[test]
    fn next_cycles_through_all_m_fingers() {
        let mut t = FingerTable::new(Id::ZERO, Ring::new(3));
        let seen: Vec<usize> = (0..7).map(|_| t.advance()).collect();
        assert_eq!(seen, [1, 2, 3, 1, 2, 3, 1]);
    }
}
