//! [`SimCluster`]: every node of one network on one virtual network — the simulator's
//! counterpart of [`crate::cluster::Cluster`], peer for peer.
//!
//! Peers are numbered `0..n` as in the real cluster, get the same files, the same bootstrap
//! lists, the same seeds and the same restarts, and are picked as victims by the same
//! seeded draws. What differs is only who carries the bytes: a [`TestNet`] instead of the
//! kernel. A peer that comes back gets a fresh address, as a restarted real node gets a
//! fresh port.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;

use p2plab_chord::RingView;
use p2plab_netsim::{NodeIdx, TestNet};
use p2plab_peer_protocol::control::NodeStats;
use p2plab_peer_protocol::Node;

use super::cores::{self, SimNode};
use crate::cluster::nick;
use crate::plan::Plan;
use crate::ready::{index_is_full, ring_is_complete};
use crate::roster;
use crate::spec::{Network, Settings, SimSettings};
use crate::stats::Snapshot;

/// Peers a non-Chord network starts per batch: the real cluster's batch (it only paces the
/// progress bar there; here every batch starts at the same virtual instant).
const START_BATCH: usize = 16;

/// All nodes of one network on one virtual network.
pub struct SimCluster {
    /// Which network.
    pub network: Network,
    /// The virtual network and clock.
    pub net: TestNet<SimNode>,
    /// Napster's index server, while it is up.
    server: Option<NodeIdx>,
    /// Where the index server listens (kept after it dies, for peers that rejoin).
    server_addr: Option<SocketAddr>,
    /// Peers by index: their node on the net, `None` while down.
    peers: Vec<Option<NodeIdx>>,
    plan: Arc<Plan>,
    settings: Settings,
    seed: u64,
    /// Incremented per start, so a restarted node gets a fresh seed (as in the real cluster).
    starts: u64,
}

impl SimCluster {
    /// A network with nothing started yet. Its latency model and seed come from the scenario.
    pub fn new(
        network: Network,
        plan: Arc<Plan>,
        settings: Settings,
        sim: &SimSettings,
        seed: u64,
    ) -> Self {
        let latency = sim.latency_ms.model();
        // Each network gets its own stream of latencies; the plan's draws stay shared.
        let net_seed = seed ^ ((network as u64 + 1) << 56);
        let mut net = TestNet::new(latency, net_seed);
        net.set_loss(sim.loss);
        let peers = vec![None; plan.peers()];
        SimCluster {
            network,
            net,
            server: None,
            server_addr: None,
            peers,
            plan,
            settings,
            seed,
            starts: 0,
        }
    }

    /// Indices of the peers that are up.
    pub fn live(&self) -> Vec<usize> {
        roster::live(&self.peers)
    }

    /// For each peer, whether it is up.
    pub fn alive(&self) -> Vec<bool> {
        self.peers.iter().map(Option::is_some).collect()
    }

    /// Peer `i`'s node on the net, if it is up.
    pub fn node_of(&self, i: usize) -> Option<NodeIdx> {
        self.peers[i]
    }

    /// Whether the index server is up (Napster only).
    pub fn server_up(&self) -> Option<bool> {
        (self.network == Network::Napster).then_some(self.server.is_some())
    }

