//! [`Player`]: one network's whole timeline on virtual time, step for step as
//! [`crate::runner`] plays it on real sockets.
//!
//! Every number comes from the same place as in a real run: queries from
//! [`Plan::queries`], victims from [`Plan::victims_rng`], verdicts from
//! [`workload::verdict`], traffic from the nodes' own counters through
//! [`crate::stats::Snapshot`], phase numbers from [`PhaseReport::fill`]. Only the clock is
//! virtual: a phase lasts as long as its queries take in simulated time, and a query's
//! latency is the virtual time from its command to its answer.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use p2plab_peer_protocol::{Command, Holder, Instant};
use p2plab_runtime::handle::CALL_TIMEOUT;
use p2plab_runtime::NodeError;
use p2plab_sim::progress::Progress;

use super::book::{Book, Flight, Truth};
use super::world::SimCluster;
use crate::churn::{Change, Schedule};
use crate::cluster::HolderMap;
use crate::plan::{Plan, PlannedQuery};
use crate::ready::poll_interval;
use crate::report::{NetworkReport, PhaseReport};
use crate::spec::{Network, Scenario, Step};
use crate::stats::Snapshot;
use crate::workload::{self, Tally};
use crate::{READY_TIMEOUT_BASE, READY_TIMEOUT_PER_NODE};

/// A `wait` step runs in slices this long, the bar ticking between them.
const WAIT_SLICE: Duration = Duration::from_millis(100);

/// One network of one run, on its own virtual network.
pub struct Player<'a> {
    /// The network and its nodes.
    pub cluster: SimCluster,
    scenario: &'a Scenario,
    plan: Arc<Plan>,
    book: Book,
    /// Whether to draw a progress bar per step, and the current step's bar.
    show_progress: bool,
    bar: Option<Progress>,
    /// While a partition lasts, the side of each peer.
    cut: Option<Vec<usize>>,
}

impl<'a> Player<'a> {
    /// A player for `network` with `plan`'s peers, nothing started yet; `progress` draws a
    /// bar over each step's simulated time on standard error (when it is a terminal).
    pub fn new(scenario: &'a Scenario, plan: Arc<Plan>, network: Network, progress: bool) -> Self {
        let cluster = SimCluster::new(
            network,
            plan.clone(),
            scenario.settings.clone(),
            &scenario.sim,
            scenario.seed,
        );
        Player {
            cluster,
            scenario,
            plan,
            book: Book::default(),
            show_progress: progress,
            bar: None,
            cut: None,
        }
    }

    /// Opens the bar of a step expected to last `expected` of simulated time.
    fn begin(&mut self, step: &Step, expected: Duration) {
        if self.show_progress {
            let label = format!(
                "N={} {} {}",
                self.plan.peers(),
                self.cluster.network,
                step.label()
            );
            let (now, events) = (self.now(), self.cluster.net.events());
            self.bar = Some(Progress::new(&label, now, now + expected, events));
        }
    }

    fn tick(&mut self) {
        let (now, events) = (self.now(), self.cluster.net.events());
        if let Some(bar) = &mut self.bar {
            bar.tick(now, events);
        }
    }

    fn end(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }

    /// How long `step` should last in simulated time, for its progress bar.
    fn expected(&self, step: &Step) -> Duration {
        let secs = match step {
            Step::Start { settle_s, .. } => {
                let n = self.plan.peers() as f64;
                settle_s
                    + (READY_TIMEOUT_BASE + READY_TIMEOUT_PER_NODE * n as u32).as_secs_f64() / 10.0
            }
            Step::Wait { seconds, .. }
            | Step::Churn { seconds, .. }
            | Step::Partition { seconds, .. } => *seconds,
            Step::Queries { count, .. } => *count as f64 / self.scenario.workload.rate,
            Step::KillPeers { .. } | Step::KillServer { .. } => 0.0,
        };
        Duration::from_secs_f64(secs.max(0.001))
    }

    fn now(&self) -> Instant {
        self.cluster.net.now()
    }

    fn since(&self, t0: Instant) -> f64 {
        self.now().saturating_since(t0).as_secs_f64()
    }

