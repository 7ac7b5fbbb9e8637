//! Experiment 4: lookups while nodes join and fail (SIGCOMM 2001 §6.5, Fig. 12).
//!
//! The paper: "key lookups are generated according to a Poisson process at a rate of one
//! per second. Joins and failures are modeled by a Poisson process with the mean arrival
//! rate of R. Each node runs the stabilization routines at randomized intervals averaging
//! 30 seconds; unlike the routines in Figure 7, the simulator updates all finger table
//! entries on every invocation. The network starts with 500 nodes." It counts only
//! lookups that fail because of inconsistent routing state, and its simulator does not
//! retry: a lookup forwarded to a dead node fails. It explains the result as "5k/500": a
//! path of about 5 hops meets one of k freshly failed nodes with probability 5k/500 —
//! "about 3% if we have 3 failures between stabilizations" (R = 0.1).
//!
//! Here the churn stream comes from [`crate::churn`] (Poisson, R joins and R failures per
//! second); a joining node joins through a random live member; a failure crashes a node.
//! The cores stabilize with a fixed period from a random phase (the paper draws each
//! period anew around 30 s). Each lookup searches for a random published name whose
//! publisher is alive at that moment ([`askable`]): a publisher that failed has its entries
//! withdrawn by design, and re-publication keeps the others findable. **A lookup fails** when it finds no hit
//! naming the publisher although the key's true current owner holds the record — routing
//! state was wrong. A failed lookup whose true owner holds no record is counted as a
//! *lost name*, apart, as the paper does.
//!
//! [`askable`]: crate::chord::askable

use std::collections::HashMap;
use std::time::Duration;

use p2plab_chord::LookupRules;

use crate::chord::{publish, Lookups, SimRing};
use crate::churn::{Churn, ChurnKind, ChurnModel};

use super::path_length::series;
use super::report::{Plot, Report, Series};
use super::rules;
use super::spec::ChurnSpec;

/// The mean path length the paper's estimate assumes for its 500 nodes ("lookup path
/// lengths average around 5", §6.5).
const PAPER_PATH_LENGTH: f64 = 5.0;

/// How long publication may take before churn starts.
const PUBLISH_LIMIT: Duration = Duration::from_secs(600);

/// What one rate measured.
struct Point {
    failed: f64,
    mean_hops: f64,
    answered: u64,
    lost: u64,
    withdrawn: u64,
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

fn point(spec: &ChurnSpec, rules: LookupRules, rate: f64) -> anyhow::Result<Point> {
    let seed = spec.seed ^ (rate * 1e6) as u64;
    let (mut ring, _) = SimRing::build(rules::with(&spec.ring, rules), seed, spec.nodes)?;
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
        lookups.issue_random(&mut ring, &published);
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
        withdrawn: s.withdrawn,
        joins,
        failures,
    })
}

/// The paper's estimate of the failed fraction at rate `rate`: a path of
/// [`PAPER_PATH_LENGTH`] hops meets one of the k = R · (stabilize period) nodes that failed
/// since the last stabilization with probability 5k/N.
fn paper_estimate(spec: &ChurnSpec, rate: f64) -> f64 {
    let k = rate * spec.ring.stabilize().as_secs_f64();
    PAPER_PATH_LENGTH * k / spec.nodes as f64
}

/// Runs the experiment.
///
/// # Errors
/// When the initial ring does not become exact.
pub fn run(spec: &ChurnSpec) -> anyhow::Result<Report> {
    let mut rows = Vec::new();
    let mut out = Vec::new();
    for rules in rules::BOTH {
        let mut failed = Vec::new();
        for &rate in &spec.rates {
            let p = point(spec, rules, rate)?;
            failed.push((rate, p.failed));
            rows.push(vec![
                rules::name(rules).into(),
                format!("{rate:.2}"),
                format!("{:.4}", p.failed),
                format!("{:.4}", paper_estimate(spec, rate)),
                format!("{:.2}", p.mean_hops),
                format!("{}", p.answered),
                format!("{}", p.lost),
                format!("{}", p.withdrawn),
                format!("{} / {}", p.joins, p.failures),
            ]);
        }
        out.push(series(
            &format!("{}: failed lookups", rules::name(rules)),
            failed,
        ));
    }
    out.push(Series {
        name: "paper's estimate 5k/N".into(),
        paper: true,
        points: spec
            .rates
            .iter()
            .map(|&r| (r, paper_estimate(spec, r)))
            .collect(),
    });
    Ok(report(spec, rows, out))
}

fn report(spec: &ChurnSpec, rows: Vec<Vec<String>>, series: Vec<Series>) -> Report {
    Report {
        title: format!("Failed lookups under churn, {} nodes", spec.nodes),
        notes: vec![
            "Paper: SIGCOMM 2001 §6.5, Fig. 12: 500 nodes, joins and failures each Poisson \
             at rate R, stabilization at random intervals averaging 30 s that refresh every \
             finger, one lookup per second, no retries; only failures from inconsistent \
             routing state count. Fig. 12 gives the values as a plot; the text gives the \
             estimate 5k/500 (k failures per stabilization, paths of about 5 hops), about \
             3% at R = 0.1, the plot \"in this ball-park, but slightly worse\". The paper \
             column is that estimate."
                .into(),
            rules::note(&spec.ring),
            format!(
                "Seed {}. Stabilize every {} ms (fixed period, random phase), fix_fingers \
                 every {} ms, one finger per call — not the paper's whole table per \
                 stabilization, so fingers here go stale for longer; {} s of churn per rate; \
                 one lookup every {} ms.",
                spec.seed,
                spec.ring.stabilize_ms,
                spec.ring.fix_fingers_ms,
                spec.duration_s,
                spec.lookup_every_ms
            ),
            format!(
                "Each lookup asks for a random name of the {} published whose publisher is \
                 alive at that moment: a failed publisher's entries are withdrawn by design, \
                 so its names would read as lost whatever the ring did. 'withdrawn': the \
                 names left out by the end of the run.",
                spec.names
            ),
            "Failed = no hit naming the publisher although the true owner holds the record; \
             'lost' = the true owner held no record (not counted as failed). p2plab's \
             retries round dead hops are what separates its row from the paper's."
                .into(),
        ],
        columns: [
            "rules",
            "R (per s)",
            "failed",
            "paper's estimate 5k/N",
            "mean hops",
            "lookups",
            "lost",
            "withdrawn",
            "joins / failures",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        plot: Plot {
            x_label: "join and failure rate R (per second)".into(),
            y_label: "fraction of lookups failed".into(),
            log2_x: false,
            series,
        },
    }
}
