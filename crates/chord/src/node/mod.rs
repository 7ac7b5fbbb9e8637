//! [`ChordNode`]: the Chord protocol core.
//!
//! The node is split by concern, one file each, all `impl ChordNode`:
//!
//! - [`links`] — connections: one cached outgoing connection per peer, frames in and out;
//! - [`maintenance`] — the paper's ring upkeep: `create`, `join`, `stabilize`, `notify`,
//!   `fix_fingers`, `check_predecessor`, and a voluntary `leave`;
//! - [`routing`] — `find_successor` steps: answering them, and running lookups
//!   (iterative, or recursive with an iterative fallback);
//! - [`index`] — the file index: publishing, storing, replicating, searching;
//! - [`cost`] — what a search is charged: its lookup's requests and replies, its recursive
//!   forwards, its index read;
//! - [`reach`] — why a joining node cannot get in through its bootstrap node (refused, no
//!   answer, a ring of another id width): the node's [`Node::problem`].
//!
//! # Using it
//!
//! Build with [`ChordNode::new`], then drive it through [`Node::handle`] as every core is
//! driven (see [`p2plab_peer_protocol::node`]): [`Input::Start`] first, `now` never going
//! back, the outbox drained after every call, [`Input::Timeout`] at
//! [`Node::poll_timeout`]. The getters (`id`, `successor`, `fingers`, `ring_view`, ...) read
//! the node's state at any time.

mod cost;
mod dispatch;
mod index;
mod links;
mod maintenance;
mod reach;
mod routing;

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use p2plab_peer_protocol::time::random_phase;
use p2plab_peer_protocol::{
    Command, ConnId, Event, Input, Instant, Library, Metrics, Node, Outbox, Problem, Query, Reach,
    RequestId, SearchError, TimerKind, TimerTable,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::config::ChordConfig;
use crate::finger::FingerTable;
use crate::id::{Id, Ring};
use crate::lookup::Lookup;
use crate::lost::LostSuccessors;
use crate::node_ref::NodeRef;
use crate::record::Record;
use crate::ring::{id_text, FingerView, PeerView, RingView};
use crate::rpc::RpcTable;
use crate::store::Store;
use crate::successor_list::SuccessorList;
use crate::suspects::Suspects;
use crate::MAX_SUCCESSORS;

use links::Link;

/// Where the node is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Built, not started.
    Fresh,
    /// Looking up its own successor through the bootstrap node.
    Joining,
    /// In the ring.
    Joined,
    /// Left voluntarily: takes no part in the ring, answers its user at once
    /// ([`ChordNode::handle_left`]).
    Left,
}

/// Why a request was sent: what to do with its answer or its failure.
#[derive(Clone, Debug)]
enum Purpose {
    /// A `find_successor` step of lookup `lookup`.
    Ask { lookup: u64 },
    /// A recursive lookup `lookup`, handed to its first hop.
    Recursive { lookup: u64 },
    /// `stabilize`'s question to the successor.
    Stabilize,
    /// `check_predecessor`'s ping.
    CheckPredecessor,
    /// A ping to a holder our records name (see `check_holders`).
    CheckHolder,
    /// The question `stabilize` asks, put to a lost successor (see [`crate::lost`]).
    Unify,
    /// A search's read of the records under `key` from their owner.
    Get(SearchRun),
}

/// A search between its lookup and its answer.
#[derive(Clone, Debug)]
struct SearchRun {
    request: RequestId,
    query: Query,
    key: Id,
    started: Instant,
    hops: u32,
}

/// What a lookup is for.
#[derive(Clone, Debug)]
enum Goal {
    /// Our own successor, to join the ring.
    Join,
    /// successor(finger[i].start).
    FixFinger(usize),
    /// The owner of `key`, to store our records there.
    Publish { key: Id, records: Vec<Record> },
    /// The owner of a search's key.
    Search(SearchRun),
}

/// A lookup in progress and its goal.
#[derive(Clone, Debug)]
struct Active {
    lookup: Lookup,
    goal: Goal,
}

