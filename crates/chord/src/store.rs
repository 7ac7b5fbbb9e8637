//! The index entries this node keeps: records filed under keys, each with an expiry.
//!
//! A key's records live at successor(key) and on the next `replicas - 1` nodes. Holders
//! re-publish their records periodically; each copy expires `entry_ttl` after it was last
//! stored, so the records of a peer that vanished without a word disappear by themselves.

use std::collections::BTreeMap;

use p2plab_peer_protocol::{Instant, Query};

use crate::id::Id;
use crate::record::Record;
use crate::{MAX_RECORDS, MAX_RECORDS_PER_KEY};

#[derive(Clone, Debug)]
struct Stored {
    record: Record,
    expires: Instant,
}

/// Records by key.
#[derive(Clone, Debug, Default)]
pub struct Store {
    entries: BTreeMap<Id, Vec<Stored>>,
    /// No record expires before this (a lower bound: a refresh may have moved the earliest
    /// expiry later). `expire` has nothing to do before it, and skips the sweep.
    earliest: Option<Instant>,
}

impl Store {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps `record` under `key` until `expires`, replacing an older copy of the same file.
    /// Returns false (and keeps nothing) when the key already holds
    /// [`MAX_RECORDS_PER_KEY`] other records.
    pub fn put(&mut self, key: Id, record: Record, expires: Instant) -> bool {
        let list = self.entries.entry(key).or_default();
        if let Some(s) = list.iter_mut().find(|s| s.record.same_file(&record)) {
            s.expires = s.expires.max(expires);
            s.record = record;
            return true;
        }
        if list.len() >= MAX_RECORDS_PER_KEY {
            return false;
        }
        list.push(Stored { record, expires });
        self.earliest = Some(self.earliest.map_or(expires, |e| e.min(expires)));
        true
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
        if self.earliest.is_none_or(|e| e > now) {
            return;
        }
        self.entries.retain(|_, list| {
            list.retain(|s| s.expires > now);
            !list.is_empty()
        });
        self.earliest = self.entries.values().flatten().map(|s| s.expires).min();
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

    fn rec(name: &str, port: u16) -> Record {
        Record {
            name: name.into(),
            size: 10,
            holder: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            index: 0,
        }
    }

    #[test]
    fn records_refresh_and_expire() {
        let mut s = Store::new();
        let key = Id::from_u64(5);
        let t = |secs| Instant::ZERO + Duration::from_secs(secs);
        assert!(s.put(key, rec("one more time.mp3", 1), t(10)));
        assert!(s.put(key, rec("one more time.mp3", 1), t(20)), "refresh");
        assert!(s.put(key, rec("one love.mp3", 2), t(10)));
        let q = Query::parse("one");
        assert_eq!(s.get(key, &q, t(5)).len(), 2);
        assert_eq!(
            s.get(key, &Query::parse("love"), t(5)),
            [rec("one love.mp3", 2)]
        );
        s.expire(t(15));
        assert_eq!(s.get(key, &q, t(15)), [rec("one more time.mp3", 1)]);
        s.expire(t(20));
        assert_eq!(s.keys().count(), 0);
    }

    #[test]
    fn a_refresh_does_not_hide_a_later_expiry() {
        let mut s = Store::new();
        let t = |secs| Instant::ZERO + Duration::from_secs(secs);
        let (a, b) = (Id::from_u64(1), Id::from_u64(2));
        s.put(a, rec("a.mp3", 1), t(10));
        s.put(a, rec("a.mp3", 1), t(30));
        s.expire(t(15));
        assert_eq!(s.keys().count(), 1, "refreshed, so still there");
        s.put(b, rec("b.mp3", 2), t(20));
        s.expire(t(25));
        assert_eq!(s.keys().collect::<Vec<_>>(), [a]);
        s.expire(t(30));
        assert_eq!(s.keys().count(), 0);
    }
}
