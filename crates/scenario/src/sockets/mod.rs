//! The scenario on real sockets: the engine that plays the [`Timeline`] with real nodes,
//! in this process or as child processes, every message over loopback TCP — or on the
//! seats of a roster ([`crate::hosts`]), nodes on other hosts that it starts, crashes and
//! asks through their control ports.
//!
//! For each node count, the networks of a group start one at a time (each start measures
//! one network's readiness and memory alone), then play every later step side by side, a
//! step at a time, so that each phase of each network runs while the others run theirs.
//! A call of the timeline is awaited where it is made; a search or a download is a task of
//! its own whose answer comes back over a channel, stamped with the instant it ended.
//!
//! ## Layout
//!
//! - [`peer`] — [`Peer`]: a node in this process or a child process, driven the same way.
//! - [`process`] — starting `p2plab node --spec -` children and reading their ports.
//! - [`seated`] — starting a node on a roster's seat, over its control port.
//! - [`cluster`] — [`Cluster`]: one network's nodes, and what the engine does to them.
//! - [`probe`] — [`Probe`]: how late the runtime's timers fire and how busy the CPU is,
//!   per phase.

pub(crate) mod cluster;
pub(crate) mod peer;
pub(crate) mod probe;
pub(crate) mod process;
pub(crate) mod seated;

use std::path::PathBuf;
use std::sync::Arc;

use futures_util::future::join_all;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use p2plab_peer_protocol::{Hit, Instant};
use p2plab_runtime::clock::Clock;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinSet;

pub use cluster::{Cluster, Hosting};
pub use peer::Peer;
use probe::Probe;
use process::ProcessLauncher;

use crate::hosts::Roster;
use crate::live::{Stamped, Teller};
use crate::memory::memory_kib;
use crate::plan::Plan;
use crate::report::{Memory, NetworkReport, Report, RunReport, Versions};
use crate::spec::{LatencyMs, Network, Scenario};
use crate::timeline::{self, Action, Poll, Reply, Ticket, Timeline, Who};
use crate::workload::Failure;

/// How to run a scenario.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where scratch files (downloads, shared folders of child nodes) go.
    pub scratch: PathBuf,
    /// `Some(p2plab binary)` to run every node as its own process.
    pub processes: Option<PathBuf>,
    /// `Some(roster)` to run every node on a seat of the roster instead of starting it
    /// here (see [`crate::seat`]).
    pub roster: Option<Arc<Roster>>,
    /// Show progress on stderr: a bar at a terminal, a line per step elsewhere.
    pub progress: bool,
    /// Where to tell a watcher what happens as it happens ([`crate::live`]), if anyone
    /// watches.
    pub events: Option<broadcast::Sender<Stamped>>,
}

/// Runs a scenario on real sockets and returns its report.
///
/// # Errors
/// If the timeline cannot be played, or if scratch files cannot be written.
pub async fn run(scenario: &Scenario, opts: &RunOptions) -> anyhow::Result<Report> {
    timeline::playable(scenario)?;
    if let Some(roster) = &opts.roster {
        roster.check(scenario)?;
    }
    let started = std::time::Instant::now();
    std::fs::create_dir_all(&opts.scratch)?;
    let scenario = Arc::new(scenario.clone());
    let bar = Steps::new(&scenario, opts.progress);
    let mut runs = Vec::new();
    for n in scenario.nodes.values() {
        runs.push(run_one(&scenario, n, opts, &bar).await?);
    }
    bar.bar.finish_and_clear();
    let elapsed = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    Teller::live(opts.events.clone()).done(Instant::from_micros(elapsed));
    Ok(Report {
        scenario: (*scenario).clone(),
        versions: Versions::default(),
        mode: if opts.roster.is_some() {
            "roster"
        } else if opts.processes.is_some() {
            "processes"
        } else {
            "in-process"
        }
        .to_owned(),
        runs,
        runner_memory: memory_kib("self").map(|(rss_kib, peak_kib)| Memory { rss_kib, peak_kib }),
        wall_s: started.elapsed().as_secs_f64(),
        spread: None,
        scaling: None,
        placement: opts
            .roster
            .as_ref()
            .map_or_else(Vec::new, |r| r.placement(&scenario)),
    })
}

