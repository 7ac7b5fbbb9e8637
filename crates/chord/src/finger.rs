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
//!
//! // Implementation notes
//!
//! With m = 160 and a few thousand nodes, some 150 fingers hold the successor. The table is
//! kept as *runs*: each run is a first finger and the entry it and the fingers up to the
//! next run hold. A node of a 100,000-node ring keeps about twenty runs (a kilobyte) where
//! 160 entries would take eight, and `fill` and `forget` work on those twenty.

use std::net::SocketAddr;

use crate::id::{Id, Ring};
use crate::node_ref::NodeRef;

/// Fingers `first + 1 ..` (up to the next run's) all hold `node`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Run {
    /// 0-based: finger `first + 1` is the run's first finger.
    first: usize,
    node: Option<NodeRef>,
}

/// Node `owner`'s m fingers, with `fix_fingers`'s cycling index `next`.
#[derive(Clone, Debug)]
pub struct FingerTable {
    owner: Id,
    ring: Ring,
    /// The fingers as runs, in finger order: the first starts at 0, and neighbouring runs
    /// hold different entries. `None` for fingers not yet found (or that failed).
    runs: Vec<Run>,
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
            runs: vec![Run {
                first: 0,
                node: None,
            }],
            next: 0,
            distinct: Vec::new(),
        }
    }

    /// m, the number of fingers.
    pub fn len(&self) -> usize {
        self.ring.bits() as usize
    }

    /// Always false: a ring has at least one bit.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `finger[i].start = n + 2^(i-1) mod 2^m`, for 1 ≤ i ≤ m.
    pub fn start(&self, i: usize) -> Id {
        self.ring.add_pow2(self.owner, i.saturating_sub(1) as u32)
    }

    /// Finger i (1-based).
    pub fn get(&self, i: usize) -> Option<NodeRef> {
        let f = i.checked_sub(1).filter(|f| *f < self.len())?;
        let run = self.runs.partition_point(|r| r.first <= f) - 1;
        self.runs[run].node
    }

    /// All m fingers, finger 1 first.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = Option<NodeRef>> + '_ {
        (0..self.len()).map(|f| self.get(f + 1))
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
        self.next = self.next.max(end);
        if self.holds(first, end, node) {
            return end - first;
        }
        let mut runs = Vec::with_capacity(self.runs.len() + 2);
        for (k, run) in self.runs.iter().enumerate() {
            let run_end = self.runs.get(k + 1).map_or(self.len(), |r| r.first);
            if run.first < first {
                runs.push(*run);
            }
            if run.first <= first && first < run_end {
                runs.push(Run {
                    first,
                    node: Some(node),
                });
            }
            if run.first < end && end < run_end {
                runs.push(Run {
                    first: end,
                    node: run.node,
                });
            } else if run.first >= end {
                runs.push(*run);
            }
        }
        self.runs = runs;
        self.merge_runs();
        end - first
    }

    /// True when fingers `first + 1 ..= end` all hold `node` already.
    fn holds(&self, first: usize, end: usize, node: NodeRef) -> bool {
        let run = self.runs.partition_point(|r| r.first <= first) - 1;
        let run_end = self.runs.get(run + 1).map_or(self.len(), |r| r.first);
        self.runs[run].node == Some(node) && end <= run_end
    }

    /// Clears every finger that points at `addr` (a node that failed).
    pub fn forget(&mut self, addr: SocketAddr) {
        if !self.distinct.iter().any(|n| n.addr == addr) {
            return;
        }
        for run in &mut self.runs {
            if run.node.is_some_and(|n| n.addr == addr) {
                run.node = None;
            }
        }
        self.merge_runs();
    }

    /// Distinct fingers, in table order.
    pub fn distinct(&self) -> &[NodeRef] {
        &self.distinct
    }

    /// Joins neighbouring runs that hold the same entry, and lists the distinct fingers.
    fn merge_runs(&mut self) {
        self.runs
            .dedup_by(|later, earlier| later.node == earlier.node);
        self.distinct.clear();
        for n in self.runs.iter().filter_map(|r| r.node) {
            if !self.distinct.contains(&n) {
                self.distinct.push(n);
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

    /// The table as the paper draws it: m entries, filled and cleared one by one.
    #[derive(Default)]
    struct Model(Vec<Option<NodeRef>>);

    impl Model {
        fn fill(&mut self, t: &FingerTable, ring: Ring, i: usize, node: NodeRef) -> usize {
            let n = covered_by_walking(t, ring, i, node.id);
            self.0[i - 1..i - 1 + n].fill(Some(node));
            n
        }

        fn forget(&mut self, addr: SocketAddr) {
            for f in &mut self.0 {
                if f.is_some_and(|n| n.addr == addr) {
                    *f = None;
                }
            }
        }

        fn distinct(&self) -> Vec<NodeRef> {
            let mut out: Vec<NodeRef> = Vec::new();
            for n in self.0.iter().flatten() {
                if !out.contains(n) {
                    out.push(*n);
                }
            }
            out
        }
    }

    proptest! {
        #[test]
        fn runs_hold_what_m_separate_entries_would(
            bits in prop::sample::select(vec![3u32, 6, 64, 160]),
            owner: [u8; 20],
            pool in prop::collection::vec(any::<[u8; 20]>(), 1..8),
            ops in prop::collection::vec((any::<bool>(), 1usize..=160, any::<prop::sample::Index>()), 1..40),
        ) {
            let ring = Ring::new(bits);
            let owner = ring.distance(Id::ZERO, Id::from_bytes(owner));
            let nodes: Vec<NodeRef> = pool
                .iter()
                .zip(1u16..)
                .map(|(id, port)| NodeRef {
                    id: ring.distance(Id::ZERO, Id::from_bytes(*id)),
                    addr: SocketAddr::from(([10, 0, 0, 1], port)),
                })
                .collect();
            let mut t = FingerTable::new(owner, ring);
            let mut model = Model(vec![None; t.len()]);
            for (is_fill, i, pick) in ops {
                let node = *pick.get(&nodes);
                if is_fill {
                    let i = 1 + (i - 1) % t.len();
                    let want = model.fill(&t, ring, i, node);
                    prop_assert_eq!(t.fill(i, node), want);
                } else {
                    model.forget(node.addr);
                    t.forget(node.addr);
                }
                prop_assert_eq!(t.entries().collect::<Vec<_>>(), model.0.clone());
                prop_assert_eq!(t.distinct().to_vec(), model.distinct());
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
