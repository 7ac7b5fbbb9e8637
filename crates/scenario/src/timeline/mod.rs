//! The timeline: a scenario's steps as a sans-IO state machine, like the protocol cores.
//!
//! [`Timeline`] holds one network's whole run — the plan, who is up, the searches in
//! flight, the report so far — and never touches a socket, a clock or a thread. The engine
//! that plays it asks [`Timeline::poll`] what to do, carries out the [`Action`] it gets, and
//! hands back what happened with [`Timeline::reply`]:
//!
//! ```text
//! loop {
//!     match timeline.poll(now) {
//!         Poll::Act(call)      => { carry it out; timeline.reply(now, its reply) }
//!         Poll::Act(request)   => start it; its reply comes later, stamped with its instant
//!         Poll::Wait{until, ..} => run until `until` (or until a reply, if `early`)
//!         Poll::Stepped(k)     => step k is over (wait here for the other networks)
//!         Poll::Done(report)   => stop every node; the report is the network's
//!     }
//! }
//! ```
//!
//! Two engines play it: real nodes on sockets ([`crate::sockets`]) and the simulator
//! ([`crate::sim`]). Every step, every seeded pick, every verdict and every number is made
//! here, so each exists on both engines by construction.
//!
//! ## The steps
//!
//! - `start`: Napster's index server, then every peer (Chord's in batches a stabilization
//!   period apart, so the ring places them); then the network's own readiness condition
//!   ([`crate::ready`]) is checked until it holds or [`ready_limit`] passes; then
//!   `settle_s`; then the counters and the memory.
//! - every later step is a phase: the counters before, the step's body, its searches
//!   drained, the downloads of the files it found, the counters after. So every message
//!   of the phase is counted in it; the nodes charge a download's messages to its fetch,
//!   not to the searches ([`crate::stats`]).
//! - bodies: `wait` lets time pass; `queries` and `churn` run a [`Drive`]; `kill_peers`
//!   crashes a seeded share of the live peers; `kill_server` crashes Napster's index server;
//!   `partition` cuts the network, drives its queries, and heals it.

pub(crate) mod action;
pub(crate) mod drive;
pub(crate) mod flights;
pub(crate) mod nodes;

use std::collections::VecDeque;

use std::sync::Arc;
use std::time::Duration;

use p2plab_peer_protocol::{Instant, CALL_TIMEOUT};
use p2plab_sim::graph::Graph;

pub use action::{Action, Poll, Reply, Ticket, Who};
use drive::{Drive, Next};
use flights::{Flights, Found, Truth};
use nodes::Nodes;

use crate::churn::Change;
use crate::misses::MissCauses;
use crate::overlay::OverlayShape;
use crate::plan::Plan;
use crate::ready::{self, poll_interval};
use crate::report::{NetworkReport, PhaseReport};
use crate::spec::{Network, Scenario, Step};
use crate::stats::Snapshot;

/// How long a network may take to become ready: this, plus [`READY_TIMEOUT_PER_NODE`]
/// per peer. Past it the run goes on and the report says "not ready".
pub const READY_TIMEOUT_BASE: Duration = Duration::from_secs(20);

/// See [`READY_TIMEOUT_BASE`]. A Chord ring of a thousand nodes joining at once needs a few
/// minutes of stabilization on a 2-core machine before every successor is right; a shorter
/// wait measured a ring still forming rather than Chord.
pub const READY_TIMEOUT_PER_NODE: Duration = Duration::from_millis(300);

/// Downloads in flight at once per network.
pub const DOWNLOAD_CONCURRENCY: usize = 16;

/// Peers a Napster or Gnutella network starts per batch (Chord's batch is a setting).
const START_BATCH: usize = 16;

/// How long a network of `peers` may take to become ready.
pub fn ready_limit(peers: usize) -> Duration {
    READY_TIMEOUT_BASE + READY_TIMEOUT_PER_NODE * peers.min(crate::spec::MAX_NODES) as u32
}

