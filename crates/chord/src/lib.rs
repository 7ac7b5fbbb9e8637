//! # p2plab-chord
//!
//! A Chord node (Stoica, Morris, Karger, Kaashoek, Balakrishnan: SIGCOMM 2001; IEEE/ACM
//! ToN 11(1), 2003) as a sans-IO core: a plain struct that implements
//! [`p2plab_peer_protocol::Node`], with no sockets, clock or threads inside. The names follow
//! the paper's pseudocode (ToN Fig. 5 and 6) so the two can be read side by side:
//! `find_successor`, `closest_preceding_node`, `create`, `join`, `stabilize`, `notify`,
//! `fix_fingers`, `check_predecessor`.
//!
//! On top of the ring sits a file index: every shared file is filed under the key of its
//! normalised name and under the key of each of its keywords, at successor(key) and the next
//! `replicas - 1` nodes. A search looks up its first keyword's key and keeps the names that
//! match the whole query — the same answer Napster and Gnutella give.
//!
//! ## Layout
//!
//! - [`id`] — [`Id`]s on the 2^m circle and the interval arithmetic Chord routes by.
//! - [`node_ref`] — [`NodeRef`]: a node's id and address, checked to agree.
//! - [`finger`] — the finger table and `fix_fingers`'s cycling index.
//! - [`successor_list`] — the r successors that keep the ring whole through failures.
//! - [`suspects`] — nodes that just failed us, not taken back from stale reports.
//! - [`lost`] — successors lost to failure: asked again now and then, so that rings split
//!   by a partition merge when it heals.
//! - [`lookup`] — the iterative `find_successor` as a state machine ([`Lookup`]).
//! - [`rpc`] — requests in flight, with ids and deadlines.
//! - [`store`] — index entries with expiry, within bounds.
//! - [`quota`] — what one connection may add to the store.
//! - [`record`] — one index entry: a file and its holder.
//! - [`wire`] and [`message`] — the binary wire format, documented field by field.
//! - [`kind`] — [`Kind`], each message's name in the metrics.
//! - [`config`] — [`ChordConfig`], [`Routing`] and [`LookupRules`], with every setting's default and valid
//!   range.
//! - [`node`] — [`ChordNode`], the core itself.
//! - [`ring`] — [`RingView`], a serialisable snapshot for `p2plab chord ring`.
//!
//! ## Connections
//!
//! A node keeps **one outgoing connection per peer address** and reuses it for every
//! request it sends there; the peer answers on the same connection. Requests from a peer
//! arrive on the connection *it* opened. So each message is counted once, and a lookup's
//! cost in messages is the same on TestNet, in the simulator and over real TCP.

pub mod config;
pub mod finger;
pub mod id;
pub mod kind;
pub mod lookup;
pub mod lost;
pub mod message;
pub mod node;
pub mod node_ref;
pub mod quota;
pub mod record;
pub mod ring;
pub mod rpc;
pub mod store;
pub mod successor_list;
pub mod suspects;
pub mod wire;

pub use config::{
    ChordConfig, LookupRules, Routing, CHECK_PREDECESSOR_EVERY, DEFAULT_REPLICAS,
    DEFAULT_SUCCESSORS, ENTRY_TTL, FIX_FINGERS_EVERY, REPUBLISH_EVERY, RPC_TIMEOUT,
    STABILIZE_EVERY,
};
pub use id::{Id, Ring};
pub use kind::Kind;
pub use lookup::{Answer, Lookup, Step};
pub use message::{Frame, Message};
pub use node::ChordNode;
pub use node_ref::NodeRef;
pub use record::Record;
pub use ring::RingView;

/// m: bits in an identifier, the width of SHA-1's output (ToN §IV-A: "m must be large
/// enough to make the probability of two nodes or keys hashing to the same identifier
/// negligible").
pub const M: u32 = 160;

/// Holders a node pings per `check_predecessor` period to learn whether the records it
/// stores still name live peers (see `ChordNode::check_holders`): a handful, so that the
/// extra upkeep stays a few messages per period per node however many holders a store
/// names (peers choose them), while a node that stores the records of a few dozen holders
/// still checks each within seconds. With H distinct holders a dead one's records leave
/// within `ceil(H / HOLDER_PINGS_PER_ROUND)` periods plus one RPC timeout.
pub const HOLDER_PINGS_PER_ROUND: usize = 8;

/// Largest frame, head included. Below 2^24, so a frame's first byte is always 0x00 and can
/// never be the `G` of an HTTP `GET `.
pub const MAX_FRAME: usize = 64 * 1024;

/// Most node references in one list on the wire (successor lists, closer nodes).
pub const MAX_SUCCESSORS: usize = 32;

/// Most nodes a `closer_nodes` reply offers: the closest preceding node and fallbacks.
pub const CLOSER_NODES: usize = 4;

