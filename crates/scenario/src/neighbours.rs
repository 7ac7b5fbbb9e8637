//! What every node of a simulated network links to, read from the cores themselves: the
//! snapshot (`World`) a recorded run keeps at each phase's end, so a replay can zoom into one
//! node's neighbourhood as the network really had it then — a Chord node's predecessor,
//! successor list and fingers, a Gnutella servent's neighbours, a Napster peer's index
//! server.
//!
//! A node is named as the run's events name it (`server`, `peer N`) and referred to by its
//! place in [`World::nodes`], which is its place on the virtual network: a crashed node
//! keeps its place (marked down), so a pointer that still leads to it shows as such.

use std::net::SocketAddr;

use p2plab_chord::ChordNode;
use p2plab_gnutella::Servent;
use p2plab_peer_protocol::{Metrics, Node};
use p2plab_sim::chord::ring::SimRing;
use serde::{Deserialize, Serialize};

use crate::spec::Network;

/// Every node of one network and what it links to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct World {
    /// Which network.
    pub network: Network,
    /// Every node it ever started, by its place on the virtual network.
    pub nodes: Vec<NodeView>,
}

/// One node: its name, whether it is up, how busy it has been and its links.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeView {
    /// `server` or `peer N`.
    pub name: String,
    /// Whether it is running.
    pub up: bool,
    /// Messages it sent and received since it started: its load.
    pub messages: u64,
    /// Whom it links to.
    #[serde(flatten)]
    pub links: Links,
}

/// Whom a node links to, by each link's role; each a place in [`World::nodes`]. Only the
/// roles of the node's own network are filled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Links {
    /// Chord: its predecessor, if it knows one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predecessor: Option<u32>,
    /// Chord: its successor list, nearest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub successors: Vec<u32>,
    /// Chord: the distinct nodes of its finger table, finger 1 first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fingers: Vec<u32>,
    /// Gnutella: the servents it has an open connection with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub neighbours: Vec<u32>,
    /// Napster peer: the index server it is logged in to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<u32>,
    /// Napster index server: the peers logged in to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<u32>,
}

impl Links {
    /// A Chord node's links; `place` finds a node by its address.
    pub fn chord(node: &ChordNode, place: impl Fn(SocketAddr) -> Option<u32>) -> Links {
        let mut fingers = Vec::new();
        for finger in node.fingers().flatten() {
            let Some(p) = place(finger.addr) else {
                continue;
            };
            // A finger table is runs of equal fingers: keep each node once.
            if finger.addr != node.me().addr && !fingers.contains(&p) {
                fingers.push(p);
            }
        }
        Links {
            predecessor: node.predecessor().and_then(|p| place(p.addr)),
            successors: node
                .successor_list()
                .iter()
                .filter_map(|s| place(s.addr))
                .collect(),
            fingers,
            ..Links::default()
        }
    }

    /// A Gnutella servent's links; `place` finds a node by its address.
    pub fn gnutella(servent: &Servent, place: impl Fn(SocketAddr) -> Option<u32>) -> Links {
        let mut neighbours: Vec<u32> = servent.neighbours().into_iter().filter_map(place).collect();
        neighbours.sort_unstable();
        Links {
            neighbours,
            ..Links::default()
        }
    }

    /// The distinct nodes it links to, in any role.
    pub fn degree(&self) -> usize {
        let mut all: Vec<u32> = self
            .predecessor
            .iter()
            .chain(&self.successors)
            .chain(&self.fingers)
            .chain(&self.neighbours)
            .chain(&self.server)
            .chain(&self.users)
            .copied()
            .collect();
        all.sort_unstable();
        all.dedup();
        all.len()
    }
}

/// Messages a node sent and received.
pub fn load(metrics: &Metrics) -> u64 {
    metrics.total_sent().messages + metrics.total_received().messages
}

/// A place in [`World::nodes`] as stored: a virtual network has far fewer than 2^32 nodes.
pub fn place(idx: usize) -> Option<u32> {
    u32::try_from(idx).ok()
}

impl World {
    /// A Chord ring the simulator built ([`SimRing`]): every node, named `peer N` by its
    /// place on the network.
    pub fn of_ring(ring: &SimRing) -> World {
        let net = &ring.net;
        let nodes = (0..net.len())
            .map(|idx| {
                let node = net.node(idx);
                NodeView {
                    name: format!("peer {idx}"),
                    up: net.is_alive(idx),
                    messages: load(node.metrics()),
                    links: Links::chord(node, |addr| net.idx_of(addr).and_then(place)),
                }
            })
            .collect();
        World {
            network: Network::Chord,
            nodes,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a test fails by panicking

    use super::*;
    use p2plab_sim::chord::ring::RingParams;

    #[test]
    fn a_ring_s_snapshot_holds_each_node_s_real_successors() {
        let (ring, _) = SimRing::build(RingParams::default(), 3, 16).unwrap();
        let world = World::of_ring(&ring);
        assert_eq!(world.nodes.len(), 16);
        let members = ring.members();
        for (k, member) in members.iter().enumerate() {
            let idx = ring.net.idx_of(member.addr).unwrap();
            let next = members[(k + 1) % members.len()];
            let view = &world.nodes[idx];
            let first = view.links.successors[0] as usize;
            assert_eq!(ring.net.addr(first), next.addr, "{}", view.name);
            let prev = members[(k + members.len() - 1) % members.len()];
            let pred = view.links.predecessor.unwrap() as usize;
            assert_eq!(ring.net.addr(pred), prev.addr, "{}", view.name);
            assert!(view.links.degree() >= view.links.successors.len());
            assert!(view.up && view.messages > 0);
        }
    }
}
