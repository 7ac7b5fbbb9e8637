//! # p2plab-netsim
//!
//! An in-memory network with virtual time: the discrete-event engine that runs the protocol
//! cores in their unit tests and, at 100,000 nodes, in the simulator. It drives any
//! [`Node`] of `p2plab-peer-protocol` through the same contract the tokio runtime keeps, so
//! the cores under test are the cores that run on real sockets. The protocol crates take it
//! as a dev-dependency only; the simulator, the scenario runner and the tracer build on it.
//!
//! ## Layout
//!
//! - this file — [`TestNet`]: nodes, connections, delivery and the `run_*` loop; [`NodeIdx`]
//!   and the recorded [`Transmission`].
//! - `agenda` — the calendar queue of deliveries still to be made, in time order.
//! - `links` — each node's connection ends: who is at the other end, when bytes land there.
//! - [`Latency`] — the seeded model of how long a message takes (from
//!   `p2plab_peer_protocol::latency`, where the runtime's fabric finds it too).
//! - `faults` — crash and recover, partition and heal, lost messages.
//! - `digest` — the chained XXH3 fingerprint of every input delivered ([`TestNet::digest`]).
//! - `transfers` — downloads between nodes ([`TestNet::start_download`]) through the
//!   transfer cores, on a connection of their own beside the protocol links.
//! - `tests` — the engine's own behaviour, on a toy core that echoes bytes back.
//!
//! Nodes get made-up addresses (`10.x.y.z:port`). Connections behave like TCP: they are
//! set up with a round trip, deliver bytes in order, and report `Closed` to the other side.
//! Every byte goes through the cores' real encoders and decoders. Latency comes from a seeded
//! model ([`Latency`]: constant, uniform or log-normal), and the clock jumps from one event to
//! the next: a test of minutes of protocol time runs in milliseconds, and the same seed gives
//! the same run — event for event, which [`TestNet::digest`] proves.
//!
//! ## Faults
//!
//! - [`TestNet::crash`] stops a node at once; its peers see their connections close
//!   ([`CloseReason::PeerClosed`]), and dials to it are refused ([`CloseReason::Refused`],
//!   as is a dial to an address where no node is). [`TestNet::recover`] brings a new core
//!   up at the same address.
//! - [`TestNet::partition`] splits the network into groups: connections across the cut
//!   break and dials across it fail, both [`CloseReason::TimedOut`], until [`TestNet::heal`].
//! - [`TestNet::set_loss`] loses messages. The links are TCP connections, and TCP never loses
//!   bytes silently: it retransmits, and when the path keeps losing them the connection
//!   times out and fails. So a lost message here *breaks its link*: nothing sent on it from
//!   then on arrives, and both cores are told `Closed`, as a timed-out TCP connection tells
//!   them. What the cores do about broken links (redial, route around, give up) is what loss
//!   measures.
//!
//! ## Implementation notes
//!
//! - The agenda (`agenda.rs`) is a calendar queue: deliveries wait in buckets by the
//!   quarter-millisecond they are due. Timers wait in a binary heap, one entry per arming
//!   (at most one live entry per node), and stale entries (re-armed, disarmed, dead) are
//!   dropped when they reach the top.
//! - Each node keeps its own connection ends (`links.rs`), so no operation scans the network.
//! - Each delivered input is counted ([`TestNet::events`]) and folded into a chained XXH3
//!   hash ([`TestNet::digest`], `digest.rs`) of time, node, kind, connection and bytes.
//! - A node that crashes and recovers is a new *incarnation*: whatever was in flight to the
//!   old core is dropped on arrival instead of confusing the new one.
//!
//! Steps are bounded ([`TestNet::MAX_STEPS`]): a livelock fails the test instead of hanging it.

