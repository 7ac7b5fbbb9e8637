//! Connections stay few: each node keeps at most `max_dialled` dialled connections, and
//! when lookups are rare only the ones ring upkeep uses stay open.

mod common;

use common::{net, node, ring, ring_is_exact, secs};
/// A bound well below the ring's size, so that it binds.
const BOUND: usize = 8;

#[test]
fn a_busy_ring_never_holds_more_than_the_bound() {
    let mut net = net(3);
    let ids = ring(&mut net, 64, |c| c.max_dialled = BOUND);
    let mut most = 0;
    for _ in 0..60 {
        net.run_for(secs(1));
        let now = ids.iter().map(|i| node(&net, *i).dialled_count()).max();
        most = most.max(now.unwrap_or(0));
    }
    assert!(
        ring_is_exact(&net),
        "the bound does not stop the ring converging"
    );
    assert!(most <= BOUND, "a node held {most} dialled connections");
}

#[test]
fn a_quiet_ring_closes_idle_connections() {
    let mut net = net(4);
    let ids = ring(&mut net, 64, |c| c.fix_fingers_every = secs(30));
    net.run_for(secs(120));
    let total: usize = ids.iter().map(|i| node(&net, *i).dialled_count()).sum();
    // Successor and predecessor: two each, give or take a lookup in progress.
    assert!(
        total <= ids.len() * 3,
        "{total} dialled connections for {} nodes",
        ids.len()
    );
}
