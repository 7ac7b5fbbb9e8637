//! Nodes that just failed us, remembered for a short while.
//!
//! When a request to a node fails, the node is dropped from the successor list, the
//! fingers and the predecessor. But its neighbours may not have noticed yet: our
//! successor can still name it as its predecessor, or list it among its successors, and
//! stabilize would take it straight back, fail again, and loop — as fast as the network
//! refuses connections — until the successor's own `check_predecessor` catches up.
//! So a failed node stays *suspect* for [`crate::SUSPECT_PERIODS`] stabilize periods:
//! reports that name it are not believed. A suspect that notifies us is alive, and is
//! cleared at once.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use p2plab_peer_protocol::Instant;

use crate::MAX_SUSPECTS;

/// Recently failed nodes, each with the time its suspicion ends.
#[derive(Debug, Default, Clone)]
pub struct Suspects {
    until: BTreeMap<SocketAddr, Instant>,
}

impl Suspects {
    /// Suspects `addr` until `until`. Past [`MAX_SUSPECTS`], the suspicion that ends
    /// soonest is dropped.
    pub fn mark(&mut self, addr: SocketAddr, until: Instant) {
        self.until.insert(addr, until);
        if self.until.len() > MAX_SUSPECTS {
            let soonest = self.until.iter().min_by_key(|(_, t)| **t).map(|(a, _)| *a);
            if let Some(a) = soonest {
                self.until.remove(&a);
            }
        }
    }

    /// True while `addr` is suspect.
    pub fn contains(&self, addr: SocketAddr, now: Instant) -> bool {
        self.until.get(&addr).is_some_and(|t| *t > now)
    }

    /// `addr` showed it is alive.
    pub fn clear(&mut self, addr: SocketAddr) {
        self.until.remove(&addr);
    }

    /// Forgets suspicions that have ended.
    pub fn expire(&mut self, now: Instant) {
        self.until.retain(|_, t| *t > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([10, 0, 0, 1], port))
    }

    #[test]
    fn a_suspicion_ends_on_time_or_when_cleared() {
        let t0 = Instant::ZERO;
        let mut s = Suspects::default();
        s.mark(addr(1), t0 + Duration::from_secs(2));
        s.mark(addr(2), t0 + Duration::from_secs(2));
        assert!(s.contains(addr(1), t0 + Duration::from_secs(1)));
        assert!(!s.contains(addr(1), t0 + Duration::from_secs(2)));
        s.clear(addr(2));
        assert!(!s.contains(addr(2), t0));
    }

    #[test]
    fn the_set_is_bounded() {
        let mut s = Suspects::default();
        for p in 0..(MAX_SUSPECTS as u16 + 10) {
            s.mark(
                addr(p),
                Instant::ZERO + Duration::from_secs(u64::from(p) + 1),
            );
        }
        assert_eq!(s.until.len(), MAX_SUSPECTS);
        assert!(
            !s.contains(addr(0), Instant::ZERO),
            "the soonest to end went first"
        );
    }
}
