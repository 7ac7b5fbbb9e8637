//! The agenda: what the network still has to hand to nodes, in time order.
//!
//! A discrete-event simulator's heart is its queue of future events. This one is a
//! *calendar queue* (R. Brown, "Calendar queues: a fast O(1) priority queue implementation
//! for the simulation event set problem", CACM 31(10), 1988), the scheduler ns-2 runs by
//! default.
//!
//! Virtual time is cut into *days* of [`DAY_MICROS`], and a *year* of [`DAYS`] days is a ring
//! of buckets: a delivery due on day `d` waits in bucket `d mod DAYS`. The clock visits the
//! buckets in turn. When it reaches a day it sorts that day's bucket, latest first, and
//! takes deliveries from its end; what is scheduled for today after that (a latency shorter
//! than a day) waits in a small heap beside it. A day holds what falls due within a quarter
//! of a millisecond, a few hundred deliveries on the busiest runs, so all this happens in
//! the processor's cache, where one heap of everything in flight would walk twenty levels
//! of main memory for each delivery. A network schedules every delivery a link latency
//! ahead — days, not years — so the clock rarely visits an empty day.
//!
//! Two things keep it exact:
//!
//! - Ties. Entries are ordered by (time, sequence number), the number counting every push:
//!   deliveries due at the same microsecond come out in the order they were scheduled. That
//!   is what makes a run repeat exactly, and it is the order a heap of the same keys gives.
//! - Years. A delivery more than a year ahead waits in a plain heap, and moves into the ring
//!   when the clock comes within a year of it. A bucket may still hold a later year's
//!   deliveries (after the clock went back, below); they sort before today's and stay
//!   where they are until their own day.
//!
//! Looking at the earliest delivery takes it out of the calendar into `front`. Something
//! scheduled after that can be due sooner (a timer fired first, and its node sent a message
//! with a short latency): it takes the front's place, and the old front goes back on its
//! day. Something due on a day the clock has already passed — days it found empty — sets the
//! clock back to that day.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use p2plab_peer_protocol::{CloseReason, ConnId, Instant};

use super::NodeIdx;

/// Microseconds in a day of the calendar: finer than the link latencies the simulator
/// models, so a bucket holds what falls due within a fraction of one latency.
const DAY_MICROS: u64 = 256;
/// Days in a year (the ring's length): a year is about a second of virtual time, longer
/// than the latencies the simulator models (tails aside).
const DAYS: u64 = 1 << 12;

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
    /// The connection is gone (closed by the peer, broken, or refused), and why.
    Closed { conn: ConnId, reason: CloseReason },
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

/// A scheduled delivery with its place in the agenda's order.
#[derive(Debug)]
struct Entry {
    at: Instant,
    seq: u64,
    item: Scheduled,
}

