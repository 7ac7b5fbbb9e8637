//! Connections: one cached outgoing connection per peer, frames in and out.
//!
//! A request goes out on our connection to the peer's listen address, dialled on first use
//! and reused afterwards; frames sent before the dial completes wait in the link's queue.
//! The peer answers on that same connection. Requests from peers arrive on connections
//! they dialled, and are answered there.
//!
//! Bytes off the wire go through a [`FrameReader`]; a frame that does not decode, or a
//! stream that piles up more than [`MAX_FRAME`] bytes without completing one, closes the
//! connection. The node itself carries on: requests pending on that connection fail as if
//! the peer had died.

use std::net::SocketAddr;

use p2plab_peer_protocol::{ConnId, FrameReader, Instant, Outbox, WireMessage};

use super::{ChordNode, Purpose};
use crate::message::{Frame, Message};
use crate::node_ref::NodeRef;
use crate::rpc::Pending;
use crate::{LINK_IDLE_PERIODS, MAX_FRAME, MAX_QUEUED_FRAMES};

/// One connection's state.
#[derive(Debug)]
pub(super) struct Link {
    reader: FrameReader,
    /// False while a dial is in progress.
    ready: bool,
    /// Frames waiting for the dial to complete.
    queue: Vec<Vec<u8>>,
    /// The peer's listen address, for connections we dialled.
    dialled_to: Option<SocketAddr>,
    /// When a frame last went out or came in.
    last_used: Instant,
}

impl Link {
    fn new(ready: bool, dialled_to: Option<SocketAddr>, now: Instant) -> Self {
        Link {
            reader: FrameReader::new(MAX_FRAME),
            ready,
            queue: Vec::new(),
            dialled_to,
            last_used: now,
        }
    }
}

impl ChordNode {
    pub(super) fn on_accepted(&mut self, conn: ConnId) {
        self.links.insert(conn, Link::new(true, None, self.now));
    }

    pub(super) fn on_connected(&mut self, conn: ConnId, out: &mut Outbox) {
        if let Some(link) = self.links.get_mut(&conn) {
            link.ready = true;
            for bytes in link.queue.drain(..) {
                out.send(conn, bytes);
            }
        }
    }

    pub(super) fn on_closed(&mut self, now: Instant, conn: ConnId, out: &mut Outbox) {
        if let Some(link) = self.links.remove(&conn) {
            if let Some(addr) = link.dialled_to {
                self.dialled.remove(&addr);
            }
        }
        for failed in self.rpc.on_closed(conn) {
            self.on_failed(now, failed, out);
        }
    }

    pub(super) fn on_received(
        &mut self,
        now: Instant,
        conn: ConnId,
        bytes: &[u8],
        out: &mut Outbox,
    ) {
        let Some(link) = self.links.get_mut(&conn) else {
            return;
        };
        link.reader.extend(bytes);
        link.last_used = now;
        loop {
            let Some(link) = self.links.get_mut(&conn) else {
                return;
            };
            match link.reader.next_message::<Frame>() {
                Ok(Some((frame, len))) => {
                    self.metrics.record_in(frame.msg.kind(), len);
                    self.on_frame(now, conn, frame, out);
                }
                Ok(None) => return,
                Err(e) => {
                    tracing::debug!(%conn, error = %e, "closing a connection that sent garbage");
                    self.metrics.record_drop("malformed");
                    out.close(conn);
                    self.on_closed(now, conn, out);
                    return;
                }
            }
        }
    }

    /// Our connection to `addr`, dialled now if there is none.
    fn conn_to(&mut self, addr: SocketAddr, out: &mut Outbox) -> ConnId {
        if let Some(conn) = self.dialled.get(&addr) {
            return *conn;
        }
        if self.dialled.len() >= self.config.max_dialled {
            self.evict_least_recently_used(out);
        }
        let conn = out.connect(addr);
        self.links
            .insert(conn, Link::new(false, Some(addr), self.now));
        self.dialled.insert(addr, conn);
        conn
    }

