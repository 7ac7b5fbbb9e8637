//! An in-memory network with virtual time, for testing cores without sockets or sleeps.
//!
//! Nodes get made-up addresses (`10.x.y.z:port`). Connections behave like TCP: they are
//! set up with a round trip, deliver bytes in order, and report `Closed` to the other side.
//! Every byte goes through the cores' real encoders and decoders. Latency comes from a seeded
//! model, and the clock jumps from one event to the next: a test of minutes of protocol time
//! runs in milliseconds, and the same seed gives the same run.
//!
//! Steps are bounded ([`TestNet::MAX_STEPS`]): a livelock fails the test instead of hanging it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::node::{Command, ConnId, Event, Input, Node};
use crate::outbox::{Effect, Outbox};
use crate::time::Instant;

/// Index of a node in a [`TestNet`].
pub type NodeIdx = usize;

/// How long a message takes from one node to another.
#[derive(Debug, Clone, Copy)]
pub enum Latency {
    /// Always the same.
    Constant(Duration),
    /// Uniform between the bounds, drawn per message (per-connection order is kept).
    Uniform(Duration, Duration),
}

impl Latency {
    fn sample(&self, rng: &mut ChaCha8Rng) -> Duration {
        match *self {
            Latency::Constant(d) => d,
            Latency::Uniform(lo, hi) if hi > lo => Duration::from_micros(
                rng.random_range(lo.as_micros() as u64..=hi.as_micros() as u64),
            ),
            Latency::Uniform(lo, _) => lo,
        }
    }
}

/// What the network still has to hand to a node.
#[derive(Debug)]
enum Delivery {
    Connected {
        conn: ConnId,
    },
    Received {
        conn: ConnId,
        bytes: Vec<u8>,
        from: NodeIdx,
        sent: Instant,
    },
    Closed {
        conn: ConnId,
    },
    /// A dial reaches `to`'s listener: the network sets the connection up.
    Dial {
        from: NodeIdx,
        from_conn: ConnId,
    },
}

struct Slot<N> {
    node: N,
    out: Outbox,
    addr: SocketAddr,
    alive: bool,
    /// The timeout last pushed on the timer heap, to spot stale heap entries.
    armed: Option<Instant>,
    events: Vec<Event>,
}

/// One direction of a connection: who is at the other end, and when its last byte lands.
#[derive(Debug, Clone, Copy)]
struct Peer {
    node: NodeIdx,
    conn: ConnId,
    last_delivery: Instant,
}

