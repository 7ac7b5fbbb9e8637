//! Random overlays for experiments: the graphs the tests, the flood-cost example and
//! `p2plab trace` build their servents on.

use std::collections::BTreeSet;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A connected random graph: servent `i > 0` links to `links` distinct earlier servents (all
/// of them, if fewer), so the mean degree is close to `2 * links`.
pub fn random_overlay(n: usize, links: usize, seed: u64) -> Vec<BTreeSet<usize>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut adj = vec![BTreeSet::new(); n];
    for i in 1..n {
        while adj[i].len() < links.min(i) {
            let j = rng.random_range(0..i);
            adj[i].insert(j);
            adj[j].insert(i);
        }
    }
    adj
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_servent_links_back_and_the_graph_is_connected() {
        let adj = random_overlay(50, 2, 9);
        for (i, ns) in adj.iter().enumerate() {
            assert!(
                ns.iter().all(|j| adj[*j].contains(&i)),
                "links are symmetric"
            );
            assert!(
                i == 0 || ns.iter().any(|j| *j < i),
                "servent {i} links to an earlier one"
            );
        }
        assert_eq!(
            random_overlay(50, 2, 9),
            adj,
            "the same seed gives the same graph"
        );
    }
}