/// The node's periodic tasks, each a slot of its [`TimerTable`].
#[derive(Clone, Copy, Debug)]
enum Timer {
    /// `stabilize`, which also retries a join that has not completed.
    Stabilize,
    /// `fix_fingers`.
    FixFingers,
    /// `check_predecessor`.
    CheckPredecessor,
    /// Publishing our library's keys again (see [`index`]).
    Republish,
}

impl TimerKind for Timer {
    const COUNT: usize = 4;

    fn index(self) -> usize {
        self as usize
    }
}

/// A Chord node: ring membership, routing, and its share of the file index.
pub struct ChordNode {
    config: ChordConfig,
    ring: Ring,
    me: NodeRef,
    phase: Phase,
    predecessor: Option<NodeRef>,
    successors: SuccessorList,
    /// Successors dropped as failed: where to look for the ring again should every
    /// neighbour be lost, and whom to ask whether a partition has healed (see
    /// [`crate::lost`]).
    lost_successors: LostSuccessors,
    /// The last holder `check_holders` pinged: the next round goes on after it.
    holder_cursor: Option<SocketAddr>,
    /// Nodes that just failed a request (see [`crate::suspects`]).
    suspects: Suspects,
    fingers: FingerTable,
    store: Store,
    library: Arc<Library>,
    rpc: RpcTable<Purpose>,
    lookups: BTreeMap<u64, Active>,
    next_lookup: u64,
    /// Keys of our library waiting for a publish lookup (see [`index`]).
    to_publish: VecDeque<(Id, Vec<Record>)>,
    links: BTreeMap<ConnId, Link>,
    dialled: BTreeMap<SocketAddr, ConnId>,
    /// Messages waiting for a free connection slot (see [`links`]).
    waiting: links::WaitingQueue,
    timers: TimerTable<Timer, { Timer::COUNT }>,
    /// The wait before the next re-publication: with `early_republish`, it starts at two
    /// stabilize periods after a join and doubles up to `republish_every`.
    republish_gap: Duration,
    rng: ChaCha8Rng,
    /// Why the ring cannot be joined, while it cannot (see [`reach`]).
    reach: Reach,
    metrics: Metrics,
}

impl ChordNode {
    /// A node that will create or join a ring when started.
    pub fn new(mut config: ChordConfig) -> Self {
        let ring = Ring::new(config.id_bits);
        config.id_bits = ring.bits();
        config.successors = config.successors.clamp(1, MAX_SUCCESSORS);
        config.replicas = config.replicas.max(1);
        let me = NodeRef::at(config.addr, ring);
        ChordNode {
            ring,
            me,
            phase: Phase::Fresh,
            predecessor: None,
            successors: SuccessorList::new(me, config.successors),
            lost_successors: LostSuccessors::default(),
            holder_cursor: None,
            suspects: Suspects::default(),
            fingers: FingerTable::new(me.id, ring),
            store: Store::new(),
            library: config.library.clone(),
            rpc: RpcTable::default(),
            lookups: BTreeMap::new(),
            next_lookup: 0,
            to_publish: VecDeque::new(),
            links: BTreeMap::new(),
            dialled: BTreeMap::new(),
            waiting: links::WaitingQueue::new(),
            timers: TimerTable::new(),
            republish_gap: Duration::ZERO,
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            reach: Reach::default(),
            metrics: Metrics::default(),
            config,
        }
    }

    /// Our identifier.
    pub fn id(&self) -> Id {
        self.me.id
    }

    /// Our reference: id and listen address.
    pub fn me(&self) -> NodeRef {
        self.me
    }

    /// The identifier circle we live on.
    pub fn ring(&self) -> Ring {
        self.ring
    }

    /// True once the node is in a ring (and has not left).
    pub fn is_joined(&self) -> bool {
        self.phase == Phase::Joined
    }

    /// Our successor (ourselves in a ring of one).
    pub fn successor(&self) -> NodeRef {
        self.successors.successor()
    }

