//! The connection ends each node holds: who is at the other end, and when bytes land there.
//!
//! Every node keeps its own short list of ends, sorted by [`ConnId`] (a node has a handful of
//! connections, a Gnutella hub a few hundred): finding an end is a binary search in that
//! node's list, and a crash walks only the crashed node's list, never the whole network's.
//!
//! Every delivery first checks that its end still exists, so the ids sit in an array of their
//! own, apart from the rest of each end: the search reads 8 bytes a step, and a node's ids
//! share a cache line or two instead of spreading over a line per end.
//!
//! An end exists while its core may still be told something about it. Its `peer` is the
//! other end while the core may still *send*: when either side closes, or the link breaks,
//! `peer` goes, later writes vanish (as on a dying TCP connection), and the `Closed` still on
//! its way ends the end.

use p2plab_peer_protocol::{ConnId, Instant};

use super::NodeIdx;

/// The far side of a connection end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Peer {
    /// The node at the other end.
    pub(super) node: NodeIdx,
    /// Its name for the connection.
    pub(super) conn: ConnId,
    /// Its incarnation when the connection was set up.
    pub(super) life: u32,
}

/// One node's end of a connection, but for its id.
#[derive(Debug, Clone, Copy)]
pub(super) struct Link {
    /// The other end, while this one may still send.
    pub(super) peer: Option<Peer>,
    /// When the last byte sent from this end lands: later ones may not overtake it.
    pub(super) last_delivery: Instant,
}

/// A node's ends, sorted by connection id: `conns[i]` names `links[i]`.
#[derive(Debug, Default)]
pub(super) struct Ends {
    conns: Vec<ConnId>,
    links: Vec<Link>,
}

impl Ends {
    fn find(&self, conn: ConnId) -> Result<usize, usize> {
        self.conns.binary_search(&conn)
    }

    pub(super) fn get_mut(&mut self, conn: ConnId) -> Option<&mut Link> {
        let i = self.find(conn).ok()?;
        Some(&mut self.links[i])
    }

    /// The ids of the ends, sorted.
    pub(super) fn ids(&self) -> &[ConnId] {
        &self.conns
    }

    pub(super) fn contains(&self, conn: ConnId) -> bool {
        self.find(conn).is_ok()
    }

    pub(super) fn insert(&mut self, conn: ConnId, link: Link) {
        match self.find(conn) {
            Ok(i) => self.links[i] = link,
            Err(i) => {
                self.conns.insert(i, conn);
                self.links.insert(i, link);
            }
        }
    }

    pub(super) fn remove(&mut self, conn: ConnId) {
        if let Ok(i) = self.find(conn) {
            self.conns.remove(i);
            self.links.remove(i);
        }
    }

    /// Takes every end, leaving none.
    pub(super) fn take_all(&mut self) -> Vec<Link> {
        self.conns.clear();
        std::mem::take(&mut self.links)
    }

    /// The ends that may still send.
    pub(super) fn linked(&self) -> impl Iterator<Item = (ConnId, Peer)> + '_ {
        (self.conns.iter().zip(&self.links)).filter_map(|(c, l)| l.peer.map(|p| (*c, p)))
    }

    /// Bytes of heap this list holds.
    pub(super) fn heap_bytes(&self) -> usize {
        self.conns.capacity() * std::mem::size_of::<ConnId>()
            + self.links.capacity() * std::mem::size_of::<Link>()
    }
}
