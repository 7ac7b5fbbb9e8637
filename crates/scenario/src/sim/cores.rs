//! [`SimNode`]: the three protocols' cores behind one type, so one virtual network can hold
//! Napster's index server beside its peers — and the builders that configure each core
//! exactly as [`crate::cluster`] configures the ones it runs on real sockets.

use std::net::SocketAddr;
use std::sync::Arc;

use p2plab_chord::{ChordConfig, ChordNode};
use p2plab_gnutella::{Servent, ServentConfig};
use p2plab_napster::{NapsterNode, Peer, PeerConfig, Server, ServerConfig};
use p2plab_peer_protocol::{Input, Instant, Library, Metrics, Node, Outbox};

use crate::spec::{ChordSettings, GnutellaSettings};

/// Any node of any of the three networks, unchanged: the simulator only wraps it.
///
/// Each core sits in a box, so a network of small nodes does not pay for the largest kind.
pub enum SimNode {
    /// Napster's index server or one of its peers.
    Napster(Box<NapsterNode>),
    /// A Gnutella servent.
    Gnutella(Box<Servent>),
    /// A Chord node.
    Chord(Box<ChordNode>),
}

impl SimNode {
    /// The kind a real node reports in its stats (`napster-server`, `napster-peer`,
    /// `gnutella`, `chord`): phase traffic and the busiest node read the same in both engines.
    pub fn kind(&self) -> &'static str {
        match self {
            SimNode::Napster(n) if n.as_server().is_some() => "napster-server",
            SimNode::Napster(_) => "napster-peer",
            SimNode::Gnutella(_) => "gnutella",
            SimNode::Chord(_) => "chord",
        }
    }
}

impl Node for SimNode {
    fn handle(&mut self, now: Instant, input: Input<'_>, out: &mut Outbox) {
        match self {
            SimNode::Napster(n) => n.handle(now, input, out),
            SimNode::Gnutella(n) => n.handle(now, input, out),
            SimNode::Chord(n) => n.handle(now, input, out),
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        match self {
            SimNode::Napster(n) => n.poll_timeout(),
            SimNode::Gnutella(n) => n.poll_timeout(),
            SimNode::Chord(n) => n.poll_timeout(),
        }
    }

    fn metrics(&self) -> &Metrics {
        match self {
            SimNode::Napster(n) => n.metrics(),
            SimNode::Gnutella(n) => n.metrics(),
            SimNode::Chord(n) => n.metrics(),
        }
    }
}

/// Napster's index server, with the defaults the runtime starts it with.
pub fn napster_server() -> SimNode {
    SimNode::Napster(Box::new(Server::new(ServerConfig::default()).into()))
}

/// A Napster peer at `addr` that logs in to `server` as `nick`.
pub fn napster_peer(addr: SocketAddr, server: SocketAddr, nick: &str, library: Library) -> SimNode {
    let config = PeerConfig::new(server, nick, addr.port(), Arc::new(library));
    SimNode::Napster(Box::new(Peer::new(config).into()))
}

/// A Gnutella servent at `addr`, set up from the scenario's settings.
pub fn gnutella_servent(
    addr: SocketAddr,
    library: Library,
    g: &GnutellaSettings,
    bootstrap: Vec<SocketAddr>,
    seed: u64,
) -> SimNode {
    let mut c = ServentConfig::new(addr, Arc::new(library));
    g.configure(&mut c);
    c.bootstrap = bootstrap;
    c.seed = seed;
    SimNode::Gnutella(Box::new(Servent::new(c)))
}

/// A Chord node at `addr`, joining through `join` (or creating the ring), set up from the
/// scenario's settings.
pub fn chord_node(
    addr: SocketAddr,
    library: Library,
    s: &ChordSettings,
    join: Option<SocketAddr>,
    seed: u64,
) -> SimNode {
    let mut c = ChordConfig::new(addr, join, Arc::new(library));
    s.configure(&mut c);
    c.seed = seed;
    SimNode::Chord(Box::new(ChordNode::new(c)))
}
