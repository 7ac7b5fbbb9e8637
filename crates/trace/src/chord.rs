//! Chord: one search, a lookup across the ring and one fetch.
//!
//! The trace puts `nodes` nodes on an m-bit ring (m = `id_bits`, small so the identifiers
//! read as numbers), lets them join, stabilize and fix their fingers until every successor
//! and finger is exact, and waits for the file index to be published. Then one node searches.
//! Its search looks up key = SHA-1(first query word), in one of the two ways of ToN §IV-C:
//!
//! - **iterative** (the default): the searcher picks from its own table the known node
//!   closest before the key, asks it, and is told either "the key's successor is s" or "ask
//!   these closer nodes" — each time from the asked node's fingers, so each hop at least
//!   halves the distance left. Every hop is a question from the searcher and an answer to it.
//! - **recursive**: the searcher hands the lookup (`route_recursive`) to the same first node,
//!   which passes it on to the closest node before the key in *its* table, and so on; the
//!   last one, whose successor owns the key, tells the searcher (`recursive_found`). The hops
//!   are a chain, and one answer comes back.
//!
//! The key's successor holds the records; one `get` fetches those matching the whole query.
//!
//! Stabilization and finger repair go on during the search; those messages are counted as
//! background, not explained.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use p2plab_chord::{ChordConfig, ChordNode, Frame, Id, Message, NodeRef, Routing};
use p2plab_netsim::{Latency, NodeIdx, TestNet};
use p2plab_peer_protocol::keywords::Query;
use p2plab_peer_protocol::{Instant, MessageKind};

use crate::catalogue;
use crate::decode::{decode_all, Decoded};
use crate::harness::{run_search, samples};
use crate::model::{Figure, Jump, RingFigure, RingNode, Role, Trace, TraceError, TracedMessage};
use crate::{TraceConfig, LINK_LATENCY};

mod wire;
pub use wire::fields;

/// The longest the ring may take to converge (exact successors and fingers).
pub const CONVERGE_LIMIT: Duration = Duration::from_secs(900);

/// After convergence, time for the early re-publications to put every index entry at the
/// node that owns its key (2, 4, 8 and 16 stabilize periods after joining).
pub const PUBLISH_WAIT: Duration = Duration::from_secs(40);

/// A node's label: `n` and its identifier.
pub fn label(id: u64) -> String {
    format!("n{id}")
}

/// `count` addresses whose m-bit ids all differ (an address whose id is taken is skipped).
fn addresses(count: usize, bits: u32) -> Vec<SocketAddr> {
    let mut ids = Vec::new();
    let mut out = Vec::new();
    let mut k = 0;
    while out.len() < count {
        let addr = TestNet::<ChordNode>::addr_for(k);
        let id = Id::of_addr(addr, bits);
        if !ids.contains(&id) {
            ids.push(id);
            out.push(addr);
        }
        k += 1;
    }
    out
}

fn build(config: &TraceConfig) -> Result<TestNet<ChordNode>, TraceError> {
    let mut net = TestNet::new(Latency::Constant(LINK_LATENCY), config.seed);
    let addrs = addresses(config.nodes, config.id_bits);
    for (i, &addr) in addrs.iter().enumerate() {
        let library = Arc::new(catalogue::library(i, config.seed));
        let join = (i > 0).then_some(addrs[0]);
        let mut c = ChordConfig::new(addr, join, library);
        c.id_bits = config.id_bits;
        c.successors = config.successors;
        c.replicas = c.replicas.min(config.successors + 1);
        c.seed = config.seed ^ i as u64;
        c.routing = config.routing;
        net.add_at(addr, ChordNode::new(c));
    }
    let deadline = net.now() + CONVERGE_LIMIT;
    while !converged(&snapshot(&net), config.id_bits) {
        if net.now() >= deadline {
            return Err(TraceError::Unsettled(format!(
                "the ring did not converge in {} s",
                CONVERGE_LIMIT.as_secs()
            )));
        }
        net.run_for(Duration::from_secs(1));
    }
    net.run_for(PUBLISH_WAIT);
    Ok(net)
}

/// Every node's table, with identifiers as numbers.
fn snapshot(net: &TestNet<ChordNode>) -> Vec<RingNode> {
    (0..net.len())
        .map(|i| {
            let n = net.node(i);
            RingNode {
                id: n.id().low_u64(),
                fingers: n.fingers().map(|f| f.map(|r| r.id.low_u64())).collect(),
                successors: n.successor_list().iter().map(|r| r.id.low_u64()).collect(),
            }
        })
        .collect()
}

