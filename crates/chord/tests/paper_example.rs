//! The ToN paper's example ring (m = 6, ten nodes) built on the in-memory network: node
//! 8's fingers and the lookup of key 54 from node 8, which goes 8 -> 42 -> 51 and returns 56.

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use common::*;
use p2plab_chord::Id;
use p2plab_peer_protocol::{Command, Event, Holder, Library, Node, RequestId};

const NODES: [u64; 10] = [1, 8, 14, 21, 32, 38, 42, 48, 51, 56];

/// An address whose 6-bit id is `id` (ids are hashes, so we search for one).
fn addr_with_id(id: u64) -> SocketAddr {
    (1..u16::MAX)
        .map(|port| SocketAddr::from((Ipv4Addr::new(10, 0, 0, 1), port)))
        .find(|a| Id::of_addr(*a, 6) == Id::from_u64(id))
        .expect("some port hashes to every 6-bit id")
}

/// A word whose 6-bit key is `id`.
fn word_with_key(id: u64) -> String {
    (0..)
        .map(|i| format!("w{i}"))
        .find(|w| Id::of_key(w, 6) == Id::from_u64(id))
        .expect("some word hashes to every 6-bit id")
}

#[test]
fn node_8_has_the_papers_fingers_and_finds_54_at_56_in_two_hops() {
    let mut net = net(6);
    let addrs: Vec<SocketAddr> = NODES.iter().map(|id| addr_with_id(*id)).collect();
    let idx: Vec<usize> = addrs
        .iter()
        .enumerate()
        .map(|(i, addr)| {
            let mut c = config(*addr, (i > 0).then_some(addrs[0]), i as u64);
            c.id_bits = 6;
            // The paper's Fig. 5 routes by fingers alone.
            c.successors = 1;
            c.replicas = 1;
            net.add_at(*addr, chord(c))
        })
        .collect();
    let ok = net.run_until_cond(secs(300), |n| ring_is_exact(n));
    assert!(ok, "the ring converges");

    let n8 = node(&net, idx[1]);
    let fingers: Vec<u64> = n8
        .fingers()
        .map(|f| f.expect("all found").id.low_u64())
        .collect();
    assert_eq!(fingers, [14, 14, 14, 21, 32, 42]);

    let word = word_with_key(54);
    let library = Library::synthetic([(format!("{word}.mp3"), 1234u64)], 7);
    net.command(
        idx[3],
        Command::Share {
            library: Arc::new(library),
        },
    );
    net.run_for(secs(5));
    assert!(
        node(&net, idx[9]).stored_keys().contains(&Id::from_u64(54)),
        "node 56 holds key 54"
    );

    net.command(
        idx[1],
        Command::Search {
            request: RequestId(1),
            query: word.to_uppercase(),
        },
    );
    net.run_for(secs(5));
    let events = net.take_events(idx[1]);
    let Some(Event::SearchDone {
        result: Ok(hits), ..
    }) = events.first()
    else {
        panic!("no search result: {events:?}");
    };
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].name, format!("{word}.mp3"));
    assert_eq!(hits[0].size, 1234);
    assert_eq!(
        hits[0].holder,
        Holder::Http {
            addr: addrs[3],
            index: 0
        }
    );
    assert_eq!(
        hits[0].hops,
        Some(2),
        "8 -> 42 -> 51, whose successor 56 holds the key"
    );
    assert_eq!(node(&net, idx[1]).metrics().hops.get(2), Some(&1));
}
