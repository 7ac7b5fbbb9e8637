//! Counters every node keeps: messages and bytes, in and out, by message kind, and the hops
//! and latency of the lookups it started. The runner reads them through the control protocol's
//! `stats` command and sums them over a network.
//!
//! # Cost by cause
//!
//! Every message is sent for one of three [`Cause`]s: a user's search, a fetch (a download,
//! and what it takes to start one), or upkeep (what keeps the network together: pings,
//! keep-alives, stabilization, re-publication). Searches and fetches are *charged*: a node
//! adds a message to [`Metrics::search`] or [`Metrics::fetch`]; upkeep is what is left, so
//! over a whole network
//!
//! ```text
//! upkeep = all messages sent − search − fetch        (and the same for bytes)
//! ```
//!
//! Each message is charged once, by the one node that knows why it was sent:
//!
//! - **The sender, by kind**, when the kind alone says why ([`MessageKind::cause`]): a
//!   Gnutella Query or QueryHit, sent or relayed, always serves a search and a Push always a
//!   download; a Napster search, its results and their end serve a search, a download
//!   request and its answer a fetch. [`Outbox::send_message`](crate::Outbox::send_message)
//!   charges these.
//! - **The requester, on receipt**, for a reply whose sender cannot know why it was asked: a
//!   Chord node answering `find_successor` cannot tell a user's lookup from `fix_fingers`;
//!   the lookup's origin can, and charges both the request it sends and the reply it takes.
//! - **The origin, from the answer**, for messages it never sees: a Chord recursive lookup
//!   is forwarded hop by hop, and its answer reports how many nodes it passed; every
//!   forward is the same message (only its hop count differs, in a fixed-width field), so
//!   the origin charges that many forwards of the size it sent.
//!
//! A message a node cannot attribute (a reply that arrives after its request timed out, the
//! forwards of a recursive lookup that never answered) stays upkeep: the figures never
//! charge a search for what it cannot be shown to have caused.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Index;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smallvec::SmallVec;

/// Kinds a tally holds in place before it spills to the heap: every kind Gnutella and
/// Napster send, and those Chord's iterative lookups and upkeep use.
const KINDS_IN_PLACE: usize = 12;

/// A protocol's kinds of message, as metrics count them and reports name them.
///
/// Each protocol implements it on one enum, whose `name` is the one place each kind's name
/// is written: a node records a kind by its variant, and whoever reads the counts back (the
/// simulator, the tracer) names it the same way, so the two cannot drift apart.
pub trait MessageKind: Copy {
    /// The kind's name in metrics and reports, such as `"query"` or `"notify"`.
    fn name(self) -> &'static str;

    /// Why a message of this kind is sent, when the kind alone says so: a Gnutella query
    /// always serves a search. `None` (the default) when it does not — a Chord
    /// `find_successor` serves searches and ring upkeep alike — and the core then charges
    /// the message itself from the state it keeps (see the module doc).
    fn cause(self) -> Option<Cause> {
        None
    }
}

/// What a message was sent for (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// A user's search: a flood and its hits, a lookup's hops and its index read, a round
    /// trip to an index server.
    Search,
    /// A download: the request for a holder's address and its answer, a push.
    Fetch,
    /// Keeping the network together: never charged, the rest of all messages.
    Upkeep,
}

/// A count of messages and of the bytes they took on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Traffic {
    /// Messages.
    pub messages: u64,
    /// Bytes, headers included.
    pub bytes: u64,
}

impl Traffic {
    fn add(&mut self, bytes: usize) {
        self.messages += 1;
        self.bytes += bytes as u64;
    }
}

/// Counts by kind name (`"query"`, `"duplicate"`, ...), kept in name order; on the wire and
/// in JSON, a map from name to count.
///
/// A node bumps a handful of kinds millions of times, always naming them with the same
/// `&'static str` constants. So a bump first looks for the constant itself (the same
/// address), which costs no string comparison, and compares text only for a name it has
/// not seen by that address (as in a tally read back from JSON, whose names are owned).
#[derive(Debug, Clone, PartialEq)]
pub struct Tally<T> {
    entries: SmallVec<[Entry<T>; KINDS_IN_PLACE]>,
}

impl<T> Default for Tally<T> {
    fn default() -> Self {
        Tally {
            entries: SmallVec::new(),
        }
    }
}

