//! Successors lost to failure, kept to find the ring again and to merge rings after a
//! partition.
//!
//! A successor that fails a request leaves the successor list. The node keeps it here for
//! two reasons:
//!
//! - **Finding the ring again.** A node that loses its whole successor list looks its own
//!   successor up again, starting from these (see `maintenance`).
//! - **Merging rings.** A partition long enough that every node drops each successor on the
//!   far side leaves two rings, each consistent by itself: `stabilize` only ever asks the
//!   successor, so neither ring ever hears of the other again, even after the cut heals.
//!   So a lost successor is asked again now and then, after waits that double from the
//!   suspicion's length up to [`crate::LOST_PROBE_MAX_PERIODS`] stabilize periods. One
//!   that answers is alive: if it, or a neighbour it names, lies between the node and its
//!   successor, it becomes the successor, and `stabilize` and `notify` zip the two rings
//!   together. For every node of the far ring, the nearest node of ours before it had it
//!   in its successor list before the cut and finds it between itself and its successor
//!   after it, so some node always takes the first step. (This is the "simple ring
//!   unification" of Shafaat, Ghodsi and Haridi, *Handling network partitions and mergers
//!   in structured overlay networks*, IEEE P2P 2007.)
//!
//! The list holds at most [`crate::MAX_SUCCESSORS`] nodes, the oldest going first, so a
//! node that really crashed costs one small request per wait until newer losses push it
//! out.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use p2plab_peer_protocol::Instant;

use crate::node_ref::NodeRef;
use crate::MAX_SUCCESSORS;

/// One lost successor and when to ask it again.
#[derive(Clone, Copy, Debug)]
struct Lost {
    node: NodeRef,
    /// When it is next asked.
    due: Instant,
    /// The wait after that ask.
    gap: Duration,
}

/// Successors dropped as failed, oldest first, at most [`MAX_SUCCESSORS`].
#[derive(Clone, Debug, Default)]
pub struct LostSuccessors {
    lost: VecDeque<Lost>,
}

impl LostSuccessors {
    /// Remembers `node`, to be asked again after `first_wait` (past [`MAX_SUCCESSORS`], the
    /// oldest loss is forgotten).
    pub fn push(&mut self, node: NodeRef, now: Instant, first_wait: Duration) {
        self.remove(node.addr);
        if self.lost.len() == MAX_SUCCESSORS {
            self.lost.pop_front();
        }
        self.lost.push_back(Lost {
            node,
            due: now + first_wait,
            gap: first_wait,
        });
    }

    /// The lost nodes, newest first.
    pub fn newest_first(&self) -> impl Iterator<Item = NodeRef> + '_ {
        self.lost.iter().rev().map(|l| l.node)
    }

    /// The first lost node due to be asked again, if any; its next ask is put off by
    /// twice its last wait, at most `max_gap`.
    pub fn next_due(&mut self, now: Instant, max_gap: Duration) -> Option<NodeRef> {
        let l = self.lost.iter_mut().find(|l| l.due <= now)?;
        l.gap = (l.gap * 2).min(max_gap);
        l.due = now + l.gap;
        Some(l.node)
    }

    /// Forgets `addr`: it answered, or is a successor again.
    pub fn remove(&mut self, addr: SocketAddr) {
        self.lost.retain(|l| l.node.addr != addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::Ring;

    fn node(port: u16) -> NodeRef {
        NodeRef::at(SocketAddr::from(([10, 0, 0, 1], port)), Ring::new(16))
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn each_lost_node_is_asked_after_waits_that_double_up_to_the_cap() {
        let mut lost = LostSuccessors::default();
        let t0 = Instant::ZERO;
        lost.push(node(1), t0, ms(100));
        assert_eq!(lost.next_due(t0 + ms(99), ms(400)), None);
        let mut asks = Vec::new();
        for t in (0..=2000).step_by(10) {
            if lost.next_due(t0 + ms(t), ms(400)).is_some() {
                asks.push(t);
            }
        }
        assert_eq!(asks, [100, 300, 700, 1100, 1500, 1900]);
    }

    #[test]
    fn the_list_is_bounded_and_forgets_the_oldest_loss_first() {
        let mut lost = LostSuccessors::default();
        for p in 0..(MAX_SUCCESSORS as u16 + 3) {
            lost.push(node(p), Instant::ZERO, ms(100));
        }
        let kept: Vec<NodeRef> = lost.newest_first().collect();
        assert_eq!(kept.len(), MAX_SUCCESSORS);
        assert_eq!(kept[0], node(MAX_SUCCESSORS as u16 + 2));
        assert_eq!(kept[MAX_SUCCESSORS - 1], node(3));
        lost.push(node(3), Instant::ZERO, ms(100));
        assert_eq!(
            lost.newest_first().next(),
            Some(node(3)),
            "a repeat loss is new"
        );
        assert_eq!(lost.newest_first().count(), MAX_SUCCESSORS);
    }
}
