//! The runner: for each node count, start every network, play the timeline on all of them
//! at once, measure each phase, stop everything.
//!
//! Each step is a phase. Its traffic is the difference of the nodes' counters around it;
//! its queries are the plan's queries for that phase, the same in every network; its
//! victims are drawn from the same seeded stream, and since every network has the same
//! peers up at every step, the same peers die everywhere.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::churn::{Change, Schedule};
use crate::cluster::{Cluster, Launcher};
use crate::plan::{Plan, PlannedQuery};
use crate::process::{memory_kib, ProcessLauncher};
use crate::ready::wait_ready;
use crate::report::{Memory, NetworkReport, PhaseReport, Report, RunReport, Versions};
use crate::roster;
use crate::spec::{Network, Scenario, Step};
use crate::stats::Snapshot;
use crate::workload::{ask, download_and_check, judge, Answered, Issued, Tally, Verdict};
use crate::{DOWNLOAD_CONCURRENCY, READY_TIMEOUT_BASE, READY_TIMEOUT_PER_NODE};

/// How to run a scenario.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where scratch files (downloads, shared folders of child nodes) go.
    pub scratch: PathBuf,
    /// `Some(p2plab binary)` to run every node as its own process.
    pub processes: Option<PathBuf>,
    /// Show progress on stderr: a bar at a terminal, a line per step elsewhere.
    pub progress: bool,
}

/// Runs a scenario and returns its report.
///
/// # Errors
/// If a step needs the simulator ([`Step::needs_sim`]), if nodes cannot be started, or if
/// scratch files cannot be written.
pub async fn run(scenario: &Scenario, opts: &RunOptions) -> anyhow::Result<Report> {
    if let Some(i) = scenario.timeline.iter().position(Step::needs_sim) {
        anyhow::bail!(
            "timeline[{i}].{}: only the simulator can cut a network (every real node shares \
             one loopback); run it with --sim, or give the file \"engine\": \"sim\"",
            scenario.timeline[i].kind()
        );
    }
    let started = Instant::now();
    std::fs::create_dir_all(&opts.scratch)?;
    let bar = Steps::new(scenario, opts.progress);
    let mut runs = Vec::new();
    for n in scenario.nodes.values() {
        runs.push(run_one(scenario, n, opts, &bar).await?);
    }
    bar.bar.finish_and_clear();
    Ok(Report {
        scenario: scenario.clone(),
        versions: Versions::default(),
        mode: if opts.processes.is_some() {
            "processes"
        } else {
            "in-process"
        }
        .to_owned(),
        runs,
        runner_memory: memory_kib("self").map(|(rss_kib, peak_kib)| Memory { rss_kib, peak_kib }),
        wall_s: started.elapsed().as_secs_f64(),
    })
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

/// What every phase of a run needs to read.
struct Ctx<'a> {
    scenario: &'a Scenario,
    plan: Arc<Plan>,
    scratch: PathBuf,
}

