//! `p2plab sim`: the deterministic simulator — the unchanged protocol cores on virtual time,
//! at sizes no machine's sockets allow.
//!
//! - `p2plab sim chord --nodes N --lookups L --seed S` builds a ring of N Chord nodes
//!   through the protocol, runs L lookups, and prints what it took: ring formation time,
//!   hops, failures, events, wall time and peak memory.
//! - `p2plab sim chord-paper FILE --out DIR` runs one of the Chord paper's experiments
//!   (`scenarios/chord-paper/*.json`) and writes `table.md`, `table.json` and `plot.svg`.
//! - `p2plab sim gnutella` measures reach and messages per query against TTL at scale.
//! - `p2plab sim engine` times the engine alone, on rings whose core costs nothing.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use p2plab_sim::chord::scale::{self, ScaleReport};
use p2plab_sim::chord::RingParams;

/// `p2plab sim` subcommands.
#[derive(Debug, Subcommand)]
pub enum SimCmd {
    /// Build a Chord ring of N nodes through the protocol and run L lookups on it.
    Chord(ChordArgs),
    /// Run one of the Chord paper's experiments and write its table and plot.
    ChordPaper {
        /// The experiment file (scenarios/chord-paper/*.json).
        file: PathBuf,
        /// Where table.md, table.json and plot.svg go.
        #[arg(long, default_value = "out/chord-paper")]
        out: PathBuf,
    },
    /// Gnutella reach and messages per query against TTL on big overlays; writes
    /// table.md, table.json, reach.svg and messages.svg.
    Gnutella(GnutellaArgs),
    /// The engine's own speed: events per second on rings of nodes whose core only passes
    /// tokens on.
    Engine(EngineArgs),
}

/// `p2plab sim engine` options.
#[derive(Debug, Args)]
pub struct EngineArgs {
    /// Nodes in the ring (several, comma-separated, run one after the other).
    #[arg(long, value_delimiter = ',', default_value = "2000,100000")]
    nodes: Vec<usize>,
    /// Virtual seconds each timed run lasts.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Timed runs per ring.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Seeds the latencies.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// `p2plab sim gnutella` options: every combination of `--nodes` and `--graph` is run.
#[derive(Debug, Args)]
pub struct GnutellaArgs {
    /// Servents in the overlay (several, comma-separated, run one after the other).
    #[arg(long, value_delimiter = ',', default_value = "10000")]
    nodes: Vec<usize>,
    /// Overlay shapes: `random` (2 links per new servent) or `ba` (Barabási–Albert, m = 2).
    #[arg(long, value_delimiter = ',', default_value = "random")]
    graph: Vec<GraphArg>,
    /// TTLs 1 ..= this are measured.
    #[arg(long, default_value_t = 7)]
    ttl_max: u8,
    /// Queries per TTL.
    #[arg(long, default_value_t = 50)]
    queries: usize,
    /// Seeds graph, servents, network and queries.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where the tables and plots go.
    #[arg(long, default_value = "out/gnutella-scale")]
    out: PathBuf,
}

/// An overlay shape on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum GraphArg {
    Random,
    Ba,
}

/// Links per new servent in both shapes: mean degree about 4, as PROTOCOLS.md §5 assumes.
const LINKS_PER_SERVENT: usize = 2;

