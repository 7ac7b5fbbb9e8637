//! Failures: a fifth of the ring crashing at once, a node that hangs, a polite leave, a
//! partition.

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use p2plab_chord::{Frame, Id, Message, NodeRef};
use p2plab_netsim::{Latency, NodeIdx};
use p2plab_peer_protocol::keywords::normalize_name;
use p2plab_peer_protocol::{
    Command, Event, Hit, Holder, Library, Node, Query, RequestId, SearchError, WireMessage,
};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// One published file: its name key, its name, its holder.
struct Entry {
    key: Id,
    name: String,
    holder: SocketAddr,
}

/// A converged ring of `n` nodes, each sharing three files, published after convergence.
/// Re-publishing is pushed out of the test's horizon so only replication is measured.
fn ring_with_files(n: usize, replicas: usize, seed: u64) -> (Net, Vec<NodeIdx>, Vec<Entry>) {
    let mut net = net(seed);
    let ids = ring(&mut net, n, |c| {
        c.replicas = replicas;
        c.republish_every = secs(3600);
        c.early_republish = false;
        c.entry_ttl = secs(7200);
    });
    assert!(net.run_until_cond(secs(600), |n| ring_is_exact(n)));
    let mut entries = Vec::new();
    for (i, idx) in ids.iter().enumerate() {
        let names: Vec<(String, u64)> =
            (0..3).map(|j| (format!("Song {i} {j}.mp3"), 100)).collect();
        for (name, _) in &names {
            let key = Id::of_key(&normalize_name(name), 160);
            entries.push(Entry {
                key,
                name: name.clone(),
                holder: net.addr(*idx),
            });
        }
        let library = Arc::new(Library::synthetic(names, i as u64));
        net.command(*idx, Command::Share { library });
    }
    net.run_for(secs(10));
    (net, ids, entries)
}

/// The nodes that got a copy of `key` when it was published: its successor and the next
/// `replicas - 1` nodes.
fn holders(members: &[NodeRef], key: Id, replicas: usize) -> Vec<SocketAddr> {
    let first = members.partition_point(|n| n.id < key);
    (0..replicas.min(members.len()))
        .map(|k| members[(first + k) % members.len()].addr)
        .collect()
}

fn is_stored(net: &Net, e: &Entry) -> bool {
    let owner = true_successor(&membership(net), e.key);
    let idx = net.idx_of(owner.addr).expect("owner is in the net");
    node(net, idx)
        .stored_records(e.key, &Query::parse(&e.name), net.now())
        .iter()
        .any(|r| r.holder == e.holder && r.name == e.name)
}

/// Crashes a fifth of the ring, lets it stabilise, and checks lookups and entries.
/// Returns (entries whose copies all died, entries lost).
fn crash_a_fifth(replicas: usize, seed: u64) -> (BTreeSet<Id>, BTreeSet<Id>) {
    let (mut net, ids, entries) = ring_with_files(50, replicas, seed);
    let before = membership(&net);
    assert!(entries.iter().all(|e| is_stored(&net, e)), "all published");

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut victims = ids.clone();
    victims.shuffle(&mut rng);
    victims.truncate(ids.len() / 5);
    for v in &victims {
        net.crash(*v);
    }
    let dead: BTreeSet<SocketAddr> = victims.iter().map(|v| net.addr(*v)).collect();
    net.run_for(secs(60));

    // The ring heals: successors and predecessors exact, every lookup right.
    let members = membership(&net);
    let live: Vec<NodeIdx> = net.alive().collect();
    for m in &members {
        let n = node(&net, net.idx_of(m.addr).expect("member"));
        assert_eq!(
            n.successor(),
            true_successor(&members, n.ring().add_pow2(m.id, 0))
        );
        assert_eq!(n.predecessor(), Some(true_predecessor(&members, *m)));
    }
    for (k, e) in entries.iter().enumerate() {
        let from = live[k % live.len()];
        let found = oracle_lookup(&net, from, e.key).map(|(n, _)| n);
        assert_eq!(found, Some(true_successor(&members, e.key)));
    }

    // A crashed holder's own entries leave the index (its holders' checks drop them):
    // only entries of live holders can be lost or kept.
    assert!(
        entries
            .iter()
            .filter(|e| dead.contains(&e.holder))
            .all(|e| !is_stored(&net, e)),
        "a crashed holder's entries are gone"
    );
    let entries: Vec<&Entry> = entries
        .iter()
        .filter(|e| !dead.contains(&e.holder))
        .collect();
    let all_died: BTreeSet<Id> = entries
        .iter()
        .filter(|e| {
            holders(&before, e.key, replicas)
                .iter()
                .all(|h| dead.contains(h))
        })
        .map(|e| e.key)
        .collect();
    let lost: BTreeSet<Id> = entries
        .iter()
        .filter(|e| !is_stored(&net, e))
        .map(|e| e.key)
        .collect();
    eprintln!(
        "replicas = {replicas}: {} of {} entries had every copy on a crashed node, {} lost",
        all_died.len(),
        entries.len(),
        lost.len()
    );
    (all_died, lost)
}