/// Whether `scenario`'s timeline can be played: it must begin with `start` (a scenario
/// file is checked for it when parsed; one built in code may not be).
///
/// # Errors
/// Naming the first step.
pub fn playable(scenario: &Scenario) -> anyhow::Result<()> {
    match scenario.timeline.first() {
        Some(Step::Start { .. }) => Ok(()),
        _ => anyhow::bail!("timeline[0]: the first step must be `start`"),
    }
}

/// One thing the current step still has to do, in order.
#[derive(Debug)]
enum Op {
    /// Start Napster's index server.
    StartServer,
    /// Start peers `next..end`, one call each.
    StartPeers { next: usize, end: usize },
    /// Let this much time pass (from when the op is reached).
    Pause(Duration),
    /// Let time pass until then.
    Until(Instant),
    /// Check the readiness condition until it holds or `give_up` passes.
    AwaitReady { give_up: Option<Instant> },
    /// Read every node's counters.
    Measure(Mark),
    /// Crash this share of the live peers (at least one), chosen by the seed.
    Kill(f64),
    /// Crash this peer.
    Crash(usize),
    /// Crash the index server.
    KillServer,
    /// Cut the network into this many seeded sides.
    Cut(usize),
    /// End the cut.
    Heal,
    /// Ask this many queries at the workload's rate (with churn for a churn step), then
    /// wait for their answers.
    Drive(usize),
    /// The running drive.
    Driving(Box<Drive>),
    /// Download the files the phase found.
    Downloads(VecDeque<Found>),
    /// The step is over: write its report.
    End,
}

/// Which counters a [`Op::Measure`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mark {
    /// At the end of `start`, with the memory the network uses.
    Started,
    /// At the start of a phase.
    Before,
    /// At the end of a phase's body.
    After,
}

/// The call the timeline waits for.
#[derive(Debug)]
enum Awaiting {
    /// A node start; `during_start` if the `start` step made it (a failure then ends the
    /// network's run).
    Start {
        during_start: bool,
    },
    Stop,
    Census {
        give_up: Option<Instant>,
    },
    Measure(Mark),
    Done,
}

/// One network's run of a scenario, as a state machine (see the module docs).
#[derive(Debug)]
pub struct Timeline {
    scenario: Arc<Scenario>,
    plan: Arc<Plan>,
    network: Network,
    nodes: Nodes,
    flights: Flights,
    /// The current step, and what it still has to do.
    k: usize,
    ops: VecDeque<Op>,
    awaiting: Option<Awaiting>,
    /// Set when step `k` has just ended, until the engine is told.
    stepped: Option<usize>,
    /// When the current step began, and when its body ended.
    t0: Instant,
    t_end: Instant,
    before: Option<Snapshot>,
    after: Option<Snapshot>,
    /// While a cut lasts, each peer's side.
    cut: Option<Vec<usize>>,
    /// What a search asked now is judged against, per side of a cut (one without a cut).
    truths: Vec<Arc<Truth>>,
    /// Gnutella: the overlay the servents reported at the phase's start, and who was up.
    phase_overlay: Option<(Graph, Vec<usize>)>,
    report: NetworkReport,
    done: bool,
}

impl Timeline {
    /// One network's run of `scenario` with `plan`'s peers.
    pub fn new(scenario: Arc<Scenario>, plan: Arc<Plan>, network: Network) -> Self {
        let nodes = Nodes::new(network, &plan, scenario.settings.clone(), scenario.seed);
        let mut t = Timeline {
            scenario,
            plan,
            network,
            nodes,
            flights: Flights::default(),
            k: 0,
            ops: VecDeque::new(),
            awaiting: None,
            stepped: None,
            t0: Instant::ZERO,
            t_end: Instant::ZERO,
            before: None,
            after: None,
            cut: None,
            truths: Vec::new(),
            phase_overlay: None,
            report: NetworkReport {
                network,
                startup_s: 0.0,
                ready: false,
                not_ready: None,
                failure: None,
                memory_kib: None,
                phases: Vec::new(),
            },
            done: false,
        };
        t.ops = t.plan_step(0);
        t
    }