async fn run_one(
    s: &Scenario,
    n: usize,
    opts: &RunOptions,
    bar: &Steps,
) -> anyhow::Result<RunReport> {
    let plan = Arc::new(Plan::new(s.seed, n, &s.files));
    let scratch = opts.scratch.join(format!("n{n}"));
    std::fs::create_dir_all(&scratch)?;
    let ctx = Ctx {
        scenario: s,
        plan: plan.clone(),
        scratch: scratch.clone(),
    };
    let groups: Vec<Vec<Network>> = if s.one_at_a_time {
        s.networks.iter().map(|n| vec![*n]).collect()
    } else {
        vec![s.networks.clone()]
    };
    let mut reports = Vec::new();
    for group in groups {
        reports.extend(play(&ctx, &group, n, opts, bar).await?);
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(RunReport {
        nodes: n,
        networks: reports,
    })
}

/// Starts `networks` side by side, plays the whole timeline on them, stops them.
async fn play(
    ctx: &Ctx<'_>,
    networks: &[Network],
    n: usize,
    opts: &RunOptions,
    bar: &Steps,
) -> anyhow::Result<Vec<NetworkReport>> {
    let s = ctx.scenario;
    let mut clusters = Vec::new();
    let mut reports = Vec::new();
    for &network in networks {
        let launcher = match &opts.processes {
            None => Launcher::InProcess,
            Some(exe) => Launcher::Processes(ProcessLauncher {
                exe: exe.clone(),
                dir: ctx.scratch.join(network.name()),
            }),
        };
        bar.say(format!("N={n}: starting {network}"));
        let mut cluster = Cluster::new(
            network,
            ctx.plan.clone(),
            s.settings.clone(),
            launcher,
            s.seed,
        );
        match start(&mut cluster, &s.timeline[0], opts.processes.is_some()).await {
            Ok(report) => {
                clusters.push((cluster, reports.len()));
                reports.push(report);
            }
            Err(e) => {
                tracing::error!(%network, nodes = n, error = %format!("{e:#}"), "network failed to start");
                cluster.shutdown().await;
                reports.push(failed_to_start(network, &e));
            }
        }
    }
    bar.inc();
    for (k, step) in s.timeline.iter().enumerate().skip(1) {
        bar.say(format!("N={n}: {} ({})", step.label(), step.kind()));
        let phases = join_all(
            clusters
                .iter_mut()
                .map(|(c, _)| phase(c, ctx, step, k as u64)),
        )
        .await;
        for ((_, r), p) in clusters.iter().zip(phases) {
            reports[*r].phases.push(p);
        }
        bar.inc();
    }
    for (c, _) in &mut clusters {
        c.shutdown().await;
    }
    Ok(reports)
}

/// The report of a network that could not be started (ports or file descriptors ran out,
/// a child process died): it says why, and has no phases.
fn failed_to_start(network: Network, e: &anyhow::Error) -> NetworkReport {
    NetworkReport {
        network,
        startup_s: 0.0,
        ready: false,
        not_ready: None,
        failure: Some(format!("{e:#}")),
        memory_kib: None,
        phases: Vec::new(),
    }
}

/// The `start` step for one network: start it, wait until it is ready, settle.
async fn start(c: &mut Cluster, step: &Step, processes: bool) -> anyhow::Result<NetworkReport> {
    let Step::Start { label, settle_s } = step else {
        anyhow::bail!("the first step must be `start`");
    };
    let rss_before = memory_kib("self").map_or(0, |m| m.0);
    let t0 = Instant::now();
    c.start_all(|| {}).await?;
    let n = c.peers.len() as u32;
    let not_ready = wait_ready(c, READY_TIMEOUT_BASE + READY_TIMEOUT_PER_NODE * n)
        .await
        .err();
    let startup_s = t0.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs_f64(*settle_s)).await;
    let memory_kib = if processes {
        Some(children_rss(c))
    } else {
        memory_kib("self").map(|m| m.0.saturating_sub(rss_before))
    };
    let after = Snapshot::take(c.nodes()).await;
    let mut p = PhaseReport {
        label: label.clone(),
        kind: step.kind().to_owned(),
        seconds: t0.elapsed().as_secs_f64(),
        ..PhaseReport::default()
    };
    finish(c, &mut p);
    p.fill(
        &Tally::default(),
        &Snapshot::zero_like(&after).delta(&after),
    );
    Ok(NetworkReport {
        network: c.network,
        startup_s,
        ready: not_ready.is_none(),
        not_ready,
        failure: None,
        memory_kib,
        phases: vec![p],
    })
}

fn children_rss(c: &Cluster) -> u64 {
    c.nodes()
        .filter_map(|p| match p {
            crate::peer::Peer::Remote(r) => r.pid,
            crate::peer::Peer::Local(_) => None,
        })
        .filter_map(|pid| memory_kib(&pid.to_string()))
        .map(|m| m.0)
        .sum()
}

fn finish(c: &Cluster, p: &mut PhaseReport) {
    p.live_peers = c.live().len();
    p.server_up = (c.network == Network::Napster).then(|| c.server.is_some());
}

/// One step on one network.
async fn phase(c: &mut Cluster, ctx: &Ctx<'_>, step: &Step, k: u64) -> PhaseReport {
    let before = Snapshot::take(c.nodes()).await;
    let t0 = Instant::now();
    let w = &ctx.scenario.workload;
    let mut answered = Vec::new();
    match step {
        Step::Start { .. } => {}
        Step::Wait { seconds, .. } => tokio::time::sleep(Duration::from_secs_f64(*seconds)).await,
        Step::Queries { count, .. } => {
            let queries = ctx.plan.queries(k, *count, w);
            answered = drive(c, ctx, queries, None, k).await;
        }
        Step::KillPeers { fraction, .. } => {
            let live = c.live().len();
            let count = ((live as f64 * fraction).ceil() as usize).clamp(1, live.max(1));
            for v in c.pick_live(&mut ctx.plan.victims_rng(k), count) {
                c.stop_peer(v, true).await;
            }
        }
        Step::KillServer { .. } => c.kill_server().await,
        Step::Churn { seconds, .. } => {
            let count = (w.rate * seconds).round() as usize;
            let queries = ctx.plan.queries(k, count, w);
            answered = drive(c, ctx, queries, Some(step), k).await;
        }
        Step::Partition { .. } => unreachable!("`run` refuses a partition before anything starts"),
    }
    let seconds = t0.elapsed().as_secs_f64();
    let after = Snapshot::take(c.nodes()).await;
    let mut tally = Tally::default();
    let verdicts: Vec<Verdict> = answered.iter().map(|a| judge(&ctx.plan, a)).collect();
    for (a, v) in answered.iter().zip(&verdicts) {
        tally.add(*v, a.latency);
    }
    downloads(ctx, &answered, &verdicts, &mut tally, c.network).await;
    let mut p = PhaseReport {
        label: step.label().to_owned(),
        kind: step.kind().to_owned(),
        seconds,
        ..PhaseReport::default()
    };
    finish(c, &mut p);
    p.fill(&tally, &before.delta(&after));
    p
}

