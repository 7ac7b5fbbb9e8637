//! `p2plab run` and `p2plab compare`: read a scenario, run it on every network at once,
//! write the report and print its tables — on real sockets (nodes in this process, as child
//! processes, or on a roster's seats), or with `--sim` (or `"engine": "sim"` in the file)
//! on the deterministic simulator.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use p2plab_scenario::hosts::Roster;
use p2plab_scenario::report::Report;
use p2plab_scenario::spec::{Engine, Network, NodeCount, Step};
use p2plab_scenario::spread::SeedSpread;
use p2plab_scenario::{load, markdown, parse, run, sim, write_report, RunOptions, Scenario};

/// File descriptors one peer of `network` may hold in this process: its listener and one
/// end of each of its links (a link between two nodes of this process holds two
/// descriptors, one per end, counted at each node).
fn fds_per_node(network: Network, spec: &Scenario) -> u64 {
    match network {
        // The data-port listener, and both ends of the link to the index server.
        Network::Napster => 3,
        // The listener and one end per neighbour.
        Network::Gnutella => 1 + spec.settings.gnutella.max_peers as u64,
        // The listener, its own dials, and as many dials from others on average.
        Network::Chord => 1 + 2 * p2plab_chord::MAX_DIALLED as u64,
    }
}

/// The most seeds `--seeds` plays: each is a whole simulated run, and beyond a few dozen
/// the interval narrows only as one over the square root of their number.
pub const MAX_SEEDS: u64 = 64;

/// Where a run on real sockets puts its nodes.
#[derive(Debug)]
pub enum Hosting {
    /// Every node a set of tasks of this process.
    InProcess,
    /// Every node its own `p2plab` child process.
    Processes,
    /// Every node on a seat of the roster, wherever the seats are.
    Roster(Arc<Roster>),
}

