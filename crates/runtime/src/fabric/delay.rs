//! [`Delays`]: one node's draws from its fabric's latency model.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use p2plab_peer_protocol::latency::{Latency, Sampler};

use crate::limits::MAX_LATENCY;

/// The latency model as one node draws from it: its own RNG, seeded from the fabric's seed
/// and the node's address, so nodes sharing one fabric do not draw the same sequence and a
/// rerun with the same seed draws, node for node, what the last run drew.
#[derive(Debug)]
pub(crate) struct Delays {
    /// What the draws come from (kept to tell whether a change of the fabric is new).
    settings: Option<(Latency, u64)>,
    draw: Option<(Sampler, ChaCha8Rng)>,
}

impl Delays {
    /// Draws for the node at `me` from `settings` (a model and a seed; `None`: no delay).
    pub(crate) fn new(settings: Option<(Latency, u64)>, me: SocketAddr) -> Self {
        let draw = settings.map(|(latency, seed)| {
            let rng = ChaCha8Rng::seed_from_u64(seed ^ address_hash(me));
            (Sampler::new(latency), rng)
        });
        Delays { settings, draw }
    }

    /// The model and seed these delays are drawn from.
    pub(crate) fn settings(&self) -> Option<(Latency, u64)> {
        self.settings
    }

    /// The next message's delay, at most [`MAX_LATENCY`]; `None` when there is no model.
    pub(crate) fn draw(&mut self) -> Option<Duration> {
        let (sampler, rng) = self.draw.as_mut()?;
        Some(Duration::from_micros(sampler.sample(rng)).min(MAX_LATENCY))
    }
}

/// A stable 64-bit mix of `addr` (SplitMix64's finaliser over the address's bits), the same
/// in every build and process — unlike `std`'s hasher, which may change between releases.
fn address_hash(addr: SocketAddr) -> u64 {
    let ip = match addr.ip() {
        IpAddr::V4(ip) => u128::from(ip.to_bits()),
        IpAddr::V6(ip) => ip.to_bits(),
    };
    // Folding the 128 bits to 64 keeps every bit of an IPv4 address and the port apart.
    let mut z = (ip as u64) ^ ((ip >> 64) as u64).rotate_left(17) ^ (u64::from(addr.port()) << 32);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn draws(settings: Option<(Latency, u64)>, me: SocketAddr) -> Vec<Option<Duration>> {
        let mut delays = Delays::new(settings, me);
        (0..8).map(|_| delays.draw()).collect()
    }

    const LOG_NORMAL: Latency = Latency::LogNormal {
        median: Duration::from_millis(20),
        sigma: 1.0,
    };

    #[test]
    fn no_model_means_no_delay() {
        assert!(draws(None, addr(1)).iter().all(Option::is_none));
    }

    #[test]
    fn each_node_draws_its_own_sequence_and_the_same_one_every_run() {
        let settings = Some((LOG_NORMAL, 42));
        assert_eq!(draws(settings, addr(1)), draws(settings, addr(1)));
        assert_ne!(draws(settings, addr(1)), draws(settings, addr(2)));
        assert_ne!(
            draws(settings, addr(1)),
            draws(Some((LOG_NORMAL, 43)), addr(1))
        );
    }

    #[test]
    fn no_draw_exceeds_the_cap() {
        let wild = Latency::LogNormal {
            median: MAX_LATENCY,
            sigma: 4.0,
        };
        let mut delays = Delays::new(Some((wild, 1)), addr(1));
        let longest = (0..1_000).filter_map(|_| delays.draw()).max();
        assert_eq!(longest, Some(MAX_LATENCY));
    }
}
