//! Subcommands that start a node and keep it running until Ctrl-C (or a `crash`/`leave`
//! through its control port).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};

use p2plab_chord::{config as chord, ChordConfig};
use p2plab_gnutella::{config as gnutella, ServentConfig};
use p2plab_peer_protocol::settings::{millis, CHECK_ADDR};
use p2plab_peer_protocol::{Library, Listen, Question, SettingError};
use p2plab_runtime::control::{self, token, ControlOptions};
use p2plab_runtime::{launch, NodeHandle};
use p2plab_scenario::node_spec::ChildSpec;
use p2plab_scenario::seat::Seat;
use tokio_util::sync::CancellationToken;

use crate::client;

/// Who may reach a node's control port.
#[derive(Debug, Args)]
pub struct ControlAccess {
    /// Allow --control on an address other than loopback, so other machines can reach it
    /// (they still need the token from the node's token file).
    #[arg(long)]
    control_allow_remote: bool,
}

/// `p2plab seat`: places for nodes that a scenario runner fills through their control
/// ports (see `p2plab_scenario::seat`).
#[derive(Debug, Args)]
pub struct SeatArgs {
    /// Where every node started on the (first) seat listens: a fixed port, which the
    /// roster names; with --seats N, seat k listens on the port k after it.
    #[arg(long, value_parser = crate::address::parse)]
    listen: SocketAddr,
    #[command(flatten)]
    advertise: Advertise,
    /// The (first) seat's control port, which the runner drives it through; with
    /// --seats N, seat k's is the port k after it (port 0: any free ones).
    #[arg(long, value_parser = crate::address::parse, default_value = "127.0.0.1:0")]
    control: SocketAddr,
    /// How many seats this process holds, on consecutive ports: one host's share of a
    /// network, in one process instead of one each.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=MAX_SEATS))]
    seats: u16,
    #[command(flatten)]
    access: ControlAccess,
    /// Obey the token in this file (64 hex digits, such as a mounted Kubernetes Secret)
    /// instead of drawing a fresh one per seat; the runner's roster then names the same
    /// file or token.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
}

/// The most seats one `p2plab seat` holds: a control port and a listener each, with the
/// node's links, well inside a process's usual 1024 open files at a few hundred.
const MAX_SEATS: i64 = 256;

impl SeatArgs {
    /// Checks what the seats' nodes would advertise before anything starts.
    ///
    /// # Errors
    /// The flag that is wrong, and why.
    pub fn check(&self) -> Result<(), String> {
        if self.listen.port() == 0 {
            return Err(
                "--listen needs a fixed port: the roster names it, and a node \
                        started again on a seat must come back at the same address"
                    .to_owned(),
            );
        }
        let last = u32::from(self.listen.port()) + u32::from(self.seats) - 1;
        let control_last = u32::from(self.control.port()) + u32::from(self.seats) - 1;
        if last > u32::from(u16::MAX) || (self.control.port() != 0 && control_last > 65_535) {
            return Err(format!("--seats {} runs past port 65535", self.seats));
        }
        self.advertise.check(self.listen)
    }

    /// Seat `k`'s listen and control addresses.
    fn addresses(&self, k: u16) -> (SocketAddr, SocketAddr) {
        let next = |addr: SocketAddr| match addr.port() {
            0 => addr,
            port => SocketAddr::new(addr.ip(), port + k),
        };
        (next(self.listen), next(self.control))
    }
}

/// Serves the seats until Ctrl-C: prints, for each, where its nodes listen and its control
/// port, as a node does, and starts whatever node the runner sends.
pub async fn seat(args: SeatArgs) -> anyhow::Result<ExitCode> {
    let token = match &args.token_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the token in {}", path.display()))?;
            let token = p2plab_peer_protocol::control::ControlToken::parse(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            Some(token)
        }
        None => None,
    };
    let options = ControlOptions {
        allow_remote: args.access.control_allow_remote,
        token,
        ..ControlOptions::new(token::control_dir()?)
    };
    let stop = CancellationToken::new();
    let mut served = Vec::new();
    for k in 0..args.seats {
        let (addr, control) = args.addresses(k);
        let listen = args.advertise.listen(addr);
        let advertised = listen
            .advertised(addr)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let server = std::sync::Arc::new(Seat::new(listen))
            .serve(control, &options, stop.clone())
            .await
            .with_context(|| format!("cannot serve the control port on {control}"))?;
        println!("seat listening on {advertised}");
        println!("control port {}", server.addr);
        println!("control token in {}", server.token_file.path().display());
        served.push(server);
    }
    tokio::signal::ctrl_c().await?;
    stop.cancel();
    Ok(ExitCode::SUCCESS)
}

