//! `p2plab trace`: follow one search through a small in-memory network of the chosen kind and
//! print every message it caused, with the reason each was sent; optionally draw it as SVG or
//! dump one message's bytes field by field, or write an HTML player that replays it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use p2plab_trace::config::Routing;
use p2plab_trace::hexdump;
use p2plab_trace::{Network, TraceConfig};

/// Which network to trace.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum NetworkArg {
    /// A central index server and its peers: the star.
    Napster,
    /// Gnutella 0.4 servents on a random overlay: the flood.
    Gnutella,
    /// Chord nodes on a ring: the finger jumps.
    Chord,
}

/// How a Chord lookup goes from hop to hop.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoutingArg {
    /// The searcher asks every hop itself, and each answers it.
    Iterative,
    /// Each hop passes the lookup on; the last one answers the searcher.
    Recursive,
}

/// The traced network and search: what `p2plab trace` and `p2plab view trace` build. Unset
/// numbers take the defaults of each network.
#[derive(Debug, Args)]
pub struct TraceNetwork {
    /// The network to build and search.
    #[arg(value_enum)]
    network: NetworkArg,
    /// Peers, servents or ring nodes (defaults: 12, 30, 24).
    #[arg(long)]
    nodes: Option<usize>,
    /// Seeds the overlay, the shared files and every node.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Gnutella: the Query's TTL.
    #[arg(long, default_value_t = p2plab_gnutella::DEFAULT_TTL)]
    ttl: u8,
    /// Gnutella: each servent dials this many earlier ones (mean degree about twice this).
    #[arg(long, default_value_t = 2)]
    degree: usize,
    /// Chord: identifier bits m.
    #[arg(long, default_value_t = 10)]
    id_bits: u32,
    /// Chord: successor-list length r.
    #[arg(long, default_value_t = 3)]
    successors: usize,
    /// Chord: whether the searcher asks every hop (iterative) or each hop passes the lookup on
    /// (recursive).
    #[arg(long, value_enum, default_value_t = RoutingArg::Iterative)]
    routing: RoutingArg,
    /// The keywords to search for.
    #[arg(long, default_value = p2plab_trace::config::DEFAULT_QUERY)]
    query: String,
}

/// `p2plab trace` options: the traced search, and what to make of it.
#[derive(Debug, Args)]
pub struct TraceArgs {
    #[command(flatten)]
    traced: TraceNetwork,
    /// Also draw the trace as an SVG picture into this file.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Also write a step-through player into this file: one self-contained HTML page that
    /// replays the search message by message, with each message's bytes and reason.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Print only an annotated hex dump of the first message of this kind (e.g. query,
    /// query_hit, search, login, find_successor); `--hex list` names the kinds available.
    #[arg(long)]
    hex: Option<String>,
}

impl TraceNetwork {
    /// The tracer's configuration.
    pub fn config(&self) -> TraceConfig {
        let network = match self.network {
            NetworkArg::Napster => Network::Napster,
            NetworkArg::Gnutella => Network::Gnutella,
            NetworkArg::Chord => Network::Chord,
        };
        let mut c = TraceConfig::new(network);
        c.nodes = self.nodes.unwrap_or(c.nodes);
        c.seed = self.seed;
        c.ttl = self.ttl;
        c.degree = self.degree;
        c.id_bits = self.id_bits;
        c.successors = self.successors;
        c.routing = match self.routing {
            RoutingArg::Iterative => Routing::Iterative,
            RoutingArg::Recursive => Routing::Recursive,
        };
        c.query = self.query.clone();
        c
    }
}

/// Runs `p2plab trace`.
pub fn run(args: &TraceArgs) -> anyhow::Result<ExitCode> {
    let config = args.traced.config();
    let trace = p2plab_trace::run(&config)?;
    if let Some(path) = &args.svg {
        std::fs::write(path, p2plab_trace::svg::render(&trace))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.html {
        std::fs::write(path, p2plab_trace::player::render(&trace))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    match args.hex.as_deref() {
        None => print!("{}", p2plab_trace::text::render(&trace)),
        Some("list") => println!("{}", trace.kinds().join(" ")),
        Some(kind) => {
            let (from, to, bytes) = trace.find(kind).with_context(|| {
                format!(
                    "no {kind} message in this trace; kinds: {}",
                    trace.kinds().join(" ")
                )
            })?;
            let fields = p2plab_trace::fields(config.network, bytes);
            println!(
                "{kind}, {} bytes, {} -> {}:",
                bytes.len(),
                trace.label(from),
                trace.label(to)
            );
            print!("{}", hexdump::render(bytes, &fields));
        }
    }
    Ok(ExitCode::SUCCESS)
}
