//! Counters every node keeps: messages and bytes, in and out, by message kind, and the hops
//! and latency of the lookups it started. The runner reads them through the control protocol's
//! `stats` command and sums them over a network.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

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

/// One node's counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Messages received, by kind.
    pub received: BTreeMap<String, Traffic>,
    /// Messages sent, by kind.
    pub sent: BTreeMap<String, Traffic>,
    /// Lookups this node started and saw finish.
    pub lookups: u64,
    /// `hops[h]` = how many finished lookups took `h` overlay hops.
    pub hops: Vec<u64>,
    /// Sum of lookup latencies, in microseconds (mean = this / `lookups`).
    pub lookup_micros: u64,
    /// Messages dropped as malformed, duplicate, unroutable or over a limit, by reason.
    pub dropped: BTreeMap<String, u64>,
}

fn bump(map: &mut BTreeMap<String, Traffic>, kind: &str, bytes: usize) {
    match map.get_mut(kind) {
        Some(t) => t.add(bytes),
        None => {
            let mut t = Traffic::default();
            t.add(bytes);
            map.insert(kind.to_owned(), t);
        }
    }
}

impl Metrics {
    /// Counts one message of `kind` received.
    pub fn record_in(&mut self, kind: &str, bytes: usize) {
        bump(&mut self.received, kind, bytes);
    }

    /// Counts one message of `kind` sent.
    pub fn record_out(&mut self, kind: &str, bytes: usize) {
        bump(&mut self.sent, kind, bytes);
    }

    /// Counts one message dropped, and why.
    pub fn record_drop(&mut self, reason: &str) {
        *self.dropped.entry(reason.to_owned()).or_default() += 1;
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

fn sum(map: &BTreeMap<String, Traffic>) -> Traffic {
    map.values().fold(Traffic::default(), |acc, t| Traffic {
        messages: acc.messages + t.messages,
        bytes: acc.bytes + t.bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_kind_and_in_total() {
        let mut m = Metrics::default();
        m.record_out("query", 30);
        m.record_out("query", 32);
        m.record_out("ping", 23);
        m.record_in("pong", 37);
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
