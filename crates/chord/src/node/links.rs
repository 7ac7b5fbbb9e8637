//! Connections: one cached outgoing connection per peer, frames in and out.
//!
//! A request goes out on our connection to the peer's listen address, dialled on first use
//! and reused afterwards; frames sent before the dial completes wait in the link's queue.
//! The peer answers on that same connection. Requests from peers arrive on connections
//! they dialled, and are answered there.
//!
//! A node keeps about `max_dialled` connections it dialled. When it needs one more, it
//! hangs up the idle one used longest ago; when every one is busy (a request on it still
//! waits for its answer), it dials anyway — a slow peer must not hold up the rest — but
//! never past [`DIAL_BURST`] times the bound: beyond that the new message waits in a
//! bounded queue ([`MAX_WAITING`]) and goes out as soon as a connection frees up. The peer's time to answer starts when the
//! request leaves; a request that never got a connection ([`SLOT_WAIT_TIMEOUTS`]) fails
//! without blaming the peer — the congestion was ours — so a busy node never mistakes
//! its own queue for a dead successor.
//!
//! A connection a peer dialled is known by what it says: a `notify` or `leaving` names its
//! sender, nothing else does. That name, and a [`Quota`] of what the peer may add to our
//! store, live with the connection; the index asks for both when a `store` arrives.
//!
//! Bytes off the wire go through a [`FrameReader`]; a frame that does not decode, or a
//! stream that piles up more than [`MAX_FRAME`] bytes without completing one, closes the
//! connection. The node itself carries on: requests pending on that connection fail as if
//! the peer had died.

use std::collections::VecDeque;
use std::net::SocketAddr;

use p2plab_peer_protocol::{Cause, ConnId, FrameReader, Instant, Outbox, WireMessage};

use super::{ChordNode, Purpose};
use crate::message::{Frame, Message};
use crate::node_ref::NodeRef;
use crate::quota::Quota;
use crate::rpc::Pending;
use crate::{
    DIAL_BURST, LINK_IDLE_PERIODS, MAX_FRAME, MAX_QUEUED_FRAMES, MAX_WAITING, SLOT_WAIT_TIMEOUTS,
};

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
    /// The node the peer named itself as on a connection it dialled: the `node` of its
    /// `notify` or `leaving`, the only messages that name their sender.
    named: Option<NodeRef>,
    /// What the peer may still add to our store ([`Quota`]).
    quota: Quota,
}

impl Link {
    /// A connection can be closed when it is up, has nothing queued, and no request on it
    /// waits for an answer (`busy`: [`RpcTable::conns_waited_on`](crate::rpc::RpcTable::conns_waited_on)).
    fn is_idle(&self, conn: ConnId, busy: &[ConnId]) -> bool {
        self.ready && self.queue.is_empty() && busy.binary_search(&conn).is_err()
    }

    fn new(ready: bool, dialled_to: Option<SocketAddr>, now: Instant) -> Self {
        Link {
            reader: FrameReader::new(MAX_FRAME),
            ready,
            queue: Vec::new(),
            dialled_to,
            last_used: now,
            named: None,
            quota: Quota::new(now),
        }
    }
}

/// A message that waits for a free connection slot.
#[derive(Debug)]
pub(super) struct Waiting {
    /// Where it goes.
    addr: SocketAddr,
    frame: Frame,
    /// True for one of our requests (pending in the RPC table until it is sent or expires).
    is_request: bool,
    /// What it is charged to when it goes out ([`super::cost`]).
    cause: Cause,
}

/// Messages waiting for a connection slot, oldest first.
pub(super) type WaitingQueue = VecDeque<Waiting>;

