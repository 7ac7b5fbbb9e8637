//! Experiment 1: path length against the number of nodes (ToN §V-C, Fig. 10(a)).
//!
//! The paper builds networks of N = 2^k nodes, looks up random keys from random nodes, and
//! reports the mean, 1st and 99th percentile of the path length, which grows as about
//! (1/2) log2 N. Here each ring is built through the protocol ([`SimRing::build`]), the
//! lookups are real searches for published names ([`crate::chord::lookups`]), and the path
//! length is the core's hop count: the nodes the iterative lookup asked, the origin's own
//! table not counted.

use std::time::Duration;

use crate::chord::{publish, run_batches, SimRing};

use super::report::{Plot, Report, Series};
use super::spec::PathLengthSpec;

/// Lookups in flight at once.
const BATCH: usize = 500;

/// How long publication may take before the lookups start.
const PUBLISH_LIMIT: Duration = Duration::from_secs(120);

/// Runs the experiment.
///
/// # Errors
/// When a ring does not become exact.
pub fn run(spec: &PathLengthSpec) -> anyhow::Result<Report> {
    let mut rows = Vec::new();
    let (mut mean, mut p1, mut p99, mut paper) = (vec![], vec![], vec![], vec![]);
    for &k in &spec.exponents {
        let n = 1usize << k;
        let seed = spec.seed ^ u64::from(k);
        let (mut ring, formation) = SimRing::build(spec.ring.clone(), seed, n)?;
        let published = publish(&mut ring, spec.lookups.min(n * 4), PUBLISH_LIMIT);
        let stats = run_batches(&mut ring, &published, spec.lookups, BATCH);
        let h = stats.hop_summary();
        let half_log = 0.5 * f64::from(k);
        let x = n as f64;
        mean.push((x, h.mean));
        p1.push((x, h.p1));
        p99.push((x, h.p99));
        paper.push((x, half_log));
        rows.push(vec![
            format!("2^{k} = {n}"),
            format!("{:.2}", h.mean),
            format!("{}", h.p1),
            format!("{}", h.p99),
            format!("{half_log:.1}"),
            format!("{}/{}", stats.succeeded, stats.answered),
            format!("{:.0} s", formation.virtual_secs),
        ]);
    }
    Ok(Report {
        title: "Path length against N".into(),
        notes: vec![
            "Paper: ToN 2003 §V-C, Fig. 10(a): the mean path length grows as about (1/2) log2 N."
                .into(),
            format!(
                "{} lookups per ring, of published names, from random nodes; the ring is built \
                 through the protocol in doubling waves until every successor and predecessor \
                 is exact (column 'built in': virtual time).",
                spec.lookups
            ),
            "Path length = nodes the iterative lookup asked (replies from other nodes); the \
             origin's own table is free."
                .into(),
        ],
        columns: [
            "N",
            "mean",
            "1st pct",
            "99th pct",
            "paper: (1/2) log2 N",
            "found",
            "built in",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        plot: Plot {
            x_label: "nodes N".into(),
            y_label: "path length (hops)".into(),
            log2_x: true,
            series: vec![
                series("mean", mean),
                series("1st percentile", p1),
                series("99th percentile", p99),
                Series {
                    name: "paper: (1/2) log2 N".into(),
                    paper: true,
                    points: paper,
                },
            ],
        },
    })
}

/// One of our series.
pub(super) fn series(name: &str, points: Vec<(f64, f64)>) -> Series {
    Series {
        name: name.into(),
        paper: false,
        points,
    }
}