/// The in-memory network.
pub struct TestNet<N> {
    slots: Vec<Slot<N>>,
    by_addr: HashMap<SocketAddr, NodeIdx>,
    /// (node, conn) → the other end, while the node may still send on it.
    links: HashMap<(NodeIdx, ConnId), Peer>,
    /// Connection ends that may still receive: bytes sent before a close still arrive,
    /// as with TCP, until the `Closed` itself is delivered.
    open: HashSet<(NodeIdx, ConnId)>,
    queue: BinaryHeap<Reverse<(Instant, u64, NodeIdx)>>,
    pending: HashMap<u64, Delivery>,
    timers: BinaryHeap<Reverse<(Instant, NodeIdx)>>,
    seq: u64,
    now: Instant,
    rng: ChaCha8Rng,
    latency: Latency,
    steps: u64,
    next_ephemeral: u16,
    /// Every delivered chunk of bytes, when recording (see [`TestNet::record`]).
    trace: Option<Vec<Transmission>>,
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
            by_addr: HashMap::new(),
            links: HashMap::new(),
            open: HashSet::new(),
            queue: BinaryHeap::new(),
            pending: HashMap::new(),
            timers: BinaryHeap::new(),
            seq: 0,
            now: Instant::ZERO,
            rng: ChaCha8Rng::seed_from_u64(seed),
            latency,
            steps: 0,
            next_ephemeral: 40_000,
            trace: None,
        }
    }

    /// The address node number `i` gets: `10.a.b.c:6346`.
    pub fn addr_for(i: usize) -> SocketAddr {
        let i = i as u32 + 1;
        let ip = Ipv4Addr::new(10, (i >> 16) as u8, (i >> 8) as u8, i as u8);
        SocketAddr::new(IpAddr::V4(ip), 6346)
    }

    /// Adds a node listening at `addr` and starts it now.
    pub fn add_at(&mut self, addr: SocketAddr, node: N) -> NodeIdx {
        let idx = self.slots.len();
        self.slots.push(Slot {
            node,
            out: Outbox::new(),
            addr,
            alive: true,
            armed: None,
            events: Vec::new(),
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

    /// True until the node is crashed.
    pub fn is_alive(&self, idx: NodeIdx) -> bool {
        self.slots[idx].alive
    }

    /// Indices of the live nodes.
    pub fn alive(&self) -> impl Iterator<Item = NodeIdx> + '_ {
        (0..self.slots.len()).filter(|&i| self.slots[i].alive)
    }

    /// Gives a node a command now.
    pub fn command(&mut self, idx: NodeIdx, cmd: Command) {
        self.input(idx, Input::Command(cmd));
    }

    /// Takes the events a node reported so far.
    pub fn take_events(&mut self, idx: NodeIdx) -> Vec<Event> {
        std::mem::take(&mut self.slots[idx].events)
    }

    /// Starts (or restarts) recording every delivered chunk of bytes.
    pub fn record(&mut self) {
        self.trace = Some(Vec::new());
    }

    /// Takes what was recorded since [`TestNet::record`] or the last call.
    pub fn take_trace(&mut self) -> Vec<Transmission> {
        self.trace.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Crashes a node: it stops at once, and every peer sees its connections close.
    pub fn crash(&mut self, idx: NodeIdx) {
        if !std::mem::replace(&mut self.slots[idx].alive, false) {
            return;
        }
        let conns: Vec<ConnId> = self
            .links
            .keys()
            .filter(|(n, _)| *n == idx)
            .map(|(_, c)| *c)
            .collect();
        for conn in conns {
            self.close_link(idx, conn);
        }
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
            let slot = &self.slots[idx];
            if slot.alive && slot.armed == Some(t) {
                break;
            }
            self.timers.pop();
        }
        let timer = self.timers.peek().map(|Reverse((t, _))| *t);
        let msg = self.queue.peek().map(|Reverse((t, _, _))| *t);
        match (timer, msg) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn step(&mut self) {
        self.steps += 1;
        assert!(
            self.steps <= Self::MAX_STEPS,
            "testnet: more than {} steps, livelock?",
            Self::MAX_STEPS
        );
        let timer = self.timers.peek().map(|Reverse((t, i))| (*t, *i));
        let msg = self.queue.peek().map(|Reverse((t, s, i))| (*t, *s, *i));
        match (timer, msg) {
            (Some((tt, idx)), m) if m.is_none_or(|(mt, _, _)| tt < mt) => {
                self.timers.pop();
                self.slots[idx].armed = None;
                self.input(idx, Input::Timeout);
            }
            (_, Some((_, seq, idx))) => {
                self.queue.pop();
                let delivery = self
                    .pending
                    .remove(&seq)
                    .expect("every queued seq has a pending delivery");
                self.deliver(idx, delivery);
            }
            _ => {}
        }
    }

    fn deliver(&mut self, idx: NodeIdx, delivery: Delivery) {
        if !self.slots[idx].alive {
            if let Delivery::Dial { from, from_conn } = delivery {
                self.refuse(from, from_conn);
            }
            return;
        }
        match delivery {
            Delivery::Connected { conn } => self.input(idx, Input::Connected { conn }),
            Delivery::Received {
                conn,
                bytes,
                from,
                sent,
            } => {
                if self.open.contains(&(idx, conn)) {
                    if let Some(trace) = &mut self.trace {
                        trace.push(Transmission {
                            sent,
                            delivered: self.now,
                            from,
                            to: idx,
                            bytes: bytes.clone(),
                        });
                    }
                    self.input(
                        idx,
                        Input::Received {
                            conn,
                            bytes: &bytes,
                        },
                    );
                }
            }
            Delivery::Closed { conn } => {
                self.open.remove(&(idx, conn));
                self.input(idx, Input::Closed { conn });
            }
            Delivery::Dial { from, from_conn } => self.accept(idx, from, from_conn),
        }
    }

    /// The listener at `idx` accepts a dial; the SYN-ACK takes one more latency back.
    fn accept(&mut self, idx: NodeIdx, from: NodeIdx, from_conn: ConnId) {
        if !self.slots[from].alive {
            return;
        }
        let conn = self.slots[idx].out.next_conn_id();
        let back = self.now + self.latency.sample(&mut self.rng);
        self.links.insert(
            (idx, conn),
            Peer {
                node: from,
                conn: from_conn,
                last_delivery: back,
            },
        );
        self.links.insert(
            (from, from_conn),
            Peer {
                node: idx,
                conn,
                last_delivery: self.now,
            },
        );
        self.next_ephemeral = self.next_ephemeral.checked_add(1).unwrap_or(40_000);
        self.open.insert((idx, conn));
        self.open.insert((from, from_conn));
        let remote = SocketAddr::new(self.slots[from].addr.ip(), self.next_ephemeral);
        self.input(idx, Input::Accepted { conn, remote });
        self.schedule(back, from, Delivery::Connected { conn: from_conn });
    }

    fn refuse(&mut self, from: NodeIdx, from_conn: ConnId) {
        let at = self.now + self.latency.sample(&mut self.rng);
        self.schedule(at, from, Delivery::Closed { conn: from_conn });
    }

    fn schedule(&mut self, at: Instant, to: NodeIdx, delivery: Delivery) {
        self.seq += 1;
        self.pending.insert(self.seq, delivery);
        self.queue.push(Reverse((at, self.seq, to)));
    }

    /// Arrival time on the link from `(idx, conn)`: after a fresh latency, and never before
    /// what was sent earlier on the same link (TCP keeps order).
    fn link_arrival(&mut self, idx: NodeIdx, conn: ConnId) -> Option<(Peer, Instant)> {
        let lat = self.latency.sample(&mut self.rng);
        let peer = self.links.get_mut(&(idx, conn))?;
        let at = (self.now + lat).max(peer.last_delivery);
        peer.last_delivery = at;
        Some((*peer, at))
    }

    fn close_link(&mut self, idx: NodeIdx, conn: ConnId) {
        self.open.remove(&(idx, conn));
        if let Some((peer, at)) = self.link_arrival(idx, conn) {
            self.links.remove(&(idx, conn));
            self.links.remove(&(peer.node, peer.conn));
            self.schedule(at, peer.node, Delivery::Closed { conn: peer.conn });
        }
    }

    /// Feeds one input to a node, then carries out everything it asked for.
    fn input(&mut self, idx: NodeIdx, input: Input<'_>) {
        let now = self.now;
        let slot = &mut self.slots[idx];
        if !slot.alive {
            return;
        }
        slot.node.handle(now, input, &mut slot.out);
        while let Some(effect) = self.slots[idx].out.pop() {
            self.apply(idx, effect);
        }
        let slot = &mut self.slots[idx];
        let timeout = slot.node.poll_timeout();
        if timeout != slot.armed {
            slot.armed = timeout;
            if let Some(t) = timeout {
                self.timers.push(Reverse((t.max(now), idx)));
                slot.armed = Some(t.max(now));
            }
        }
    }

    fn apply(&mut self, idx: NodeIdx, effect: Effect) {
        match effect {
            Effect::Send { conn, bytes } => {
                if let Some((peer, at)) = self.link_arrival(idx, conn) {
                    self.schedule(
                        at,
                        peer.node,
                        Delivery::Received {
                            conn: peer.conn,
                            from: idx,
                            sent: self.now,
                            bytes,
                        },
                    );
                }
            }
            Effect::Connect { conn, addr } => {
                let at = self.now + self.latency.sample(&mut self.rng);
                match self.by_addr.get(&addr) {
                    Some(&to) if to != idx => self.schedule(
                        at,
                        to,
                        Delivery::Dial {
                            from: idx,
                            from_conn: conn,
                        },
                    ),
                    _ => self.schedule(at, idx, Delivery::Closed { conn }),
                }
            }
            Effect::Close { conn } => self.close_link(idx, conn),
            Effect::Report(event) => self.slots[idx].events.push(event),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metrics;

    /// Echoes every byte back; node 1 dials node 0 at start and sends "hi".
    #[derive(Default)]
    struct Echo {
        dial: Option<SocketAddr>,
        got: Vec<u8>,
        closed: u32,
        wake: Option<Instant>,
        woke_at: Vec<Instant>,
        metrics: Metrics,
    }

    impl Node for Echo {
        fn handle(&mut self, now: Instant, input: Input<'_>, out: &mut Outbox) {
            match input {
                Input::Start => {
                    if let Some(addr) = self.dial {
                        out.connect(addr);
                    }
                }
                Input::Connected { conn } => out.send(conn, b"hi".to_vec()),
                Input::Received { conn, bytes } => {
                    self.got.extend_from_slice(bytes);
                    if self.dial.is_none() {
                        out.send(conn, bytes.to_vec());
                    }
                }
                Input::Closed { .. } => self.closed += 1,
                Input::Timeout if self.wake.is_some_and(|w| now >= w) => {
                    self.wake = None;
                    self.woke_at.push(now);
                }
                _ => {}
            }
        }
        fn poll_timeout(&self) -> Option<Instant> {
            self.wake
        }
        fn metrics(&self) -> &Metrics {
            &self.metrics
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn bytes_round_trip_with_latency_and_in_order() {
        let mut net = TestNet::new(Latency::Uniform(ms(1), ms(9)), 3);
        let server = net.add(Echo::default());
        let client = net.add(Echo {
            dial: Some(net.addr(server)),
            ..Echo::default()
        });
        net.run_for(ms(100));
        assert_eq!(net.node(server).got, b"hi");
        assert_eq!(net.node(client).got, b"hi");
    }

    #[test]
    fn bytes_sent_before_a_close_still_arrive() {
        let mut net = TestNet::new(Latency::Uniform(ms(1), ms(9)), 5);
        let server = net.add(Echo::default());
        let client = net.add(Echo {
            dial: Some(net.addr(server)),
            ..Echo::default()
        });
        net.run_for(ms(30));
        // A last "!" and the close leave together; the server must still see the "!".
        let conn = ConnId(1);
        net.slots[client].out.send(conn, b"!".to_vec());
        net.slots[client].out.close(conn);
        while let Some(effect) = net.slots[client].out.pop() {
            net.apply(client, effect);
        }
        net.run_for(ms(100));
        assert_eq!(net.node(server).got, b"hi!");
        assert_eq!(net.node(server).closed, 1);
    }

    #[test]
    fn a_recording_lists_each_delivery_with_its_ends() {
        let mut net = TestNet::new(Latency::Constant(ms(2)), 0);
        let server = net.add(Echo::default());
        net.record();
        let client = net.add(Echo {
            dial: Some(net.addr(server)),
            ..Echo::default()
        });
        net.run_for(ms(100));
        let trace = net.take_trace();
        let ends: Vec<_> = trace
            .iter()
            .map(|t| (t.from, t.to, t.bytes.as_slice()))
            .collect();
        assert_eq!(
            ends,
            [(client, server, &b"hi"[..]), (server, client, &b"hi"[..])]
        );
        assert_eq!(trace[0].delivered.saturating_since(trace[0].sent), ms(2));
        assert!(net.take_trace().is_empty());
    }

    #[test]
    fn timers_fire_at_their_deadline_and_clock_jumps() {
        let mut net = TestNet::new(Latency::Constant(ms(1)), 0);
        let a = net.add(Echo {
            wake: Some(Instant::ZERO + ms(5_000)),
            ..Echo::default()
        });
        net.run_for(ms(10_000));
        assert_eq!(net.node(a).woke_at, [Instant::ZERO + ms(5_000)]);
        assert_eq!(net.now(), Instant::ZERO + ms(10_000));
    }

    #[test]
    fn a_crash_closes_the_peers_connections_and_refuses_dials() {
        let mut net = TestNet::new(Latency::Constant(ms(1)), 0);
        let server = net.add(Echo::default());
        let client = net.add(Echo {
            dial: Some(net.addr(server)),
            ..Echo::default()
        });
        net.run_for(ms(10));
        net.crash(server);
        net.run_for(ms(10));
        assert_eq!(net.node(client).closed, 1);
        let late = net.add(Echo {
            dial: Some(net.addr(server)),
            ..Echo::default()
        });
        net.run_for(ms(10));
        assert_eq!(net.node(late).closed, 1, "a dial to a dead node fails");
        assert_eq!(net.alive().collect::<Vec<_>>(), [client, late]);
    }
}
