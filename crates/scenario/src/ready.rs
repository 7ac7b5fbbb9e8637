//! When is a network ready to be asked? Each answers differently, and the timeline waits
//! for the real condition (read from the nodes), never for a guessed delay:
//!
//! - **Napster**: the index server lists every live peer as a user and every shared copy
//!   as a file (peers log in and send their 100s asynchronously).
//! - **Gnutella**: every live servent has at least one neighbour.
//! - **Chord**: the ring is exact: sorted by id, every live node's first successor is the
//!   next live node, and the nodes together store at least `replicas` copies of every key
//!   the live peers' files are filed under (entries are published after a join completes).
//!
//! An engine reads what the condition needs into a [`Census`]; [`missing`] judges it, for
//! both engines alike.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use p2plab_chord::RingView;
use p2plab_peer_protocol::keywords::{normalize_name, words};

use crate::plan::Plan;

/// How many misplaced successors a readiness report describes.
const MISPLACED_EXAMPLES: usize = 3;

/// How often readiness is checked, at the least.
const POLL: Duration = Duration::from_millis(100);

/// How much longer the pause between checks is per node: a check reads every node's
/// stats (a Chord node's ring view is kilobytes), and polling a thousand nodes ten times a
/// second would take the very CPU the network needs to get ready.
const POLL_PER_NODE: Duration = Duration::from_millis(1);

/// The pause between two readiness checks of a network of `nodes` peers.
pub fn poll_interval(nodes: usize) -> Duration {
    POLL + POLL_PER_NODE * nodes.min(crate::spec::MAX_NODES) as u32
}

/// What a network's readiness condition is judged on, as an engine read it.
#[derive(Debug, Clone)]
pub enum Census {
    /// Napster: the users and files the index server lists; `None` if there is no server
    /// (or it did not answer): then there is nothing to wait for.
    Napster(Option<(u64, u64)>),
    /// Gnutella: servents without a neighbour, and live servents that did not answer.
    Gnutella {
        /// Servents that answered with no neighbour.
        alone: usize,
        /// Live servents that did not answer.
        silent: usize,
    },
    /// Chord: the ring as each live node that answered sees it.
    Chord(Vec<RingView>),
}

/// What the network still lacks before it is ready, or `None` when it is ready: `live`
/// are the peers up, `replicas` the copies of each Chord index entry.
pub fn missing(census: &Census, plan: &Plan, live: &[usize], replicas: usize) -> Option<String> {
    match census {
        Census::Napster(None) => None,
        Census::Napster(Some((users, files))) => {
            (!index_is_full(plan, live, *users, *files)).then(|| {
                format!(
                    "the index lists {users} of {} users, {files} files",
                    live.len()
                )
            })
        }
        Census::Gnutella { alone, silent } => (*alone > 0)
            .then(|| format!("{alone} servents without a neighbour ({silent} not answering)")),
        Census::Chord(views) => chord_missing(views, plan, live, replicas),
    }
}

/// Napster's condition: the index server lists every live peer as a user and every copy
/// they share as a file.
pub fn index_is_full(plan: &Plan, live: &[usize], users: u64, files: u64) -> bool {
    let copies: usize = live.iter().map(|&i| plan.libraries[i].len()).sum();
    users == live.len() as u64 && files == copies as u64
}

fn chord_missing(
    views: &[RingView],
    plan: &Plan,
    live: &[usize],
    replicas: usize,
) -> Option<String> {
    if ring_is_complete(views, plan, live, replicas) {
        return None;
    }
    let stored: usize = views.iter().map(|v| v.stored_keys).sum();
    let wanted = published_keys(plan, live) * replicas.min(views.len());
    let wrong = wrong_successors(views);
    let examples = if wrong > 0 {
        format!(" ({})", misplaced_examples(views))
    } else {
        String::new()
    };
    Some(format!(
        "{} of {} nodes answered, {wrong} successors wrong{examples}, {stored} of {wanted} key copies stored",
        views.len(),
        live.len(),
    ))
}

/// Chord's condition, on the live nodes' views: the ring is exact and the nodes together
/// store at least `replicas` copies of every key the live peers' files are filed under.
pub fn ring_is_complete(views: &[RingView], plan: &Plan, live: &[usize], replicas: usize) -> bool {
    let stored: usize = views.iter().map(|v| v.stored_keys).sum();
    let wanted = published_keys(plan, live) * replicas.min(views.len());
    ring_is_exact(views, live.len()) && stored >= wanted
}