/// successor(x): the first id at or after x clockwise, among `ids` (sorted).
pub fn successor_of(ids: &[u64], x: u64) -> u64 {
    ids.iter().copied().find(|&id| id >= x).unwrap_or(ids[0])
}

/// True when every node's successor and every finger is what the ring's membership says:
/// `finger[i] = successor(n + 2^(i-1))`.
pub fn converged(nodes: &[RingNode], bits: u32) -> bool {
    let mut ids: Vec<u64> = nodes.iter().map(|n| n.id).collect();
    ids.sort_unstable();
    let modulus = 1u64 << bits;
    nodes.iter().all(|n| {
        n.successors.first() == Some(&successor_of(&ids, (n.id + 1) % modulus))
            && n.fingers
                .iter()
                .enumerate()
                .all(|(i, f)| *f == Some(successor_of(&ids, (n.id + (1u64 << i)) % modulus)))
    })
}

/// The searcher a trace picks: the node just after the key's owner, the farthest any node
/// can be from the key clockwise — so the lookup has to cross almost the whole ring.
pub fn farthest_from(nodes: &[RingNode], key: u64, bits: u32) -> NodeIdx {
    let mut ids: Vec<u64> = nodes.iter().map(|n| n.id).collect();
    ids.sort_unstable();
    let owner = successor_of(&ids, key);
    let next = successor_of(&ids, (owner + 1) % (1u64 << bits));
    nodes.iter().position(|n| n.id == next).unwrap_or(0)
}

/// Runs the trace.
///
/// # Errors
/// [`TraceError::Unsettled`] if the ring does not converge, [`TraceError::NoAnswer`] if the
/// search does not finish.
pub fn trace(config: &TraceConfig) -> Result<Trace, TraceError> {
    let mut net = build(config)?;
    let word = Query::parse(&config.query).words()[0].clone();
    let key = Id::of_key(&word, config.id_bits);
    let origin = farthest_from(&snapshot(&net), key.low_u64(), config.id_bits);
    net.record();
    let (start, hits) = run_search(&mut net, origin, &config.query)?;
    let (decoded, _) = decode_all::<Frame>(&net.take_trace());
    let nodes = snapshot(&net);
    let mut lookup = Following::new(&net, &nodes, origin, key, config.routing);
    let messages: Vec<TracedMessage> = decoded
        .iter()
        .filter_map(|d| lookup.explain(d, start))
        .collect();
    let labels: Vec<String> = nodes.iter().map(|n| label(n.id)).collect();
    let summary = lookup.summary(&messages, hits.len(), &word);
    let mut setup = vec![format!(
        "{} nodes on a {}-bit ring (ids 0..{}), {} successors each; every successor and finger \
         exact, every file published under its name and each of its words.",
        config.nodes,
        config.id_bits,
        (1u64 << config.id_bits) - 1,
        config.successors
    )];
    if config.routing == Routing::Recursive {
        setup.push(
            "Lookups are recursive: each node passes the lookup on, and the last one answers \
             the searcher."
                .to_owned(),
        );
    }
    Ok(Trace {
        network: config.network,
        title: format!(
            "chord: {} nodes, m = {} bits, seed {}, query {:?}{}",
            config.nodes,
            config.id_bits,
            config.seed,
            config.query,
            match config.routing {
                Routing::Iterative => "",
                Routing::Recursive => ", recursive lookup",
            }
        ),
        setup,
        labels,
        origin,
        query: config.query.clone(),
        messages,
        background: lookup.background,
        samples: samples(&decoded),
        hits,
        summary,
        figure: Figure::Ring(RingFigure {
            bits: config.id_bits,
            routing: config.routing,
            nodes: nodes.clone(),
            key: key.low_u64(),
            key_word: word,
            jumps: lookup.jumps,
            owner: lookup.owner,
        }),
    })
}

/// Which entry of `from`'s table names `to`: the highest finger, else a successor-list slot.
pub fn via(from: &RingNode, to: u64, bits: u32) -> String {
    if let Some(i) = from.fingers.iter().rposition(|f| *f == Some(to)) {
        let start = (from.id + (1u64 << i)) % (1u64 << bits);
        return format!("finger[{}] (start {start})", i + 1);
    }
    match from.successors.iter().position(|s| *s == to) {
        Some(k) => format!("successor[{}]", k + 1),
        None => "a node it heard of".to_owned(),
    }
}

