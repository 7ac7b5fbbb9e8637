//! The engine's behaviour, on a toy core that echoes bytes back.

use std::net::SocketAddr;
use std::time::Duration;

use p2plab_peer_protocol::Metrics;

use super::*;

/// Echoes every byte back; node 1 dials node 0 at start and sends "hi".
#[derive(Default)]
struct Echo {
    dial: Option<SocketAddr>,
    got: Vec<u8>,
    closed: u32,
    wake: Option<Instant>,
    woke_at: Vec<Instant>,
    metrics: Metrics,
}

impl Node for Echo {
    fn handle(&mut self, now: Instant, input: Input<'_>, out: &mut Outbox) {
        match input {
            Input::Start => {
                if let Some(addr) = self.dial {
                    out.connect(addr);
                }
            }
            Input::Connected { conn } => out.send(conn, b"hi".to_vec()),
            Input::Received { conn, bytes } => {
                self.got.extend_from_slice(bytes);
                if self.dial.is_none() {
                    out.send(conn, bytes.to_vec());
                }
            }
            Input::Closed { .. } => self.closed += 1,
            Input::Timeout if self.wake.is_some_and(|w| now >= w) => {
                self.wake = None;
                self.woke_at.push(now);
            }
            _ => {}
        }
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.wake
    }
    fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn bytes_round_trip_with_latency_and_in_order() {
    let mut net = TestNet::new(Latency::Uniform(ms(1), ms(9)), 3);
    let server = net.add(Echo::default());
    let client = net.add(Echo {
        dial: Some(net.addr(server)),
        ..Echo::default()
    });
    net.run_for(ms(100));
    assert_eq!(net.node(server).got, b"hi");
    assert_eq!(net.node(client).got, b"hi");
}

#[test]
fn bytes_sent_before_a_close_still_arrive() {
    let mut net = TestNet::new(Latency::Uniform(ms(1), ms(9)), 5);
    let server = net.add(Echo::default());
    let client = net.add(Echo {
        dial: Some(net.addr(server)),
        ..Echo::default()
    });
    net.run_for(ms(30));
    // A last "!" and the close leave together; the server must still see the "!".
    let conn = ConnId(1);
    let bytes = b"!".to_vec();
    net.apply(client, Effect::Send { conn, bytes });
    net.apply(client, Effect::Close { conn });
    net.run_for(ms(100));
    assert_eq!(net.node(server).got, b"hi!");
    assert_eq!(net.node(server).closed, 1);
}

#[test]
fn a_recording_lists_each_delivery_with_its_ends() {
    let mut net = TestNet::new(Latency::Constant(ms(2)), 0);
    let server = net.add(Echo::default());
    net.record();
    let client = net.add(Echo {
        dial: Some(net.addr(server)),
        ..Echo::default()
    });
    net.run_for(ms(100));
    let trace = net.take_trace();
    let ends: Vec<_> = trace
        .iter()
        .map(|t| (t.from, t.to, t.bytes.as_slice()))
        .collect();
    assert_eq!(
        ends,
        [(client, server, &b"hi"[..]), (server, client, &b"hi"[..])]
    );
    assert_eq!(trace[0].delivered.saturating_since(trace[0].sent), ms(2));
    assert!(net.take_trace().is_empty());
}

#[test]
fn timers_fire_at_their_deadline_and_clock_jumps() {
    let mut net = TestNet::new(Latency::Constant(ms(1)), 0);
    let a = net.add(Echo {
        wake: Some(Instant::ZERO + ms(5_000)),
        ..Echo::default()
    });
    net.run_for(ms(10_000));
    assert_eq!(net.node(a).woke_at, [Instant::ZERO + ms(5_000)]);
    assert_eq!(net.now(), Instant::ZERO + ms(10_000));
}

#[test]
fn a_crash_closes_the_peers_connections_and_refuses_dials() {
    let mut net = TestNet::new(Latency::Constant(ms(1)), 0);
    let server = net.add(Echo::default());
    let client = net.add(Echo {
        dial: Some(net.addr(server)),
        ..Echo::default()
    });
    net.run_for(ms(10));
    net.crash(server);
    net.run_for(ms(10));
    assert_eq!(net.node(client).closed, 1);
    let late = net.add(Echo {
        dial: Some(net.addr(server)),
        ..Echo::default()
    });
    net.run_for(ms(10));
    assert_eq!(net.node(late).closed, 1, "a dial to a dead node fails");
    assert_eq!(net.alive().collect::<Vec<_>>(), [client, late]);
}

/// Adds a client that dials `server` at start and sends "hi" once connected.
fn client(net: &mut TestNet<Echo>, server: NodeIdx) -> NodeIdx {
    let dial = Some(net.addr(server));
    net.add(Echo {
        dial,
        ..Echo::default()
    })
}

/// Lets a client write `bytes` now, as its core would.
fn write(net: &mut TestNet<Echo>, idx: NodeIdx, conn: ConnId, bytes: &[u8]) {
    let bytes = bytes.to_vec();
    net.apply(idx, Effect::Send { conn, bytes });
}

/// Ten clients chatting with one server under random latency; returns (digest, events).
fn chatter(seed: u64) -> (u64, u64) {
    let mut net = TestNet::new(Latency::Uniform(ms(1), ms(20)), seed);
    let server = net.add(Echo::default());
    for _ in 0..10 {
        client(&mut net, server);
    }
    net.run_for(ms(200));
    (net.digest(), net.events())
}

#[test]
fn the_same_seed_gives_the_same_digest_and_another_seed_does_not() {
    let (digest, events) = chatter(1);
    assert_eq!(chatter(1), (digest, events));
    assert_ne!(chatter(2).0, digest);
    // 11 starts, 10 accepts, 10 connects, 10 "hi" in and 10 echoes back.
    assert_eq!(events, 51);
}

#[test]
fn log_normal_latency_keeps_each_connection_in_order() {
    let latency = Latency::LogNormal {
        median: ms(30),
        sigma: 1.0,
    };
    let mut net = TestNet::new(latency, 4);
    let server = net.add(Echo::default());
    let client = client(&mut net, server);
    net.run_for(ms(5_000));
    let burst: Vec<u8> = (0..200).collect();
    for b in &burst {
        write(&mut net, client, ConnId(1), &[*b]);
    }
    net.run_for(ms(60_000));
    assert_eq!(&net.node(server).got[2..], &burst[..]);
}

#[test]
fn a_lost_message_breaks_its_link_on_both_ends() {
    let mut net = TestNet::new(Latency::Constant(ms(1)), 0);
    let server = net.add(Echo::default());
    let client = client(&mut net, server);
    net.run_for(ms(10));
    net.set_loss(1.0);
    write(&mut net, client, ConnId(1), b"lost");
    write(&mut net, client, ConnId(1), b"after");
    net.run_for(ms(10));
    assert_eq!(
        net.node(server).got,
        b"hi",
        "neither the lost bytes nor later ones"
    );
    assert_eq!((net.node(client).closed, net.node(server).closed), (1, 1));
}

#[test]
fn a_partition_breaks_links_and_refuses_dials_until_healed() {
    let mut net = TestNet::new(Latency::Constant(ms(1)), 0);
    let server = net.add(Echo::default());
    let inside = client(&mut net, server);
    net.run_for(ms(10));
    net.partition(&[vec![server]]);
    net.run_for(ms(10));
    assert_eq!((net.node(inside).closed, net.node(server).closed), (1, 1));
    let refused = client(&mut net, server);
    net.run_for(ms(10));
    assert_eq!(net.node(refused).closed, 1, "a dial across the cut fails");
    net.heal();
    let after = client(&mut net, server);
    net.run_for(ms(10));
    assert_eq!(net.node(after).got, b"hi", "healed: dials go through");
}

#[test]
fn a_recovered_node_is_dialled_again_and_hears_nothing_meant_for_its_old_self() {
    let mut net = TestNet::new(Latency::Constant(ms(5)), 0);
    let server = net.add(Echo::default());
    let old = client(&mut net, server);
    net.run_for(ms(30));
    write(&mut net, old, ConnId(1), b"in flight");
    net.recover(server, Echo::default());
    assert!(net.is_alive(server));
    let fresh = client(&mut net, server);
    net.run_for(ms(50));
    assert_eq!(
        net.node(old).closed,
        1,
        "the old connection died with the crash"
    );
    assert_eq!(net.node(fresh).got, b"hi");
    assert_eq!(
        net.node(server).got,
        b"hi",
        "only the new client's greeting"
    );
}
