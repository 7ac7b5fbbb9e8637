//! What to do with each message that arrives, and with each request that fails.
//!
//! Every message is checked before it is acted on: each node reference in it must carry
//! the id its address hashes to ([`NodeRef::is_genuine`]). A response must match a request
//! we sent, on the connection we sent it on ([`RpcTable::take`](crate::rpc::RpcTable::take));
//! anything else is counted in the metrics as dropped and otherwise ignored.

use p2plab_peer_protocol::{ConnId, Event, Instant, MessageKind, Outbox, Query, SearchError};

use super::{ChordNode, Purpose};
use crate::lookup::Answer;
use crate::message::{Frame, Message};
use crate::rpc::Pending;

impl ChordNode {
    pub(super) fn on_frame(&mut self, now: Instant, conn: ConnId, frame: Frame, out: &mut Outbox) {
        let refs = frame.msg.node_refs();
        if !refs.iter().all(|n| n.is_genuine(self.ring)) {
            tracing::debug!(
                kind = frame.msg.kind().name(),
                "node id does not match its address"
            );
            self.metrics.record_drop("forged_id");
            self.note_foreign_ids(now, conn, &refs);
            return;
        }
        let request = frame.request;
        match frame.msg {
            Message::FindSuccessor { target } => {
                let msg = match self.answer(target) {
                    Answer::SuccessorIs(node) => Message::SuccessorIs { node },
                    Answer::Closer(nodes) => Message::CloserNodes { nodes },
                };
                self.reply(now, conn, request, msg, out);
            }
            Message::GetPredecessor => {
                let msg = Message::Neighbours {
                    predecessor: self.predecessor,
                    successors: self.successors.as_slice().to_vec(),
                };
                self.reply(now, conn, request, msg, out);
            }
            Message::Notify { node } => {
                self.name_link(conn, node);
                self.notify(now, node, out)
            }
            Message::Ping => self.reply(now, conn, request, Message::Pong, out),
            Message::Store {
                key,
                replica,
                records,
            } => self.on_store(now, Some(conn), key, replica, records, out),
            Message::Get { key, query } => {
                let records = self.store.get(key, &Query::parse(&query), now);
                self.reply(now, conn, request, Message::Values { records }, out);
            }
            Message::Leaving {
                node,
                predecessor,
                successors,
            } => {
                self.name_link(conn, node);
                self.on_leaving(node, predecessor, &successors)
            }
            Message::RouteRecursive {
                origin,
                target,
                hops,
            } => self.on_route_recursive(now, request, origin, target, hops, out),
            Message::RecursiveFound { node, hops } => {
                self.on_recursive_found(now, request, node, hops, out)
            }
            msg => self.on_response(now, conn, request, msg, out),
        }
    }

    /// A response to one of our requests (sent on `conn`).
    fn on_response(
        &mut self,
        now: Instant,
        conn: ConnId,
        request: u64,
        msg: Message,
        out: &mut Outbox,
    ) {
        let Some(p) = self.rpc.take(request, Some(conn)) else {
            self.metrics.record_drop("unsolicited_response");
            return;
        };
        match (&p.purpose, msg) {
            (Purpose::Ask { lookup }, Message::SuccessorIs { node }) => {
                self.on_step_answer(now, *lookup, p.peer, Answer::SuccessorIs(node), out)
            }
            (Purpose::Ask { lookup }, Message::CloserNodes { nodes }) => {
                self.on_step_answer(now, *lookup, p.peer, Answer::Closer(nodes), out)
            }
            (
                Purpose::Stabilize,
                Message::Neighbours {
                    predecessor,
                    successors,
                },
            ) => self.on_neighbours(now, p.peer, predecessor, &successors, out),
            (
                Purpose::Unify,
                Message::Neighbours {
                    predecessor,
                    successors,
                },
            ) => self.on_lost_answered(now, p.peer, predecessor, &successors, out),
            (Purpose::CheckPredecessor | Purpose::CheckHolder, Message::Pong) => {}
            (Purpose::Get(run), Message::Values { records }) => {
                let run = run.clone();
                self.search_answered(now, run, records, out);
            }
            _ => {
                self.metrics.record_drop("mismatched_response");
                self.on_failed(now, p, out);
            }
        }
    }

    /// A request got no (usable) answer: its peer counts as failed — unless the request
    /// never left because every connection slot stayed busy: that was our congestion, so
    /// nobody is forgotten, and periodic work simply runs again next period.
    pub(super) fn on_failed(&mut self, now: Instant, p: Pending<Purpose>, out: &mut Outbox) {
        let peer_failed = p.conn.is_some();
        tracing::debug!(peer = ?p.peer, peer_failed, "request failed");
        match p.purpose {
            Purpose::Ask { lookup } => self.on_step_failed(now, lookup, p.peer, peer_failed, out),
            Purpose::Recursive { lookup } => self.drive(now, lookup, out),
            Purpose::Stabilize if peer_failed => {
                self.forget(now, p.peer.addr);
                self.stabilize(now, out);
            }
            Purpose::CheckPredecessor if peer_failed => self.forget(now, p.peer.addr),
            // Only the records of the address that failed: a holder address came from a
            // `store`, so a peer may have made it up, and it must not reach the successor
            // list, the fingers or the suspects (ring upkeep judges ring members).
            Purpose::CheckHolder if peer_failed => self.drop_holder(p.peer.addr),
            // A lost successor that still does not answer stays lost; nothing else changes.
            Purpose::Stabilize
            | Purpose::CheckPredecessor
            | Purpose::CheckHolder
            | Purpose::Unify => {}
            Purpose::Get(run) => {
                let ms = u64::try_from(self.config.rpc_timeout.as_millis()).unwrap_or(u64::MAX);
                out.report(Event::SearchDone {
                    request: run.request,
                    result: Err(SearchError::Timeout(ms)),
                });
            }
        }
    }

    /// Drops a failed node from the successor list, the fingers and the predecessor, and
    /// suspects it for a while (see [`crate::suspects`]).
    pub(super) fn forget(&mut self, now: Instant, addr: std::net::SocketAddr) {
        let suspicion = self.config.stabilize_every * crate::SUSPECT_PERIODS;
        self.suspects.mark(addr, now + suspicion);
        if let Some(lost) = self.successors.remove(addr) {
            self.lost_successors.push(lost, now, suspicion);
        }
        self.fingers.forget(addr);
        if self.predecessor.is_some_and(|p| p.addr == addr) {
            self.predecessor = None;
        }
        // A failed node serves no downloads either: its records would be stale hits.
        self.drop_holder(addr);
    }

    /// Forgets every record we store that names `addr` as its holder, and nothing else.
    pub(super) fn drop_holder(&mut self, addr: std::net::SocketAddr) {
        let dropped = self.store.drop_holder(addr);
        if dropped > 0 {
            tracing::debug!(%addr, dropped, "dropped the records of a failed holder");
        }
    }
}
