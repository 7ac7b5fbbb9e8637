//! [`SimCluster`]: every node of one network on one virtual network — what the simulator
//! carries out when the timeline asks to start, stop, cut or read a node.
//!
//! A node is started from the timeline's [`NodeSpec`] with the plan's files for its peer, as
//! on real sockets; what differs is only who carries the bytes: a [`TestNet`] instead of
//! the kernel. A peer that comes back gets a fresh address, as a restarted real node gets a
//! fresh port.

use std::net::SocketAddr;
use std::sync::Arc;

use p2plab_chord::RingView;
use p2plab_netsim::{NodeIdx, TestNet};
use p2plab_peer_protocol::control::NodeStats;
use p2plab_peer_protocol::{Library, Node};
use p2plab_runtime::launch::describe_servent;

use super::cores::{self, SimNode};
use crate::live::node_name;
use crate::neighbours::{self, Links, NodeView, World};
use crate::node_spec::NodeSpec;
use crate::plan::Plan;
use crate::ready::{Census, Condition, Problems};
use crate::spec::{Network, Scenario};
use crate::stats::Snapshot;
use crate::timeline::Who;

/// All nodes of one network on one virtual network.
pub struct SimCluster {
    /// Which network.
    pub network: Network,
    /// The virtual network and clock.
    pub net: TestNet<SimNode>,
    /// Napster's index server, while it is up.
    server: Option<NodeIdx>,
    /// Peers by index: their node on the net, `None` while down.
    peers: Vec<Option<NodeIdx>>,
    /// Who each node of the net is, by its place on it.
    started: Vec<Who>,
    plan: Arc<Plan>,
}

impl SimCluster {
    /// A network with nothing started yet. Its latency model and seed come from the scenario.
    pub fn new(network: Network, plan: Arc<Plan>, scenario: &Scenario) -> Self {
        let (sim, seed) = (&scenario.sim, scenario.seed);
        let latency = scenario.sim_latency().model();
        // Each network gets its own stream of latencies; the plan's draws stay shared.
        let net_seed = seed ^ ((network as u64 + 1) << 56);
        let mut net = TestNet::new(latency, net_seed);
        net.set_loss(sim.loss);
        SimCluster {
            network,
            net,
            server: None,
            peers: vec![None; plan.peers()],
            started: Vec::new(),
            plan,
        }
    }

    /// Peer `i`'s node on the net, if it is up.
    pub fn node_of(&self, i: usize) -> Option<NodeIdx> {
        self.peers[i]
    }

    /// Starts `who` from `spec` at a fresh address; returns the address.
    pub fn start(&mut self, who: Who, spec: &NodeSpec) -> SocketAddr {
        let addr = TestNet::<SimNode>::addr_for(self.net.len());
        let library = match who {
            Who::Server => Library::empty(),
            Who::Peer(i) => self.plan.library(i),
        };
        let idx = self.net.add_at(addr, cores::core(spec, addr, library));
        self.started.push(who);
        match who {
            Who::Server => self.server = Some(idx),
            Who::Peer(i) => self.peers[i] = Some(idx),
        }
        addr
    }

    /// Marks peer `i` as down without touching its node (it may still be saying goodbye);
    /// returns its node.
    pub fn detach(&mut self, i: usize) -> Option<NodeIdx> {
        self.peers[i].take()
    }

    /// Crashes the index server, if there is one.
    pub fn kill_server(&mut self) {
        if let Some(idx) = self.server.take() {
            self.net.crash(idx);
        }
    }

    /// Cuts the network along `sides` (peers by index): a message between two sides is
    /// lost and its connection breaks, and dials across are refused. Napster's index server
    /// is on the first side, as is every peer started during the cut.
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
                    state: match node {
                        SimNode::Gnutella(s) => describe_servent(s),
                        _ => serde_json::Value::Null,
                    },
                    problem: node.problem().cloned(),
                }
            })
            .collect();
        Snapshot::from_stats(&stats)
    }

    /// What every node links to now, read from the cores ([`World`]).
    pub fn world(&self) -> World {
        let net = &self.net;
        let place = |addr| net.idx_of(addr).and_then(neighbours::place);
        let server = self.server.and_then(neighbours::place);
        let mut nodes: Vec<NodeView> = (0..net.len())
            .map(|idx| {
                let up = net.is_alive(idx);
                let links = match net.node(idx) {
                    SimNode::Chord(c) => Links::chord(c, place),
                    SimNode::Gnutella(s) => Links::gnutella(s, place),
                    SimNode::Napster(n) => Links {
                        server: server.filter(|_| n.as_peer().is_some_and(|p| p.is_online())),
                        ..Links::default()
                    },
                };
                NodeView {
                    name: node_name(self.started[idx]),
                    up,
                    messages: neighbours::load(net.node(idx).metrics()),
                    links: if up { links } else { Links::default() },
                }
            })
            .collect();
        if let Some(s) = self.server {
            let users = (0..nodes.len())
                .filter(|&i| nodes[i].links.server.is_some())
                .filter_map(neighbours::place)
                .collect();
            nodes[s].links.users = users;
        }
        World {
            network: self.network,
            nodes,
        }
    }

    /// What the network's readiness condition needs, read from the cores.
    pub fn census(&self) -> Census {
        let live = self.peers.iter().flatten();
        let problems =
            Problems::of(live.map(|&idx| (self.net.addr(idx), self.net.node(idx).problem())));
        let nodes = self.peers.iter().flatten().map(|&idx| self.net.node(idx));
        let condition = match self.network {
            Network::Napster => Condition::Napster(self.server.and_then(|s| {
                let SimNode::Napster(n) = self.net.node(s) else {
                    return None;
                };
                let s = n.as_server()?;
                Some((s.user_count() as u64, s.file_count() as u64))
            })),
            Network::Gnutella => Condition::Gnutella {
                alone: nodes
                    .filter(|n| !matches!(n, SimNode::Gnutella(s) if !s.neighbours().is_empty()))
                    .count(),
                silent: 0,
            },
            Network::Chord => Condition::Chord(
                nodes
                    .filter_map(|n| match n {
                        SimNode::Chord(c) => Some(c.ring_view()),
                        _ => None,
                    })
                    .collect::<Vec<RingView>>(),
            ),
        };
        Census {
            condition,
            problems,
        }
    }
}
