//! Experiment 3: lookups after simultaneous failures (SIGCOMM 2001 §6.4, Fig. 11).
//!
//! The paper: "We consider again a 10^4 node network that stores 10^6 keys, and randomly
//! select a fraction p of nodes that fail. After the failures occur, we wait for the
//! network to finish stabilizing, and then measure the fraction of keys that could not be
//! looked up correctly. A correct lookup of a key is one that finds the node that was
//! originally responsible for the key." Its keys are not replicated, so the failed
//! fraction is "almost exactly p": the keys whose node died.
//!
//! Here: build the ring, publish names (each record at successor(key) and, with r
//! replicas, the next r - 1 nodes), crash a random fraction p of the nodes at once, wait
//! for the network to finish stabilizing — run until every survivor's successor and
//! predecessor are right again, then `settle_periods` more periods — then search for
//! random published names of the surviving publishers from random live nodes (a crashed
//! publisher's records are withdrawn by design). **A lookup fails** when its search
//! returns no hit naming the publisher — whether routing went astray or every copy of the
//! record died. Nothing re-publishes during the run, as in the paper. When the failure
//! took all of some node's successors (likely once p^s · N ≥ 1, for successor lists of s),
//! stabilization alone cannot mend the ring: after [`MAX_WAVE_PERIODS`] periods the
//! lookups run on the ring as it is, and the table says how many successors were wrong.
//! A second batch waits for `fix_fingers` to make every finger right — the paper's
//! simulator's state — but at most `FINGER_WAIT_PERIODS` periods, since on a ring
//! stabilizing cannot mend some fingers never become right; the table says which batches
//! ran on fingers not all right, and how many were wrong.
//!
//! [`MAX_WAVE_PERIODS`]: crate::chord::MAX_WAVE_PERIODS
//!
//! The paper's 10^6 keys are placed by hashing alone ([`lost_fraction`]): which of them
//! lost every copy follows from the ids, no message needed. Publishing and looking up
//! 10^6 records through the protocol, for every point, is beyond a shared two-core
//! machine; the lookups sample the published names instead.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use p2plab_chord::{Id, LookupRules, NodeRef, M};

use crate::chord::{askable, publish, run_batches, FingersWrong, SimRing};

use super::path_length::series;
use super::report::{Plot, Report, Series};
use super::rules;
use super::spec::FailuresSpec;

/// Lookups in flight at once.
const BATCH: usize = 500;

/// How long publication may take before the failure.
const PUBLISH_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// The most `fix_fingers` periods the second batch waits for every finger to be right.
/// After a failure that stabilizing mends, the fingers are all right within a few dozen
/// periods: each call fixes one finger, a node has about log2 N distinct ones, and an
/// answer fills every finger it covers (the table's 'fingers right' column gives the time
/// each run took). Once p^s · N ≥ 1 for successor lists of s, some survivor has likely
/// lost its whole successor list; fingers that should point past it then never become
/// right, and every period spent waiting for them costs a period of the whole ring's
/// traffic in wall time, for nothing. This bound leaves a healthy ring about twice the
/// time its fingers need, and stops waiting on a broken one.
const FINGER_WAIT_PERIODS: u32 = 60;

/// What one run measured.
struct Point {
    /// Fraction of lookups that failed.
    failed: f64,
    /// Lookups that failed although the key's owner held the record.
    routing: u64,
    /// Lookups of names no live node held.
    lost: u64,
    /// Fraction of the hashed keys whose `r` holders were all among the crashed.
    keys_lost: f64,
    /// How the ring came out of stabilizing: the periods it took to be exact, or the
    /// survivors whose successor was still wrong when it stopped trying.
    ring: Result<u32, usize>,
    /// Published names not asked for because their publisher crashed.
    withdrawn: u64,
    /// How the fingers came out of the wait before the second batch: the time they took
    /// to be all right (the paper's simulator refreshed every finger at each
    /// stabilization), or how far from right they were when it stopped waiting.
    fingers: Result<std::time::Duration, FingersWrong>,
    /// Fraction of the second batch of lookups that failed.
    second: f64,
}

