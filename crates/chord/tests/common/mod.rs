//! Test harness: Chord nodes (and raw byte-speaking peers) on the in-memory network.
#![allow(dead_code)]

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use p2plab_chord::{Answer, ChordConfig, ChordNode, Id, Lookup, NodeRef, Ring, Step};
use p2plab_netsim::{Latency, NodeIdx, TestNet};
use p2plab_peer_protocol::{Input, Instant, Library, Metrics, Node, Outbox};

/// A node under test: a Chord node that can be muted (a hung process: connections stay
/// up, nothing is answered), or a raw peer that sends scripted bytes.
pub enum TestNode {
    Chord {
        node: Box<ChordNode>,
        muted: Rc<Cell<bool>>,
    },
    Raw(Box<RawPeer>),
}

/// Dials `target` at start, sends `script`, keeps what comes back.
pub struct RawPeer {
    pub target: SocketAddr,
    pub script: Vec<u8>,
    pub received: Vec<u8>,
    pub closed: bool,
    metrics: Metrics,
}

impl RawPeer {
    pub fn new(target: SocketAddr, script: Vec<u8>) -> Self {
        RawPeer {
            target,
            script,
            received: Vec::new(),
            closed: false,
            metrics: Metrics::default(),
        }
    }
}

impl Node for TestNode {
    fn handle(&mut self, now: Instant, input: Input<'_>, out: &mut Outbox) {
        match self {
            TestNode::Chord { node, muted } => {
                if !muted.get() {
                    node.handle(now, input, out);
                }
            }
            TestNode::Raw(raw) => match input {
                Input::Start => {
                    out.connect(raw.target);
                }
                Input::Connected { conn } => out.send(conn, raw.script.clone()),
                Input::Received { bytes, .. } => raw.received.extend_from_slice(bytes),
                Input::Closed { .. } => raw.closed = true,
                _ => {}
            },
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        match self {
            TestNode::Chord { node, muted } if !muted.get() => node.poll_timeout(),
            _ => None,
        }
    }

    fn metrics(&self) -> &Metrics {
        match self {
            TestNode::Chord { node, .. } => node.metrics(),
            TestNode::Raw(raw) => &raw.metrics,
        }
    }
}

pub type Net = TestNet<TestNode>;

pub fn net(seed: u64) -> Net {
    TestNet::new(
        Latency::Uniform(Duration::from_millis(1), Duration::from_millis(10)),
        seed,
    )
}

/// The config the tests start from: m = 160, defaults, no files.
pub fn config(addr: SocketAddr, join: Option<SocketAddr>, seed: u64) -> ChordConfig {
    let mut c = ChordConfig::new(addr, join, Arc::new(Library::empty()));
    c.seed = seed;
    c
}

pub fn chord(config: ChordConfig) -> TestNode {
    TestNode::Chord {
        node: Box::new(ChordNode::new(config)),
        muted: Rc::new(Cell::new(false)),
    }
}

pub fn node(net: &Net, idx: NodeIdx) -> &ChordNode {
    match net.node(idx) {
        TestNode::Chord { node, .. } => node,
        TestNode::Raw(_) => panic!("node {idx} is a raw peer"),
    }
}

pub fn raw(net: &Net, idx: NodeIdx) -> &RawPeer {
    match net.node(idx) {
        TestNode::Raw(r) => r,
        TestNode::Chord { .. } => panic!("node {idx} is a chord node"),
    }
}

pub fn mute(net: &Net, idx: NodeIdx) {
    if let TestNode::Chord { muted, .. } = net.node(idx) {
        muted.set(true);
    }
}

/// Adds `n` nodes at once: the first creates the ring, the others join through it.
pub fn ring(net: &mut Net, n: usize, tweak: impl Fn(&mut ChordConfig)) -> Vec<NodeIdx> {
    let first = Net::addr_for(net.len());
    (0..n)
        .map(|i| {
            let addr = Net::addr_for(net.len());
            let join = (i > 0).then_some(first);
            let mut c = config(addr, join, i as u64);
            tweak(&mut c);
            net.add_at(addr, chord(c))
        })
        .collect()
}

/// The live Chord nodes' references, sorted by id: the true ring.
pub fn membership(net: &Net) -> Vec<NodeRef> {
    let mut m: Vec<NodeRef> = net
        .alive()
        .filter_map(|i| match net.node(i) {
            TestNode::Chord { node, muted } if !muted.get() => Some(node.me()),
            _ => None,
        })
        .collect();
    m.sort_by_key(|n| n.id);
    m
}

/// successor(k) on the true ring.
pub fn true_successor(members: &[NodeRef], k: Id) -> NodeRef {
    let pos = members.partition_point(|n| n.id < k);
    members[pos % members.len()]
}

/// The true predecessor of member `n`.
pub fn true_predecessor(members: &[NodeRef], n: NodeRef) -> NodeRef {
    let pos = members.partition_point(|m| m.id < n.id);
    members[(pos + members.len() - 1) % members.len()]
}

/// True when every live node's successor, predecessor and every finger are exact.
pub fn ring_is_exact(net: &Net) -> bool {
    let members = membership(net);
    members.iter().all(|m| {
        let idx = net.idx_of(m.addr).expect("member is in the net");
        let n = node(net, idx);
        let ring = n.ring();
        n.successor() == true_successor(&members, ring.add_pow2(m.id, 0))
            && n.predecessor() == Some(true_predecessor(&members, *m))
            && n.fingers()
                .zip(1..)
                .all(|(f, i)| f == Some(true_successor(&members, n.finger_start(i))))
    })
}

/// Runs a lookup of `key` from `from`, each step answered by the real node's
/// `ChordNode::answer` (its live routing state). Returns the answer and the hops.
pub fn oracle_lookup(net: &Net, from: NodeIdx, key: Id) -> Option<(NodeRef, u32)> {
    let start = node(net, from);
    let mut l = Lookup::new(
        start.ring(),
        key,
        Duration::from_secs(1),
        Some(start.me()),
        [],
    );
    let mut now = Instant::ZERO;
    loop {
        match l.next(now) {
            Step::Ask(n) => match net.idx_of(n.addr).filter(|i| net.is_alive(*i)) {
                Some(i) => {
                    let answer: Answer = node(net, i).answer(key);
                    l.on_reply(n.id, answer);
                }
                None => now += Duration::from_secs(1),
            },
            Step::Waiting => now += Duration::from_secs(1),
            Step::Found { node, hops } => return Some((node, hops)),
            Step::Failed => return None,
        }
    }
}

/// A random identifier on `ring`.
pub fn random_id(rng: &mut impl rand::RngCore, ring: Ring) -> Id {
    let mut b = [0u8; 20];
    rng.fill_bytes(&mut b);
    Id::hash(&b, ring.bits())
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// A ring of `n` nodes with `routing`, run until exact, in which node `holder` shares one
/// file, "needle.bin", and has had five seconds to publish it.
pub fn exact_ring_sharing_needle(
    net: &mut Net,
    n: usize,
    routing: p2plab_chord::Routing,
    holder: usize,
) -> Vec<NodeIdx> {
    let ids = ring(net, n, |c| c.routing = routing);
    assert!(net.run_until_cond(secs(300), |n| ring_is_exact(n)));
    let library = Library::synthetic([("needle.bin".to_string(), 10u64)], 1);
    net.command(
        ids[holder],
        p2plab_peer_protocol::Command::Share {
            library: Arc::new(library),
        },
    );
    net.run_for(secs(5));
    ids
}
