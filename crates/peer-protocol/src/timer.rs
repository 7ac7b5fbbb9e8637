//! The keyed timer table every core keeps its periodic and one-off deadlines in.
//!
//! A core has a handful of timers it knows by name — Chord's stabilize and fix-fingers
//! rounds, a Gnutella servent's ping round, a Napster peer's redial. Each protocol names
//! them in a small enum that implements [`TimerKind`]; a [`TimerTable`] holds one optional
//! deadline per kind, in a fixed array indexed by the kind. Arming a timer again moves it,
//! stopping it empties its slot, and the core's [`Node::poll_timeout`] is the earliest
//! armed slot ([`TimerTable::next_timeout`]).
//!
//! On [`Input::Timeout`], a core asks [`TimerTable::is_expired`] of each kind and runs
//! what is due; a timeout that comes early finds nothing expired and does nothing.
//!
//! Deadlines that belong to one item among many (a request awaiting its answer, a
//! handshake, a search) have no fixed name and stay with their items; a core adds them to
//! the table's with [`TimerTable::next_timeout_with`].
//!
//! [`Node::poll_timeout`]: crate::node::Node::poll_timeout
//! [`Input::Timeout`]: crate::node::Input::Timeout

use std::marker::PhantomData;

use crate::time::Instant;

/// The named timers of one core: an enum whose variants index a [`TimerTable`].
pub trait TimerKind: Copy {
    /// How many kinds there are: the size of the table.
    const COUNT: usize;

    /// This kind's slot in the table, below [`TimerKind::COUNT`]: its variant's position.
    fn index(self) -> usize;
}

/// One optional deadline for each kind `K` of timer; `N` is `K::COUNT`.
///
/// (Stable Rust cannot size an array by `K::COUNT` inside a generic type, so the size is a
/// parameter of its own; a table whose `N` is not `K::COUNT` does not compile.)
#[derive(Debug, Clone)]
pub struct TimerTable<K, const N: usize> {
    deadlines: [Option<Instant>; N],
    kind: PhantomData<K>,
}

impl<K: TimerKind, const N: usize> TimerTable<K, N> {
    /// A table with nothing armed.
    pub fn new() -> Self {
        const { assert!(K::COUNT == N, "a timer table has one slot per kind") };
        TimerTable {
            deadlines: [None; N],
            kind: PhantomData,
        }
    }

    /// Arms `timer` for `at`, replacing its previous deadline if it had one.
    pub fn set(&mut self, timer: K, at: Instant) {
        self.deadlines[timer.index()] = Some(at);
    }

    /// When `timer` is due, if it is armed.
    pub fn get(&self, timer: K) -> Option<Instant> {
        self.deadlines[timer.index()]
    }

    /// Disarms `timer`.
    pub fn stop(&mut self, timer: K) {
        self.deadlines[timer.index()] = None;
    }

    /// Disarms every timer: a core that leaves wants no more wake-ups.
    pub fn stop_all(&mut self) {
        self.deadlines = [None; N];
    }

    /// The earliest armed deadline, if any.
    #[must_use]
    pub fn next_timeout(&self) -> Option<Instant> {
        self.next_timeout_with([])
    }

    /// The earliest of the armed deadlines and `per_item`: the deadlines a core keeps with
    /// its items beside the table (see the [module docs](self)).
    #[must_use]
    pub fn next_timeout_with(
        &self,
        per_item: impl IntoIterator<Item = Instant>,
    ) -> Option<Instant> {
        self.deadlines
            .iter()
            .flatten()
            .copied()
            .chain(per_item)
            .min()
    }

    /// True when `timer` is armed and its deadline is `now` or earlier.
    pub fn is_expired(&self, timer: K, now: Instant) -> bool {
        self.get(timer).is_some_and(|at| at <= now)
    }
}

impl<K: TimerKind, const N: usize> Default for TimerTable<K, N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug)]
    enum Toy {
        Ping,
        Dial,
        Sweep,
    }

    impl TimerKind for Toy {
        const COUNT: usize = 3;

        fn index(self) -> usize {
            self as usize
        }
    }

    type Table = TimerTable<Toy, { Toy::COUNT }>;

    fn at(ms: u64) -> Instant {
        Instant::from_micros(ms * 1_000)
    }

    #[test]
    fn an_empty_table_wants_no_wake_up_and_nothing_is_expired() {
        let table = Table::new();
        assert_eq!(table.next_timeout(), None);
        assert!(!table.is_expired(Toy::Ping, at(1_000_000)));
    }

    #[test]
    fn the_next_timeout_is_the_earliest_armed_kind_and_follows_set_and_stop() {
        let mut table = Table::new();
        table.set(Toy::Sweep, at(30));
        table.set(Toy::Ping, at(20));
        table.set(Toy::Dial, at(25));
        assert_eq!(table.next_timeout(), Some(at(20)));
        table.set(Toy::Ping, at(40));
        assert_eq!(
            table.next_timeout(),
            Some(at(25)),
            "re-arming moves a timer"
        );
        table.stop(Toy::Dial);
        assert_eq!(table.next_timeout(), Some(at(30)));
        assert_eq!(table.get(Toy::Dial), None);
        assert_eq!(table.get(Toy::Ping), Some(at(40)));
        table.stop_all();
        assert_eq!(table.next_timeout(), None);
    }

    #[test]
    fn per_item_deadlines_join_the_armed_ones() {
        let mut table = Table::new();
        assert_eq!(table.next_timeout_with([at(7), at(5)]), Some(at(5)));
        table.set(Toy::Dial, at(6));
        assert_eq!(table.next_timeout_with([at(7), at(9)]), Some(at(6)));
        assert_eq!(table.next_timeout_with([at(7), at(2)]), Some(at(2)));
        assert_eq!(table.next_timeout_with(None), Some(at(6)));
    }

    #[test]
    fn a_timer_expires_at_its_deadline_not_before_and_only_itself() {
        let mut table = Table::new();
        table.set(Toy::Ping, at(20));
        table.set(Toy::Dial, at(21));
        assert!(!table.is_expired(Toy::Ping, at(19)), "early: nothing fires");
        assert!(table.is_expired(Toy::Ping, at(20)));
        assert!(!table.is_expired(Toy::Dial, at(20)));
        assert!(!table.is_expired(Toy::Sweep, at(20)), "never armed");
        assert!(table.is_expired(Toy::Dial, at(500)), "late still counts");
    }
}
