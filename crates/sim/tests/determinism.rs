//! The engine is deterministic: one seed, one trace, event for event; another seed, another
//! trace. Checked on a Gnutella overlay under log-normal latency, loss and a crash, where
//! every random draw the engine and the cores make shows up in the digest.

use std::sync::Arc;
use std::time::Duration;

use p2plab_gnutella::{Servent, ServentConfig};
use p2plab_netsim::{Latency, TestNet};
use p2plab_peer_protocol::{Command, Library, RequestId};
use p2plab_sim::graph::Graph;

/// Builds a 150-servent power-law overlay, searches, loses messages, crashes a hub, and
/// returns the run's (digest, events).
fn run(seed: u64) -> (u64, u64) {
    let graph = Graph::barabasi_albert(150, 2, seed);
    let latency = Latency::LogNormal {
        median: Duration::from_millis(30),
        sigma: 0.7,
    };
    let mut net = TestNet::new(latency, seed);
    for i in 0..graph.len() {
        let library = Library::synthetic([(format!("file {i}"), 1_000)], 1);
        let mut c = ServentConfig::new(TestNet::<Servent>::addr_for(i), Arc::new(library));
        c.bootstrap = graph
            .neighbours(i)
            .iter()
            .filter(|&&j| j < i)
            .map(|&j| TestNet::<Servent>::addr_for(j))
            .collect();
        c.max_peers = graph.max_degree() + 1;
        // Pings two hops out: enough periodic traffic to exercise timers, not a storm.
        c.ping_ttl = 2;
        c.seed = seed ^ i as u64;
        net.add(Servent::new(c));
    }
    net.run_for(Duration::from_secs(5));
    for k in 0..10 {
        let query = format!("file {}", (k * 37) % 150);
        net.command(
            k * 13,
            Command::Search {
                request: RequestId(k as u64),
                query,
            },
        );
    }
    net.set_loss(0.001);
    net.run_for(Duration::from_secs(10));
    net.crash(0);
    net.run_for(Duration::from_secs(40));
    (net.digest(), net.events())
}

#[test]
fn one_seed_gives_one_trace_and_another_seed_another() {
    let first = run(7);
    assert!(first.1 > 5_000, "a real run: {} events", first.1);
    assert_eq!(run(7), first, "same seed, same trace");
    assert_ne!(run(8).0, first.0, "another seed, another trace");
}
