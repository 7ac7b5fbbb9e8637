//! One big run: build a ring of N nodes, publish names, look them up, and say what it took.
//!
//! This is what `p2plab sim chord --nodes N --lookups L --seed S` runs. Ring formation
//! goes through the protocol (see [`super::ring`]); the lookups are real searches
//! (see [`super::lookups`]). Wall-clock times are measured here for the report only; no
//! decision of the simulation ever depends on them.

use std::time::{Duration, Instant as WallInstant};

use serde::{Deserialize, Serialize};

use super::lookups::{publish, run_batches, LookupStats};
use super::ring::{FingerCount, Formation, RingParams, SimRing};
use super::stats::Summary;

/// Lookups in flight at once, at least: enough to keep the engine busy.
pub const LOOKUP_BATCH: usize = 1_000;

/// Nodes per lookup in flight on big rings: as many lookups as nodes, one per origin on
/// average. Every node runs its upkeep for as long as a batch is out, so on 10^5 nodes ten
/// batches of 10^4 would spend ten times more events on stabilize and fix_fingers than on
/// the lookups; a batch that grows with N keeps that overhead a fixed share. Hops are
/// unaffected: queueing stretches a lookup's time, never its path.
pub const NODES_PER_LOOKUP_IN_FLIGHT: usize = 1;

/// The batch size for a ring of `nodes`.
pub fn lookup_batch(nodes: usize) -> usize {
    (nodes / NODES_PER_LOOKUP_IN_FLIGHT).max(LOOKUP_BATCH)
}

/// The most distinct names published for the lookups to find; lookups pick among them.
/// Publishing costs a lookup per name, so this bounds the set-up work of a huge run.
pub const MAX_NAMES: usize = 20_000;

/// How long publication may take in virtual time before the lookups start anyway.
const PUBLISH_LIMIT: Duration = Duration::from_secs(120);

/// The simulated time the progress bar is drawn over: a guess at a big run's length (the
/// bar stops at its end while the counters go on).
const PROGRESS_SPAN: Duration = Duration::from_secs(300);

/// What a scale run measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScaleReport {
    /// Building the ring.
    pub formation: Formation,
    /// Wall-clock seconds the build took.
    pub build_wall_secs: f64,
    /// Fingers right when the lookups started, the distinct ones apart from the trivial.
    pub fingers: FingerCount,
    /// Names published for the lookups.
    pub names: usize,
    /// What became of the lookups.
    pub lookups: LookupStats,
    /// Their hops: mean, 1st and 99th percentile.
    pub hops: Summary,
    /// Wall-clock seconds publication and lookups took.
    pub lookup_wall_secs: f64,
    /// Virtual seconds from the first node's start to the last answer.
    pub virtual_secs: f64,
    /// Inputs the engine delivered to cores over the whole run.
    pub events: u64,
    /// The engine's digest of its event trace: equal digests, identical runs.
    pub digest: u64,
}

impl ScaleReport {
    /// Events per wall-clock second over the whole run.
    pub fn events_per_second(&self) -> f64 {
        self.events as f64 / (self.build_wall_secs + self.lookup_wall_secs).max(f64::MIN_POSITIVE)
    }
}

/// Builds a ring of `nodes` with `params`, then runs `lookups` lookups.
///
/// # Errors
/// When the ring does not become exact (see [`SimRing::build`]).
pub fn run(
    params: RingParams,
    nodes: usize,
    lookups: usize,
    seed: u64,
) -> anyhow::Result<(SimRing, ScaleReport)> {
    let wall = WallInstant::now();
    let mut ring = SimRing::new(params, seed);
    ring.show_progress("chord", PROGRESS_SPAN);
    let formation = ring.grow(nodes)?;
    let build_wall_secs = wall.elapsed().as_secs_f64();
    let wall = WallInstant::now();
    let names = lookups.clamp(1, MAX_NAMES);
    let published = publish(&mut ring, names, PUBLISH_LIMIT);
    let fingers = ring.finger_count();
    let stats = run_batches(&mut ring, &published, lookups, lookup_batch(nodes));
    ring.hide_progress();
    let report = ScaleReport {
        formation,
        build_wall_secs,
        fingers,
        names: published.len(),
        hops: stats.hop_summary(),
        lookups: stats,
        lookup_wall_secs: wall.elapsed().as_secs_f64(),
        virtual_secs: ring.now().as_micros() as f64 / 1e6,
        events: ring.net.events(),
        digest: ring.net.digest(),
    };
    Ok((ring, report))
}
