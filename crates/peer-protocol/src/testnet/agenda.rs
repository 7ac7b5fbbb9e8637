//! The agenda: what the network still has to hand to nodes, in time order.
//!
//! A discrete-event simulator's heart is a priority queue of future events. The heap holds
//! small keys — (time, sequence number, slab index) — and the deliveries themselves wait in a
//! slab whose free slots are reused, so sifting the heap moves 24 bytes, not a message, and a
//! long run allocates no new slots once it is warm. The sequence number breaks ties between
//! events due at the same microsecond in the order they were scheduled: that is what makes a
//! run repeat exactly.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::node::ConnId;
use crate::time::Instant;

use super::NodeIdx;

/// What the network still has to hand to a node.
#[derive(Debug)]
pub(super) enum Delivery {
    /// The node's dial was accepted.
    Connected { conn: ConnId },
    /// Bytes arrive on a connection.
    Received {
        conn: ConnId,
        bytes: Vec<u8>,
        from: NodeIdx,
        sent: Instant,
    },
    /// The connection is gone (closed by the peer, broken, or refused).
    Closed { conn: ConnId },
    /// A dial reaches the node's listener: the network sets the connection up.
    Dial {
        from: NodeIdx,
        from_conn: ConnId,
        /// The dialler's incarnation: a dial from a core that has since crashed is void.
        from_life: u32,
    },
}

/// A delivery with its addressee.
#[derive(Debug)]
pub(super) struct Scheduled {
    pub(super) to: NodeIdx,
    /// The addressee's incarnation when it was scheduled: after a crash and recovery, what
    /// was meant for the old core never reaches the new one (a dial, meant for the listener,
    /// ignores this).
    pub(super) life: u32,
    pub(super) delivery: Delivery,
}

/// The time-ordered queue of deliveries.
#[derive(Debug, Default)]
pub(super) struct Agenda {
    heap: BinaryHeap<Reverse<(Instant, u64, u32)>>,
    slab: Vec<Option<Scheduled>>,
    free: Vec<u32>,
    seq: u64,
}

impl Agenda {
    pub(super) fn push(&mut self, at: Instant, item: Scheduled) {
        self.seq += 1;
        let slot = match self.free.pop() {
            Some(i) => {
                self.slab[i as usize] = Some(item);
                i
            }
            None => {
                self.slab.push(Some(item));
                u32::try_from(self.slab.len() - 1).expect("fewer than 2^32 deliveries in flight")
            }
        };
        self.heap.push(Reverse((at, self.seq, slot)));
    }

    /// When the earliest delivery is due.
    pub(super) fn peek_time(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((t, _, _))| *t)
    }

    /// Takes the earliest delivery.
    pub(super) fn pop(&mut self) -> Option<Scheduled> {
        let Reverse((_, _, slot)) = self.heap.pop()?;
        self.free.push(slot);
        self.slab[slot as usize].take()
    }

    /// Deliveries waiting.
    pub(super) fn len(&self) -> usize {
        self.heap.len()
    }

    /// Bytes of heap the agenda holds, messages' own bytes aside.
    pub(super) fn heap_bytes(&self) -> usize {
        self.heap.capacity() * std::mem::size_of::<Reverse<(Instant, u64, u32)>>()
            + self.slab.capacity() * std::mem::size_of::<Option<Scheduled>>()
            + self.free.capacity() * std::mem::size_of::<u32>()
    }
}
