//! Chord on real loopback sockets: 32 nodes form a ring, find files by keyword and by name,
//! download them, and still find every survivor's files after a quarter of the ring dies.

#![allow(clippy::unwrap_used)] // a test fails by panicking

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use p2plab_chord::RingView;
use p2plab_peer_protocol::{Hit, Library};
use p2plab_runtime::{launch, NodeHandle};

const N: usize = 32;

fn song(i: usize) -> (String, u64) {
    (format!("chord song {i}.mp3"), 2_000 + i as u64)
}

async fn node(i: usize, join: Option<SocketAddr>) -> NodeHandle {
    let library = Library::synthetic([song(i)], 5);
    launch::chord_node(common::any_port(), library, |c| {
        c.join = join;
        c.stabilize_every = Duration::from_millis(100);
        c.fix_fingers_every = Duration::from_millis(50);
        c.check_predecessor_every = Duration::from_millis(200);
        c.republish_every = Duration::from_secs(1);
        c.rpc_timeout = Duration::from_millis(500);
    })
    .await
    .unwrap()
}

async fn view(node: &NodeHandle) -> RingView {
    serde_json::from_value(node.stats().await.unwrap().state).unwrap()
}

/// Ids print as hex without leading zeros: longer is larger, then compare the digits.
fn id_key(id: &str) -> (usize, String) {
    (id.len(), id.to_owned())
}

/// Polls until every live node's successor is the next live node clockwise.
async fn ring_settles(nodes: &[NodeHandle], live: &[usize]) {
    for _ in 0..600 {
        let mut views = Vec::new();
        for &i in live {
            views.push(view(&nodes[i]).await);
        }
        let mut ring: Vec<_> = views
            .iter()
            .map(|v| (id_key(&v.node.id), v.node.addr))
            .collect();
        ring.sort();
        let correct = views.iter().all(|v| {
            let at = ring.iter().position(|(_, a)| *a == v.node.addr).unwrap();
            let next = ring[(at + 1) % ring.len()].1;
            v.successors.first().map(|s| s.addr) == Some(next)
        });
        if correct {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the ring did not settle");
}

/// Searches from `node` until a hit names `name`, and returns that search's hits.
/// Publication is asynchronous: each key of a name (the name, each word) reaches its
/// owner in its own time, so a search by one word can succeed before a search by another.
async fn search_until(node: &NodeHandle, query: &str, name: &str) -> Vec<Hit> {
    for _ in 0..50 {
        let hits = node.search(query).await.unwrap_or_default();
        if hits.iter().any(|h| h.name == name) {
            return hits;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{name} is never found by {query:?}");
}

/// Searches from `from` for every file of `owners`, all at once; each must be found.
async fn all_found(nodes: &[NodeHandle], from: usize, owners: &[usize]) {
    let mut set = tokio::task::JoinSet::new();
    for &i in owners {
        let node = nodes[from].clone();
        set.spawn(async move {
            search_until(&node, &format!("song {i}"), &song(i).0).await;
        });
    }
    while let Some(done) = set.join_next().await {
        done.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ring_finds_downloads_and_survives_a_quarter_dying() {
    let mut nodes: Vec<NodeHandle> = Vec::new();
    for i in 0..N {
        let join = nodes.first().map(NodeHandle::addr);
        nodes.push(node(i, join).await);
    }
    let all: Vec<usize> = (0..N).collect();
    ring_settles(&nodes, &all).await;
    all_found(&nodes, 0, &all).await;

    // By keyword: hops are counted, and the answer names the holder's HTTP address.
    let hits = search_until(&nodes[3], "chord 17", &song(17).0).await;
    assert_eq!(
        hits.iter().map(|h| h.name.as_str()).collect::<Vec<_>>(),
        ["chord song 17.mp3"]
    );
    assert!(hits[0].hops.is_some());
    assert_eq!(
        hits[0].holder.to_string(),
        format!("{} (index 0)", nodes[17].addr())
    );

    // By name, then the bytes.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("17.mp3");
    let fetched = nodes[3]
        .get("chord song 17.mp3", &out, false)
        .await
        .unwrap();
    let expected = Library::synthetic([song(17)], 5).files()[0]
        .read_all()
        .unwrap();
    assert_eq!(fetched.bytes, expected.len() as u64);
    assert_eq!(std::fs::read(&out).unwrap(), expected);

    // A quarter of the ring dies at once.
    let live = common::crash_random(&nodes, N / 4, &mut ChaCha8Rng::seed_from_u64(4));
    ring_settles(&nodes, &live).await;
    all_found(&nodes, live[live.len() / 2], &live).await;
}
