//! A cluster: every node of one network in one run, which of them are up, and how to
//! start one more.
//!
//! Peers are numbered `0..n` in every network alike, so the plan's placement and the
//! timeline's victims mean the same peer everywhere. A peer that left and comes back is
//! started again with the same files (on a new port).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;

use p2plab_peer_protocol::Holder;
use p2plab_runtime::launch;

use crate::peer::Peer;
use crate::plan::Plan;
use crate::process::{args, ProcessLauncher};
use crate::roster;
use crate::spec::{Network, Settings};

/// In this process, or as child processes.
#[derive(Debug, Clone)]
pub enum Launcher {
    /// Every node is a set of tasks of the runner.
    InProcess,
    /// Every node is a `p2plab` child process.
    Processes(ProcessLauncher),
}

/// All nodes of one network.
#[derive(Debug)]
pub struct Cluster {
    /// Which network.
    pub network: Network,
    /// Napster's index server (none for the other networks, or once it is killed).
    pub server: Option<Peer>,
    /// Peers by index; `None` while down.
    pub peers: Vec<Option<Peer>>,
    /// Where the index server listens (kept after it dies, for peers that rejoin).
    server_addr: Option<SocketAddr>,
    plan: Arc<Plan>,
    settings: Settings,
    launcher: Launcher,
    seed: u64,
    /// Incremented per start, so a restarted node gets a fresh seed.
    starts: u64,
}

fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

impl Cluster {
    /// A cluster with nothing started yet.
    pub fn new(
        network: Network,
        plan: Arc<Plan>,
        settings: Settings,
        launcher: Launcher,
        seed: u64,
    ) -> Self {
        let n = plan.peers();
        Cluster {
            network,
            server: None,
            peers: vec![None; n],
            server_addr: None,
            plan,
            settings,
            launcher,
            seed,
            starts: 0,
        }
    }

    /// Indices of the peers that are up.
    pub fn live(&self) -> Vec<usize> {
        roster::live(&self.peers)
    }

    /// The run's plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Copies of each Chord index entry.
    pub fn replicas(&self) -> usize {
        self.settings.chord.replicas
    }

    /// How many files peer `i` shares.
    pub fn plan_files_of(&self, i: usize) -> usize {
        self.plan.libraries[i].len()
    }

    /// Every running node, index server included.
    pub fn nodes(&self) -> impl Iterator<Item = &Peer> {
        self.server.iter().chain(self.peers.iter().flatten())
    }

