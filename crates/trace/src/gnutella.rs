//! Gnutella 0.4: one search, a flood.
//!
//! The trace builds a random overlay (servent `i` dials `degree` earlier servents, so the mean
//! degree is about twice that), lets the handshakes finish, and has the last servent search.
//! Its Query goes to every neighbour; each servent answers from its own files and passes the
//! Query on to every neighbour but the one it came from, TTL one less, until the TTL runs out.
//! A copy that reaches a servent a second time is dropped (same descriptor ID). QueryHits do
//! not flood: each goes back along the path its Query came, hop by hop.
//!
//! With one constant link latency the flood advances one hop per tick, so the hop at which a
//! servent first gets the Query is its distance from the searcher — a breadth-first search,
//! cut off at the TTL. The tests check exactly that.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use p2plab_gnutella::{Descriptor, Guid, Kind, Payload, Servent, ServentConfig};
use p2plab_netsim::{Latency, NodeIdx, TestNet};
use p2plab_peer_protocol::{Instant, MessageKind, WireMessage};

use crate::catalogue;
use crate::decode::{decode_all, Decoded};
use crate::harness::{count_kinds, run_search, samples};
use crate::hexdump::{ascii, Field, Fields};
use crate::model::{Figure, Flood, Role, Trace, TraceError, TracedMessage};
use crate::{TraceConfig, LINK_LATENCY};

/// How long the handshakes get before the search.
pub const SETTLE: Duration = Duration::from_secs(2);

/// How long a search collects QueryHits. Every hit of a flood on a small overlay is back in
/// far less: 2 × TTL link latencies.
pub const SEARCH_WINDOW: Duration = Duration::from_secs(1);

/// A servent's label.
pub fn label(idx: NodeIdx) -> String {
    format!("s{idx}")
}

pub use p2plab_gnutella::topology::random_overlay;

fn build(config: &TraceConfig) -> TestNet<Servent> {
    let mut net = TestNet::new(Latency::Constant(LINK_LATENCY), config.seed);
    let adj = random_overlay(config.nodes, config.degree, config.seed);
    for (i, nbrs) in adj.iter().enumerate() {
        let addr = TestNet::<Servent>::addr_for(i);
        let library = Arc::new(catalogue::library(i, config.seed));
        let mut c = ServentConfig::new(addr, library);
        c.bootstrap = nbrs
            .iter()
            .filter(|&&j| j < i)
            .map(|&j| TestNet::<Servent>::addr_for(j))
            .collect();
        c.ttl = config.ttl;
        c.ping_ttl = 1;
        c.min_peers = 0;
        c.max_peers = config.nodes;
        c.ping_interval = Duration::from_secs(3_600);
        c.search_window = SEARCH_WINDOW;
        c.seed = config.seed ^ i as u64;
        net.add(Servent::new(c));
    }
    net.run_for(SETTLE);
    net
}

/// The overlay as the servents see it after their handshakes.
fn edges(net: &TestNet<Servent>) -> Vec<(NodeIdx, NodeIdx)> {
    let mut out = BTreeSet::new();
    for a in 0..net.len() {
        for addr in net.node(a).neighbours() {
            if let Some(b) = net.idx_of(addr) {
                out.insert((a.min(b), a.max(b)));
            }
        }
    }
    out.into_iter().collect()
}

/// Runs the trace.
///
/// # Errors
/// [`TraceError::NoAnswer`] if the search did not finish.
pub fn trace(config: &TraceConfig) -> Result<Trace, TraceError> {
    let mut net = build(config);
    let edges = edges(&net);
    let origin = config.nodes - 1;
    net.record();
    let (start, hits) = run_search(&mut net, origin, &config.query)?;
    let (decoded, _) = decode_all::<Descriptor>(&net.take_trace());
    let guid = decoded
        .iter()
        .find(|d| d.from == origin && matches!(d.msg.payload, Payload::Query(_)))
        .map(|d| d.msg.guid);
    let (search, other): (Vec<_>, Vec<_>) = decoded.iter().partition(|d| Some(d.msg.guid) == guid);
    let mut flood = Flooding::new(net.len(), origin, config.ttl, edges);
    let messages: Vec<TracedMessage> = search
        .iter()
        .map(|d| flood.explain(d, start, &net))
        .collect();
    let setup = vec![format!(
        "{} servents on a random overlay of {} links (mean degree {:.1}); the search starts \
         at {} with TTL {}.",
        config.nodes,
        flood.figure.edges.len(),
        2.0 * flood.figure.edges.len() as f64 / config.nodes as f64,
        label(origin),
        config.ttl
    )];
    let summary = flood.summary(&messages, hits.len());
    Ok(Trace {
        network: config.network,
        title: format!(
            "gnutella: {} servents, TTL {}, degree ~{}, seed {}, query {:?}",
            config.nodes,
            config.ttl,
            2 * config.degree,
            config.seed,
            config.query
        ),
        setup,
        labels: (0..net.len()).map(label).collect(),
        origin,
        query: config.query.clone(),
        messages,
        background: count_kinds(other.iter().copied()),
        samples: samples(&decoded),
        hits,
        summary,
        figure: Figure::Flood(flood.figure),
    })
}