    /// Which network this is.
    pub fn network(&self) -> Network {
        self.network
    }

    /// The reports of the steps played so far, the last one the step just ended.
    pub fn phases(&self) -> &[PhaseReport] {
        &self.report.phases
    }

    /// The scenario's steps.
    pub fn steps(&self) -> &[Step] {
        &self.scenario.timeline
    }

    /// How long step `k` should last on the engine's clock, for a progress bar.
    pub fn expected(&self, k: usize) -> Duration {
        let secs = match &self.scenario.timeline[k] {
            Step::Start { settle_s, .. } => {
                settle_s + ready_limit(self.plan.peers()).as_secs_f64() / 10.0
            }
            Step::Wait { seconds, .. }
            | Step::Churn { seconds, .. }
            | Step::Partition { seconds, .. } => *seconds,
            Step::Queries { count, .. } => *count as f64 / self.scenario.workload.rate,
            Step::KillPeers { .. } | Step::KillServer { .. } => 0.0,
        };
        Duration::from_secs_f64(secs.max(0.001))
    }

    /// What step `k` does, in order.
    fn plan_step(&self, k: usize) -> VecDeque<Op> {
        let mut ops = VecDeque::new();
        match &self.scenario.timeline[k] {
            Step::Start { settle_s, .. } => return self.plan_start(*settle_s),
            Step::Wait { seconds, .. } => {
                ops.push_back(Op::Measure(Mark::Before));
                ops.push_back(Op::Pause(Duration::from_secs_f64(*seconds)));
            }
            Step::Queries { count, .. } => {
                ops.push_back(Op::Measure(Mark::Before));
                ops.push_back(Op::Drive(*count));
            }
            Step::KillPeers { fraction, .. } => {
                ops.push_back(Op::Measure(Mark::Before));
                ops.push_back(Op::Kill(*fraction));
            }
            Step::KillServer { .. } => {
                ops.push_back(Op::Measure(Mark::Before));
                ops.push_back(Op::KillServer);
            }
            Step::Churn { seconds, .. } => {
                ops.push_back(Op::Measure(Mark::Before));
                ops.push_back(Op::Drive(self.queries_in(*seconds)));
            }
            Step::Partition {
                groups, seconds, ..
            } => {
                ops.push_back(Op::Measure(Mark::Before));
                ops.push_back(Op::Cut(*groups));
                ops.push_back(Op::Drive(self.queries_in(*seconds)));
                ops.push_back(Op::Heal);
            }
        }
        ops.push_back(Op::Downloads(VecDeque::new()));
        ops.push_back(Op::Measure(Mark::After));
        ops.push_back(Op::End);
        ops
    }

    /// What the `start` step does: the index server, the peers in batches, readiness, the
    /// settle time, the counters.
    fn plan_start(&self, settle_s: f64) -> VecDeque<Op> {
        let mut ops = VecDeque::new();
        if self.network == Network::Napster {
            ops.push_back(Op::StartServer);
        }
        let chord = &self.scenario.settings.chord;
        let batch = match self.network {
            Network::Chord => chord.join_batch,
            Network::Napster | Network::Gnutella => START_BATCH,
        };
        let n = self.plan.peers();
        let mut i = 0;
        while i < n {
            // Chord's first node creates the ring alone; the rest join a batch at a time, and
            // the ring's stabilization places them.
            let end = if i == 0 { 1 } else { (i + batch).min(n) };
            ops.push_back(Op::StartPeers { next: i, end });
            if self.network == Network::Chord && end < n {
                ops.push_back(Op::Pause(Duration::from_millis(chord.stabilize_ms)));
            }
            i = end;
        }
        ops.push_back(Op::AwaitReady { give_up: None });
        ops.push_back(Op::Pause(Duration::from_secs_f64(settle_s)));
        ops.push_back(Op::Measure(Mark::Started));
        ops.push_back(Op::End);
        ops
    }

