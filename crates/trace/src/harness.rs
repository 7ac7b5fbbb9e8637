//! What every network's trace does the same way: run the search, pick sample messages, sort
//! the recording into the search's messages and the rest.

use std::collections::BTreeMap;

use p2plab_netsim::{NodeIdx, TestNet};
use p2plab_peer_protocol::{
    Command, Event, Hit, Instant, MessageKind, Node, RequestId, WireMessage,
};

use crate::decode::Decoded;
use crate::model::{Sample, TraceError};
use crate::SEARCH_LIMIT;

/// Gives `origin` the search command and runs until it reports the result. Returns when the
/// command was given, and the hits.
pub fn run_search<N: Node>(
    net: &mut TestNet<N>,
    origin: NodeIdx,
    query: &str,
) -> Result<(Instant, Vec<Hit>), TraceError> {
    let start = net.now();
    let request = RequestId(1);
    net.command(
        origin,
        Command::Search {
            request,
            query: query.to_owned(),
        },
    );
    let mut result = None;
    net.run_until_cond(SEARCH_LIMIT, |net| {
        for event in net.take_events(origin) {
            if let Event::SearchDone { result: r, .. } = event {
                result = Some(r);
            }
        }
        result.is_some()
    });
    match result {
        Some(Ok(hits)) => Ok((start, hits)),
        Some(Err(e)) => Err(TraceError::NoAnswer(e.to_string())),
        None => Err(TraceError::NoAnswer(format!(
            "no answer within {} s",
            SEARCH_LIMIT.as_secs()
        ))),
    }
}

/// The first message of every kind in `msgs`.
pub fn samples<M: WireMessage>(msgs: &[Decoded<M>]) -> Vec<Sample> {
    let mut out: Vec<Sample> = Vec::new();
    for d in msgs {
        let kind = d.msg.kind().name();
        if out.iter().all(|s| s.kind != kind) {
            out.push(Sample {
                kind,
                from: d.from,
                to: d.to,
                bytes: d.bytes.clone(),
            });
        }
    }
    out
}

/// Counts messages by kind.
pub fn count_kinds<'a, M: WireMessage + 'a>(
    msgs: impl IntoIterator<Item = &'a Decoded<M>>,
) -> BTreeMap<&'static str, u64> {
    let mut counts = BTreeMap::new();
    for d in msgs {
        *counts.entry(d.msg.kind().name()).or_default() += 1;
    }
    counts
}

/// "3 login, 3 login_ack" — a count map as a phrase.
pub fn describe_counts(counts: &BTreeMap<&'static str, u64>) -> String {
    if counts.is_empty() {
        return "none".to_owned();
    }
    counts
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}