/// The flood as it unfolds, message by message.
struct Flooding {
    origin: NodeIdx,
    figure: Flood,
    degree: Vec<usize>,
}

impl Flooding {
    fn new(n: usize, origin: NodeIdx, ttl: u8, edges: Vec<(NodeIdx, NodeIdx)>) -> Self {
        let mut degree = vec![0; n];
        for &(a, b) in &edges {
            degree[a] += 1;
            degree[b] += 1;
        }
        let mut hop = vec![None; n];
        hop[origin] = Some(0);
        Flooding {
            origin,
            degree,
            figure: Flood {
                ttl,
                edges,
                hop,
                parent: vec![None; n],
                copies: Vec::new(),
                hit_links: Vec::new(),
                holders: Vec::new(),
            },
        }
    }

    fn explain(
        &mut self,
        d: &Decoded<Descriptor>,
        start: Instant,
        net: &TestNet<Servent>,
    ) -> TracedMessage {
        let (summary, why, role) = match &d.msg.payload {
            Payload::Query(q) => self.on_query(d, &q.text()),
            Payload::QueryHit(h) => {
                let holder = net.idx_of(std::net::SocketAddr::from((h.ip, h.port)));
                self.on_hit(d, h.results.len(), holder)
            }
            _ => (
                d.msg.kind().name().to_owned(),
                "not part of the search".into(),
                Role::Answer,
            ),
        };
        d.traced(start, d.msg.kind().name(), (summary, why, role))
    }

    fn on_query(&mut self, d: &Decoded<Descriptor>, text: &str) -> (String, String, Role) {
        let (from, to, ttl, hops) = (d.from, d.to, d.msg.ttl, d.msg.hops);
        let hop = u32::from(hops) + 1;
        let summary = format!("Query ttl={ttl} hops={hops} {text:?}");
        let sender = if from == self.origin {
            format!(
                "{} starts the flood: one copy to each of its {} neighbours",
                label(from),
                self.degree[from]
            )
        } else {
            let parent = self.figure.parent[from].map_or_else(|| "?".to_owned(), label);
            format!(
                "{} passes on the copy it got from {parent}, TTL one less, to every other neighbour",
                label(from)
            )
        };
        if let Some(first) = self.figure.hop[to] {
            self.figure.copies.push((from, to, first, true));
            let why = format!("{sender}; {} has seen this ID already: dropped", label(to));
            return (summary, why, Role::Duplicate);
        }
        self.figure.hop[to] = Some(hop);
        self.figure.parent[to] = Some(from);
        self.figure.copies.push((from, to, hop, false));
        let fate = if ttl <= 1 {
            "TTL ends here: it answers but forwards no further".to_owned()
        } else {
            format!("hop {hop}: it answers from its files and floods on")
        };
        (
            summary,
            format!("{sender}; {} {fate}", label(to)),
            Role::Ask,
        )
    }

