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
//! both engines alike. A network that is not ready says why in the nodes' own words too:
//! the census carries the problems nodes report (an index server or a bootstrap they cannot
//! reach, with the reason), and a few of them are quoted.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use p2plab_chord::RingView;
use p2plab_peer_protocol::keywords::{normalize_name, words};
use p2plab_peer_protocol::reach::Problem;

use crate::plan::Plan;

/// How many misplaced successors a readiness report describes.
const MISPLACED_EXAMPLES: usize = 3;

/// How many nodes' problems a readiness report quotes: enough to show whether they agree
/// (every peer refused by one server) or differ.
const PROBLEM_EXAMPLES: usize = 2;

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

/// What a network's readiness is judged on, as an engine read it: the condition's facts
/// and the problems the nodes report.
#[derive(Debug, Clone)]
pub struct Census {
    /// What the network's condition needs.
    pub condition: Condition,
    /// The problems the live nodes report.
    pub problems: Problems,
}

/// The problems nodes report while they cannot reach their network: how many nodes, and
/// the first few, each with its node's address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems {
    /// Nodes that report a problem.
    pub count: usize,
    /// The first [`PROBLEM_EXAMPLES`] of them, in words.
    pub examples: Vec<(SocketAddr, String)>,
}

impl Problems {
    /// The problems among `nodes`' reports (a node with none is left out).
    pub fn of<'a>(nodes: impl IntoIterator<Item = (SocketAddr, Option<&'a Problem>)>) -> Self {
        let mut problems = Problems::default();
        for (addr, problem) in nodes {
            let Some(problem) = problem else { continue };
            problems.count += 1;
            if problems.examples.len() < PROBLEM_EXAMPLES {
                problems.examples.push((addr, problem.to_string()));
            }
        }
        problems
    }

    /// `"; N nodes report a problem, e.g. ADDR: TEXT; ADDR: TEXT"`, or nothing if none does.
    fn quoted(&self) -> String {
        if self.count == 0 {
            return String::new();
        }
        let examples: Vec<String> = self
            .examples
            .iter()
            .map(|(addr, text)| format!("{addr}: {text}"))
            .collect();
        let nodes = if self.count == 1 {
            "node reports"
        } else {
            "nodes report"
        };
        format!(
            "; {} {nodes} a problem, e.g. {}",
            self.count,
            examples.join("; ")
        )
    }
}

/// What a network's readiness condition is judged on.
#[derive(Debug, Clone)]
pub enum Condition {
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
    let lacking = match &census.condition {
        Condition::Napster(None) => None,
        Condition::Napster(Some((users, files))) => (!index_is_full(plan, live, *users, *files))
            .then(|| {
                format!(
                    "the index lists {users} of {} users, {files} files",
                    live.len()
                )
            }),
        Condition::Gnutella { alone, silent } => (*alone > 0)
            .then(|| format!("{alone} servents without a neighbour ({silent} not answering)")),
        Condition::Chord(views) => chord_missing(views, plan, live, replicas),
    };
    lacking.map(|what| what + &census.problems.quoted())
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
    fn a_network_not_ready_quotes_the_first_problems_its_nodes_report() {
        use p2plab_peer_protocol::reach::Failure;
        use p2plab_peer_protocol::{CloseReason, Instant};

        let server = SocketAddr::from(([127, 0, 0, 1], 8888));
        let refused = Problem::one(
            "index server",
            server,
            Failure::Closed(CloseReason::Refused),
            Instant::ZERO,
        );
        let nodes = (0..3u16).map(|i| {
            let addr = SocketAddr::from(([127, 0, 0, 1], 7000 + i));
            (addr, (i != 1).then_some(&refused))
        });
        let problems = Problems::of(nodes);
        assert_eq!(problems.count, 2);
        let census = Census {
            condition: Condition::Gnutella {
                alone: 3,
                silent: 0,
            },
            problems,
        };
        let files = crate::spec::FilesSpec {
            count: 3,
            copies: 1,
            min_size: 10,
            max_size: 10,
        };
        let plan = Plan::new(1, 3, &files);
        let text = missing(&census, &plan, &[0, 1, 2], 1).expect("not ready");
        assert_eq!(
            text,
            format!(
                "3 servents without a neighbour (0 not answering); 2 nodes report a problem, \
                 e.g. 127.0.0.1:7000: {refused}; 127.0.0.1:7002: {refused}"
            )
        );
        assert!(
            text.contains("cannot reach index server 127.0.0.1:8888"),
            "{text}"
        );
        let ready = Census {
            condition: Condition::Gnutella {
                alone: 0,
                silent: 0,
            },
            problems: census.problems,
        };
        assert_eq!(
            missing(&ready, &plan, &[0, 1, 2], 1),
            None,
            "ready is ready"
        );
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