/// `p2plab sim chord` options.
#[derive(Debug, Args)]
pub struct ChordArgs {
    /// Nodes in the ring.
    #[arg(long, default_value_t = 1_000)]
    nodes: usize,
    /// Lookups to run once the ring is exact.
    #[arg(long, default_value_t = 1_000)]
    lookups: usize,
    /// Seeds the network, every node and the workload: the same seed gives the same run.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Period of stabilize, in milliseconds of virtual time.
    #[arg(long, default_value_t = p2plab_peer_protocol::settings::millis(p2plab_chord::STABILIZE_EVERY))]
    stabilize_ms: u64,
    /// Period of fix_fingers, in milliseconds of virtual time.
    #[arg(long, default_value_t = p2plab_peer_protocol::settings::millis(p2plab_chord::FIX_FINGERS_EVERY))]
    fix_fingers_ms: u64,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs a `p2plab sim` subcommand.
pub fn run(cmd: SimCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        SimCmd::Chord(args) => chord(&args),
        SimCmd::Gnutella(args) => gnutella(&args),
        SimCmd::Engine(args) => engine(&args),
        SimCmd::ChordPaper { file, out } => {
            let report = p2plab_sim::chord_paper::run_file(&file, &out)?;
            println!("{}\n\n{}", report.title, report.markdown());
            println!("written to {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn chord(args: &ChordArgs) -> anyhow::Result<ExitCode> {
    let params = RingParams {
        stabilize_ms: args.stabilize_ms,
        fix_fingers_ms: args.fix_fingers_ms,
        ..RingParams::default()
    };
    let (_ring, report) = scale::run(params, args.nodes, args.lookups, args.seed)?;
    let peak = peak_memory_kib();
    if args.json {
        let mut value = serde_json::to_value(&report)?;
        value["peak_memory_kib"] = serde_json::json!(peak);
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print_chord(args, &report, peak);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_chord(args: &ChordArgs, r: &ScaleReport, peak_kib: Option<u64>) {
    let f = &r.formation;
    println!("chord ring of {} nodes, seed {}", f.nodes, args.seed);
    println!(
        "  formation   {} waves, exact after {:.1} s virtual ({:.1} s wall)",
        f.waves, f.virtual_secs, r.build_wall_secs
    );
    let fc = &r.fingers;
    println!(
        "  fingers     {:.1} % of the distinct fingers right when the lookups began \
         ({} of {}; the {} trivial ones, repeating the finger before: {} right)",
        100.0 * fc.distinct_fraction(),
        fc.distinct_right,
        fc.distinct,
        fc.trivial,
        fc.trivial_right
    );
    let l = &r.lookups;
    println!(
        "  lookups     {} answered, {} found the name, {} routing failures, {} lost keys ({} names published)",
        l.answered, l.succeeded, l.routing_failures, l.lost, r.names
    );
    println!(
        "  hops        mean {:.2}, p1 {}, p99 {}  ((1/2) log2 N = {:.2})",
        r.hops.mean,
        r.hops.p1,
        r.hops.p99,
        0.5 * (f.nodes as f64).log2()
    );
    println!(
        "  time        {:.1} s virtual in all, {:.1} s wall for publication and lookups",
        r.virtual_secs, r.lookup_wall_secs
    );
    println!(
        "  engine      {} events, {:.0} events/s, trace digest {:016x}",
        r.events,
        r.events_per_second(),
        r.digest
    );
    if let Some(kib) = peak_kib {
        println!(
            "  memory      peak {:.1} MiB (VmHWM), {:.1} KiB per node",
            kib as f64 / 1024.0,
            kib as f64 / f.nodes.max(1) as f64
        );
    }
}

fn engine(args: &EngineArgs) -> anyhow::Result<ExitCode> {
    use p2plab_sim::relay;
    let slice = std::time::Duration::try_from_secs_f64(args.seconds)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| anyhow::anyhow!("--seconds: expected a positive number of seconds"))?;
    anyhow::ensure!(args.runs >= 1, "--runs: expected at least 1");
    for &nodes in &args.nodes {
        anyhow::ensure!(
            nodes >= 2,
            "--nodes: a ring needs at least 2 nodes, not {nodes}"
        );
        let mut net = relay::ring(nodes, args.seed);
        println!(
            "relay ring of {nodes} nodes, {} tokens, {} s virtual per run",
            nodes.div_ceil(relay::TOKEN_EVERY),
            args.seconds
        );
        let mut rates: Vec<f64> = (1..=args.runs)
            .map(|run| {
                let speed = relay::measure(&mut net, slice);
                println!(
                    "  run {run}: {} events in {:.1} ms wall, {:.2} M events/s",
                    speed.events,
                    speed.wall.as_secs_f64() * 1e3,
                    speed.events_per_second() / 1e6
                );
                speed.events_per_second()
            })
            .collect();
        rates.sort_by(f64::total_cmp);
        println!(
            "  median {:.2} M events/s, best {:.2} M events/s",
            rates[rates.len() / 2] / 1e6,
            rates[rates.len() - 1] / 1e6
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn gnutella(args: &GnutellaArgs) -> anyhow::Result<ExitCode> {
    use p2plab_sim::gnutella_scale::{self, ScaleParams};
    use p2plab_sim::graph::GraphKind;
    let mut tables = Vec::new();
    for &graph in &args.graph {
        for &nodes in &args.nodes {
            let graph = match graph {
                GraphArg::Random => GraphKind::Random {
                    links: LINKS_PER_SERVENT,
                },
                GraphArg::Ba => GraphKind::BarabasiAlbert {
                    m: LINKS_PER_SERVENT,
                },
            };
            let params = ScaleParams {
                nodes,
                graph,
                ttl_max: args.ttl_max,
                queries: args.queries,
                seed: args.seed,
            };
            tables.push(gnutella_scale::run(params)?);
            if let Some(kib) = peak_memory_kib() {
                println!("{graph:?} N={nodes}: peak memory so far {:.1} MiB (VmHWM), {:.2} KiB per servent", kib as f64 / 1024.0, kib as f64 / nodes as f64);
            }
        }
    }
    gnutella_scale::write_outputs(&tables, &args.out)?;
    println!("{}", gnutella_scale::markdown(&tables));
    println!("written to {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}

/// The process's peak resident memory (VmHWM in /proc/self/status), in KiB, where Linux
/// tells it.
fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
