//! The index entries this node keeps: records filed under keys, each with an expiry.
//!
//! A key's records live at successor(key) and on the next `replicas - 1` nodes. Holders
//! re-publish their records periodically; each copy expires `entry_ttl` after it was last
//! stored, so the records of a peer that vanished without a word disappear by themselves.
//!
//! Each record is kept in one of two [`Role`]s: as the key's **primary** copy (the owner's,
//! which searches read) or as a **replica** (a copy for a predecessor that owns the key).
//!
//! # Limits
//!
//! A store holds at most [`MAX_STORED_KEYS`] keys, [`MAX_STORED_RECORDS`] records, and
//! [`MAX_RECORDS_PER_KEY`] records under one key. A new record that does not fit makes room
//! by expiry: first whatever has expired, then the replica closest to expiring, and — only
//! for a primary copy, once no replica is left — the primary closest to expiring. A replica
//! never pushes out a primary copy, so a flood of replicas cannot take away what searches
//! read. A full key refuses new records instead: its records are all one file name's or
//! one word's, and which of them to drop is no clearer than which new one to refuse.
//!
//! # Implementation notes
//!
//! - Beside the records by key, every record has a place in an expiry index per role,
//!   ordered by (expiry, serial number). The expiry sweep and eviction take from the front
//!   of it, so neither scans the store.
//! - Records keep their order under a key (the order they arrived in): answers and
//!   hand-overs list them in that order.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use p2plab_peer_protocol::{Instant, Query};

use crate::id::Id;
use crate::record::Record;
use crate::{MAX_RECORDS, MAX_RECORDS_PER_KEY, MAX_STORED_KEYS, MAX_STORED_RECORDS};

/// Which copy of a key's records a node keeps. Replicas order first: they go first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// A copy kept for the key's owner, in case it fails.
    Replica,
    /// The owner's copy: a publication or a hand-over, which searches read.
    Primary,
}

/// What became of one record offered to the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Put {
    /// Kept as a new record; `new_key` when it is the key's first.
    Added {
        /// The key was not held before.
        new_key: bool,
        /// Records pushed out to make room for it.
        evicted: usize,
    },
    /// The store held this file under the key already: its copy was refreshed.
    Refreshed,
    /// The key already holds [`MAX_RECORDS_PER_KEY`] other records.
    KeyFull,
    /// The store is full of records this one may not push out: primary copies, for a replica.
    StoreFull,
}

#[derive(Clone, Debug)]
struct Stored {
    record: Record,
    expires: Instant,
    role: Role,
    /// Tells records apart in the expiry index.
    serial: u64,
}

impl Stored {
    fn due(&self, key: Id) -> Due {
        (self.expires, self.serial, key)
    }
}

/// A record's place in the expiry index: when it expires, its serial number, its key.
type Due = (Instant, u64, Id);

/// Records by key, with their expiry order.
#[derive(Clone, Debug)]
pub struct Store {
    entries: BTreeMap<Id, Vec<Stored>>,
    /// Every record by expiry, replicas (`[0]`) apart from primaries (`[1]`).
    due: [BTreeSet<Due>; 2],
    records: usize,
    next_serial: u64,
    max_keys: usize,
    max_records: usize,
}

impl Default for Store {
    fn default() -> Self {
        Store::with_limits(MAX_STORED_KEYS, MAX_STORED_RECORDS)
    }
}

impl Store {
    /// An empty store with the crate's limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store of at most `max_keys` keys and `max_records` records.
    pub fn with_limits(max_keys: usize, max_records: usize) -> Self {
        Store {
            entries: BTreeMap::new(),
            due: [BTreeSet::new(), BTreeSet::new()],
            records: 0,
            next_serial: 0,
            max_keys,
            max_records,
        }
    }

    /// Keeps `record` under `key` in `role` until `expires`, replacing an older copy of
    /// the same file (whose role becomes primary if either copy is). A new record that
    /// does not fit makes room as the module's notes say, as of `now`.
    pub fn put(
        &mut self,
        now: Instant,
        key: Id,
        record: Record,
        expires: Instant,
        role: Role,
    ) -> Put {
        if let Some(list) = self.entries.get_mut(&key) {
            if let Some(s) = list.iter_mut().find(|s| s.record.same_file(&record)) {
                self.due[s.role as usize].remove(&s.due(key));
                s.expires = s.expires.max(expires);
                s.record = record;
                s.role = s.role.max(role);
                self.due[s.role as usize].insert(s.due(key));
                return Put::Refreshed;
            }
            if list.len() >= MAX_RECORDS_PER_KEY {
                return Put::KeyFull;
            }
        }
        let before = self.records;
        if !self.make_room(now, key, role) {
            return Put::StoreFull;
        }
        let evicted = before - self.records;
        let serial = self.next_serial;
        self.next_serial += 1;
        let list = self.entries.entry(key).or_default();
        let new_key = list.is_empty();
        let stored = Stored {
            record,
            expires,
            role,
            serial,
        };
        self.due[role as usize].insert(stored.due(key));
        list.push(stored);
        self.records += 1;
        Put::Added { new_key, evicted }
    }

