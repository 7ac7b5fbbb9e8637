//! A ring built by the simulator's builder is exact, and lookups through it find every
//! name in about log2 N hops.

use p2plab_sim::chord::{publish, run_batches, RingParams, SimRing};
use std::time::Duration;

const NODES: usize = 64;

/// Hops allowed above log2 N: a lookup's last step to the key's predecessor, and a finger
/// or two still converging.
const HOP_SLACK: f64 = 2.0;

#[test]
fn a_ring_of_64_built_in_waves_is_exact_and_lookups_find_every_name() {
    let (mut ring, formation) =
        SimRing::build(RingParams::default(), 7, NODES).expect("the ring settles");
    assert_eq!(formation.nodes, NODES);
    assert_eq!(formation.waves, 7, "1 + 1 + 2 + 4 + 8 + 16 + 32 = 64");
    assert!(ring.is_exact());

    let published = publish(&mut ring, 200, Duration::from_secs(60));
    let stats = run_batches(&mut ring, &published, 500, 100);
    assert_eq!(stats.answered, 500);
    assert_eq!(stats.succeeded, 500, "{stats:?}");
    let max = stats.hops.iter().copied().max().unwrap_or(0);
    assert!(
        f64::from(max) <= (NODES as f64).log2() + HOP_SLACK,
        "longest lookup took {max} hops"
    );
    let mean = stats.hop_summary().mean;
    assert!(mean > 1.0 && mean < 5.0, "mean hops {mean}");
}

#[test]
fn one_seed_gives_one_run_and_another_seed_another() {
    let run = |seed| {
        let (mut ring, _) = SimRing::build(RingParams::default(), seed, 16).expect("settles");
        let published = publish(&mut ring, 20, Duration::from_secs(30));
        let stats = run_batches(&mut ring, &published, 50, 10);
        (ring.net.digest(), ring.net.events(), stats)
    };
    let (a, b, c) = (run(3), run(3), run(4));
    assert_eq!(a, b);
    assert_ne!(a.0, c.0);
}
