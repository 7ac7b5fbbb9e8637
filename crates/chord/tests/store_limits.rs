//! Stores a node must not keep: replicas of keys it has no business holding, and floods
//! from one connection or from many. Each is refused or makes room by expiry; searches
//! still find what honest nodes published.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::*;
use p2plab_chord::{
    Frame, Id, Message, Record, Ring, M, MAX_LINK_KEYS, MAX_STORED_KEYS, MAX_STORED_RECORDS,
};
use p2plab_netsim::NodeIdx;
use p2plab_peer_protocol::{Command, Event, Hit, Holder, Library, Node, RequestId, WireMessage};

/// A one-way `store` of one record that names `holder` as the holder of `name`, filed
/// under the name's key (which, for a one-word name, is also its only keyword's key).
fn store(name: &str, holder: SocketAddr, replica: bool) -> Vec<u8> {
    let record = Record {
        name: name.into(),
        size: 1,
        holder,
        index: 0,
    };
    let msg = Message::Store {
        key: Id::of_key(name, M),
        replica,
        records: vec![record],
    };
    Frame { request: 0, msg }.to_bytes()
}

/// `count` one-word names whose keys lie in `(from, to]`.
fn names_in(ring: Ring, from: Id, to: Id, count: usize) -> Vec<String> {
    (0u64..)
        .map(|i| format!("planted{i}"))
        .filter(|n| ring.in_half_open(Id::of_key(n, ring.bits()), from, to))
        .take(count)
        .collect()
}

/// A raw peer at `addr` that sends `script` to `target`.
fn attack(net: &mut Net, addr: SocketAddr, target: SocketAddr, script: Vec<u8>) -> NodeIdx {
    net.add_at(addr, TestNode::Raw(Box::new(RawPeer::new(target, script))))
}

fn dropped(net: &Net, idx: NodeIdx, why: &str) -> u64 {
    let n = node(net, idx);
    n.metrics().dropped.get(why).copied().unwrap_or(0)
}

/// The hits of one search for `query` from `from`.
fn search(net: &mut Net, from: NodeIdx, query: &str) -> Vec<Hit> {
    let request = RequestId(3);
    let query = query.to_string();
    net.command(from, Command::Search { request, query });
    net.run_for(secs(5));
    match net.take_events(from).as_slice() {
        [Event::SearchDone {
            result: Ok(hits), ..
        }] => hits.clone(),
        other => panic!("one search, one answer: {other:?}"),
    }
}

fn names_holder(hits: &[Hit], addr: SocketAddr) -> bool {
    hits.iter()
        .any(|h| matches!(h.holder, Holder::Http { addr: a, .. } if a == addr))
}

/// How long to let a flood land before counting what the store kept. The attackers are
/// raw peers that answer no ping, so to the holder checks they are dead holders: their
/// records go one RPC timeout after the first check pings them, never sooner after they
/// arrived. Half that timeout lets the flood land (links take milliseconds) and counts the
/// store's limits alone.
fn before_a_holder_check_fails() -> std::time::Duration {
    p2plab_chord::RPC_TIMEOUT / 2
}

/// A converged ring of `n` nodes; node `sharer` shares `files` one-word files.
fn converged(n: usize, seed: u64, files: usize) -> (Net, Vec<NodeIdx>) {
    let mut net = net(seed);
    let ids = ring(&mut net, n, |c| {
        if c.seed == 1 {
            let names = (0..files).map(|i| (format!("honest{i}"), 10u64));
            c.library = Arc::new(Library::synthetic(names, 1));
        }
    });
    assert!(net.run_until_cond(secs(120), |n| ring_is_exact(n)));
    net.run_for(secs(5));
    (net, ids)
}

