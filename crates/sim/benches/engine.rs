//! How many events per second the engine delivers, with a core that costs nothing (on a
//! small network, which fits in the processor's cache, and on a network of 100,000 nodes,
//! which does not) and with real Gnutella servents flooding a power-law overlay.
//!
//! Criterion reports throughput in events (inputs delivered to cores) per second:
//! `cargo bench -p p2plab-sim --bench engine`. The relay rings are [`p2plab_sim::relay`]'s,
//! which `p2plab sim engine` also times, without criterion.

// `criterion_group!` defines a public function it gives no doc comment.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, BatchSize, Criterion, Throughput};
use p2plab_netsim::TestNet;
use p2plab_peer_protocol::{Command, RequestId};
use p2plab_sim::gnutella_scale::build_overlay;
use p2plab_sim::graph::Graph;
use p2plab_sim::relay;

/// The allocator the `p2plab` binary runs with, so these figures are the simulator's own.
#[global_allocator]
static ALLOCATOR: p2plab_alloc::Allocator = p2plab_alloc::Allocator;

/// Nodes on the small relay ring, and on the big one.
const RINGS: [usize; 2] = [2_000, 100_000];
/// Servents in the flooded overlay.
const SERVENTS: usize = 5_000;

fn bench_relay(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    for nodes in RINGS {
        let mut net = relay::ring(nodes, 1);
        let slice = Duration::from_secs(1);
        let before = net.events();
        net.run_for(slice);
        group.throughput(Throughput::Elements(net.events() - before));
        let tokens = nodes / relay::TOKEN_EVERY;
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