impl Entry {
    fn day(&self) -> u64 {
        self.at.as_micros() / DAY_MICROS
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// The time-ordered queue of deliveries.
#[derive(Debug)]
pub(super) struct Agenda {
    /// The earliest delivery, once something has looked for it.
    front: Option<Entry>,
    /// `DAYS` buckets; a bucket's entries are due on its day of this year or of a later one.
    ring: Vec<Vec<Entry>>,
    /// The day the clock is at: no entry in the ring or beyond is due before it.
    today: u64,
    /// Whether today's bucket is sorted, latest first.
    sorted: bool,
    /// Entries for today filed after its bucket was sorted, earliest on top.
    late: BinaryHeap<Reverse<Entry>>,
    /// Entries in the ring, `late` included.
    in_ring: usize,
    /// Entries due a year or more after `today`.
    beyond: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

impl Default for Agenda {
    fn default() -> Self {
        Agenda {
            front: None,
            ring: (0..DAYS).map(|_| Vec::new()).collect(),
            today: 0,
            sorted: false,
            late: BinaryHeap::new(),
            in_ring: 0,
            beyond: BinaryHeap::new(),
            seq: 0,
        }
    }
}

impl Agenda {
    pub(super) fn push(&mut self, at: Instant, item: Scheduled) {
        self.seq += 1;
        let entry = Entry {
            at,
            seq: self.seq,
            item,
        };
        match &mut self.front {
            Some(front) if entry < *front => {
                let later = std::mem::replace(front, entry);
                self.file(later);
            }
            _ => self.file(entry),
        }
    }

    /// When the earliest delivery is due.
    pub(super) fn peek_time(&mut self) -> Option<Instant> {
        if self.front.is_none() {
            self.front = self.take_earliest();
        }
        self.front.as_ref().map(|e| e.at)
    }

    /// Who the earliest delivery is for.
    pub(super) fn peek_addressee(&mut self) -> Option<NodeIdx> {
        self.peek_time()?;
        self.front.as_ref().map(|e| e.item.to)
    }

    /// Takes the earliest delivery.
    pub(super) fn pop(&mut self) -> Option<Scheduled> {
        self.peek_time()?;
        self.front.take().map(|e| e.item)
    }

    /// Deliveries waiting.
    pub(super) fn len(&self) -> usize {
        usize::from(self.front.is_some()) + self.in_ring + self.beyond.len()
    }

    /// Bytes of heap the agenda holds, messages' own bytes aside.
    pub(super) fn heap_bytes(&self) -> usize {
        let entry = std::mem::size_of::<Entry>();
        self.ring.capacity() * std::mem::size_of::<Vec<Entry>>()
            + self.ring.iter().map(Vec::capacity).sum::<usize>() * entry
            + (self.late.capacity() + self.beyond.capacity()) * entry
    }

    /// Puts an entry on its day: in the ring within a year, beyond it otherwise.
    fn file(&mut self, entry: Entry) {
        let day = entry.day();
        if day < self.today {
            self.go_back_to(day);
        }
        if day - self.today >= DAYS {
            self.beyond.push(Reverse(entry));
            return;
        }
        self.in_ring += 1;
        if day == self.today && self.sorted {
            self.late.push(Reverse(entry));
        } else {
            self.ring[(day % DAYS) as usize].push(entry);
        }
    }

    /// Sets the clock back to `day`, which it passed because it was empty. Today's late
    /// entries go back in their bucket, to be sorted with it when the clock returns.
    fn go_back_to(&mut self, day: u64) {
        let bucket = &mut self.ring[(self.today % DAYS) as usize];
        bucket.extend(self.late.drain().map(|Reverse(e)| e));
        self.today = day;
        self.sorted = false;
    }

    /// Finds the earliest entry, moving the clock on to its day.
    fn take_earliest(&mut self) -> Option<Entry> {
        loop {
            if self.in_ring == 0 {
                // Nothing within a year: jump to the first day anything is due.
                let Reverse(first) = self.beyond.peek()?;
                self.today = first.day();
                self.sorted = false;
                self.bring_into_year();
            }
            let bucket = &mut self.ring[(self.today % DAYS) as usize];
            if !self.sorted {
                bucket.sort_unstable_by(|a, b| b.cmp(a));
                self.sorted = true;
            }
            let own = bucket.last().filter(|e| e.day() == self.today);
            let late = self.late.peek().map(|Reverse(e)| e);
            let from_late = match (own, late) {
                (_, None) => false,
                (None, Some(_)) => true,
                (Some(own), Some(late)) => late < own,
            };
            if own.is_some() || from_late {
                self.in_ring -= 1;
                return if from_late {
                    self.late.pop().map(|Reverse(e)| e)
                } else {
                    bucket.pop()
                };
            }
            if bucket.is_empty() && bucket.capacity() > 0 {
                // The day is over: its room goes back to the allocator, which hands the
                // same, still cached, memory to the next day's bucket to grow. (Keeping
                // room in every bucket would spread the ring over megabytes.)
                *bucket = Vec::new();
            }
            self.today += 1;
            self.sorted = false;
            self.bring_into_year();
        }
    }

    /// Moves into the ring whatever is now due within a year of today.
    fn bring_into_year(&mut self) {
        while self
            .beyond
            .peek()
            .is_some_and(|Reverse(e)| e.day() - self.today < DAYS)
        {
            if let Some(Reverse(entry)) = self.beyond.pop() {
                self.file(entry);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What a test does to the agenda; times are relative to the clock.
    #[derive(Debug, Clone)]
    enum Op {
        /// Schedule something this many microseconds from now.
        Push(u64),
        /// Deliver the earliest thing; the clock moves to it.
        Pop,
        /// The engine looks at the earliest delivery, then the clock moves on by this much
        /// but not up to it: a timer fired first, or a run ended between deliveries. What
        /// is pushed next can then be due before the delivery already looked at, on a day
        /// the calendar has passed.
        Wait(u64),
    }

    fn delay() -> impl Strategy<Value = u64> {
        prop_oneof![
            Just(0),
            0..DAY_MICROS * 2,
            0..50_000u64,
            DAY_MICROS * DAYS - 1_000..DAY_MICROS * DAYS * 3,
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => delay().prop_map(Op::Push),
            3 => Just(Op::Pop),
            1 => delay().prop_map(Op::Wait),
        ]
    }

    fn item(n: usize) -> Scheduled {
        Scheduled {
            to: n,
            life: 0,
            delivery: Delivery::Closed {
                conn: ConnId(0),
                reason: CloseReason::PeerClosed,
            },
        }
    }

    proptest! {
        /// The calendar hands out exactly what a binary heap of (time, push order) would,
        /// in the same order, however pushes, pops and waits interleave.
        #[test]
        fn it_orders_like_a_heap_of_time_and_push_order(ops in prop::collection::vec(op(), 1..400)) {
            let mut agenda = Agenda::default();
            let mut heap = BinaryHeap::new();
            let mut now = 0u64;
            let mut pushed = 0usize;
            for op in ops {
                match op {
                    Op::Push(d) => {
                        agenda.push(Instant::from_micros(now + d), item(pushed));
                        heap.push(Reverse((now + d, pushed)));
                        pushed += 1;
                    }
                    Op::Pop => {
                        let expected = heap.pop().map(|Reverse(k)| k);
                        let due = agenda.peek_time().map(Instant::as_micros);
                        let got = agenda.pop().map(|s| s.to);
                        prop_assert_eq!(due.zip(got), expected);
                        if let Some((at, _)) = expected {
                            now = at;
                        }
                    }
                    Op::Wait(d) => {
                        let next = heap.peek().map(|Reverse((at, _))| *at);
                        prop_assert_eq!(agenda.peek_time().map(Instant::as_micros), next);
                        now = (now + d).min(next.map_or(u64::MAX, |t| t.saturating_sub(1))).max(now);
                    }
                }
                prop_assert_eq!(agenda.len(), heap.len());
            }
            while let Some(Reverse(expected)) = heap.pop() {
                let due = agenda.peek_time().map(Instant::as_micros);
                prop_assert_eq!(due.zip(agenda.pop().map(|s| s.to)), Some(expected));
            }
            prop_assert!(agenda.pop().is_none());
        }
    }
}
