//! [`NapsterNode`]: a server or a peer behind one type, for drivers that hold a single node
//! type (the in-memory `TestNet` of `p2plab-netsim`, the runtime).

use p2plab_peer_protocol::{Input, Instant, Library, Metrics, Node, Outbox, Problem};

use crate::peer::Peer;
use crate::server::Server;

/// Either Napster node.
///
/// A network has one server and many peers, so the server is boxed: unboxed, its index's
/// tables would make every peer's slot larger. The lint that then finds a peer large beside a
/// box is right about the sizes and wrong about the cost.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "peers are the common variant; boxing them would cost an allocation each"
)]
pub enum NapsterNode {
    /// The central index.
    Server(Box<Server>),
    /// A user.
    Peer(Peer),
}

impl NapsterNode {
    /// The server, if this is one.
    pub fn as_server(&self) -> Option<&Server> {
        match self {
            NapsterNode::Server(s) => Some(s),
            NapsterNode::Peer(_) => None,
        }
    }

    /// The peer, if this is one.
    pub fn as_peer(&self) -> Option<&Peer> {
        match self {
            NapsterNode::Peer(p) => Some(p),
            NapsterNode::Server(_) => None,
        }
    }
}

impl Node for NapsterNode {
    fn handle(&mut self, now: Instant, input: Input<'_>, out: &mut Outbox) {
        match self {
            NapsterNode::Server(s) => s.handle(now, input, out),
            NapsterNode::Peer(p) => p.handle(now, input, out),
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        match self {
            NapsterNode::Server(s) => s.poll_timeout(),
            NapsterNode::Peer(p) => p.poll_timeout(),
        }
    }

    fn metrics(&self) -> &Metrics {
        match self {
            NapsterNode::Server(s) => s.metrics(),
            NapsterNode::Peer(p) => p.metrics(),
        }
    }

    fn library(&self) -> Option<&Library> {
        match self {
            NapsterNode::Server(_) => None,
            NapsterNode::Peer(p) => Node::library(p),
        }
    }

    fn problem(&self) -> Option<&Problem> {
        match self {
            NapsterNode::Server(_) => None,
            NapsterNode::Peer(p) => p.problem(),
        }
    }
}

impl From<Server> for NapsterNode {
    fn from(s: Server) -> Self {
        NapsterNode::Server(Box::new(s))
    }
}

impl From<Peer> for NapsterNode {
    fn from(p: Peer) -> Self {
        NapsterNode::Peer(p)
    }
}