impl<T: Default> Tally<T> {
    /// The count for `kind`, made (at zero) if it is new.
    fn entry(&mut self, kind: &'static str) -> &mut T {
        let same_constant = |k: &Cow<'static, str>| matches!(k, Cow::Borrowed(b) if std::ptr::eq(b.as_ptr(), kind.as_ptr()) && b.len() == kind.len());
        let i = match self.entries.iter().position(|(k, _)| same_constant(k)) {
            Some(i) => i,
            None => match self.entries.binary_search_by(|(k, _)| k.as_ref().cmp(kind)) {
                Ok(i) => i,
                Err(i) => {
                    self.entries.insert(i, (Cow::Borrowed(kind), T::default()));
                    i
                }
            },
        };
        &mut self.entries[i].1
    }
}

impl<T> Tally<T> {
    /// The count for a protocol's `kind`, if it was ever counted.
    pub fn of(&self, kind: impl MessageKind) -> Option<&T> {
        self.get(kind.name())
    }

    /// The count for the kind named `kind`, if it was ever counted.
    pub fn get(&self, kind: &str) -> Option<&T> {
        let i = self
            .entries
            .binary_search_by(|(k, _)| k.as_ref().cmp(kind))
            .ok()?;
        Some(&self.entries[i].1)
    }

    /// True if `kind` was ever counted.
    pub fn contains_key(&self, kind: &str) -> bool {
        self.get(kind).is_some()
    }

    /// Every kind with its count, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &T)> + '_ {
        self.into_iter()
    }

    /// The counts, in name order.
    pub fn values(&self) -> impl Iterator<Item = &T> + '_ {
        self.entries.iter().map(|(_, v)| v)
    }
}

impl<T> Index<&str> for Tally<T> {
    type Output = T;

    /// The count for `kind`.
    ///
    /// # Panics
    /// If `kind` was never counted.
    fn index(&self, kind: &str) -> &T {
        self.get(kind)
            .unwrap_or_else(|| panic!("no count for kind {kind:?}"))
    }
}

type Entry<T> = (Cow<'static, str>, T);

impl<'a, T> IntoIterator for &'a Tally<T> {
    type Item = (&'a str, &'a T);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, Entry<T>>, fn(&'a Entry<T>) -> Self::Item>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k.as_ref(), v))
    }
}

impl<T: Serialize> Serialize for Tally<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Tally<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, T>::deserialize(deserializer)?;
        let entries = map.into_iter().map(|(k, v)| (Cow::Owned(k), v)).collect();
        Ok(Tally { entries })
    }
}

/// One node's counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Messages received, by kind.
    pub received: Tally<Traffic>,
    /// Messages sent, by kind.
    pub sent: Tally<Traffic>,
    /// Lookups this node started and saw finish.
    pub lookups: u64,
    /// `hops[h]` = how many finished lookups took `h` overlay hops.
    pub hops: Vec<u64>,
    /// Sum of lookup latencies, in microseconds (mean = this / `lookups`).
    pub lookup_micros: u64,
    /// Messages dropped as malformed, duplicate, unroutable or over a limit, by reason.
    pub dropped: Tally<u64>,
    /// Messages this node charged to searches (see the module doc): its own and, for
    /// replies and forwards it alone can attribute, other nodes'. Only a network's sum
    /// means something; one node's may exceed what it sent.
    #[serde(default)]
    pub search: Traffic,
    /// Messages this node charged to fetches, on the same terms as [`Metrics::search`].
    #[serde(default)]
    pub fetch: Traffic,
}

impl Metrics {
    /// Counts one message of `kind` received.
    pub fn record_in(&mut self, kind: impl MessageKind, bytes: usize) {
        self.received.entry(kind.name()).add(bytes);
    }

    /// Counts one message of `kind` sent.
    pub fn record_out(&mut self, kind: impl MessageKind, bytes: usize) {
        self.sent.entry(kind.name()).add(bytes);
    }

    /// Charges one message of `bytes` to `cause` (upkeep is not charged: it is the rest).
    pub fn charge(&mut self, cause: Cause, bytes: usize) {
        match cause {
            Cause::Search => self.search.add(bytes),
            Cause::Fetch => self.fetch.add(bytes),
            Cause::Upkeep => {}
        }
    }

    /// Counts one message of `kind` sent, and charges it to the cause its kind names.
    pub fn record_sent_by_kind(&mut self, kind: impl MessageKind, bytes: usize) {
        self.record_out(kind, bytes);
        if let Some(cause) = kind.cause() {
            self.charge(cause, bytes);
        }
    }

    /// Counts one message dropped, and why.
    pub fn record_drop(&mut self, reason: &'static str) {
        *self.dropped.entry(reason) += 1;
    }

    /// Records a finished lookup.
    pub fn record_lookup(&mut self, hops: u32, latency: Duration) {
        self.lookups += 1;
        let h = hops as usize;
        if self.hops.len() <= h {
            self.hops.resize(h + 1, 0);
        }
        self.hops[h] += 1;
        self.lookup_micros += u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
    }