/// The address a node tells its peers, beside its `--listen` (the rule is
/// `p2plab_peer_protocol::advertise`'s, the same for every kind of node).
#[derive(Debug, Args)]
pub struct Advertise {
    /// The address peers reach this node at, needed when --listen is every interface
    /// (0.0.0.0 or ::): this host's address on their network, such as its LAN address.
    /// The port is the one --listen binds.
    #[arg(long, value_name = "IP")]
    advertise: Option<IpAddr>,
}

impl Advertise {
    /// Where to listen, with what to advertise.
    fn listen(&self, addr: SocketAddr) -> Listen {
        Listen::new(addr, self.advertise)
    }

    /// Checks the rule before anything starts, naming the flag to change.
    fn check(&self, addr: SocketAddr) -> Result<(), String> {
        self.listen(addr).check().map_err(|e| e.to_string())
    }
}

/// `p2plab napster ...`
#[derive(Debug, Subcommand)]
pub enum NapsterCmd {
    /// The central index server (OpenNap protocol).
    Server {
        /// Where clients connect (OpenNap's usual port is 8888).
        #[arg(long, value_parser = crate::address::parse, default_value = "127.0.0.1:8888")]
        listen: SocketAddr,
        #[command(flatten)]
        advertise: Advertise,
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
        #[command(flatten)]
        advertise: Advertise,
        /// Control port for `p2plab search`, `get`, `stats`.
        #[arg(long, value_parser = crate::address::parse, default_value = "127.0.0.1:0")]
        control: SocketAddr,
        /// The nick to log in with (default: derived from the data port).
        #[arg(long)]
        nick: Option<String>,
        /// Run behind a firewall: log in with data port 0 and accept no connections, so the
        /// files go out by push (the server's 501: connect out to the downloader). The
        /// --listen address then only names the node.
        #[arg(long)]
        firewalled: bool,
        #[command(flatten)]
        access: ControlAccess,
    },
    /// List the files a user shares (211 browse), asked through a peer's control port;
    /// prints one file a line (name, size, holder), as `search` does.
    Browse(AboutUser),
    /// Tell who a user is (603 whois): online since when, sharing what, with which client;
    /// or, for a user who left, when it was last seen.
    Whois(AboutUser),
    /// Ping a user through the index server (751) and print how long its answer (752) took.
    Ping(AboutUser),
}

/// Whom a client command asks about, and through which peer.
#[derive(Debug, Args)]
pub struct AboutUser {
    /// The control address of the Napster peer that asks.
    #[arg(long, value_parser = crate::address::parse)]
    control: SocketAddr,
    /// The user's nick on the index server.
    nick: String,
}

fn share(dir: &Path) -> anyhow::Result<Library> {
    Library::from_dir(dir).with_context(|| format!("cannot share folder {}", dir.display()))
}