mod agenda;
mod digest;
mod faults;
mod links;
#[cfg(test)]
mod tests;
mod transfers;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use p2plab_peer_protocol::{
    CloseReason, Command, ConnId, ConnIds, Effect, Effects, Event, Input, Instant, Node, Outbox,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use agenda::{Agenda, Delivery, Scheduled};
use digest::Digest;
use links::{Ends, Link, Peer};
use transfers::Transfers;

pub use p2plab_peer_protocol::latency::Latency;
use p2plab_peer_protocol::latency::Sampler;
pub use transfers::{DownloadId, FinishedDownload, WINDOW};

/// Index of a node in a [`TestNet`].
pub type NodeIdx = usize;

/// The first ephemeral port handed to accepted connections, as Linux starts its range.
const FIRST_EPHEMERAL_PORT: u16 = 40_000;

/// A node's core and what the engine keeps for it beside the core.
struct Slot<N> {
    node: N,
    addr: SocketAddr,
    /// Where the node's connection ids come from: the engine's, for the connections it
    /// accepts; lent with the outbox, for those the core dials.
    conn_ids: ConnIds,
    events: Vec<Event>,
}

/// What the network checks about a node on every delivery, kept apart from the cores.
///
/// A core can take kilobytes, so a network of 100,000 spans hundreds of megabytes, and
/// each delivery to a core is a trip to main memory. The checks before it (is the node up,
/// is this its incarnation, does the connection still exist) need only these few bytes: in
/// one dense array, the hosts of a 100,000-node network fit in the processor's cache.
struct Host {
    alive: bool,
    /// Bumped by every recovery: deliveries carry the incarnation they were meant for.
    life: u32,
    /// The node's side of a partition; 0 when the network is whole.
    group: u32,
    /// The timeout last pushed on the timer heap, to spot stale heap entries.
    armed: Option<Instant>,
    ends: Ends,
}

/// The in-memory network.
pub struct TestNet<N> {
    slots: Vec<Slot<N>>,
    /// `hosts[i]` is the network's side of `slots[i]`.
    hosts: Vec<Host>,
    /// The one effect queue every core writes to: the engine drains it after each input.
    effects: Effects,
    by_addr: HashMap<SocketAddr, NodeIdx>,
    agenda: Agenda,
    timers: BinaryHeap<Reverse<(Instant, NodeIdx)>>,
    now: Instant,
    rng: ChaCha8Rng,
    latency: Sampler,
    /// Probability that a message is lost (and its link broken).
    loss: f64,
    steps: u64,
    events: u64,
    /// Events the cores have reported, in all (see [`TestNet::reports`]).
    reports: u64,
    digest: Digest,
    next_ephemeral: u16,
    /// Every delivered chunk of bytes, when recording (see [`TestNet::record`]).
    trace: Option<Vec<Transmission>>,
    /// Downloads under way, apart from the protocol traffic.
    transfers: Transfers,
}

/// One chunk of bytes delivered from one node to another: what `p2plab trace` is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmission {
    /// When the sender wrote it.
    pub sent: Instant,
    /// When the receiver got it.
    pub delivered: Instant,
    /// The sending node.
    pub from: NodeIdx,
    /// The receiving node.
    pub to: NodeIdx,
    /// The bytes, exactly as written (one `send` of the sender).
    pub bytes: Vec<u8>,
}

impl<N: Node> TestNet<N> {
    /// The most inputs one `run_*` call may deliver before the test is declared livelocked.
    pub const MAX_STEPS: u64 = 50_000_000;

    /// An empty network with this latency model, seeded.
    pub fn new(latency: Latency, seed: u64) -> Self {
        TestNet {
            slots: Vec::new(),
            hosts: Vec::new(),
            effects: Effects::new(),
            by_addr: HashMap::new(),
            agenda: Agenda::default(),
            timers: BinaryHeap::new(),
            now: Instant::ZERO,
            rng: ChaCha8Rng::seed_from_u64(seed),
            latency: Sampler::new(latency),
            loss: 0.0,
            steps: 0,
            events: 0,
            reports: 0,
            digest: Digest::default(),
            next_ephemeral: FIRST_EPHEMERAL_PORT,
            trace: None,
            transfers: Transfers::new(seed),
        }
    }

