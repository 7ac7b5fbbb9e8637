//! What a Gnutella search costs, measured on the in-memory network.
//!
//! For N = 20, 100 and 500 servents on a random overlay of mean degree ~4 and Query TTLs of
//! 3, 5 and 7, it runs searches from random servents for a file one random servent holds and
//! prints, per search: the Query and QueryHit messages sent network-wide, the duplicate copies
//! dropped, the fraction of the other servents that handled the Query, the fraction within TTL
//! hops in the graph (the most a flood could reach), and how often the file was found (a
//! search by the holder itself counts as found: it has the file).
//!
//! Latency is uniform between 5 and 50 ms, so a Query may first reach a servent along a longer
//! path, with less TTL left, than the shortest one; a flood then reaches a little less than
//! the BFS ball of radius TTL.
//!
//! Run with `cargo run --release -p p2plab-gnutella --example flood_cost`.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use p2plab_gnutella::topology::random_overlay;
use p2plab_gnutella::{Servent, ServentConfig};
use p2plab_netsim::{Latency, TestNet};
use p2plab_peer_protocol::{Command, Event, Library, Node, RequestId};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SIZES: [usize; 3] = [20, 100, 500];
const TTLS: [u8; 3] = [3, 5, 7];
/// Each servent links to this many earlier ones: mean degree about twice that.
const LINKS: usize = 2;
const SEARCHES: usize = 20;
const WINDOW: Duration = Duration::from_secs(3);

fn within(adj: &[BTreeSet<usize>], src: usize, ttl: usize) -> usize {
    let mut dist = vec![usize::MAX; adj.len()];
    dist[src] = 0;
    let mut queue = VecDeque::from([src]);
    while let Some(u) = queue.pop_front() {
        for &v in &adj[u] {
            if dist[v] == usize::MAX {
                dist[v] = dist[u] + 1;
                queue.push_back(v);
            }
        }
    }
    dist.iter().filter(|&&d| d > 0 && d <= ttl).count()
}

fn build(adj: &[BTreeSet<usize>], ttl: u8) -> TestNet<Servent> {
    let mut net = TestNet::new(
        Latency::Uniform(Duration::from_millis(5), Duration::from_millis(50)),
        1,
    );
    for (i, nbrs) in adj.iter().enumerate() {
        let addr = TestNet::<Servent>::addr_for(i);
        let library = Library::synthetic([(format!("song {i}.mp3"), 3_000_000)], 1);
        let mut c = ServentConfig::new(addr, Arc::new(library));
        c.bootstrap = nbrs
            .iter()
            .filter(|&&j| j < i)
            .map(|&j| TestNet::<Servent>::addr_for(j))
            .collect();
        c.ttl = ttl;
        c.ping_ttl = 1;
        c.min_peers = 0;
        c.max_peers = 64;
        c.ping_interval = Duration::from_secs(3_600);
        c.search_window = WINDOW;
        c.seed = i as u64;
        net.add(Servent::new(c));
    }
    net.run_for(Duration::from_secs(2));
    net
}

/// Sums a counter over all servents.
fn total(net: &TestNet<Servent>, f: impl Fn(&Servent) -> u64) -> u64 {
    (0..net.len()).map(|i| f(net.node(i))).sum()
}

fn sent(s: &Servent, kind: &str) -> u64 {
    s.metrics().sent.get(kind).map_or(0, |t| t.messages)
}

fn duplicates(s: &Servent) -> u64 {
    s.metrics().dropped.get("duplicate").copied().unwrap_or(0)
}

struct Row {
    queries: f64,
    hits: f64,
    dups: f64,
    reached: f64,
    ball: f64,
    found: f64,
}

fn measure(n: usize, ttl: u8, rng: &mut ChaCha8Rng) -> Row {
    let adj = random_overlay(n, LINKS, rng.next_u64());
    let mut net = build(&adj, ttl);
    let before = [
        total(&net, |s| sent(s, "query")),
        total(&net, |s| sent(s, "query_hit")),
        total(&net, duplicates),
        total(&net, Servent::queries_handled),
    ];
    let (mut ball, mut found) = (0, 0);
    for k in 0..SEARCHES {
        let (src, target) = (rng.random_range(0..n), rng.random_range(0..n));
        ball += within(&adj, src, usize::from(ttl));
        let request = RequestId(k as u64);
        let query = format!("song {target}");
        net.command(src, Command::Search { request, query });
        net.run_for(WINDOW + Duration::from_millis(1));
        let hits = net.take_events(src).into_iter().find_map(|e| match e {
            Event::SearchDone {
                result: Ok(hits), ..
            } => Some(hits.len()),
            _ => None,
        });
        found += usize::from(hits.unwrap_or(0) > 0 || src == target);
    }
    let per = |now: u64, then: u64| (now - then) as f64 / SEARCHES as f64;
    let others = ((n - 1) * SEARCHES) as f64;
    Row {
        queries: per(total(&net, |s| sent(s, "query")), before[0]),
        hits: per(total(&net, |s| sent(s, "query_hit")), before[1]),
        dups: per(total(&net, duplicates), before[2]),
        reached: (total(&net, Servent::queries_handled) - before[3]) as f64 / others,
        ball: ball as f64 / others,
        found: found as f64 / SEARCHES as f64,
    }
}

fn main() {
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    println!("|   N | TTL | query msgs | query_hit msgs | msgs/query | dup drops | reached | within TTL | found |");
    println!("|----:|----:|-----------:|---------------:|-----------:|----------:|--------:|-----------:|------:|");
    for n in SIZES {
        for ttl in TTLS {
            let r = measure(n, ttl, &mut rng);
            println!(
                "| {n:>3} | {ttl:>3} | {:>10.1} | {:>14.1} | {:>10.1} | {:>9.1} | {:>6.1}% | {:>9.1}% | {:>4.0}% |",
                r.queries,
                r.hits,
                r.queries + r.hits,
                r.dups,
                100.0 * r.reached,
                100.0 * r.ball,
                100.0 * r.found,
            );
        }
    }
}
