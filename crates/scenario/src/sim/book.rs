//! [`Book`]: the searches in flight on a virtual network, and the answers they got.
//!
//! On real sockets each search is a task awaiting its node's reply. Here there are no tasks:
//! the player asks a node with a [`Command`], and the book watches that node's events
//! between the network's steps, so an answer is timed at the very virtual instant its core
//! reported it.
//!
//! [`Command`]: p2plab_peer_protocol::Command

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use p2plab_netsim::{NodeIdx, TestNet};
use p2plab_peer_protocol::{Event, Hit, Instant, RequestId};

use super::cores::SimNode;
use crate::plan::PlannedQuery;

/// Who was up and who holds what when a search was asked: what its answer is judged against.
#[derive(Debug, Default)]
pub struct Truth {
    /// For each peer, whether it was up.
    pub alive: Vec<bool>,
    /// Live peers by listen address (Gnutella and Chord hits name holders so).
    pub holders: HashMap<SocketAddr, usize>,
}

/// A search on its way.
#[derive(Debug)]
pub struct Flight {
    /// What was asked.
    pub query: PlannedQuery,
    /// The node that asks.
    pub node: NodeIdx,
    /// When it was asked.
    pub asked: Instant,
    /// The truth at that moment.
    pub truth: Rc<Truth>,
}

/// A finished search.
#[derive(Debug)]
pub struct Answer {
    /// The search as it was asked.
    pub flight: Flight,
    /// The hits, or why the search failed (the sentence a real node's handle gives).
    pub result: Result<Vec<Hit>, String>,
    /// Virtual time from the command to the answer.
    pub latency: Duration,
}

/// Searches in flight, answers received, and nodes that said goodbye.
#[derive(Debug, Default)]
pub struct Book {
    flights: BTreeMap<RequestId, Flight>,
    /// Nodes whose events are awaited, with how many things each is awaited for.
    watched: BTreeMap<NodeIdx, usize>,
    answers: Vec<Answer>,
    left: BTreeSet<NodeIdx>,
    next_request: u64,
    /// The network's [`TestNet::reports`] when events were last taken.
    reports_taken: u64,
}

impl Book {
    /// Searches in flight.
    pub fn in_flight(&self) -> usize {
        self.flights.len()
    }

    /// When the oldest search in flight was asked.
    pub fn oldest(&self) -> Option<Instant> {
        self.flights.values().map(|f| f.asked).min()
    }

    /// Records a search about to be asked; returns the id to ask it with.
    pub fn launch(&mut self, flight: Flight) -> RequestId {
        self.next_request += 1;
        let request = RequestId(self.next_request);
        self.watch(flight.node);
        self.flights.insert(request, flight);
        request
    }

    /// A fresh id for a command that is not a search (a polite leave).
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
        let now = net.now();
        let mut progressed = false;
        for (node, event) in events {
            match event {
                Event::SearchDone { request, result } => {
                    progressed |= self.finish(request, now, result.map_err(|e| e.to_string()));
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

    /// Ends every search in flight at `node` with `why` (the node stopped under it).
    pub fn fail_at(&mut self, node: NodeIdx, now: Instant, why: &str) {
        let ids: Vec<RequestId> = self
            .flights
            .iter()
            .filter(|(_, f)| f.node == node)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.finish(id, now, Err(why.to_owned()));
        }
    }

    /// Ends every search asked at or before `deadline` with `why` (nobody answered in time).
    pub fn expire(&mut self, deadline: Instant, now: Instant, why: &str) {
        let ids: Vec<RequestId> = self
            .flights
            .iter()
            .filter(|(_, f)| f.asked <= deadline)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.finish(id, now, Err(why.to_owned()));
        }
    }

    fn finish(
        &mut self,
        request: RequestId,
        now: Instant,
        result: Result<Vec<Hit>, String>,
    ) -> bool {
        let Some(flight) = self.flights.remove(&request) else {
            return false;
        };
        self.unwatch(flight.node);
        let latency = now.saturating_since(flight.asked);
        self.answers.push(Answer {
            flight,
            result,
            latency,
        });
        true
    }

    /// Takes the answers received so far.
    pub fn take_answers(&mut self) -> Vec<Answer> {
        std::mem::take(&mut self.answers)
    }
}