    /// The successor list, nearest first.
    pub fn successor_list(&self) -> &[NodeRef] {
        self.successors.as_slice()
    }

    /// Our predecessor, if known.
    pub fn predecessor(&self) -> Option<NodeRef> {
        self.predecessor
    }

    /// The finger table, finger 1 first (`None` for fingers not yet found).
    pub fn fingers(&self) -> impl ExactSizeIterator<Item = Option<NodeRef>> + '_ {
        self.fingers.entries()
    }

    /// `finger[i].start` for 1 ≤ i ≤ m.
    pub fn finger_start(&self, i: usize) -> Id {
        self.fingers.start(i)
    }

    /// The keys we hold entries for (as owner or replica).
    pub fn stored_keys(&self) -> Vec<Id> {
        self.store.keys().collect()
    }

    /// How many records we hold, under every key together (at most
    /// [`crate::MAX_STORED_RECORDS`]).
    pub fn stored_record_count(&self) -> usize {
        self.store.len()
    }

    /// The records we hold under `key` that match `query`, as of `now`.
    pub fn stored_records(&self, key: Id, query: &Query, now: Instant) -> Vec<Record> {
        self.store.get(key, query, now)
    }

    /// How many connections this node has dialled and keeps open (bounded by
    /// `max_dialled`).
    pub fn dialled_count(&self) -> usize {
        self.dialled.len()
    }

    /// How many publish lookups are running (at most [`crate::MAX_PUBLISHING`]) and how
    /// many keys of our library still wait for one.
    pub fn publish_backlog(&self) -> (usize, usize) {
        (self.publishing().count(), self.to_publish.len())
    }

    /// How many connections this node holds, dialled and accepted.
    pub fn link_count(&self) -> usize {
        self.links.len()
    }

    /// What this node knows of the ring, for `p2plab chord ring`.
    pub fn ring_view(&self) -> RingView {
        let bits = self.ring.bits();
        RingView {
            id_bits: bits,
            node: PeerView::of(self.me, bits),
            predecessor: self.predecessor.map(|p| PeerView::of(p, bits)),
            successors: self
                .successor_list()
                .iter()
                .map(|s| PeerView::of(*s, bits))
                .collect(),
            fingers: (1..=self.fingers.len())
                .map(|i| FingerView {
                    index: i,
                    start: id_text(self.fingers.start(i), bits),
                    node: self.fingers.get(i).map(|n| PeerView::of(n, bits)),
                })
                .collect(),
            stored_keys: self.store.keys().count(),
        }
    }

    fn on_start(&mut self, now: Instant, out: &mut Outbox) {
        let c = &self.config;
        let (s, f, p, r) = (
            c.stabilize_every,
            c.fix_fingers_every,
            c.check_predecessor_every,
            c.republish_every,
        );
        // Random first rounds, so that nodes started together do not run them in step.
        let rng = &mut self.rng;
        self.timers
            .set(Timer::Stabilize, now + random_phase(rng, s));
        self.timers
            .set(Timer::FixFingers, now + random_phase(rng, f));
        self.timers
            .set(Timer::CheckPredecessor, now + random_phase(rng, p));
        self.timers
            .set(Timer::Republish, now + r + random_phase(rng, r));
        self.republish_gap = r;
        match self.config.join.filter(|a| *a != self.me.addr) {
            None => self.create(now, out),
            Some(bootstrap) => self.join(now, bootstrap, out),
        }
    }

    fn on_timeout(&mut self, now: Instant, out: &mut Outbox) {
        for failed in self.rpc.expired(now) {
            self.note_expired(now, &failed);
            self.on_failed(now, failed, out);
        }
        if self.timers.is_expired(Timer::Stabilize, now) {
            self.timers
                .set(Timer::Stabilize, now + self.config.stabilize_every);
            self.store.expire(now);
            self.close_stale_links(now, out);
            self.stabilize(now, out);
        }
        if self.phase != Phase::Joined {
            return;
        }
        if self.timers.is_expired(Timer::FixFingers, now) {
            self.timers
                .set(Timer::FixFingers, now + self.config.fix_fingers_every);
            self.fix_fingers(now, out);
        }
        if self.timers.is_expired(Timer::CheckPredecessor, now) {
            let every = self.config.check_predecessor_every;
            self.timers.set(Timer::CheckPredecessor, now + every);
            self.check_predecessor(now, out);
        }
        if self.timers.is_expired(Timer::Republish, now) {
            self.republish_gap = if self.config.early_republish {
                (self.republish_gap * 2).min(self.config.republish_every)
            } else {
                self.config.republish_every
            };
            self.timers.set(Timer::Republish, now + self.republish_gap);
            self.republish(now, out);
        }
    }

    /// After [`Command::Leave`]: the node takes no part in the ring — it answers no RPC
    /// and runs no upkeep, and a connection it dialled before leaving is only flushed and
    /// hung up — but a user's command is answered at once ([`Command::answer_when_left`]).
    fn handle_left(&mut self, now: Instant, input: Input<'_>, out: &mut Outbox) {
        match input {
            Input::Connected { conn } => self.flush_and_close(conn, out),
            Input::Command(cmd) if !cmd.answer_when_left(out) => self.on_command(now, cmd, out),
            _ => {}
        }
    }

    fn on_command(&mut self, now: Instant, cmd: Command, out: &mut Outbox) {
        match cmd {
            Command::Search { request, query } => self.search(now, request, &query, out),
            Command::Locate { request, hit } => {
                let result = hit
                    .http_download()
                    .map_err(|_| SearchError::Refused("not a hit from a Chord search".into()));
                out.report(Event::Located { request, result });
            }
            Command::Share { library } => {
                self.library = library;
                if self.phase == Phase::Joined {
                    self.publish_all(now, out);
                }
            }
            Command::Transfer(_) => {}
            Command::Leave { request } => self.leave(now, request, out),
            Command::Ask { request, question } => out.report(Event::Answered {
                request,
                result: Err(question.unsupported("Chord")),
            }),
        }
    }
}

