//! How a Chord node is set up.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use p2plab_peer_protocol::Library;

use crate::{
    CHECK_PREDECESSOR_EVERY, DEFAULT_REPLICAS, DEFAULT_SUCCESSORS, ENTRY_TTL, FIX_FINGERS_EVERY, M,
    MAX_DIALLED, REPUBLISH_EVERY, RPC_TIMEOUT, STABILIZE_EVERY,
};

/// Who drives a lookup from hop to hop (ToN §IV-C).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Routing {
    /// The requester asks every hop itself: each hop is a request and a reply, a dead hop
    /// costs one timeout and the lookup moves to the next-best node. The default.
    #[default]
    Iterative,
    /// Each hop forwards the request; the last one answers the requester directly. About
    /// half the messages, but a lost hop is only noticed by the requester's overall
    /// timeout, after which the lookup is redone iteratively.
    Recursive,
}

/// Everything a [`ChordNode`](crate::ChordNode) needs to know at birth.
#[derive(Clone, Debug)]
pub struct ChordConfig {
    /// Our listen address. The node id is SHA-1 of its text (`ip:port`), cut to `id_bits`.
    /// Holders also serve HTTP downloads here.
    pub addr: SocketAddr,
    /// A node already in the ring to join through; `None` creates a new ring.
    pub join: Option<SocketAddr>,
    /// The files we share; their index entries are published in the ring.
    pub library: Arc<Library>,
    /// m: identifier bits, 1..=160. Small values make the paper's teaching rings.
    pub id_bits: u32,
    /// r: successor-list length (capped at [`MAX_SUCCESSORS`](crate::MAX_SUCCESSORS)).
    pub successors: usize,
    /// Copies of every index entry: at successor(key) and the next `replicas - 1` nodes.
    pub replicas: usize,
    /// Period of `stabilize` (and of the sweep of expired entries).
    pub stabilize_every: Duration,
    /// Period of `fix_fingers`; each call refreshes one finger.
    pub fix_fingers_every: Duration,
    /// Period of `check_predecessor`.
    pub check_predecessor_every: Duration,
    /// Period at which we re-publish our own files' entries and re-replicate the entries
    /// we own.
    pub republish_every: Duration,
    /// Also re-publish soon after joining — 2, 4, 8, ... stabilize periods apart, doubling
    /// up to `republish_every`. Entries published while the ring is still forming
    /// can reach a node that is not (or soon is not) their owner; this puts them right in
    /// seconds instead of one republish period. Off only to study replication alone.
    pub early_republish: bool,
    /// The most connections this node keeps dialled at once ([`crate::MAX_DIALLED`]).
    pub max_dialled: usize,
    /// How long a stored entry lives without being re-published.
    pub entry_ttl: Duration,
    /// How long to wait for a reply before a peer counts as failed.
    pub rpc_timeout: Duration,
    /// Iterative or recursive lookups.
    pub routing: Routing,
    /// Seeds the node's random numbers (request ids, timer jitter).
    pub seed: u64,
}

impl ChordConfig {
    /// The defaults of [`crate`]'s constants: m = 160, iterative routing.
    pub fn new(addr: SocketAddr, join: Option<SocketAddr>, library: Arc<Library>) -> Self {
        ChordConfig {
            addr,
            join,
            library,
            id_bits: M,
            successors: DEFAULT_SUCCESSORS,
            replicas: DEFAULT_REPLICAS,
            stabilize_every: STABILIZE_EVERY,
            fix_fingers_every: FIX_FINGERS_EVERY,
            check_predecessor_every: CHECK_PREDECESSOR_EVERY,
            republish_every: REPUBLISH_EVERY,
            early_republish: true,
            max_dialled: MAX_DIALLED,
            entry_ttl: ENTRY_TTL,
            rpc_timeout: RPC_TIMEOUT,
            routing: Routing::Iterative,
            seed: 0,
        }
    }
}