    /// The address node number `i` gets: `10.a.b.c:6346`.
    pub fn addr_for(i: usize) -> SocketAddr {
        let i = i as u32 + 1;
        let ip = Ipv4Addr::new(10, (i >> 16) as u8, (i >> 8) as u8, i as u8);
        SocketAddr::new(IpAddr::V4(ip), 6346)
    }

    /// Makes room for `additional` more nodes at once. Adding nodes one by one grows the
    /// network by doubling, which copies every core already in it each time; a run that
    /// knows its size says so first.
    pub fn reserve(&mut self, additional: usize) {
        self.slots.reserve_exact(additional);
        self.hosts.reserve_exact(additional);
        self.by_addr.reserve(additional);
    }

    /// Adds a node listening at `addr` and starts it now.
    pub fn add_at(&mut self, addr: SocketAddr, node: N) -> NodeIdx {
        let idx = self.slots.len();
        self.slots.push(Slot {
            node,
            addr,
            conn_ids: ConnIds::new(),
            events: Vec::new(),
        });
        self.hosts.push(Host {
            alive: true,
            life: 0,
            group: 0,
            armed: None,
            ends: Ends::default(),
        });
        self.by_addr.insert(addr, idx);
        self.input(idx, Input::Start);
        idx
    }

    /// Adds a node at [`TestNet::addr_for`] its index, and starts it now.
    pub fn add(&mut self, node: N) -> NodeIdx {
        let addr = Self::addr_for(self.slots.len());
        self.add_at(addr, node)
    }

    /// The current virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Number of nodes ever added (dead ones included).
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True when no node was added.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// A node's core, to inspect its state.
    pub fn node(&self, idx: NodeIdx) -> &N {
        &self.slots[idx].node
    }

    /// A node's listen address.
    pub fn addr(&self, idx: NodeIdx) -> SocketAddr {
        self.slots[idx].addr
    }

    /// The node listening at `addr`, if any.
    pub fn idx_of(&self, addr: SocketAddr) -> Option<NodeIdx> {
        self.by_addr.get(&addr).copied()
    }

    /// True until the node is crashed (and again once it recovers).
    pub fn is_alive(&self, idx: NodeIdx) -> bool {
        self.hosts[idx].alive
    }

