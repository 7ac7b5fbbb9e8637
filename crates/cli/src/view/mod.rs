//! `p2plab view`: a web page on this machine that shows a network — a traced search replayed
//! message by message, a scenario running on real sockets with its counters live, or a
//! simulated run replayed from its event log.
//!
//! The server listens on 127.0.0.1 only and prints one URL, which carries a fresh token; every
//! request without it is refused ([`guard`]). Every byte of every page is built into the
//! binary: nothing is fetched from anywhere else.
//!
//! ## Layout
//!
//! - [`guard`] — who is answered: the page's own origin, with the token; nobody else.
//! - [`live`] — the live source: the run's events folded into what the page shows, streamed
//!   as server-sent events.
//! - [`replay`] — a simulated run's log (a scenario, or a Chord ring's snapshot), folded
//!   step by step by the same code, on the same page.
//! - [`world`] — what the page shows of a snapshot: every node, or distributions past
//!   [`world::DRAW_LIMIT`]; one node's neighbourhood.
//! - [`listener`] — the listening socket, with a bound on the connections open at once.
//!
//! A traced search needs no module of its own: it serves the trace player's page
//! ([`p2plab_trace::player`]), the very page `p2plab trace --html` writes, so the same seed
//! shows the same film in both.

pub mod guard;
pub mod listener;
pub mod live;
pub mod replay;
pub mod world;

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use clap::{Args, Subcommand};
use tokio::net::TcpListener;

use crate::scenario_cmd;
use crate::trace_cmd::TraceNetwork;
use guard::{Guard, TOKEN_PARAM};
use listener::Bounded;
use live::Live;
use replay::Replay;

/// `p2plab view` options.
#[derive(Debug, Args)]
pub struct ViewArgs {
    /// The port on 127.0.0.1 (0: one the system picks).
    #[arg(long, default_value_t = 0, global = true)]
    port: u16,
    /// What the page shows.
    #[command(subcommand)]
    source: Source,
}

/// What the page shows.
#[derive(Debug, Subcommand)]
enum Source {
    /// Replay one traced search step by step, as `p2plab trace` follows it (the same options,
    /// the same seed, the same film).
    Trace(TraceNetwork),
    /// Run a scenario on real sockets and watch each network's counters and nodes as they
    /// change; the run begins when the page opens. With --sim, play it on the simulator
    /// first and replay its event log.
    Scenario {
        /// The scenario file (default: scenarios/default.json, built into the binary).
        file: Option<PathBuf>,
        /// Where the report goes when the run is over.
        #[arg(long, default_value = "out/view")]
        out: PathBuf,
        /// Play it on the deterministic simulator, then replay its events in virtual time.
        #[arg(long)]
        sim: bool,
        /// With --sim: also write the event log here, for `p2plab view replay`.
        #[arg(long, requires = "sim")]
        log: Option<PathBuf>,
    },
    /// Replay an event log that `--log` wrote.
    Replay {
        /// The log file.
        log: PathBuf,
    },
    /// Build a Chord ring on the simulator and explore its snapshot: distributions of
    /// links and load, and any node's predecessor, successors and fingers.
    Ring {
        /// Nodes in the ring.
        #[arg(long, default_value_t = 10_000)]
        nodes: usize,
        /// Seeds the network and every node: the same seed gives the same ring.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also write the snapshot's log here, for `p2plab view replay`.
        #[arg(long)]
        log: Option<PathBuf>,
    },
}

