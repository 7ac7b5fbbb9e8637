//! Gnutella at scale: how far a flood reaches, and what it costs, against TTL, on overlays of
//! 10,000 and 100,000 unchanged servents.
//!
//! For one overlay [`Graph`] and each TTL from 1 up, [`run`] builds the overlay out of real
//! [`Servent`]s on the engine (each dials its earlier neighbours, handshakes and all), checks
//! that the connections the servents made are exactly the planned edges, then sends the same
//! Queries from the same random servents, each for a file one random servent holds. Per TTL
//! it reports:
//!
//! - **reach**: distinct servents that handled the Query (each servent's own count of the
//!   floods it saw), next to the **BFS ball** of radius TTL around the source — the most a
//!   flood could reach — and the **tree count** at the mean degree: PROTOCOLS.md §5's
//!   d · Σ (d−1)^(i−1), what a flood would reach if every servent had the mean degree and
//!   the graph had no cycles. It is no bound on these graphs: a servent's neighbours have
//!   more links than the mean, so floods outgrow it;
//! - **messages per query**: Query and QueryHit transmissions, from the servents' metrics;
//! - how often the file was **found**.
//!
//! Every link takes the same [`LINK`] latency, so the first copy of a Query to reach a
//! servent always comes along a shortest path, and a flood of TTL t reaches the BFS ball of
//! radius t exactly: a shortfall would be a bug in the servent, not noise.

mod report;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use p2plab_gnutella::{Kind, Servent, ServentConfig};
use p2plab_netsim::{Latency, TestNet};
use p2plab_peer_protocol::{Command, Event, Instant, Library, Node, RequestId};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::graph::{flood_bound, FloodReach, Graph, GraphKind};
use crate::progress::{Progress, RunStats};

pub(crate) use report::graph_name;
pub use report::{markdown, write_outputs};

/// Every message takes exactly this long: a flood advances one hop per LINK.
pub const LINK: Duration = Duration::from_millis(10);

/// How long the overlay gets to form: a dial and a 0.4 handshake take a few round trips.
const SETTLE: Duration = Duration::from_secs(2);

/// How long each search collects QueryHits: a TTL-7 flood and its answers need 14 LINKs.
const SEARCH_WINDOW: Duration = Duration::from_secs(1);

/// Time after a search's window before the next one starts, so its report is in.
const MARGIN: Duration = Duration::from_millis(1);

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScaleParams {
    /// Servents in the overlay.
    pub nodes: usize,
    /// The overlay's shape.
    pub graph: GraphKind,
    /// TTLs 1 ..= this are measured.
    pub ttl_max: u8,
    /// Queries per TTL (the same sources and targets at every TTL).
    pub queries: usize,
    /// Seeds the graph, the servents, the network and the queries.
    pub seed: u64,
}

/// How the connections the servents made compare with the planned graph.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverlayCheck {
    /// Edges in the planned graph.
    pub planned: usize,
    /// Planned edges that are not a connection.
    pub missing: usize,
    /// Connections that are not a planned edge.
    pub extra: usize,
}

/// One TTL's measurements, averaged over the queries.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TtlRow {
    /// The Queries' TTL.
    pub ttl: u8,
    /// Servents (the source aside) that handled the Query.
    pub reach: f64,
    /// Servents within TTL hops of the source in the graph.
    pub ball: f64,
    /// The tree count at the graph's mean degree (PROTOCOLS.md §5's formula; no bound).
    pub bound: f64,
    /// Query transmissions.
    pub query_msgs: f64,
    /// The same, computed from the graph for shortest-path floods.
    pub query_msgs_expected: f64,
    /// QueryHit transmissions.
    pub hit_msgs: f64,
    /// Fraction of searches that found the file.
    pub found: f64,
}

/// One overlay's table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScaleTable {
    /// What was run.
    pub params: ScaleParams,
    /// Undirected edges of the graph.
    pub edges: usize,
    /// Mean degree.
    pub mean_degree: f64,
    /// Largest degree.
    pub max_degree: usize,
    /// The built overlay against the plan (for the first TTL; every build is the same).
    pub overlay: OverlayCheck,
    /// One row per TTL.
    pub rows: Vec<TtlRow>,
    /// Engine work over all builds and queries.
    pub run: RunStats,
    /// Bytes of the engine's own state per servent (see `TestNet::engine_bytes`).
    pub engine_bytes_per_node: usize,
}

