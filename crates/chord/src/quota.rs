//! What one connection may add to a node's store: [`MAX_LINK_KEYS`] new keys and
//! [`MAX_LINK_RECORDS`] new records per window of one entry lifetime (`entry_ttl`).
//!
//! A `store` message names no sender, so the connection it arrives on is the only sender
//! a node can hold to account. Refreshing a record already held costs nothing: the
//! periodic re-publications and re-replications that keep honest entries alive never run
//! a connection's quota down. A window lasts as long as a record does, so what one
//! connection added and is still held is at most two windows' quota.

use std::time::Duration;

use p2plab_peer_protocol::time::FixedWindow;
use p2plab_peer_protocol::Instant;

use crate::{MAX_LINK_KEYS, MAX_LINK_RECORDS};

/// One connection's additions to the store in the current window.
#[derive(Clone, Copy, Debug)]
pub struct Quota(FixedWindow<Added>);

/// Keys and records added in one window.
#[derive(Clone, Copy, Debug, Default)]
struct Added {
    keys: usize,
    records: usize,
}

impl Quota {
    /// A full quota, its window starting at `now`.
    pub fn new(now: Instant) -> Self {
        Quota(FixedWindow::starting(now))
    }

    /// True when one more record — under a key not held yet, if `new_key` — fits, as of
    /// `now`. A window older than `window` gives way to a fresh one first.
    pub fn allows(&mut self, now: Instant, window: Duration, new_key: bool) -> bool {
        let added = self.0.at(now, window);
        added.records < MAX_LINK_RECORDS && (!new_key || added.keys < MAX_LINK_KEYS)
    }

    /// Counts one record added (under a new key, if `new_key`), in the window the last
    /// [`Quota::allows`] looked at.
    pub fn charge(&mut self, new_key: bool) {
        let added = self.0.current();
        added.records += 1;
        added.keys += usize::from(new_key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quota_runs_out_and_refills_after_its_window() {
        let window = Duration::from_secs(180);
        let t = |secs| Instant::ZERO + Duration::from_secs(secs);
        let mut q = Quota::new(t(0));
        for _ in 0..MAX_LINK_KEYS {
            assert!(q.allows(t(1), window, true));
            q.charge(true);
        }
        assert!(!q.allows(t(2), window, true), "no more new keys");
        assert!(
            q.allows(t(2), window, false),
            "records under held keys still fit"
        );
        for _ in MAX_LINK_KEYS..MAX_LINK_RECORDS {
            q.charge(false);
        }
        assert!(!q.allows(t(179), window, false), "nor records, now");
        assert!(q.allows(t(180), window, true), "a new window");
    }
}