    /// True when a new record under `key` fits without pushing anything out.
    fn fits(&self, key: Id) -> bool {
        self.records < self.max_records
            && (self.entries.len() < self.max_keys || self.entries.contains_key(&key))
    }

    /// Frees room for one more record under `key`: expired records first, then by expiry,
    /// replicas before primaries (primaries only for a primary). False when it cannot.
    fn make_room(&mut self, now: Instant, key: Id, role: Role) -> bool {
        if self.fits(key) {
            return true;
        }
        self.expire(now);
        while !self.fits(key) {
            let victim = [Role::Replica, Role::Primary]
                .into_iter()
                .filter(|r| *r <= role)
                .find_map(|r| self.due[r as usize].first().map(|d| (r, *d)));
            let Some((r, due)) = victim else {
                return false;
            };
            self.remove(r, due);
        }
        true
    }

    /// Drops the record at `due` in the expiry index of `role`.
    fn remove(&mut self, role: Role, due: Due) {
        self.due[role as usize].remove(&due);
        let (_, serial, key) = due;
        let Some(list) = self.entries.get_mut(&key) else {
            return;
        };
        if let Some(i) = list.iter().position(|s| s.serial == serial) {
            list.remove(i);
            self.records -= 1;
        }
        if list.is_empty() {
            self.entries.remove(&key);
        }
    }

    /// Up to `n` distinct holders named by the records held, the first ones after `after`
    /// in address order, wrapping around: a cursor walks every holder in turn.
    pub fn holders_after(&self, after: Option<SocketAddr>, n: usize) -> Vec<SocketAddr> {
        let all: BTreeSet<SocketAddr> = self
            .entries
            .values()
            .flatten()
            .map(|s| s.record.holder)
            .collect();
        let (later, earlier): (Vec<_>, Vec<_>) =
            all.into_iter().partition(|a| after.is_none_or(|c| *a > c));
        later.into_iter().chain(earlier).take(n).collect()
    }

    /// Forgets every record `holder` holds; returns how many.
    pub fn drop_holder(&mut self, holder: SocketAddr) -> usize {
        let gone: Vec<(Role, Due)> = self
            .entries
            .iter()
            .flat_map(|(k, list)| {
                list.iter()
                    .filter(|s| s.record.holder == holder)
                    .map(|s| (s.role, s.due(*k)))
            })
            .collect();
        for (role, due) in &gone {
            self.remove(*role, *due);
        }
        gone.len()
    }

    /// True when `key` holds a copy of `record`'s file: storing it again is a refresh.
    pub fn holds(&self, key: Id, record: &Record) -> bool {
        self.entries
            .get(&key)
            .is_some_and(|list| list.iter().any(|s| s.record.same_file(record)))
    }

    /// True when some record is held under `key`.
    pub fn holds_key(&self, key: Id) -> bool {
        self.entries.contains_key(&key)
    }

    /// Live records under `key` whose names match `query`, at most [`MAX_RECORDS`].
    pub fn get(&self, key: Id, query: &Query, now: Instant) -> Vec<Record> {
        self.entries
            .get(&key)
            .into_iter()
            .flatten()
            .filter(|s| s.expires > now && query.matches(&s.record.name))
            .take(MAX_RECORDS)
            .map(|s| s.record.clone())
            .collect()
    }

    /// Forgets every record whose time is up.
    pub fn expire(&mut self, now: Instant) {
        for role in [Role::Replica, Role::Primary] {
            while let Some(due) = self.due[role as usize].first().copied() {
                if due.0 > now {
                    break;
                }
                self.remove(role, due);
            }
        }
    }

    /// How many records are held.
    pub fn len(&self) -> usize {
        self.records
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// The keys held, in order.
    pub fn keys(&self) -> impl Iterator<Item = Id> + '_ {
        self.entries.keys().copied()
    }

