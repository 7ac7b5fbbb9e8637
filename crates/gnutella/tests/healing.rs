//! Overlay healing: when 30% of the servents crash, the survivors notice their lost
//! neighbours, dial replacements from their host caches, and searches for files on live
//! servents succeed again.

mod common;

use std::time::Duration;

use common::{build, one_file, random_graph, search};
use p2plab_peer_protocol::Node;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const N: usize = 20;
const MIN_PEERS: usize = 3;

#[test]
fn survivors_reconnect_from_their_host_caches_and_find_live_files_again() {
    let adj = random_graph(N, 2, 11);
    let mut net = build(
        &adj,
        7,
        |i| one_file(&format!("track {i}.mp3")),
        |c| {
            c.min_peers = MIN_PEERS;
            c.max_peers = 8;
            c.ping_ttl = 2;
            c.ping_interval = Duration::from_secs(10);
        },
    );
    net.run_for(Duration::from_secs(30));
    for i in 0..N {
        assert!(
            net.node(i).neighbour_count() >= MIN_PEERS,
            "servent {i} before the crash"
        );
        assert!(
            net.node(i).host_cache_len() > MIN_PEERS,
            "servent {i} learned addresses"
        );
    }

    let mut victims: Vec<usize> = (0..N).collect();
    victims.shuffle(&mut ChaCha8Rng::seed_from_u64(5));
    victims.truncate(N * 3 / 10);
    let before: Vec<Vec<_>> = (0..N).map(|i| net.node(i).neighbours()).collect();
    for &v in &victims {
        net.crash(v);
    }
    net.run_for(Duration::from_secs(30));

    let live: Vec<usize> = net.alive().collect();
    assert_eq!(live.len(), N - victims.len());
    for &i in &live {
        let n = net.node(i);
        assert!(
            n.neighbour_count() >= MIN_PEERS,
            "servent {i} healed: {:?}",
            n.neighbours()
        );
        for addr in n.neighbours() {
            let j = net.idx_of(addr).expect("a servent's address");
            assert!(net.is_alive(j), "servent {i} still lists dead {j}");
        }
        assert!(n.metrics().sent.contains_key("handshake"));
    }
    // Everyone left with fewer than MIN_PEERS live neighbours must have dialled new ones.
    let mut healed = 0;
    for &i in &live {
        let now = net.node(i).neighbours();
        let kept = before[i]
            .iter()
            .filter(|a| net.idx_of(**a).is_some_and(|j| net.is_alive(j)))
            .count();
        if kept < MIN_PEERS {
            assert!(
                now.iter().any(|a| !before[i].contains(a)),
                "servent {i} found no one new"
            );
            healed += 1;
        }
    }
    assert!(
        healed > 0,
        "the crash left nobody short of neighbours: nothing was tested"
    );
    for (k, &target) in live.iter().enumerate() {
        let source = live[(k + 1) % live.len()];
        let hits = search(&mut net, source, &format!("track {target}")).expect("connected");
        assert_eq!(
            hits.len(),
            1,
            "servent {source} looking for servent {target}'s file"
        );
    }
    for &v in &victims {
        let source = live[0];
        let hits = search(&mut net, source, &format!("track {v}")).expect("connected");
        assert!(hits.is_empty(), "servent {v} is dead, and so is its file");
    }
}
