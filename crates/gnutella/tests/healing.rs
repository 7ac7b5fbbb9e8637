//! Overlay healing: when 30% of the servents crash, the survivors notice their lost
//! neighbours, dial replacements from their host caches, and searches for files on live
//! servents succeed again.

mod common;

use std::time::Duration;

use common::{build, one_file, search};
use p2plab_gnutella::topology::random_overlay as random_graph;
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

mod dialling {
    use super::common::bench::{closed, sent_bytes, Bench};
    use p2plab_gnutella::handshake::CONNECT_04;
    use p2plab_gnutella::{Descriptor, Payload, DIAL_RETRY};
    use p2plab_peer_protocol::{ConnId, Effect, Input, Instant, Node, WireMessage};
    use std::net::SocketAddr;

    fn dials(effects: &[Effect]) -> Vec<(ConnId, SocketAddr)> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Connect { conn, addr } => Some((*conn, *addr)),
                _ => None,
            })
            .collect()
    }

    fn bootstrap() -> Vec<SocketAddr> {
        ["10.0.0.2:6346", "10.0.0.3:6346"]
            .iter()
            .map(|a| a.parse().expect("addr"))
            .collect()
    }

    #[test]
    fn outgoing_connections_speak_04_and_a_refusal_forgets_the_address() {
        let mut b = Bench::new(|c| {
            c.bootstrap = bootstrap();
            c.min_peers = 2;
        });
        b.now = Instant::ZERO;
        let started = b.input(Input::Timeout);
        assert!(dials(&started).is_empty(), "the start already dialled");
        let (first, second) = (ConnId(1), ConnId(2));
        let effects = b.input(Input::Connected { conn: first });
        assert_eq!(sent_bytes(&effects, first), CONNECT_04);
        let effects = b.recv(first, b"GNUTELLA OK\n\n");
        let ping = Descriptor::decode(&sent_bytes(&effects, first))
            .expect("ping")
            .0;
        assert!(matches!(ping.payload, Payload::Ping(_)));
        assert_eq!(b.servent.neighbours(), [bootstrap()[0]]);

        b.input(Input::Connected { conn: second });
        let effects = b.recv(second, b"GNUTELLA/0.6 503 Full\r\n\r\n");
        assert!(closed(&effects, second));
        assert_eq!(
            b.servent.host_cache_len(),
            1,
            "the refusing servent is forgotten"
        );
    }

    #[test]
    fn a_dead_bootstrap_is_retried_at_a_bounded_rate() {
        let mut b = Bench::new(|c| {
            c.bootstrap = bootstrap()[..1].to_vec();
            c.min_peers = 1;
        });
        let mut attempts = 1;
        let mut conn = ConnId(1);
        for _ in 0..5 {
            let effects = b.input(Input::Closed {
                conn,
                reason: p2plab_peer_protocol::CloseReason::Refused,
            });
            assert!(
                dials(&effects).is_empty(),
                "no redial before the retry timer"
            );
            let retry = b.servent.poll_timeout().expect("a retry is armed");
            assert!(retry.saturating_since(b.now) <= DIAL_RETRY);
            b.now = retry;
            let effects = b.input(Input::Timeout);
            let redials = dials(&effects);
            assert_eq!(redials.len(), 1);
            attempts += 1;
            conn = redials[0].0;
        }
        assert_eq!(attempts, 6);
        assert_eq!(b.now, Instant::ZERO + DIAL_RETRY * 5);
    }
}

mod duplicate_links {
    use super::common::bench::{closed, Bench};
    use p2plab_gnutella::{Descriptor, Guid, Payload, Pong};
    use p2plab_peer_protocol::{ConnId, Input, WireMessage};
    use std::net::{Ipv4Addr, SocketAddr};

    /// The servent (10.0.0.1 unless `me` says otherwise) dials `peer` and `peer` dials it.
    /// Returns which of the two links it closed, if any.
    fn crossed_dials(me: &str, peer: [u8; 4]) -> (bool, bool) {
        let peer_addr = SocketAddr::from((peer, 6346));
        let mut b = Bench::new(|c| {
            c.advertise = me.parse().expect("addr");
            c.bootstrap = vec![peer_addr];
        });
        let ours = ConnId(1);
        b.input(Input::Connected { conn: ours });
        b.recv(ours, b"GNUTELLA OK\n\n");
        let theirs = b.neighbour();
        let pong = Pong {
            port: 6346,
            ip: Ipv4Addr::from(peer),
            files: 0,
            kbytes: 0,
            extra: Vec::new(),
        };
        let own_pong = Descriptor::new(Guid([3; 16]), 1, Payload::Pong(pong)).to_bytes();
        let effects = b.recv(theirs, &own_pong);
        assert_eq!(b.servent.neighbours(), [peer_addr]);
        (closed(&effects, ours), closed(&effects, theirs))
    }

    #[test]
    fn both_ends_keep_the_link_the_smaller_address_dialled() {
        assert_eq!(crossed_dials("10.0.0.1:6346", [10, 0, 0, 5]), (false, true));
        assert_eq!(crossed_dials("10.0.0.9:6346", [10, 0, 0, 5]), (true, false));
    }
}