    /// Every live record of the keys `pick` selects, grouped by key.
    pub fn select(&self, now: Instant, mut pick: impl FnMut(Id) -> bool) -> Vec<(Id, Vec<Record>)> {
        self.entries
            .iter()
            .filter(|(k, _)| pick(**k))
            .map(|(k, list)| {
                let live = list.iter().filter(|s| s.expires > now);
                (*k, live.map(|s| s.record.clone()).collect::<Vec<_>>())
            })
            .filter(|(_, rs)| !rs.is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, SocketAddr};
    use std::time::Duration;

    use Role::{Primary, Replica};

    fn rec(name: &str, port: u16) -> Record {
        Record {
            name: name.into(),
            size: 10,
            holder: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            index: 0,
        }
    }

    fn t(secs: u64) -> Instant {
        Instant::ZERO + Duration::from_secs(secs)
    }

    /// Stores file `name` under key `k`, as of time 0 unless `now` says otherwise.
    fn put(s: &mut Store, now: u64, k: u64, name: &str, expires: u64, role: Role) -> Put {
        s.put(t(now), Id::from_u64(k), rec(name, 1), t(expires), role)
    }

    /// The names held under key `k`, in order.
    fn names(s: &Store, k: u64) -> Vec<String> {
        let all = s.select(Instant::ZERO, |key| key == Id::from_u64(k));
        all.into_iter()
            .flat_map(|(_, rs)| rs.into_iter().map(|r| r.name))
            .collect()
    }

    #[test]
    fn records_refresh_and_expire() {
        let mut s = Store::new();
        let key = Id::from_u64(5);
        let added = Put::Added {
            new_key: true,
            evicted: 0,
        };
        assert_eq!(put(&mut s, 0, 5, "one more time.mp3", 10, Primary), added);
        assert_eq!(
            put(&mut s, 0, 5, "one more time.mp3", 20, Primary),
            Put::Refreshed
        );
        assert!(matches!(
            put(&mut s, 0, 5, "one love.mp3", 10, Primary),
            Put::Added { new_key: false, .. }
        ));
        let q = Query::parse("one");
        assert_eq!(s.get(key, &q, t(5)).len(), 2);
        assert_eq!(s.get(key, &Query::parse("love"), t(5)).len(), 1);
        s.expire(t(15));
        assert_eq!(names(&s, 5), ["one more time.mp3"]);
        s.expire(t(20));
        assert_eq!(s.keys().count(), 0);
        assert!(s.is_empty());
    }

    #[test]
    fn a_refresh_does_not_hide_a_later_expiry() {
        let mut s = Store::new();
        put(&mut s, 0, 1, "a.mp3", 10, Replica);
        put(&mut s, 0, 1, "a.mp3", 30, Replica);
        s.expire(t(15));
        assert_eq!(s.keys().count(), 1, "refreshed, so still there");
        put(&mut s, 0, 2, "b.mp3", 20, Replica);
        s.expire(t(25));
        assert_eq!(s.keys().collect::<Vec<_>>(), [Id::from_u64(1)]);
        s.expire(t(30));
        assert_eq!(s.keys().count(), 0);
    }

    #[test]
    fn a_full_store_drops_what_has_expired_first() {
        let mut s = Store::with_limits(10, 3);
        put(&mut s, 0, 1, "replica", 10, Replica);
        put(&mut s, 0, 1, "expired primary", 5, Primary);
        put(&mut s, 0, 1, "late replica", 30, Replica);
        let p = put(&mut s, 6, 1, "new", 40, Replica);
        assert!(matches!(p, Put::Added { evicted: 1, .. }));
        assert_eq!(names(&s, 1), ["replica", "late replica", "new"]);
    }

    #[test]
    fn then_the_replica_closest_to_expiring_and_a_primary_only_for_a_primary() {
        let mut s = Store::with_limits(10, 3);
        put(&mut s, 0, 1, "p10", 10, Primary);
        put(&mut s, 0, 1, "r20", 20, Replica);
        put(&mut s, 0, 1, "r30", 30, Replica);
        put(&mut s, 0, 1, "r40", 40, Replica);
        assert_eq!(names(&s, 1), ["p10", "r30", "r40"], "r20 went, not p10");
        put(&mut s, 0, 1, "p50", 50, Primary);
        put(&mut s, 0, 1, "p60", 60, Primary);
        assert_eq!(names(&s, 1), ["p10", "p50", "p60"], "replicas went first");
        assert_eq!(put(&mut s, 0, 1, "r70", 70, Replica), Put::StoreFull);
        put(&mut s, 0, 1, "p80", 80, Primary);
        assert_eq!(names(&s, 1), ["p50", "p60", "p80"]);
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn a_new_key_past_the_key_limit_pushes_out_the_records_closest_to_expiring() {
        let mut s = Store::with_limits(2, 10);
        put(&mut s, 0, 1, "a1", 10, Replica);
        put(&mut s, 0, 2, "b1", 20, Replica);
        put(&mut s, 0, 1, "a2", 30, Replica);
        assert_eq!(s.keys().count(), 2, "more records under a held key fit");
        put(&mut s, 0, 3, "c1", 40, Replica);
        assert_eq!(names(&s, 1), ["a2"], "a1 went first, but key 1 stayed");
        assert!(names(&s, 2).is_empty(), "then b1, and key 2 with it");
        assert_eq!(names(&s, 3), ["c1"]);
    }

    #[test]
    fn a_replica_refreshing_a_primary_leaves_it_primary() {
        let mut s = Store::with_limits(10, 1);
        put(&mut s, 0, 1, "a", 10, Primary);
        assert_eq!(put(&mut s, 0, 1, "a", 20, Replica), Put::Refreshed);
        assert_eq!(put(&mut s, 0, 2, "b", 30, Replica), Put::StoreFull);
        s.expire(t(15));
        assert_eq!(names(&s, 1), ["a"], "the refresh moved its expiry");
    }
}