    /// The `start` step: start every node, wait until the network is ready, settle.
    pub fn start(&mut self, step: &Step) -> anyhow::Result<NetworkReport> {
        let Step::Start { settle_s, .. } = step else {
            anyhow::bail!("the first step must be `start`");
        };
        let rss_before = crate::process::memory_kib("self").map_or(0, |m| m.0);
        let t0 = self.now();
        self.begin(step, self.expected(step));
        self.cluster.start_all();
        let n = self.plan.peers() as u32;
        let ready = self.wait_ready(READY_TIMEOUT_BASE + READY_TIMEOUT_PER_NODE * n);
        let startup_s = self.since(t0);
        self.cluster.net.run_for(Duration::from_secs_f64(*settle_s));
        let memory_kib = crate::process::memory_kib("self").map(|m| m.0.saturating_sub(rss_before));
        let after = self.cluster.snapshot();
        let mut p = self.phase_report(step, t0);
        p.fill(
            &Tally::default(),
            &Snapshot::zero_like(&after).delta(&after),
        );
        Ok(NetworkReport {
            network: self.cluster.network,
            startup_s,
            ready,
            not_ready: None,
            failure: None,
            memory_kib,
            phases: vec![p],
        })
    }

    fn wait_ready(&mut self, limit: Duration) -> bool {
        let give_up = self.now() + limit;
        loop {
            if self.cluster.is_ready() {
                return true;
            }
            if self.now() >= give_up {
                tracing::warn!(network = %self.cluster.network, "simulated network not ready after {limit:?}; going on");
                return false;
            }
            // As often as the real runner checks, in virtual time.
            self.cluster.net.run_for(poll_interval(self.plan.peers()));
            self.tick();
        }
    }

    fn phase_report(&self, step: &Step, t0: Instant) -> PhaseReport {
        PhaseReport {
            label: step.label().to_owned(),
            kind: step.kind().to_owned(),
            seconds: self.since(t0),
            live_peers: self.cluster.live().len(),
            server_up: self.cluster.server_up(),
            ..PhaseReport::default()
        }
    }

    /// One later step (number `k` of the timeline).
    pub fn phase(&mut self, step: &Step, k: u64) -> PhaseReport {
        let before = self.cluster.snapshot();
        let t0 = self.now();
        let w = &self.scenario.workload;
        self.begin(step, self.expected(step));
        match step {
            Step::Start { .. } => {}
            Step::Wait { seconds, .. } => self.wait(Duration::from_secs_f64(*seconds)),
            Step::Queries { count, .. } => {
                let queries = self.plan.queries(k, *count, w);
                self.drive(queries, None, k);
            }
            Step::KillPeers { fraction, .. } => {
                let live = self.cluster.live().len();
                let count = ((live as f64 * fraction).ceil() as usize).clamp(1, live.max(1));
                for v in self.cluster.pick_live(&mut self.plan.victims_rng(k), count) {
                    self.stop_peer(v, true);
                }
            }
            Step::KillServer { .. } => self.cluster.kill_server(),
            Step::Churn { seconds, .. } => {
                let count = (w.rate * seconds).round() as usize;
                let queries = self.plan.queries(k, count, w);
                self.drive(queries, Some(step), k);
            }
            Step::Partition {
                groups, seconds, ..
            } => {
                let sides = self.plan.sides(k, *groups);
                let mut side_of = vec![0; self.plan.peers()];
                for (s, side) in sides.iter().enumerate() {
                    for &p in side {
                        side_of[p] = s;
                    }
                }
                self.cluster.partition(&sides);
                self.cut = Some(side_of);
                let count = (w.rate * seconds).round() as usize;
                let queries = self.plan.queries(k, count, w);
                self.drive(queries, None, k);
                self.cut = None;
                self.cluster.heal();
            }
        }
        self.end();
        let after = self.cluster.snapshot();
        let mut p = self.phase_report(step, t0);
        p.fill(&self.tally(), &before.delta(&after));
        p
    }

    /// Lets `d` of simulated time pass, in slices so the bar moves.
    fn wait(&mut self, d: Duration) {
        let until = self.now() + d;
        while self.now() < until {
            self.cluster
                .net
                .run_until(until.min(self.now() + WAIT_SLICE));
            self.tick();
        }
    }

    /// Judges the phase's answers. Downloads are not simulated (the cores do not carry
    /// files; the runtime does), so the tally has none rather than made-up ones.
    fn tally(&mut self) -> Tally {
        // A holder map without addresses still names Napster holders by their nick.
        let by_nick = HolderMap::default();
        let mut tally = Tally::default();
        for a in self.book.take_answers() {
            let truth = &a.flight.truth;
            let holder_of = |h: &Holder| match h {
                Holder::Http { addr, .. } => truth.holders.get(addr).copied(),
                Holder::Napster { .. } => by_nick.index(h),
            };
            let v = workload::verdict(
                &self.plan,
                &a.flight.query,
                &truth.alive,
                holder_of,
                &a.result,
            );
            tally.add(v, a.latency);
        }
        tally
    }