#[test]
fn with_three_replicas_a_fifth_crashing_loses_only_entries_whose_copies_all_died() {
    let (all_died, lost) = crash_a_fifth(3, 11);
    assert_eq!(lost, all_died);
}

#[test]
fn with_one_copy_exactly_the_entries_of_crashed_owners_are_lost() {
    let (all_died, lost) = crash_a_fifth(1, 12);
    assert!(!lost.is_empty(), "a fifth of the owners died");
    assert_eq!(lost, all_died);
}

fn search(net: &mut Net, from: NodeIdx, query: &str) -> Vec<Hit> {
    net.command(
        from,
        Command::Search {
            request: RequestId(7),
            query: query.into(),
        },
    );
    net.run_for(secs(10));
    let events = net.take_events(from);
    match events.as_slice() {
        [Event::SearchDone {
            result: Ok(hits), ..
        }] => hits.clone(),
        other => panic!("search {query:?}: {other:?}"),
    }
}

#[test]
fn a_hung_node_is_routed_around() {
    let (mut net, ids, entries) = ring_with_files(30, 2, 13);
    // The node most others have a finger to.
    let hung = *ids
        .iter()
        .max_by_key(|i| {
            let addr = net.addr(**i);
            ids.iter()
                .filter(|j| node(&net, **j).fingers().flatten().any(|f| f.addr == addr))
                .count()
        })
        .expect("nodes");
    mute(&net, hung);
    net.run_for(secs(15));
    let hung_addr = net.addr(hung);
    for (k, e) in entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.holder != hung_addr)
    {
        let from = ids[k % ids.len()];
        if from == hung {
            continue;
        }
        let hits = search(&mut net, from, &e.name);
        let held_there = |h: &Hit| {
            h.name == e.name && matches!(h.holder, Holder::Http { addr, .. } if addr == e.holder)
        };
        assert!(
            hits.iter().any(held_there),
            "{} from {from}: {hits:?}",
            e.name
        );
    }
}

#[test]
fn a_leaving_node_hands_its_entries_to_its_successor() {
    let (mut net, ids, entries) = ring_with_files(12, 1, 14);
    let leaver = ids[5];
    let leaver_addr = net.addr(leaver);
    net.command(
        leaver,
        Command::Leave {
            request: RequestId(9),
        },
    );
    assert!(matches!(
        net.take_events(leaver).as_slice(),
        [Event::Left {
            request: RequestId(9)
        }]
    ));
    net.crash(leaver);
    net.run_for(secs(20));
    let members = membership(&net);
    for m in &members {
        let n = node(&net, net.idx_of(m.addr).expect("member"));
        assert!(n.successor_list().iter().all(|s| s.addr != leaver_addr));
    }
    // With one copy, only the hand-over can have saved the leaver's keys (those of the
    // files it shared itself go with it).
    for e in entries.iter().filter(|e| e.holder != leaver_addr) {
        assert!(is_stored(&net, e), "{} lost", e.name);
    }
}

