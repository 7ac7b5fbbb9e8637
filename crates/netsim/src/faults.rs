//! What goes wrong on purpose: crashes and recoveries, partitions, lost messages.

use p2plab_peer_protocol::{CloseReason, ConnId, ConnIds, Input, Node};
use rand::Rng;

use super::agenda::Delivery;
use super::{NodeIdx, TestNet};

impl<N: Node> TestNet<N> {
    /// Crashes a node: it stops at once, and every peer sees its connections close (after
    /// whatever the node had already sent). Dials to it are refused until it recovers.
    pub fn crash(&mut self, idx: NodeIdx) {
        if !std::mem::replace(&mut self.hosts[idx].alive, false) {
            return;
        }
        for end in self.hosts[idx].ends.take_all() {
            let Some(peer) = end.peer else { continue };
            let at = self.later().max(end.last_delivery);
            self.cut(peer.node, peer.conn);
            // The crashed process's sockets are closed by its host, as a killed process's are.
            let closed = Delivery::Closed {
                conn: peer.conn,
                reason: CloseReason::PeerClosed,
            };
            self.schedule(at, peer.node, closed);
        }
    }

    /// Brings a node back at the same address with a fresh core, and starts it now — as when
    /// a crashed peer's process is restarted. A live node is crashed first. Nothing meant for
    /// the old core (bytes in flight, a pending `Connected`) reaches the new one.
    pub fn recover(&mut self, idx: NodeIdx, core: N) {
        self.crash(idx);
        let slot = &mut self.slots[idx];
        slot.node = core;
        slot.conn_ids = ConnIds::new();
        let host = &mut self.hosts[idx];
        host.life += 1;
        host.armed = None;
        host.alive = true;
        self.input(idx, Input::Start);
    }

    /// From now on each message is lost with probability `p` (0 = none, the default), and
    /// its loss breaks its link: see the [module docs](super) for why.
    pub fn set_loss(&mut self, p: f64) {
        self.loss = if p.is_finite() {
            p.clamp(0.0, 1.0)
        } else {
            0.0
        };
    }

    /// Splits the network: the nodes of `groups[i]` form side `i + 1`, every other node side
    /// 0. Connections between sides break at once (both ends are told `Closed`, after what
    /// was already in flight), and dials across are refused until [`TestNet::heal`].
    pub fn partition(&mut self, groups: &[Vec<NodeIdx>]) {
        for host in &mut self.hosts {
            host.group = 0;
        }
        for (side, group) in (1..).zip(groups) {
            for &idx in group {
                self.hosts[idx].group = side;
            }
        }
        // Each crossing link is listed from both ends; breaking it from the first leaves
        // nothing for the second to break.
        let mut crossing = Vec::new();
        for (idx, host) in self.hosts.iter().enumerate() {
            for (conn, peer) in host.ends.linked() {
                if self.hosts[peer.node].group != host.group {
                    crossing.push((idx, conn));
                }
            }
        }
        for (idx, conn) in crossing {
            self.break_link(idx, conn);
        }
    }

    /// Ends a partition: dials go anywhere again. Broken connections stay broken; the cores
    /// reconnect as they would after any failure.
    pub fn heal(&mut self) {
        for host in &mut self.hosts {
            host.group = 0;
        }
    }

    /// Draws whether the next message is lost (no draw at all when there is no loss, so a
    /// lossless run consumes the RNG exactly as before loss existed).
    pub(super) fn message_lost(&mut self) -> bool {
        self.loss > 0.0 && self.rng.random_bool(self.loss)
    }

    /// Breaks a link from both sides, as when the path between two nodes dies: neither core
    /// closed it, both are told `Closed` — timed out, as TCP tells of a dead path — each
    /// after the bytes already on their way to it.
    pub(super) fn break_link(&mut self, idx: NodeIdx, conn: ConnId) {
        let Some((peer, to_peer_last)) = self.cut(idx, conn) else {
            return;
        };
        let to_here_last = self
            .cut(peer.node, peer.conn)
            .map_or(self.now, |(_, last)| last);
        let at_peer = self.later().max(to_peer_last);
        let at_here = self.later().max(to_here_last);
        let reason = CloseReason::TimedOut;
        let to_peer = Delivery::Closed {
            conn: peer.conn,
            reason,
        };
        self.schedule(at_peer, peer.node, to_peer);
        self.schedule(at_here, idx, Delivery::Closed { conn, reason });
    }
}