impl Hosting {
    /// From the flags: `--processes`, or `--roster FILE` (read and checked now, before
    /// anything starts).
    ///
    /// # Errors
    /// The roster's bad field, with its line.
    pub fn of(processes: bool, roster: Option<&Path>) -> anyhow::Result<Hosting> {
        Ok(match roster {
            Some(path) => Hosting::Roster(Arc::new(
                Roster::load(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
            )),
            None if processes => Hosting::Processes,
            None => Hosting::InProcess,
        })
    }
}

/// Runs `scenario` (none: the built-in default) into `out` and prints the tables, its nodes
/// placed as `hosting` says; `sim` (or the file's `"engine": "sim"`) runs it on the
/// simulator instead, over `seeds` seeds.
pub async fn run_file(
    scenario: Option<&Path>,
    out: &Path,
    hosting: &Hosting,
    sim: bool,
    seeds: u64,
) -> anyhow::Result<ExitCode> {
    let spec = read(scenario, out)?;
    let report = if sim || spec.engine == Engine::Sim {
        anyhow::ensure!(
            matches!(hosting, Hosting::InProcess),
            "--processes and --roster run real nodes; the simulator has none to start"
        );
        let (report, digests) = simulate(&spec, seeds)?;
        print_report(&report, out)?;
        println!("{}", digests.join("\n"));
        return Ok(ExitCode::SUCCESS);
    } else {
        anyhow::ensure!(
            seeds == 1,
            "--seeds plays the simulator, where a run costs seconds: add --sim"
        );
        on_hosts(&spec, out, hosting, None).await?
    };
    print_report(&report, out)?;
    Ok(ExitCode::SUCCESS)
}

/// Seeds the simulator plays the scenario over for `compare`'s seed spread: five give a
/// t-interval about a third as wide as two would (t(0.975, 4) / √5 against
/// t(0.975, 1) / √2), in a few seconds at the default scenario's size.
const COMPARE_SEEDS: u64 = 5;

/// Network sizes of `compare`'s scaling sweep: three sizes a factor of about three apart,
/// enough to tell log N from N, and the largest still seconds on the simulator.
const SWEEP_NODES: [usize; 3] = [100, 300, 1_000];

/// Seconds of idle in the sweep, to measure each size's upkeep.
const SWEEP_IDLE_S: f64 = 3.0;

/// `p2plab compare`: the scenario (none: the built-in default) on real sockets (or with
/// `sim` on the simulator), then on the simulator its seed spread and a scaling sweep, all
/// in one report in `out`.
pub async fn compare(
    scenario: Option<&Path>,
    out: &Path,
    hosting: &Hosting,
    sim: bool,
) -> anyhow::Result<ExitCode> {
    let spec = read(scenario, out)?;
    let (mut report, digests) = if sim || spec.engine == Engine::Sim {
        simulate(&spec, 1)?
    } else {
        (on_hosts(&spec, out, hosting, None).await?, Vec::new())
    };
    let sweep = sweep_of(&spec)?;
    let say = Say::new();
    // On their own threads: two runs of a few seconds each, on two cores, side by side.
    let (spread, scaling) = std::thread::scope(|s| {
        let spread = s.spawn(|| seed_spread(&spec, &say));
        let scaling = s.spawn(|| {
            say.line(format!("simulator: scaling sweep, N = {:?}", SWEEP_NODES));
            sim::run(&sweep, false).map(|run| SeedSpread::across(&[run.report]).per_network())
        });
        (join(spread), join(scaling))
    });
    report.spread = Some(spread?);
    report.scaling = Some(scaling?);
    say.line("simulator: done".to_owned());
    print_report(&report, out)?;
    if !digests.is_empty() {
        println!("{}", digests.join("\n"));
    }
    Ok(ExitCode::SUCCESS)
}

/// The result of a scoped thread, its panic carried on as one.
fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// The scenario over [`COMPARE_SEEDS`] seeds on the simulator, and its spread.
fn seed_spread(spec: &Scenario, say: &Say) -> anyhow::Result<SeedSpread> {
    let mut reports = Vec::new();
    for k in 0..COMPARE_SEEDS {
        let mut one = spec.clone();
        one.seed = spec.seed.wrapping_add(k);
        say.line(format!(
            "simulator: seed spread, seed {} ({}/{COMPARE_SEEDS})",
            one.seed,
            k + 1
        ));
        reports.push(sim::run(&one, false)?.report);
    }
    Ok(SeedSpread::across(&reports))
}

/// The scaling sweep of `spec`: its networks, settings and files at each of
/// [`SWEEP_NODES`], with a short timeline: start, an idle (upkeep alone) and its first
/// query step.
fn sweep_of(spec: &Scenario) -> anyhow::Result<Scenario> {
    let queries = spec
        .timeline
        .iter()
        .find(|s| matches!(s, Step::Queries { .. }))
        .context("the scaling sweep needs a queries step in the scenario")?;
    let mut sweep = spec.clone();
    sweep.nodes = NodeCount::Sweep(SWEEP_NODES.to_vec());
    sweep.timeline = vec![
        spec.timeline[0].clone(),
        Step::Wait {
            label: "idle".to_owned(),
            seconds: SWEEP_IDLE_S,
        },
        queries.clone(),
    ];
    Ok(sweep)
}

/// Progress of the simulator's runs on stderr, one line each, with the seconds since
/// they began; from several threads at once.
struct Say {
    started: std::time::Instant,
}

impl Say {
    fn new() -> Say {
        Say {
            started: std::time::Instant::now(),
        }
    }

