//! The connections that have not logged in yet: when each must have, and how many each
//! address holds.
//!
//! A connection joins when it is accepted and leaves when it logs in, closes, or runs out
//! of time. Two caps keep silent connections from taking the slots that logged-in users
//! need: one per address and one in all. A newcomer over a cap makes room by closing the
//! oldest waiting connection — of its own address if that address is at its cap, else of
//! all — never by being refused (see [`MAX_PENDING_LOGINS_PER_ADDRESS`] for why).
//!
//! Every connection gets the same time to log in, so deadlines come in the order
//! connections were accepted (and, at the same instant, in id order): the first deadline is
//! the oldest connection.
//!
//! [`MAX_PENDING_LOGINS_PER_ADDRESS`]: crate::MAX_PENDING_LOGINS_PER_ADDRESS

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use p2plab_peer_protocol::{ConnId, Instant};

/// The connections waiting to log in.
#[derive(Debug)]
pub(super) struct PendingLogins {
    max_total: usize,
    max_per_address: usize,
    /// Login deadlines, soonest (and so oldest) first.
    deadlines: BTreeSet<(Instant, ConnId)>,
    /// Each waiting connection's deadline and address.
    conns: HashMap<ConnId, (Instant, IpAddr)>,
    /// How many connections each address has waiting; addresses with none are absent.
    per_address: HashMap<IpAddr, usize>,
}

impl PendingLogins {
    pub(super) fn new(max_total: usize, max_per_address: usize) -> Self {
        PendingLogins {
            max_total,
            max_per_address,
            deadlines: BTreeSet::new(),
            conns: HashMap::new(),
            per_address: HashMap::new(),
        }
    }

    /// Adds `conn`, from `addr`, due to log in by `deadline`. Returns the waiting connection
    /// it displaces, if a cap was reached: that one is forgotten here and is to be closed.
    pub(super) fn add(&mut self, conn: ConnId, addr: IpAddr, deadline: Instant) -> Option<ConnId> {
        let addr = addr.to_canonical();
        let address_full = self
            .per_address
            .get(&addr)
            .is_some_and(|n| *n >= self.max_per_address);
        let victim = if address_full {
            self.oldest_from(addr)
        } else if self.conns.len() >= self.max_total {
            self.deadlines.first().map(|&(_, c)| c)
        } else {
            None
        };
        if let Some(victim) = victim {
            self.remove(victim);
        }
        self.deadlines.insert((deadline, conn));
        self.conns.insert(conn, (deadline, addr));
        *self.per_address.entry(addr).or_default() += 1;
        victim
    }

    /// Forgets `conn` (it logged in or closed); does nothing if it was not waiting.
    pub(super) fn remove(&mut self, conn: ConnId) {
        let Some((deadline, addr)) = self.conns.remove(&conn) else {
            return;
        };
        self.deadlines.remove(&(deadline, conn));
        if let Some(n) = self.per_address.get_mut(&addr) {
            *n -= 1;
            if *n == 0 {
                self.per_address.remove(&addr);
            }
        }
    }

    /// The soonest login deadline.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.first().map(|&(t, _)| t)
    }

    /// Takes the connections whose deadline is `now` or earlier, oldest first.
    pub(super) fn take_due(&mut self, now: Instant) -> Vec<ConnId> {
        let due: Vec<ConnId> = self
            .deadlines
            .iter()
            .take_while(|(t, _)| *t <= now)
            .map(|&(_, c)| c)
            .collect();
        for conn in &due {
            self.remove(*conn);
        }
        due
    }

    /// The oldest connection from `addr` still waiting.
    fn oldest_from(&self, addr: IpAddr) -> Option<ConnId> {
        self.deadlines
            .iter()
            .map(|&(_, c)| c)
            .find(|c| self.conns.get(c).is_some_and(|(_, a)| *a == addr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn a_full_address_gives_up_its_oldest_and_a_full_server_its_oldest_of_all() {
        let at = Instant::from_micros;
        let mut p = PendingLogins::new(3, 2);
        assert_eq!(p.add(ConnId(1), ip(1), at(10)), None);
        assert_eq!(p.add(ConnId(2), ip(1), at(11)), None);
        assert_eq!(
            p.add(ConnId(3), ip(1), at(12)),
            Some(ConnId(1)),
            "ip 1 is full"
        );
        assert_eq!(p.add(ConnId(4), ip(2), at(13)), None);
        assert_eq!(
            p.add(ConnId(5), ip(3), at(14)),
            Some(ConnId(2)),
            "all are full"
        );
        p.remove(ConnId(3));
        assert_eq!(p.add(ConnId(6), ip(1), at(15)), None, "ip 1 has room again");
        assert_eq!(p.next_deadline(), Some(at(13)));
        assert_eq!(p.take_due(at(14)), [ConnId(4), ConnId(5)]);
        assert_eq!(p.take_due(at(20)), [ConnId(6)]);
        assert_eq!(p.next_deadline(), None);
    }

    #[test]
    fn an_ipv4_mapped_address_counts_as_its_ipv4_address() {
        let mut p = PendingLogins::new(10, 1);
        let mapped = IpAddr::V6(std::net::Ipv4Addr::new(10, 0, 0, 1).to_ipv6_mapped());
        p.add(ConnId(1), ip(1), Instant::ZERO);
        assert_eq!(p.add(ConnId(2), mapped, Instant::ZERO), Some(ConnId(1)));
    }
}
