//! [`Cluster`]: the nodes of one network on real sockets — in this process, as child
//! processes, or on a roster's seats — and what the sockets engine carries out on them
//! when the timeline asks.
//!
//! It decides nothing: which node starts with which settings, who dies and what is asked
//! all come from the timeline. It only knows how to start a node from its
//! [`NodeSpec`], stop it, and read it.

use std::net::SocketAddr;
use std::sync::Arc;

use p2plab_peer_protocol::control::{ControlReply, ControlRequest, NodeStats};
use p2plab_peer_protocol::latency::Latency;
use p2plab_peer_protocol::Library;
use p2plab_runtime::launch::Launcher;
use p2plab_runtime::Fabric;

use futures_util::future::join_all;

use super::peer::Peer;
use super::process::ProcessLauncher;
use super::seated;
use crate::hosts::Seats;
use crate::memory::memory_kib;
use crate::node_spec::{ChildSpec, NodeSpec};
use crate::plan::Plan;
use crate::ready::{Census, Condition, Problems};
use crate::spec::Network;
use crate::stats::Snapshot;
use crate::timeline::Who;

/// Stats requests in flight at once when reading a whole cluster.
const STATS_CONCURRENCY: usize = 128;

/// In this process, or as child processes.
#[derive(Debug, Clone)]
pub enum Hosting {
    /// Every node is a set of tasks of the runner.
    InProcess,
    /// Every node is a `p2plab` child process.
    Processes(ProcessLauncher),
    /// Every node runs on a seat of a roster: the index server on `server`, peer i on
    /// `peers[i]`, wherever they are.
    Roster(Seats),
}

/// All nodes of one network.
#[derive(Debug)]
pub struct Cluster {
    /// Which network.
    pub network: Network,
    /// Napster's index server, while up.
    server: Option<Peer>,
    /// Peers by index; `None` while down.
    peers: Vec<Option<Peer>>,
    plan: Arc<Plan>,
    hosting: Hosting,
    /// Starts nodes in this process, all on one fabric.
    launcher: Launcher,
    /// What the network between the nodes does now: every child is told on start and on
    /// every change (each child enforces its own side).
    links: Links,
    /// This process's resident memory before any node started, KiB.
    rss_before: u64,
}

/// The cut and the added latency, as the fabric request carries them.
#[derive(Debug, Clone)]
struct Links {
    cut: Option<Vec<Vec<SocketAddr>>>,
    latency: Option<Latency>,
    seed: u64,
}

impl Links {
    fn request(&self) -> ControlRequest {
        ControlRequest::Fabric {
            cut: self.cut.clone(),
            latency: self.latency,
            seed: self.seed,
        }
    }
}

fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

impl Cluster {
    /// A cluster with nothing started yet; every message its nodes send is held back by a
    /// draw of `latency` (seeded with `seed`), if any.
    pub fn new(
        network: Network,
        plan: Arc<Plan>,
        hosting: Hosting,
        latency: Option<Latency>,
        seed: u64,
    ) -> Self {
        let fabric = Fabric::open();
        fabric.set_latency(latency, seed);
        Cluster {
            network,
            server: None,
            peers: vec![None; plan.peers()],
            plan,
            hosting,
            launcher: Launcher::new(fabric),
            links: Links {
                cut: None,
                latency,
                seed,
            },
            rss_before: memory_kib("self").map_or(0, |m| m.0),
        }
    }

    /// Peer `i`, if it is up.
    pub fn peer(&self, i: usize) -> Option<Peer> {
        self.peers[i].clone()
    }

    /// Every running node, index server included.
    fn nodes(&self) -> impl Iterator<Item = &Peer> {
        self.server.iter().chain(self.peers.iter().flatten())
    }

    /// Starts `who` from `spec`, with the plan's files for a peer; returns its address.
    ///
    /// # Errors
    /// Why the node could not be started, as a sentence.
    pub async fn start(&mut self, who: Who, spec: &NodeSpec) -> Result<SocketAddr, String> {
        let listen = match spec {
            NodeSpec::NapsterServer { listen } => listen.unwrap_or_else(any_port),
            _ => any_port(),
        };
        let library = match who {
            Who::Server => Library::empty(),
            Who::Peer(i) => self.plan.library(i),
        };
        let node = match &self.hosting {
            Hosting::InProcess => spec
                .launch(&self.launcher, listen, library)
                .await
                .map(Peer::Local)
                .map_err(|e| format!("cannot listen on {listen}: {e}"))?,
            Hosting::Processes(p) => {
                let share = match who {
                    Who::Server => None,
                    Who::Peer(i) => Some(
                        p.share_folder(&format!("p{i}"), &library)
                            .map_err(|e| format!("cannot write peer {i}'s files: {e}"))?,
                    ),
                };
                let child = ChildSpec {
                    node: spec.clone(),
                    listen,
                    // The runner's nodes listen on loopback, which advertises itself.
                    advertise: None,
                    control: any_port(),
                    share,
                };
                let node = p.spawn(&child).await.map_err(|e| format!("{e:#}"))?;
                self.tell_links(&node).await;
                node
            }
            Hosting::Roster(seats) => {
                let (seat, files) = match who {
                    Who::Server => (seats.server.as_ref(), Vec::new()),
                    Who::Peer(i) => (seats.peers.get(i), self.plan.library_files(i)),
                };
                let seat = seat.ok_or_else(|| {
                    format!("the roster has no seat for {}", crate::live::node_name(who))
                })?;
                let node = seated::start(seat, spec, files, self.plan.content_seed()).await?;
                self.tell_links(&node).await;
                node
            }
        };
        let addr = node.addr();
        match who {
            Who::Server => self.server = Some(node),
            Who::Peer(i) => self.peers[i] = Some(node),
        }
        Ok(addr)
    }