    fn line(&self, message: String) {
        eprintln!("[{:6.1} s] {message}", self.started.elapsed().as_secs_f64());
    }
}

/// Reads `scenario` (none: the built-in default) and checks that a report can be written
/// into `out` — before a run of a minute or more, not after it.
pub(crate) fn read(scenario: Option<&Path>, out: &Path) -> anyhow::Result<Scenario> {
    let spec = match scenario {
        Some(path) => load(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        None => parse(DEFAULT_SCENARIO)
            .map_err(|e| anyhow::anyhow!("the built-in default scenario: {e}"))?,
    };
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot write the report into {}", out.display()))?;
    Ok(spec)
}

/// Plays the scenario on real sockets, its scratch files under `out`, telling `events` (if
/// given) what happens as it happens; `processes` starts each node as a child process.
pub(crate) async fn on_sockets(
    spec: &Scenario,
    out: &Path,
    processes: bool,
    events: Option<tokio::sync::broadcast::Sender<p2plab_scenario::live::Stamped>>,
) -> anyhow::Result<Report> {
    let hosting = if processes {
        Hosting::Processes
    } else {
        Hosting::InProcess
    };
    on_hosts(spec, out, &hosting, events).await
}

/// [`on_sockets`], the nodes placed as `hosting` says.
async fn on_hosts(
    spec: &Scenario,
    out: &Path,
    hosting: &Hosting,
    events: Option<tokio::sync::broadcast::Sender<p2plab_scenario::live::Stamped>>,
) -> anyhow::Result<Report> {
    let (processes, roster) = match hosting {
        Hosting::InProcess => {
            check_fd_limit(spec)?;
            (None, None)
        }
        Hosting::Processes => (
            Some(std::env::current_exe().context("cannot find the p2plab binary to start nodes")?),
            None,
        ),
        Hosting::Roster(roster) => (None, Some(roster.clone())),
    };
    let opts = RunOptions {
        scratch: out.join("scratch"),
        processes,
        roster,
        progress: true,
        events,
    };
    let report = tokio::select! {
        r = run(spec, &opts) => r?,
        _ = tokio::signal::ctrl_c() => {
            // Dropping the run drops every cluster, which kills every child node.
            anyhow::bail!("interrupted; every node was stopped");
        }
    };
    let _ = std::fs::remove_dir_all(&opts.scratch);
    Ok(report)
}

/// Plays the scenario on the simulator over `seeds` seeds (the scenario's and the next
/// ones). The report is the first seed's, with the spread over all of them when there are
/// several; the lines say what the simulator measured of each run: virtual time, events,
/// speed and the trace digest of each network.
fn simulate(spec: &Scenario, seeds: u64) -> anyhow::Result<(Report, Vec<String>)> {
    let (mut reports, mut lines) = (Vec::new(), Vec::new());
    for k in 0..seeds {
        let mut one = spec.clone();
        one.seed = spec.seed.wrapping_add(k);
        let run = sim::run(&one, true)?;
        // One seed prints the digest lines as they always were; several name their seed.
        let suffix = if seeds > 1 {
            format!(", seed {}", one.seed)
        } else {
            String::new()
        };
        for n in &run.networks {
            lines.push(format!(
                "sim N={} {}: {:.1} s simulated, {} events in {:.2} s ({:.0} events/s), trace digest {:016x}{suffix}",
                n.nodes,
                n.network,
                n.virtual_s,
                n.events,
                n.wall_s,
                n.events_per_s(),
                n.digest
            ));
        }
        reports.push(run.report);
    }
    let spread = (seeds > 1).then(|| SeedSpread::across(&reports));
    let mut report = reports.swap_remove(0);
    report.spread = spread;
    Ok((report, lines))
}

/// Writes the report into `out` and prints its tables and where it went.
pub(crate) fn print_report(report: &Report, out: &Path) -> anyhow::Result<()> {
    let (_, charts) = write_report(report, out)?;
    println!("{}", markdown::tables(report));
    println!(
        "report: {} and {} ({} charts in {})",
        out.join("report.md").display(),
        out.join("report.json").display(),
        charts.len(),
        out.join("charts").display()
    );
    Ok(())
}

/// Refuses a run of nodes in this process that would exhaust the open-file limit, with
/// advice, after trying to raise the limit with `prlimit` (util-linux).
fn check_fd_limit(spec: &Scenario) -> anyhow::Result<()> {
    let nodes = spec.nodes.values().into_iter().max().unwrap_or(0) as u64;
    let per_network = spec.networks.iter().map(|&n| nodes * fds_per_node(n, spec));
    let needed = if spec.one_at_a_time {
        per_network.max().unwrap_or(0)
    } else {
        per_network.sum()
    };
    let Some((soft, hard)) = open_file_limits() else {
        return Ok(());
    };
    if needed <= soft {
        return Ok(());
    }
    if needed <= hard {
        let raised = std::process::Command::new("prlimit")
            .args([
                "--pid",
                &std::process::id().to_string(),
                &format!("--nofile={hard}:{hard}"),
            ])
            .status()
            .is_ok_and(|s| s.success());
        if raised {
            return Ok(());
        }
    }
    anyhow::bail!(
        "this scenario may need {needed} open files but the limit is {soft} (hard {hard}); \
         raise it with `ulimit -n {needed}` (as root if above the hard limit), or set \
         \"one_at_a_time\": true in the scenario, and run again"
    )
}

/// The soft and hard `Max open files` of this process, from `/proc/self/limits`.
fn open_file_limits() -> Option<(u64, u64)> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let mut nums = line["Max open files".len()..].split_whitespace();
    let soft = nums.next()?.parse().ok()?;
    let hard = nums.next()?.parse().ok()?;
    Some((soft, hard))
}

/// The scenario `p2plab compare` runs when none is given: `scenarios/default.json`, built
/// into the binary.
const DEFAULT_SCENARIO: &str = include_str!("../../../scenarios/default.json");
