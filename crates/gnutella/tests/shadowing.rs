//! Duplicate shadowing, on the in-memory network: in the overlay
//!
//! ```text
//!   0 ── 1 ── 3 (holder)
//!    \  /
//!     2
//! ```
//!
//! a Query from 0 with TTL 2 reaches the holder only through 1 with a TTL of 2. When the
//! copy by way of 2 (TTL 1 left) comes to 1 first, 1 answers and stops there; the direct
//! copy, with more TTL, comes second and is dropped as a duplicate (rule 6 goes by ID
//! alone). Nothing is lost, and the search misses all the same: servent 1 counts the later
//! copy as shadowed. Latencies are drawn per message, so which copy wins changes with the
//! seed; across seeds a miss happens exactly when 1 saw a shadowed copy.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{one_file, quiet_config};
use p2plab_gnutella::Servent;
use p2plab_netsim::{Latency, TestNet};
use p2plab_peer_protocol::{Command, Event, Library, RequestId};

const EDGES: [(usize, usize); 4] = [(0, 1), (0, 2), (1, 2), (1, 3)];

/// The overlay above with Queries of `ttl`, latencies drawn from `seed`.
fn triangle(ttl: u8, seed: u64) -> TestNet<Servent> {
    let latency = Latency::Uniform(Duration::from_millis(1), Duration::from_millis(100));
    let mut net = TestNet::new(latency, seed);
    let mut earlier = vec![BTreeSet::new(); 4];
    for (a, b) in EDGES {
        earlier[b].insert(a);
    }
    for (i, before) in earlier.iter().enumerate() {
        let files = if i == 3 {
            one_file("shadowed song.mp3")
        } else {
            Library::default()
        };
        let mut c = quiet_config(i, ttl, files);
        c.bootstrap = before
            .iter()
            .map(|&j| TestNet::<Servent>::addr_for(j))
            .collect();
        net.add(Servent::new(c));
    }
    net.run_for(Duration::from_secs(1));
    net
}

/// Whether a search from 0 for the holder's file found it.
fn found(net: &mut TestNet<Servent>) -> bool {
    let search = Command::Search {
        request: RequestId(1),
        query: "shadowed song".into(),
    };
    net.command(0, search);
    net.run_for(Duration::from_secs(3));
    let answer = net.take_events(0).into_iter().find_map(|e| match e {
        Event::SearchDone { result, .. } => Some(result),
        _ => None,
    });
    !answer
        .expect("answered")
        .expect("the search runs")
        .is_empty()
}

#[test]
fn a_miss_within_the_ttl_is_a_shorter_copy_shadowed_by_a_longer_one() {
    let mut misses = 0;
    for seed in 0..24 {
        let mut net = triangle(2, seed);
        assert_eq!(net.node(1).neighbour_count(), 3, "seed {seed}");
        let hit = found(&mut net);
        let shadowed = net.node(1).shadowed_queries();
        assert_eq!(
            hit,
            shadowed == 0,
            "seed {seed}: found {hit}, shadowed {shadowed}"
        );
        // Nothing was lost: 1 and 2 each handled the Query (once, whichever copy won).
        let handled = [1, 2].map(|i| net.node(i).queries_handled());
        assert_eq!(handled, [1, 1], "seed {seed}");
        misses += u32::from(!hit);
    }
    assert!(misses > 0, "some seed lets the long path's copy come first");
}

#[test]
fn with_one_more_hop_of_ttl_the_holder_is_found_whichever_copy_wins() {
    for seed in 0..24 {
        let mut net = triangle(3, seed);
        assert!(found(&mut net), "seed {seed}");
    }
}
