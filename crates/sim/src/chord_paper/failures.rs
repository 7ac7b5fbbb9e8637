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

use std::collections::BTreeSet;
use std::net::SocketAddr;

use p2plab_chord::NodeRef;

use crate::chord::{publish, run_batches, Published, SimRing};

use super::path_length::series;
use super::report::{Plot, Report, Series};
use super::spec::FailuresSpec;

/// Lookups in flight at once.
const BATCH: usize = 500;

/// How long publication may take before the failure.
const PUBLISH_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// What one run measured.
struct Point {
    /// Fraction of lookups that failed.
    failed: f64,
    /// Lookups that failed although the key's owner held the record.
    routing: u64,
    /// Lookups of names no live node held.
    lost: u64,
    /// Fraction of the published names whose `r` holders were all among the crashed.
    doomed: f64,
}

/// The fraction of `names` whose holders on the ring `members` — the key's successor and
/// the next `replicas - 1` nodes — are all in `crashed`.
fn doomed_fraction(
    members: &[NodeRef],
    names: &[Published],
    replicas: usize,
    crashed: &BTreeSet<SocketAddr>,
) -> f64 {
    let all_crashed = |n: &&Published| {
        let first = members.partition_point(|m| m.id < n.key);
        (0..replicas.min(members.len()))
            .all(|k| crashed.contains(&members[(first + k) % members.len()].addr))
    };
    names.iter().filter(all_crashed).count() as f64 / names.len().max(1) as f64
}

/// One point: the fraction of lookups that failed after a fraction `p` of nodes did.
fn point(spec: &FailuresSpec, replicas: usize, p: f64) -> anyhow::Result<Point> {
    let mut params = spec.ring.clone();
    params.replicas = replicas;
    params.republish_s = None;
    let seed = spec.seed ^ (p * 1e4) as u64 ^ ((replicas as u64) << 32);
    let (mut ring, _) = SimRing::build(params, seed, spec.nodes)?;
    let published = publish(&mut ring, spec.names, PUBLISH_LIMIT);
    let before = ring.members();
    let crashed: BTreeSet<SocketAddr> = ring
        .crash_fraction(p)
        .into_iter()
        .map(|i| ring.net.addr(i))
        .collect();
    let doomed = doomed_fraction(&before, &published, replicas, &crashed);
    ring.settle()?;
    for _ in 0..spec.settle_periods {
        ring.advance(ring.params.stabilize());
    }
    let stats = run_batches(&mut ring, &published, spec.lookups, BATCH);
    Ok(Point {
        failed: stats.failed_fraction(),
        routing: stats.routing_failures,
        lost: stats.lost,
        doomed,
    })
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
            let pt = point(spec, r, p)?;
            points.push((p, pt.failed));
            rows.push(vec![
                format!("{r}"),
                format!("{p:.2}"),
                format!("{:.4}", pt.failed),
                format!("{}", pt.routing),
                format!("{}", pt.lost),
                format!("{:.4}", pt.doomed),
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
            "'all copies crashed': the fraction of the published names whose r holders \
             (the key's successor and the next r - 1 nodes when it was published) were all \
             among the crashed nodes of this run — the names no repair can bring back. \
             Lookups pick names at random, so 'lost names' / lookups estimates it. \
             Last column: p^r, its expectation if failures strike independently."
                .into(),
        ],
        columns: [
            "replicas",
            "p",
            "failed",
            "routing failures",
            "lost names",
            "all copies crashed",
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

#[cfg(test)]
mod tests {
    use super::*;
    use p2plab_chord::Id;

    fn at(id: u64) -> NodeRef {
        NodeRef {
            id: Id::from_u64(id),
            addr: SocketAddr::from(([10, 0, 0, id as u8], 6346)),
        }
    }

    fn name(key: u64) -> Published {
        Published {
            name: format!("song {key}"),
            key: Id::from_u64(key),
            holder: at(1).addr,
        }
    }

    #[test]
    fn a_name_is_doomed_when_its_successor_and_replicas_all_crashed() {
        let ring = [at(10), at(20), at(30), at(40)];
        // Key 15 is held by 20, then 30 and 40; key 35 by 40, then 10 (round the circle).
        let names = [name(15), name(35)];
        let crashed = BTreeSet::from([at(20).addr, at(30).addr, at(40).addr]);
        assert_eq!(doomed_fraction(&ring, &names, 1, &crashed), 1.0);
        assert_eq!(doomed_fraction(&ring, &names, 2, &crashed), 0.5);
        assert_eq!(doomed_fraction(&ring, &names, 3, &crashed), 0.5);
        assert_eq!(doomed_fraction(&ring, &names, 4, &crashed), 0.0, "10 lives");
    }
}