    /// Tells a node the cut and the latency now in force, if there are any.
    async fn tell_links(&self, node: &Peer) {
        if self.links.cut.is_some() || self.links.latency.is_some() {
            tell(node, &self.links.request()).await;
        }
    }

    /// Crashes peer `i`, or makes it leave politely.
    pub async fn stop(&mut self, i: usize, crash: bool) {
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

    /// Cuts the network along `sides` (peers by index; the index server, and any peer not
    /// listed, on side 0): every node's driver refuses traffic across.
    pub async fn cut(&mut self, sides: &[Vec<usize>]) {
        let addrs: Vec<Vec<SocketAddr>> = sides
            .iter()
            .map(|side| {
                side.iter()
                    .filter_map(|&p| self.peers[p].as_ref().map(Peer::addr))
                    .collect()
            })
            .collect();
        self.links.cut = Some(addrs);
        self.apply().await;
    }

    /// Ends the cut.
    pub async fn heal(&mut self) {
        self.links.cut = None;
        self.apply().await;
    }

    /// Applies the links: to the one fabric of the nodes in this process, or to every
    /// child through its control port.
    async fn apply(&self) {
        match &self.hosting {
            Hosting::InProcess => {
                let fabric = self.launcher.fabric();
                match &self.links.cut {
                    Some(sides) => fabric.cut(sides),
                    None => fabric.heal(),
                }
            }
            Hosting::Processes(_) | Hosting::Roster(_) => {
                let request = self.links.request();
                join_all(self.nodes().map(|node| tell(node, &request))).await;
            }
        }
    }

    /// Stops every node.
    pub async fn shutdown(&mut self) {
        self.kill_server().await;
        for i in 0..self.peers.len() {
            self.stop(i, true).await;
        }
    }

    /// Every running node's counters, and, if `memory`, the memory the network uses: its
    /// children's, or what this process grew by since the cluster was made.
    pub async fn snapshot(&self, memory: bool) -> (Snapshot, Option<u64>) {
        let stats = gather(self.nodes()).await;
        let memory_kib = memory.then(|| self.memory_kib()).flatten();
        (Snapshot::from_stats(&stats), memory_kib)
    }

    fn memory_kib(&self) -> Option<u64> {
        match self.hosting {
            // Other machines' memory is theirs to tell.
            Hosting::Roster(_) => None,
            Hosting::Processes(_) => Some(
                self.nodes()
                    .filter_map(|p| match p {
                        Peer::Remote(r) => r.pid,
                        Peer::Local(_) => None,
                    })
                    .filter_map(|pid| memory_kib(&pid.to_string()))
                    .map(|m| m.0)
                    .sum(),
            ),
            Hosting::InProcess => memory_kib("self").map(|m| m.0.saturating_sub(self.rss_before)),
        }
    }

    /// What the network's readiness condition needs, and the problems the live peers
    /// report, read from the nodes' stats.
    pub async fn census(&self) -> Census {
        let stats = gather(self.peers.iter().flatten()).await;
        let problems = Problems::of(stats.iter().map(|s| (s.addr, s.problem.as_ref())));
        let condition = match self.network {
            Network::Napster => {
                let listed = match &self.server {
                    Some(server) => server.stats().await.ok().and_then(|stats| {
                        let field =
                            |k: &str| stats.state.get(k).and_then(serde_json::Value::as_u64);
                        Some((field("users")?, field("files")?))
                    }),
                    None => None,
                };
                Condition::Napster(listed)
            }
            Network::Gnutella => {
                let alone = stats
                    .iter()
                    .filter(|s| {
                        s.state
                            .get("neighbours")
                            .and_then(serde_json::Value::as_array)
                            .is_none_or(|n| n.is_empty())
                    })
                    .count();
                let live = self.peers.iter().flatten().count();
                Condition::Gnutella {
                    alone,
                    silent: live.saturating_sub(stats.len()),
                }
            }
            Network::Chord => Condition::Chord(
                stats
                    .into_iter()
                    .filter_map(|s| serde_json::from_value(s.state).ok())
                    .collect(),
            ),
        };
        Census {
            condition,
            problems,
        }
    }
}

/// Sends a child `request`; a child that does not take it is logged (it is likely gone).
async fn tell(node: &Peer, request: &ControlRequest) {
    match node.ask(request).await {
        Ok(ControlReply::Done) => {}
        Ok(other) => tracing::warn!(addr = %node.addr(), ?other, "fabric request refused"),
        Err(e) => tracing::warn!(addr = %node.addr(), "fabric request failed: {e}"),
    }
}

/// Asks every node for its stats, at most [`STATS_CONCURRENCY`] at once; nodes that do not
/// answer are left out.
async fn gather<'a>(nodes: impl Iterator<Item = &'a Peer>) -> Vec<NodeStats> {
    let nodes: Vec<Peer> = nodes.cloned().collect();
    let mut out = Vec::with_capacity(nodes.len());
    for chunk in nodes.chunks(STATS_CONCURRENCY) {
        let mut set = tokio::task::JoinSet::new();
        for node in chunk {
            let node = node.clone();
            set.spawn(async move { node.stats().await });
        }
        while let Some(done) = set.join_next().await {
            if let Ok(Ok(stats)) = done {
                out.push(stats);
            }
        }
    }
    out
}
