//! A reference to a Chord node: its identifier and where it listens.

use std::fmt;
use std::net::SocketAddr;

use crate::id::{Id, Ring};

/// A node as the ring knows it: `id` for routing, `addr` to reach it.
///
/// The two always agree: `id` is the hash of `addr` ([`Id::of_addr`]). A reference that
/// arrives off the wire with any other id is refused ([`NodeRef::is_genuine`]), so a peer
/// cannot place itself, or anyone else, at a ring position of its choosing.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct NodeRef {
    /// The node's position on the circle.
    pub id: Id,
    /// The node's listen address (Chord RPCs and HTTP downloads).
    pub addr: SocketAddr,
}

impl NodeRef {
    /// The reference for the node listening at `addr`, on `ring`.
    pub fn at(addr: SocketAddr, ring: Ring) -> Self {
        NodeRef {
            id: Id::of_addr(addr, ring.bits()),
            addr,
        }
    }

    /// True when `id` is the hash of `addr` on `ring`.
    pub fn is_genuine(&self, ring: Ring) -> bool {
        *self == NodeRef::at(self.addr, ring)
    }
}

impl fmt::Debug for NodeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.id, self.addr)
    }
}

/// A node with a small id, listening on loopback at a port equal to its id: the paper's
/// examples, for tests.
#[cfg(test)]
pub(crate) fn test_node(id: u64) -> NodeRef {
    NodeRef {
        id: Id::from_u64(id),
        addr: SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, id as u16)),
    }
}