/// The distinct keys the live peers' files are filed under: each file's name and each word
/// of it (see `p2plab_chord`'s index).
fn published_keys(plan: &Plan, live: &[usize]) -> usize {
    let mut keys = std::collections::HashSet::new();
    for &i in live {
        for &f in &plan.libraries[i] {
            let name = &plan.files[f].name;
            keys.insert(normalize_name(name));
            keys.extend(words(name));
        }
    }
    keys.len()
}

/// True when every node's first successor is the next node by id, and all `expected`
/// nodes answered.
pub fn ring_is_exact(views: &[RingView], expected: usize) -> bool {
    views.len() == expected && !views.is_empty() && wrong_successors(views) == 0
}

/// How many of the nodes' first successors are not the next node by id among `views`.
fn wrong_successors(views: &[RingView]) -> usize {
    misplaced(views).count()
}

/// The nodes whose first successor is not the next node by id among `views`, each with
/// the node it should be.
fn misplaced(views: &[RingView]) -> impl Iterator<Item = (&RingView, SocketAddr)> {
    let mut order: Vec<(&str, SocketAddr)> = views
        .iter()
        .map(|v| (v.node.id.as_str(), v.node.addr))
        .collect();
    // Ids of one ring have the same width, so text order is numeric order for hex; decimal
    // ids (small teaching rings) are compared by length first.
    order.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then(a.0.cmp(b.0)));
    let next: HashMap<_, _> = order
        .iter()
        .zip(order.iter().cycle().skip(1))
        .map(|(a, b)| (a.1, b.1))
        .collect();
    views.iter().filter_map(move |v| {
        let should = *next.get(&v.node.addr)?;
        (v.successors.first().map(|s| s.addr) != Some(should)).then_some((v, should))
    })
}

/// A few misplaced successors in words, to tell a ring that is still forming (many) from
/// one stuck on a few nodes: whose successor is wrong, what it should be, and what that
/// node takes for its predecessor.
fn misplaced_examples(views: &[RingView]) -> String {
    let by_addr: HashMap<SocketAddr, &RingView> = views.iter().map(|v| (v.node.addr, v)).collect();
    misplaced(views)
        .take(MISPLACED_EXAMPLES)
        .map(|(v, should)| {
            let has = v
                .successors
                .first()
                .map_or("none".to_owned(), |s| s.addr.to_string());
            let its_pred = by_addr
                .get(&should)
                .and_then(|s| s.predecessor.as_ref())
                .map_or("none".to_owned(), |p| p.addr.to_string());
            format!(
                "{}'s successor is {has}, not {should} (whose predecessor is {its_pred})",
                v.node.addr
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use p2plab_chord::ring::PeerView;

    fn peer(id: u64) -> PeerView {
        PeerView {
            id: id.to_string(),
            addr: SocketAddr::from(([127, 0, 0, 1], 7000 + id as u16)),
        }
    }

    /// Node `id` with successor `succ` and predecessor `pred`.
    fn view(id: u64, succ: u64, pred: u64) -> RingView {
        RingView {
            id_bits: 8,
            node: peer(id),
            predecessor: Some(peer(pred)),
            successors: vec![peer(succ)],
            fingers: Vec::new(),
            stored_keys: 0,
        }
    }

    #[test]
    fn an_exact_ring_has_no_misplaced_successor() {
        let views = [view(10, 20, 30), view(20, 30, 10), view(30, 10, 20)];
        assert!(ring_is_exact(&views, 3));
        assert!(!ring_is_exact(&views, 4), "a node that did not answer");
    }

    #[test]
    fn a_skipped_node_is_named_with_the_view_of_its_successor() {
        // 10 skips 20; 20 joined but 30 still takes 10 for its predecessor.
        let views = [view(10, 30, 30), view(20, 30, 10), view(30, 10, 10)];
        assert!(!ring_is_exact(&views, 3));
        assert_eq!(wrong_successors(&views), 1);
        assert_eq!(
            misplaced_examples(&views),
            "127.0.0.1:7010's successor is 127.0.0.1:7030, not 127.0.0.1:7020 \
             (whose predecessor is 127.0.0.1:7010)"
        );
    }
}
