//! What a trace found: the messages of one search, explained, and the data of its picture.

use std::collections::BTreeMap;
use std::time::Duration;

use p2plab_netsim::NodeIdx;
use p2plab_peer_protocol::Hit;

use crate::config::Network;

/// Why a trace could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    /// A configuration value is out of range.
    #[error("{0}")]
    Config(String),
    /// The network did not settle (a ring that did not converge, a peer that never logged in).
    #[error("the network did not settle: {0}")]
    Unsettled(String),
    /// The search did not finish within [`SEARCH_LIMIT`](crate::SEARCH_LIMIT).
    #[error("the search did not finish: {0}")]
    NoAnswer(String),
}

/// The part a message plays in the search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// It carries the question onward.
    Ask,
    /// It carries an answer back.
    Answer,
    /// A copy the receiver had already seen, and drops.
    Duplicate,
}

/// One message the search caused, decoded and explained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracedMessage {
    /// When the sender wrote it, counted from the search command.
    pub sent: Duration,
    /// When the receiver got it, counted from the search command.
    pub delivered: Duration,
    /// The sending node.
    pub from: NodeIdx,
    /// The receiving node.
    pub to: NodeIdx,
    /// The message kind as the node's metrics name it (`"query"`, `"find_successor"`...).
    pub kind: &'static str,
    /// What it says, in short.
    pub summary: String,
    /// Why it was sent, in the protocol's own terms.
    pub why: String,
    /// Question, answer, or dropped copy.
    pub role: Role,
    /// Its bytes, exactly as on the wire.
    pub bytes: Vec<u8>,
}

/// The first message of one kind seen anywhere in the run, kept for hex dumps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// The message kind.
    pub kind: &'static str,
    /// Sender.
    pub from: NodeIdx,
    /// Receiver.
    pub to: NodeIdx,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// One search followed through one network.
#[derive(Debug, Clone)]
pub struct Trace {
    /// Which network.
    pub network: Network,
    /// One line naming the run: network, size, parameters, seed.
    pub title: String,
    /// What the network looked like before the search.
    pub setup: Vec<String>,
    /// A short name for every node, by index (`server`, `s12`, `n734`).
    pub labels: Vec<String>,
    /// The node that searched.
    pub origin: NodeIdx,
    /// The query text.
    pub query: String,
    /// Every message the search caused, in the order they arrived.
    pub messages: Vec<TracedMessage>,
    /// Other messages recorded meanwhile (pings, stabilization, logins), by kind.
    pub background: BTreeMap<&'static str, u64>,
    /// The first message of each kind in the recording, for hex dumps.
    pub samples: Vec<Sample>,
    /// What the search reported.
    pub hits: Vec<Hit>,
    /// What to take away: counts, hops, and the comparison with theory.
    pub summary: Vec<String>,
    /// What the picture draws.
    pub figure: Figure,
}

impl Trace {
    /// The label of node `idx`.
    pub fn label(&self, idx: NodeIdx) -> &str {
        self.labels.get(idx).map_or("?", String::as_str)
    }

    /// The first message of `kind`, among the search's messages and then the samples.
    pub fn find(&self, kind: &str) -> Option<(NodeIdx, NodeIdx, &[u8])> {
        let traced = self.messages.iter().find(|m| m.kind == kind);
        match traced {
            Some(m) => Some((m.from, m.to, &m.bytes)),
            None => self
                .samples
                .iter()
                .find(|s| s.kind == kind)
                .map(|s| (s.from, s.to, s.bytes.as_slice())),
        }
    }

    /// Every kind a hex dump can be made of.
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut kinds: Vec<&'static str> = self.messages.iter().map(|m| m.kind).collect();
        kinds.extend(self.samples.iter().map(|s| s.kind));
        let mut seen = Vec::new();
        kinds.retain(|k| {
            let new = !seen.contains(k);
            seen.push(k);
            new
        });
        kinds
    }
}

/// What each network's picture needs.
#[derive(Debug, Clone)]
pub enum Figure {
    /// Napster: every peer linked to the server.
    Star(Star),
    /// Gnutella: the overlay, and the flood by hop.
    Flood(Flood),
    /// Chord: the identifier circle and the lookup's jumps.
    Ring(RingFigure),
}

/// The Napster star.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Star {
    /// The index server.
    pub server: NodeIdx,
    /// Every peer, logged in.
    pub peers: Vec<NodeIdx>,
    /// Peers the results named as holders.
    pub holders: Vec<NodeIdx>,
    /// Search results (201s) the server sent.
    pub results: usize,
}

/// The Gnutella flood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flood {
    /// The Query's TTL.
    pub ttl: u8,
    /// Overlay links, each once with the smaller index first.
    pub edges: Vec<(NodeIdx, NodeIdx)>,
    /// The hop at which each servent first got the Query (0 for the origin; `None`: never).
    pub hop: Vec<Option<u32>>,
    /// Who each servent first got the Query from.
    pub parent: Vec<Option<NodeIdx>>,
    /// Every Query copy: (from, to, hop of the receiver, was it a duplicate).
    pub copies: Vec<(NodeIdx, NodeIdx, u32, bool)>,
    /// Every QueryHit transmission on its way back: (from, to).
    pub hit_links: Vec<(NodeIdx, NodeIdx)>,
    /// Servents that answered with a QueryHit of their own.
    pub holders: Vec<NodeIdx>,
}

/// One node's routing state, as the trace saw it after the search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingNode {
    /// Its identifier (the ring is at most 32 bits wide in a trace).
    pub id: u64,
    /// Finger i+1 (i from 0): the node id, if known.
    pub fingers: Vec<Option<u64>>,
    /// The successor list, nearest first.
    pub successors: Vec<u64>,
}

/// One jump of a lookup. Iterative: `from` told the origin to ask `to` (or, for the first
/// jump, the origin chose `to` from its own table). Recursive: `from` passed the lookup on to
/// `to` (the origin, for the first jump).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jump {
    /// The node whose table named `to`.
    pub from: NodeIdx,
    /// The node named.
    pub to: NodeIdx,
    /// Which entry of `from`'s table: `finger[i]` or `successor[k]`.
    pub via: String,
}

/// The Chord ring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingFigure {
    /// m, the identifier bits.
    pub bits: u32,
    /// Whether the searcher asked every hop or each hop passed the lookup on.
    pub routing: p2plab_chord::Routing,
    /// Every node's state, by index.
    pub nodes: Vec<RingNode>,
    /// The key looked up.
    pub key: u64,
    /// The word it is the key of.
    pub key_word: String,
    /// The lookup's jumps, in order.
    pub jumps: Vec<Jump>,
    /// successor(key), which holds the records.
    pub owner: Option<NodeIdx>,
}
