//! [`Nodes`]: who of one network is up, where each listens, and the [`NodeSpec`] each is
//! started with — decided here, once, for both engines.
//!
//! Peers are numbered `0..n` as in the plan, so the plan's placement and the timeline's
//! victims mean the same peer in every network. A peer that comes back is started again
//! with the same files, a fresh seed, and whatever address its engine gives it.

use std::net::SocketAddr;

use rand::Rng;

use crate::node_spec::{nick, NodeSpec};
use crate::plan::{self, Plan};
use crate::roster;
use crate::spec::{Network, Settings};

/// The nodes of one network, as the timeline knows them.
#[derive(Debug)]
pub struct Nodes {
    network: Network,
    /// Peers by index: their listen address while up.
    peers: Vec<Option<SocketAddr>>,
    /// Napster's index server, while up.
    server: Option<SocketAddr>,
    /// Where the index server listened (kept after it dies, for peers that rejoin).
    server_addr: Option<SocketAddr>,
    settings: Settings,
    seed: u64,
    /// Incremented per start, so a restarted node gets a fresh seed.
    starts: u64,
    /// The Gnutella overlay the plan draws: whom each servent dials first.
    overlay: Vec<Vec<usize>>,
    /// Which peers have been up before: a servent that comes back dials `degree` peers,
    /// since some of its planned ones may be down.
    was_up: Vec<bool>,
}

impl Nodes {
    /// A network with nothing started yet.
    pub fn new(network: Network, plan: &Plan, settings: Settings, seed: u64) -> Self {
        let overlay = match network {
            Network::Gnutella => {
                let g = &settings.gnutella;
                plan.overlay(g.overlay, g.degree, g.max_peers)
            }
            Network::Napster | Network::Chord => Vec::new(),
        };
        Nodes {
            network,
            peers: vec![None; plan.peers()],
            server: None,
            server_addr: None,
            settings,
            seed,
            starts: 0,
            overlay,
            was_up: vec![false; plan.peers()],
        }
    }

    /// Peers by index, `None` while down.
    pub fn peers(&self) -> &[Option<SocketAddr>] {
        &self.peers
    }

    /// The indices of the peers that are up.
    pub fn live(&self) -> Vec<usize> {
        roster::live(&self.peers)
    }

    /// Whether Napster's index server is up (`None` for the other networks).
    pub fn server_up(&self) -> Option<bool> {
        (self.network == Network::Napster).then_some(self.server.is_some())
    }

    /// The peer that asks a query planned at `planned`: that one, or the next one up.
    pub fn origin(&self, planned: usize) -> Option<usize> {
        let n = self.peers.len();
        (0..n)
            .map(|j| (planned + j) % n)
            .find(|&p| self.peers[p].is_some())
    }

    /// Picks `count` live peers at random with `r`.
    pub fn pick_live(&self, r: &mut impl Rng, count: usize) -> Vec<usize> {
        roster::pick_live(&self.peers, r, count)
    }

    /// The index server's spec.
    pub fn server_spec(&self) -> NodeSpec {
        NodeSpec::NapsterServer {
            listen: self.settings.napster.server,
        }
    }

    /// The spec peer `i` starts (or restarts) with now; `None` for a Napster peer while no
    /// index server ever listened.
    pub fn peer_spec(&mut self, i: usize) -> Option<NodeSpec> {
        self.starts += 1;
        let seed = self.seed ^ (self.starts << 20) ^ i as u64;
        Some(match self.network {
            Network::Napster => NodeSpec::NapsterPeer {
                server: self.server_addr?,
                nick: nick(i),
            },
            Network::Gnutella => {
                // At first, exactly the planned links (the later neighbours dial this one);
                // on a comeback, as many as the servent wants, topped up if planned ones
                // are down.
                let planned = self.overlay[i].clone();
                let want = if self.was_up[i] {
                    self.settings.gnutella.degree.max(planned.len())
                } else {
                    planned.len()
                };
                NodeSpec::Gnutella {
                    settings: self.settings.gnutella.clone(),
                    bootstrap: self.bootstrap(i, &planned, want),
                    seed,
                }
            }
            Network::Chord => {
                // The first node creates the ring alone; every later one joins through
                // peer 0 while it is up, else through any live peer.
                let join = if i == 0 && self.live().is_empty() {
                    None
                } else {
                    self.bootstrap(i, &[0], 1).first().copied()
                };
                NodeSpec::Chord {
                    settings: self.settings.chord.clone(),
                    join,
                    seed,
                }
            }
        })
    }

    /// Live peers to bootstrap from: the planned ones that are up, or any live peer.
    fn bootstrap(&self, i: usize, planned: &[usize], want: usize) -> Vec<SocketAddr> {
        let mut r = plan::rng(self.seed ^ self.starts, i as u64);
        roster::bootstrap(&self.peers, i, planned, want, &mut r)
    }

    /// The index server listens at `addr`.
    pub fn server_started(&mut self, addr: SocketAddr) {
        self.server = Some(addr);
        self.server_addr = Some(addr);
    }

    /// The index server is down.
    pub fn server_stopped(&mut self) {
        self.server = None;
    }

    /// Peer `i` listens at `addr`.
    pub fn started(&mut self, i: usize, addr: SocketAddr) {
        self.peers[i] = Some(addr);
        self.was_up[i] = true;
    }

    /// Peer `i` is down (or going down: it counts as down from the moment it is told).
    pub fn stopped(&mut self, i: usize) {
        self.peers[i] = None;
    }
}
