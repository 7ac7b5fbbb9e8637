//! Dynamic querying against the 0.4 flood, on one overlay: what a search costs and finds,
//! by how common the file is.
//!
//! [`run`] builds the same overlay [`Graph`] twice out of real [`Servent`]s: once of 0.4
//! flooding servents searching with TTL 7, once of 0.6 ultrapeers that search dynamically
//! (`p2plab_gnutella`'s `servent/dynamic.rs`: a probe, then one link more per step until
//! [`OWN_RESULTS`] came back). Every servent holds one file of its own, and the servents
//! of each [`SHARES`] class one more file of that class. The same searches, from the same
//! random servents, then look for a single servent's own file (the rare case) and for each
//! class's word. Per network and class it reports, averaged over the searches:
//!
//! - **Query and QueryHit messages**, from the servents' metrics;
//! - **reach**: servents that handled the Query;
//! - **found** (the share of searches with a hit) and **results** (hits reported);
//! - for dynamic querying, the **sends** over ultrapeer links (the probe's and each step's,
//!   a probed link queried again counted again) beside the searcher's degree, and how
//!   many queries stopped because enough results came back.
//!
//! The overlay has ultrapeers only (no leaves): the comparison is of the two ways of
//! sending a Query among the servents that carry the traffic. Each servent keeps room for
//! its planned links and one more, which its `X-Degree` announces.
//!
//! Every link takes [`LINK`]; a dynamic query waits [`HOP_WAIT`] per hop of each step's TTL.

use std::sync::Arc;
use std::time::Duration;

use p2plab_gnutella::servent::{MAX_LIFETIME_HOPS, OWN_RESULTS};
use p2plab_gnutella::{Role, Servent, Stop, DEFAULT_TTL, MAX_TTL};
use p2plab_netsim::TestNet;
use p2plab_peer_protocol::{Command, Event, Library, RequestId};
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::gnutella_scale::{build_overlay_with, graph_name, quiet_config, Totals, LINK};
use crate::graph::{Graph, GraphKind};

/// How long a dynamic query's step waits per hop of its TTL: a round trip of [`LINK`]s
/// and half as much again, so a step's QueryHits are back before the next is chosen.
pub const HOP_WAIT: Duration = Duration::from_millis(30);

/// Quiet time after each search reports, so that no message of it is still travelling
/// when the next starts: a Query and its QueryHit across [`MAX_TTL`] hops each way, and
/// one link more.
fn quiet() -> Duration {
    LINK * (2 * u32::from(MAX_TTL) + 1)
}

/// The classes of common files: the share of servents holding one, in percent.
pub const SHARES: [u32; 3] = [1, 5, 25];

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DynamicParams {
    /// Servents in the overlay.
    pub nodes: usize,
    /// The overlay's shape.
    pub graph: GraphKind,
    /// Searches per class.
    pub queries: usize,
    /// Seeds the graph, the holders, the servents, the network and the searches.
    pub seed: u64,
}

/// One network's searches for one class, averaged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Servents holding the file: 1 for the rare case, else the class's share of all.
    pub holders: usize,
    /// True for dynamic querying, false for the TTL-7 flood.
    pub dynamic: bool,
    /// Query transmissions per search.
    pub query_msgs: f64,
    /// QueryHit transmissions per search.
    pub hit_msgs: f64,
    /// Servents that handled the Query.
    pub reach: f64,
    /// Share of searches that found the file.
    pub found: f64,
    /// Hits reported per search.
    pub results: f64,
    /// Sends over ultrapeer links of the dynamic query (0 for the flood).
    pub links: f64,
    /// The searchers' mean degree.
    pub degree: f64,
    /// Dynamic queries that stopped because enough results came back.
    pub enough: usize,
}

/// The comparison on one overlay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DynamicTable {
    /// What was run.
    pub params: DynamicParams,
    /// Mean degree of the overlay.
    pub mean_degree: f64,
    /// One row per class and network: the rare case first, flood before dynamic.
    pub rows: Vec<Row>,
}

/// The servents of a class, and its word.
struct Class {
    word: String,
    holders: Vec<usize>,
}

