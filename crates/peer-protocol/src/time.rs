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

/// A random delay in `[0, period)`: where in its period a node starts a periodic task.
///
/// Nodes started together would otherwise all fire at the same moments, forever: the
/// network would see bursts, and a short measurement would catch a whole round or none of
/// it depending on where it fell. A random phase spreads the rounds evenly over time
/// (Floyd and Jacobson's "synchronization of periodic routing messages").
pub fn random_phase(rng: &mut impl rand::Rng, period: Duration) -> Duration {
    let micros = u64::try_from(period.as_micros()).unwrap_or(u64::MAX).max(1);
    Duration::from_micros(rng.random_range(0..micros))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_random_phase_falls_within_its_period_and_spreads_over_it() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let period = Duration::from_secs(10);
        let phases: Vec<Duration> = (0..1000).map(|_| random_phase(&mut rng, period)).collect();
        assert!(phases.iter().all(|p| *p < period));
        let early = phases.iter().filter(|p| **p < period / 2).count();
        assert!(
            (400..600).contains(&early),
            "{early} of 1000 in the first half"
        );
        assert_eq!(random_phase(&mut rng, Duration::ZERO), Duration::ZERO);
    }

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
