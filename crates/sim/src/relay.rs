//! The engine's own speed: a ring of nodes whose core costs nothing.
//!
//! A [`Relay`] passes every token it receives to the next node of a ring, and does nothing
//! else: one input, one send. Every event the engine delivers on such a ring is the
//! engine's work alone — taking the next delivery off the agenda, finding the addressee and
//! its connection, handing the bytes over, draining the outbox, scheduling the send with a
//! latency draw, adding it to the trace digest. [`measure`] times a slice of virtual time on
//! a ring that is already running, so what it reports is events per second of wall time in
//! the steady state. `p2plab sim engine` prints it; the engine benchmark
//! (`cargo bench -p p2plab-sim --bench engine`) measures the same rings with criterion.

use std::net::SocketAddr;
use std::time::Duration;

use p2plab_netsim::{Latency, TestNet};
use p2plab_peer_protocol::{ConnId, Input, Instant, Metrics, Node, Outbox};

/// A ring carries one token per this many nodes.
pub const TOKEN_EVERY: usize = 10;

/// A node of a relay ring. It dials its successor on its first timeout, once every node of
/// the ring is listening, and from then on forwards whatever arrives.
pub struct Relay {
    next: SocketAddr,
    holds_token: bool,
    out_conn: Option<ConnId>,
    metrics: Metrics,
}

impl Node for Relay {
    fn handle(&mut self, _now: Instant, input: Input<'_>, out: &mut Outbox) {
        match input {
            Input::Timeout if self.out_conn.is_none() => {
                self.out_conn = Some(out.connect(self.next));
            }
            Input::Connected { conn } if self.holds_token => out.send(conn, vec![0; 8]),
            Input::Received { bytes, .. } => {
                if let Some(conn) = self.out_conn {
                    out.send(conn, bytes.to_vec());
                }
            }
            _ => {}
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.out_conn.is_none().then_some(Instant::ZERO)
    }

    fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}

/// A ring of `nodes` relays with a token on every [`TOKEN_EVERY`]th, links of 1 to 20 ms,
/// run for one virtual second so that every link is up and the tokens are moving.
pub fn ring(nodes: usize, seed: u64) -> TestNet<Relay> {
    let latency = Latency::Uniform(Duration::from_millis(1), Duration::from_millis(20));
    let mut net = TestNet::new(latency, seed);
    net.reserve(nodes);
    for i in 0..nodes {
        net.add(Relay {
            next: TestNet::<Relay>::addr_for((i + 1) % nodes),
            holds_token: i % TOKEN_EVERY == 0,
            out_conn: None,
            metrics: Metrics::default(),
        });
    }
    net.run_for(Duration::from_secs(1));
    net
}

/// What one slice of a running ring took.
#[derive(Debug, Clone, Copy)]
pub struct Speed {
    /// Events the engine delivered.
    pub events: u64,
    /// Wall time they took.
    pub wall: Duration,
}

impl Speed {
    /// Events per second of wall time.
    pub fn events_per_second(&self) -> f64 {
        self.events as f64 / self.wall.as_secs_f64().max(f64::MIN_POSITIVE)
    }
}

/// Runs `net` for `slice` of virtual time and times it.
pub fn measure<N: Node>(net: &mut TestNet<N>, slice: Duration) -> Speed {
    let before = net.events();
    let started = std::time::Instant::now();
    net.run_for(slice);
    Speed {
        events: net.events() - before,
        wall: started.elapsed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_token_moves_one_hop_per_delivery() {
        let mut net = ring(100, 1);
        let speed = measure(&mut net, Duration::from_secs(1));
        // Ten tokens, each hop 1 to 20 ms (10.5 ms on average): about 950 deliveries in a
        // second of virtual time, and nothing else happens on a settled ring.
        assert!(
            (800..1_100).contains(&speed.events),
            "{} events",
            speed.events
        );
        let again = measure(&mut ring(100, 1), Duration::from_secs(1));
        assert_eq!(again.events, speed.events, "the same seed, the same run");
    }
}