    /// Queries asked at the workload's rate over `seconds`.
    fn queries_in(&self, seconds: f64) -> usize {
        (self.scenario.workload.rate * seconds).round() as usize
    }

    /// What to do now (see the module docs).
    pub fn poll(&mut self, now: Instant) -> Poll {
        self.flights.expire(&self.plan, now);
        if self.awaiting.is_some() {
            // The engine polled before replying to a call; nothing can move until it does.
            return Poll::Wait {
                until: now + CALL_TIMEOUT,
                early: true,
            };
        }
        loop {
            if let Some(k) = self.stepped.take() {
                return Poll::Stepped(k);
            }
            if self.done {
                return Poll::Done(Box::new(self.report.clone()));
            }
            let Some(op) = self.ops.pop_front() else {
                self.next_step();
                continue;
            };
            if let Some(poll) = self.run(op, now) {
                return poll;
            }
        }
    }

    /// Moves on to the next step, or ends the run after the last.
    fn next_step(&mut self) {
        self.k += 1;
        if self.k >= self.scenario.timeline.len() {
            self.done = true;
        } else {
            self.ops = self.plan_step(self.k);
        }
    }

    /// Emits `action`, a call whose reply is `awaiting`.
    fn call(&mut self, action: Action, awaiting: Awaiting) -> Option<Poll> {
        self.awaiting = Some(awaiting);
        Some(Poll::Act(action))
    }

    /// Carries `op` forward; `Some` when there is something for the engine, `None` when the
    /// op is done. An op that is not done yet puts itself back at the front.
    fn run(&mut self, op: Op, now: Instant) -> Option<Poll> {
        match op {
            Op::StartServer => {
                self.t0 = now;
                let spec = self.nodes.server_spec();
                let start = Action::Start {
                    who: Who::Server,
                    spec,
                };
                self.call(start, Awaiting::Start { during_start: true })
            }
            Op::StartPeers { next, end } => self.start_peers(next, end, now),
            Op::Pause(d) => {
                self.ops.push_front(Op::Until(now + d));
                None
            }
            Op::Until(t) if now >= t => None,
            Op::Until(t) => {
                self.ops.push_front(Op::Until(t));
                Some(self.wait(t, false))
            }
            Op::AwaitReady { give_up } => {
                let give_up = Some(give_up.unwrap_or(now + ready_limit(self.plan.peers())));
                self.call(Action::Census, Awaiting::Census { give_up })
            }
            Op::Measure(mark) => {
                if mark != Mark::Before {
                    self.t_end = now;
                }
                let memory = mark == Mark::Started;
                self.call(Action::Snapshot { memory }, Awaiting::Measure(mark))
            }
            Op::Kill(fraction) => {
                self.kill(fraction);
                None
            }
            Op::Crash(v) => self.stop_peer(v, true),
            Op::KillServer if self.nodes.server_up() != Some(true) => None,
            Op::KillServer => {
                self.nodes.server_stopped();
                self.call(Action::KillServer, Awaiting::Stop)
            }
            Op::Cut(groups) => self.cut(groups),
            Op::Heal => {
                self.cut = None;
                self.refresh_truths();
                self.call(Action::Heal, Awaiting::Done)
            }
            Op::Drive(count) => {
                self.start_drive(count, now);
                None
            }
            Op::Driving(drive) => self.drive(drive, now),
            Op::Downloads(queue) => self.download(queue, now),
            Op::End => {
                self.end_step();
                None
            }
        }
    }

