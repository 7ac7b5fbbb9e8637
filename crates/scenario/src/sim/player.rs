//! [`Player`]: the simulator's engine for one network's [`Timeline`] — it carries out each
//! action on the virtual network and runs the network's clock until the timeline's next
//! instant.
//!
//! Nothing here decides anything: queries, victims, verdicts and numbers all come from the
//! timeline, as on real sockets. Only the clock is virtual: a phase lasts as long as its
//! queries take in simulated time, and a query's latency is the virtual time from its
//! command to its answer.

use std::sync::Arc;
use std::time::Duration;

use p2plab_peer_protocol::{Command, Instant, CALL_TIMEOUT};
use p2plab_sim::progress::Progress;

use super::book::Book;
use super::world::SimCluster;
use crate::live::Teller;
use crate::plan::Plan;
use crate::report::NetworkReport;
use crate::spec::{Network, Scenario};
use crate::timeline::{Action, Poll, Reply, Timeline, Who};

/// The longest stretch of virtual time run at once, so a progress bar moves during a long
/// wait. Runs are cut without effect on the network: it is the same run either way.
const SLICE: Duration = Duration::from_millis(100);

/// One network of one run, on its own virtual network.
pub struct Player {
    /// The network and its nodes.
    pub cluster: SimCluster,
    timeline: Timeline,
    book: Book,
    /// Whether to draw a progress bar per step, and the current step's bar.
    show_progress: bool,
    bar: Option<Progress>,
    /// Resident memory before the first node started, KiB.
    rss_before: u64,
    /// Peers in the plan.
    peers: usize,
    /// Where what happens is told ([`crate::live`]).
    teller: Teller,
}

impl Player {
    /// A player for `network` with `plan`'s peers, nothing started yet; `progress` draws a
    /// bar over each step's simulated time on standard error (when it is a terminal), and
    /// `teller` hears what happens.
    pub fn new(
        scenario: &Arc<Scenario>,
        plan: Arc<Plan>,
        network: Network,
        progress: bool,
        teller: Teller,
    ) -> Self {
        let cluster = SimCluster::new(network, plan.clone(), scenario);
        let peers = plan.peers();
        Player {
            peers,
            cluster,
            timeline: Timeline::new(scenario.clone(), plan, network),
            book: Book::default(),
            show_progress: progress,
            bar: None,
            rss_before: crate::memory::memory_kib("self").map_or(0, |m| m.0),
            teller,
        }
    }

    fn now(&self) -> Instant {
        self.cluster.net.now()
    }

    /// Plays the whole timeline; returns the network's report.
    pub fn play(&mut self) -> NetworkReport {
        self.begin(0);
        loop {
            let now = self.now();
            for answer in self.book.take_answers() {
                self.timeline.reply(now, answer);
            }
            match self.timeline.poll(now) {
                Poll::Act(action) => self.act(action),
                Poll::Wait { until, early } => self.advance(until, early),
                Poll::Stepped(k) => {
                    self.end();
                    self.teller.phase(now, &self.timeline, self.peers, k);
                    let cluster = &self.cluster;
                    self.teller.world(now, || cluster.world());
                    self.begin(k + 1);
                }
                Poll::Done(report) => {
                    self.end();
                    return *report;
                }
            }
        }
    }

    /// Carries out one action; a call is answered at once.
    fn act(&mut self, action: Action) {
        let now = self.now();
        let network = self.cluster.network;
        let reply = match action {
            Action::Start { who, spec } => {
                let addr = self.cluster.start(who, &spec);
                self.teller.joined(now, network, who);
                Reply::Started {
                    who,
                    result: Ok(addr),
                }
            }
            Action::Stop { peer, crash } => {
                self.stop_peer(peer, crash);
                self.teller
                    .left(self.now(), network, Who::Peer(peer), crash);
                Reply::Stopped {
                    who: Who::Peer(peer),
                }
            }
            Action::KillServer => {
                self.cluster.kill_server();
                self.teller.left(now, network, Who::Server, true);
                Reply::Stopped { who: Who::Server }
            }
            Action::Cut { sides } => {
                self.cluster.partition(&sides);
                Reply::Done
            }
            Action::Heal => {
                self.cluster.heal();
                Reply::Done
            }
            Action::Census => Reply::Census(self.cluster.census()),
            Action::Snapshot { memory } => Reply::Snapshot {
                snapshot: self.cluster.snapshot(),
                memory_kib: memory
                    .then(|| crate::memory::memory_kib("self"))
                    .flatten()
                    .map(|m| m.0.saturating_sub(self.rss_before)),
            },
            Action::Ask { ticket, peer, text } => {
                if let Some(node) = self.cluster.node_of(peer) {
                    let request = self.book.launch(ticket, node);
                    let search = Command::Search {
                        request,
                        query: text,
                    };
                    self.cluster.net.command(node, search);
                }
                return;
            }
            Action::Fetch { ticket, peer, hit } => {
                if let Some(node) = self.cluster.node_of(peer) {
                    self.book.fetch(&mut self.cluster.net, ticket, node, hit);
                }
                return;
            }
        };
        self.timeline.reply(self.now().max(now), reply);
    }

    /// Runs the network until `until`, or, if `early`, until an answer arrives.
    fn advance(&mut self, until: Instant, early: bool) {
        let until = until.min(self.now() + SLICE);
        let limit = until.saturating_since(self.now());
        let book = &mut self.book;
        self.cluster
            .net
            .run_until_cond(limit, |net| book.collect(net) && early);
        self.tick();
    }

    /// Crashes peer `v`, or makes it leave politely and then stop, as a real node's handle
    /// does (waiting at most [`CALL_TIMEOUT`] for its goodbye).
    fn stop_peer(&mut self, v: usize, crash: bool) {
        let Some(node) = self.cluster.detach(v) else {
            return;
        };
        if !crash {
            let request = self.book.request();
            self.book.watch(node);
            self.cluster.net.command(node, Command::Leave { request });
            let give_up = self.now() + CALL_TIMEOUT;
            let mut left = false;
            while !left && self.now() < give_up {
                let limit = give_up.saturating_since(self.now());
                let book = &mut self.book;
                self.cluster
                    .net
                    .run_until_cond(limit, |net| book.collect(net));
                left = self.book.has_left(node);
            }
            if !left {
                self.book.unwatch(node);
            }
        }
        self.cluster.net.crash(node);
        self.book.forget(node);
    }

    /// Opens the bar of step `k`.
    fn begin(&mut self, k: usize) {
        let Some(step) = self.timeline.steps().get(k).filter(|_| self.show_progress) else {
            return;
        };
        let label = format!("N={} {} {}", self.peers, self.cluster.network, step.label());
        let (now, events) = (self.now(), self.cluster.net.events());
        let expected = self.timeline.expected(k);
        self.bar = Some(Progress::new(&label, now, now + expected, events));
    }

    fn tick(&mut self) {
        let (now, events) = (self.now(), self.cluster.net.events());
        if let Some(bar) = &mut self.bar {
            bar.tick(now, events);
        }
    }

    fn end(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }
}