    /// All messages and bytes received.
    pub fn total_received(&self) -> Traffic {
        sum(&self.received)
    }

    /// All messages and bytes sent.
    pub fn total_sent(&self) -> Traffic {
        sum(&self.sent)
    }

    /// Mean hops over finished lookups, if any.
    pub fn mean_hops(&self) -> Option<f64> {
        let total: u64 = self.hops.iter().zip(0u64..).map(|(n, h)| h * n).sum();
        (self.lookups > 0).then(|| total as f64 / self.lookups as f64)
    }
}

fn sum(tally: &Tally<Traffic>) -> Traffic {
    tally.values().fold(Traffic::default(), |acc, t| Traffic {
        messages: acc.messages + t.messages,
        bytes: acc.bytes + t.bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy)]
    enum Toy {
        Query,
        Ping,
        Pong,
    }

    impl MessageKind for Toy {
        fn name(self) -> &'static str {
            match self {
                Toy::Query => "query",
                Toy::Ping => "ping",
                Toy::Pong => "pong",
            }
        }

        fn cause(self) -> Option<Cause> {
            match self {
                Toy::Query => Some(Cause::Search),
                Toy::Ping => Some(Cause::Upkeep),
                Toy::Pong => None,
            }
        }
    }

    #[test]
    fn a_kind_that_names_its_cause_is_charged_to_it_and_the_rest_is_left_to_the_core() {
        let mut m = Metrics::default();
        m.record_sent_by_kind(Toy::Query, 30);
        m.record_sent_by_kind(Toy::Ping, 23);
        m.record_sent_by_kind(Toy::Pong, 37);
        m.charge(Cause::Fetch, 12);
        m.charge(Cause::Upkeep, 99);
        let traffic = |messages, bytes| Traffic { messages, bytes };
        assert_eq!(m.total_sent(), traffic(3, 90));
        assert_eq!(m.search, traffic(1, 30));
        assert_eq!(m.fetch, traffic(1, 12), "charged without being sent here");
    }

    #[test]
    fn stats_from_a_node_that_charges_nothing_still_read() {
        let json = r#"{"received":{},"sent":{"ping":{"messages":1,"bytes":23}},"lookups":0,
            "hops":[],"lookup_micros":0,"dropped":{}}"#;
        let m: Metrics = serde_json::from_str(json).unwrap();
        assert_eq!(m.search, Traffic::default());
        assert_eq!(m.total_sent().messages, 1);
    }

    #[test]
    fn counts_by_kind_and_in_total() {
        let mut m = Metrics::default();
        m.record_out(Toy::Query, 30);
        m.record_out(Toy::Query, 32);
        m.record_out(Toy::Ping, 23);
        m.record_in(Toy::Pong, 37);
        assert_eq!(
            m.sent.of(Toy::Query),
            m.sent.get("query"),
            "by kind or by name"
        );
        assert_eq!(m.sent.of(Toy::Pong), None);
        assert_eq!(
            m.sent["query"],
            Traffic {
                messages: 2,
                bytes: 62
            }
        );
        assert_eq!(
            m.total_sent(),
            Traffic {
                messages: 3,
                bytes: 85
            }
        );
        assert_eq!(
            m.total_received(),
            Traffic {
                messages: 1,
                bytes: 37
            }
        );
    }

    #[test]
    fn a_tally_is_a_map_in_name_order_on_the_wire_and_counts_on_after_reading() {
        let mut m = Metrics::default();
        m.record_drop("malformed");
        m.record_drop("duplicate");
        m.record_drop("malformed");
        let json = serde_json::to_string(&m.dropped).unwrap();
        assert_eq!(json, r#"{"duplicate":1,"malformed":2}"#);

        let mut back = Metrics {
            dropped: serde_json::from_str(&json).unwrap(),
            ..Metrics::default()
        };
        assert_eq!(back.dropped, m.dropped);
        // Owned names from JSON and a constant with the same text are one kind.
        back.record_drop("duplicate");
        back.record_drop("unroutable");
        let counts: Vec<_> = back.dropped.iter().map(|(k, n)| (k, *n)).collect();
        assert_eq!(
            counts,
            [("duplicate", 2), ("malformed", 2), ("unroutable", 1)]
        );
    }

    #[test]
    fn mean_hops_weights_each_lookup() {
        let mut m = Metrics::default();
        assert_eq!(m.mean_hops(), None);
        m.record_lookup(2, Duration::from_millis(1));
        m.record_lookup(4, Duration::from_millis(3));
        m.record_lookup(3, Duration::ZERO);
        assert_eq!(m.mean_hops(), Some(3.0));
        assert_eq!(m.lookup_micros, 4_000);
    }
}