/// Runs a Napster server or peer until it stops.
pub async fn napster(cmd: NapsterCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        NapsterCmd::Server {
            listen,
            advertise,
            control,
            access,
        } => {
            let at = advertise.listen(listen);
            let node = launch::napster_server(at, Default::default())
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            run_until_stopped(node, &at, control, &access).await
        }
        NapsterCmd::Peer {
            server,
            share: dir,
            listen,
            advertise,
            control,
            nick,
            firewalled,
            access,
        } => {
            let library = share(&dir)?;
            let nick = nick.unwrap_or_else(|| format!("peer{}", std::process::id()));
            let at = advertise.listen(listen);
            let node = if firewalled {
                launch::napster_firewalled_peer(server, at, &nick, library).await
            } else {
                launch::napster_peer(server, at, &nick, library).await
            }
            .with_context(|| format!("cannot listen on {listen}"))?;
            if firewalled {
                println!(
                    "firewalled: logged in with data port 0, accepts no connections \
                     (the address below only names the node)"
                );
            }
            run_until_stopped(node, &at, Some(control), &access).await
        }
        NapsterCmd::Browse(AboutUser { control, nick }) => {
            client::ask_about(control, Question::Browse { nick }).await
        }
        NapsterCmd::Whois(AboutUser { control, nick }) => {
            client::ask_about(control, Question::Whois { nick }).await
        }
        NapsterCmd::Ping(AboutUser { control, nick }) => {
            client::ask_about(control, Question::Ping { nick }).await
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
        #[command(flatten)]
        advertise: Advertise,
        /// A servent to connect to at start (repeat for several).
        #[arg(long, value_parser = crate::address::parse)]
        connect: Vec<SocketAddr>,
        /// The folder to share (its plain files).
        #[arg(long)]
        share: PathBuf,
        /// Control port for `p2plab search`, `get`, `stats`.
        #[arg(long, value_parser = crate::address::parse, default_value = "127.0.0.1:0")]
        control: SocketAddr,
        #[command(flatten)]
        settings: ServentFlags,
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
        #[command(flatten)]
        advertise: Advertise,
        /// A ring member to join through (omit to create a new ring).
        #[arg(long, value_parser = crate::address::parse)]
        join: Option<SocketAddr>,
        /// The folder to share (its plain files).
        #[arg(long)]
        share: PathBuf,
        /// Control port for `p2plab search`, `get`, `stats`, `chord ring`.
        #[arg(long, value_parser = crate::address::parse, default_value = "127.0.0.1:0")]
        control: SocketAddr,
        #[command(flatten)]
        settings: ChordFlags,
        /// Seed for request ids and timer jitter (default: the same for every node).
        #[arg(long)]
        seed: Option<u64>,
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

/// A servent's settings as flags. Defaults and ranges are the servent's own
/// ([`p2plab_gnutella::config`]), checked by [`ServentConfig::validate`].
#[derive(Debug, Args)]
pub struct ServentFlags {
    /// TTL of the queries this servent starts.
    #[arg(long, default_value_t = gnutella::DEFAULT_TTL)]
    ttl: u8,
    /// The most neighbours to keep.
    #[arg(long, default_value_t = gnutella::DEFAULT_MAX_PEERS)]
    max_peers: usize,
    /// The fewest neighbours to keep; below it, dial addresses from the host cache.
    #[arg(long, default_value_t = gnutella::DEFAULT_MIN_PEERS)]
    min_peers: usize,
    /// TTL of this servent's periodic Pings (how far it looks for addresses).
    #[arg(long, default_value_t = gnutella::DEFAULT_TTL)]
    ping_ttl: u8,
    /// Milliseconds between periodic Pings.
    #[arg(long, default_value_t = millis(gnutella::DEFAULT_PING_INTERVAL))]
    ping_interval_ms: u64,
    /// Milliseconds a search collects QueryHits before it reports.
    #[arg(long, default_value_t = millis(gnutella::DEFAULT_SEARCH_WINDOW))]
    search_window_ms: u64,
    /// Join as a 0.6 leaf of the bootstrap servents (ultrapeers such as gtk-gnutella): offer
    /// deflate, send a query routing table, forward nothing, keep at most
    /// `MAX_ULTRAPEERS` of them.
    #[arg(long)]
    leaf: bool,
}

impl ServentFlags {
    /// Sets a servent's config from the flags.
    fn apply(&self, c: &mut ServentConfig) {
        c.ttl = self.ttl;
        c.max_peers = self.max_peers;
        c.min_peers = self.min_peers;
        c.ping_ttl = self.ping_ttl;
        c.ping_interval = Duration::from_millis(self.ping_interval_ms);
        c.search_window = Duration::from_millis(self.search_window_ms);
        if self.leaf {
            c.role = gnutella::Role::Leaf;
        }
    }

    /// Checks the flags as a servent would take them, naming a bad one by its flag.
    fn check(&self) -> Result<(), String> {
        let mut config = ServentConfig::new(CHECK_ADDR, Arc::default());
        self.apply(&mut config);
        config.validate().map_err(|e| {
            flag_error(&e, |field| match field {
                "ping_interval" => "ping_interval_ms",
                "search_window" => "search_window_ms",
                same => same,
            })
        })
    }
}

/// A Chord node's settings as flags. Defaults and ranges are the node's own
/// ([`p2plab_chord::config`]), checked by [`ChordConfig::validate`].
#[derive(Debug, Args)]
pub struct ChordFlags {
    /// Length r of the successor list.
    #[arg(long, default_value_t = chord::DEFAULT_SUCCESSORS)]
    successors: usize,
    /// Copies k of each index entry (on the key's successor and the next k-1 nodes).
    #[arg(long, default_value_t = chord::DEFAULT_REPLICAS)]
    replicas: usize,
    /// Identifier bits m (160 = SHA-1; small values make the paper's teaching rings).
    #[arg(long, default_value_t = p2plab_chord::M)]
    id_bits: u32,
    /// Milliseconds between runs of `stabilize`.
    #[arg(long, default_value_t = millis(chord::STABILIZE_EVERY))]
    stabilize_ms: u64,
    /// Milliseconds between runs of `fix_fingers`.
    #[arg(long, default_value_t = millis(chord::FIX_FINGERS_EVERY))]
    fix_fingers_ms: u64,
}

impl ChordFlags {
    /// Sets a node's config from the flags.
    fn apply(&self, c: &mut ChordConfig) {
        c.successors = self.successors;
        c.replicas = self.replicas;
        c.id_bits = self.id_bits;
        c.stabilize_every = Duration::from_millis(self.stabilize_ms);
        c.fix_fingers_every = Duration::from_millis(self.fix_fingers_ms);
    }

    /// Checks the flags as a node would take them, naming a bad one by its flag.
    fn check(&self) -> Result<(), String> {
        let mut config = ChordConfig::new(CHECK_ADDR, None, Arc::default());
        self.apply(&mut config);
        config.validate().map_err(|e| {
            flag_error(&e, |field| match field {
                "stabilize_every" => "stabilize_ms",
                "fix_fingers_every" => "fix_fingers_ms",
                same => same,
            })
        })
    }
}

/// A refused setting, named by its flag (`flag_field` maps a config field to the flag's
/// field, which clap spells with dashes).
fn flag_error(e: &SettingError, flag_field: fn(&str) -> &str) -> String {
    let (flag, message) = e.describe(|f| format!("--{}", flag_field(f).replace('_', "-")));
    format!("{flag} {message}")
}

impl NapsterCmd {
    /// Checks what a server or peer would advertise before anything starts.
    ///
    /// # Errors
    /// The flag that is wrong, and why.
    pub fn check(&self) -> Result<(), String> {
        match self {
            NapsterCmd::Server {
                listen, advertise, ..
            }
            | NapsterCmd::Peer {
                listen, advertise, ..
            } => advertise.check(*listen),
            NapsterCmd::Browse(_) | NapsterCmd::Whois(_) | NapsterCmd::Ping(_) => Ok(()),
        }
    }
}

impl GnutellaCmd {
    /// Checks the servent's settings before anything starts.
    ///
    /// # Errors
    /// The flag that is wrong and the range it must be in.
    pub fn check(&self) -> Result<(), String> {
        let GnutellaCmd::Node {
            settings,
            listen,
            advertise,
            ..
        } = self;
        advertise.check(*listen)?;
        settings.check()
    }
}

impl ChordCmd {
    /// Checks the node's settings before anything starts.
    ///
    /// # Errors
    /// The flag that is wrong and the range it must be in.
    pub fn check(&self) -> Result<(), String> {
        match self {
            ChordCmd::Node {
                settings,
                listen,
                advertise,
                ..
            } => {
                advertise.check(*listen)?;
                settings.check()
            }
            ChordCmd::Ring { .. } => Ok(()),
        }
    }
}

/// Runs a Gnutella servent until it stops.
pub async fn gnutella(cmd: GnutellaCmd) -> anyhow::Result<ExitCode> {
    let GnutellaCmd::Node {
        listen,
        advertise,
        connect,
        share: dir,
        control,
        settings,
        seed,
        access,
    } = cmd;
    let library = share(&dir)?;
    let at = advertise.listen(listen);
    let node = launch::gnutella_servent(at, library, |c| {
        settings.apply(c);
        c.bootstrap = connect;
        if let Some(seed) = seed {
            c.seed = seed;
        }
    })
    .await
    .with_context(|| format!("cannot listen on {listen}"))?;
    run_until_stopped(node, &at, Some(control), &access).await
}

/// Runs a Chord node until it stops.
pub async fn chord(cmd: ChordCmd) -> anyhow::Result<ExitCode> {
    let ChordCmd::Node {
        listen,
        advertise,
        join,
        share: dir,
        control,
        settings,
        seed,
        access,
    } = cmd
    else {
        unreachable!("`chord ring` is a client command, handled in main");
    };
    let library = share(&dir)?;
    let at = advertise.listen(listen);
    let node = launch::chord_node(at, library, |c| {
        settings.apply(c);
        c.join = join;
        if let Some(seed) = seed {
            c.seed = seed;
        }
    })
    .await
    .with_context(|| format!("cannot listen on {listen}"))?;
    run_until_stopped(node, &at, Some(control), &access).await
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
    let listen = Listen::new(child.listen, child.advertise);
    let node = child
        .node
        .launch(&launch::Launcher::default(), listen, library)
        .await
        .with_context(|| format!("cannot listen on {}", child.listen))?;
    let access = ControlAccess {
        control_allow_remote: false,
    };
    run_until_stopped(node, &listen, Some(child.control), &access).await
}

/// Prints where the node listens (the address it advertises, which is what peers and the
/// scenario runner read, then where it is bound if that differs), serves its control port
/// (and leaves its token file, removed again when the node stops), and waits for Ctrl-C or
/// a stop.
async fn run_until_stopped(
    node: NodeHandle,
    listen: &Listen,
    control: Option<SocketAddr>,
    access: &ControlAccess,
) -> anyhow::Result<ExitCode> {
    println!("{} listening on {}", node.kind(), node.addr());
    if listen.addr.ip() != node.addr().ip() {
        println!(
            "bound on {}",
            SocketAddr::new(listen.addr.ip(), node.addr().port())
        );
    }
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
