//! Building a Chord ring of many nodes through the protocol itself.
//!
//! A [`SimRing`] holds N unchanged [`ChordNode`] cores on the simulator's network. It grows
//! the ring in **doubling waves**: one node creates the ring, then each wave adds as many
//! nodes as are already in it (1, 1, 2, 4, 8, ...), every newcomer joining through a member
//! chosen at random. Between waves the network runs, one stabilize period at a time, until
//! the ring is **exact**: every live node's successor and predecessor are the ones the
//! sorted list of ids says they should be. Fingers may still be converging then; they only
//! make lookups short, never wrong.
//!
//! Why waves: a thousand nodes joining through one member at the same instant all land on
//! its successor list and have to be sorted out by `stabilize` one neighbour at a time.
//! Joining through random members of a ring that is already exact spreads the newcomers
//! over the whole circle, so each wave settles in a few stabilize rounds, and the number
//! of waves is only log2 N.
//!
//! Nothing here reaches into a core: nodes are only built, started, crashed, and read.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use p2plab_chord::{ChordConfig, ChordNode, Id, LookupRules, NodeRef};
use p2plab_netsim::{Latency, NodeIdx, TestNet};
use p2plab_peer_protocol::{Instant, Library};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::progress::Progress;

/// The simulator's network of Chord cores.
pub type ChordNet = TestNet<ChordNode>;

/// How long one wave may take to become exact before the build is declared stuck.
/// A healthy wave settles in a handful of stabilize periods; a hundred is a broken ring.
pub const MAX_WAVE_PERIODS: u32 = 100;

/// How many `fix_fingers` periods an exact ring may take until every finger is right. A
/// cycle over the table takes about log2 N + 1 calls (a lookup answer fills every finger
/// it covers), so a few hundred periods mean a finger that never converges.
const MAX_FINGER_PERIODS: u32 = 1_000;

/// `fix_fingers` periods between two checks of every finger (a check reads N · m entries).
const FINGER_CHECK_PERIODS: u32 = 10;

/// The protocol settings every node of a simulated ring shares, as experiment files give
/// them. Periods are in milliseconds of virtual time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RingParams {
    /// Period of `stabilize`.
    pub stabilize_ms: u64,
    /// Period of `fix_fingers` (one finger per call).
    pub fix_fingers_ms: u64,
    /// Period of `check_predecessor`.
    pub check_predecessor_ms: u64,
    /// r: successor-list length.
    pub successors: usize,
    /// Copies of every index entry.
    pub replicas: usize,
    /// Re-publication period in seconds; `None` never re-publishes (entries then live
    /// forever), which is how the paper's static experiments treat keys.
    pub republish_s: Option<u64>,
    /// One-way latency of every message: uniform between these bounds, in milliseconds.
    pub latency_ms: [u64; 2],
    /// p2plab's lookup rules or the paper simulator's; each experiment sets it per series.
    #[serde(skip)]
    pub lookup_rules: LookupRules,
}

impl Default for RingParams {
    fn default() -> Self {
        RingParams {
            stabilize_ms: 1_000,
            fix_fingers_ms: 500,
            check_predecessor_ms: 2_000,
            successors: p2plab_chord::DEFAULT_SUCCESSORS,
            replicas: p2plab_chord::DEFAULT_REPLICAS,
            republish_s: None,
            latency_ms: [5, 50],
            lookup_rules: LookupRules::P2plab,
        }
    }
}

/// Stands for "never" in periods a core needs as a [`Duration`]: a simulated year.
const NEVER: Duration = Duration::from_secs(365 * 24 * 3600);

impl RingParams {
    /// The stabilize period as a duration.
    pub fn stabilize(&self) -> Duration {
        Duration::from_millis(self.stabilize_ms)
    }

    /// The latency model of the network.
    pub fn latency(&self) -> Latency {
        let [lo, hi] = self.latency_ms;
        Latency::Uniform(Duration::from_millis(lo), Duration::from_millis(hi.max(lo)))
    }

