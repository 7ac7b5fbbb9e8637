//! Cost by cause on a converged ring: a search is charged exactly the messages its lookup
//! and index read sent, whatever upkeep runs beside it.

mod common;

use common::*;
use p2plab_chord::{Id, Routing};
use p2plab_peer_protocol::{Command, Event, Node, RequestId};

/// Messages charged to searches, summed over the ring.
fn charged(net: &Net, ids: &[p2plab_netsim::NodeIdx]) -> (u64, u64) {
    ids.iter()
        .map(|i| node(net, *i).metrics())
        .fold((0, 0), |(s, all), m| {
            (s + m.search.messages, all + m.total_sent().messages)
        })
}

/// Searches for "needle" from every node in turn, one at a time, on a converged ring of
/// 24 with one holder; for each, checks that the ring charged it `expected(hops)` messages
/// (plus the index read, unless the searcher owns the key) while upkeep sent more.
fn each_search_costs(routing: Routing, seed: u64, expected: fn(u32) -> u64) {
    let mut net = net(seed);
    let ids = exact_ring_sharing_needle(&mut net, 24, routing, 5);
    let owner = true_successor(&membership(&net), Id::of_key("needle", 160));
    let mut upkeep_ran = false;
    for (k, from) in ids.iter().enumerate() {
        let before = charged(&net, &ids);
        let request = RequestId(k as u64);
        let query = "needle".to_owned();
        net.command(*from, Command::Search { request, query });
        net.run_for(secs(2));
        let events = net.take_events(*from);
        let [Event::SearchDone {
            result: Ok(hits), ..
        }] = events.as_slice()
        else {
            panic!("{routing:?} search {k}: {events:?}");
        };
        let hops = hits[0].hops.expect("Chord reports hops");
        let fetch = if node(&net, *from).me() == owner {
            0
        } else {
            2
        };
        let after = charged(&net, &ids);
        assert_eq!(
            after.0 - before.0,
            expected(hops) + fetch,
            "{routing:?} search {k}, {hops} hops"
        );
        upkeep_ran |= after.1 - before.1 > after.0 - before.0;
    }
    assert!(upkeep_ran, "stabilization kept sending beside the searches");
}

#[test]
fn an_iterative_search_costs_two_messages_a_hop_and_its_index_read() {
    each_search_costs(Routing::Iterative, 41, |hops| 2 * u64::from(hops));
}

#[test]
fn a_recursive_search_costs_its_forwards_its_answer_and_its_index_read() {
    // `hops` route_recursive messages (the origin's and the forwards), one answer back.
    each_search_costs(Routing::Recursive, 42, |hops| match hops {
        0 => 0,
        h => u64::from(h) + 1,
    });
}
