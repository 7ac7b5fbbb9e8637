//! Experiment 1: path length against the number of nodes (SIGCOMM 2001 §6.3, Fig. 10(a)).
//!
//! The paper "simulated a network with N = 2^k nodes, storing 100 × 2^k keys in all. We
//! varied k from 3 to 14 [...] Each node in an experiment picked a random set of keys to
//! query", and found the mean path length about (1/2) log2 N: a converged finger table
//! corrects one 1-bit of the distance per hop.
//!
//! Here each ring is built through the protocol ([`SimRing::build`]), then `fix_fingers`
//! runs until **every finger of every node is right** ([`SimRing::converge_fingers`]) —
//! measured, not assumed: the paper's figure is for converged tables, and stale fingers
//! add hops. The lookups are real searches for published names ([`crate::chord::lookups`]);
//! the path length is the core's hop count: the nodes the iterative lookup asked, the
//! origin's own table not counted. Every size runs under both [`super::rules`].

use std::time::Duration;

use p2plab_chord::LookupRules;

use crate::chord::{publish, run_batches, FingerCount, LookupStats, SimRing};

use super::report::{Plot, Report, Series};
use super::rules;
use super::spec::PathLengthSpec;

/// Lookups in flight at once.
const BATCH: usize = 500;

/// How long publication may take before the lookups start.
const PUBLISH_LIMIT: Duration = Duration::from_secs(120);

/// One ring measured under one set of rules.
struct Point {
    stats: LookupStats,
    fingers: FingerCount,
    converged_secs: f64,
}

fn point(spec: &PathLengthSpec, k: u32, rules: LookupRules) -> anyhow::Result<Point> {
    let seed = spec.seed ^ u64::from(k);
    let (mut ring, _) = SimRing::build(rules::with(&spec.ring, rules), seed, 1 << k)?;
    let converged = ring.converge_fingers()?;
    let fingers = ring.finger_count();
    let published = publish(&mut ring, spec.lookups.min(4 << k), PUBLISH_LIMIT);
    let stats = run_batches(&mut ring, &published, spec.lookups, BATCH);
    Ok(Point {
        stats,
        fingers,
        converged_secs: converged.as_secs_f64(),
    })
}

/// Runs the experiment.
///
/// # Errors
/// When a ring does not become exact, or its fingers do not all become right.
pub fn run(spec: &PathLengthSpec) -> anyhow::Result<Report> {
    let mut rows = Vec::new();
    let mut series_out: Vec<Series> = Vec::new();
    let mut paper = Vec::new();
    for rules in rules::BOTH {
        let name = rules::name(rules);
        let (mut mean, mut p99) = (vec![], vec![]);
        for &k in &spec.exponents {
            let p = point(spec, k, rules)?;
            let h = p.stats.hop_summary();
            let half_log = 0.5 * f64::from(k);
            let x = (1u64 << k) as f64;
            mean.push((x, h.mean));
            p99.push((x, h.p99));
            if rules == LookupRules::Paper {
                paper.push((x, half_log));
            }
            rows.push(vec![
                format!("2^{k} = {}", 1u64 << k),
                name.into(),
                format!("{:.2}", h.mean),
                format!("{}", h.p1),
                format!("{}", h.p99),
                format!("{half_log:.1}"),
                format!("{}/{}", p.stats.succeeded, p.stats.answered),
                format!("{}/{}", p.fingers.distinct_right, p.fingers.distinct),
                format!("{:.0} s", p.converged_secs),
            ]);
        }
        series_out.push(series(&format!("{name}: mean"), mean));
        series_out.push(series(&format!("{name}: 99th percentile"), p99));
    }
    series_out.push(Series {
        name: "paper: (1/2) log2 N".into(),
        paper: true,
        points: paper,
    });
    Ok(report(spec, rows, series_out))
}

fn report(spec: &PathLengthSpec, rows: Vec<Vec<String>>, series: Vec<Series>) -> Report {
    Report {
        title: "Path length against N".into(),
        notes: vec![
            "Paper: SIGCOMM 2001 §6.3, Fig. 10(a): N = 2^k nodes for k = 3 .. 14, 100 × 2^k keys, each node looking up \
             random keys; \"the path length is about (1/2) log2 N\"."
                .into(),
            rules::note(&spec.ring),
            format!(
                "Seed {}, one ring per size and rules. Lookups start only once every finger \
                 of every node points at the true successor of its start (column 'fingers \
                 right': distinct fingers right / distinct fingers, checked just before; \
                 'converged in': virtual time of fix_fingers after the ring became exact, \
                 one finger every {} ms, checked every 10 periods). {} lookups per ring, of published names, from \
                 random nodes.",
                spec.seed, spec.ring.fix_fingers_ms, spec.lookups
            ),
            "Path length = nodes the iterative lookup asked (replies from other nodes); the \
             origin's own table is free. Under the paper's rules the mean follows \
             (1/2) log2 N; p2plab's successor list saves the last hops, where its entries \
             lie closer to the key than any finger."
                .into(),
        ],
        columns: [
            "N",
            "rules",
            "mean",
            "1st pct",
            "99th pct",
            "paper: (1/2) log2 N",
            "found",
            "fingers right",
            "converged in",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        plot: Plot {
            x_label: "nodes N".into(),
            y_label: "path length (hops)".into(),
            log2_x: true,
            series,
        },
    }
}

/// One of our series.
pub(super) fn series(name: &str, points: Vec<(f64, f64)>) -> Series {
    Series {
        name: name.into(),
        paper: false,
        points,
    }
}