    /// Starts peer `next` of the batch `next..end`, and queues the rest.
    fn start_peers(&mut self, next: usize, end: usize, now: Instant) -> Option<Poll> {
        if next == 0 && self.network != Network::Napster {
            self.t0 = now;
        }
        if next + 1 < end {
            let rest = Op::StartPeers {
                next: next + 1,
                end,
            };
            self.ops.push_front(rest);
        }
        self.start_peer(next, true)
    }

    /// Queues the crash of a seeded `fraction` of the live peers (at least one), each its
    /// own call, in index order.
    fn kill(&mut self, fraction: f64) {
        let live = self.nodes.live().len();
        let count = ((live as f64 * fraction).ceil() as usize).clamp(1, live.max(1));
        let victims = self
            .nodes
            .pick_live(&mut self.plan.victims_rng(self.k as u64), count);
        for v in victims.into_iter().rev() {
            self.ops.push_front(Op::Crash(v));
        }
    }

    /// Cuts the network into `groups` seeded sides, each judged by its own truth.
    fn cut(&mut self, groups: usize) -> Option<Poll> {
        let sides = self.plan.sides(self.k as u64, groups);
        let mut side_of = vec![0; self.plan.peers()];
        for (s, side) in sides.iter().enumerate() {
            for &p in side {
                side_of[p] = s;
            }
        }
        self.cut = Some(side_of);
        self.refresh_truths();
        self.call(Action::Cut { sides }, Awaiting::Done)
    }

    /// Begins driving `count` of the step's queries (and its churn) from `now`.
    fn start_drive(&mut self, count: usize, now: Instant) {
        let step = &self.scenario.timeline[self.k];
        let (plan, workload) = (&self.plan, &self.scenario.workload);
        let live = self.nodes.live();
        let drive = Drive::new(plan, step, self.k as u64, count, workload, &live, now);
        self.refresh_truths();
        self.ops.push_front(Op::Driving(Box::new(drive)));
    }

    /// Waits until `t`, or until a search in flight times out if that is sooner; `early`
    /// if an answer before then is worth waking for.
    fn wait(&self, t: Instant, early: bool) -> Poll {
        let until = self.flights.next_deadline().map_or(t, |d| d.min(t));
        Poll::Wait { until, early }
    }

    /// Starts peer `i`; `during_start` if the `start` step does.
    fn start_peer(&mut self, i: usize, during_start: bool) -> Option<Poll> {
        let Some(spec) = self.nodes.peer_spec(i) else {
            tracing::warn!(network = %self.network, peer = i, "no index server ever listened; the peer stays down");
            return None;
        };
        let action = Action::Start {
            who: Who::Peer(i),
            spec,
        };
        self.call(action, Awaiting::Start { during_start })
    }

    /// Stops peer `v`: it counts as down from now on.
    fn stop_peer(&mut self, v: usize, crash: bool) -> Option<Poll> {
        self.nodes.stopped(v);
        self.refresh_truths();
        self.call(Action::Stop { peer: v, crash }, Awaiting::Stop)
    }

    /// One turn of a running drive.
    fn drive(&mut self, mut drive: Box<Drive>, now: Instant) -> Option<Poll> {
        let full = self.flights.searching() >= self.scenario.workload.concurrency;
        let next = drive.next(now, self.nodes.peers(), full);
        let crash = drive.crash();
        self.ops.push_front(Op::Driving(drive));
        match next {
            Next::Ask(query) => {
                let Some(peer) = self.nodes.origin(query.origin) else {
                    return self.run_front(now);
                };
                let side = self.cut.as_ref().map_or(0, |side_of| side_of[peer]);
                let truth = self.truths[side.min(self.truths.len() - 1)].clone();
                let text = query.text.clone();
                let ticket = self.flights.ask(query, peer, now, truth);
                Some(Poll::Act(Action::Ask { ticket, peer, text }))
            }
            Next::Change(Change::Leave(v)) => self.stop_peer(v, crash),
            Next::Change(Change::Join(d)) => self.start_peer(d, false),
            Next::Until(t) => Some(self.wait(t, false)),
            Next::Blocked => Some(self.wait(now + CALL_TIMEOUT, true)),
            Next::Over => match self.flights.next_deadline() {
                Some(deadline) => Some(self.wait(deadline, true)),
                None => {
                    self.ops.pop_front();
                    None
                }
            },
        }
    }

