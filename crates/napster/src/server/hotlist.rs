//! The hotlists: for each user, the nicks it wants to be told about; for each nick, the
//! users to tell when it signs on (209) or off (210).
//!
//! ```text
//! lists:    conn 3 → {"alice", "bob"}      conn 7 → {"bob"}
//! watchers: "alice" → {3}                  "bob" → {3, 7}
//! ```
//!
//! Both directions are kept so that each event costs only what it concerns: a login or
//! logout reads the watchers of one nick, a client leaving removes its own entries and
//! nothing else. An entry names a nick, not a user: it holds whether or not anyone is
//! logged in under that nick, and lasts until its owner sends 303 or leaves.
//!
//! Each list holds at most [`MAX_HOTLIST_PER_USER`](crate::MAX_HOTLIST_PER_USER) entries
//! and all of them together [`MAX_HOTLIST_ENTRIES`](crate::MAX_HOTLIST_ENTRIES). Watchers
//! are kept in connection order, so notices go out in the same order on every run.

use std::collections::{BTreeSet, HashMap};

use p2plab_peer_protocol::ConnId;

/// Why an entry was not added; the texts are the 404s that follow the 302.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum HotlistFull {
    /// The user's own list is full (OpenNap's wording).
    #[error("hotlist is limited to {0} entries")]
    User(usize),
    /// The server keeps as many entries as it may, for all users.
    #[error("the server's hotlists are full: at most {0} entries")]
    Server(usize),
}

/// Every user's hotlist, both ways round.
#[derive(Debug)]
pub(super) struct Hotlists {
    /// The nicks each user watches.
    lists: HashMap<ConnId, BTreeSet<String>>,
    /// The users watching each nick.
    watchers: HashMap<String, BTreeSet<ConnId>>,
    /// Entries in all: the sum of the lists' lengths.
    len: usize,
    /// The most entries one list holds.
    per_user: usize,
    /// The most entries in all.
    total: usize,
}

impl Hotlists {
    /// No hotlists, with at most `per_user` entries a user and `total` in all.
    pub fn new(per_user: usize, total: usize) -> Self {
        Hotlists {
            lists: HashMap::new(),
            watchers: HashMap::new(),
            len: 0,
            per_user,
            total,
        }
    }

    /// Puts `nick` on `conn`'s hotlist. Returns whether it is new there (an entry already
    /// listed is not added twice).
    ///
    /// # Errors
    /// [`HotlistFull`] when the user's list or the table is full.
    pub fn add(&mut self, conn: ConnId, nick: &str) -> Result<bool, HotlistFull> {
        let mine = self.lists.get(&conn);
        if mine.is_some_and(|list| list.contains(nick)) {
            return Ok(false);
        }
        if mine.map_or(0, BTreeSet::len) >= self.per_user {
            return Err(HotlistFull::User(self.per_user));
        }
        if self.len >= self.total {
            return Err(HotlistFull::Server(self.total));
        }
        self.lists.entry(conn).or_default().insert(nick.to_owned());
        self.watchers
            .entry(nick.to_owned())
            .or_default()
            .insert(conn);
        self.len += 1;
        Ok(true)
    }

    /// Takes `nick` off `conn`'s hotlist. Returns whether it was there.
    pub fn remove(&mut self, conn: ConnId, nick: &str) -> bool {
        let Some(mine) = self.lists.get_mut(&conn) else {
            return false;
        };
        if !mine.remove(nick) {
            return false;
        }
        if mine.is_empty() {
            self.lists.remove(&conn);
        }
        self.unwatch(nick, conn);
        self.len -= 1;
        true
    }

    /// Forgets `conn`'s whole hotlist, when it leaves.
    pub fn remove_user(&mut self, conn: ConnId) {
        let Some(mine) = self.lists.remove(&conn) else {
            return;
        };
        for nick in &mine {
            self.unwatch(nick, conn);
        }
        self.len -= mine.len();
    }

    /// The users with `nick` on their hotlist, in connection order.
    pub fn watchers(&self, nick: &str) -> Vec<ConnId> {
        self.watchers
            .get(nick)
            .map_or_else(Vec::new, |w| w.iter().copied().collect())
    }

    /// Entries in all.
    pub fn len(&self) -> usize {
        self.len
    }

    fn unwatch(&mut self, nick: &str, conn: ConnId) {
        if let Some(watching) = self.watchers.get_mut(nick) {
            watching.remove(&conn);
            if watching.is_empty() {
                self.watchers.remove(nick);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(n: u64) -> ConnId {
        ConnId(n)
    }

    #[test]
    fn entries_are_kept_both_ways_and_leave_with_their_owner() {
        let mut h = Hotlists::new(2, 10);
        assert_eq!(h.add(conn(7), "bob"), Ok(true));
        assert_eq!(h.add(conn(3), "bob"), Ok(true));
        assert_eq!(h.add(conn(3), "alice"), Ok(true));
        assert_eq!(h.add(conn(3), "alice"), Ok(false), "listed already");
        assert_eq!(h.len(), 3);
        assert_eq!(h.watchers("bob"), [conn(3), conn(7)]);
        assert!(h.remove(conn(7), "bob"));
        assert!(!h.remove(conn(7), "bob"));
        assert_eq!(h.watchers("bob"), [conn(3)]);
        h.remove_user(conn(3));
        assert_eq!(h.len(), 0);
        assert!(h.watchers("bob").is_empty());
        assert!(h.watchers("alice").is_empty());
    }

    #[test]
    fn a_full_list_or_a_full_table_refuses_the_entry() {
        let mut h = Hotlists::new(2, 3);
        h.add(conn(1), "a").unwrap();
        h.add(conn(1), "b").unwrap();
        assert_eq!(h.add(conn(1), "c"), Err(HotlistFull::User(2)));
        h.add(conn(2), "a").unwrap();
        assert_eq!(h.add(conn(2), "b"), Err(HotlistFull::Server(3)));
        assert_eq!(h.len(), 3);
        assert!(h.remove(conn(1), "a"));
        assert_eq!(h.add(conn(2), "b"), Ok(true), "room again");
    }
}
