//! [`Kind`]: the kinds of message a Chord node's metrics count, each named once.

use p2plab_peer_protocol::{Cause, MessageKind};

/// One kind per [`Message`](crate::message::Message) variant, without its fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `find_successor(id)`, iterative step.
    FindSuccessor,
    /// The answer: this node is the successor.
    SuccessorIs,
    /// The answer: ask these closer nodes.
    CloserNodes,
    /// What is your predecessor (and successor list)?
    GetPredecessor,
    /// The answer to `get_predecessor`.
    Neighbours,
    /// `notify(n)`.
    Notify,
    /// Liveness check.
    Ping,
    /// Its answer.
    Pong,
    /// Keep these records.
    Store,
    /// Which records do you hold for this key?
    Get,
    /// The answer to `get`.
    Values,
    /// A node leaves on purpose.
    Leaving,
    /// A recursive lookup, forwarded hop by hop.
    RouteRecursive,
    /// A recursive lookup's answer, sent back to its origin.
    RecursiveFound,
}

impl MessageKind for Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::FindSuccessor => "find_successor",
            Kind::SuccessorIs => "successor_is",
            Kind::CloserNodes => "closer_nodes",
            Kind::GetPredecessor => "get_predecessor",
            Kind::Neighbours => "neighbours",
            Kind::Notify => "notify",
            Kind::Ping => "ping",
            Kind::Pong => "pong",
            Kind::Store => "store",
            Kind::Get => "get",
            Kind::Values => "values",
            Kind::Leaving => "leaving",
            Kind::RouteRecursive => "route_recursive",
            Kind::RecursiveFound => "recursive_found",
        }
    }

    /// A lookup's messages serve a user's search or the ring's upkeep alike (a
    /// `find_successor` from `fix_fingers` looks like one from a search), so their kind
    /// says nothing: the lookup's origin charges them ([`crate::node`]'s `charge`). The
    /// index read (`get`, `values`) is only ever a search's; the rest is upkeep.
    fn cause(self) -> Option<Cause> {
        match self {
            Kind::FindSuccessor
            | Kind::SuccessorIs
            | Kind::CloserNodes
            | Kind::RouteRecursive
            | Kind::RecursiveFound => None,
            Kind::Get | Kind::Values => Some(Cause::Search),
            Kind::GetPredecessor
            | Kind::Neighbours
            | Kind::Notify
            | Kind::Ping
            | Kind::Pong
            | Kind::Store
            | Kind::Leaving => Some(Cause::Upkeep),
        }
    }
}
