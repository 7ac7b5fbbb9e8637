//! Helpers shared by the loopback tests.

#![allow(dead_code, clippy::unwrap_used)] // each test file uses some of them

use std::net::SocketAddr;

use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use p2plab_runtime::NodeHandle;

/// Any free port on loopback.
pub fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Crashes `count` nodes chosen at random, never node 0; returns the indices still alive.
pub fn crash_random(nodes: &[NodeHandle], count: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut victims: Vec<usize> = (1..nodes.len()).collect();
    victims.shuffle(rng);
    victims.truncate(count);
    for &v in &victims {
        nodes[v].crash();
    }
    (0..nodes.len()).filter(|i| !victims.contains(i)).collect()
}