/// Runs the experiment, with a progress bar per TTL.
///
/// # Errors
/// When the parameters make no sense (fewer than two servents, TTL 0).
pub fn run(params: ScaleParams) -> anyhow::Result<ScaleTable> {
    anyhow::ensure!(params.nodes > 1, "an overlay needs at least two servents");
    anyhow::ensure!(params.ttl_max >= 1, "TTLs start at 1");
    let graph = Graph::build(params.graph, params.nodes, params.seed);
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    let searches: Vec<Search> = (0..params.queries)
        .map(|_| {
            let src = rng.random_range(0..params.nodes);
            Search {
                src,
                target: rng.random_range(0..params.nodes),
                reach: graph.flood_reach(src, u32::from(params.ttl_max)),
            }
        })
        .collect();
    let mut table = ScaleTable {
        params,
        edges: graph.edges(),
        mean_degree: graph.mean_degree(),
        max_degree: graph.max_degree(),
        overlay: OverlayCheck::default(),
        rows: Vec::new(),
        run: RunStats::default(),
        engine_bytes_per_node: 0,
    };
    for ttl in 1..=params.ttl_max {
        let span = SETTLE + (SEARCH_WINDOW + MARGIN) * searches.len() as u32;
        let label = format!("{:?} N={} TTL {ttl}", params.graph, params.nodes);
        let mut progress = Progress::new(&label, Instant::ZERO, Instant::ZERO + span, 0);
        let mut net = build_overlay(&graph, ttl, params.seed);
        if ttl == 1 {
            table.overlay = check_overlay(&graph, &net);
        }
        table
            .rows
            .push(measure(&graph, &mut net, ttl, &searches, &mut progress));
        table.engine_bytes_per_node = net.engine_bytes() / params.nodes;
        table.run.add(progress.finish());
    }
    Ok(table)
}

/// Servent counters summed over the network.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Totals {
    /// Distinct Queries handled (each flood once per servent it reached).
    pub(crate) handled: u64,
    /// Query transmissions.
    pub(crate) queries: u64,
    /// QueryHit transmissions.
    pub(crate) hits: u64,
}

impl Totals {
    pub(crate) fn of(net: &TestNet<Servent>) -> Self {
        let sent = |s: &Servent, kind: Kind| s.metrics().sent.of(kind).map_or(0, |t| t.messages);
        (0..net.len()).map(|i| net.node(i)).fold(
            Totals {
                handled: 0,
                queries: 0,
                hits: 0,
            },
            |t, s| Totals {
                handled: t.handled + s.queries_handled(),
                queries: t.queries + sent(s, Kind::Query),
                hits: t.hits + sent(s, Kind::QueryHit),
            },
        )
    }
}

/// One search of the experiment, the same at every TTL.
struct Search {
    /// The servent that searches.
    src: usize,
    /// The servent whose file it looks for.
    target: usize,
    /// What a flood from `src` can reach, by TTL.
    reach: FloodReach,
}

