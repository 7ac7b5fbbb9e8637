//! Subcommands that start a node and keep it running until Ctrl-C (or a `crash`/`leave`
//! through its control port).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};

use p2plab_peer_protocol::Library;
use p2plab_runtime::control::{self, token, ControlOptions};
use p2plab_runtime::{launch, NodeHandle};
use p2plab_scenario::node_spec::ChildSpec;

/// Who may reach a node's control port.
#[derive(Debug, Args)]
pub struct ControlAccess {
    /// Allow --control on an address other than loopback, so other machines can reach it
    /// (they still need the token from the node's token file).
    #[arg(long)]
    control_allow_remote: bool,
}

/// `p2plab napster ...`
#[derive(Debug, Subcommand)]
pub enum NapsterCmd {
    /// The central index server (OpenNap protocol).
    Server {
        /// Where clients connect (OpenNap's usual port is 8888).
        #[arg(long, value_parser = crate::address::parse, default_value = "127.0.0.1:8888")]
        listen: SocketAddr,
        /// Control port for `p2plab stats`.
        #[arg(long, value_parser = crate::address::parse)]
        control: Option<SocketAddr>,
        #[command(flatten)]
        access: ControlAccess,
    },
    /// A peer: logs in to the server, shares a folder, serves downloads on its data port.
    Peer {
        /// The index server's address.
        #[arg(long, value_parser = crate::address::parse)]
        server: SocketAddr,
        /// The folder to share (its plain files).
        #[arg(long)]
        share: PathBuf,
        /// The data port other peers download from (Napster's usual one is 6699).
        #[arg(long, value_parser = crate::address::parse, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Control port for `p2plab search`, `get`, `stats`.
        #[arg(long, value_parser = crate::address::parse, default_value = "127.0.0.1:0")]
        control: SocketAddr,
        /// The nick to log in with (default: derived from the data port).
        #[arg(long)]
        nick: Option<String>,
        #[command(flatten)]
        access: ControlAccess,
    },
}

fn share(dir: &Path) -> anyhow::Result<Library> {
    Library::from_dir(dir).with_context(|| format!("cannot share folder {}", dir.display()))
}

/// Runs a Napster server or peer until it stops.
pub async fn napster(cmd: NapsterCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        NapsterCmd::Server {
            listen,
            control,
            access,
        } => {
            let node = launch::napster_server(listen, Default::default())
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            run_until_stopped(node, control, &access).await
        }
        NapsterCmd::Peer {
            server,
            share: dir,
            listen,
            control,
            nick,
            access,
        } => {
            let library = share(&dir)?;
            let nick = nick.unwrap_or_else(|| format!("peer{}", std::process::id()));
            let node = launch::napster_peer(server, listen, &nick, library)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            run_until_stopped(node, Some(control), &access).await
        }
    }
}

/// `p2plab gnutella ...`
#[derive(Debug, Subcommand)]
pub enum GnutellaCmd {
    /// A servent: joins the overlay, shares a folder, answers and floods queries, serves
    /// HTTP downloads on the same port.
    Node {
        /// Where to listen (Gnutella's usual port is 6346).
        #[arg(long, value_parser = crate::address::parse, default_value = "127.0.0.1:6346")]
        listen: SocketAddr,
        /// A servent to connect to at start (repeat for several).
        #[arg(long, value_parser = crate::address::parse)]
        connect: Vec<SocketAddr>,
        /// The folder to share (its plain files).
        #[arg(long)]
        share: PathBuf,
        /// Control port for `p2plab search`, `get`, `stats`.
        #[arg(long, value_parser = crate::address::parse, default_value = "127.0.0.1:0")]
        control: SocketAddr,
        /// TTL of the queries this servent starts (1..=7).
        #[arg(long, default_value_t = p2plab_gnutella::DEFAULT_TTL, value_parser = clap::value_parser!(u8).range(1..=7))]
        ttl: u8,
        /// The most neighbours to keep.
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
        max_peers: u16,
        /// The fewest neighbours to keep; below it, dial addresses from the host cache.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(0..=256))]
        min_peers: u16,
        /// TTL of this servent's periodic Pings (how far it looks for addresses).
        #[arg(long, default_value_t = p2plab_gnutella::DEFAULT_TTL, value_parser = clap::value_parser!(u8).range(1..=7))]
        ping_ttl: u8,
        /// Milliseconds between periodic Pings.
        #[arg(long, default_value_t = 30_000)]
        ping_interval_ms: u64,
        /// Milliseconds a search collects QueryHits before it reports.
        #[arg(long, default_value_t = 3_000)]
        search_window_ms: u64,
        /// Seed for descriptor ids and the servent id (default: from the address).
        #[arg(long)]
        seed: Option<u64>,
        #[command(flatten)]
        access: ControlAccess,
    },
}

