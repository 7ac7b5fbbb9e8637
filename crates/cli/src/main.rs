//! The `p2plab` command: start nodes of any network, and drive them through their control
//! ports.

mod address;
mod bench;
mod client;
mod nodes;
mod scenario_cmd;
mod sim_cmd;
mod trace_cmd;
mod view;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// mimalloc, keeping what it frees (see `p2plab_alloc`).
#[global_allocator]
static ALLOCATOR: p2plab_alloc::Allocator = p2plab_alloc::Allocator;

/// Run and compare Napster, Gnutella 0.4 and Chord on one machine.
#[derive(Debug, Parser)]
#[command(name = "p2plab", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Napster: the central index server and its peers.
    #[command(subcommand)]
    Napster(nodes::NapsterCmd),
    /// Gnutella 0.4: a flooding servent.
    #[command(subcommand)]
    Gnutella(nodes::GnutellaCmd),
    /// Any node, from the JSON document a scenario runner gives its child processes (see
    /// `p2plab_scenario::node_spec`); `-` reads it from standard input.
    Node {
        /// The node's document: `{"node": ..., "listen": ..., "control": ..., "share": ...}`.
        #[arg(long)]
        spec: PathBuf,
    },
    /// Chord: a node of the distributed hash table, and a look at its ring.
    #[command(subcommand)]
    Chord(nodes::ChordCmd),
    /// A seat for one node of any network, started, crashed and started again by a
    /// scenario runner through the control port (`p2plab run --roster`): how one run
    /// spreads its nodes over many machines.
    Seat(nodes::SeatArgs),
    /// Search the network through a node's control port; prints one hit a line
    /// (name, size, holder). Exits with 1 when nothing is found.
    Search {
        /// The node's control address.
        #[arg(long, value_parser = crate::address::parse)]
        control: SocketAddr,
        /// Keywords; a file matches when its name has every one.
        #[arg(required = true)]
        words: Vec<String>,
    },
    /// Find a file by name through a node's control port and download it.
    Get {
        /// The node's control address.
        #[arg(long, value_parser = crate::address::parse)]
        control: SocketAddr,
        /// The file's exact name.
        name: String,
        /// Where to write it (through `<out>.part`, renamed when complete).
        #[arg(long)]
        out: PathBuf,
        /// Replace the file at --out if there is one.
        #[arg(long)]
        force: bool,
    },
    /// Measure a network's building blocks on loopback.
    #[command(subcommand)]
    Bench(BenchCmd),
    /// Print a node's counters and state as JSON.
    Stats {
        /// The node's control address.
        #[arg(long, value_parser = crate::address::parse)]
        control: SocketAddr,
    },
    /// Run a scenario file on every network it names, at once, and write a report
    /// (report.json, report.md, SVG charts) into --out.
    Run {
        /// The scenario (see scenarios/README.md).
        scenario: PathBuf,
        /// Where the report goes.
        #[arg(long, default_value = "out/run")]
        out: PathBuf,
        /// Start every node as its own `p2plab` process, driven over its control port.
        #[arg(long, conflicts_with = "roster")]
        processes: bool,
        /// Start no node here: run every node on the seats (`p2plab seat`) this roster
        /// lists, on whatever hosts they are (see `p2plab_scenario::hosts` for the format).
        #[arg(long, value_name = "FILE")]
        roster: Option<PathBuf>,
        /// Play it on the deterministic simulator instead of real sockets.
        #[arg(long, conflicts_with = "roster")]
        sim: bool,
        /// With --sim: play it over this many seeds (the scenario's, then the next ones)
        /// and add the mean and 95% interval of each headline figure.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=scenario_cmd::MAX_SEEDS))]
        seeds: u64,
    },
    /// Napster, Gnutella and Chord side by side: run the default scenario and print the table,
    /// then on the simulator its spread over seeds and a scaling sweep.
    Compare {
        /// The scenario to run (default: scenarios/default.json, built into the binary, so
        /// `compare` runs from any folder).
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// Where the report goes.
        #[arg(long, default_value = "out/compare")]
        out: PathBuf,
        /// Start every node as its own `p2plab` process, driven over its control port.
        #[arg(long)]
        processes: bool,
        /// Play it on the deterministic simulator instead of real sockets.
        #[arg(long)]
        sim: bool,
    },
    /// Follow one search through a small in-memory network and show every message it caused,
    /// and why: as text, as an SVG picture (--svg), or one message's bytes (--hex KIND).
    Trace(trace_cmd::TraceArgs),
    /// The deterministic simulator: the unchanged cores on virtual time, at scale.
    #[command(subcommand)]
    Sim(sim_cmd::SimCmd),
    /// A web page on this machine that shows a network: a traced search replayed step by
    /// step, or a scenario on real sockets with its counters live. Prints the page's URL.
    View(view::ViewArgs),
}

