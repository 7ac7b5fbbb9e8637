//! # p2plab-trace
//!
//! Follow **one search** through a network and see every message it caused: who asked whom,
//! why (which finger, which neighbour, which TTL), and how the answer came back — as text for
//! the terminal and as an SVG picture for the book.
//!
//! A trace runs a small network of the chosen kind on the in-memory
//! [`TestNet`](p2plab_netsim::TestNet), with a fixed seed and a constant link
//! latency, using the unchanged protocol cores. It lets the network settle, starts recording,
//! gives one node a [`Command::Search`](p2plab_peer_protocol::Command::Search), runs until the
//! search is done, and then decodes every recorded transmission with the protocol's own codec
//! and explains it. What you see is what the wire carried.
//!
//! ## Layout
//!
//! - [`config`] — [`TraceConfig`]: which network, how many nodes, seed, TTL, id bits, query.
//! - [`model`] — [`Trace`], [`TracedMessage`] and the per-network [`Figure`] data.
//! - [`catalogue`] — the made-up music library the nodes share.
//! - [`decode`] — turns recorded byte chunks back into messages, one stream per direction.
//! - `harness` — what the three traces share: run the search, pick samples, count kinds.
//! - [`napster`], [`gnutella`], [`chord`] — build the network, run the search, explain it.
//! - [`text`] — the terminal rendering.
//! - [`hexdump`] — an annotated hex dump of one message, field by field.
//! - [`svg`] — the pictures: the Napster star, the Gnutella flood wave, the Chord ring.
//! - [`player`] — one HTML file that replays the trace message by message in a browser.
//!
//! ## Example
//!
//! ```
//! use p2plab_trace::{run, Network, TraceConfig};
//!
//! let mut config = TraceConfig::new(Network::Napster);
//! config.nodes = 5;
//! let trace = run(&config).expect("the search finishes");
//! assert_eq!(trace.messages[0].kind, "search");
//! let svg = p2plab_trace::svg::render(&trace);
//! assert!(svg.starts_with("<svg"));
//! ```

pub mod catalogue;
pub mod chord;
pub mod config;
pub mod decode;
pub mod gnutella;
mod harness;
pub mod hexdump;
pub mod model;
pub mod napster;
pub mod player;
pub mod svg;
pub mod text;

use std::time::Duration;

pub use config::{Network, TraceConfig};
use hexdump::Field;
pub use model::{Figure, Role, Trace, TraceError, TracedMessage};

/// Every message takes exactly this long on every link. With one constant latency a flood
/// advances one hop per tick, so the first copy of a Query to reach a servent came along a
/// shortest path, and the times in a trace read as hop counts.
pub const LINK_LATENCY: Duration = Duration::from_millis(10);

/// The longest a traced search may run, in virtual time, before the trace gives up.
/// Every network answers in a few seconds (Gnutella's collection window is the longest).
pub const SEARCH_LIMIT: Duration = Duration::from_secs(60);

/// The most bytes one direction of one connection may hold without completing a message,
/// while a trace decodes it. Every message of the three protocols is far smaller.
pub const MAX_PENDING_BYTES: usize = 64 * 1024;

/// The most nodes a trace builds. At this size the run still takes seconds, not minutes, and
/// the player and `p2plab view` still animate: `scripts/view-fps.sh` measures the frame rate
/// at 1,000 nodes (docs/src/generated/view-fps.txt). Past a few hundred nodes the pictures
/// are dots and only the nodes that matter keep their labels.
pub const MAX_NODES: usize = 1_000;

/// Runs the trace `config` asks for.
///
/// # Errors
/// [`TraceError`] when the configuration is out of range or the search does not finish.
pub fn run(config: &TraceConfig) -> Result<Trace, TraceError> {
    config.check()?;
    match config.network {
        Network::Napster => napster::trace(config),
        Network::Gnutella => gnutella::trace(config),
        Network::Chord => chord::trace(config),
    }
}

/// Where the fields of one message of `network` lie, for [`hexdump::render`].
pub fn fields(network: Network, bytes: &[u8]) -> Vec<Field> {
    match network {
        Network::Napster => napster::fields(bytes),
        Network::Gnutella => gnutella::fields(bytes),
        Network::Chord => chord::fields(bytes),
    }
}