impl ChordNode {
    pub(super) fn on_accepted(&mut self, now: Instant, conn: ConnId) {
        self.links.insert(conn, Link::new(true, None, now));
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
        link.last_used = now;
        let mut input = bytes;
        loop {
            let Some(link) = self.links.get_mut(&conn) else {
                return;
            };
            match link.reader.decode_next(&mut input, Frame::decode) {
                Ok(Some((frame, len))) => {
                    self.metrics.record_in(frame.msg.kind(), len);
                    self.charge_reply(conn, &frame, len);
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

    /// The peer on `conn` named itself `node` (by `notify` or `leaving`).
    pub(super) fn name_link(&mut self, conn: ConnId, node: NodeRef) {
        if node.id == self.me.id {
            return;
        }
        if let Some(link) = self.links.get_mut(&conn) {
            link.named = Some(node);
        }
    }

    /// Who sends on `conn`, as far as we know: the node we dialled, or the one the peer
    /// named itself as. A `store` carries no sender; this is all a node has to go by.
    pub(super) fn link_sender(&self, conn: ConnId) -> Option<NodeRef> {
        let link = self.links.get(&conn)?;
        let dialled = link.dialled_to.map(|a| NodeRef::at(a, self.ring));
        dialled.or(link.named)
    }

    /// True when `conn` (none: we ourselves) may add one more record to our store, under
    /// a key we do not hold yet if `new_key`.
    pub(super) fn quota_allows(
        &mut self,
        conn: Option<ConnId>,
        now: Instant,
        new_key: bool,
    ) -> bool {
        let window = self.config.entry_ttl;
        conn.and_then(|c| self.links.get_mut(&c))
            .is_none_or(|link| link.quota.allows(now, window, new_key))
    }

    /// Counts a record that `conn` added to our store.
    pub(super) fn charge_quota(&mut self, conn: Option<ConnId>, new_key: bool) {
        if let Some(link) = conn.and_then(|c| self.links.get_mut(&c)) {
            link.quota.charge(new_key);
        }
    }

    /// Our connection to `addr`: the one we have, or a new dial — hanging up an idle
    /// connection to make room past the bound, or bursting past it while every connection
    /// is busy, up to [`DIAL_BURST`] times the bound. `None` beyond that.
    fn conn_to(&mut self, now: Instant, addr: SocketAddr, out: &mut Outbox) -> Option<ConnId> {
        if let Some(conn) = self.dialled.get(&addr) {
            return Some(*conn);
        }
        let busy_beyond_bound =
            self.dialled.len() >= self.config.max_dialled && !self.evict_least_recently_used(out);
        if busy_beyond_bound && self.dialled.len() >= self.config.max_dialled * DIAL_BURST {
            return None;
        }
        let conn = out.connect(addr);
        self.links.insert(conn, Link::new(false, Some(addr), now));
        self.dialled.insert(addr, conn);
        Some(conn)
    }

    /// Queues a message until a connection slot frees up; past [`MAX_WAITING`] it is
    /// dropped (a request then fails at its deadline, as if the peer never answered).
    fn wait_for_slot(&mut self, addr: SocketAddr, frame: Frame, is_request: bool, cause: Cause) {
        if self.waiting.len() >= MAX_WAITING {
            self.metrics.record_drop("no_connection_slot");
            return;
        }
        self.waiting.push_back(Waiting {
            addr,
            frame,
            is_request,
            cause,
        });
    }

    /// Sends what waited for a connection slot, oldest first, while slots are free.
    /// Requests that expired while waiting are forgotten.
    pub(super) fn send_waiting(&mut self, now: Instant, out: &mut Outbox) {
        while let Some(next) = self.waiting.front() {
            if next.is_request && !self.rpc.is_unsent(next.frame.request) {
                self.waiting.pop_front();
                continue;
            }
            let Some(conn) = self.conn_to(now, next.addr, out) else {
                return;
            };
            let Some(next) = self.waiting.pop_front() else {
                return;
            };
            if next.is_request {
                let deadline = now + self.config.rpc_timeout;
                self.rpc.sent_on(next.frame.request, conn, deadline);
            }
            self.send_frame(now, conn, &next.frame, next.cause, out);
        }
    }

    /// Encodes `frame` onto `conn`, counting it as sent and charging it to `cause`.
    fn send_frame(
        &mut self,
        now: Instant,
        conn: ConnId,
        frame: &Frame,
        cause: Cause,
        out: &mut Outbox,
    ) {
        let Some(link) = self.links.get_mut(&conn) else {
            return;
        };
        link.last_used = now;
        if !link.ready && link.queue.len() >= MAX_QUEUED_FRAMES {
            self.metrics.record_drop("queue_full");
            return;
        }
        let bytes = frame.to_bytes();
        self.metrics.record_out(frame.kind(), bytes.len());
        self.metrics.charge(cause, bytes.len());
        if link.ready {
            out.send(conn, bytes);
        } else {
            link.queue.push(bytes);
        }
    }

    /// Sends a one-way message to the node listening at `addr`.
    pub(super) fn send_to(
        &mut self,
        now: Instant,
        addr: SocketAddr,
        request: u64,
        msg: Message,
        out: &mut Outbox,
    ) {
        if addr == self.me.addr {
            return;
        }
        let frame = Frame { request, msg };
        let cause = super::cost::by_kind(&frame);
        match self.conn_to(now, addr, out) {
            Some(conn) => self.send_frame(now, conn, &frame, cause, out),
            None => self.wait_for_slot(addr, frame, false, cause),
        }
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
        let conn = self.conn_to(now, peer.addr, out);
        let deadline = match conn {
            Some(_) => now + self.config.rpc_timeout,
            None => now + self.config.rpc_timeout * SLOT_WAIT_TIMEOUTS,
        };
        let cause = self.request_cause(&purpose);
        let pending = Pending {
            peer,
            conn,
            deadline,
            purpose,
        };
        let request = self.rpc.start(&mut self.rng, pending);
        let frame = Frame { request, msg };
        match conn {
            Some(conn) => self.send_frame(now, conn, &frame, cause, out),
            None => self.wait_for_slot(peer.addr, frame, true, cause),
        }
    }

    /// Answers request `request` on the connection it came in on.
    pub(super) fn reply(
        &mut self,
        now: Instant,
        conn: ConnId,
        request: u64,
        msg: Message,
        out: &mut Outbox,
    ) {
        let frame = Frame { request, msg };
        let cause = super::cost::by_kind(&frame);
        self.send_frame(now, conn, &frame, cause, out);
    }

    fn close_link(&mut self, conn: ConnId, out: &mut Outbox) {
        if let Some(addr) = self.links.remove(&conn).and_then(|l| l.dialled_to) {
            self.dialled.remove(&addr);
        }
        out.close(conn);
    }

    /// Makes room for one more dial: closes the idle dialled connection used longest ago.
    /// False when every dialled connection is busy.
    fn evict_least_recently_used(&mut self, out: &mut Outbox) -> bool {
        let busy = self.rpc.conns_waited_on();
        let victim = self
            .dialled
            .values()
            .filter_map(|c| self.links.get(c).map(|l| (*c, l)))
            .filter(|(c, l)| l.is_idle(*c, &busy))
            .min_by_key(|(_, l)| l.last_used)
            .map(|(c, _)| c);
        if let Some(conn) = victim {
            self.close_link(conn, out);
        }
        victim.is_some()
    }

    /// Closes connections we dialled that were idle for [`LINK_IDLE_PERIODS`] stabilize
    /// periods, and connections peers dialled that were idle for twice as long.
    pub(super) fn close_stale_links(&mut self, now: Instant, out: &mut Outbox) {
        let idle_for = self.config.stabilize_every * LINK_IDLE_PERIODS;
        let busy = self.rpc.conns_waited_on();
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
                l.is_idle(**c, &busy) && now.saturating_since(l.last_used) >= limit
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
        self.waiting.clear();
    }
}
