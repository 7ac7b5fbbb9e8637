//! Who is up: a network's peers as `Option`s (`None` while down), and the seeded picks of
//! victims and rejoiners. The timeline keeps each network's peers this way (their listen
//! addresses) and picks through these functions, so the same seed kills the same peers in
//! every network and on either engine.

use std::net::SocketAddr;

use rand::seq::IndexedRandom;
use rand::Rng;

/// The indices of the peers that are up.
pub fn live<T>(peers: &[Option<T>]) -> Vec<usize> {
    (0..peers.len()).filter(|&i| peers[i].is_some()).collect()
}

/// Picks `count` peers that are up, at random with `r`, in index order.
pub fn pick_live<T>(peers: &[Option<T>], r: &mut impl Rng, count: usize) -> Vec<usize> {
    let mut picked: Vec<usize> = live(peers).choose_multiple(r, count).copied().collect();
    picked.sort_unstable();
    picked
}

/// Picks one peer that is down, at random with `r`.
pub fn pick_down<T>(peers: &[Option<T>], r: &mut impl Rng) -> Option<usize> {
    let down: Vec<usize> = (0..peers.len()).filter(|&i| peers[i].is_none()).collect();
    down.choose(r).copied()
}

/// Up to `want` peers for peer `i` to bootstrap from, by listen address: the `planned`
/// ones that are up, topped up with other live peers drawn with `r` when too few of them
/// are.
pub fn bootstrap(
    peers: &[Option<SocketAddr>],
    i: usize,
    planned: &[usize],
    want: usize,
    r: &mut impl Rng,
) -> Vec<SocketAddr> {
    let addr_of = |j: usize| peers[j];
    let mut picks: Vec<SocketAddr> = planned.iter().filter_map(|&j| addr_of(j)).collect();
    let live = live(peers);
    if picks.len() < want.min(live.len()) {
        let others: Vec<usize> = live.into_iter().filter(|&j| j != i).collect();
        for &j in others.choose_multiple(r, want) {
            if let Some(a) = addr_of(j).filter(|a| !picks.contains(a)) {
                picks.push(a);
            }
        }
    }
    picks.truncate(want);
    picks
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn picks_come_from_the_right_side_and_repeat_with_the_seed() {
        let peers = [Some(()), None, Some(()), Some(()), None];
        assert_eq!(live(&peers), vec![0, 2, 3]);
        let pick = |seed| pick_live(&peers, &mut ChaCha8Rng::seed_from_u64(seed), 2);
        assert_eq!(pick(7), pick(7));
        assert!(pick(7).iter().all(|i| peers[*i].is_some()));
        let down = pick_down(&peers, &mut ChaCha8Rng::seed_from_u64(1));
        assert!(matches!(down, Some(1 | 4)));
    }
}