/// Most records in one message: 128 records of the longest name still fit in a frame.
pub const MAX_RECORDS: usize = 128;

/// Most records one key may hold on one node; more are refused.
pub const MAX_RECORDS_PER_KEY: usize = 4096;

/// Most keys one node stores entries for, as owner and as replica together.
///
/// Sized from the heaviest load the lab models, the paper's 10^4 nodes and 10^6 keys
/// (ToN §V-B): a node owns 100 keys on average and 480 at the 99th percentile, about 1,500
/// with the copies it keeps for its two predecessors. This is ten times that. When it is
/// reached the store makes room by expiry ([`store`]); without it, one peer sending
/// replicas for made-up keys grew a node by 123 MB in a few seconds.
pub const MAX_STORED_KEYS: usize = 16_384;

/// Most records one node stores, all keys together: four per key on average (a file is
/// filed under its name and each of its words). At the longest names (255 bytes), about
/// 25 MB, index included.
pub const MAX_STORED_RECORDS: usize = 65_536;

/// Most new keys one connection may add to a node's store within one entry lifetime
/// (`entry_ttl`). The largest honest burst on one connection is a hand-over: a node that
/// joins takes its share of its successor's keys, one that leaves gives its own away —
/// one node's share, well under this. An eighth of [`MAX_STORED_KEYS`], so a single
/// connection can never fill a store, and refreshing records it already holds costs nothing.
pub const MAX_LINK_KEYS: usize = MAX_STORED_KEYS / 8;

/// Most new records one connection may add to a node's store within one entry lifetime;
/// an eighth of [`MAX_STORED_RECORDS`], as for [`MAX_LINK_KEYS`].
pub const MAX_LINK_RECORDS: usize = MAX_STORED_RECORDS / 8;

/// Longest query text a `get` carries (bytes).
pub const MAX_QUERY_LEN: usize = 1024;

/// Most nodes one lookup may ask before giving up. Healthy lookups take about
/// (1/2) log2 N; this bounds the work a ring full of stale or lying entries can cause.
pub const MAX_LOOKUP_ASKS: usize = 64;

/// Most publish lookups a node runs at once. The rest of its keys wait their turn, so a
/// node sharing many files (or a thousand nodes publishing at once) does not flood the ring
/// with lookups that then queue behind each other and time out.
pub const MAX_PUBLISHING: usize = 4;

/// Most frames queued on a connection that is still being set up.
pub const MAX_QUEUED_FRAMES: usize = 1024;

/// The default bound on the connections a node keeps dialled at once
/// ([`ChordConfig::max_dialled`]). Ring upkeep needs two (successor and predecessor);
/// lookups and finger refreshes reach further nodes for a moment. Past the bound, the least
/// recently used idle connection is closed; when none is idle, the node may burst to
/// [`DIAL_BURST`] times the bound, and past that the message waits ([`MAX_WAITING`]) — so a
/// thousand nodes in one process fit in the machine's file descriptors.
pub const MAX_DIALLED: usize = 8;

/// While every dialled connection is busy, a node may dial past [`ChordConfig::max_dialled`]
/// up to this many times the bound. Holding strictly to the bound made lookups queue
/// behind slow answers on a loaded machine, and stabilize time out behind them.
pub const DIAL_BURST: usize = 4;

/// Most messages a node holds while [`DIAL_BURST`] times the bound are dialled and busy:
/// a burst of requests waits for a free connection instead of opening more sockets; past
/// this, new ones are dropped and fail at their deadline.
pub const MAX_WAITING: usize = 1024;

/// How many RPC timeouts a request may wait for a free connection before it fails (as our
/// congestion, not the peer's failure).
pub const SLOT_WAIT_TIMEOUTS: u32 = 2;

/// How many stabilize periods a node that failed a request stays suspect: reports from
/// neighbours that still name it are ignored meanwhile (see [`suspects`]). Two periods
/// give the neighbours' own `check_predecessor` and stabilize time to notice the failure.
pub const SUSPECT_PERIODS: u32 = 2;

/// Most suspect nodes remembered at once (a crash of many nodes at once still fits).
pub const MAX_SUSPECTS: usize = 256;

/// The longest wait, in stabilize periods, before a lost successor is asked again (see
/// [`lost`]): a healed partition is noticed within this long, and a successor that really
/// crashed costs one request per such wait while it stays on the list. With the default
/// one-second period, half a minute.
pub const LOST_PROBE_MAX_PERIODS: u32 = 32;

/// A dialled connection unused for this many stabilize periods is closed (an accepted one
/// after twice as many). The successor and predecessor are talked to every period, so their
/// connections stay open.
pub const LINK_IDLE_PERIODS: u32 = 3;