/// Runs every search at one TTL, one after the other, and averages what they did.
fn measure(
    graph: &Graph,
    net: &mut TestNet<Servent>,
    ttl: u8,
    searches: &[Search],
    progress: &mut Progress,
) -> TtlRow {
    let mut row = TtlRow {
        ttl,
        reach: 0.0,
        ball: 0.0,
        bound: flood_bound(graph.mean_degree(), u32::from(ttl)),
        query_msgs: 0.0,
        query_msgs_expected: 0.0,
        hit_msgs: 0.0,
        found: 0.0,
    };
    // The searches run one after the other, so the counters summed over every servent
    // before the first and after the last tell what they did together.
    let before = Totals::of(net);
    for (
        k,
        &Search {
            src,
            target,
            ref reach,
        },
    ) in searches.iter().enumerate()
    {
        let request = RequestId(k as u64);
        let query = file_name(target);
        net.command(src, Command::Search { request, query });
        net.run_for(SEARCH_WINDOW + MARGIN);
        let hits = net.take_events(src).into_iter().any(|e| {
            matches!(e, Event::SearchDone { request: r, result: Ok(hits) } if r == request && !hits.is_empty())
        });
        row.found += f64::from(u8::from(hits || src == target));
        row.ball += reach.balls[usize::from(ttl)] as f64;
        row.query_msgs_expected += reach.messages[usize::from(ttl)] as f64;
        progress.tick(net.now(), net.events());
    }
    let after = Totals::of(net);
    row.reach = (after.handled - before.handled) as f64;
    row.query_msgs = (after.queries - before.queries) as f64;
    row.hit_msgs = (after.hits - before.hits) as f64;
    let n = searches.len().max(1) as f64;
    for v in [
        &mut row.reach,
        &mut row.ball,
        &mut row.query_msgs,
        &mut row.query_msgs_expected,
        &mut row.hit_msgs,
        &mut row.found,
    ] {
        *v /= n;
    }
    row
}

/// A quiet servent's configuration (no periodic pings, no dialling beyond its bootstrap
/// list) for `ttl`, sharing one file named after it.
fn config(i: usize, ttl: u8, seed: u64) -> ServentConfig {
    let library = Library::synthetic([(file_name(i), 1_000)], 1);
    quiet_config(i, ttl, seed, Arc::new(library))
}

/// The configuration of servent `i` of an experiment seeded `seed`: quiet (no periodic
/// pings, no dialling beyond its bootstrap list), searching with `ttl` and collecting for
/// a second, sharing `library`.
pub(crate) fn quiet_config(i: usize, ttl: u8, seed: u64, library: Arc<Library>) -> ServentConfig {
    let mut c = ServentConfig::new(TestNet::<Servent>::addr_for(i), library);
    c.ttl = ttl;
    c.ping_ttl = 1;
    c.min_peers = 0;
    c.ping_interval = Duration::from_secs(24 * 3_600);
    c.search_window = SEARCH_WINDOW;
    c.seed = seed ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    c
}

fn file_name(i: usize) -> String {
    format!("track {i:06}.mp3")
}

/// Builds `graph` out of servents: each dials its earlier neighbours; returns once settled.
pub fn build_overlay(graph: &Graph, ttl: u8, seed: u64) -> TestNet<Servent> {
    let max_peers = graph.max_degree() + 1;
    build_overlay_with(graph, seed, |i| ServentConfig {
        max_peers,
        ..config(i, ttl, seed)
    })
}

/// Builds `graph` out of the servents `config(i)` describes (which must leave each room
/// for its neighbours), each dialling its earlier ones; returns once settled.
pub fn build_overlay_with(
    graph: &Graph,
    seed: u64,
    config: impl Fn(usize) -> ServentConfig,
) -> TestNet<Servent> {
    let mut net = TestNet::new(Latency::Constant(LINK), seed);
    net.reserve(graph.len());
    for i in 0..graph.len() {
        let mut c = config(i);
        c.bootstrap = graph
            .neighbours(i)
            .iter()
            .filter(|&&j| j < i)
            .map(|&j| TestNet::<Servent>::addr_for(j))
            .collect();
        net.add(Servent::new(c));
    }
    net.run_for(SETTLE);
    net
}

/// Compares the servents' neighbours with the planned edges.
pub fn check_overlay(graph: &Graph, net: &TestNet<Servent>) -> OverlayCheck {
    let (mut missing, mut extra) = (0, 0);
    for i in 0..graph.len() {
        let built: BTreeSet<usize> = net
            .node(i)
            .neighbours()
            .into_iter()
            .filter_map(|a| net.idx_of(a))
            .collect();
        missing += graph.neighbours(i).difference(&built).count();
        extra += built.difference(graph.neighbours(i)).count();
    }
    OverlayCheck {
        planned: graph.edges(),
        missing: missing / 2,
        extra: extra / 2,
    }
}
