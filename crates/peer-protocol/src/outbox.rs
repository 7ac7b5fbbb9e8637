//! The effects a core asks its driver to carry out, and the connection ids that name them.
//!
//! Three types, one per party:
//!
//! - [`ConnIds`] — a node's source of connection ids. The driver keeps one per node and is
//!   the only one that draws from it: for a connection it accepted, directly; for one the
//!   core dials, through the outbox it lends the core.
//! - [`Effects`] — the queue of effects the driver drains after every input. A driver that
//!   runs many cores (the simulator) keeps one queue for all of them.
//! - [`Outbox`] — what a core sees for one turn: the driver's queue and the node's id source,
//!   lent together for one [`Node::handle`](crate::node::Node::handle). A core can push
//!   effects and ask to dial; it cannot hand out, count or rewind ids.

use std::collections::VecDeque;
use std::net::SocketAddr;

use crate::codec::WireMessage;
use crate::metrics::Metrics;
use crate::node::{ConnId, Event};

/// One effect, for the driver to carry out in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Write these bytes to the connection.
    Send {
        /// Where to.
        conn: ConnId,
        /// What: already encoded.
        bytes: Vec<u8>,
    },
    /// Open a TCP connection to `addr`, named `conn` from now on.
    Connect {
        /// The id the core will see in [`Input::Connected`](crate::node::Input::Connected).
        conn: ConnId,
        /// Where to.
        addr: SocketAddr,
    },
    /// Close the connection (after what was already sent on it).
    Close {
        /// Which one.
        conn: ConnId,
    },
    /// Tell the user or the runner.
    Report(Event),
}

/// The connection ids of one node, handed out in order from `conn#1`.
///
/// Dialled and accepted connections draw from the same source, so their ids never collide,
/// and the ids a node sees depend only on the order of its own dials and accepts: the same
/// run gives the same ids, whichever driver runs it.
#[derive(Debug, Default)]
pub struct ConnIds {
    /// The last id handed out; 0 before the first.
    last: u64,
}

impl ConnIds {
    /// A source that has handed out nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next fresh id.
    pub fn next_id(&mut self) -> ConnId {
        self.last += 1;
        ConnId(self.last)
    }
}

/// The queue of effects a driver drains, oldest first, after every input.
#[derive(Debug, Default)]
pub struct Effects {
    queue: VecDeque<Effect>,
}

impl Effects {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the oldest queued effect.
    pub fn pop(&mut self) -> Option<Effect> {
        self.queue.pop_front()
    }
}

/// Where a core puts its effects during one [`Node::handle`](crate::node::Node::handle).
///
/// The driver lends it for the turn: its [`Effects`] queue, and the [`ConnIds`] of the node
/// whose turn it is, from which [`Outbox::connect`] names a dialled connection.
#[derive(Debug)]
pub struct Outbox<'a> {
    effects: &'a mut Effects,
    ids: &'a mut ConnIds,
}

impl<'a> Outbox<'a> {
    /// Lends `effects` and the node's `ids` to a core for one turn.
    pub fn new(effects: &'a mut Effects, ids: &'a mut ConnIds) -> Self {
        Outbox { effects, ids }
    }

    /// Queues raw bytes for `conn`.
    pub fn send(&mut self, conn: ConnId, bytes: Vec<u8>) {
        self.push(Effect::Send { conn, bytes });
    }

    /// Encodes `msg`, counts it as sent in `metrics` (charged to its kind's
    /// [`cause`](crate::MessageKind::cause), if the kind names one), and queues it for `conn`.
    pub fn send_message<M: WireMessage>(&mut self, conn: ConnId, msg: &M, metrics: &mut Metrics) {
        let bytes = msg.to_bytes();
        metrics.record_sent_by_kind(msg.kind(), bytes.len());
        self.send(conn, bytes);
    }

    /// Encodes `msg` once and queues a copy for each of `conns`, counting (and charging) each as sent: how
    /// a flood forwards one descriptor to every neighbour.
    pub fn send_message_each<M: WireMessage>(
        &mut self,
        conns: impl IntoIterator<Item = ConnId>,
        msg: &M,
        metrics: &mut Metrics,
    ) {
        let bytes = msg.to_bytes();
        for conn in conns {
            metrics.record_sent_by_kind(msg.kind(), bytes.len());
            self.send(conn, bytes.clone());
        }
    }

    /// Asks the driver to dial `addr`; returns the id the driver's source gives the new
    /// connection, the one [`Input::Connected`](crate::node::Input::Connected) or
    /// [`Input::Closed`](crate::node::Input::Closed) will name.
    pub fn connect(&mut self, addr: SocketAddr) -> ConnId {
        let conn = self.ids.next_id();
        self.push(Effect::Connect { conn, addr });
        conn
    }

    /// Asks the driver to close `conn`. No [`Input::Closed`](crate::node::Input::Closed)
    /// will come back for it.
    pub fn close(&mut self, conn: ConnId) {
        self.push(Effect::Close { conn });
    }

    /// Reports an event to whoever drives the node.
    pub fn report(&mut self, event: Event) {
        self.push(Effect::Report(event));
    }

    fn push(&mut self, effect: Effect) {
        self.effects.queue.push_back(effect);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dials_and_accepts_of_one_node_share_its_ids_and_nodes_do_not() {
        let mut effects = Effects::new();
        let (mut a, mut b) = (ConnIds::new(), ConnIds::new());
        let addr: SocketAddr = "10.0.0.2:6346".parse().expect("a literal address");
        assert_eq!(a.next_id(), ConnId(1), "accepted by the driver");
        let dialled = Outbox::new(&mut effects, &mut a).connect(addr);
        assert_eq!(
            dialled,
            ConnId(2),
            "dialled by the core, from the same source"
        );
        assert_eq!(
            Outbox::new(&mut effects, &mut b).connect(addr),
            ConnId(1),
            "another node counts on its own"
        );
        assert_eq!(a.next_id(), ConnId(3));
        assert_eq!(
            effects.pop(),
            Some(Effect::Connect {
                conn: ConnId(2),
                addr
            })
        );
        assert_eq!(
            effects.pop(),
            Some(Effect::Connect {
                conn: ConnId(1),
                addr
            })
        );
        assert_eq!(effects.pop(), None);
    }
}