    /// The current address-to-peer map.
    pub fn holder_map(&self) -> HolderMap {
        let by_addr = self
            .peers
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.as_ref().map(|p| (p.addr(), i)))
            .collect();
        HolderMap { by_addr }
    }

    /// Starts the index server (Napster only) and all peers, in order.
    ///
    /// # Errors
    /// If a node cannot be started.
    pub async fn start_all(&mut self, mut progress: impl FnMut()) -> anyhow::Result<()> {
        if self.network == Network::Napster {
            self.start_server().await?;
        }
        let batch = match self.network {
            Network::Chord => self.settings.chord.join_batch,
            _ => 16,
        };
        let n = self.peers.len();
        let mut i = 0;
        while i < n {
            // Chord's first node creates the ring alone; the rest join through it, a batch
            // at a time, and the ring's stabilization places them.
            let end = if i == 0 { 1 } else { (i + batch).min(n) };
            for k in i..end {
                self.start_peer(k).await?;
                progress();
            }
            if self.network == Network::Chord && end < n {
                tokio::time::sleep(Duration::from_millis(self.settings.chord.stabilize_ms)).await;
            }
            i = end;
        }
        Ok(())
    }

    async fn start_server(&mut self) -> anyhow::Result<()> {
        let listen = self.settings.napster.server.unwrap_or_else(any_port);
        let server = match &self.launcher {
            Launcher::InProcess => {
                Peer::Local(launch::napster_server(listen, Default::default()).await?)
            }
            Launcher::Processes(p) => {
                p.spawn(&[
                    "napster".into(),
                    "server".into(),
                    "--listen".into(),
                    listen.to_string(),
                    "--control".into(),
                    any_port().to_string(),
                ])
                .await?
            }
        };
        self.server_addr = Some(server.addr());
        self.server = Some(server);
        Ok(())
    }

    /// Starts (or restarts) peer `i` with its planned files.
    ///
    /// # Errors
    /// If the node cannot be started.
    pub async fn start_peer(&mut self, i: usize) -> anyhow::Result<()> {
        self.starts += 1;
        let peer = match self.network {
            Network::Napster => self.napster_peer(i).await?,
            Network::Gnutella => self.gnutella_servent(i).await?,
            Network::Chord => self.chord_node(i).await?,
        };
        self.peers[i] = Some(peer);
        Ok(())
    }

    async fn napster_peer(&self, i: usize) -> anyhow::Result<Peer> {
        let server = self
            .server_addr
            .ok_or_else(|| anyhow::anyhow!("no index server"))?;
        let library = self.plan.library(i);
        Ok(match &self.launcher {
            Launcher::InProcess => {
                Peer::Local(launch::napster_peer(server, any_port(), &nick(i), library).await?)
            }
            Launcher::Processes(p) => {
                let dir = p.share_folder(&format!("p{i}"), &library)?;
                let mut a = vec!["napster".to_owned(), "peer".to_owned()];
                a.extend(args([
                    ("--server", server.to_string()),
                    ("--share", dir.display().to_string()),
                    ("--listen", any_port().to_string()),
                    ("--control", any_port().to_string()),
                    ("--nick", nick(i)),
                ]));
                p.spawn(&a).await?
            }
        })
    }

    /// Live peers to bootstrap from: the planned earlier ones that are up, or any live peer.
    fn bootstrap(&self, i: usize, planned: &[usize], want: usize) -> Vec<SocketAddr> {
        let mut r = crate::plan::rng(self.seed ^ self.starts, i as u64);
        roster::bootstrap(&self.peers, Peer::addr, i, planned, want, &mut r)
    }

    async fn gnutella_servent(&self, i: usize) -> anyhow::Result<Peer> {
        let g = self.settings.gnutella.clone();
        let planned = self.plan.overlay(g.degree, g.max_peers).swap_remove(i);
        let bootstrap = self.bootstrap(i, &planned, g.degree);
        let library = self.plan.library(i);
        let seed = self.seed ^ (self.starts << 20) ^ i as u64;
        Ok(match &self.launcher {
            Launcher::InProcess => Peer::Local(
                launch::gnutella_servent(any_port(), library, |c| {
                    g.configure(c);
                    c.bootstrap = bootstrap;
                    c.seed = seed;
                })
                .await?,
            ),
            Launcher::Processes(p) => {
                let dir = p.share_folder(&format!("p{i}"), &library)?;
                let mut a = vec!["gnutella".to_owned(), "node".to_owned()];
                a.extend(args([
                    ("--listen", any_port().to_string()),
                    ("--share", dir.display().to_string()),
                    ("--control", any_port().to_string()),
                    ("--ttl", g.ttl.to_string()),
                    ("--max-peers", g.max_peers.to_string()),
                    ("--min-peers", g.degree.to_string()),
                    ("--ping-ttl", g.ping_ttl.to_string()),
                    (
                        "--ping-interval-ms",
                        ((g.ping_interval_s * 1000.0) as u64).to_string(),
                    ),
                    ("--search-window-ms", g.search_window_ms.to_string()),
                    ("--seed", seed.to_string()),
                ]));
                for b in bootstrap {
                    a.extend(args([("--connect", b.to_string())]));
                }
                p.spawn(&a).await?
            }
        })
    }

    async fn chord_node(&self, i: usize) -> anyhow::Result<Peer> {
        let c = self.settings.chord.clone();
        let join = if i == 0 && self.live().is_empty() {
            None
        } else {
            self.bootstrap(i, &[0], 1).first().copied()
        };
        let library = self.plan.library(i);
        let seed = self.seed ^ (self.starts << 20) ^ i as u64;
        Ok(match &self.launcher {
            Launcher::InProcess => Peer::Local(
                launch::chord_node(any_port(), library, |cfg| {
                    c.configure(cfg);
                    cfg.join = join;
                    cfg.seed = seed;
                })
                .await?,
            ),
            Launcher::Processes(p) => {
                let dir = p.share_folder(&format!("p{i}"), &library)?;
                let mut a = vec!["chord".to_owned(), "node".to_owned()];
                a.extend(args([
                    ("--listen", any_port().to_string()),
                    ("--share", dir.display().to_string()),
                    ("--control", any_port().to_string()),
                    ("--successors", c.successors.to_string()),
                    ("--replicas", c.replicas.to_string()),
                    ("--stabilize-ms", c.stabilize_ms.to_string()),
                    ("--fix-fingers-ms", c.fix_fingers_ms.to_string()),
                    ("--seed", seed.to_string()),
                ]));
                if let Some(j) = join {
                    a.extend(args([("--join", j.to_string())]));
                }
                p.spawn(&a).await?
            }
        })
    }

    /// Crashes peer `i` (or makes it leave politely).
    pub async fn stop_peer(&mut self, i: usize, crash: bool) {
        if let Some(peer) = self.peers[i].take() {
            if crash {
                peer.crash().await;
            } else {
                peer.leave().await;
            }
        }
    }

    /// Crashes the index server, if there is one.
    pub async fn kill_server(&mut self) {
        if let Some(server) = self.server.take() {
            server.crash().await;
        }
    }

    /// Picks `count` live peers at random with `r`.
    pub fn pick_live(&self, r: &mut impl Rng, count: usize) -> Vec<usize> {
        roster::pick_live(&self.peers, r, count)
    }

    /// Stops every node.
    pub async fn shutdown(&mut self) {
        self.kill_server().await;
        for i in 0..self.peers.len() {
            self.stop_peer(i, true).await;
        }
    }
}

/// Who a hit names, by address: a snapshot taken when a query starts.
#[derive(Debug, Clone, Default)]
pub struct HolderMap {
    by_addr: HashMap<SocketAddr, usize>,
}

impl HolderMap {
    /// Which peer a hit names: by listen address (Gnutella, Chord) or by nick (Napster).
    pub fn index(&self, holder: &Holder) -> Option<usize> {
        match holder {
            Holder::Http { addr, .. } => self.by_addr.get(addr).copied(),
            Holder::Napster { nick, .. } => nick_index(nick),
        }
    }
}

/// The Napster nick of peer `i`.
pub fn nick(i: usize) -> String {
    format!("p{i}")
}

fn nick_index(nick: &str) -> Option<usize> {
    nick.strip_prefix('p')?.parse().ok()
}
