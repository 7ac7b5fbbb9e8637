//! How many events per second the engine delivers, with a core that costs nothing (on a
//! small network, which fits in the processor's cache, and on a network of 100,000 nodes,
//! which does not) and with real Gnutella servents flooding a power-law overlay.
//!
//! Criterion reports throughput in events (inputs delivered to cores) per second:
//! `cargo bench -p p2plab-sim --bench engine`.

// `criterion_group!` defines a public function it gives no doc comment.
#![allow(missing_docs)]

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Duration;

use criterion::{criterion_group, BatchSize, Criterion, Throughput};
use p2plab_peer_protocol::testnet::{Latency, TestNet};
use p2plab_peer_protocol::{Command, ConnId, Input, Instant, Metrics, Node, Outbox, RequestId};
use p2plab_sim::gnutella_scale::build_overlay;
use p2plab_sim::graph::Graph;

/// The allocator the `p2plab` binary runs with, so these figures are the simulator's own.
#[global_allocator]
static ALLOCATOR: p2plab_alloc::Allocator = p2plab_alloc::Allocator;

/// Nodes on the small relay ring, and on the big one.
const RINGS: [usize; 2] = [2_000, 100_000];
/// Tokens circulating on a ring: one per this many nodes.
const TOKEN_EVERY: usize = 10;
/// Servents in the flooded overlay.
const SERVENTS: usize = 5_000;

/// A node on a ring that passes every token it receives to the next node: one input, one
/// send, nothing else — the engine's own cost. It dials its successor on its first timeout,
/// once every node of the ring is listening.
struct Relay {
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

fn relay_ring(nodes: usize) -> TestNet<Relay> {
    let latency = Latency::Uniform(Duration::from_millis(1), Duration::from_millis(20));
    let mut net = TestNet::new(latency, 1);
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

fn bench_relay(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    for nodes in RINGS {
        let mut net = relay_ring(nodes);
        let slice = Duration::from_secs(1);
        let before = net.events();
        net.run_for(slice);
        group.throughput(Throughput::Elements(net.events() - before));
        let tokens = nodes / TOKEN_EVERY;
        let name = format!("relay ring, {nodes} nodes, {tokens} tokens, 1 s virtual");
        group.bench_function(name, |b| b.iter(|| net.run_for(black_box(slice))));
    }
    group.finish();
}

fn bench_flood(c: &mut Criterion) {
    let graph = Graph::barabasi_albert(SERVENTS, 2, 1);
    let search = |net: &mut TestNet<_>, k: u64| {
        let query = format!("track {:06}.mp3", k % SERVENTS as u64);
        let request = RequestId(k);
        net.command(
            (k as usize * 7_919) % SERVENTS,
            Command::Search { request, query },
        );
        net.run_for(Duration::from_millis(1_001));
    };
    let mut probe = build_overlay(&graph, 7, 1);
    let before = probe.events();
    search(&mut probe, 0);
    let mut group = c.benchmark_group("engine");
    group.sample_size(20);
    group.throughput(Throughput::Elements(probe.events() - before));
    group.bench_function("gnutella flood, BA 5000 servents, TTL 7", |b| {
        b.iter_batched_ref(
            || build_overlay(&graph, 7, 1),
            |net| search(net, 0),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench_relay, bench_flood);

/// `criterion_main!`, after setting the allocator up as `p2plab` does.
fn main() {
    p2plab_alloc::keep_freed_memory();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
