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

/// Tallies kept over fixed windows of time: the counter behind every rate budget (a
/// Gnutella link's Pings and Queries, what one Chord link may add to a store).
///
/// A window opens with the first look after the previous one has run its length, and its
/// tallies start again from `T::default()`. Fixed windows let a sender reach up to twice a
/// limit across a window boundary — good enough for budgets sized far above honest
/// traffic, and one instant and the tallies is all a connection pays, which matters in a
/// simulation of thousands of nodes.
#[derive(Debug, Clone, Copy, Default)]
pub struct FixedWindow<T> {
    /// When the current window opened.
    start: Instant,
    tally: T,
}

impl<T: Default> FixedWindow<T> {
    /// A window opening at `now`.
    pub fn starting(now: Instant) -> Self {
        FixedWindow {
            start: now,
            tally: T::default(),
        }
    }

    /// The tallies of the window `now` falls in: a fresh one if `length` has passed since
    /// the current one opened.
    pub fn at(&mut self, now: Instant, length: Duration) -> &mut T {
        if now.saturating_since(self.start) >= length {
            *self = FixedWindow::starting(now);
        }
        &mut self.tally
    }

    /// The tallies of the window last opened, without looking at the time.
    pub fn current(&mut self) -> &mut T {
        &mut self.tally
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
    fn a_window_keeps_its_tallies_for_its_length_then_starts_afresh() {
        let length = Duration::from_secs(1);
        let at = |ms| Instant::ZERO + Duration::from_millis(ms);
        let mut w = FixedWindow::<u32>::starting(at(0));
        *w.at(at(0), length) += 1;
        *w.at(at(999), length) += 1;
        assert_eq!(*w.at(at(999), length), 2);
        assert_eq!(*w.at(at(1_000), length), 0, "a new window");
        *w.at(at(1_500), length) += 1;
        assert_eq!(*w.at(at(1_999), length), 1, "it opened at 1,000 ms");
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