#[test]
fn replicas_of_keys_the_node_should_not_hold_are_refused() {
    let (mut net, ids) = converged(12, 22, 0);
    let victim = node(&net, ids[0]);
    let (ring, me) = (victim.ring(), victim.id());
    let pred = victim.predecessor().expect("converged").id;
    let third = victim.successor_list()[2].id;
    // Keys the victim owns (searches read them there), and keys its next three successors
    // own: a replica of either is never the victim's to keep.
    let own = names_in(ring, pred, me, 20);
    let ahead = names_in(ring, me, third, 20);
    let attacker = Net::addr_for(50);
    let script = own
        .iter()
        .chain(&ahead)
        .flat_map(|n| store(n, attacker, true))
        .collect();
    let target = net.addr(ids[0]);
    attack(&mut net, attacker, target, script);
    net.run_for(secs(3));

    let stored = node(&net, ids[0]).stored_keys();
    let planted: Vec<&String> = own
        .iter()
        .chain(&ahead)
        .filter(|n| stored.contains(&Id::of_key(n, M)))
        .collect();
    assert!(planted.is_empty(), "kept {planted:?}");
    assert_eq!(dropped(&net, ids[0], "replica_of_own_key"), 20);
    assert_eq!(dropped(&net, ids[0], "replica_out_of_range"), 20);
    let hits = search(&mut net, ids[5], &own[0]);
    assert!(!names_holder(&hits, attacker), "{hits:?}");
}

#[test]
fn one_connection_cannot_fill_the_store() {
    let (mut net, ids) = converged(3, 23, 0);
    let victim = node(&net, ids[0]);
    let (ring, me) = (victim.ring(), victim.id());
    let pred = victim.predecessor().expect("converged").id;
    let before = victim.stored_keys().len();
    // In a ring of three every node holds a copy of every key: replicas of keys the
    // victim does not own are its to keep, and it owns the rest.
    let attacker = Net::addr_for(50);
    let replicas = names_in(ring, me, pred, 3_000);
    let primaries = names_in(ring, pred, me, 3_000);
    let script = replicas
        .iter()
        .map(|n| store(n, attacker, true))
        .chain(primaries.iter().map(|n| store(n, attacker, false)))
        .flatten()
        .collect();
    let target = net.addr(ids[0]);
    attack(&mut net, attacker, target, script);
    net.run_for(before_a_holder_check_fails());

    let added = node(&net, ids[0]).stored_keys().len() - before;
    assert_eq!(added, MAX_LINK_KEYS, "the connection's quota, and no more");
    assert_eq!(
        dropped(&net, ids[0], "link_quota") as usize,
        6_000 - MAX_LINK_KEYS
    );
    net.run_for(secs(10));
    assert!(ring_is_exact(&net), "the node carries on");
    let left = node(&net, ids[0]).stored_keys().len();
    assert_eq!(left, before, "the silent attacker's records went with it");
}

#[test]
fn many_connections_fill_the_store_only_up_to_its_cap_and_primaries_stay() {
    let (mut net, ids) = converged(3, 24, 40);
    let victim = node(&net, ids[0]);
    let (ring, me) = (victim.ring(), victim.id());
    let pred = victim.predecessor().expect("converged").id;
    let honest: Vec<String> = (0..40)
        .map(|i| format!("honest{i}"))
        .filter(|n| ring.in_half_open(Id::of_key(n, M), pred, me))
        .collect();
    assert!(!honest.is_empty(), "the victim owns some honest keys");
    // Replicas of keys the victim may hold, from more connections than its store can take.
    let links = MAX_STORED_KEYS / MAX_LINK_KEYS + 2;
    let names = names_in(ring, me, pred, links * MAX_LINK_KEYS);
    let target = net.addr(ids[0]);
    for (i, chunk) in names.chunks(MAX_LINK_KEYS).enumerate() {
        let addr = Net::addr_for(50 + i);
        let script = chunk.iter().flat_map(|n| store(n, addr, true));
        attack(&mut net, addr, target, script.collect());
    }
    net.run_for(before_a_holder_check_fails());

    let victim = node(&net, ids[0]);
    assert_eq!(victim.stored_keys().len(), MAX_STORED_KEYS);
    assert!(victim.stored_record_count() <= MAX_STORED_RECORDS);
    assert!(dropped(&net, ids[0], "evicted") > 0);
    for name in &honest {
        let hits = search(&mut net, ids[2], name);
        assert!(names_holder(&hits, net.addr(ids[1])), "{name}: {hits:?}");
    }
    // Ten silent holders, eight checks a period: all gone within two periods.
    net.run_for(p2plab_chord::CHECK_PREDECESSOR_EVERY * 2 + p2plab_chord::RPC_TIMEOUT);
    let stored = node(&net, ids[0]).stored_keys();
    let planted = names.iter().filter(|n| stored.contains(&Id::of_key(n, M)));
    assert_eq!(planted.count(), 0, "the silent attackers' records left");
}
