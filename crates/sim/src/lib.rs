//! # p2plab-sim
//!
//! The deterministic driver. The in-memory network of `p2plab-peer-protocol`
//! ([`p2plab_peer_protocol::testnet`]) is a discrete-event scheduler over virtual time; this
//! crate drives the *unchanged* Napster, Gnutella and Chord cores on it at sizes no machine's
//! sockets allow, the way PeerSim and OverSim study overlays, but with the very code that runs
//! on real sockets.
//!
//! ## Layout
//!
//! - [`chord`] — Chord rings of up to 100,000 nodes: built through the protocol in doubling
//!   waves, looked up through it, crashed at will.
//! - [`churn`] — when nodes join, fail and leave: Poisson churn at rate R, and sessions drawn
//!   from exponential, Weibull or Pareto lifetimes.

pub mod chord;
pub mod churn;