/// Downloads the sampled found files through the peers that searched for them, after the
/// phase's traffic was read (a download repeats the search, which is not the query's cost).
async fn downloads(
    ctx: &Ctx<'_>,
    answered: &[Answered],
    verdicts: &[Verdict],
    tally: &mut Tally,
    net: Network,
) {
    let picks: Vec<(usize, &Answered)> = answered
        .iter()
        .zip(verdicts)
        .enumerate()
        .filter(|(_, (a, v))| a.issued.query.download && matches!(v, Verdict::Found { .. }))
        .map(|(i, (a, _))| (i, a))
        .collect();
    for chunk in picks.chunks(DOWNLOAD_CONCURRENCY) {
        let mut set = JoinSet::new();
        for (i, a) in chunk {
            let (plan, origin) = (ctx.plan.clone(), a.issued.origin.clone());
            let Some(file) = a.issued.query.file else {
                continue;
            };
            let dir = ctx.scratch.clone();
            let tag = format!("{net}-{i}");
            set.spawn(async move { download_and_check(&plan, &origin, file, &dir, &tag).await });
        }
        while let Some(done) = set.join_next().await {
            tally.downloads += 1;
            tally.downloads_ok += u64::from(matches!(done, Ok(true)));
        }
    }
}

/// Asks `queries` at the workload's rate (at most `concurrency` in flight) and, for a churn
/// step, makes peers leave and rejoin on their own schedules meanwhile.
async fn drive(
    c: &mut Cluster,
    ctx: &Ctx<'_>,
    queries: Vec<PlannedQuery>,
    churn: Option<&Step>,
    k: u64,
) -> Vec<Answered> {
    let w = &ctx.scenario.workload;
    let slots = Arc::new(Semaphore::new(w.concurrency));
    let start = tokio::time::Instant::now();
    let at = |secs: f64| start + Duration::from_secs_f64(secs);
    let live = roster::live(&c.peers);
    let mut churn = Schedule::new(churn, &live, &ctx.plan, k);
    let mut rng = ctx.plan.victims_rng(k);
    let mut truth = Truth::of(c);
    let mut set = JoinSet::new();
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
        tokio::time::sleep_until(at(t)).await;
        if tq == Some(t) {
            let q = queries[next_q].clone();
            next_q += 1;
            let Some(origin) = origin_for(c, q.origin) else {
                continue;
            };
            let Ok(permit) = slots.clone().acquire_owned().await else {
                break;
            };
            let issued = Issued {
                query: q,
                origin,
                alive: truth.alive.clone(),
                holders: truth.holders.clone(),
            };
            set.spawn(async move {
                let answered = ask(issued).await;
                drop(permit);
                answered
            });
        } else {
            match churn.pop(&c.peers, &mut rng) {
                Some(Change::Leave(v)) => c.stop_peer(v, churn.crash()).await,
                Some(Change::Join(d)) => {
                    if let Err(e) = c.start_peer(d).await {
                        tracing::warn!(network = %c.network, peer = d, "rejoin failed: {e:#}");
                    }
                }
                None => continue,
            }
            truth = Truth::of(c);
        }
    }
    let mut out = Vec::with_capacity(queries.len());
    while let Some(done) = set.join_next().await {
        if let Ok(a) = done {
            out.push(a);
        }
    }
    out
}

/// The peer that asks: the planned one, or the next one up.
fn origin_for(c: &Cluster, planned: usize) -> Option<crate::peer::Peer> {
    let n = c.peers.len();
    (0..n).find_map(|j| c.peers[(planned + j) % n].clone())
}

/// Who is up, and who each hit's holder is: the truth a query is judged against.
struct Truth {
    alive: Arc<Vec<bool>>,
    holders: Arc<crate::cluster::HolderMap>,
}

impl Truth {
    fn of(c: &Cluster) -> Self {
        Truth {
            alive: Arc::new(c.peers.iter().map(Option::is_some).collect()),
            holders: Arc::new(c.holder_map()),
        }
    }
}
