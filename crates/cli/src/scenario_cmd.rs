//! `p2plab run` and `p2plab compare`: read a scenario, run it on every network at once,
//! write the report and print its tables — on real sockets, or with `--sim` (or
//! `"engine": "sim"` in the file) on the deterministic simulator.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use p2plab_scenario::report::Report;
use p2plab_scenario::spec::{Engine, Network};
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

/// Runs `scenario` (none: the built-in default) into `out` and prints the tables;
/// `processes` runs each node as its own child process, `sim` (or the file's
/// `"engine": "sim"`) runs it on the simulator.
pub async fn run_file(
    scenario: Option<&Path>,
    out: &Path,
    processes: bool,
    sim: bool,
) -> anyhow::Result<ExitCode> {
    let spec = match scenario {
        Some(path) => load(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        None => parse(DEFAULT_SCENARIO)
            .map_err(|e| anyhow::anyhow!("the built-in default scenario: {e}"))?,
    };
    // Before a run of a minute or more, not after it: can the report be written there?
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot write the report into {}", out.display()))?;
    if sim || spec.engine == Engine::Sim {
        anyhow::ensure!(
            !processes,
            "--processes runs real nodes; the simulator has no processes to start"
        );
        return simulate(&spec, out);
    }
    check_fd_limit(&spec, processes)?;
    let exe = if processes {
        Some(std::env::current_exe().context("cannot find the p2plab binary to start nodes")?)
    } else {
        None
    };
    let opts = RunOptions {
        scratch: out.join("scratch"),
        processes: exe,
        progress: true,
    };
    let report = tokio::select! {
        r = run(&spec, &opts) => r?,
        _ = tokio::signal::ctrl_c() => {
            // Dropping the run drops every cluster, which kills every child node.
            anyhow::bail!("interrupted; every node was stopped");
        }
    };
    let _ = std::fs::remove_dir_all(&opts.scratch);
    print_report(&report, out)?;
    Ok(ExitCode::SUCCESS)
}

/// Plays the scenario on the simulator, writes the same report, and prints what the
/// simulator measured: virtual time, events, speed and the trace digest of each network.
fn simulate(spec: &Scenario, out: &Path) -> anyhow::Result<ExitCode> {
    let run = sim::run(spec, true)?;
    print_report(&run.report, out)?;
    for n in &run.networks {
        println!(
            "sim N={} {}: {:.1} s simulated, {} events in {:.2} s ({:.0} events/s), trace digest {:016x}",
            n.nodes,
            n.network,
            n.virtual_s,
            n.events,
            n.wall_s,
            n.events_per_s(),
            n.digest
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the report into `out` and prints its tables and where it went.
fn print_report(report: &Report, out: &Path) -> anyhow::Result<()> {
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

/// Refuses a run that would exhaust the open-file limit, with advice, after trying to raise
/// the limit with `prlimit` (util-linux).
fn check_fd_limit(spec: &Scenario, processes: bool) -> anyhow::Result<()> {
    if processes {
        return Ok(());
    }
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
