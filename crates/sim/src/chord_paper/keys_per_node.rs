//! Experiment 2: keys per node (ToN §V-B, Fig. 8(a) and Fig. 9).
//!
//! This experiment is about consistent hashing itself: which node owns which key follows
//! from the ids alone, so no message is needed and none is sent. Ids come from the chord
//! crate's own functions: a key's id is SHA-1 of its text ([`Id::of_key`]); a node's is
//! SHA-1 of its `ip:port` ([`Id::of_addr`]), the addresses being the simulator's. Virtual
//! node v of a real node listens, as it would, on its own port: port + v.
//!
//! With one id per node, the arcs between neighbouring ids are close to exponentially
//! distributed, so some nodes own several times the mean and some own nothing. With r
//! virtual nodes per real node, each real node owns the sum of r arcs, and the spread
//! narrows as 1/sqrt(r).

use std::collections::HashMap;
use std::net::SocketAddr;

use p2plab_chord::{Id, M};

use crate::chord::{ChordNet, Summary};

use super::path_length::series;
use super::report::{Plot, Report, Series};
use super::spec::KeysPerNodeSpec;

/// The paper's published values (ToN §V-B, text on Fig. 9; 10^4 nodes, 10^6 keys): with
/// 1 virtual node the 1st percentile is 0 and the 99th is 4.8× the mean; with 20 they are
/// 0.5× and 1.6× the mean. As (virtual nodes, 1st pct / mean, 99th pct / mean).
const PAPER_AT_A_MILLION: [(usize, f64, f64); 2] = [(1, 0.0, 4.8), (20, 0.5, 1.6)];

/// The key count the paper's virtual-node figure is for.
const PAPER_KEYS: usize = 1_000_000;

/// The (real node, id) of every virtual node, sorted by id.
fn ring_of(nodes: usize, virtual_nodes: usize) -> Vec<(Id, usize)> {
    let mut ring: Vec<(Id, usize)> = (0..nodes)
        .flat_map(|n| {
            let base = ChordNet::addr_for(n);
            (0..virtual_nodes).map(move |v| {
                let port = base.port().wrapping_add(v as u16);
                (Id::of_addr(SocketAddr::new(base.ip(), port), M), n)
            })
        })
        .collect();
    ring.sort();
    ring
}

/// How many of `keys` keys each real node owns.
fn keys_per_node(ring: &[(Id, usize)], nodes: usize, keys: usize) -> Vec<u64> {
    let mut counts = vec![0u64; nodes];
    for k in 0..keys {
        let id = Id::of_key(&format!("key{k}"), M);
        let pos = ring.partition_point(|(n, _)| *n < id) % ring.len();
        counts[ring[pos].1] += 1;
    }
    counts
}

/// Runs the experiment.
pub fn run(spec: &KeysPerNodeSpec) -> Report {
    let paper: HashMap<usize, (f64, f64)> = PAPER_AT_A_MILLION
        .iter()
        .map(|&(v, p1, p99)| (v, (p1, p99)))
        .collect();
    let mut rows = Vec::new();
    let mut series_out: Vec<Series> = Vec::new();
    for &v in &spec.virtual_nodes {
        let ring = ring_of(spec.nodes, v.max(1));
        let (mut p1s, mut p99s, mut means) = (vec![], vec![], vec![]);
        for &keys in &spec.keys {
            let counts = keys_per_node(&ring, spec.nodes, keys);
            let s = Summary::of(counts.iter().map(|&c| c as f64));
            let published = paper.get(&v).filter(|_| keys == PAPER_KEYS);
            let (pp1, pp99) = published.map_or(("—".into(), "—".into()), |(a, b)| {
                (format!("{:.0}", a * s.mean), format!("{:.0}", b * s.mean))
            });
            rows.push(vec![
                format!("{v}"),
                format!("{keys}"),
                format!("{:.1}", s.mean),
                format!("{}", s.p1),
                format!("{}", s.p99),
                format!("{:.2}", s.p99 / s.mean),
                pp1,
                pp99,
            ]);
            let x = keys as f64;
            means.push((x, s.mean));
            p1s.push((x, s.p1));
            p99s.push((x, s.p99));
        }
        series_out.push(series(&format!("{v} vnode(s): mean"), means));
        series_out.push(series(&format!("{v} vnode(s): 1st pct"), p1s));
        series_out.push(series(&format!("{v} vnode(s): 99th pct"), p99s));
        if let Some(&(_, p99)) = paper.get(&v) {
            let mean = PAPER_KEYS as f64 / spec.nodes as f64;
            series_out.push(Series {
                name: format!("paper, {v} vnode(s): 99th pct at 10^6 keys"),
                paper: true,
                points: vec![
                    (PAPER_KEYS as f64 * 0.97, p99 * mean),
                    (PAPER_KEYS as f64, p99 * mean),
                ],
            });
        }
    }
    Report {
        title: format!("Keys per node, {} nodes", spec.nodes),
        notes: vec![
            "Paper: ToN 2003 §V-B, Fig. 8(a) (mean, 1st, 99th pct vs keys) and Fig. 9 \
             (percentiles vs virtual nodes at 10^4 nodes, 10^6 keys). The text gives the \
             virtual-node values as multiples of the mean: 1st pct 0 → 0.5×, 99th pct \
             4.8× → 1.6× as virtual nodes go from 1 to 20; the paper columns apply them to \
             our mean. '—': the paper gives these only as a plot."
                .into(),
            "Pure consistent hashing: placement by the chord crate's SHA-1 ids; no messages."
                .into(),
        ],
        columns: [
            "virtual nodes",
            "keys",
            "mean",
            "1st pct",
            "99th pct",
            "99th / mean",
            "paper 1st pct",
            "paper 99th pct",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        plot: Plot {
            x_label: "keys".into(),
            y_label: "keys per real node".into(),
            log2_x: false,
            series: series_out,
        },
    }
}
