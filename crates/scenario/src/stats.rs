//! Traffic over a phase: every node's counters before and after, and their difference.
//!
//! A phase's traffic is the sum, over the nodes that were up both before and after it, of
//! what each sent during the phase (a message is sent once and received once; counting the
//! sending side counts it once). A node's *load* is what it sent plus what it received: the
//! share of all messages that passed through it.
//!
//! The messages are also split by cause (see [`p2plab_peer_protocol::Metrics`]): those the
//! nodes charged to searches, those they charged to fetches, and upkeep, the rest. A charge
//! and the message it is for are counted by different nodes when a requester charges a
//! reply, so a node that dies during a phase can take a charge along while the message
//! stays counted (or the other way round): upkeep is then off by those few messages, and
//! never goes below zero.

use std::collections::BTreeMap;

use p2plab_peer_protocol::control::NodeStats;
use p2plab_peer_protocol::Traffic;

use crate::overlay::Reported;

/// Each node's counters at one moment, by node address.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    nodes: BTreeMap<String, Counters>,
    /// What the Gnutella servents among them tell of the overlay and of late hits.
    pub gnutella: Reported,
}

/// The few numbers of a node's metrics a phase needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Messages sent.
    pub sent: u64,
    /// Bytes sent.
    pub bytes: u64,
    /// Messages received.
    pub received: u64,
    /// Messages sent, by kind.
    pub sent_by_kind: BTreeMap<String, u64>,
    /// Messages (and bytes) the node charged to searches.
    pub search: Traffic,
    /// Messages (and bytes) the node charged to fetches.
    pub fetch: Traffic,
}

impl Snapshot {
    /// Builds a snapshot from stats already read.
    pub fn from_stats(stats: &[NodeStats]) -> Snapshot {
        let nodes = stats
            .iter()
            .map(|s| {
                let sent = s.metrics.total_sent();
                let counters = Counters {
                    sent: sent.messages,
                    bytes: sent.bytes,
                    received: s.metrics.total_received().messages,
                    sent_by_kind: s
                        .metrics
                        .sent
                        .iter()
                        .map(|(kind, t)| (kind.to_owned(), t.messages))
                        .collect(),
                    search: s.metrics.search,
                    fetch: s.metrics.fetch,
                };
                (format!("{} {}", s.kind, s.addr), counters)
            })
            .collect();
        Snapshot {
            nodes,
            gnutella: Reported::from_stats(stats),
        }
    }

    /// A snapshot of the same nodes with every counter at zero: the state before a node
    /// started.
    pub fn zero_like(after: &Snapshot) -> Snapshot {
        let nodes = after
            .nodes
            .keys()
            .map(|k| (k.clone(), Counters::default()))
            .collect();
        Snapshot {
            nodes,
            ..Snapshot::default()
        }
    }

    /// What happened between `self` (before) and `after`.
    pub fn delta(&self, after: &Snapshot) -> Delta {
        let mut d = Delta::default();
        let zero = Counters::default();
        for (node, a) in &after.nodes {
            // A node that started during the phase counts from zero. One that died during
            // it took its counters along: its messages are missing from the sum.
            let b = self.nodes.get(node).unwrap_or(&zero);
            let sent = a.sent.saturating_sub(b.sent);
            let load = sent + a.received.saturating_sub(b.received);
            d.messages += sent;
            d.bytes += a.bytes.saturating_sub(b.bytes);
            d.search = plus(d.search, minus(a.search, b.search));
            d.fetch = plus(d.fetch, minus(a.fetch, b.fetch));
            for (kind, n) in &a.sent_by_kind {
                let n = n.saturating_sub(b.sent_by_kind.get(kind).copied().unwrap_or(0));
                if n > 0 {
                    *d.by_kind.entry(kind.clone()).or_default() += n;
                }
            }
            d.nodes += 1;
            if load > d.busiest_load {
                d.busiest_load = load;
                d.busiest = node.clone();
            }
        }
        d
    }
}

fn plus(a: Traffic, b: Traffic) -> Traffic {
    Traffic {
        messages: a.messages + b.messages,
        bytes: a.bytes + b.bytes,
    }
}

fn minus(a: Traffic, b: Traffic) -> Traffic {
    Traffic {
        messages: a.messages.saturating_sub(b.messages),
        bytes: a.bytes.saturating_sub(b.bytes),
    }
}

/// Traffic during a phase.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delta {
    /// Messages sent, all nodes, whatever their cause.
    pub messages: u64,
    /// Those messages by kind.
    pub by_kind: BTreeMap<String, u64>,
    /// Bytes sent, all nodes.
    pub bytes: u64,
    /// Of those, what searches caused.
    pub search: Traffic,
    /// Of those, what fetches (downloads) caused.
    pub fetch: Traffic,
    /// Nodes counted (up at the end of the phase).
    pub nodes: u64,
    /// The node that sent plus received the most.
    pub busiest: String,
    /// Its messages sent plus received.
    pub busiest_load: u64,
}