/// Runs `p2plab view` until it is interrupted.
pub async fn run(args: ViewArgs) -> anyhow::Result<ExitCode> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, args.port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{}", args.port))?;
    let addr = listener.local_addr()?;
    let token = p2plab_runtime::control::token::generate()?;
    let url = format!("http://{addr}/?{TOKEN_PARAM}={}", token.as_str());
    let guard = Arc::new(Guard::new(addr, token));
    match args.source {
        Source::Trace(traced) => {
            let trace = p2plab_trace::run(&traced.config())?;
            let page = Arc::new(p2plab_trace::player::render(&trace));
            let router =
                Router::new().route("/", get(move || async move { Html((*page).clone()) }));
            say_where(&url, "replays the trace");
            serve(listener, router, guard).await?;
        }
        Source::Scenario {
            file,
            out,
            sim: true,
            log,
        } => {
            let spec = scenario_cmd::read(file.as_deref(), &out)?;
            let (run, recorded) =
                tokio::task::spawn_blocking(move || p2plab_scenario::sim::run_logged(&spec, true))
                    .await??;
            // Standard output is the URL's alone; the report's tables are in its files.
            p2plab_scenario::write_report(&run.report, &out)?;
            eprintln!("report in {}", out.display());
            replay(Replay::new(recorded), log.as_deref(), listener, &url, guard).await?;
        }
        Source::Replay { log } => {
            let recorded = Replay::read(&log)?;
            replay(recorded, None, listener, &url, guard).await?;
        }
        Source::Ring { nodes, seed, log } => {
            let recorded = tokio::task::spawn_blocking(move || ring_log(nodes, seed)).await??;
            replay(Replay::new(recorded), log.as_deref(), listener, &url, guard).await?;
        }
        Source::Scenario {
            file,
            out,
            sim: false,
            ..
        } => {
            let spec = scenario_cmd::read(file.as_deref(), &out)?;
            let live = Arc::new(Live::new(&spec.name, &spec.networks));
            let router = Router::new()
                .route("/", get(live::page))
                .route("/events", get(live::events))
                .with_state(Arc::clone(&live));
            say_where(&url, "runs the scenario once it opens");
            let server = tokio::spawn(serve(listener, router, guard));
            live.watched.notified().await;
            live.update(|s| s.started = true);
            let (events, heard) = p2plab_scenario::live::channel();
            let listening = tokio::spawn({
                let live = Arc::clone(&live);
                async move { live.listen(heard).await }
            });
            let outcome = match scenario_cmd::on_sockets(&spec, &out, false, Some(events)).await {
                Ok(report) => scenario_cmd::print_report(&report, &out)
                    .map(|()| format!("report in {}", out.display())),
                Err(e) => Err(e),
            };
            // The run dropped its sender: the listener ends once it has told the page all.
            let _ = listening.await;
            let outcome = outcome.unwrap_or_else(|e| format!("the run failed: {e:#}"));
            eprintln!("{outcome}; the page stays until Ctrl-C");
            live.update(|s| s.outcome = Some(outcome));
            server.await??;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `recorded`'s log into `file` if asked, then serves its replay until Ctrl-C.
async fn replay(
    recorded: Replay,
    file: Option<&std::path::Path>,
    listener: TcpListener,
    url: &str,
    guard: Arc<Guard>,
) -> anyhow::Result<()> {
    if let Some(file) = file {
        recorded.write(file)?;
        eprintln!("event log: {}", file.display());
    }
    let router = Router::new()
        .route("/", get(|| async { live::page_for(live::Source::Replay) }))
        .route("/shown", get(replay::shown))
        .route("/node", get(replay::node))
        .with_state(Arc::new(recorded));
    say_where(url, "replays the log");
    serve(listener, router, guard).await
}

/// A Chord ring of `nodes` built on the simulator, as `p2plab sim chord` builds it (every
/// period one second, so that 10^5 nodes take minutes, not hours), and its snapshot as a
/// log: the ring's world at the instant it was exact.
fn ring_log(nodes: usize, seed: u64) -> anyhow::Result<p2plab_scenario::live::Log> {
    use p2plab_scenario::live::{Event, Log, Stamped, World};
    use p2plab_sim::chord::ring::{RingParams, SimRing};
    anyhow::ensure!(
        nodes >= 2,
        "--nodes: a ring needs at least 2 nodes, not {nodes}"
    );
    let params = RingParams {
        fix_fingers_ms: 1_000,
        ..RingParams::default()
    };
    let started = std::time::Instant::now();
    let (ring, formation) = SimRing::build(params, seed, nodes)?;
    eprintln!(
        "chord ring of {nodes} nodes: exact after {} waves, {:.1} s virtual, {:.1} s wall",
        formation.waves,
        formation.virtual_secs,
        started.elapsed().as_secs_f64()
    );
    let title = format!("a Chord ring of {nodes} simulated nodes, seed {seed}");
    let mut log = Log::new(&title, &[p2plab_scenario::spec::Network::Chord], seed);
    let at_us = ring.now().as_micros();
    let world = Event::World(Box::new(World::of_ring(&ring)));
    log.push(Stamped {
        at_us,
        event: world,
    });
    log.push(Stamped {
        at_us,
        event: Event::Done,
    });
    Ok(log)
}

/// Prints the page's URL alone on standard output (for a script to read) and what it shows
/// on standard error.
fn say_where(url: &str, what: &str) {
    println!("{url}");
    eprintln!("p2plab view: open the URL above in a browser on this machine; the page {what}");
}

/// Serves `router` behind `guard` on `listener` until Ctrl-C.
async fn serve(listener: TcpListener, router: Router, guard: Arc<Guard>) -> anyhow::Result<()> {
    let app = router.layer(axum::middleware::from_fn_with_state(guard, guard::check));
    axum::serve(Bounded::new(listener), app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("the view's server stopped")
}