#[derive(Debug, Subcommand)]
enum BenchCmd {
    /// The Napster index server: searches per second from N clients, memory per indexed file.
    Napster(bench::NapsterBench),
    /// Chord: lookup hops and latency on a ring of N real nodes.
    Chord(bench::ChordBench),
}

/// The log filter of a command that runs many nodes in one process, when `RUST_LOG` does not
/// say otherwise: the nodes log only errors. A scenario kills an index server or a fifth of
/// the peers on purpose, and every node that loses its server would warn about it: a
/// thousand lines and more in one `compare`, burying the runner's progress. The report already names each
/// node's problem (from its `stats`), so nothing is lost; `RUST_LOG=info` brings the lines
/// back.
const MANY_NODES_LOG_FILTER: &str = "info,p2plab_peer_protocol=error,p2plab_napster=error,\
    p2plab_gnutella=error,p2plab_chord=error,p2plab_runtime=error,p2plab_netsim=error";

/// The log filter of a command that runs one node or talks to one: everything at info, as a
/// person watching that node wants.
const ONE_NODE_LOG_FILTER: &str = "info";

/// When this variable is set, `p2plab` only checks its command line: it exits with 0 if the
/// line parses and with 2 and clap's message if not, and runs nothing. The docs test uses it
/// to check every command the book quotes.
const CHECK_ARGS_ENV: &str = "P2PLAB_CHECK_ARGS";

fn main() -> ExitCode {
    p2plab_alloc::keep_freed_memory();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(cli.command.log_filter())),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into a file or a pipe.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    if let Err(message) = cli.command.check() {
        Cli::command()
            .error(clap::error::ErrorKind::ValueValidation, message)
            .exit();
    }
    if std::env::var_os(CHECK_ARGS_ENV).is_some() {
        // The command line parsed; do not run it.
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

impl Cmd {
    /// Checks a node's settings with its config's own `validate()`, and the address it
    /// would advertise, which clap's per-flag parsing cannot do (some settings bound
    /// others).
    fn check(&self) -> Result<(), String> {
        match self {
            Cmd::Napster(cmd) => cmd.check(),
            Cmd::Gnutella(cmd) => cmd.check(),
            Cmd::Chord(cmd) => cmd.check(),
            Cmd::Seat(args) => args.check(),
            _ => Ok(()),
        }
    }

    /// The default log filter for this command (see [`MANY_NODES_LOG_FILTER`]).
    fn log_filter(&self) -> &'static str {
        match self {
            Cmd::Run { .. }
            | Cmd::Compare { .. }
            | Cmd::Sim(_)
            | Cmd::Bench(_)
            | Cmd::Trace(_)
            | Cmd::View(_) => MANY_NODES_LOG_FILTER,
            _ => ONE_NODE_LOG_FILTER,
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Cmd::Node { spec } => nodes::from_spec(&spec).await,
        Cmd::Napster(cmd) => nodes::napster(cmd).await,
        Cmd::Gnutella(cmd) => nodes::gnutella(cmd).await,
        Cmd::Chord(nodes::ChordCmd::Ring { control }) => client::ring(control).await,
        Cmd::Chord(cmd) => nodes::chord(cmd).await,
        Cmd::Seat(args) => nodes::seat(args).await,
        Cmd::Search { control, words } => client::search(control, &words.join(" ")).await,
        Cmd::Get {
            control,
            name,
            out,
            force,
        } => client::get(control, &name, &out, force).await,
        Cmd::Stats { control } => client::stats(control).await,
        Cmd::Run {
            scenario,
            out,
            processes,
            roster,
            sim,
            seeds,
        } => {
            let hosting = scenario_cmd::Hosting::of(processes, roster.as_deref())?;
            scenario_cmd::run_file(Some(&scenario), &out, &hosting, sim, seeds).await
        }
        Cmd::Compare {
            scenario,
            out,
            processes,
            sim,
        } => {
            let hosting = scenario_cmd::Hosting::of(processes, None)?;
            scenario_cmd::compare(scenario.as_deref(), &out, &hosting, sim).await
        }
        Cmd::Trace(args) => trace_cmd::run(&args),
        Cmd::Sim(cmd) => sim_cmd::run(cmd),
        Cmd::View(args) => view::run(args).await,
        Cmd::Bench(BenchCmd::Napster(args)) => bench::napster(args).await,
        Cmd::Bench(BenchCmd::Chord(args)) => bench::chord(args).await,
    }
}