    /// Indices of the live nodes.
    pub fn alive(&self) -> impl Iterator<Item = NodeIdx> + '_ {
        (0..self.hosts.len()).filter(|&i| self.hosts[i].alive)
    }

    /// Gives a node a command now.
    pub fn command(&mut self, idx: NodeIdx, cmd: Command) {
        self.input(idx, Input::Command(cmd));
    }

    /// Takes the events a node reported so far.
    pub fn take_events(&mut self, idx: NodeIdx) -> Vec<Event> {
        std::mem::take(&mut self.slots[idx].events)
    }

    /// How many events the cores have reported since the network began. A watcher that
    /// finds the same count as when it last took events has nothing new to take, without
    /// asking each node it watches.
    pub fn reports(&self) -> u64 {
        self.reports
    }

    /// Starts (or restarts) recording every delivered chunk of bytes.
    pub fn record(&mut self) {
        self.trace = Some(Vec::new());
    }

    /// Takes what was recorded since [`TestNet::record`] or the last call.
    pub fn take_trace(&mut self) -> Vec<Transmission> {
        self.trace.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Inputs delivered to cores so far: starts, connection changes, bytes, timeouts,
    /// commands. The simulator's unit of work.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// A 64-bit fingerprint of every input delivered so far (XXH3 over time, node, kind,
    /// connection and bytes): equal digests mean the runs matched event for event.
    pub fn digest(&self) -> u64 {
        self.digest.value()
    }

    /// Deliveries scheduled and not yet made (messages in flight, dials, closes).
    pub fn in_flight(&self) -> usize {
        self.agenda.len()
    }

    /// Bytes the network itself holds beyond the cores: per-node bookkeeping, connection
    /// ends, the agenda and timer heap (counted from their capacities; the bytes of messages
    /// in flight and the effect queue aside).
    pub fn engine_bytes(&self) -> usize {
        let per_slot = std::mem::size_of::<Slot<N>>() - std::mem::size_of::<N>();
        let by_addr = self.by_addr.capacity()
            * (std::mem::size_of::<(SocketAddr, NodeIdx)>() + std::mem::size_of::<u64>());
        self.slots.capacity() * per_slot
            + self.hosts.capacity() * std::mem::size_of::<Host>()
            + self
                .hosts
                .iter()
                .map(|h| h.ends.heap_bytes())
                .sum::<usize>()
            + by_addr
            + self.agenda.heap_bytes()
            + self.timers.capacity() * std::mem::size_of::<Reverse<(Instant, NodeIdx)>>()
    }

    /// Runs until virtual time `until` (inclusive), delivering everything due by then.
    ///
    /// # Panics
    /// After [`TestNet::MAX_STEPS`] inputs: the protocol is livelocked.
    pub fn run_until(&mut self, until: Instant) {
        self.steps = 0;
        while let Some(t) = self.next_time().filter(|t| *t <= until) {
            self.now = self.now.max(t);
            self.step();
        }
        self.now = self.now.max(until);
    }

    /// Runs for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        self.run_until(self.now + d);
    }

    /// Runs until `done` holds (checked between steps) or `limit` of virtual time has passed.
    /// Returns whether `done` held.
    pub fn run_until_cond(
        &mut self,
        limit: Duration,
        mut done: impl FnMut(&mut Self) -> bool,
    ) -> bool {
        let until = self.now + limit;
        self.steps = 0;
        loop {
            if done(self) {
                return true;
            }
            match self.next_time().filter(|t| *t <= until) {
                Some(t) => {
                    self.now = self.now.max(t);
                    self.step();
                }
                None => {
                    self.now = self.now.max(until);
                    return done(self);
                }
            }
        }
    }

    fn next_time(&mut self) -> Option<Instant> {
        // Drop stale timer entries (re-armed, disarmed or dead nodes) from the top.
        while let Some(&Reverse((t, idx))) = self.timers.peek() {
            let host = &self.hosts[idx];
            if host.alive && host.armed == Some(t) {
                break;
            }
            self.timers.pop();
        }
        let timer = self.timers.peek().map(|Reverse((t, _))| *t);
        [timer, self.agenda.peek_time(), self.transfers.next_time()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Delivers the earliest thing due: a timer, or (first, at a tie) a delivery.
    fn step(&mut self) {
        self.steps += 1;
        assert!(
            self.steps <= Self::MAX_STEPS,
            "testnet: more than {} steps, livelock?",
            Self::MAX_STEPS
        );
        let timer = self.timers.peek().map(|Reverse((t, i))| (*t, *i));
        let protocol = [timer.map(|(t, _)| t), self.agenda.peek_time()];
        // Transfers go last at a tie, so protocol traffic keeps its order with them or not.
        if let Some(t) = self.transfers.next_time() {
            if protocol.into_iter().flatten().all(|p| t < p) {
                return self.transfer_step();
            }
        }
        match (timer, self.agenda.peek_time()) {
            (Some((tt, idx)), m) if m.is_none_or(|mt| tt < mt) => {
                self.timers.pop();
                self.hosts[idx].armed = None;
                self.input(idx, Input::Timeout);
            }
            (_, Some(_)) => {
                if let Some(scheduled) = self.agenda.pop() {
                    if let Some(next) = self.agenda.peek_addressee() {
                        self.prefetch(next);
                    }
                    self.deliver(scheduled);
                }
            }
            _ => {}
        }
    }

    /// Asks the processor to start loading what the next delivery will read first, the
    /// addressee's slot and its connection ids, while this one is handled: on a network
    /// bigger than the cache, each is otherwise a wait on main memory.
    fn prefetch(&self, idx: NodeIdx) {
        prefetch_index::prefetch_index(&self.slots, idx);
        prefetch_index::prefetch_index(self.hosts[idx].ends.ids(), 0);
    }

    /// One latency draw after now.
    fn later(&mut self) -> Instant {
        let micros = self.latency.sample(&mut self.rng);
        Instant::from_micros(self.now.as_micros().saturating_add(micros))
    }

    fn deliver(&mut self, Scheduled { to, life, delivery }: Scheduled) {
        let host = &self.hosts[to];
        if let Delivery::Dial {
            from,
            from_conn,
            from_life,
        } = delivery
        {
            return if host.alive {
                self.accept(to, from, from_conn, from_life)
            } else {
                self.refuse(from, from_conn, from_life, CloseReason::Refused)
            };
        }
        if !host.alive || host.life != life {
            return;
        }
        match delivery {
            Delivery::Connected { conn } if host.ends.contains(conn) => {
                self.input(to, Input::Connected { conn })
            }
            Delivery::Received {
                conn,
                bytes,
                from,
                sent,
            } if host.ends.contains(conn) => {
                if let Some(trace) = &mut self.trace {
                    trace.push(Transmission {
                        sent,
                        delivered: self.now,
                        from,
                        to,
                        bytes: bytes.clone(),
                    });
                }
                self.input(
                    to,
                    Input::Received {
                        conn,
                        bytes: &bytes,
                    },
                );
            }
            Delivery::Closed { conn, reason } if host.ends.contains(conn) => {
                self.hosts[to].ends.remove(conn);
                self.input(to, Input::Closed { conn, reason });
            }
            _ => {}
        }
    }

    /// The listener at `idx` accepts a dial; the SYN-ACK takes one more latency back.
    /// A dial whose dialler has crashed or given up meanwhile comes to nothing.
    fn accept(&mut self, idx: NodeIdx, from: NodeIdx, from_conn: ConnId, from_life: u32) {
        let dialler = &self.hosts[from];
        if !dialler.alive || dialler.life != from_life || !dialler.ends.contains(from_conn) {
            return;
        }
        let listener = &self.hosts[idx];
        if dialler.group != listener.group {
            // A partition drops the SYN: the dial fails as one that timed out (sooner
            // than TCP would give up, as on the runtime's fabric).
            return self.refuse(from, from_conn, from_life, CloseReason::TimedOut);
        }
        let life = listener.life;
        let conn = self.slots[idx].conn_ids.next_id();
        let back = self.later();
        self.hosts[idx].ends.insert(
            conn,
            Link {
                peer: Some(Peer {
                    node: from,
                    conn: from_conn,
                    life: from_life,
                }),
                last_delivery: back,
            },
        );
        self.hosts[from].ends.insert(
            from_conn,
            Link {
                peer: Some(Peer {
                    node: idx,
                    conn,
                    life,
                }),
                last_delivery: self.now,
            },
        );
        self.next_ephemeral = self
            .next_ephemeral
            .checked_add(1)
            .unwrap_or(FIRST_EPHEMERAL_PORT);
        let remote = SocketAddr::new(self.slots[from].addr.ip(), self.next_ephemeral);
        self.input(idx, Input::Accepted { conn, remote });
        let connected = Delivery::Connected { conn: from_conn };
        self.schedule_for(back, from, from_life, connected);
    }

    /// The dial from `(from, from_conn)` fails for `reason`; the dialler hears it one
    /// latency later, as the RST (or the missing SYN-ACK) would take.
    fn refuse(&mut self, from: NodeIdx, from_conn: ConnId, from_life: u32, reason: CloseReason) {
        let at = self.later();
        let closed = Delivery::Closed {
            conn: from_conn,
            reason,
        };
        self.schedule_for(at, from, from_life, closed);
    }

    /// Schedules a delivery to the current incarnation of `to`.
    fn schedule(&mut self, at: Instant, to: NodeIdx, delivery: Delivery) {
        let life = self.hosts[to].life;
        self.schedule_for(at, to, life, delivery);
    }

    fn schedule_for(&mut self, at: Instant, to: NodeIdx, life: u32, delivery: Delivery) {
        self.agenda.push(at, Scheduled { to, life, delivery });
    }

    /// Arrival time on the link from `(idx, conn)`: after a fresh latency, and never before
    /// what was sent earlier on the same link (TCP keeps order). None if the link is gone.
    fn link_arrival(&mut self, idx: NodeIdx, conn: ConnId) -> Option<(Peer, Instant)> {
        let fresh = self.later();
        let end = self.hosts[idx].ends.get_mut(conn)?;
        let peer = end.peer?;
        let at = fresh.max(end.last_delivery);
        end.last_delivery = at;
        Some((peer, at))
    }

    /// Takes away an end's right to send; returns who it sent to and when its last byte lands.
    fn cut(&mut self, idx: NodeIdx, conn: ConnId) -> Option<(Peer, Instant)> {
        let end = self.hosts[idx].ends.get_mut(conn)?;
        Some((end.peer.take()?, end.last_delivery))
    }

    /// The core at `idx` closed `conn`: its end goes now; the peer hears `Closed` after the
    /// bytes already on their way, and its own writes vanish from now on.
    fn close_own(&mut self, idx: NodeIdx, conn: ConnId) {
        let arrival = self.link_arrival(idx, conn);
        self.hosts[idx].ends.remove(conn);
        if let Some((peer, at)) = arrival {
            self.cut(peer.node, peer.conn);
            let closed = Delivery::Closed {
                conn: peer.conn,
                reason: CloseReason::PeerClosed,
            };
            self.schedule(at, peer.node, closed);
        }
    }

    /// Feeds one input to a node, then carries out everything it asked for.
    fn input(&mut self, idx: NodeIdx, input: Input<'_>) {
        let now = self.now;
        if !self.hosts[idx].alive {
            return;
        }
        self.events += 1;
        self.digest.input(now, idx, &input);
        let slot = &mut self.slots[idx];
        let mut out = Outbox::new(&mut self.effects, &mut slot.conn_ids);
        slot.node.handle(now, input, &mut out);
        while let Some(effect) = self.effects.pop() {
            self.apply(idx, effect);
        }
        let timeout = self.slots[idx].node.poll_timeout();
        let host = &mut self.hosts[idx];
        if timeout != host.armed {
            host.armed = timeout;
            if let Some(t) = timeout {
                self.timers.push(Reverse((t.max(now), idx)));
                host.armed = Some(t.max(now));
            }
        }
    }

    fn apply(&mut self, idx: NodeIdx, effect: Effect) {
        match effect {
            Effect::Send { conn, bytes } => self.send(idx, conn, bytes),
            Effect::Connect { conn, addr } => self.dial(idx, conn, addr),
            Effect::Close { conn } => self.close_own(idx, conn),
            Effect::Report(event) => {
                self.reports += 1;
                self.slots[idx].events.push(event);
            }
        }
    }

    fn send(&mut self, idx: NodeIdx, conn: ConnId, bytes: Vec<u8>) {
        let Some((peer, at)) = self.link_arrival(idx, conn) else {
            return;
        };
        if self.message_lost() {
            return self.break_link(idx, conn);
        }
        let sent = self.now;
        let delivery = Delivery::Received {
            conn: peer.conn,
            from: idx,
            sent,
            bytes,
        };
        // The link knows the peer's incarnation: a crash cuts every link to the node, so a
        // link that may still send always leads to the incarnation it was set up with.
        self.schedule_for(at, peer.node, peer.life, delivery);
    }

    /// The dialler's end exists from the dial on, without a peer until the listener accepts.
    fn dial(&mut self, idx: NodeIdx, conn: ConnId, addr: SocketAddr) {
        let at = self.later();
        let last_delivery = self.now;
        self.hosts[idx].ends.insert(
            conn,
            Link {
                peer: None,
                last_delivery,
            },
        );
        match self.by_addr.get(&addr) {
            Some(&to) if to != idx => {
                let from_life = self.hosts[idx].life;
                let dial = Delivery::Dial {
                    from: idx,
                    from_conn: conn,
                    from_life,
                };
                self.schedule(at, to, dial);
            }
            // Nothing listens there (no such node, or the node itself): refused.
            _ => {
                let reason = CloseReason::Refused;
                self.schedule(at, idx, Delivery::Closed { conn, reason });
            }
        }
    }
}
