//! How long a message takes from one node to another: the model a scenario names, and the
//! [`Sampler`] that draws from it.
//!
//! Both engines draw from the same code: the simulator (`p2plab-netsim`) for every message it
//! delivers, and the tokio runtime's fabric for every message a node writes to a socket. The
//! model travels in scenario settings and control requests, so it is plain serialisable data.

use std::time::Duration;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};
use serde::{Deserialize, Serialize};

/// A latency model: drawn afresh for every message, a connection setup and a close, from the
/// network's seeded RNG. Whatever the draw, a connection delivers in order (TCP does): a
/// message never lands before one sent earlier on the same connection.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
pub struct Sampler(Model);

#[derive(Debug, Clone, Copy)]
enum Model {
    Constant(u64),
    Uniform(u64, u64),
    LogNormal(LogNormal<f64>),
}

impl Sampler {
    /// Builds the distribution of `latency`. Degenerate models (an empty uniform range, a
    /// zero median) draw a constant.
    pub fn new(latency: Latency) -> Self {
        Sampler(Model::new(latency))
    }

    /// One draw, in microseconds. The simulator's trace digests depend on every draw, so
    /// what this returns for a given RNG state must never change.
    pub fn sample(&self, rng: &mut ChaCha8Rng) -> u64 {
        self.0.sample(rng)
    }
}

impl Model {
    fn new(latency: Latency) -> Self {
        let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        match latency {
            Latency::Constant(d) => Model::Constant(micros(d)),
            Latency::Uniform(lo, hi) if hi > lo => Model::Uniform(micros(lo), micros(hi)),
            Latency::Uniform(lo, _) => Model::Constant(micros(lo)),
            Latency::LogNormal { median, sigma } => {
                let median = micros(median) as f64;
                let sigma = if sigma.is_finite() {
                    sigma.max(0.0)
                } else {
                    0.0
                };
                match LogNormal::new(median.ln(), sigma) {
                    Ok(d) if median > 0.0 => Model::LogNormal(d),
                    _ => Model::Constant(median as u64),
                }
            }
        }
    }

    fn sample(&self, rng: &mut ChaCha8Rng) -> u64 {
        match *self {
            Model::Constant(d) => d,
            Model::Uniform(lo, hi) => rng.random_range(lo..=hi),
            Model::LogNormal(d) => d.sample(rng) as u64,
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