#[test]
fn a_node_that_left_answers_its_user_at_once_and_the_ring_not_at_all() {
    let (mut net, ids, entries) = ring_with_files(8, 1, 23);
    let leaver = ids[3];
    let leaver_addr = net.addr(leaver);
    net.command(
        leaver,
        Command::Leave {
            request: RequestId(1),
        },
    );
    net.take_events(leaver);
    // Not crashed: the leaver's process runs on, and the ring routes around it.
    net.run_for(secs(20));
    let search = Command::Search {
        request: RequestId(2),
        query: entries[0].name.clone(),
    };
    net.command(leaver, search);
    net.command(
        leaver,
        Command::Leave {
            request: RequestId(3),
        },
    );
    assert_eq!(
        net.take_events(leaver),
        [
            Event::SearchDone {
                request: RequestId(2),
                result: Err(SearchError::Left),
            },
            Event::Left {
                request: RequestId(3)
            },
        ]
    );
    // A ring RPC to it (a ping, as check_predecessor sends) gets no answer.
    let sent = sent_by(&net, leaver);
    let ping = Frame {
        request: 5,
        msg: Message::Ping,
    };
    let asker = net.add(TestNode::Raw(Box::new(RawPeer::new(
        leaver_addr,
        ping.to_bytes(),
    ))));
    net.run_for(secs(20));
    assert!(raw(&net, asker).received.is_empty());
    assert_eq!(
        sent_by(&net, leaver),
        sent,
        "it sends nothing after leaving"
    );
    for m in membership(&net).iter().filter(|m| m.addr != leaver_addr) {
        let n = node(&net, net.idx_of(m.addr).expect("member"));
        assert!(n.successor_list().iter().all(|s| s.addr != leaver_addr));
    }
}

/// Messages a node has sent, all kinds together.
fn sent_by(net: &Net, idx: NodeIdx) -> u64 {
    net.node(idx)
        .metrics()
        .sent
        .values()
        .map(|t| t.messages)
        .sum()
}

#[test]
fn a_node_outside_any_ring_says_so() {
    let mut net = net(15);
    let lonely = net.add(chord(config(Net::addr_for(0), Some(Net::addr_for(99)), 0)));
    net.run_for(secs(5));
    net.command(
        lonely,
        Command::Search {
            request: RequestId(1),
            query: "x".into(),
        },
    );
    assert!(matches!(
        net.take_events(lonely).as_slice(),
        [Event::SearchDone {
            result: Err(p2plab_peer_protocol::SearchError::NotReady(_)),
            ..
        }]
    ));
}

/// `get_predecessor` requests the live nodes sent so far.
fn stabilize_requests(net: &Net, ids: &[NodeIdx]) -> u64 {
    ids.iter()
        .filter(|i| net.is_alive(**i))
        .filter_map(|i| {
            node(net, *i)
                .metrics()
                .sent
                .get("get_predecessor")
                .map(|t| t.messages)
        })
        .sum()
}

#[test]
fn a_crash_does_not_set_off_a_stabilize_storm() {
    // A fast network refuses dials to dead nodes within microseconds. A successor that has
    // not yet noticed its dead predecessor keeps naming it; without suspicion, stabilize
    // would adopt it, fail, and ask again, as fast as the network answers.
    let fast = Latency::Uniform(Duration::from_micros(20), Duration::from_micros(100));
    let mut net = Net::new(fast, 3);
    let ids = ring(&mut net, 100, |c| {
        c.stabilize_every = Duration::from_millis(250)
    });
    net.run_for(secs(20));
    let t0 = stabilize_requests(&net, &ids);
    net.run_for(secs(5));
    let calm = stabilize_requests(&net, &ids) - t0;
    for i in ids.iter().step_by(5) {
        net.crash(*i);
    }
    let t1 = stabilize_requests(&net, &ids);
    net.run_for(secs(5));
    let after = stabilize_requests(&net, &ids) - t1;
    assert!(
        after <= calm * 2,
        "{after} stabilize requests in the 5 s after the crash, {calm} before it"
    );
    assert!(ring_is_exact(&net), "and the ring repairs itself");
}

#[test]
fn a_node_cut_off_from_every_neighbour_joins_again_when_the_cut_heals() {
    cut_off_and_heal(5);
}

#[test]
fn the_node_that_created_the_ring_finds_it_again_through_the_successors_it_lost() {
    cut_off_and_heal(0);
}