impl Node for ChordNode {
    fn handle(&mut self, now: Instant, input: Input<'_>, out: &mut Outbox) {
        if self.phase == Phase::Left {
            self.handle_left(now, input, out);
            return;
        }
        match input {
            Input::Start if self.phase == Phase::Fresh => self.on_start(now, out),
            Input::Start => {}
            Input::Accepted { conn, .. } => self.on_accepted(now, conn),
            Input::Connected { conn } => self.on_connected(conn, out),
            Input::Received { conn, bytes } => self.on_received(now, conn, bytes, out),
            Input::Closed { conn, reason } => {
                self.note_link_closed(now, conn, reason);
                self.on_closed(now, conn, out);
            }
            Input::Timeout => self.on_timeout(now, out),
            Input::Command(cmd) => self.on_command(now, cmd, out),
        }
        if !self.waiting.is_empty() && self.phase != Phase::Left {
            self.send_waiting(now, out);
        }
        self.clear_reach();
    }

    /// The earliest of the node's timers and of its requests' deadlines (each request in
    /// flight has its own, kept with it by the [`RpcTable`]). A joining node runs only
    /// stabilize, its join's retry: the upkeep timers armed at start wait for the join.
    fn poll_timeout(&self) -> Option<Instant> {
        let rpc = self.rpc.next_deadline();
        match self.phase {
            Phase::Fresh | Phase::Left => None,
            Phase::Joining => self
                .timers
                .get(Timer::Stabilize)
                .into_iter()
                .chain(rpc)
                .min(),
            Phase::Joined => self.timers.next_timeout_with(rpc),
        }
    }

    fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    fn library(&self) -> Option<&Library> {
        Some(&self.library)
    }

    fn problem(&self) -> Option<&Problem> {
        self.reach.problem()
    }
}
