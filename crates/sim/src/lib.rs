//! # p2plab-sim
//!
//! The deterministic driver. The in-memory network ([`p2plab_netsim`]) is a discrete-event
//! scheduler over virtual time; this crate drives the *unchanged* Napster, Gnutella and Chord
//! cores on it at sizes no machine's sockets allow, the way PeerSim and OverSim study overlays,
//! but with the very code that runs on real sockets.
//!
//! ## Layout
//!
//! - [`chord`] — Chord rings of up to 100,000 nodes: built through the protocol in doubling
//!   waves, looked up through it, crashed at will.
//! - [`chord_paper`] — the Chord paper's four simulation experiments, from files, with the
//!   published values beside ours.
//! - [`churn`] — when nodes join, fail and leave: Poisson churn at rate R, and sessions drawn
//!   from exponential, Weibull or Pareto lifetimes.
//! - [`graph`] — overlay graphs for floods: random and Barabási–Albert, BFS balls, the flood
//!   bound.
//! - [`gnutella_scale`] — Gnutella reach and messages per query against TTL, on 10^4 and 10^5
//!   servents.
//! - [`gnutella_dynamic`] — the 0.6 ultrapeers' dynamic querying against the 0.4 flood:
//!   messages, reach and results per search, by how common the file is.
//! - [`relay`] — the engine's own speed: a ring of nodes whose core only passes tokens on.
//! - [`progress`] — a progress bar over simulated time, with events per second; [`progress::drive`]
//!   runs a network under it.

pub mod chord;
pub mod chord_paper;
pub mod churn;
pub mod gnutella_dynamic;
pub mod gnutella_scale;
pub mod graph;
pub mod progress;
pub mod relay;
