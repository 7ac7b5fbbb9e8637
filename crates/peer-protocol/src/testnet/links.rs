//! The connection ends each node holds: who is at the other end, and when bytes land there.
//!
//! Every node keeps its own short list of ends, sorted by [`ConnId`] (a node has a handful of
//! connections, a Gnutella hub a few hundred): finding an end is a binary search in that
//! node's list, and a crash walks only the crashed node's list, never the whole network's.
//!
//! An end exists while its core may still be told something about it. Its `peer` is the
//! other end while the core may still *send*: when either side closes, or the link breaks,
//! `peer` goes, later writes vanish (as on a dying TCP connection), and the `Closed` still on
//! its way ends the end.

use crate::node::ConnId;
use crate::time::Instant;

use super::NodeIdx;

/// The far side of a connection end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Peer {
    /// The node at the other end.
    pub(super) node: NodeIdx,
    /// Its name for the connection.
    pub(super) conn: ConnId,
}

/// One node's end of a connection.
#[derive(Debug, Clone, Copy)]
pub(super) struct End {
    pub(super) conn: ConnId,
    /// The other end, while this one may still send.
    pub(super) peer: Option<Peer>,
    /// When the last byte sent from this end lands: later ones may not overtake it.
    pub(super) last_delivery: Instant,
}

/// A node's ends, sorted by connection id.
#[derive(Debug, Default)]
pub(super) struct Ends(Vec<End>);

impl Ends {
    fn find(&self, conn: ConnId) -> Result<usize, usize> {
        self.0.binary_search_by_key(&conn, |e| e.conn)
    }

    pub(super) fn get_mut(&mut self, conn: ConnId) -> Option<&mut End> {
        let i = self.find(conn).ok()?;
        Some(&mut self.0[i])
    }

    pub(super) fn contains(&self, conn: ConnId) -> bool {
        self.find(conn).is_ok()
    }

    pub(super) fn insert(&mut self, end: End) {
        match self.find(end.conn) {
            Ok(i) => self.0[i] = end,
            Err(i) => self.0.insert(i, end),
        }
    }

    pub(super) fn remove(&mut self, conn: ConnId) -> Option<End> {
        let i = self.find(conn).ok()?;
        Some(self.0.remove(i))
    }

    /// Takes every end, leaving none.
    pub(super) fn take_all(&mut self) -> Vec<End> {
        std::mem::take(&mut self.0)
    }

    /// The ends that may still send.
    pub(super) fn linked(&self) -> impl Iterator<Item = (ConnId, Peer)> + '_ {
        self.0.iter().filter_map(|e| e.peer.map(|p| (e.conn, p)))
    }

    /// Bytes of heap this list holds.
    pub(super) fn heap_bytes(&self) -> usize {
        self.0.capacity() * std::mem::size_of::<End>()
    }
}
