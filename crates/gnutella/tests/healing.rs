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
    use p2plab_gnutella::{
        Descriptor, Payload, DIAL_RETRY, MAX_DIAL_BACKOFF, MAX_RETRY_AFTER, USER_AGENT,
    };
    use p2plab_peer_protocol::{CloseReason, ConnId, Effect, Input, Instant, Node, WireMessage};
    use std::net::SocketAddr;
    use std::time::Duration;

    const MINUTE: Duration = Duration::from_secs(60);

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

    /// Runs the servent's timers until it dials, at most `limit` later; the dial and when.
    fn next_dial(b: &mut Bench, limit: Duration) -> Option<(Instant, ConnId, SocketAddr)> {
        let until = b.now + limit;
        for _ in 0..1_000 {
            let at = b.servent.poll_timeout().filter(|t| *t <= until)?;
            b.now = at;
            if let Some((conn, addr)) = dials(&b.input(Input::Timeout)).first() {
                return Some((at, *conn, *addr));
            }
        }
        panic!("no dial and no end: livelock?");
    }

    #[test]
    fn outgoing_connections_speak_06_in_three_steps() {
        let mut b = Bench::new(|c| {
            c.bootstrap = bootstrap()[..1].to_vec();
            c.min_peers = 1;
        });
        let conn = ConnId(1);
        let effects = b.input(Input::Connected { conn });
        let hello = format!(
            "GNUTELLA CONNECT/0.6\r\nUser-Agent: {USER_AGENT}\r\nListen-IP: 10.0.0.1:6346\r\n\
             X-Ultrapeer: False\r\n\r\n"
        );
        assert_eq!(sent_bytes(&effects, conn), hello.as_bytes());
        let server = b"GNUTELLA/0.6 200 OK\r\nUser-Agent: gtk-gnutella/1.2.2\r\n\
                       X-Ultrapeer: True\r\n\r\n";
        let bytes = sent_bytes(&b.recv(conn, server), conn);
        assert_eq!(
            &bytes[..23],
            b"GNUTELLA/0.6 200 OK\r\n\r\n",
            "the client confirms"
        );
        let ping = Descriptor::decode(&bytes[23..]).expect("a ping follows").0;
        assert!(matches!(ping.payload, Payload::Ping(_)));
        assert_eq!(b.servent.neighbours(), [bootstrap()[0]]);
    }

    #[test]
    fn a_peer_that_refuses_06_is_dialled_with_04_after_a_back_off() {
        let mut b = Bench::new(|c| {
            c.bootstrap = bootstrap()[..1].to_vec();
            c.min_peers = 1;
        });
        let first = ConnId(1);
        b.input(Input::Connected { conn: first });
        let effects = b.recv(first, b"GNUTELLA/0.6 503 Full\r\n\r\n");
        assert!(closed(&effects, first));
        assert_eq!(b.servent.host_cache_len(), 1, "kept for the 0.4 dial");
        let (at, conn, addr) = next_dial(&mut b, MINUTE).expect("a dial");
        assert_eq!((at, addr), (Instant::ZERO + DIAL_RETRY, bootstrap()[0]));
        let effects = b.input(Input::Connected { conn });
        assert_eq!(sent_bytes(&effects, conn), CONNECT_04);
        b.recv(conn, b"GNUTELLA OK\n\n");
        assert_eq!(b.servent.neighbour_count(), 1);
        // It spoke 0.4: the next dial to it speaks 0.4 again, at the usual retry rate.
        b.input(Input::Closed {
            conn,
            reason: CloseReason::PeerClosed,
        });
        let (_, conn, _) = next_dial(&mut b, DIAL_RETRY).expect("a prompt redial");
        assert_eq!(
            sent_bytes(&b.input(Input::Connected { conn }), conn),
            CONNECT_04
        );
    }

    #[test]
    fn refusals_back_off_exponentially_and_a_retry_after_is_honoured() {
        let mut b = Bench::new(|c| {
            c.bootstrap = bootstrap()[..1].to_vec();
            c.min_peers = 1;
        });
        let (mut conn, mut last) = (ConnId(1), Instant::ZERO);
        let mut gaps = Vec::new();
        let mut hellos = Vec::new();
        for _ in 0..10 {
            // Connected, then closed without a word.
            let hello = sent_bytes(&b.input(Input::Connected { conn }), conn);
            hellos.push(hello.starts_with(b"GNUTELLA CONNECT/0.6\r\n"));
            b.input(Input::Closed {
                conn,
                reason: CloseReason::PeerClosed,
            });
            let (at, next, _) = next_dial(&mut b, MAX_DIAL_BACKOFF * 2).expect("a redial");
            gaps.push(at.saturating_since(last).as_secs());
            (conn, last) = (next, at);
        }
        assert_eq!(gaps, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(
            hellos,
            [true, false, true, false, true, false, true, false, true, false]
        );
        // A refusal that asks for ten minutes gets them, though the cap is shorter.
        b.input(Input::Connected { conn });
        b.recv(conn, b"GNUTELLA/0.6 503 Busy\r\nRetry-After: 600\r\n\r\n");
        let (at, _, _) = next_dial(&mut b, MAX_RETRY_AFTER).expect("a redial");
        assert_eq!(at.saturating_since(last), Duration::from_secs(600));
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
        b.recv(ours, b"GNUTELLA/0.6 200 OK\r\n\r\n");
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
