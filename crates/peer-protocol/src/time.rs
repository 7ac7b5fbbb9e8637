//! Time as a sans-IO core sees it.
//!
//! A core never reads a clock. Every input comes with `now`, an [`Instant`] on the driver's
//! clock: the tokio runtime maps real time onto it, the in-memory network and the simulator
//! advance it virtually. `now` never goes backwards for a given node.

use std::ops::{Add, AddAssign};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A point in time: microseconds since the driver's origin.
///
/// Microseconds are fine enough for loopback latencies and leave room for centuries of
/// simulated time in a `u64`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Instant(u64);

impl Instant {
    /// The driver's origin.
    pub const ZERO: Instant = Instant(0);

    /// The instant `micros` microseconds after the origin.
    pub const fn from_micros(micros: u64) -> Self {
        Instant(micros)
    }

    /// Microseconds since the origin.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// The time elapsed from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: Instant) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    fn add(self, rhs: Duration) -> Instant {
        let micros = u64::try_from(rhs.as_micros()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_add(micros))
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_durations_and_measures_gaps() {
        let t = Instant::ZERO + Duration::from_millis(3);
        assert_eq!(t.as_micros(), 3_000);
        assert_eq!(
            t.saturating_since(Instant::from_micros(1_000)),
            Duration::from_millis(2)
        );
        assert_eq!(Instant::ZERO.saturating_since(t), Duration::ZERO);
    }
}
