//! # p2plab-runtime
//!
//! Runs p2plab's sans-IO protocol cores over real TCP with tokio. Many nodes can live in one
//! process, each with its own listener on 127.0.0.1.
//!
//! ## Layout
//!
//! - [`launch`] — start a node of each kind: bind its listeners, build its core, drive it.
//! - [`fabric`] — [`Fabric`], the network between nodes: cuts and latency on real sockets.
//! - `handle` — [`NodeHandle`], how callers search, download, share, leave or crash a node.
//! - [`control`] — the JSON-lines control server in front of a handle, its token files and
//!   its client.
//! - [`limits`] — every bound the driver puts on sockets, with its reason.
//! - `driver` — the loop that feeds one core its inputs and carries out its effects.
//! - `connection` — one task per TCP connection, moving raw bytes.
//! - `close` — why a socket ended, as the core's `CloseReason`: the one `io::ErrorKind` map.
//! - `listen` — accept loops; peeks `GET ` to split HTTP downloads from protocol traffic.
//! - `upload`, `download` — both sides of the HTTP and Napster data-port transfers: thin
//!   loops that pump the transfer cores of `p2plab_peer_protocol::transfer` over a socket.
//! - `push` — the downloads waiting for a firewalled Napster holder to connect, and the
//!   data port's hand-over of each push to its download.
//! - [`clock`] — the instants cores are handed, on tokio's clock.

pub mod control;
mod download;
pub mod fabric;
mod handle;
pub mod launch;
pub mod limits;

pub mod clock;
mod close;
mod connection;
mod driver;
mod listen;
mod push;
mod upload;

pub use fabric::Fabric;
pub use handle::{Fetched, NodeError, NodeHandle, SharedLibrary};