    fn on_hit(
        &mut self,
        d: &Decoded<Descriptor>,
        files: usize,
        holder: Option<NodeIdx>,
    ) -> (String, String, Role) {
        self.figure.hit_links.push((d.from, d.to));
        let holder_label = holder.map_or_else(|| "?".to_owned(), label);
        let summary = format!(
            "QueryHit ttl={} hops={} {files} file(s) at {holder_label}",
            d.msg.ttl, d.msg.hops
        );
        let why = if d.msg.hops == 0 {
            if let Some(h) = holder.filter(|h| !self.figure.holders.contains(h)) {
                self.figure.holders.push(h);
            }
            format!(
                "{} holds matching files; the hit goes back to {}, where its Query came from",
                label(d.from),
                label(d.to)
            )
        } else {
            format!(
                "reverse path: {} got the Query from {}, so the hit from {holder_label} goes there",
                label(d.from),
                label(d.to)
            )
        };
        (summary, why, Role::Answer)
    }

    fn summary(&self, messages: &[TracedMessage], hits: usize) -> Vec<String> {
        let f = &self.figure;
        let queries = messages
            .iter()
            .filter(|m| m.kind == Kind::Query.name())
            .count();
        let dups = messages
            .iter()
            .filter(|m| m.role == Role::Duplicate)
            .count();
        let reached = f.hop.iter().filter(|h| h.is_some_and(|h| h > 0)).count();
        let deepest = f.hop.iter().flatten().max().copied().unwrap_or(0);
        let per_hop: Vec<String> = (1..=deepest)
            .map(|h| {
                let n = f.hop.iter().filter(|x| **x == Some(h)).count();
                format!("hop {h}: {n}")
            })
            .collect();
        vec![
            format!(
                "{queries} Query messages ({dups} of them duplicates, dropped) and {} QueryHit \
                 messages for {hits} hits.",
                f.hit_links.len()
            ),
            format!(
                "The flood reached {reached} of the other {} servents ({}).",
                f.hop.len() - 1,
                per_hop.join(", ")
            ),
            format!(
                "{} servents lie beyond the TTL horizon: the flood never asks them.",
                f.hop.len() - 1 - reached
            ),
        ]
    }
}

/// The fields of a Gnutella descriptor, for [`crate::hexdump`].
pub fn fields(bytes: &[u8]) -> Vec<Field> {
    let mut f = Fields::new();
    let Ok((d, _)) = Descriptor::decode(bytes) else {
        return f.finish();
    };
    f.add(16, "descriptor ID (GUID): random, the same on every copy");
    f.add(
        1,
        format!(
            "payload type {:#04x} = {}",
            d.payload.code(),
            d.kind().name()
        ),
    );
    f.add(1, format!("TTL {}: hops it may still travel", d.ttl));
    f.add(1, format!("hops {}: hops travelled so far", d.hops));
    f.add(
        4,
        format!("payload length {}, u32 little-endian", d.payload.len()),
    );
    match &d.payload {
        Payload::Query(q) => {
            f.add(2, q.speed.to_string());
            f.add(
                q.criteria.len() + 1,
                format!("search criteria {:?}, NUL-terminated", q.text()),
            );
        }
        Payload::QueryHit(h) => hit_fields(&mut f, bytes, h),
        _ => {}
    }
    f.finish()
}

fn hit_fields(f: &mut Fields, bytes: &[u8], h: &p2plab_gnutella::QueryHit) {
    f.add(1, format!("number of hits {}", h.results.len()));
    f.add(2, format!("port {}, u16 little-endian", h.port));
    f.add(4, format!("IP {}, big-endian (network order)", h.ip));
    f.add(4, format!("speed {} kbit/s, u32 LE", h.speed));
    for r in &h.results {
        f.add(4, format!("file index {}, u32 LE", r.index));
        f.add(4, format!("file size {}, u32 LE", r.size));
        let name_end = f.offset() + r.name.len();
        let name = ascii(bytes.get(f.offset()..name_end).unwrap_or_default());
        f.add(r.name.len() + 1, format!("file name {name:?}, NUL"));
        let extension = if r.extra.is_empty() {
            "extension (none), NUL".to_owned()
        } else {
            format!("extension {:?} (HUGE), NUL", ascii(&r.extra))
        };
        f.add(r.extra.len() + 1, extension);
    }
    if !h.trailer.is_empty() {
        let vendor = ascii(h.trailer.get(..4).unwrap_or_default());
        f.add(h.trailer.len(), format!("trailer (QHD), vendor {vendor:?}"));
    }
    f.add(16, format!("servent ID {}", hex_id(&h.servent_id)));
}

fn hex_id(id: &Guid) -> String {
    id.0.iter().map(|b| format!("{b:02x}")).collect()
}
