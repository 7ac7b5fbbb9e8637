//! Napster: one search, one round trip to the index.
//!
//! The trace starts a server and `nodes` peers, each sharing two pieces of the
//! [`catalogue`](crate::catalogue), records from the very start (so the logins and shares
//! that filled the index are in the recording too), and lets peer 1 search. The search is a
//! 200 to the server; the answer is one 201 per matching file the index holds and a 202 —
//! the holders themselves never hear of it.

use std::sync::Arc;
use std::time::Duration;

use p2plab_napster::{Kind, Message, NapsterNode, Peer, PeerConfig, Server, ServerConfig};
use p2plab_netsim::{Latency, NodeIdx, TestNet};
use p2plab_peer_protocol::{Holder, Instant, MessageKind, WireMessage};

use crate::catalogue;
use crate::decode::{decode_all, Decoded};
use crate::harness::{count_kinds, describe_counts, run_search, samples};
use crate::hexdump::{ascii, Field, Fields};
use crate::model::{Figure, Role, Star, Trace, TraceError, TracedMessage};
use crate::{TraceConfig, LINK_LATENCY};

/// How long the peers get to log in and share before the search is given, at the least; the
/// trace looks again after each such wait until every peer is in.
pub const SETTLE: Duration = Duration::from_secs(1);

/// The longest the peers may take to log in. The server turns away the part of a burst of
/// logins beyond [`p2plab_napster::MAX_PENDING_LOGINS`], and those peers retry after a random
/// delay of a few seconds, so even a trace's largest network is in within seconds; a minute
/// means something else is wrong.
pub const LOGIN_LIMIT: Duration = Duration::from_secs(60);

/// The data port peers announce (only its place in the login matters here).
const DATA_PORT: u16 = 6699;

/// The nick of the peer at node index `idx` (node 0 is the server).
pub fn nick(idx: NodeIdx) -> String {
    format!("peer{idx}")
}

/// Runs the trace.
///
/// # Errors
/// [`TraceError::Unsettled`] if a peer did not log in, [`TraceError::NoAnswer`] if the
/// search did not finish.
pub fn trace(config: &TraceConfig) -> Result<Trace, TraceError> {
    let mut net = TestNet::new(Latency::Constant(LINK_LATENCY), config.seed);
    net.record();
    let server = net.add(NapsterNode::from(Server::new(ServerConfig::default())));
    let addr = net.addr(server);
    let peers: Vec<NodeIdx> = (1..=config.nodes)
        .map(|i| {
            let library = Arc::new(catalogue::library(i, config.seed));
            net.add(Peer::new(PeerConfig::new(addr, &nick(i), DATA_PORT, library)).into())
        })
        .collect();
    let deadline = net.now() + LOGIN_LIMIT;
    loop {
        net.run_for(SETTLE);
        let offline = peers
            .iter()
            .filter(|&&p| net.node(p).as_peer().is_some_and(|p| !p.is_online()))
            .count();
        if offline == 0 {
            break;
        }
        if net.now() >= deadline {
            return Err(TraceError::Unsettled(format!(
                "{offline} peers not logged in after {} s",
                LOGIN_LIMIT.as_secs()
            )));
        }
    }
    let origin = peers[0];
    let (start, hits) = run_search(&mut net, origin, &config.query)?;
    let (decoded, _) = decode_all::<Message>(&net.take_trace());
    let (before, during): (Vec<_>, Vec<_>) = decoded.into_iter().partition(|d| d.sent < start);
    let messages: Vec<TracedMessage> = during.iter().map(|d| explain(d, start)).collect();
    let holders = holders(&hits);
    let results = messages
        .iter()
        .filter(|m| m.kind == Kind::SearchResult.name())
        .count();
    let mut labels = vec!["server".to_owned()];
    labels.extend(peers.iter().map(|&p| nick(p)));
    let setup = vec![
        format!(
            "1 index server and {} peers; every peer logged in and told the server its files.",
            peers.len()
        ),
        format!(
            "Before the search: {}.",
            describe_counts(&count_kinds(&before))
        ),
    ];
    let summary = summary(&messages, &hits, results, peers.len());
    let mut all = before;
    all.extend(during);
    Ok(Trace {
        network: config.network,
        title: format!(
            "napster: 1 server, {} peers, seed {}, query {:?}",
            peers.len(),
            config.seed,
            config.query
        ),
        setup,
        labels,
        origin,
        query: config.query.clone(),
        messages,
        background: Default::default(),
        samples: samples(&all),
        hits,
        summary,
        figure: Figure::Star(Star {
            server,
            peers,
            holders,
            results,
        }),
    })
}

/// The node indices of the holders the hits name (nicks are `peer<index>`).
fn holders(hits: &[p2plab_peer_protocol::Hit]) -> Vec<NodeIdx> {
    let mut out: Vec<NodeIdx> = hits
        .iter()
        .filter_map(|h| match &h.holder {
            Holder::Napster { nick, .. } => nick.strip_prefix("peer")?.parse().ok(),
            Holder::Http { .. } => None,
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn summary(
    messages: &[TracedMessage],
    hits: &[p2plab_peer_protocol::Hit],
    results: usize,
    peers: usize,
) -> Vec<String> {
    let last = messages.last().map_or(Duration::ZERO, |m| m.delivered);
    vec![
        format!(
            "{} messages in all: 1 search, {results} results, 1 end — one round trip, {} ms.",
            messages.len(),
            last.as_millis()
        ),
        format!(
            "{} hits; the server answered from its index alone: none of the other {} peers \
             saw a byte of this search.",
            hits.len(),
            peers - 1
        ),
        "Every search in the network goes through the one server: if it stops, all search \
         stops."
            .to_owned(),
    ]
}

fn explain(d: &Decoded<Message>, start: Instant) -> TracedMessage {
    let (summary, why, role) = match &d.msg {
        Message::Search(req) => (
            format!("200 search {}", req.contains.join(" ")),
            "the peer asks the central index: the only question a Napster search needs".to_owned(),
            Role::Ask,
        ),
        Message::SearchResult(r) => (
            format!("201 \"{}\" {} bytes, {}", r.file.name, r.file.size, r.nick),
            format!(
                "the index lists this file for {}; the server answers from memory, {} is not asked",
                r.nick, r.nick
            ),
            Role::Answer,
        ),
        Message::SearchEnd => (
            "202 end of results".to_owned(),
            "no more results: the search is over after one round trip".to_owned(),
            Role::Answer,
        ),
        other => (
            format!("{} {}", other.type_number(), other.data()),
            "not part of the search".to_owned(),
            Role::Answer,
        ),
    };
    d.traced(start, d.msg.kind().name(), (summary, why, role))
}

/// The fields of a Napster message, for [`crate::hexdump`]: `<len:u16 LE><type:u16 LE><data>`.
pub fn fields(bytes: &[u8]) -> Vec<Field> {
    let mut f = Fields::new();
    let Ok((msg, _)) = Message::decode(bytes) else {
        return f.finish();
    };
    let len = bytes.len().saturating_sub(4);
    f.add(2, format!("length {len}, u16 little-endian: bytes of data"));
    f.add(
        2,
        format!(
            "type {}, u16 little-endian: {}",
            msg.type_number(),
            msg.kind().name()
        ),
    );
    f.add(len, format!("data, ASCII: {}", ascii(&bytes[4..])));
    f.finish()
}
