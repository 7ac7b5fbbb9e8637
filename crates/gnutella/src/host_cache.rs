//! The host cache: addresses of servents this one has heard of, to connect to when it needs
//! neighbours.
//!
//! Gnutella has no directory. A servent learns who is out there from the Pongs that answer its
//! Pings (and from those it forwards for others), and dials from this cache whenever it has
//! fewer neighbours than it wants — at start, and when neighbours die. The cache is bounded:
//! the freshest [`HOST_CACHE_SIZE`](crate::HOST_CACHE_SIZE) addresses are kept, and an address
//! that fails to answer a dial is forgotten.

use std::collections::VecDeque;
use std::net::SocketAddr;

/// Known servent addresses, freshest first.
#[derive(Debug, Clone)]
pub struct HostCache {
    hosts: VecDeque<SocketAddr>,
    capacity: usize,
}

impl HostCache {
    /// An empty cache holding at most `capacity` addresses.
    pub fn new(capacity: usize) -> Self {
        HostCache {
            hosts: VecDeque::new(),
            capacity,
        }
    }

    /// Records `addr` as freshly seen; the stalest address goes if the cache is full.
    pub fn add(&mut self, addr: SocketAddr) {
        self.remove(addr);
        self.hosts.push_front(addr);
        self.hosts.truncate(self.capacity);
    }

    /// Forgets `addr` (it did not answer).
    pub fn remove(&mut self, addr: SocketAddr) {
        self.hosts.retain(|h| *h != addr);
    }

    /// The freshest addresses for which `usable` holds, at most `n` of them.
    pub fn pick(&self, n: usize, usable: impl Fn(SocketAddr) -> bool) -> Vec<SocketAddr> {
        self.hosts
            .iter()
            .copied()
            .filter(|a| usable(*a))
            .take(n)
            .collect()
    }

    /// Number of addresses known.
    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    /// True when no address is known.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([10, 0, 0, 1], port))
    }

    #[test]
    fn keeps_the_freshest_and_forgets_failures() {
        let mut c = HostCache::new(3);
        for p in 1..=4 {
            c.add(addr(p));
        }
        assert_eq!(c.pick(10, |_| true), [addr(4), addr(3), addr(2)]);
        c.add(addr(2));
        assert_eq!(c.pick(1, |_| true), [addr(2)]);
        c.remove(addr(3));
        assert_eq!(c.pick(10, |a| a != addr(2)), [addr(4)]);
        assert_eq!(c.len(), 2);
    }
}