    /// The live peers' listen addresses: whom a Gnutella or Chord hit names.
    pub fn holder_addrs(&self) -> HashMap<SocketAddr, usize> {
        self.peers
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.map(|idx| (self.net.addr(idx), i)))
            .collect()
    }

    /// Starts the index server (Napster only) and every peer, in the real cluster's order;
    /// Chord's batches are a stabilization period apart, as there.
    pub fn start_all(&mut self) {
        if self.network == Network::Napster {
            let idx = self.net.add(cores::napster_server());
            self.server = Some(idx);
            self.server_addr = Some(self.net.addr(idx));
        }
        let chord = self.settings.chord.clone();
        let batch = match self.network {
            Network::Chord => chord.join_batch,
            _ => START_BATCH,
        };
        let n = self.peers.len();
        let mut i = 0;
        while i < n {
            let end = if i == 0 { 1 } else { (i + batch).min(n) };
            for k in i..end {
                self.start_peer(k);
            }
            if self.network == Network::Chord && end < n {
                self.net.run_for(Duration::from_millis(chord.stabilize_ms));
            }
            i = end;
        }
    }

    /// Starts (or restarts) peer `i` with its planned files, at a fresh address.
    pub fn start_peer(&mut self, i: usize) {
        self.starts += 1;
        let addr = TestNet::<SimNode>::addr_for(self.net.len());
        let library = self.plan.library(i);
        let seed = self.seed ^ (self.starts << 20) ^ i as u64;
        let node = match self.network {
            Network::Napster => {
                // The server is started first, so its address is always known here.
                let server = self.server_addr.unwrap_or(addr);
                cores::napster_peer(addr, server, &nick(i), library)
            }
            Network::Gnutella => {
                let g = &self.settings.gnutella;
                let planned = self.plan.overlay(g.degree, g.max_peers).swap_remove(i);
                let bootstrap = self.bootstrap(i, &planned, g.degree);
                cores::gnutella_servent(addr, library, g, bootstrap, seed)
            }
            Network::Chord => {
                let join = if i == 0 && self.live().is_empty() {
                    None
                } else {
                    self.bootstrap(i, &[0], 1).first().copied()
                };
                cores::chord_node(addr, library, &self.settings.chord, join, seed)
            }
        };
        self.peers[i] = Some(self.net.add_at(addr, node));
    }

    /// Live peers to bootstrap from: the planned earlier ones that are up, or any live peer
    /// (the same draw as the real cluster's).
    fn bootstrap(&self, i: usize, planned: &[usize], want: usize) -> Vec<SocketAddr> {
        let mut r = crate::plan::rng(self.seed ^ self.starts, i as u64);
        let addr = |idx: &NodeIdx| self.net.addr(*idx);
        roster::bootstrap(&self.peers, addr, i, planned, want, &mut r)
    }

    /// Marks peer `i` as down without touching its node (it is leaving politely; the
    /// player crashes it once it has said goodbye). Returns its node.
    pub fn detach_peer(&mut self, i: usize) -> Option<NodeIdx> {
        self.peers[i].take()
    }

    /// Crashes the index server, if there is one.
    pub fn kill_server(&mut self) {
        if let Some(idx) = self.server.take() {
            self.net.crash(idx);
        }
    }

    /// Picks `count` live peers at random with `r`, as the real cluster does.
    pub fn pick_live(&self, r: &mut impl Rng, count: usize) -> Vec<usize> {
        roster::pick_live(&self.peers, r, count)
    }

    /// Cuts the network along `sides` (peers by index): a message between two sides is
    /// lost and its connection breaks, and dials across are refused. Napster's index server
    /// is on the first side. Peers that start during the cut are on the first side too.
    pub fn partition(&mut self, sides: &[Vec<usize>]) {
        let groups: Vec<Vec<NodeIdx>> = sides
            .iter()
            .skip(1)
            .map(|side| side.iter().filter_map(|&p| self.peers[p]).collect())
            .collect();
        self.net.partition(&groups);
    }

    /// Ends the cut; the protocols reconnect as after any failure.
    pub fn heal(&mut self) {
        self.net.heal();
    }

    /// Each peer's node, `None` while it is down.
    pub fn peers(&self) -> &[Option<NodeIdx>] {
        &self.peers
    }

    /// Every running node's counters, index server included.
    pub fn snapshot(&self) -> Snapshot {
        let stats: Vec<NodeStats> = self
            .server
            .iter()
            .chain(self.peers.iter().flatten())
            .map(|&idx| {
                let node = self.net.node(idx);
                NodeStats {
                    kind: node.kind().to_owned(),
                    addr: self.net.addr(idx),
                    files: 0,
                    metrics: node.metrics().clone(),
                    state: serde_json::Value::Null,
                }
            })
            .collect();
        Snapshot::from_stats(&stats)
    }

    /// The network's own readiness condition, the one [`crate::ready`] checks on real nodes.
    pub fn is_ready(&self) -> bool {
        let live = self.live();
        let nodes = live.iter().filter_map(|&i| self.peers[i]);
        match self.network {
            Network::Napster => match self.server.map(|s| self.net.node(s)) {
                Some(SimNode::Napster(n)) => n.as_server().is_some_and(|s| {
                    index_is_full(
                        &self.plan,
                        &live,
                        s.user_count() as u64,
                        s.file_count() as u64,
                    )
                }),
                // No server: nothing to wait for, as in the real check.
                _ => true,
            },
            Network::Gnutella => nodes.into_iter().all(|idx| match self.net.node(idx) {
                SimNode::Gnutella(s) => !s.neighbours().is_empty(),
                _ => false,
            }),
            Network::Chord => {
                let views: Vec<RingView> = nodes
                    .filter_map(|idx| match self.net.node(idx) {
                        SimNode::Chord(c) => Some(c.ring_view()),
                        _ => None,
                    })
                    .collect();
                ring_is_complete(&views, &self.plan, &live, self.settings.chord.replicas)
            }
        }
    }
}