impl Delta {
    /// Upkeep: every message sent that no search or fetch was charged, and its bytes.
    pub fn upkeep(&self) -> Traffic {
        minus(
            Traffic {
                messages: self.messages,
                bytes: self.bytes,
            },
            plus(self.search, self.fetch),
        )
    }

    /// The busiest node's share of all messages: 1.0 when every message came from or went
    /// to it (a central server), about 2/N when load is spread evenly.
    /// Capped at 1.0: under churn the busiest node also counts messages from peers that
    /// died before the phase ended, whose own counters are gone.
    pub fn busiest_share(&self) -> Option<f64> {
        (self.messages > 0).then(|| (self.busiest_load as f64 / self.messages as f64).min(1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nodes whose messages sent are all of one kind, "ping".
    fn snap(entries: &[(&str, u64, u64, u64)]) -> Snapshot {
        Snapshot {
            nodes: entries
                .iter()
                .map(|&(n, sent, bytes, received)| {
                    (
                        n.to_owned(),
                        Counters {
                            sent,
                            bytes,
                            received,
                            sent_by_kind: BTreeMap::from([("ping".to_owned(), sent)]),
                            ..Counters::default()
                        },
                    )
                })
                .collect(),
            ..Snapshot::default()
        }
    }

    #[test]
    fn delta_counts_nodes_up_at_the_end() {
        // The server talks to a and b, and to "new", which joined during the phase (counted
        // from zero) and sent 9; "gone" died and took its counters along.
        let before = snap(&[
            ("server", 10, 100, 10),
            ("a", 5, 50, 5),
            ("b", 0, 0, 0),
            ("gone", 1, 1, 1),
        ]);
        let after = snap(&[
            ("server", 24, 240, 26),
            ("a", 17, 170, 15),
            ("b", 4, 40, 4),
            ("new", 9, 9, 9),
        ]);
        let d = before.delta(&after);
        assert_eq!(d.messages, 39);
        assert_eq!(d.by_kind, BTreeMap::from([("ping".to_owned(), 39)]));
        assert_eq!(d.bytes, 309);
        assert_eq!(d.nodes, 4);
        assert_eq!(d.busiest, "server");
        assert_eq!(d.busiest_load, 30);
        assert_eq!(d.busiest_share(), Some(30.0 / 39.0));
    }

    #[test]
    fn delta_splits_messages_by_kind() {
        let counters = |kinds: &[(&str, u64)]| Counters {
            sent: kinds.iter().map(|(_, n)| n).sum(),
            sent_by_kind: kinds.iter().map(|&(k, n)| (k.to_owned(), n)).collect(),
            ..Counters::default()
        };
        let before = Snapshot {
            nodes: BTreeMap::from([("a".to_owned(), counters(&[("store", 4)]))]),
            ..Snapshot::default()
        };
        let after = Snapshot {
            nodes: BTreeMap::from([("a".to_owned(), counters(&[("store", 10), ("notify", 2)]))]),
            ..Snapshot::default()
        };
        let d = before.delta(&after);
        assert_eq!(d.messages, 8);
        assert_eq!(
            d.by_kind,
            BTreeMap::from([("notify".to_owned(), 2), ("store".to_owned(), 6)])
        );
    }

    #[test]
    fn upkeep_is_what_no_search_or_fetch_was_charged() {
        let t = |messages, bytes| Traffic { messages, bytes };
        let node = |sent, bytes, search, fetch| Counters {
            sent,
            bytes,
            search,
            fetch,
            ..Counters::default()
        };
        // The searcher charged more than it sent (the replies it took); the server charged
        // nothing it did not send; a fetch ran.
        let before = Snapshot {
            nodes: BTreeMap::from([
                ("searcher".to_owned(), node(2, 20, t(1, 10), t(0, 0))),
                ("server".to_owned(), node(10, 100, t(0, 0), t(0, 0))),
            ]),
            ..Snapshot::default()
        };
        let after = Snapshot {
            nodes: BTreeMap::from([
                ("searcher".to_owned(), node(6, 60, t(9, 90), t(1, 7))),
                ("server".to_owned(), node(30, 300, t(2, 20), t(1, 9))),
            ]),
            ..Snapshot::default()
        };
        let d = before.delta(&after);
        assert_eq!((d.messages, d.bytes), (24, 240));
        assert_eq!(d.search, t(10, 100));
        assert_eq!(d.fetch, t(2, 16));
        assert_eq!(d.upkeep(), t(12, 124));
        let sum = plus(plus(d.search, d.fetch), d.upkeep());
        assert_eq!((sum.messages, sum.bytes), (d.messages, d.bytes));
    }

    #[test]
    fn the_share_never_exceeds_one() {
        // The server heard from a peer that died before the phase ended.
        let before = snap(&[("server", 0, 0, 0), ("gone", 0, 0, 0)]);
        let after = snap(&[("server", 5, 50, 10)]);
        assert_eq!(before.delta(&after).busiest_share(), Some(1.0));
    }

    #[test]
    fn no_traffic_no_share() {
        assert_eq!(
            Snapshot::default()
                .delta(&Snapshot::default())
                .busiest_share(),
            None
        );
    }
}
