//! When is a network ready to be asked? Each answers differently, and the runner waits for
//! the real condition (read from the nodes' `stats`), never for a guessed delay:
//!
//! - **Napster**: the index server lists every live peer as a user and every shared copy
//!   as a file (peers log in and send their 100s asynchronously).
//! - **Gnutella**: every live servent has at least one neighbour.
//! - **Chord**: the ring is exact: sorted by id, every live node's first successor is the
//!   next live node, and the nodes together store at least `replicas` copies of every key
//!   the live peers' files are filed under (entries are published after a join completes).

use std::time::{Duration, Instant};

use p2plab_chord::RingView;
use p2plab_peer_protocol::keywords::{normalize_name, words};

use crate::cluster::Cluster;
use crate::plan::Plan;
use crate::spec::Network;
use crate::stats::gather;

/// How often readiness is checked.
const POLL: Duration = Duration::from_millis(100);

/// Waits until `cluster` is ready, at most `limit`. True if it became ready.
pub async fn wait_ready(cluster: &Cluster, limit: Duration) -> bool {
    let start = Instant::now();
    loop {
        if is_ready(cluster).await {
            return true;
        }
        if start.elapsed() >= limit {
            tracing::warn!(network = %cluster.network, "not ready after {limit:?}; going on");
            return false;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Checks the network's own readiness condition once.
pub async fn is_ready(cluster: &Cluster) -> bool {
    match cluster.network {
        Network::Napster => napster_ready(cluster).await,
        Network::Gnutella => gnutella_ready(cluster).await,
        Network::Chord => chord_ready(cluster).await,
    }
}

async fn napster_ready(cluster: &Cluster) -> bool {
    let Some(server) = &cluster.server else {
        return true;
    };
    let Ok(stats) = server.stats().await else {
        return true;
    };
    let field = |k: &str| stats.state.get(k).and_then(serde_json::Value::as_u64);
    match (field("users"), field("files")) {
        (Some(users), Some(files)) => index_is_full(cluster.plan(), &cluster.live(), users, files),
        _ => false,
    }
}

/// Napster's condition: the index server lists every live peer as a user and every copy
/// they share as a file.
pub fn index_is_full(plan: &Plan, live: &[usize], users: u64, files: u64) -> bool {
    let copies: usize = live.iter().map(|&i| plan.libraries[i].len()).sum();
    users == live.len() as u64 && files == copies as u64
}

async fn gnutella_ready(cluster: &Cluster) -> bool {
    let stats = gather(cluster.peers.iter().flatten()).await;
    stats.iter().all(|s| {
        s.state
            .get("neighbours")
            .and_then(serde_json::Value::as_array)
            .is_some_and(|n| !n.is_empty())
    })
}

async fn chord_ready(cluster: &Cluster) -> bool {
    let stats = gather(cluster.peers.iter().flatten()).await;
    let views: Vec<RingView> = stats
        .into_iter()
        .filter_map(|s| serde_json::from_value(s.state).ok())
        .collect();
    ring_is_complete(&views, cluster.plan(), &cluster.live(), cluster.replicas())
}

/// Chord's condition, on the live nodes' views: the ring is exact and the nodes together
/// store at least `replicas` copies of every key the live peers' files are filed under.
pub fn ring_is_complete(views: &[RingView], plan: &Plan, live: &[usize], replicas: usize) -> bool {
    let stored: usize = views.iter().map(|v| v.stored_keys).sum();
    let wanted = published_keys(plan, live) * replicas.min(views.len());
    ring_is_exact(views, live.len()) && stored >= wanted
}

/// The distinct keys the live peers' files are filed under: each file's name and each word
/// of it (see `p2plab_chord`'s index).
fn published_keys(plan: &Plan, live: &[usize]) -> usize {
    let mut keys = std::collections::HashSet::new();
    for &i in live {
        for &f in &plan.libraries[i] {
            let name = &plan.files[f].name;
            keys.insert(normalize_name(name));
            keys.extend(words(name));
        }
    }
    keys.len()
}

/// True when every node's first successor is the next node by id, and all `expected`
/// nodes answered.
pub fn ring_is_exact(views: &[RingView], expected: usize) -> bool {
    if views.len() != expected || views.is_empty() {
        return false;
    }
    let mut order: Vec<(&str, std::net::SocketAddr)> = views
        .iter()
        .map(|v| (v.node.id.as_str(), v.node.addr))
        .collect();
    // Ids of one ring have the same width, so text order is numeric order for hex; decimal
    // ids (small teaching rings) are compared by length first.
    order.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then(a.0.cmp(b.0)));
    let next: std::collections::HashMap<_, _> = order
        .iter()
        .zip(order.iter().cycle().skip(1))
        .map(|(a, b)| (a.1, b.1))
        .collect();
    views
        .iter()
        .all(|v| v.successors.first().map(|s| s.addr) == next.get(&v.node.addr).copied())
}
