//! Experiment 2: keys per node (SIGCOMM 2001 §6.2, Fig. 8 and Fig. 9).
//!
//! The paper: "We consider a network consisting of 10^4 nodes, and vary the total number
//! of keys from 10^5 to 10^6 in increments of 10^5", then, for virtual nodes, "a network
//! with 10^4 real nodes and 10^6 keys".
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

use std::net::SocketAddr;

use p2plab_chord::{Id, M};

use crate::chord::{ChordNet, Summary};

use super::path_length::series;
use super::report::{Plot, Report, Series};
use super::spec::KeysPerNodeSpec;

/// Nodes of the paper's network; its published values apply to rings of this size.
const PAPER_NODES: usize = 10_000;

/// A value the paper's text states, as a multiple of the mean (the mean is keys / nodes).
struct Published {
    virtual_nodes: usize,
    keys: usize,
    /// 1st percentile / mean.
    p1: f64,
    /// 99th percentile / mean.
    p99: f64,
    /// The most keys any node stored, if stated.
    max: Option<u64>,
}

/// What SIGCOMM 2001 §6.2 states. At 5 × 10^5 keys (Fig. 8(b)): "The maximum number of
/// [keys] stored by any node in this case is 457, or 9.1× the mean value. For comparison,
/// the 99th percentile is 4.6× the mean value", and "in all cases some nodes store no
/// keys"; the 1st percentile is 0 at 10^6 keys, so it is 0 at 5 × 10^5 too. At 10^6 keys
/// (Fig. 9): "the 99th percentile decreases from 4.8× to 1.6× the mean value, while the
/// 1st percentile increases from 0 to 0.5× the mean value" as virtual nodes go 1 → 20.
const PAPER: [Published; 3] = [
    Published {
        virtual_nodes: 1,
        keys: 500_000,
        p1: 0.0,
        p99: 4.6,
        max: Some(457),
    },
    Published {
        virtual_nodes: 1,
        keys: 1_000_000,
        p1: 0.0,
        p99: 4.8,
        max: None,
    },
    Published {
        virtual_nodes: 20,
        keys: 1_000_000,
        p1: 0.5,
        p99: 1.6,
        max: None,
    },
];

/// The paper's mean, 1st pct, 99th pct and max cells for `keys` keys on `v` virtual
/// nodes, when it states them for a ring of `nodes` nodes; dashes otherwise.
fn paper_cells(nodes: usize, v: usize, keys: usize) -> [String; 4] {
    let dash = || "—".to_string();
    let stated = PAPER
        .iter()
        .find(|p| nodes == PAPER_NODES && p.virtual_nodes == v && p.keys == keys);
    let Some(p) = stated else {
        return [dash(), dash(), dash(), dash()];
    };
    let mean = keys as f64 / nodes as f64;
    [
        format!("{mean:.0}"),
        format!("{:.0} ({}×)", p.p1 * mean, p.p1),
        format!("{:.0} ({}×)", p.p99 * mean, p.p99),
        p.max
            .map_or_else(dash, |m| format!("{m} ({:.1}×)", m as f64 / mean)),
    ]
}

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
    let mut rows = Vec::new();
    let mut series_out: Vec<Series> = Vec::new();
    for &v in &spec.virtual_nodes {
        let ring = ring_of(spec.nodes, v.max(1));
        let (mut p1s, mut p99s, mut means) = (vec![], vec![], vec![]);
        for &keys in &spec.keys {
            let counts = keys_per_node(&ring, spec.nodes, keys);
            let s = Summary::of(counts.iter().map(|&c| c as f64));
            let max = counts.iter().max().copied().unwrap_or(0);
            let mut row = vec![
                format!("{v}"),
                format!("{keys}"),
                format!("{:.1}", s.mean),
                format!("{}", s.p1),
                format!("{}", s.p99),
                format!("{:.2}", s.p99 / s.mean),
                format!("{max}"),
            ];
            row.extend(paper_cells(spec.nodes, v, keys));
            rows.push(row);
            let x = keys as f64;
            means.push((x, s.mean));
            p1s.push((x, s.p1));
            p99s.push((x, s.p99));
        }
        series_out.push(series(&format!("{v} vnode(s): mean"), means));
        series_out.push(series(&format!("{v} vnode(s): 1st pct"), p1s));
        series_out.push(series(&format!("{v} vnode(s): 99th pct"), p99s));
    }
    if spec.nodes == PAPER_NODES {
        series_out.push(paper_series());
    }
    report(spec, rows, series_out)
}

/// The paper's stated 99th percentiles, as points.
fn paper_series() -> Series {
    Series {
        name: "paper: stated 99th pct".into(),
        paper: true,
        points: PAPER
            .iter()
            .map(|p| (p.keys as f64, p.p99 * p.keys as f64 / PAPER_NODES as f64))
            .collect(),
    }
}

fn report(spec: &KeysPerNodeSpec, rows: Vec<Vec<String>>, series: Vec<Series>) -> Report {
    Report {
        title: format!("Keys per node, {} nodes", spec.nodes),
        notes: vec![
            "Paper: SIGCOMM 2001 §6.2, Fig. 8 (mean, 1st, 99th pct against keys; the PDF at \
             5 × 10^5 keys) and Fig. 9 (percentiles against virtual nodes at 10^4 nodes, \
             10^6 keys). The paper columns are what its text states, as multiples of the \
             mean; '—': given only as a plot (or the ring is not the paper's 10^4 nodes)."
                .into(),
            "Pure consistent hashing: placement by the chord crate's SHA-1 ids; no messages, \
             one placement per row (the paper averages 20). The percentiles differ from the \
             paper's by the spread of one draw of node ids; the max, one node, the most."
                .into(),
        ],
        columns: [
            "virtual nodes",
            "keys",
            "mean",
            "1st pct",
            "99th pct",
            "99th / mean",
            "max",
            "paper mean",
            "paper 1st pct",
            "paper 99th pct",
            "paper max",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        plot: Plot {
            x_label: "keys".into(),
            y_label: "keys per real node".into(),
            log2_x: false,
            series,
        },
    }
}
