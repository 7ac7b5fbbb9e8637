//! Chord at scale: rings of up to 100,000 unchanged [`p2plab_chord::ChordNode`] cores on
//! the simulator's network.
//!
//! - [`ring`] — [`SimRing`]: grow a ring through the protocol in doubling waves until every
//!   successor and predecessor is right; crash nodes; read the true ring.
//! - [`lookups`] — publish names, search for them at random nodes, and tell routing
//!   failures from lost keys.
//! - [`scale`] — one big run: build, publish, look up, and report what it took.
//! - [`stats`] — mean, 1st and 99th percentile, as the paper reports them.
//!
//! The drivers never reach into a core: they build nodes, feed them commands, crash them,
//! and read their state through the getters every driver may use.

pub mod lookups;
pub mod ring;
pub mod scale;
pub mod stats;

pub use lookups::{askable, publish, run_batches, Askable, LookupStats, Lookups, Published};
pub use ring::{
    true_successor, ChordNet, FingerCount, FingersWrong, Formation, RingParams, SimRing,
    MAX_WAVE_PERIODS,
};
pub use stats::Summary;
