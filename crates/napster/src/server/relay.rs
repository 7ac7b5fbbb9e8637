//! The upload requests the server has relayed to holders (607) and waits on (608).
//!
//! OpenNap answers a 203 by asking the holder first; p2plab's server does the same, and
//! remembers each request it relayed until the holder accepts it, the holder leaves, or
//! the request has waited [`ServerConfig::upload_accept_timeout`]. Then the downloader
//! hears 204 (accepted) or 609 (not), and the entry is gone: a 608 no request waits for is
//! ignored, so no client can send 204s to users who never asked.
//!
//! Every request waits the same time, so deadlines come in the order requests were
//! relayed: the front of the queue is both the oldest and the soonest due. Two caps bound
//! the table ([`MAX_RELAYED_PER_USER`], [`MAX_RELAYED_REQUESTS`]); which request each
//! refuses or displaces is said at [`Relays::add`].
//!
//! [`ServerConfig::upload_accept_timeout`]: super::ServerConfig::upload_accept_timeout
//! [`MAX_RELAYED_PER_USER`]: crate::MAX_RELAYED_PER_USER
//! [`MAX_RELAYED_REQUESTS`]: crate::MAX_RELAYED_REQUESTS

use std::collections::{HashMap, VecDeque};

use p2plab_peer_protocol::{ConnId, Instant};

/// One relayed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Relay {
    /// Who asked.
    pub downloader: ConnId,
    /// Who was asked.
    pub holder: ConnId,
    /// The holder's nick, for the 609 if the holder is gone by then.
    pub holder_nick: String,
    /// The file, as the downloader named it.
    pub name: String,
    /// When the downloader is told the holder did not accept.
    pub deadline: Instant,
}

/// Why a request could not be added.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct UserFull;

/// The relayed requests, oldest first.
#[derive(Debug)]
pub(super) struct Relays {
    max_total: usize,
    max_per_user: usize,
    queue: VecDeque<Relay>,
    /// How many requests each downloader has waiting; downloaders with none are absent.
    per_user: HashMap<ConnId, usize>,
}

impl Relays {
    pub(super) fn new(max_total: usize, max_per_user: usize) -> Self {
        Relays {
            max_total,
            max_per_user,
            queue: VecDeque::new(),
            per_user: HashMap::new(),
        }
    }

    /// Adds `relay`, and returns the oldest request it displaced when the table was full
    /// (to be answered 609 now).
    ///
    /// # Errors
    /// [`UserFull`] if its downloader has [`MAX_RELAYED_PER_USER`](crate::MAX_RELAYED_PER_USER)
    /// requests waiting already: the new one is refused, never another user's displaced.
    pub(super) fn add(&mut self, relay: Relay) -> Result<Option<Relay>, UserFull> {
        if self.per_user.get(&relay.downloader).copied().unwrap_or(0) >= self.max_per_user {
            return Err(UserFull);
        }
        let displaced = if self.queue.len() >= self.max_total {
            self.pop_front()
        } else {
            None
        };
        *self.per_user.entry(relay.downloader).or_default() += 1;
        self.queue.push_back(relay);
        Ok(displaced)
    }

    /// The oldest request `holder` was asked by `downloader` for `name`, taken out: the
    /// holder accepted it.
    pub(super) fn take_accepted(
        &mut self,
        holder: ConnId,
        downloader: ConnId,
        name: &str,
    ) -> Option<Relay> {
        let i = self
            .queue
            .iter()
            .position(|r| r.holder == holder && r.downloader == downloader && r.name == name)?;
        self.take_at(i)
    }

    /// Takes the requests due at `now` or earlier, oldest first.
    pub(super) fn take_due(&mut self, now: Instant) -> Vec<Relay> {
        let mut due = Vec::new();
        while self.queue.front().is_some_and(|r| r.deadline <= now) {
            due.extend(self.pop_front());
        }
        due
    }

    /// Takes every request `conn` made or was asked: its connection is gone.
    pub(super) fn take_involving(&mut self, conn: ConnId) -> Vec<Relay> {
        let (gone, kept): (VecDeque<Relay>, VecDeque<Relay>) = std::mem::take(&mut self.queue)
            .into_iter()
            .partition(|r| r.holder == conn || r.downloader == conn);
        self.queue = kept;
        for relay in &gone {
            self.uncount(relay.downloader);
        }
        gone.into()
    }

    /// The soonest deadline.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.queue.front().map(|r| r.deadline)
    }

    fn pop_front(&mut self) -> Option<Relay> {
        self.take_at(0)
    }

    fn take_at(&mut self, i: usize) -> Option<Relay> {
        let relay = self.queue.remove(i)?;
        self.uncount(relay.downloader);
        Some(relay)
    }

    fn uncount(&mut self, downloader: ConnId) {
        if let Some(n) = self.per_user.get_mut(&downloader) {
            *n -= 1;
            if *n == 0 {
                self.per_user.remove(&downloader);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relay(downloader: u64, holder: u64, name: &str, at: u64) -> Relay {
        Relay {
            downloader: ConnId(downloader),
            holder: ConnId(holder),
            holder_nick: format!("h{holder}"),
            name: name.to_owned(),
            deadline: Instant::from_micros(at),
        }
    }

    #[test]
    fn a_full_user_is_refused_and_a_full_table_displaces_its_oldest() {
        let mut r = Relays::new(3, 2);
        assert_eq!(r.add(relay(1, 9, "a", 10)), Ok(None));
        assert_eq!(r.add(relay(1, 9, "b", 11)), Ok(None));
        assert_eq!(r.add(relay(1, 9, "c", 12)), Err(UserFull));
        assert_eq!(r.add(relay(2, 9, "d", 13)), Ok(None));
        assert_eq!(
            r.add(relay(3, 9, "e", 14)),
            Ok(Some(relay(1, 9, "a", 10))),
            "the table is full: the oldest goes"
        );
        assert_eq!(
            r.add(relay(1, 9, "f", 15)),
            Ok(Some(relay(1, 9, "b", 11))),
            "user 1 has room again, and the table displaces its oldest again"
        );
        assert_eq!(r.next_deadline(), Some(Instant::from_micros(13)));
    }

    #[test]
    fn an_accept_takes_only_its_own_request_and_the_rest_fall_due_in_order() {
        let mut r = Relays::new(10, 10);
        for (d, h, name, at) in [
            (1, 8, "x", 1),
            (2, 8, "x", 2),
            (1, 9, "x", 3),
            (1, 8, "y", 4),
        ] {
            r.add(relay(d, h, name, at)).expect("room");
        }
        assert_eq!(r.take_accepted(ConnId(8), ConnId(1), "z"), None);
        assert_eq!(
            r.take_accepted(ConnId(8), ConnId(2), "x"),
            Some(relay(2, 8, "x", 2))
        );
        assert_eq!(r.take_due(Instant::from_micros(3)).len(), 2);
        assert_eq!(r.take_involving(ConnId(8)), [relay(1, 8, "y", 4)]);
        assert_eq!(r.next_deadline(), None);
        assert!(r.per_user.is_empty(), "every count went back to zero");
    }
}
