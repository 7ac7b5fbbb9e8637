//! Recursive routing: hops forward the lookup, the last one answers the origin directly;
//! a lookup lost on the way is redone iteratively.

mod common;

use std::sync::Arc;

use common::*;
use p2plab_chord::Routing;
use p2plab_peer_protocol::{Command, Event, Library, Node, RequestId};

#[test]
fn recursive_searches_find_the_same_files_with_fewer_messages() {
    let mut totals = Vec::new();
    for routing in [Routing::Iterative, Routing::Recursive] {
        let mut net = net(31);
        // No liveness pings (predecessor, holders) in the measured second: only the
        // searches and the ring's other upkeep, alike in both routings.
        let ids = ring(&mut net, 24, |c| {
            c.routing = routing;
            c.check_predecessor_every = secs(3600);
        });
        assert!(net.run_until_cond(secs(300), |n| ring_is_exact(n)));
        for (i, idx) in ids.iter().enumerate() {
            let library = Library::synthetic([(format!("Track {i}.ogg"), 10u64)], 1);
            net.command(
                *idx,
                Command::Share {
                    library: Arc::new(library),
                },
            );
        }
        net.run_for(secs(5));
        let sent_before: u64 = ids
            .iter()
            .map(|i| node(&net, *i).metrics().total_sent().messages)
            .sum();
        for (k, from) in ids.iter().enumerate() {
            let query = format!("{} track", (k + 7) % ids.len());
            net.command(
                *from,
                Command::Search {
                    request: RequestId(k as u64),
                    query,
                },
            );
        }
        net.run_for(secs(1));
        for (k, from) in ids.iter().enumerate() {
            let events = net.take_events(*from);
            let [Event::SearchDone {
                result: Ok(hits), ..
            }] = events.as_slice()
            else {
                panic!("{routing:?} search {k}: {events:?}");
            };
            assert_eq!(hits.len(), 1, "{routing:?}");
            assert_eq!(hits[0].name, format!("Track {}.ogg", (k + 7) % ids.len()));
        }
        let sent: u64 = ids
            .iter()
            .map(|i| node(&net, *i).metrics().total_sent().messages)
            .sum();
        totals.push(sent - sent_before);
    }
    eprintln!(
        "messages for 24 searches: iterative {}, recursive {}",
        totals[0], totals[1]
    );
    assert!(totals[1] < totals[0]);
}

#[test]
fn a_recursive_lookup_lost_at_a_hung_hop_is_redone_iteratively() {
    let mut net = net(32);
    let ids = exact_ring_sharing_needle(&mut net, 16, Routing::Recursive, 3);
    // Hang the first hop node 9 would use for "needle".
    let key = p2plab_chord::Id::of_key("needle", 160);
    let first_hop = node(&net, ids[9]).closest_preceding_node(key);
    let hung = net.idx_of(first_hop.addr).expect("a node");
    if hung != ids[3] {
        mute(&net, hung);
    }
    net.command(
        ids[9],
        Command::Search {
            request: RequestId(1),
            query: "needle".into(),
        },
    );
    net.run_for(secs(20));
    let events = net.take_events(ids[9]);
    let [Event::SearchDone {
        result: Ok(hits), ..
    }] = events.as_slice()
    else {
        panic!("{events:?}");
    };
    assert_eq!(hits.len(), 1);
}
