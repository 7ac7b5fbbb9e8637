//! [`Sides`]: a cut of the network, as the side each listen address is on.

use std::collections::HashMap;
use std::net::SocketAddr;

/// Which side of a cut each listed address is on; an address not listed is on side 0.
///
/// Side 0 is where everything unnamed lives — Napster's index server, a node started during
/// the cut — so a cut that lists only the minority names just one side and leaves the rest
/// together.
#[derive(Debug)]
pub(super) struct Sides(HashMap<SocketAddr, usize>);

impl Sides {
    /// `sides[k]` are the addresses of side k; an address listed twice keeps its first side.
    pub(super) fn new(sides: &[Vec<SocketAddr>]) -> Self {
        let mut side_of = HashMap::new();
        for (side, addrs) in sides.iter().enumerate() {
            for addr in addrs {
                side_of.entry(*addr).or_insert(side);
            }
        }
        Sides(side_of)
    }

    /// The side `addr` is on.
    pub(super) fn side(&self, addr: SocketAddr) -> usize {
        self.0.get(&addr).copied().unwrap_or(0)
    }

    /// True if `a` and `b` are on the same side.
    pub(super) fn same_side(&self, a: SocketAddr, b: SocketAddr) -> bool {
        self.side(a) == self.side(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn listed_addresses_are_on_their_side_and_the_rest_on_side_0() {
        let sides = Sides::new(&[vec![addr(1)], vec![addr(2), addr(3)], vec![addr(4)]]);
        assert_eq!(sides.side(addr(1)), 0);
        assert_eq!(sides.side(addr(3)), 1);
        assert_eq!(sides.side(addr(4)), 2);
        assert_eq!(sides.side(addr(9)), 0, "not listed");
        assert!(sides.same_side(addr(9), addr(1)));
        assert!(sides.same_side(addr(2), addr(3)));
        assert!(!sides.same_side(addr(3), addr(4)));
    }

    #[test]
    fn the_port_tells_two_nodes_of_one_machine_apart() {
        let sides = Sides::new(&[vec![], vec![addr(7)]]);
        let other_ip = SocketAddr::from(([127, 0, 0, 2], 7));
        assert_eq!(sides.side(addr(7)), 1);
        assert_eq!(sides.side(other_ip), 0, "the whole address is the key");
    }

    #[test]
    fn an_address_listed_twice_keeps_its_first_side() {
        let sides = Sides::new(&[vec![], vec![addr(5)], vec![addr(5)]]);
        assert_eq!(sides.side(addr(5)), 1);
    }
}
