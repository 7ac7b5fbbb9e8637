//! The paper's lookup rules beside p2plab's: fingers only and no retry, against fingers
//! and successor list with a fallback round a dead hop.

mod common;

use std::sync::Arc;

use common::*;
use p2plab_chord::{ChordNode, Id, LookupRules, NodeRef};
use p2plab_netsim::NodeIdx;
use p2plab_peer_protocol::{Command, Event, Library, RequestId};

/// A ring of `n` nodes under `rules`, run until successors, predecessors and every finger
/// are exact.
fn converged(rules: LookupRules, n: usize, seed: u64) -> (Net, Vec<NodeIdx>) {
    let mut net = net(seed);
    let ids = ring(&mut net, n, |c| c.lookup_rules = rules);
    assert!(
        net.run_until_cond(secs(900), |n| ring_is_exact(n)),
        "{rules:?} ring converges"
    );
    (net, ids)
}

/// The node's distinct fingers.
fn fingers(node: &ChordNode) -> Vec<NodeRef> {
    let mut f: Vec<NodeRef> = node.fingers().flatten().collect();
    f.dedup();
    f
}

/// A node and a target for which its successor list holds a node that precedes the target
/// more closely than any finger: the target just past such a successor-list entry.
fn successor_list_beats_fingers(net: &Net, ids: &[NodeIdx]) -> (NodeIdx, Id) {
    ids.iter()
        .find_map(|&i| {
            let n = node(net, i);
            let f = fingers(n);
            n.successor_list()
                .iter()
                .find(|s| !f.contains(s))
                .map(|s| (i, n.ring().add_pow2(s.id, 0)))
        })
        .expect("some successor-list entry is no finger")
}

#[test]
fn paper_rules_take_the_finger_where_the_successor_list_offers_a_closer_node() {
    let (p2plab, ids) = converged(LookupRules::P2plab, 16, 5);
    let (paper, _) = converged(LookupRules::Paper, 16, 5);
    let (at, target) = successor_list_beats_fingers(&p2plab, &ids);
    let ours = node(&p2plab, at);
    let theirs = node(&paper, at);
    assert_eq!(ours.me(), theirs.me(), "the same node in both rings");
    let via_list = ours.closest_preceding_node(target);
    let via_finger = theirs.closest_preceding_node(target);
    assert!(ours.successor_list().contains(&via_list));
    assert!(
        !fingers(ours).contains(&via_list),
        "p2plab took the list's node"
    );
    assert!(
        fingers(theirs).contains(&via_finger),
        "the paper takes a finger"
    );
    let ring = ours.ring();
    assert!(ring.distance(via_list.id, target) < ring.distance(via_finger.id, target));
    let best_finger = fingers(theirs)
        .into_iter()
        .filter(|f| ring.in_open(f.id, theirs.me().id, target))
        .min_by_key(|f| ring.distance(f.id, target));
    assert_eq!(
        Some(via_finger),
        best_finger,
        "Fig. 5's closest preceding finger"
    );
}

/// Shares one single-word file per node; returns (holder, name, key) for each.
fn share(net: &mut Net, ids: &[NodeIdx]) -> Vec<(NodeIdx, String, Id)> {
    let files: Vec<(NodeIdx, String, Id)> = ids
        .iter()
        .map(|&i| {
            let name = format!("tune{i}");
            let key = Id::of_key(&name, 160);
            (i, name, key)
        })
        .collect();
    for (i, name, _) in &files {
        let library = Library::synthetic([(name.clone(), 10u64)], *i as u64);
        let library = Arc::new(library);
        net.command(*i, Command::Share { library });
    }
    net.run_for(secs(10));
    files
}

/// Hangs the next hop of a search whose next hop is neither the origin's successor nor
/// the file's owner or holder, then runs the search: did it find the file?
fn search_past_a_hung_hop(rules: LookupRules) -> bool {
    let (mut net, ids) = converged(rules, 24, 9);
    let files = share(&mut net, &ids);
    let members = membership(&net);
    let (origin, name, hop) = ids
        .iter()
        .flat_map(|&o| files.iter().map(move |f| (o, f)))
        .find_map(|(o, (holder, name, key))| {
            let n = node(&net, o);
            let hop = n.closest_preceding_node(*key);
            let owner = true_successor(&members, *key);
            let clear = hop != n.me() && hop != n.successor() && hop != owner;
            let hop_idx = net.idx_of(hop.addr)?;
            (clear && hop_idx != *holder).then(|| (o, name.clone(), hop_idx))
        })
        .expect("a search with a middle hop");
    mute(&net, hop);
    let request = RequestId(1);
    net.command(
        origin,
        Command::Search {
            request,
            query: name.clone(),
        },
    );
    net.run_for(secs(30));
    let events = net.take_events(origin);
    match events.as_slice() {
        [Event::SearchDone { result, .. }] => result
            .as_ref()
            .is_ok_and(|hits| hits.iter().any(|h| h.name == name)),
        other => panic!("{rules:?}: {other:?}"),
    }
}

#[test]
fn a_hung_next_hop_fails_a_paper_lookup_and_p2plab_routes_around_it() {
    assert!(
        search_past_a_hung_hop(LookupRules::P2plab),
        "p2plab retries"
    );
    assert!(
        !search_past_a_hung_hop(LookupRules::Paper),
        "the paper does not"
    );
}
