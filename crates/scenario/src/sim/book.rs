//! [`Book`]: the searches the timeline asked of the virtual network, and the answers they
//! got.
//!
//! On real sockets each search is a task awaiting its node's reply. Here there are no
//! tasks: the player asks a node with a [`Command`], and the book watches that node's
//! events between the network's steps, so an answer is stamped with the very virtual
//! instant its core reported it.
//!
//! [`Command`]: p2plab_peer_protocol::Command

use std::collections::{BTreeMap, BTreeSet};

use p2plab_netsim::{NodeIdx, TestNet};
use p2plab_peer_protocol::{Event, RequestId};

use super::cores::SimNode;
use crate::timeline::{Reply, Ticket};

/// Searches asked, answers not yet handed to the timeline, and nodes that said goodbye.
#[derive(Debug, Default)]
pub struct Book {
    /// The timeline's ticket and the asking node of each search in flight.
    asked: BTreeMap<RequestId, (Ticket, NodeIdx)>,
    /// Nodes whose events are awaited, with how many things each is awaited for.
    watched: BTreeMap<NodeIdx, usize>,
    answers: Vec<Reply>,
    left: BTreeSet<NodeIdx>,
    next_request: u64,
    /// The network's [`TestNet::reports`] when events were last taken.
    reports_taken: u64,
}

impl Book {
    /// Records a search `node` is about to be asked for the timeline's `ticket`; returns
    /// the id to ask it with.
    pub fn launch(&mut self, ticket: Ticket, node: NodeIdx) -> RequestId {
        let request = self.request();
        self.watch(node);
        self.asked.insert(request, (ticket, node));
        request
    }

    /// A fresh id for a command (a search, a polite leave).
    pub fn request(&mut self) -> RequestId {
        self.next_request += 1;
        RequestId(self.next_request)
    }

    /// Awaits `node`'s events from now on.
    pub fn watch(&mut self, node: NodeIdx) {
        *self.watched.entry(node).or_default() += 1;
    }

    /// Stops awaiting `node`'s events for one of the things it was watched for.
    pub fn unwatch(&mut self, node: NodeIdx) {
        if let Some(n) = self.watched.get_mut(&node) {
            *n -= 1;
            if *n == 0 {
                self.watched.remove(&node);
            }
        }
    }

    /// Whether `node` has reported [`Event::Left`]; forgets it once asked.
    pub fn has_left(&mut self, node: NodeIdx) -> bool {
        self.left.remove(&node)
    }

    /// Takes the watched nodes' events; true if any search finished or any node left.
    pub fn collect(&mut self, net: &mut TestNet<SimNode>) -> bool {
        // The player asks after every step; most steps report nothing.
        if net.reports() == self.reports_taken {
            return false;
        }
        self.reports_taken = net.reports();
        let mut events = Vec::new();
        for &node in self.watched.keys() {
            events.extend(net.take_events(node).into_iter().map(|e| (node, e)));
        }
        let at = net.now();
        let mut progressed = false;
        for (node, event) in events {
            match event {
                Event::SearchDone { request, result } => {
                    if let Some((ticket, node)) = self.asked.remove(&request) {
                        self.unwatch(node);
                        let result = result.map_err(|e| e.to_string());
                        self.answers.push(Reply::Answer { ticket, at, result });
                        progressed = true;
                    }
                }
                Event::Left { .. } => {
                    self.unwatch(node);
                    self.left.insert(node);
                    progressed = true;
                }
                Event::Located { .. } => {}
            }
        }
        progressed
    }

    /// Forgets every search asked at `node` (it stopped; the timeline ends them).
    pub fn forget(&mut self, node: NodeIdx) {
        let gone: Vec<RequestId> = self
            .asked
            .iter()
            .filter(|(_, (_, n))| *n == node)
            .map(|(r, _)| *r)
            .collect();
        for r in gone {
            self.asked.remove(&r);
            self.unwatch(node);
        }
    }

    /// Takes the answers received so far, for the timeline.
    pub fn take_answers(&mut self) -> Vec<Reply> {
        std::mem::take(&mut self.answers)
    }
}
