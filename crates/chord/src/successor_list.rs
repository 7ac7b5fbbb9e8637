//! The successor list (ToN §V-B): the next r nodes clockwise, so the ring survives the
//! failure of a successor.
//!
//! `stabilize` refreshes it from the successor: copy the successor's list, drop its last
//! entry, put the successor in front. When the successor fails, the next live entry takes
//! its place. If each node fails independently with probability p, all r entries fail
//! together with probability p^r; with r = Ω(log N) the ring stays connected with high
//! probability even when half the nodes fail at once.

use std::net::SocketAddr;

use crate::node_ref::NodeRef;

/// Up to r successors of `owner`, nearest first, without `owner` and without repeats.
#[derive(Clone, Debug)]
pub struct SuccessorList {
    owner: NodeRef,
    max: usize,
    nodes: Vec<NodeRef>,
}

impl SuccessorList {
    /// An empty list of at most `max` (r ≥ 1) entries.
    pub fn new(owner: NodeRef, max: usize) -> Self {
        SuccessorList {
            owner,
            max: max.max(1),
            nodes: Vec::new(),
        }
    }

    /// The successor: the first entry, or the owner itself in a ring of one.
    pub fn successor(&self) -> NodeRef {
        self.nodes.first().copied().unwrap_or(self.owner)
    }

    /// The entries, nearest first.
    pub fn as_slice(&self) -> &[NodeRef] {
        &self.nodes
    }

    /// Makes `node` the successor, keeping the rest behind it.
    pub fn set_successor(&mut self, node: NodeRef) {
        let rest: Vec<NodeRef> = self.nodes.clone();
        self.rebuild(node, &rest);
    }

    /// Stabilize's update: `successor` followed by its own list (the copy's last entry
    /// falls off when the list is full).
    pub fn adopt(&mut self, successor: NodeRef, theirs: &[NodeRef]) {
        self.rebuild(successor, theirs);
    }

    /// Drops a failed node; the next entry becomes the successor. Returns it, if it was on
    /// the list.
    pub fn remove(&mut self, addr: SocketAddr) -> Option<NodeRef> {
        let i = self.nodes.iter().position(|n| n.addr == addr)?;
        Some(self.nodes.remove(i))
    }

    fn rebuild(&mut self, first: NodeRef, rest: &[NodeRef]) {
        let mut nodes = Vec::with_capacity(self.max);
        for n in std::iter::once(first).chain(rest.iter().copied()) {
            if n.id == self.owner.id {
                // The list has gone all the way round the ring.
                break;
            }
            if nodes.len() == self.max {
                break;
            }
            if !nodes.contains(&n) {
                nodes.push(n);
            }
        }
        self.nodes = nodes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::node_ref::test_node as node;

    #[test]
    fn stabilize_copies_the_successors_list_and_drops_the_last() {
        let mut l = SuccessorList::new(node(8), 3);
        assert_eq!(l.successor(), node(8), "alone, a node is its own successor");
        l.adopt(node(14), &[node(21), node(32), node(38)]);
        assert_eq!(l.as_slice(), [node(14), node(21), node(32)]);
        l.remove(node(14).addr);
        assert_eq!(l.successor(), node(21));
    }

    #[test]
    fn a_small_ring_stops_at_the_owner() {
        let mut l = SuccessorList::new(node(8), 5);
        l.adopt(node(14), &[node(21), node(8), node(14)]);
        assert_eq!(l.as_slice(), [node(14), node(21)]);
        l.set_successor(node(10));
        assert_eq!(l.as_slice(), [node(10), node(14), node(21)]);
    }
}