    /// Encodes `frame` onto `conn`, counting it as sent.
    pub(super) fn send_frame(&mut self, conn: ConnId, frame: &Frame, out: &mut Outbox) {
        let Some(link) = self.links.get_mut(&conn) else {
            return;
        };
        link.last_used = self.now;
        if link.ready {
            out.send_message(conn, frame, &mut self.metrics);
        } else if link.queue.len() < MAX_QUEUED_FRAMES {
            let bytes = frame.to_bytes();
            self.metrics.record_out(frame.kind(), bytes.len());
            link.queue.push(bytes);
        } else {
            self.metrics.record_drop("queue_full");
        }
    }

    /// Sends a one-way message to the node listening at `addr`.
    pub(super) fn send_to(
        &mut self,
        addr: SocketAddr,
        request: u64,
        msg: Message,
        out: &mut Outbox,
    ) {
        if addr == self.me.addr {
            return;
        }
        let conn = self.conn_to(addr, out);
        self.send_frame(conn, &Frame { request, msg }, out);
    }

    /// Sends a request to `peer`, to be answered within the RPC timeout.
    pub(super) fn request(
        &mut self,
        now: Instant,
        peer: NodeRef,
        msg: Message,
        purpose: Purpose,
        out: &mut Outbox,
    ) {
        let conn = self.conn_to(peer.addr, out);
        let pending = Pending {
            peer,
            conn,
            deadline: now + self.config.rpc_timeout,
            purpose,
        };
        let request = self.rpc.start(&mut self.rng, pending);
        self.send_frame(conn, &Frame { request, msg }, out);
    }

    /// Answers request `request` on the connection it came in on.
    pub(super) fn reply(&mut self, conn: ConnId, request: u64, msg: Message, out: &mut Outbox) {
        self.send_frame(conn, &Frame { request, msg }, out);
    }

    /// A dialled connection can be closed when it is up, has nothing queued, and no
    /// request on it waits for an answer.
    fn is_idle(&self, conn: ConnId, link: &Link) -> bool {
        link.ready && link.queue.is_empty() && !self.rpc.is_waiting_on(conn)
    }

    fn close_link(&mut self, conn: ConnId, out: &mut Outbox) {
        if let Some(addr) = self.links.remove(&conn).and_then(|l| l.dialled_to) {
            self.dialled.remove(&addr);
        }
        out.close(conn);
    }

    /// Makes room for one more dial: closes the idle dialled connection used longest ago.
    fn evict_least_recently_used(&mut self, out: &mut Outbox) {
        let victim = self
            .dialled
            .values()
            .filter_map(|c| self.links.get(c).map(|l| (*c, l)))
            .filter(|(c, l)| self.is_idle(*c, l))
            .min_by_key(|(_, l)| l.last_used)
            .map(|(c, _)| c);
        if let Some(conn) = victim {
            self.close_link(conn, out);
        }
    }

    /// Closes connections we dialled that were idle for [`LINK_IDLE_PERIODS`] stabilize
    /// periods, and connections peers dialled that were idle for twice as long.
    pub(super) fn close_stale_links(&mut self, now: Instant, out: &mut Outbox) {
        let idle_for = self.config.stabilize_every * LINK_IDLE_PERIODS;
        let stale: Vec<ConnId> = self
            .links
            .iter()
            .filter(|(c, l)| {
                // The dialler hangs up first; we let go of a connection a peer dialled only
                // after twice as long, so a request it sends at that moment is not lost.
                let limit = if l.dialled_to.is_some() {
                    idle_for
                } else {
                    idle_for * 2
                };
                self.is_idle(**c, l) && now.saturating_since(l.last_used) >= limit
            })
            .map(|(c, _)| *c)
            .collect();
        for conn in stale {
            self.close_link(conn, out);
        }
    }

    /// After leaving: sends what waited for this dial, then hangs up.
    pub(super) fn flush_and_close(&mut self, conn: ConnId, out: &mut Outbox) {
        self.on_connected(conn, out);
        self.links.remove(&conn);
        out.close(conn);
    }

    /// After leaving: hangs up every connection that has nothing left to send.
    pub(super) fn close_idle_links(&mut self, out: &mut Outbox) {
        let idle: Vec<ConnId> = self
            .links
            .iter()
            .filter(|(_, l)| l.ready)
            .map(|(c, _)| *c)
            .collect();
        for conn in idle {
            self.links.remove(&conn);
            out.close(conn);
        }
        self.dialled.clear();
    }
}