    /// Runs the op now at the front again (a drive whose query had no live peer to ask).
    fn run_front(&mut self, now: Instant) -> Option<Poll> {
        let op = self.ops.pop_front()?;
        self.run(op, now)
    }

    /// Keeps up to [`DOWNLOAD_CONCURRENCY`] of the phase's found files downloading.
    fn download(&mut self, mut queue: VecDeque<Found>, now: Instant) -> Option<Poll> {
        queue.extend(self.flights.to_fetch.drain(..));
        while self.flights.fetching() < DOWNLOAD_CONCURRENCY {
            let Some(found) = queue.pop_front() else {
                break;
            };
            if self.nodes.peers()[found.peer].is_none() {
                // The peer that found it is gone: the download fails.
                self.flights.tally.downloads += 1;
                continue;
            }
            let ticket = self.flights.fetch(&found);
            self.ops.push_front(Op::Downloads(queue));
            return Some(Poll::Act(Action::Fetch {
                ticket,
                peer: found.peer,
                hit: found.hit,
            }));
        }
        if queue.is_empty() && self.flights.fetching() == 0 {
            return None;
        }
        self.ops.push_front(Op::Downloads(queue));
        Some(self.wait(now + CALL_TIMEOUT, true))
    }

    /// Takes back what happened (see [`Reply`]).
    pub fn reply(&mut self, now: Instant, reply: Reply) {
        match reply {
            Reply::Answer { ticket, at, result } => {
                self.flights.answer(&self.plan, ticket, at, result);
                return;
            }
            Reply::Fetched { ticket, result } => {
                self.flights.fetched(&self.plan, ticket, result);
                return;
            }
            _ => {}
        }
        let Some(awaiting) = self.awaiting.take() else {
            tracing::warn!(network = %self.network, ?reply, "a reply to no call; ignored");
            return;
        };
        match (awaiting, reply) {
            (Awaiting::Start { during_start }, Reply::Started { who, result }) => {
                self.started(who, result, during_start);
            }
            (Awaiting::Stop, Reply::Stopped { who }) => match who {
                Who::Peer(i) => self.flights.stopped(&self.plan, i, now),
                Who::Server => self.nodes.server_stopped(),
            },
            (Awaiting::Census { give_up }, Reply::Census(census)) => {
                self.census(now, &census, give_up.unwrap_or(now));
            }
            (
                Awaiting::Measure(mark),
                Reply::Snapshot {
                    snapshot,
                    memory_kib,
                },
            ) => {
                self.measured(now, mark, snapshot, memory_kib);
            }
            (Awaiting::Done, Reply::Done) => {}
            (awaiting, reply) => {
                tracing::warn!(network = %self.network, ?awaiting, ?reply, "a reply to another call; ignored");
            }
        }
    }

    fn started(
        &mut self,
        who: Who,
        result: Result<std::net::SocketAddr, String>,
        during_start: bool,
    ) {
        match (who, result) {
            (Who::Server, Ok(addr)) => self.nodes.server_started(addr),
            (Who::Peer(i), Ok(addr)) => {
                self.nodes.started(i, addr);
                self.refresh_truths();
            }
            (who, Err(e)) if during_start => {
                tracing::error!(network = %self.network, ?who, error = %e, "network failed to start");
                self.report.failure = Some(e);
                self.report.phases.clear();
                self.ops.clear();
                self.done = true;
            }
            (who, Err(e)) => {
                tracing::warn!(network = %self.network, ?who, "rejoin failed: {e}");
            }
        }
    }

