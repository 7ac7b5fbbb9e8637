//! The effects a core asks its driver to carry out.

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

/// Where a core puts its effects. The driver owns one per node and drains it after
/// every [`Node::handle`](crate::node::Node::handle).
///
/// It also hands out connection ids, for dialled connections ([`Outbox::connect`]) and for
/// accepted ones ([`Outbox::next_conn_id`]), so the two never collide.
#[derive(Debug, Default)]
pub struct Outbox {
    effects: VecDeque<Effect>,
    next_conn: u64,
}

impl Outbox {
    /// An empty outbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// A fresh connection id, for a connection the driver accepted.
    pub fn next_conn_id(&mut self) -> ConnId {
        self.next_conn += 1;
        ConnId(self.next_conn)
    }

    /// How many connection ids this outbox has handed out so far.
    ///
    /// A driver that runs many cores through one outbox (the simulator does, so that the
    /// queue it drains after every input stays in cache) keeps each core's count apart:
    /// it saves the count after the core's turn and gives it back with
    /// [`Outbox::continue_ids_after`] before the next.
    pub fn ids_handed_out(&self) -> u64 {
        self.next_conn
    }

    /// Hands out ids from `count + 1` on, as an outbox that had handed out `count` would.
    pub fn continue_ids_after(&mut self, count: u64) {
        self.next_conn = count;
    }

    /// Queues raw bytes for `conn`.
    pub fn send(&mut self, conn: ConnId, bytes: Vec<u8>) {
        self.effects.push_back(Effect::Send { conn, bytes });
    }

    /// Encodes `msg`, counts it as sent in `metrics`, and queues it for `conn`.
    pub fn send_message<M: WireMessage>(&mut self, conn: ConnId, msg: &M, metrics: &mut Metrics) {
        let bytes = msg.to_bytes();
        metrics.record_out(msg.kind(), bytes.len());
        self.send(conn, bytes);
    }

    /// Encodes `msg` once and queues a copy for each of `conns`, counting each as sent: how
    /// a flood forwards one descriptor to every neighbour.
    pub fn send_message_each<M: WireMessage>(
        &mut self,
        conns: impl IntoIterator<Item = ConnId>,
        msg: &M,
        metrics: &mut Metrics,
    ) {
        let bytes = msg.to_bytes();
        for conn in conns {
            metrics.record_out(msg.kind(), bytes.len());
            self.send(conn, bytes.clone());
        }
    }

    /// Asks the driver to dial `addr`; returns the new connection's id.
    pub fn connect(&mut self, addr: SocketAddr) -> ConnId {
        let conn = self.next_conn_id();
        self.effects.push_back(Effect::Connect { conn, addr });
        conn
    }

    /// Asks the driver to close `conn`. No [`Input::Closed`](crate::node::Input::Closed)
    /// will come back for it.
    pub fn close(&mut self, conn: ConnId) {
        self.effects.push_back(Effect::Close { conn });
    }

    /// Reports an event to whoever drives the node.
    pub fn report(&mut self, event: Event) {
        self.effects.push_back(Effect::Report(event));
    }

    /// Takes the oldest queued effect.
    pub fn pop(&mut self) -> Option<Effect> {
        self.effects.pop_front()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.effects.is_empty()
    }
}
