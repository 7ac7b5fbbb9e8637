//! Helpers shared by the TestNet tests: random overlays built through bootstrap lists, BFS
//! distances to compare floods against, and a blocking-free way to run a search.

#![allow(dead_code)]

pub mod bench;

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use p2plab_gnutella::servent::MAX_LIFETIME_HOPS;
use p2plab_gnutella::{Role, Servent, ServentConfig};
use p2plab_netsim::{Latency, NodeIdx, TestNet};
use p2plab_peer_protocol::{Command, Event, Hit, Library, Node, RequestId};

/// Every message takes exactly this long, so a flood advances one hop per tick and the first
/// copy of a Query to reach a servent is one that came along a shortest path.
pub const LINK: Duration = Duration::from_millis(10);

/// Hop distances from `src` (None: unreachable).
pub fn bfs(adj: &[BTreeSet<usize>], src: usize) -> Vec<Option<usize>> {
    let mut dist = vec![None; adj.len()];
    dist[src] = Some(0);
    let mut queue = VecDeque::from([src]);
    while let Some(u) = queue.pop_front() {
        let du = dist[u].unwrap_or(0);
        for &v in &adj[u] {
            if dist[v].is_none() {
                dist[v] = Some(du + 1);
                queue.push_back(v);
            }
        }
    }
    dist
}

/// The configuration every test servent starts from: quiet (no periodic pings, no extra
/// dialling), so the overlay stays exactly as built.
pub fn quiet_config(i: usize, ttl: u8, library: Library) -> ServentConfig {
    let mut c = ServentConfig::new(TestNet::<Servent>::addr_for(i), Arc::new(library));
    c.ttl = ttl;
    c.ping_ttl = 1;
    c.min_peers = 0;
    c.max_peers = 64;
    c.ping_interval = Duration::from_secs(3_600);
    c.search_window = Duration::from_secs(2);
    c.seed = i as u64;
    c
}

/// Builds the overlay `adj` on a TestNet: servent `i` bootstraps to its earlier neighbours.
/// Each gets the library `files(i)` and Queries with `ttl`; handshakes settle before return.
pub fn build(
    adj: &[BTreeSet<usize>],
    ttl: u8,
    files: impl Fn(usize) -> Library,
    tweak: impl Fn(&mut ServentConfig),
) -> TestNet<Servent> {
    let mut net = TestNet::new(Latency::Constant(LINK), 7);
    for (i, nbrs) in adj.iter().enumerate() {
        let mut config = quiet_config(i, ttl, files(i));
        config.bootstrap = nbrs
            .iter()
            .filter(|&&j| j < i)
            .map(|&j| TestNet::<Servent>::addr_for(j))
            .collect();
        tweak(&mut config);
        net.add(config_servent(config));
    }
    net.run_for(Duration::from_secs(1));
    net
}

fn config_servent(config: ServentConfig) -> Servent {
    Servent::new(config)
}

/// A library holding just `name`.
pub fn one_file(name: &str) -> Library {
    Library::synthetic([(name.to_owned(), 1_000)], 1)
}

/// Runs a search from `idx` until it reports, and returns what it reported: a flooding
/// servent or a leaf reports at the end of its window, an ultrapeer when its dynamic query
/// stops, within the query's lifetime.
pub fn search(net: &mut TestNet<Servent>, idx: NodeIdx, query: &str) -> Result<Vec<Hit>, String> {
    let request = RequestId(idx as u64);
    net.command(
        idx,
        Command::Search {
            request,
            query: query.to_owned(),
        },
    );
    let config = net.node(idx).config();
    let window = match config.role {
        Role::Ultrapeer => config.hop_wait * MAX_LIFETIME_HOPS,
        Role::Flooding | Role::Leaf => config.search_window,
    };
    search_outcome(net, idx, request, window)
        .ok_or_else(|| "no SearchDone".to_owned())?
        .map_err(|e| e.to_string())
}

/// Runs `net` until search `request` of `idx` reports, at most past a search `window`, and
/// returns what it reported (`None` if it reported nothing).
pub fn search_outcome<N: Node>(
    net: &mut TestNet<N>,
    idx: NodeIdx,
    request: RequestId,
    window: Duration,
) -> Option<Result<Vec<Hit>, p2plab_peer_protocol::SearchError>> {
    let mut outcome = None;
    net.run_until_cond(window + Duration::from_millis(1), |net| {
        outcome = outcome.take().or_else(|| {
            net.take_events(idx).into_iter().find_map(|e| match e {
                Event::SearchDone { request: r, result } if r == request => Some(result),
                _ => None,
            })
        });
        outcome.is_some()
    });
    outcome
}

/// Messages of `kind` sent by all servents so far.
pub fn sent(net: &TestNet<Servent>, kind: &str) -> u64 {
    (0..net.len())
        .map(|i| {
            net.node(i)
                .metrics()
                .sent
                .get(kind)
                .map_or(0, |t| t.messages)
        })
        .sum()
}

/// Messages dropped for `reason` by all servents so far.
pub fn dropped(net: &TestNet<Servent>, reason: &str) -> u64 {
    (0..net.len())
        .map(|i| {
            net.node(i)
                .metrics()
                .dropped
                .get(reason)
                .copied()
                .unwrap_or(0)
        })
        .sum()
}