/// `p2plab chord ...`
#[derive(Debug, Subcommand)]
pub enum ChordCmd {
    /// A Chord node: joins the ring, stores index entries for its keys, publishes its
    /// files' names and keywords, serves HTTP downloads on the same port.
    Node {
        /// Where to listen.
        #[arg(long, value_parser = crate::address::parse, default_value = "127.0.0.1:7400")]
        listen: SocketAddr,
        /// A ring member to join through (omit to create a new ring).
        #[arg(long, value_parser = crate::address::parse)]
        join: Option<SocketAddr>,
        /// The folder to share (its plain files).
        #[arg(long)]
        share: PathBuf,
        /// Control port for `p2plab search`, `get`, `stats`, `chord ring`.
        #[arg(long, value_parser = crate::address::parse, default_value = "127.0.0.1:0")]
        control: SocketAddr,
        /// Length r of the successor list.
        #[arg(long, default_value_t = p2plab_chord::DEFAULT_SUCCESSORS as u8, value_parser = clap::value_parser!(u8).range(1..=32))]
        successors: u8,
        /// Copies k of each index entry (on the key's successor and the next k-1 nodes).
        #[arg(long, default_value_t = p2plab_chord::DEFAULT_REPLICAS as u8, value_parser = clap::value_parser!(u8).range(1..=16))]
        replicas: u8,
        /// Identifier bits m (160 = SHA-1; small values make the paper's teaching rings).
        #[arg(long, default_value_t = p2plab_chord::M, value_parser = clap::value_parser!(u32).range(1..=160))]
        id_bits: u32,
        /// Milliseconds between runs of `stabilize`.
        #[arg(long, default_value_t = p2plab_chord::STABILIZE_EVERY.as_millis() as u64)]
        stabilize_ms: u64,
        /// Milliseconds between runs of `fix_fingers`.
        #[arg(long, default_value_t = p2plab_chord::FIX_FINGERS_EVERY.as_millis() as u64)]
        fix_fingers_ms: u64,
        /// Seed for request ids and timer jitter.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[command(flatten)]
        access: ControlAccess,
    },
    /// Print the ring as one node sees it: id, predecessor, successor list, fingers.
    Ring {
        /// The node's control address.
        #[arg(long, value_parser = crate::address::parse)]
        control: SocketAddr,
    },
}

/// Runs a Gnutella servent until it stops.
pub async fn gnutella(cmd: GnutellaCmd) -> anyhow::Result<ExitCode> {
    let GnutellaCmd::Node {
        listen,
        connect,
        share: dir,
        control,
        ttl,
        max_peers,
        min_peers,
        ping_ttl,
        ping_interval_ms,
        search_window_ms,
        seed,
        access,
    } = cmd;
    let library = share(&dir)?;
    let node = launch::gnutella_servent(listen, library, |c| {
        c.bootstrap = connect;
        c.ttl = ttl;
        c.max_peers = usize::from(max_peers);
        c.min_peers = usize::from(min_peers).min(c.max_peers);
        c.ping_ttl = ping_ttl;
        c.ping_interval = Duration::from_millis(ping_interval_ms);
        c.search_window = Duration::from_millis(search_window_ms);
        if let Some(seed) = seed {
            c.seed = seed;
        }
    })
    .await
    .with_context(|| format!("cannot listen on {listen}"))?;
    run_until_stopped(node, Some(control), &access).await
}

/// Runs a Chord node until it stops.
pub async fn chord(cmd: ChordCmd) -> anyhow::Result<ExitCode> {
    let ChordCmd::Node {
        listen,
        join,
        share: dir,
        control,
        successors,
        replicas,
        id_bits,
        stabilize_ms,
        fix_fingers_ms,
        seed,
        access,
    } = cmd
    else {
        unreachable!("`chord ring` is a client command, handled in main");
    };
    let library = share(&dir)?;
    let node = launch::chord_node(listen, library, |c| {
        c.join = join;
        c.successors = usize::from(successors);
        c.replicas = usize::from(replicas);
        c.id_bits = id_bits;
        c.stabilize_every = Duration::from_millis(stabilize_ms);
        c.fix_fingers_every = Duration::from_millis(fix_fingers_ms);
        c.seed = seed;
    })
    .await
    .with_context(|| format!("cannot listen on {listen}"))?;
    run_until_stopped(node, Some(control), &access).await
}

/// Runs the node a child document describes until it stops: the one way the scenario runner
/// starts child processes, checked by the same code that checks the runner's own settings.
pub async fn from_spec(path: &Path) -> anyhow::Result<ExitCode> {
    let child = if path == Path::new("-") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .context("cannot read the node's document from standard input")?;
        ChildSpec::parse(&text)
    } else {
        ChildSpec::load(path)
    }
    .context("bad node document")?;
    let library = match &child.share {
        Some(dir) => share(dir)?,
        None => Library::empty(),
    };
    let node = child
        .node
        .launch(&launch::Launcher::default(), child.listen, library)
        .await
        .with_context(|| format!("cannot listen on {}", child.listen))?;
    let access = ControlAccess {
        control_allow_remote: false,
    };
    run_until_stopped(node, Some(child.control), &access).await
}

/// Prints where the node listens, serves its control port (and leaves its token file, removed
/// again when the node stops), and waits for Ctrl-C or a stop.
async fn run_until_stopped(
    node: NodeHandle,
    control: Option<SocketAddr>,
    access: &ControlAccess,
) -> anyhow::Result<ExitCode> {
    println!("{} listening on {}", node.kind(), node.addr());
    let mut _served = None;
    if let Some(addr) = control {
        let options = ControlOptions {
            allow_remote: access.control_allow_remote,
            ..ControlOptions::new(token::control_dir()?)
        };
        let server = control::serve(&node, addr, &options)
            .await
            .with_context(|| format!("cannot serve the control port on {addr}"))?;
        println!("control port {}", server.addr);
        println!("control token in {}", server.token_file.path().display());
        _served = Some(server);
    }
    tokio::select! {
        _ = tokio::signal::ctrl_c() => node.crash(),
        _ = node.stopped() => {}
    }
    Ok(ExitCode::SUCCESS)
}
