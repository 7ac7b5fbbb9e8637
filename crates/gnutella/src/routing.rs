//! The tables behind Gnutella's routing rules (section 4 of the 0.4 spec):
//!
//! 1. a Pong goes back along its Ping's path, found by descriptor ID;
//! 2. a QueryHit goes back along its Query's path, found the same way;
//! 3. a Push goes back along the path of the target's QueryHits, found by *servent* ID;
//! 6. a descriptor whose (type, ID) was seen before is dropped.
//!
//! Rules 1, 2 and 6 share one table: the first time a Ping or Query arrives, its
//! (type, ID) is recorded with the connection it came in on. A second arrival finds the entry
//! (a duplicate, dropped); an answer finds the entry (and the way back). Rule 3 has its own
//! table, filled from every QueryHit that passes.
//!
//! // Implementation notes
//!
//! Both tables are [`ExpiringMap`]s: bounded by a capacity and an age, oldest out first, so a
//! flood of fresh IDs costs a fixed amount of memory. An entry is not removed when its
//! connection closes; the servent checks that the connection is still there when it routes,
//! and drops the answer as unroutable if not ("the path is gone").
//!
//! Every descriptor that arrives is looked up, so the tables hash with foldhash, seeded at
//! random per process (std's SipHash took a tenth of a simulated flood's time). Peers choose
//! the IDs; the random seed and the capacity bound what colliding IDs can cost.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::Duration;

use foldhash::fast::RandomState;
use p2plab_peer_protocol::{ConnId, Instant};

/// Where an answer to a descriptor should go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// This servent started it: the answer is for us.
    Local,
    /// It came in on this connection: the answer goes back there.
    Conn(ConnId),
}

/// What the servent remembers of a Ping or Query it has seen: the way back, and the TTL
/// its first copy had left — one byte more per entry, so the table's capacity bounds it.
/// A later copy with more TTL left is still dropped (rule 6 goes by ID alone), but it tells
/// that the flood reached this servent by a longer path first and went on from here with
/// less reach than it could have had: *duplicate shadowing*.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    /// Where answers go.
    pub route: Route,
    /// The TTL the first copy arrived with (after clamping).
    pub ttl: u8,
}

impl Seen {
    /// A descriptor this servent started: answers are for us, and no copy of it can come
    /// with more TTL than the one we sent.
    pub fn local() -> Self {
        Seen {
            route: Route::Local,
            ttl: u8::MAX,
        }
    }
}

/// A map whose entries are forgotten after `max_age`, or oldest-first beyond `capacity`.
#[derive(Debug)]
pub struct ExpiringMap<K, V> {
    entries: HashMap<K, (V, Instant), RandomState>,
    /// Keys in insertion order, with their insertion time (stale pairs are skipped).
    order: VecDeque<(Instant, K)>,
    capacity: usize,
    max_age: Duration,
}

impl<K: Hash + Eq + Clone, V> ExpiringMap<K, V> {
    /// An empty map.
    pub fn new(capacity: usize, max_age: Duration) -> Self {
        ExpiringMap {
            entries: HashMap::default(),
            order: VecDeque::new(),
            capacity,
            max_age,
        }
    }

    /// Inserts `key` unless it is already present (and fresh). Returns whether it was new.
    pub fn insert_new(&mut self, now: Instant, key: K, value: V) -> bool {
        self.expire(now);
        match self.entries.entry(key) {
            Entry::Occupied(_) => false,
            Entry::Vacant(slot) => {
                self.order.push_back((now, slot.key().clone()));
                slot.insert((value, now));
                self.keep_capacity();
                true
            }
        }
    }

    /// Inserts or replaces `key`, making it fresh.
    pub fn put(&mut self, now: Instant, key: K, value: V) {
        self.expire(now);
        self.order.push_back((now, key.clone()));
        self.entries.insert(key, (value, now));
        self.keep_capacity();
    }

    /// The value for `key`, if present and fresh.
    pub fn get(&self, now: Instant, key: &K) -> Option<&V> {
        let (value, at) = self.entries.get(key)?;
        (now.saturating_since(*at) < self.max_age).then_some(value)
    }

    /// Number of entries (some may have expired and not been swept yet).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn expire(&mut self, now: Instant) {
        while let Some((at, _)) = self.order.front() {
            if now.saturating_since(*at) < self.max_age {
                break;
            }
            self.pop_oldest();
        }
    }

    fn keep_capacity(&mut self) {
        while self.entries.len() > self.capacity {
            self.pop_oldest();
        }
    }

    /// Removes the oldest insertion, if the key still carries that insertion's time.
    fn pop_oldest(&mut self) {
        if let Some((at, key)) = self.order.pop_front() {
            if self.entries.get(&key).is_some_and(|(_, t)| *t == at) {
                self.entries.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> Instant {
        Instant::ZERO + Duration::from_secs(secs)
    }

    #[test]
    fn duplicates_are_refused_until_they_expire() {
        let mut m = ExpiringMap::new(10, Duration::from_secs(5));
        assert!(m.insert_new(at(0), 1, Route::Local));
        assert!(!m.insert_new(at(4), 1, Route::Conn(ConnId(2))));
        assert_eq!(m.get(at(4), &1), Some(&Route::Local));
        assert_eq!(m.get(at(5), &1), None);
        assert!(m.insert_new(at(6), 1, Route::Conn(ConnId(3))));
        assert_eq!(m.get(at(6), &1), Some(&Route::Conn(ConnId(3))));
    }

    #[test]
    fn capacity_drops_the_oldest_first() {
        let mut m = ExpiringMap::new(3, Duration::from_secs(60));
        for k in 0..5 {
            m.insert_new(at(k), k, ());
        }
        assert_eq!(m.len(), 3);
        assert_eq!(m.get(at(5), &1), None);
        assert_eq!(m.get(at(5), &2), Some(&()));
    }

    #[test]
    fn a_refreshed_key_survives_its_first_insertion_aging_out() {
        let mut m = ExpiringMap::new(10, Duration::from_secs(5));
        m.put(at(0), 7, 'a');
        m.put(at(3), 7, 'b');
        m.put(at(6), 8, 'c');
        assert_eq!(m.get(at(6), &7), Some(&'b'));
    }
}