/// The lookup and fetch as they unfold, frame by frame.
struct Following<'a> {
    nodes: &'a [RingNode],
    by_addr: HashMap<SocketAddr, NodeIdx>,
    origin: NodeIdx,
    key: Id,
    bits: u32,
    routing: Routing,
    /// The request id of the recursive lookup, once the searcher has handed it on.
    route: Option<u64>,
    /// Request ids of our find_successor asks, and whom each asked.
    asks: HashMap<u64, NodeIdx>,
    gets: HashMap<u64, NodeIdx>,
    /// Who first offered each node as a closer hop.
    offered_by: HashMap<NodeIdx, NodeIdx>,
    jumps: Vec<Jump>,
    owner: Option<NodeIdx>,
    background: BTreeMap<&'static str, u64>,
}

impl<'a> Following<'a> {
    fn new(
        net: &TestNet<ChordNode>,
        nodes: &'a [RingNode],
        origin: NodeIdx,
        key: Id,
        routing: Routing,
    ) -> Self {
        Following {
            nodes,
            by_addr: (0..net.len()).map(|i| (net.addr(i), i)).collect(),
            origin,
            key,
            bits: net.node(origin).ring().bits(),
            routing,
            route: None,
            asks: HashMap::new(),
            gets: HashMap::new(),
            offered_by: HashMap::new(),
            jumps: Vec::new(),
            owner: None,
            background: BTreeMap::new(),
        }
    }

    fn name(&self, idx: NodeIdx) -> String {
        self.nodes
            .get(idx)
            .map_or_else(|| "?".to_owned(), |n| label(n.id))
    }

    fn idx(&self, node: &NodeRef) -> Option<NodeIdx> {
        self.by_addr.get(&node.addr).copied()
    }

    fn explain(&mut self, d: &Decoded<Frame>, start: Instant) -> Option<TracedMessage> {
        let explained = match &d.msg.msg {
            Message::FindSuccessor { target } if d.from == self.origin && *target == self.key => {
                Some(self.on_ask(d))
            }
            Message::RouteRecursive { origin, target, .. }
                if *target == self.key && self.idx(origin) == Some(self.origin) =>
            {
                self.on_route(d)
            }
            Message::Get { key, query } if d.from == self.origin && *key == self.key => {
                Some(self.on_get(d, query))
            }
            _ if d.to == self.origin => self.on_reply(d),
            _ => None,
        };
        let Some((summary, why, role)) = explained else {
            *self.background.entry(d.msg.msg.kind().name()).or_default() += 1;
            return None;
        };
        Some(d.traced(start, d.msg.msg.kind().name(), (summary, why, role)))
    }

    fn on_ask(&mut self, d: &Decoded<Frame>) -> (String, String, Role) {
        self.asks.insert(d.msg.request, d.to);
        let from = self.offered_by.get(&d.to).copied().unwrap_or(self.origin);
        let entry = via(&self.nodes[from], self.nodes[d.to].id, self.bits);
        self.jumps.push(Jump {
            from,
            to: d.to,
            via: entry.clone(),
        });
        let whose = if from == self.origin {
            format!("the searcher {}'s own", self.name(from))
        } else {
            format!("{}'s", self.name(from))
        };
        let why = format!(
            "{} is the closest node before key {} in {whose} table: {entry}",
            self.name(d.to),
            self.key.low_u64()
        );
        let summary = format!("find_successor({})", self.key.low_u64());
        (summary, why, Role::Ask)
    }

    /// A hop of the recursive lookup: the searcher hands it on, or a node passes it on.
    fn on_route(&mut self, d: &Decoded<Frame>) -> Option<(String, String, Role)> {
        let request = d.msg.request;
        if d.from == self.origin && self.route.is_none() {
            self.route = Some(request);
        }
        if self.route != Some(request) {
            return None;
        }
        let entry = via(&self.nodes[d.from], self.nodes[d.to].id, self.bits);
        self.jumps.push(Jump {
            from: d.from,
            to: d.to,
            via: entry.clone(),
        });
        let (key, from, to) = (self.key.low_u64(), self.name(d.from), self.name(d.to));
        let why = if d.from == self.origin {
            format!(
                "{to} is the closest node before key {key} in the searcher {from}'s own table: \
                 {entry}; the searcher hands it the lookup"
            )
        } else {
            let succ = self.nodes[d.from].successors.first().copied();
            let succ = succ.map_or_else(|| "?".to_owned(), |s| s.to_string());
            format!(
                "{key} is not in ({from}, {succ}]: {from} passes the lookup on to {to}, the \
                 closest node before the key in its table: {entry}"
            )
        };
        let hops = match d.msg.msg {
            Message::RouteRecursive { hops, .. } => hops,
            _ => 0,
        };
        Some((
            format!("route_recursive({key}) hops={hops}"),
            why,
            Role::Ask,
        ))
    }

