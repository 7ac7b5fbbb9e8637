//! How long a message takes from one node to another.

use std::time::Duration;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};

/// A latency model: drawn afresh for every message, a connection setup and a close, from the
/// network's seeded RNG. Whatever the draw, a connection delivers in order (TCP does): a
/// message never lands before one sent earlier on the same connection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Latency {
    /// Always the same.
    Constant(Duration),
    /// Uniform between the bounds, drawn per message (per-connection order is kept).
    Uniform(Duration, Duration),
    /// Log-normal: half of the messages are faster than `median`, and `sigma` (the standard
    /// deviation of the latency's logarithm) sets the tail — measured Internet round trips
    /// fit `sigma` around 0.5 to 1. A negative or non-finite `sigma` counts as 0.
    LogNormal {
        /// The middle latency.
        median: Duration,
        /// Spread of `ln(latency)`.
        sigma: f64,
    },
}

/// A [`Latency`] with its distribution built once, ready to draw from.
#[derive(Debug, Clone, Copy)]
pub(super) enum Sampler {
    Constant(u64),
    Uniform(u64, u64),
    LogNormal(LogNormal<f64>),
}

impl Sampler {
    pub(super) fn new(latency: Latency) -> Self {
        let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        match latency {
            Latency::Constant(d) => Sampler::Constant(micros(d)),
            Latency::Uniform(lo, hi) if hi > lo => Sampler::Uniform(micros(lo), micros(hi)),
            Latency::Uniform(lo, _) => Sampler::Constant(micros(lo)),
            Latency::LogNormal { median, sigma } => {
                let median = micros(median) as f64;
                let sigma = if sigma.is_finite() {
                    sigma.max(0.0)
                } else {
                    0.0
                };
                match LogNormal::new(median.ln(), sigma) {
                    Ok(d) if median > 0.0 => Sampler::LogNormal(d),
                    _ => Sampler::Constant(median as u64),
                }
            }
        }
    }

    /// One draw, in microseconds.
    pub(super) fn sample(&self, rng: &mut ChaCha8Rng) -> u64 {
        match *self {
            Sampler::Constant(d) => d,
            Sampler::Uniform(lo, hi) => rng.random_range(lo..=hi),
            Sampler::LogNormal(d) => d.sample(rng) as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn log_normal_latencies_centre_on_the_median() {
        let sampler = Sampler::new(Latency::LogNormal {
            median: Duration::from_millis(40),
            sigma: 0.8,
        });
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut draws: Vec<u64> = (0..20_001).map(|_| sampler.sample(&mut rng)).collect();
        draws.sort_unstable();
        let median = draws[draws.len() / 2];
        assert!((38_000..42_000).contains(&median), "median {median} µs");
        assert!(draws[draws.len() * 99 / 100] > 4 * median, "a long tail");
    }

    #[test]
    fn degenerate_models_are_constant() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let ms = Duration::from_millis;
        let flat = Sampler::new(Latency::Uniform(ms(5), ms(5)));
        let narrow = Sampler::new(Latency::LogNormal {
            median: ms(5),
            sigma: f64::NAN,
        });
        assert_eq!(flat.sample(&mut rng), 5_000);
        assert_eq!(narrow.sample(&mut rng), 5_000);
    }
}
