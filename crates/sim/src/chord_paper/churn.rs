//! Experiment 4: lookups while nodes join and fail (ToN §V-E, Fig. 12).
//!
//! The paper runs 500 nodes with joins and failures as Poisson processes of rate R each,
//! every node stabilizing about every 30 s, and one lookup per second from a random node;
//! it counts only lookups that fail because of inconsistent routing state, not those whose
//! key was lost with its nodes.
//!
//! Here the churn stream comes from [`crate::churn`] (Poisson, R joins and R failures per
//! second); a joining node joins through a random live member; a failure crashes a node.
//! The cores stabilize with a fixed period from a random phase (the paper draws each
//! period anew around 30 s). Lookups search for random published names whose publisher is
//! alive, so re-publication keeps them findable. **A lookup fails** when it finds no hit
//! naming the publisher although the key's true current owner holds the record — routing
//! state was wrong. A failed lookup whose true owner holds no record is counted as a
//! *lost name*, apart, as the paper does.

use std::collections::HashMap;
use std::time::Duration;

use crate::chord::{publish, Lookups, Published, SimRing};
use crate::churn::{Churn, ChurnKind, ChurnModel};

use super::path_length::series;
use super::report::{Plot, Report};
use super::spec::ChurnSpec;

/// How long publication may take before churn starts.
const PUBLISH_LIMIT: Duration = Duration::from_secs(600);

/// What one rate measured.
struct Point {
    failed: f64,
    mean_hops: f64,
    answered: u64,
    lost: u64,
    joins: u64,
    failures: u64,
}

/// Applies one churn event: a join through a random live member, or a crash.
fn apply(ring: &mut SimRing, nodes: &mut HashMap<usize, usize>, node: usize, kind: ChurnKind) {
    match kind {
        ChurnKind::Join => {
            let via = ring.random_live().map(|i| ring.net.addr(i));
            let idx = ring.add_node(via);
            nodes.insert(node, idx);
        }
        ChurnKind::Fail | ChurnKind::Leave => {
            if let Some(&idx) = nodes.get(&node) {
                ring.net.crash(idx);
            }
        }
    }
}

fn point(spec: &ChurnSpec, rate: f64) -> anyhow::Result<Point> {
    let seed = spec.seed ^ (rate * 1e6) as u64;
    let (mut ring, _) = SimRing::build(spec.ring.clone(), seed, spec.nodes)?;
    let published = publish(&mut ring, spec.names, PUBLISH_LIMIT);
    let mut nodes: HashMap<usize, usize> = (0..spec.nodes).map(|i| (i, i)).collect();
    let start = ring.now();
    let end = Duration::from_secs(spec.duration_s);
    let mut churn = Churn::new(ChurnModel::Poisson { rate }, spec.nodes, seed)?.peekable();
    let mut lookups = Lookups::new();
    let every = Duration::from_millis(spec.lookup_every_ms.max(1));
    let (mut joins, mut failures) = (0, 0);
    let mut t = Duration::ZERO;
    while t < end {
        while let Some(e) = churn.next_if(|e| e.at <= t) {
            apply(&mut ring, &mut nodes, e.node, e.kind);
            if e.kind == ChurnKind::Join {
                joins += 1;
            } else {
                failures += 1;
            }
        }
        let targets: Vec<Published> = published
            .iter()
            .filter(|p| {
                ring.net
                    .idx_of(p.holder)
                    .is_some_and(|i| ring.net.is_alive(i))
            })
            .cloned()
            .collect();
        lookups.issue_random(&mut ring, &targets);
        t += every;
        ring.advance_to(start + t);
        lookups.collect(&mut ring);
    }
    lookups.drain(&mut ring);
    let s = &lookups.stats;
    Ok(Point {
        failed: s.routing_failed_fraction(),
        mean_hops: s.hop_summary().mean,
        answered: s.answered,
        lost: s.lost,
        joins,
        failures,
    })
}

/// Runs the experiment.
///
/// # Errors
/// When the initial ring does not become exact.
pub fn run(spec: &ChurnSpec) -> anyhow::Result<Report> {
    let mut rows = Vec::new();
    let (mut failed, mut hops) = (vec![], vec![]);
    for &rate in &spec.rates {
        let p = point(spec, rate)?;
        failed.push((rate, p.failed));
        hops.push((rate, p.mean_hops));
        rows.push(vec![
            format!("{rate:.2}"),
            format!("{:.4}", p.failed),
            format!("{:.2}", p.mean_hops),
            format!("{}", p.answered),
            format!("{}", p.lost),
            format!("{} / {}", p.joins, p.failures),
        ]);
    }
    Ok(Report {
        title: format!("Failed lookups under churn, {} nodes", spec.nodes),
        notes: vec![
            "Paper: ToN 2003 §V-E, Fig. 12 (fraction of failed lookups against R = 0 .. 0.1 \
             per second; only failures from inconsistent routing state). Its values are \
             given only as a plot, so no paper column is printed."
                .into(),
            format!(
                "Stabilize every {} ms (fixed period, random phase), fix_fingers every {} ms; \
                 {} s of churn per rate; one lookup every {} ms.",
                spec.ring.stabilize_ms,
                spec.ring.fix_fingers_ms,
                spec.duration_s,
                spec.lookup_every_ms
            ),
            "Failed = no hit naming the publisher although the true owner holds the record; \
             'lost' = the true owner held no record (not counted as failed)."
                .into(),
        ],
        columns: [
            "R (per s)",
            "failed",
            "mean hops",
            "lookups",
            "lost",
            "joins / failures",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        plot: Plot {
            x_label: "join and failure rate R (per second)".into(),
            y_label: "fraction of lookups failed".into(),
            log2_x: false,
            series: vec![series("failed lookups", failed)],
        },
    })
}
