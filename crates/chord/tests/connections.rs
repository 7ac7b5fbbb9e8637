//! Connections stay few: each node keeps about `max_dialled` dialled connections (never
//! more than `DIAL_BURST` times that), and when lookups are rare only the ones ring upkeep
//! uses stay open.

mod common;

use std::time::Duration;

use common::{net, node, ring, ring_is_exact, secs};
use p2plab_chord::DIAL_BURST;
use p2plab_peer_protocol::{Command, Event, RequestId};
/// A bound well below the ring's size, so that it binds.
const BOUND: usize = 8;

#[test]
fn a_busy_ring_stays_within_the_bound_when_sampled_between_bursts() {
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

#[test]
fn a_burst_of_lookups_never_dials_past_the_burst_limit() {
    // Two slots (eight in a burst), and forty searches at once from one node: each lookup's
    // steps go to many different nodes, so many of them must wait for a slot to free up.
    const TIGHT: usize = 2;
    let mut net = net(5);
    let ids = ring(&mut net, 32, |c| c.max_dialled = TIGHT);
    net.run_for(secs(30));
    let asker = ids[0];
    for k in 0..40u64 {
        let query = format!("word{k}");
        net.command(
            asker,
            Command::Search {
                request: RequestId(k),
                query,
            },
        );
    }
    let mut most = 0;
    for _ in 0..1_000 {
        net.run_for(Duration::from_millis(10));
        most = most.max(node(&net, asker).dialled_count());
    }
    assert!(
        most <= TIGHT * DIAL_BURST,
        "the asker held {most} dialled connections"
    );
    assert!(most > TIGHT, "the burst was used: {most}");
    let answered = net
        .take_events(asker)
        .into_iter()
        .filter(|e| matches!(e, Event::SearchDone { result: Ok(_), .. }))
        .count();
    assert_eq!(answered, 40, "every search is answered through two slots");
}