/// Runs the comparison.
///
/// # Errors
/// When the parameters make no sense (fewer than two servents, no search).
pub fn run(params: DynamicParams) -> anyhow::Result<DynamicTable> {
    anyhow::ensure!(params.nodes > 1, "an overlay needs at least two servents");
    anyhow::ensure!(params.queries > 0, "at least one search per class");
    let n = params.nodes;
    let graph = Graph::build(params.graph, n, params.seed);
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    let classes: Vec<Class> = SHARES
        .iter()
        .map(|&pct| Class {
            word: format!("share{pct}"),
            holders: sample(&mut rng, n, (n * pct as usize / 100).max(1)).into_vec(),
        })
        .collect();
    let libraries: Vec<Arc<Library>> = (0..n)
        .map(|i| {
            let own = (own_file(i), 1_000);
            let shared = classes
                .iter()
                .filter(|c| c.holders.contains(&i))
                .map(|c| (format!("{} item {i:06}.mp3", c.word), 1_000));
            Arc::new(Library::synthetic(std::iter::once(own).chain(shared), 1))
        })
        .collect();
    let sources: Vec<usize> = (0..params.queries)
        .map(|_| rng.random_range(0..n))
        .collect();
    let targets: Vec<usize> = (0..params.queries)
        .map(|_| rng.random_range(0..n))
        .collect();
    let mut rows = Vec::new();
    for class in 0..=classes.len() {
        for dynamic in [false, true] {
            let role = if dynamic {
                Role::Ultrapeer
            } else {
                Role::Flooding
            };
            let mut net = build_overlay_with(&graph, params.seed, |i| {
                let mut c = quiet_config(i, DEFAULT_TTL, params.seed, libraries[i].clone());
                c.role = role;
                c.hop_wait = HOP_WAIT;
                // Room for its planned links and one: what it announces as `X-Degree`.
                c.max_peers = graph.neighbours(i).len() + 1;
                c
            });
            let words: Vec<String> = match class.checked_sub(1) {
                None => targets.iter().map(|&t| own_file(t)).collect(),
                Some(c) => vec![classes[c].word.clone(); params.queries],
            };
            let holders = class.checked_sub(1).map_or(1, |c| classes[c].holders.len());
            rows.push(measure(
                &graph, &mut net, &sources, &words, holders, dynamic,
            ));
        }
    }
    Ok(DynamicTable {
        params,
        mean_degree: graph.mean_degree(),
        rows,
    })
}

/// Runs the searches `words[k]` from `sources[k]`, one after the other, and averages.
fn measure(
    graph: &Graph,
    net: &mut TestNet<Servent>,
    sources: &[usize],
    words: &[String],
    holders: usize,
    dynamic: bool,
) -> Row {
    let mut row = Row {
        holders,
        dynamic,
        query_msgs: 0.0,
        hit_msgs: 0.0,
        reach: 0.0,
        found: 0.0,
        results: 0.0,
        links: 0.0,
        degree: 0.0,
        enough: 0,
    };
    let before = Totals::of(net);
    for (k, (&src, word)) in sources.iter().zip(words).enumerate() {
        let request = RequestId(k as u64);
        net.command(
            src,
            Command::Search {
                request,
                query: word.clone(),
            },
        );
        let window = net.node(src).config().search_window;
        let limit = HOP_WAIT * MAX_LIFETIME_HOPS + window;
        let mut hits = None;
        net.run_until_cond(limit, |net| {
            hits = hits.take().or_else(|| {
                net.take_events(src).into_iter().find_map(|e| match e {
                    Event::SearchDone { request: r, result } if r == request => {
                        Some(result.map_or(0, |h| h.len()))
                    }
                    _ => None,
                })
            });
            hits.is_some()
        });
        net.run_for(quiet());
        let hits = hits.unwrap_or(0);
        row.results += hits as f64;
        row.found += f64::from(u8::from(hits > 0));
        row.degree += graph.neighbours(src).len() as f64;
        if dynamic {
            if let Some(outcome) = net.node(src).dynamic_outcomes().last() {
                row.links += outcome.ttls.len() as f64;
                row.enough += usize::from(outcome.stop == Stop::Enough);
            }
        }
    }
    let after = Totals::of(net);
    row.reach = (after.handled - before.handled) as f64;
    row.query_msgs = (after.queries - before.queries) as f64;
    row.hit_msgs = (after.hits - before.hits) as f64;
    let n = sources.len().max(1) as f64;
    for v in [
        &mut row.query_msgs,
        &mut row.hit_msgs,
        &mut row.reach,
        &mut row.found,
        &mut row.results,
        &mut row.links,
        &mut row.degree,
    ] {
        *v /= n;
    }
    row
}

/// The file only servent `i` holds.
fn own_file(i: usize) -> String {
    format!("solo{i:06}")
}

/// The table in Markdown, each dynamic row with its share of the flood's Query messages.
pub fn markdown(t: &DynamicTable) -> String {
    let p = &t.params;
    let mut md = format!(
        "### Dynamic querying against the TTL-7 flood: {} servents, {} graph, mean degree {:.2}\n\n\
         {} searches per class, seed {}; dynamic queries want {OWN_RESULTS} results and wait \
         {} ms per hop.\n\n\
         | holders | search | Query msgs | of the flood's | QueryHit msgs | reach | found | results | sends / degree | stopped on enough |\n\
         |---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        p.nodes,
        graph_name(p.graph),
        t.mean_degree,
        p.queries,
        p.seed,
        HOP_WAIT.as_millis(),
    );
    for pair in t.rows.chunks(2) {
        let flood = pair[0].query_msgs;
        for r in pair {
            let (name, share, links, enough) = if r.dynamic {
                (
                    "dynamic",
                    format!("{:.1}%", 100.0 * r.query_msgs / flood.max(1.0)),
                    format!("{:.1} / {:.1}", r.links, r.degree),
                    format!("{} of {}", r.enough, p.queries),
                )
            } else {
                (
                    "flood, TTL 7",
                    "100%".to_owned(),
                    "–".to_owned(),
                    "–".to_owned(),
                )
            };
            md.push_str(&format!(
                "| {} | {name} | {:.1} | {share} | {:.1} | {:.1} | {:.0}% | {:.1} | {links} | {enough} |\n",
                r.holders,
                r.query_msgs,
                r.hit_msgs,
                r.reach,
                100.0 * r.found,
                r.results,
            ));
        }
    }
    md
}