    fn on_get(&mut self, d: &Decoded<Frame>, query: &str) -> (String, String, Role) {
        self.gets.insert(d.msg.request, d.to);
        self.owner.get_or_insert(d.to);
        let why = format!(
            "{} is successor({}), so it holds the records filed under that key; it returns \
             those matching the whole query",
            self.name(d.to),
            self.key.low_u64()
        );
        (
            format!("get({}, {query:?})", self.key.low_u64()),
            why,
            Role::Ask,
        )
    }

    fn on_reply(&mut self, d: &Decoded<Frame>) -> Option<(String, String, Role)> {
        let request = d.msg.request;
        let replier = self.name(d.from);
        let key = self.key.low_u64();
        let succ = |n: &RingNode| n.successors.first().copied().unwrap_or(n.id);
        match &d.msg.msg {
            Message::CloserNodes { nodes } if self.asks.contains_key(&request) => {
                let offered: Vec<NodeIdx> = nodes.iter().filter_map(|n| self.idx(n)).collect();
                for &o in &offered {
                    self.offered_by.entry(o).or_insert(d.from);
                }
                let best = offered
                    .first()
                    .map_or_else(|| "?".to_owned(), |&o| self.name(o));
                let why = format!(
                    "{key} is not in ({replier}, {}]: {replier} points on to {best}, the closest \
                     node before the key it knows",
                    succ(&self.nodes[d.from])
                );
                let names: Vec<String> = offered.iter().map(|&o| self.name(o)).collect();
                Some((
                    format!("closer_nodes [{}]", names.join(", ")),
                    why,
                    Role::Answer,
                ))
            }
            Message::SuccessorIs { node } if self.asks.contains_key(&request) => {
                let owner = self.idx(node);
                self.owner = owner.or(self.owner);
                let name = owner.map_or_else(|| "?".to_owned(), |o| self.name(o));
                let why = format!(
                    "{key} is in ({replier}, {name}]: {replier}'s successor {name} owns the key"
                );
                Some((format!("successor_is {name}"), why, Role::Answer))
            }
            Message::RecursiveFound { node, hops } if self.route == Some(request) => {
                let owner = self.idx(node);
                self.owner = owner.or(self.owner);
                let name = owner.map_or_else(|| "?".to_owned(), |o| self.name(o));
                let why = format!(
                    "{key} is in ({replier}, {name}]: {replier}'s successor {name} owns the key; \
                     {replier} tells the searcher straight, after {hops} node(s) handled the lookup"
                );
                Some((
                    format!("recursive_found {name} hops={hops}"),
                    why,
                    Role::Answer,
                ))
            }
            Message::Values { records } if self.gets.contains_key(&request) => {
                let why = format!("{} matching record(s): the search is done", records.len());
                let mut names: Vec<&str> = records.iter().map(|r| r.name.as_str()).collect();
                names.sort_unstable();
                names.dedup();
                let summary = format!(
                    "values: {} records of [{}]",
                    records.len(),
                    names.join("; ")
                );
                Some((summary, why, Role::Answer))
            }
            _ => None,
        }
    }

    fn summary(&self, messages: &[TracedMessage], hits: usize, word: &str) -> Vec<String> {
        let n = self.nodes.len() as f64;
        let hops = self.jumps.len();
        let bg: u64 = self.background.values().sum();
        vec![
            format!(
                "key {} = SHA-1({word:?}) cut to {} bits; its successor is {}.",
                self.key.low_u64(),
                self.bits,
                self.owner.map_or_else(|| "?".to_owned(), |o| self.name(o))
            ),
            format!(
                "The lookup took {hops} hops{} (the paper's mean is about ½·log2 N = {:.1} for N = \
                 {}), then one get: {} messages in all, {hits} hits.",
                match self.routing {
                    Routing::Iterative => "",
                    Routing::Recursive => ", passed on from node to node",
                },
                0.5 * n.log2(),
                self.nodes.len(),
                messages.len()
            ),
            format!(
                "Meanwhile the ring's upkeep sent {bg} messages of its own (stabilize, notify, \
                 fix_fingers, pings to check holders): they are the price of keeping the ring \
                 and its index right."
            ),
        ]
    }
}
