//! [`Kind`]: the kinds of message a servent's metrics count, each named once.

use p2plab_peer_protocol::{Cause, MessageKind};

/// What a servent sends or receives: the five descriptors of the 0.4 spec, an extension
/// descriptor it passes on without reading, one whose payload it could not read, and the
/// text of a handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A Ping descriptor.
    Ping,
    /// A Pong descriptor.
    Pong,
    /// A Push descriptor.
    Push,
    /// A Query descriptor.
    Query,
    /// A QueryHit descriptor.
    QueryHit,
    /// A descriptor of a payload type the 0.4 spec does not define.
    Extension,
    /// A descriptor whose framing held but whose payload did not decode: dropped, and its
    /// bytes still counted as received.
    Malformed,
    /// The handshake's lines, either way (`GNUTELLA CONNECT/0.6` and the two `200 OK`s, or
    /// `GNUTELLA CONNECT/0.4` and `GNUTELLA OK`).
    Handshake,
}

impl MessageKind for Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Ping => "ping",
            Kind::Pong => "pong",
            Kind::Push => "push",
            Kind::Query => "query",
            Kind::QueryHit => "query_hit",
            Kind::Extension => "extension",
            Kind::Malformed => "malformed",
            Kind::Handshake => "handshake",
        }
    }

    /// Every Gnutella descriptor says by its type why it travels, so whoever sends it —
    /// the searcher, or any servent that relays it — charges it: a Query and its QueryHits
    /// serve a search, a Push a download from a firewalled holder; the rest is upkeep.
    fn cause(self) -> Option<Cause> {
        Some(match self {
            Kind::Query | Kind::QueryHit => Cause::Search,
            Kind::Push => Cause::Fetch,
            Kind::Ping | Kind::Pong | Kind::Extension | Kind::Malformed | Kind::Handshake => {
                Cause::Upkeep
            }
        })
    }
}
