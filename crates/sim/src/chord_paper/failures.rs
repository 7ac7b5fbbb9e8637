//! Experiment 3: lookups after simultaneous failures (ToN §V-D, Fig. 11).
//!
//! The paper fails a fraction p of a 10^4-node network at once, waits for the ring to
//! stabilize, and counts a lookup as failed when it does not find the key's value — the
//! node that held it before the failure is gone and nothing copied it. Its keys are not
//! replicated, so about a fraction p of lookups fail: exactly the keys whose node died.
//!
//! Here: build the ring, publish names (each record at successor(key) and, with r
//! replicas, the next r - 1 nodes), crash a random fraction p of the nodes at once, wait
//! for the network to finish stabilizing — run until every survivor's successor and
//! predecessor are right again, then `settle_periods` more periods — then search for
//! random published names from random live nodes. **A lookup fails** when its search returns no hit naming the publisher —
//! whether routing went astray or every copy of the record died. Nothing re-publishes
//! during the run, as in the paper. With r = 3 a name is lost only when its owner and both
//! replicas failed, about p^3 of them.

use crate::chord::{publish, run_batches, SimRing};

use super::path_length::series;
use super::report::{Plot, Report, Series};
use super::spec::FailuresSpec;

/// Lookups in flight at once.
const BATCH: usize = 500;

/// How long publication may take before the failure.
const PUBLISH_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// One point: the fraction of lookups that failed after a fraction `p` of nodes did.
fn point(spec: &FailuresSpec, replicas: usize, p: f64) -> anyhow::Result<(f64, u64, u64)> {
    let mut params = spec.ring.clone();
    params.replicas = replicas;
    params.republish_s = None;
    let seed = spec.seed ^ (p * 1e4) as u64 ^ ((replicas as u64) << 32);
    let (mut ring, _) = SimRing::build(params, seed, spec.nodes)?;
    let published = publish(&mut ring, spec.names, PUBLISH_LIMIT);
    ring.crash_fraction(p);
    ring.settle()?;
    for _ in 0..spec.settle_periods {
        ring.advance(ring.params.stabilize());
    }
    let stats = run_batches(&mut ring, &published, spec.lookups, BATCH);
    Ok((stats.failed_fraction(), stats.routing_failures, stats.lost))
}

/// Runs the experiment.
///
/// # Errors
/// When a ring does not become exact before the failure.
pub fn run(spec: &FailuresSpec) -> anyhow::Result<Report> {
    let mut rows = Vec::new();
    let mut out: Vec<Series> = Vec::new();
    for &r in &spec.replicas {
        let mut points = Vec::new();
        for &p in &spec.fractions {
            let (failed, routing, lost) = point(spec, r, p)?;
            points.push((p, failed));
            rows.push(vec![
                format!("{r}"),
                format!("{p:.2}"),
                format!("{failed:.4}"),
                format!("{routing}"),
                format!("{lost}"),
                if r == 1 {
                    format!("{p:.2}")
                } else {
                    "—".into()
                },
                format!("{:.6}", p.powi(i32::try_from(r).unwrap_or(i32::MAX))),
            ]);
        }
        out.push(series(&format!("replicas {r}"), points));
    }
    out.push(Series {
        name: "paper (no replicas): failed ≈ p".into(),
        paper: true,
        points: spec.fractions.iter().map(|&p| (p, p)).collect(),
    });
    Ok(Report {
        title: format!(
            "Failed lookups after a fraction p of {} nodes fail at once",
            spec.nodes
        ),
        notes: vec![
            "Paper: ToN 2003 §V-D, Fig. 11: without replication the failed fraction is \
             almost exactly p — the keys whose node died."
                .into(),
            format!(
                "{} names published, then p of the nodes crash at once; once the ring is \
                 exact again and {} stabilize periods more have passed, {} lookups from random \
                 live nodes. Failed = no hit naming the \
                 publisher (routing failures and lost names are counted apart, and both \
                 count as failed).",
                spec.names, spec.settle_periods, spec.lookups
            ),
            "Last column: p^r, the fraction of names whose r holders all failed, if \
             failures strike independently."
                .into(),
        ],
        columns: [
            "replicas",
            "p",
            "failed",
            "routing failures",
            "lost names",
            "paper",
            "p^r",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        plot: Plot {
            x_label: "fraction of nodes failed p".into(),
            y_label: "fraction of lookups failed".into(),
            log2_x: false,
            series: out,
        },
    })
}