    /// The configuration of the node at `addr`, joining through `join`.
    pub fn config(&self, addr: SocketAddr, join: Option<SocketAddr>, seed: u64) -> ChordConfig {
        let mut c = ChordConfig::new(addr, join, Arc::new(Library::empty()));
        c.stabilize_every = self.stabilize();
        c.fix_fingers_every = Duration::from_millis(self.fix_fingers_ms);
        c.check_predecessor_every = Duration::from_millis(self.check_predecessor_ms);
        c.successors = self.successors;
        c.replicas = self.replicas;
        c.lookup_rules = self.lookup_rules;
        match self.republish_s {
            Some(s) => c.republish_every = Duration::from_secs(s),
            None => {
                c.republish_every = NEVER;
                c.entry_ttl = NEVER;
                c.early_republish = false;
            }
        }
        c.seed = seed;
        c
    }
}

/// What building the ring took.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Formation {
    /// Nodes in the ring.
    pub nodes: usize,
    /// Waves of joins.
    pub waves: u32,
    /// Virtual time from the first node's start to the last wave's exact ring.
    pub virtual_secs: f64,
}

/// A ring of Chord cores on the simulator's network, and what is known about it.
pub struct SimRing {
    /// The network; public so drivers can run it, crash nodes and read cores.
    pub net: ChordNet,
    /// The settings every node was built with.
    pub params: RingParams,
    /// Chooses bootstrap nodes, crash victims, lookup origins and keys.
    pub rng: ChaCha8Rng,
    seed: u64,
    /// The bar that shows simulated time, events and events per second, if any.
    progress: Option<Progress>,
}