/// One node count: every group of networks, one group after another.
async fn run_one(
    s: &Arc<Scenario>,
    n: usize,
    opts: &RunOptions,
    bar: &Steps,
) -> anyhow::Result<RunReport> {
    let plan = Arc::new(Plan::new(s.seed, n, &s.files));
    let scratch = opts.scratch.join(format!("n{n}"));
    std::fs::create_dir_all(&scratch)?;
    let groups: Vec<Vec<Network>> = if s.one_at_a_time {
        s.networks.iter().map(|n| vec![*n]).collect()
    } else {
        vec![s.networks.clone()]
    };
    let mut reports = Vec::new();
    for group in groups {
        let engines = group
            .iter()
            .map(|&network| Engine::new(s, &plan, network, opts, &scratch, n))
            .collect();
        reports.extend(play(engines, s, n, bar).await);
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(RunReport {
        nodes: n,
        networks: reports,
    })
}

/// Plays a group of networks: starts them one at a time, then every later step side by
/// side, and stops them.
/// The probe measures the machine over each step, for all the networks at once (they play
/// it side by side), and its measurements go into each network's phase.
async fn play(mut engines: Vec<Engine>, s: &Scenario, n: usize, bar: &Steps) -> Vec<NetworkReport> {
    let probe = Probe::start();
    for e in &mut engines {
        bar.say(format!("N={n}: starting {}", e.timeline.network()));
        e.step().await;
    }
    let mut loads = vec![probe.window()];
    bar.inc();
    for step in s.timeline.iter().skip(1) {
        bar.say(format!("N={n}: {} ({})", step.label(), step.kind()));
        join_all(engines.iter_mut().map(Engine::step)).await;
        loads.push(probe.window());
        bar.inc();
    }
    let mut reports = Vec::new();
    for mut e in engines {
        let mut report = e.finish().await;
        for (phase, load) in report.phases.iter_mut().zip(&loads) {
            phase.machine = Some(*load);
        }
        reports.push(report);
    }
    reports
}

/// One network on real nodes: its timeline, its nodes, and the searches and downloads
/// running for it.
struct Engine {
    timeline: Timeline,
    cluster: Cluster,
    clock: Clock,
    tasks: JoinSet<()>,
    replies: mpsc::UnboundedSender<Reply>,
    inbox: mpsc::UnboundedReceiver<Reply>,
    /// Where downloads are written.
    scratch: PathBuf,
    /// The report, once the timeline is over.
    report: Option<NetworkReport>,
    /// Peers per network in this run, as the events say it.
    nodes: usize,
    /// Where a watcher hears what happens ([`RunOptions::events`]).
    teller: Teller,
}

impl Engine {
    fn new(
        s: &Arc<Scenario>,
        plan: &Arc<Plan>,
        network: Network,
        opts: &RunOptions,
        scratch: &std::path::Path,
        nodes: usize,
    ) -> Self {
        let hosting = match (&opts.roster, &opts.processes) {
            (Some(roster), _) => Hosting::Roster(roster.seats(network)),
            (None, None) => Hosting::InProcess,
            (None, Some(exe)) => Hosting::Processes(ProcessLauncher {
                exe: exe.clone(),
                dir: scratch.join(network.name()),
            }),
        };
        // Each network draws its own latencies, as in the simulator.
        let latency = s.latency_ms.map(LatencyMs::model);
        let seed = s.seed ^ ((network as u64 + 1) << 56);
        let (replies, inbox) = mpsc::unbounded_channel();
        Engine {
            timeline: Timeline::new(s.clone(), plan.clone(), network),
            cluster: Cluster::new(network, plan.clone(), hosting, latency, seed),
            clock: Clock::start(),
            tasks: JoinSet::new(),
            replies,
            inbox,
            scratch: scratch.join(format!("{network}-downloads")),
            report: None,
            nodes,
            teller: Teller::live(opts.events.clone()),
        }
    }

    /// Plays until the current step ends, or the timeline does.
    async fn step(&mut self) {
        while self.report.is_none() {
            while let Ok(reply) = self.inbox.try_recv() {
                self.timeline.reply(self.clock.now(), reply);
            }
            match self.timeline.poll(self.clock.now()) {
                Poll::Act(action) => self.act(action).await,
                Poll::Wait { until, .. } => {
                    tokio::select! {
                        Some(reply) = self.inbox.recv() => self.timeline.reply(self.clock.now(), reply),
                        () = tokio::time::sleep_until(self.clock.at(until)) => {}
                    }
                }
                Poll::Stepped(k) => {
                    let now = self.clock.now();
                    self.teller.phase(now, &self.timeline, self.nodes, k);
                    return;
                }
                Poll::Done(report) => {
                    self.tasks.shutdown().await;
                    self.cluster.shutdown().await;
                    self.report = Some(*report);
                }
            }
        }
    }

    /// Plays what is left (the end of the timeline) and returns the report.
    async fn finish(&mut self) -> NetworkReport {
        self.step().await;
        let _ = std::fs::remove_dir_all(&self.scratch);
        self.report
            .take()
            .unwrap_or_else(|| unreachable!("step() ends with a report"))
    }

    /// Carries out one action: a call is awaited and answered here; a search or a download
    /// becomes a task that answers when it ends.
    async fn act(&mut self, action: Action) {
        let network = self.timeline.network();
        let reply = match action {
            Action::Start { who, spec } => {
                let result = self.cluster.start(who, &spec).await;
                if result.is_ok() {
                    self.teller.joined(self.clock.now(), network, who);
                }
                Reply::Started { who, result }
            }
            Action::Stop { peer, crash } => {
                self.cluster.stop(peer, crash).await;
                let who = Who::Peer(peer);
                self.teller.left(self.clock.now(), network, who, crash);
                Reply::Stopped { who }
            }
            Action::KillServer => {
                self.cluster.kill_server().await;
                self.teller
                    .left(self.clock.now(), network, Who::Server, true);
                Reply::Stopped { who: Who::Server }
            }
            Action::Cut { sides } => {
                self.cluster.cut(&sides).await;
                Reply::Done
            }
            Action::Heal => {
                self.cluster.heal().await;
                Reply::Done
            }
            Action::Census => Reply::Census(self.cluster.census().await),
            Action::Snapshot { memory } => {
                let (snapshot, memory_kib) = self.cluster.snapshot(memory).await;
                Reply::Snapshot {
                    snapshot,
                    memory_kib,
                }
            }
            Action::Ask { ticket, peer, text } => return self.ask(ticket, peer, text),
            Action::Fetch { ticket, peer, hit } => return self.fetch(ticket, peer, hit),
        };
        self.timeline.reply(self.clock.now(), reply);
    }

    /// Searches from `peer` in a task of its own, which answers with its end instant.
    fn ask(&mut self, ticket: Ticket, peer: usize, text: String) {
        let (node, clock, replies) = (self.cluster.peer(peer), self.clock, self.replies.clone());
        self.tasks.spawn(async move {
            let result = match node {
                Some(node) => node.search(&text).await,
                None => Err(Failure::Failed(timeline::flights::STOPPED.to_owned())),
            };
            let at = clock.now();
            let _ = replies.send(Reply::Answer { ticket, at, result });
        });
    }

    /// Downloads `hit` through `peer` in a task of its own, which answers with the bytes.
    fn fetch(&mut self, ticket: Ticket, peer: usize, hit: Hit) {
        let (node, replies) = (self.cluster.peer(peer), self.replies.clone());
        let out = self.scratch.join(ticket.0.to_string());
        self.tasks.spawn(async move {
            let result = match node {
                Some(node) => download(&node, hit, &out).await,
                None => Err(timeline::flights::STOPPED.to_owned()),
            };
            let _ = replies.send(Reply::Fetched { ticket, result });
        });
    }
}

/// Downloads `hit` through `node` into `out` and reads the bytes back.
async fn download(
    node: &Peer,
    hit: p2plab_peer_protocol::Hit,
    out: &std::path::Path,
) -> Result<Vec<u8>, String> {
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    node.fetch(hit, out).await?;
    let bytes = std::fs::read(out).map_err(|e| format!("cannot read {}: {e}", out.display()));
    let _ = std::fs::remove_file(out);
    bytes
}

/// Progress through the timeline: a bar when stderr is a terminal, else one line a step (a
/// minute-long run in a CI log or behind a pipe is not silent), or nothing if not wanted.
struct Steps {
    bar: ProgressBar,
    /// Print each step as a line (stderr is not a terminal).
    lines: bool,
    steps: u64,
    started: std::time::Instant,
}

impl Steps {
    fn new(s: &Scenario, wanted: bool) -> Self {
        use std::io::IsTerminal;
        let runs = s.nodes.values();
        let groups = if s.one_at_a_time { s.networks.len() } else { 1 };
        let steps = (runs.len() * groups * s.timeline.len()) as u64;
        let terminal = std::io::stderr().is_terminal();
        let bar = if wanted && terminal {
            let bar = ProgressBar::with_draw_target(Some(steps), ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        } else {
            ProgressBar::hidden()
        };
        Steps {
            bar,
            lines: wanted && !terminal,
            steps,
            started: std::time::Instant::now(),
        }
    }

    /// What the run is doing now.
    fn say(&self, message: String) {
        if self.lines {
            eprintln!(
                "[{:6.1} s] {}/{} {message}",
                self.started.elapsed().as_secs_f64(),
                self.bar.position(),
                self.steps
            );
        }
        self.bar.set_message(message);
    }

    /// One more step done.
    fn inc(&self) {
        self.bar.inc(1);
    }
}
