//! Rings built by many concurrent joins converge to exact successors, predecessors and
//! fingers; lookups from the converged routing state are all correct and take about
//! (1/2) log2 N hops (ToN §V-C, Fig. 10).

mod common;

use common::*;
use p2plab_peer_protocol::{Command, Event, Node, RequestId};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Builds a ring of `n` nodes that all join at the same instant through node 0, waits
/// for it to converge, then checks 10,000 random lookups. Returns (mean, p1, p99) hops.
fn converge_and_look_up(n: usize, seed: u64) -> (f64, u32, u32) {
    let mut net = net(seed);
    let ids = ring(&mut net, n, |_| {});
    let converged = net.run_until_cond(secs(600), |net| {
        net.now().as_micros() % 5_000_000 < 20_000 && ring_is_exact(net)
    });
    if !converged {
        let members = membership(&net);
        let (mut succ, mut pred, mut fing) = (0, 0, 0);
        for m in &members {
            let nd = node(&net, net.idx_of(m.addr).expect("member"));
            succ += usize::from(
                nd.successor() != true_successor(&members, nd.ring().add_pow2(m.id, 0)),
            );
            pred += usize::from(nd.predecessor() != Some(true_predecessor(&members, *m)));
            fing += nd
                .fingers()
                .zip(1..)
                .filter(|(f, i)| *f != Some(true_successor(&members, nd.finger_start(*i))))
                .count();
        }
        eprintln!("wrong successors {succ}, predecessors {pred}, fingers {fing}");
    }
    assert!(
        converged,
        "{n} concurrent joins did not converge in 10 minutes"
    );
    eprintln!(
        "N = {n}: exact ring after {:?} of virtual time",
        net.now().saturating_since(Default::default())
    );

    let members = membership(&net);
    let ring_bits = node(&net, ids[0]).ring();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut hops = Vec::with_capacity(10_000);
    for _ in 0..10_000 {
        let from = ids[rng.random_range(0..ids.len())];
        let key = random_id(&mut rng, ring_bits);
        let (found, h) = oracle_lookup(&net, from, key).expect("lookup ends");
        assert_eq!(found, true_successor(&members, key), "lookup of {key}");
        hops.push(h);
    }
    hops.sort_unstable();
    let mean = hops.iter().map(|h| f64::from(*h)).sum::<f64>() / hops.len() as f64;
    let (p1, p99) = (hops[hops.len() / 100], hops[hops.len() * 99 / 100]);
    eprintln!(
        "N = {n}: mean path {mean:.2} hops (1/2 log2 N = {:.2}), 1st percentile {p1}, 99th {p99}",
        (n as f64).log2() / 2.0
    );

    // The same through the network: searches (a lookup plus a get) report their hops.
    for k in 0..100 {
        let query = format!("word{k}");
        let request = RequestId(k as u64);
        net.command(ids[k % n], Command::Search { request, query });
    }
    net.run_for(secs(5));
    let mut done = 0;
    for i in &ids {
        for e in net.take_events(*i) {
            assert!(
                matches!(e, Event::SearchDone { result: Ok(ref hits), .. } if hits.is_empty()),
                "{e:?}"
            );
            done += 1;
        }
    }
    assert_eq!(done, 100);
    let lookups: u64 = ids.iter().map(|i| node(&net, *i).metrics().lookups).sum();
    assert_eq!(lookups, 100, "every search records its lookup");
    (mean, p1, p99)
}

#[test]
fn sixty_four_nodes_converge_and_route_in_half_log_n_hops() {
    let (mean, _, p99) = converge_and_look_up(64, 1);
    // 1/2 log2 64 = 3; successor lists shave a little off.
    assert!((2.0..=3.5).contains(&mean), "mean path {mean}");
    assert!(p99 <= 6);
}

/// Three minutes in --release on two busy cores: `cargo test -p p2plab-chord --release -- --ignored`.
/// Last run: exact ring after 280 s of virtual time; mean path 4.30 hops, 1st percentile 1, 99th 7.
#[test]
#[ignore]
fn a_thousand_nodes_converge_and_route_in_half_log_n_hops() {
    let (mean, _, p99) = converge_and_look_up(1024, 2);
    // 1/2 log2 1024 = 5.
    assert!((4.0..=5.5).contains(&mean), "mean path {mean}");
    assert!(p99 <= 10);
}