/// The fraction of `keys` whose holders on the ring `members` — the key's successor and
/// the next `replicas - 1` nodes — are all in `crashed`.
fn lost_fraction(
    members: &[NodeRef],
    keys: &[Id],
    replicas: usize,
    crashed: &BTreeSet<SocketAddr>,
) -> f64 {
    let all_crashed = |key: &&Id| {
        let first = members.partition_point(|m| m.id < **key);
        (0..replicas.min(members.len()))
            .all(|k| crashed.contains(&members[(first + k) % members.len()].addr))
    };
    keys.iter().filter(all_crashed).count() as f64 / keys.len().max(1) as f64
}

/// One point: the fraction of lookups that failed after a fraction `p` of nodes did.
fn point(
    spec: &FailuresSpec,
    rules: LookupRules,
    replicas: usize,
    p: f64,
    keys: &[Id],
) -> anyhow::Result<Point> {
    let mut params = rules::with(&spec.ring, rules);
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
    // The lookups ask only for the names of publishers that survived (`askable`): what
    // failure tests here is whether the record's *holders* — its owner and replicas —
    // survived and can be found, as in the paper, where keys outlive nodes.
    let names: Vec<Id> = askable(&ring, &published)
        .names
        .iter()
        .map(|n| n.key)
        .collect();
    let keys = if keys.is_empty() { &names } else { keys };
    let keys_lost = lost_fraction(&before, keys, replicas, &crashed);
    let stabilize = ring.params.stabilize();
    let settled = match ring.settle() {
        Ok(took) => Ok((took.as_millis() / stabilize.as_millis().max(1)) as u32),
        Err(_) => Err(ring.wrong_successors()),
    };
    for _ in 0..spec.settle_periods {
        ring.advance(ring.params.stabilize());
    }
    let stats = run_batches(&mut ring, &published, spec.lookups, BATCH);
    let fingers = ring.converge_fingers_within(FINGER_WAIT_PERIODS);
    let second = run_batches(&mut ring, &published, spec.lookups, BATCH);
    Ok(Point {
        failed: stats.failed_fraction(),
        routing: stats.routing_failures,
        lost: stats.lost,
        keys_lost,
        ring: settled,
        withdrawn: stats.withdrawn,
        fingers,
        second: second.failed_fraction(),
    })
}

/// The series each rules run: the paper's set-up has no replicas; p2plab's, every count.
fn series_of(spec: &FailuresSpec) -> Vec<(LookupRules, usize)> {
    let mut out = vec![(LookupRules::Paper, 1)];
    out.extend(spec.replicas.iter().map(|&r| (LookupRules::P2plab, r)));
    out
}

/// Runs the experiment.
///
/// # Errors
/// When a ring does not become exact before the failure (after it, the table says how far
/// from exact it stayed).
pub fn run(spec: &FailuresSpec) -> anyhow::Result<Report> {
    let keys: Vec<Id> = (0..spec.keys)
        .map(|k| Id::of_key(&format!("key{k}"), M))
        .collect();
    let mut rows = Vec::new();
    let mut out: Vec<Series> = Vec::new();
    for (rules, r) in series_of(spec) {
        let mut points = Vec::new();
        for &p in &spec.fractions {
            let pt = point(spec, rules, r, p, &keys)?;
            points.push((p, pt.failed));
            rows.push(vec![
                rules::name(rules).into(),
                format!("{r}"),
                format!("{p:.2}"),
                match pt.ring {
                    Ok(periods) => format!("exact in {periods}"),
                    Err(wrong) => format!(
                        "not exact in {}: {wrong} of {} wrong",
                        crate::chord::MAX_WAVE_PERIODS,
                        spec.nodes - (spec.nodes as f64 * p).round() as usize
                    ),
                },
                format!("{}", pt.withdrawn),
                format!("{:.4}", pt.failed),
                match &pt.fingers {
                    Ok(took) => format!("yes, in {} s", took.as_secs()),
                    Err(wrong) => format!("no: {wrong}"),
                },
                format!("{:.4}", pt.second),
                format!("{}", pt.routing),
                format!("{}", pt.lost),
                format!("{:.4}", pt.keys_lost),
                if r == 1 {
                    format!("{p:.2}")
                } else {
                    "—".into()
                },
                format!("{:.6}", p.powi(i32::try_from(r).unwrap_or(i32::MAX))),
            ]);
        }
        out.push(series(
            &format!("{}, replicas {r}", rules::name(rules)),
            points,
        ));
    }
    out.push(Series {
        name: "paper (no replicas): failed ≈ p".into(),
        paper: true,
        points: spec.fractions.iter().map(|&p| (p, p)).collect(),
    });
    Ok(report(spec, rows, out))
}