impl SimRing {
    /// An empty network for a ring with these settings, seeded.
    pub fn new(params: RingParams, seed: u64) -> Self {
        SimRing {
            net: TestNet::new(params.latency(), seed),
            params,
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_c0de),
            seed,
            progress: None,
        }
    }

    /// Builds a ring of `n` nodes in doubling waves, each wave run until the ring is exact.
    ///
    /// # Errors
    /// When a wave is not exact after [`MAX_WAVE_PERIODS`] stabilize periods.
    pub fn build(params: RingParams, seed: u64, n: usize) -> anyhow::Result<(Self, Formation)> {
        let mut ring = SimRing::new(params, seed);
        let formation = ring.grow(n)?;
        Ok((ring, formation))
    }

    /// Grows the ring to `n` nodes in doubling waves, each run until the ring is exact.
    ///
    /// # Errors
    /// When a wave is not exact after [`MAX_WAVE_PERIODS`] stabilize periods.
    pub fn grow(&mut self, n: usize) -> anyhow::Result<Formation> {
        let started = self.net.now();
        self.net.reserve(n.saturating_sub(self.net.len()));
        let mut waves = 0;
        while self.net.len() < n {
            let size = self.net.len().clamp(1, n - self.net.len());
            self.add_wave(size);
            self.settle()?;
            waves += 1;
        }
        Ok(Formation {
            nodes: self.net.len(),
            waves,
            virtual_secs: self.net.now().saturating_since(started).as_secs_f64(),
        })
    }

    /// Adds `size` nodes at once, each joining through a random live member (the very first
    /// node creates the ring).
    pub fn add_wave(&mut self, size: usize) -> Vec<NodeIdx> {
        let members: Vec<NodeIdx> = self.net.alive().collect();
        (0..size)
            .map(|_| {
                let join = members.choose(&mut self.rng).map(|&m| self.net.addr(m));
                self.add_node(join)
            })
            .collect()
    }

    /// Adds one node joining through `join` (or creating a ring), and starts it now.
    pub fn add_node(&mut self, join: Option<SocketAddr>) -> NodeIdx {
        let idx = self.net.len();
        let addr = ChordNet::addr_for(idx);
        let seed = self.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ idx as u64;
        let node = ChordNode::new(self.params.config(addr, join, seed));
        self.net.add_at(addr, node)
    }

    /// Runs one stabilize period at a time until the ring is exact.
    ///
    /// # Errors
    /// When it is not exact after [`MAX_WAVE_PERIODS`] periods.
    pub fn settle(&mut self) -> anyhow::Result<Duration> {
        let start = self.net.now();
        for _ in 0..MAX_WAVE_PERIODS {
            if self.is_exact() {
                return Ok(self.net.now().saturating_since(start));
            }
            self.advance(self.params.stabilize());
        }
        if self.is_exact() {
            return Ok(self.net.now().saturating_since(start));
        }
        bail!(
            "the ring of {} nodes is not exact after {MAX_WAVE_PERIODS} stabilize periods",
            self.members().len()
        )
    }

    /// The live, joined nodes' references, sorted by id: the true ring.
    pub fn members(&self) -> Vec<NodeRef> {
        let mut m: Vec<NodeRef> = self
            .net
            .alive()
            .map(|i| self.net.node(i))
            .filter(|n| n.is_joined())
            .map(ChordNode::me)
            .collect();
        m.sort_by_key(|n| n.id);
        m
    }

    /// True when every live node is joined and has the true successor and predecessor.
    pub fn is_exact(&self) -> bool {
        let members = self.members();
        let live = self.net.alive().count();
        live == members.len()
            && members.iter().enumerate().all(|(pos, m)| {
                let Some(idx) = self.net.idx_of(m.addr) else {
                    return false;
                };
                let node = self.net.node(idx);
                let len = members.len();
                let succ = members[(pos + 1) % len];
                let pred = members[(pos + len - 1) % len];
                node.successor() == succ && (len == 1 || node.predecessor() == Some(pred))
            })
    }

    /// How many live, joined nodes do not have the true successor: how far from exact a
    /// ring that [`SimRing::settle`] gave up on still is.
    pub fn wrong_successors(&self) -> usize {
        let members = self.members();
        let len = members.len();
        members
            .iter()
            .enumerate()
            .filter(|(pos, m)| {
                self.net
                    .idx_of(m.addr)
                    .is_none_or(|idx| self.net.node(idx).successor() != members[(pos + 1) % len])
            })
            .count()
    }

    /// How many fingers, over all live nodes, point at the true successor of their start:
    /// how far `fix_fingers` has converged. See [`FingerCount`] for which ones matter.
    pub fn finger_count(&self) -> FingerCount {
        let members = self.members();
        let mut count = FingerCount::default();
        for m in &members {
            let Some(idx) = self.net.idx_of(m.addr) else {
                continue;
            };
            let node = self.net.node(idx);
            let mut previous = None;
            for (i, finger) in node.fingers().enumerate() {
                let truth = true_successor(&members, node.finger_start(i + 1));
                let right = u64::from(finger == Some(truth));
                if previous == Some(truth) {
                    count.trivial += 1;
                    count.trivial_right += right;
                } else {
                    count.distinct += 1;
                    count.distinct_right += right;
                }
                previous = Some(truth);
            }
        }
        count
    }

    /// Runs `fix_fingers` periods until every finger of every live node is right.
    /// Returns the virtual time it took.
    ///
    /// # Errors
    /// When they are not all right after [`MAX_FINGER_PERIODS`] periods.
    pub fn converge_fingers(&mut self) -> anyhow::Result<Duration> {
        Ok(self.converge_fingers_within(MAX_FINGER_PERIODS)?)
    }

    /// Runs `fix_fingers` periods until every finger of every live node is right, for at
    /// most `periods` of them (checked every [`FINGER_CHECK_PERIODS`]). Returns the virtual
    /// time it took.
    ///
    /// # Errors
    /// When they are not all right in time: how long it waited, and the fingers then.
    pub fn converge_fingers_within(&mut self, periods: u32) -> Result<Duration, FingersWrong> {
        let start = self.net.now();
        let chunk = Duration::from_millis(self.params.fix_fingers_ms) * FINGER_CHECK_PERIODS;
        for _ in 0..periods.div_ceil(FINGER_CHECK_PERIODS) {
            if self.finger_count().all_right() {
                return Ok(self.net.now().saturating_since(start));
            }
            self.advance(chunk);
        }
        let count = self.finger_count();
        let after = self.net.now().saturating_since(start);
        if count.all_right() {
            return Ok(after);
        }
        Err(FingersWrong { after, count })
    }

    /// A random live node.
    pub fn random_live(&mut self) -> Option<NodeIdx> {
        let live: Vec<NodeIdx> = self.net.alive().collect();
        live.choose(&mut self.rng).copied()
    }

    /// Crashes a random `fraction` of the live nodes at once; returns them.
    pub fn crash_fraction(&mut self, fraction: f64) -> Vec<NodeIdx> {
        let live: Vec<NodeIdx> = self.net.alive().collect();
        let count = (live.len() as f64 * fraction).round() as usize;
        let victims: Vec<NodeIdx> = live
            .choose_multiple(&mut self.rng, count)
            .copied()
            .collect();
        for &v in &victims {
            self.net.crash(v);
        }
        victims
    }

    /// Shows a progress bar labelled `label` over the next `span` of simulated time.
    pub fn show_progress(&mut self, label: &str, span: Duration) {
        let now = self.net.now();
        self.progress = Some(Progress::new(label, now, now + span, self.net.events()));
    }

    /// Runs the network for `d` of virtual time, and moves the progress bar.
    pub fn advance(&mut self, d: Duration) {
        self.net.run_for(d);
        if let Some(p) = &mut self.progress {
            p.tick(self.net.now(), self.net.events());
        }
    }

    /// Runs the network until virtual time `t`.
    pub fn advance_to(&mut self, t: Instant) {
        let d = t.saturating_since(self.net.now());
        self.advance(d);
    }

    /// Clears the progress bar, if one is shown.
    pub fn hide_progress(&mut self) {
        if let Some(p) = self.progress.take() {
            p.finish();
        }
    }

    /// The current virtual time.
    pub fn now(&self) -> Instant {
        self.net.now()
    }

    /// A uniformly random draw in `[0, 1)` from the ring's generator.
    pub fn uniform(&mut self) -> f64 {
        self.rng.random()
    }
}