    /// What a query is judged against: who is up. During a cut, one truth per side, in
    /// which only that side's peers are up: a holder across the cut is as good as down.
    fn truths(&self) -> Vec<Rc<Truth>> {
        let (alive, holders) = (self.cluster.alive(), self.cluster.holder_addrs());
        let Some(side_of) = &self.cut else {
            return vec![Rc::new(Truth { alive, holders })];
        };
        let sides = side_of.iter().max().map_or(1, |s| s + 1);
        (0..sides)
            .map(|s| {
                Rc::new(Truth {
                    alive: alive
                        .iter()
                        .zip(side_of)
                        .map(|(&up, &side)| up && side == s)
                        .collect(),
                    holders: holders.clone(),
                })
            })
            .collect()
    }

    /// Asks `queries` at the workload's rate (at most `concurrency` in flight) and, for a
    /// churn step, makes peers leave and rejoin on their schedules meanwhile — the real
    /// runner's loop, on virtual time.
    fn drive(&mut self, queries: Vec<PlannedQuery>, churn: Option<&Step>, k: u64) {
        let w = &self.scenario.workload;
        let t0 = self.now();
        let at = |secs: f64| t0 + Duration::from_secs_f64(secs);
        let mut churn = Schedule::new(churn, &self.cluster.live(), &self.plan, k);
        let mut rng = self.plan.victims_rng(k);
        let mut truths = self.truths();
        let mut next_q = 0;
        loop {
            let tq = (next_q < queries.len()).then(|| next_q as f64 / w.rate);
            let Some(t) = [tq, churn.next_at()]
                .into_iter()
                .flatten()
                .min_by(f64::total_cmp)
            else {
                break;
            };
            self.advance(at(t), false);
            self.tick();
            if tq == Some(t) {
                let q = queries[next_q].clone();
                next_q += 1;
                while self.book.in_flight() >= w.concurrency {
                    self.await_answer();
                }
                self.ask(q, &truths);
            } else {
                match churn.pop(self.cluster.peers(), &mut rng) {
                    Some(Change::Leave(v)) => self.stop_peer(v, churn.crash()),
                    Some(Change::Join(d)) => self.cluster.start_peer(d),
                    None => continue,
                }
                truths = self.truths();
            }
        }
        while self.book.in_flight() > 0 {
            self.await_answer();
        }
    }

    /// Asks one query from its planned peer, or the next one up.
    fn ask(&mut self, query: PlannedQuery, truths: &[Rc<Truth>]) {
        let n = self.plan.peers();
        let Some((peer, node)) = (0..n).find_map(|j| {
            let peer = (query.origin + j) % n;
            self.cluster.node_of(peer).map(|node| (peer, node))
        }) else {
            return;
        };
        let side = self.cut.as_ref().map_or(0, |side_of| side_of[peer]);
        let truth = truths[side.min(truths.len() - 1)].clone();
        let text = query.text.clone();
        let request = self.book.launch(Flight {
            query,
            node,
            asked: self.now(),
            truth,
        });
        self.cluster.net.command(
            node,
            Command::Search {
                request,
                query: text,
            },
        );
    }

    /// Runs the network until `until`, or until an answer or goodbye arrives if `early`.
    /// Returns whether one arrived.
    fn advance(&mut self, until: Instant, early: bool) -> bool {
        let limit = until.saturating_since(self.now());
        let book = &mut self.book;
        self.cluster
            .net
            .run_until_cond(limit, |net| book.collect(net) && early)
    }

    /// Runs until a search in flight is answered, or until the oldest one has waited as
    /// long as a real node's handle waits ([`CALL_TIMEOUT`]), which then fails it.
    fn await_answer(&mut self) {
        let Some(oldest) = self.book.oldest() else {
            return;
        };
        if !self.advance(oldest + CALL_TIMEOUT, true) {
            let why = NodeError::Timeout(CALL_TIMEOUT).to_string();
            self.book.expire(oldest, self.now(), &why);
        }
    }

    /// Crashes peer `v`, or makes it leave politely and then stop, as a real node's handle
    /// does; searches it was running end as on real sockets, with "the node has stopped".
    fn stop_peer(&mut self, v: usize, crash: bool) {
        let Some(node) = self.cluster.detach_peer(v) else {
            return;
        };
        if !crash {
            let request = self.book.request();
            self.book.watch(node);
            self.cluster.net.command(node, Command::Leave { request });
            let give_up = self.now() + CALL_TIMEOUT;
            let mut left = false;
            while !left && self.now() < give_up {
                self.advance(give_up, true);
                left = self.book.has_left(node);
            }
            if !left {
                self.book.unwatch(node);
            }
        }
        self.cluster.net.crash(node);
        let why = NodeError::Stopped.to_string();
        self.book.fail_at(node, self.now(), &why);
    }
}
