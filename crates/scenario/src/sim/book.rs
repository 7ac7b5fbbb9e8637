//! [`Book`]: the searches and downloads the timeline asked of the virtual network, and the
//! answers they got.
//!
//! On real sockets each search is a task awaiting its node's reply. Here there are no
//! tasks: the player asks a node with a [`Command`], and the book watches that node's
//! events between the network's steps, so an answer is stamped with the very virtual
//! instant its core reported it.
//!
//! [`Command`]: p2plab_peer_protocol::Command

use std::collections::{BTreeMap, BTreeSet};

use p2plab_netsim::{DownloadId, NodeIdx, TestNet};
use p2plab_peer_protocol::{Download, Event, Hit, RequestId};

use super::cores::SimNode;
use crate::timeline::{Reply, Ticket};
use crate::workload::Failure;

/// Searches asked, answers not yet handed to the timeline, and nodes that said goodbye.
#[derive(Debug, Default)]
pub struct Book {
    /// The timeline's ticket and the asking node of each search in flight.
    asked: BTreeMap<RequestId, (Ticket, NodeIdx)>,
    /// Napster hits being located before their download: ticket, downloader, size.
    locating: BTreeMap<RequestId, (Ticket, NodeIdx, u64)>,
    /// Downloads on their way.
    fetching: BTreeMap<DownloadId, Ticket>,
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

    /// Starts downloading `hit` through `node` for the timeline's `ticket`: at once for an
    /// HTTP holder, after the index server tells where a Napster holder's data port is.
    pub fn fetch(&mut self, net: &mut TestNet<SimNode>, ticket: Ticket, node: NodeIdx, hit: Hit) {
        let size = hit.size;
        match hit.http_download() {
            Ok(download) => self.download(net, ticket, node, &download, size),
            Err(hit) => {
                let request = self.request();
                self.watch(node);
                self.locating.insert(request, (ticket, node, size));
                net.command(node, p2plab_peer_protocol::Command::Locate { request, hit });
            }
        }
    }

    fn download(
        &mut self,
        net: &mut TestNet<SimNode>,
        ticket: Ticket,
        node: NodeIdx,
        download: &Download,
        size: u64,
    ) {
        let id = net.start_download(node, download, size);
        self.fetching.insert(id, ticket);
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

    /// Takes the watched nodes' events and the finished downloads; true if any search or
    /// download finished or any node left.
    pub fn collect(&mut self, net: &mut TestNet<SimNode>) -> bool {
        let mut progressed = false;
        if net.has_finished_downloads() {
            for done in net.take_finished_downloads() {
                if let Some(ticket) = self.fetching.remove(&done.id) {
                    let result = done.result.map_err(|e| e.to_string());
                    self.answers.push(Reply::Fetched { ticket, result });
                    progressed = true;
                }
            }
        }
        // The player asks after every step; most steps report nothing.
        if net.reports() == self.reports_taken {
            return progressed;
        }
        self.reports_taken = net.reports();
        let mut events = Vec::new();
        for &node in self.watched.keys() {
            events.extend(net.take_events(node).into_iter().map(|e| (node, e)));
        }
        let at = net.now();
        for (node, event) in events {
            match event {
                Event::SearchDone { request, result } => {
                    if let Some((ticket, node)) = self.asked.remove(&request) {
                        self.unwatch(node);
                        let result = result.map_err(Failure::from);
                        self.answers.push(Reply::Answer { ticket, at, result });
                        progressed = true;
                    }
                }
                // A scenario asks no questions about users.
                Event::Answered { .. } => {}
                Event::Left { .. } => {
                    self.unwatch(node);
                    self.left.insert(node);
                    progressed = true;
                }
                Event::Located { request, result } => {
                    let Some((ticket, node, size)) = self.locating.remove(&request) else {
                        continue;
                    };
                    self.unwatch(node);
                    match result {
                        Ok(download) => self.download(net, ticket, node, &download, size),
                        Err(e) => {
                            let result = Err(e.to_string());
                            self.answers.push(Reply::Fetched { ticket, result });
                            progressed = true;
                        }
                    }
                }
                // Scenario peers all listen on a data port; the simulator carries no pushes.
                Event::PushUpload { .. } => {}
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