fn report(spec: &FailuresSpec, rows: Vec<Vec<String>>, series: Vec<Series>) -> Report {
    let counted = if spec.keys == 0 {
        format!("the {} published names", spec.names)
    } else {
        format!("{} keys placed by hashing alone (no messages)", spec.keys)
    };
    Report {
        title: format!(
            "Failed lookups after a fraction p of {} nodes fail at once",
            spec.nodes
        ),
        notes: vec![
            "Paper: SIGCOMM 2001 §6.4, Fig. 11: \"a 10^4 node network that stores 10^6 \
             keys\"; a fraction p of the nodes fails, the network finishes stabilizing, \
             and \"the lookup failure rate is almost exactly p\" — the keys whose node died \
             (no replication). Its values are given as a plot and that sentence: the paper \
             column is p."
                .into(),
            rules::note(&spec.ring),
            format!(
                "Seed {}. {} names published, then p of the nodes crash at once; once the \
                 ring is exact again and {} stabilize periods more have passed, {} lookups \
                 from random live nodes for names whose publisher survived: a crashed \
                 publisher's entries are withdrawn by design, so its names would read as \
                 lost whatever their holders did ('withdrawn': the published names left \
                 out). Failed = no hit naming the publisher (routing failures and lost \
                 names are counted apart, and both count as failed). \
                 'ring': the stabilize periods the survivors took to have every successor \
                 and predecessor right; a ring not exact after {} periods (a node whose \
                 whole successor list crashed cannot find the ring again by stabilizing) is \
                 measured as it is, with the survivors whose successor is wrong.",
                spec.seed,
                spec.names,
                spec.settle_periods,
                spec.lookups,
                crate::chord::MAX_WAVE_PERIODS
            ),
            format!(
                "'keys lost': the fraction of {counted} whose r holders (the key's \
                 successor and the next r - 1 nodes before the failure) all crashed — what \
                 no routing can find. The lookups sample published names, so 'lost names' / \
                 lookups estimates it. Last column: p^r, its expectation if failures \
                 strike independently."
            ),
            format!(
                "'failed, second batch': the same number of lookups again after waiting for \
                 fix_fingers to make every finger of every survivor right, as the paper's \
                 simulator had them: it refreshed every finger at each stabilization (§6.5), \
                 while fix_fingers refreshes one finger per call. The wait stops after {} \
                 fix_fingers periods of {} ms (a survivor whose whole successor list crashed \
                 leaves fingers that never become right); 'fingers right' says whether they \
                 all were, and when, or how many distinct fingers were still wrong when the \
                 second batch ran. 'routing failures' and 'lost names' are of the first \
                 batch.",
                FINGER_WAIT_PERIODS, spec.ring.fix_fingers_ms
            ),
            "Under the paper's rules the failed fraction is the keys lost plus the lookups \
             whose finger path still met a crashed node; on fingers all right only the \
             keys lost remain. On a ring that stabilizing made exact, p2plab's retries \
             leave only the keys lost either way, and its replicas shrink those to about \
             p^r; on a ring it could not mend, a lookup that reaches a survivor with a \
             wrong successor can fail under both rules."
                .into(),
        ],
        columns: [
            "rules",
            "replicas",
            "p",
            "ring",
            "withdrawn",
            "failed",
            "fingers right",
            "failed, second batch",
            "routing failures",
            "lost names",
            "keys lost",
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
            series,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(id: u64) -> NodeRef {
        NodeRef {
            id: Id::from_u64(id),
            addr: SocketAddr::from(([10, 0, 0, id as u8], 6346)),
        }
    }

    #[test]
    fn a_key_is_lost_when_its_successor_and_replicas_all_crashed() {
        let ring = [at(10), at(20), at(30), at(40)];
        // Key 15 is held by 20, then 30 and 40; key 35 by 40, then 10 (round the circle).
        let keys = [Id::from_u64(15), Id::from_u64(35)];
        let crashed = BTreeSet::from([at(20).addr, at(30).addr, at(40).addr]);
        assert_eq!(lost_fraction(&ring, &keys, 1, &crashed), 1.0);
        assert_eq!(lost_fraction(&ring, &keys, 2, &crashed), 0.5);
        assert_eq!(lost_fraction(&ring, &keys, 3, &crashed), 0.5);
        assert_eq!(lost_fraction(&ring, &keys, 4, &crashed), 0.0, "10 lives");
    }
}
