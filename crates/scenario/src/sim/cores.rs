//! [`SimNode`]: the three protocols' cores behind one type, so one virtual network can hold
//! Napster's index server beside its peers — and [`core`], which builds each from the
//! [`NodeSpec`] the timeline gives, as the sockets engine starts a real node from it.

use std::net::SocketAddr;
use std::sync::Arc;

use p2plab_chord::{ChordConfig, ChordNode};
use p2plab_gnutella::{Servent, ServentConfig};
use p2plab_napster::{NapsterNode, Peer, PeerConfig, Server, ServerConfig};
use p2plab_peer_protocol::{Input, Instant, Library, Metrics, Node, Outbox, Problem};

use crate::node_spec::NodeSpec;

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

    fn library(&self) -> Option<&Library> {
        match self {
            SimNode::Napster(n) => n.library(),
            SimNode::Gnutella(n) => n.library(),
            SimNode::Chord(n) => n.library(),
        }
    }

    fn problem(&self) -> Option<&Problem> {
        match self {
            SimNode::Napster(n) => n.problem(),
            SimNode::Gnutella(n) => n.problem(),
            SimNode::Chord(n) => n.problem(),
        }
    }
}

/// The core `spec` describes, listening at `addr` and sharing `library`: configured exactly
/// as the runtime configures the node it starts from the same spec.
pub fn core(spec: &NodeSpec, addr: SocketAddr, library: Library) -> SimNode {
    let library = Arc::new(library);
    match spec {
        NodeSpec::NapsterServer { .. } => {
            SimNode::Napster(Box::new(Server::new(ServerConfig::default()).into()))
        }
        NodeSpec::NapsterPeer { server, nick } => {
            let config = PeerConfig::new(*server, nick, addr.port(), library);
            SimNode::Napster(Box::new(Peer::new(config).into()))
        }
        NodeSpec::Gnutella { .. } => {
            let mut c = ServentConfig::new(addr, library);
            spec.configure_servent(&mut c);
            SimNode::Gnutella(Box::new(Servent::new(c)))
        }
        NodeSpec::Chord { .. } => {
            let mut c = ChordConfig::new(addr, None, library);
            spec.configure_chord(&mut c);
            SimNode::Chord(Box::new(ChordNode::new(c)))
        }
    }
}