    fn census(&mut self, now: Instant, census: &ready::Census, give_up: Instant) {
        let live = self.nodes.live();
        let replicas = self.scenario.settings.chord.replicas;
        match ready::missing(census, &self.plan, &live, replicas) {
            None => {
                self.report.ready = true;
                self.report.startup_s = now.saturating_since(self.t0).as_secs_f64();
            }
            Some(missing) if now >= give_up => {
                let limit = ready_limit(self.plan.peers());
                tracing::warn!(network = %self.network, %missing, "not ready after {limit:?}; going on");
                self.report.not_ready = Some(missing);
                self.report.startup_s = now.saturating_since(self.t0).as_secs_f64();
            }
            Some(_) => {
                // As often as a real network can be asked without taking the CPU it needs.
                self.ops.push_front(Op::AwaitReady {
                    give_up: Some(give_up),
                });
                self.ops
                    .push_front(Op::Pause(poll_interval(self.plan.peers())));
            }
        }
    }

    fn measured(&mut self, now: Instant, mark: Mark, snapshot: Snapshot, memory_kib: Option<u64>) {
        match mark {
            Mark::Started => {
                self.report.memory_kib = memory_kib;
                self.after = Some(snapshot);
            }
            Mark::Before => {
                if self.network == Network::Gnutella {
                    let graph = snapshot.gnutella.graph(self.nodes.peers());
                    self.phase_overlay = Some((graph, self.nodes.live()));
                }
                self.before = Some(snapshot);
                self.t0 = now;
            }
            Mark::After => self.after = Some(snapshot),
        }
    }

    /// Writes the step's report.
    fn end_step(&mut self) {
        let step = &self.scenario.timeline[self.k];
        let tally = self.flights.take_tally();
        let after = self.after.take().unwrap_or_default();
        let before = match self.before.take() {
            Some(before) => before,
            None => Snapshot::zero_like(&after),
        };
        let mut p = PhaseReport {
            label: step.label().to_owned(),
            kind: step.kind().to_owned(),
            seconds: self.t_end.saturating_since(self.t0).as_secs_f64(),
            live_peers: self.nodes.live().len(),
            server_up: self.nodes.server_up(),
            ..PhaseReport::default()
        };
        p.fill(&tally, &before.delta(&after));
        let window = (self.network == Network::Gnutella)
            .then_some(self.scenario.settings.gnutella.search_window_ms);
        p.hit_timing = self.flights.take_hit_times().report(window);
        self.gnutella_view(&mut p, &after);
        self.report.phases.push(p);
        self.stepped = Some(self.k);
    }

    /// A Gnutella query phase's overlay shape and the causes of its false "not found"s,
    /// told from the overlay at its start and the late hits counted at its end.
    fn gnutella_view(&mut self, p: &mut PhaseReport, after: &Snapshot) {
        let misses = self.flights.take_misses();
        let Some((graph, live)) = self.phase_overlay.take() else {
            return;
        };
        if p.queries == 0 {
            return;
        }
        p.overlay = Some(OverlayShape::measure(&graph, &live));
        let ttl = self.scenario.settings.gnutella.ttl;
        p.miss_causes = Some(MissCauses::of(&misses, &graph, ttl, &after.gnutella));
    }

    /// Recomputes what searches asked from now on are judged against.
    fn refresh_truths(&mut self) {
        let alive: Vec<bool> = self.nodes.peers().iter().map(Option::is_some).collect();
        let holders: std::collections::HashMap<_, _> = self
            .nodes
            .peers()
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.map(|addr| (addr, i)))
            .collect();
        self.truths = match &self.cut {
            None => vec![Arc::new(Truth { alive, holders })],
            Some(side_of) => {
                let sides = side_of.iter().max().map_or(1, |s| s + 1);
                (0..sides)
                    .map(|s| {
                        Arc::new(Truth {
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
        };
    }
}

#[cfg(test)]
mod tests;