/// Fingers right, over a whole ring, counted apart by whether they matter.
///
/// Of a node's m = 160 fingers only about log2 N name different nodes; the rest repeat the
/// finger before them (their starts all fall before the same successor) and are right as
/// soon as that one is. A finger is **distinct** when its true value differs from the
/// previous finger's true value (finger 1, the successor, always is), **trivial** otherwise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FingerCount {
    /// Distinct fingers.
    pub distinct: u64,
    /// Distinct fingers that point at the true successor of their start.
    pub distinct_right: u64,
    /// Trivial fingers.
    pub trivial: u64,
    /// Trivial fingers that are right.
    pub trivial_right: u64,
}

impl FingerCount {
    /// True when every finger, distinct or trivial, is right.
    pub fn all_right(&self) -> bool {
        self.distinct_right == self.distinct && self.trivial_right == self.trivial
    }

    /// The fraction of the distinct fingers that are right (1 for an empty ring).
    pub fn distinct_fraction(&self) -> f64 {
        if self.distinct == 0 {
            1.0
        } else {
            self.distinct_right as f64 / self.distinct as f64
        }
    }
}

/// Fingers that [`SimRing::converge_fingers_within`] stopped waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FingersWrong {
    /// The virtual time it waited.
    pub after: Duration,
    /// The fingers when it stopped.
    pub count: FingerCount,
}

impl std::fmt::Display for FingersWrong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} distinct fingers still wrong after {} s",
            self.count.distinct - self.count.distinct_right,
            self.count.distinct,
            self.after.as_secs()
        )
    }
}

impl std::error::Error for FingersWrong {}

/// successor(`key`) on the true ring `members` (sorted by id).
pub fn true_successor(members: &[NodeRef], key: Id) -> NodeRef {
    let pos = members.partition_point(|n| n.id < key);
    members[pos % members.len()]
}