/// Partitions node `lone` of an 8-node ring off until it is a ring of one and forgotten,
/// heals the cut, and checks that the ring takes it back.
fn cut_off_and_heal(lone: usize) {
    let mut net = net(31);
    let ids = ring(&mut net, 8, |_| {});
    assert!(net.run_until_cond(secs(600), |n| ring_is_exact(n)));

    // A partition long enough that the lone node drops every successor and its
    // predecessor, and the others drop it: it is a ring of one, and nobody points at it.
    let lone = ids[lone];
    net.partition(&[vec![lone]]);
    net.run_for(secs(60));
    let me = node(&net, lone).me();
    assert_eq!(node(&net, lone).successor(), me, "alone after the cut");
    assert_eq!(node(&net, lone).predecessor(), None);
    assert!(ids
        .iter()
        .filter(|i| **i != lone)
        .all(|i| node(&net, *i).successor() != me && node(&net, *i).predecessor() != Some(me)));

    // Stabilize alone would leave it there for good; it looks for the ring again.
    net.heal();
    assert!(
        net.run_until_cond(secs(120), |n| ring_is_exact(n)),
        "the ring takes the lone node back"
    );
}

/// A partition into two interleaved halves, long enough that every node drops each
/// successor on the far side: each half closes into a ring of its own, and each ring is
/// consistent, so `stabilize` alone would keep two rings for good once the cut heals.
#[test]
fn two_rings_left_by_a_long_partition_merge_into_one_when_it_heals() {
    let mut net = net(33);
    let ids = ring(&mut net, 12, |_| {});
    assert!(net.run_until_cond(secs(600), |n| ring_is_exact(n)));
    let members = membership(&net);
    let half: Vec<NodeIdx> = members
        .iter()
        .step_by(2)
        .map(|m| net.idx_of(m.addr).expect("member"))
        .collect();
    net.partition(std::slice::from_ref(&half));
    net.run_for(secs(60));
    let side = |i: &NodeIdx| half.contains(i);
    for i in &ids {
        let succ = node(&net, *i).successor();
        let succ_idx = net.idx_of(succ.addr).expect("a member");
        assert_eq!(side(i), side(&succ_idx), "two rings during the cut");
    }

    net.heal();
    assert!(
        net.run_until_cond(secs(120), |n| ring_is_exact(n)),
        "one ring again after the cut heals"
    );
}

#[test]
fn a_crashed_holders_records_leave_the_hits_within_seconds_and_live_ones_stay() {
    // Entries live two hours here: only the holder checks can take them out.
    let (mut net, ids, entries) = ring_with_files(12, 2, 16);
    let dead = ids[4];
    let dead_addr = net.addr(dead);
    net.crash(dead);
    // Each node stores the records of at most 12 holders: every one is pinged within
    // ceil(12 / HOLDER_PINGS_PER_ROUND) check periods, and a silent one is dropped one RPC
    // timeout later (plus one period for the timers' random phase).
    let rounds = 12_usize.div_ceil(p2plab_chord::HOLDER_PINGS_PER_ROUND) as u32 + 1;
    net.run_for(p2plab_chord::CHECK_PREDECESSOR_EVERY * rounds + p2plab_chord::RPC_TIMEOUT);
    let from = ids[0];
    for e in &entries {
        let hits = search(&mut net, from, &e.name);
        let names = |addr: SocketAddr| {
            hits.iter()
                .any(|h| matches!(h.holder, Holder::Http { addr: a, .. } if a == addr))
        };
        assert!(
            !names(dead_addr),
            "{}: the dead holder is still a hit",
            e.name
        );
        if e.holder != dead_addr {
            assert!(names(e.holder), "{}: a live holder's record left", e.name);
        }
    }
}

#[test]
fn a_question_about_a_user_is_refused_at_once_by_a_ring() {
    let (mut net, ids, _) = ring_with_files(4, 1, 3);
    let question = p2plab_peer_protocol::Question::Whois {
        nick: "alice".into(),
    };
    net.command(
        ids[0],
        Command::Ask {
            request: RequestId(4),
            question,
        },
    );
    let events = net.take_events(ids[0]);
    let [Event::Answered {
        request: RequestId(4),
        result: Err(SearchError::Refused(why)),
    }] = events.as_slice()
    else {
        panic!("refused at once: {events:?}")
    };
    assert_eq!(
        why,
        "Chord keeps no directory of users: whois is not supported by this network"
    );
}
