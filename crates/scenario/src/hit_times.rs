//! When a search's hits came, beside when its answer came.
//!
//! A query's *latency* is the time until the searcher had its answer. For Napster and Chord
//! that is when the hits came: their answer is one message. A Gnutella searcher cannot know
//! when the last QueryHit has come, so it waits out its search window; its latency is the
//! window, whatever the flood did. What the flood did shows in two other times, each
//! counted from the query's start:
//!
//! - **first hit**: when the first hit of the answer arrived — how far the nearest holder
//!   was, in round trips;
//! - **last hit**: when the last new hit of the answer arrived — how long the window had to
//!   be to miss nothing that came in it.
//!
//! Both count only searches that returned hits. For a one-message answer, first = last =
//! latency.

use std::time::Duration;

use hdrhistogram::Histogram;
use p2plab_peer_protocol::Hit;
use serde::{Deserialize, Serialize};

use crate::report::Latency;
use crate::workload::latency_histogram;

/// The first- and last-hit times of one phase's searches, microseconds.
#[derive(Debug, Clone)]
pub struct HitTimes {
    first: Histogram<u64>,
    last: Histogram<u64>,
}

impl Default for HitTimes {
    fn default() -> Self {
        HitTimes {
            first: latency_histogram(),
            last: latency_histogram(),
        }
    }
}

impl HitTimes {
    /// Adds one answered search: its `hits` and its `latency` (when the answer came).
    pub fn add(&mut self, hits: &[Hit], latency: Duration) {
        let times = hits.iter().map(|h| h.arrived.unwrap_or(latency));
        let (Some(first), Some(last)) = (times.clone().min(), times.max()) else {
            return;
        };
        self.first.saturating_record(micros(first));
        self.last.saturating_record(micros(last));
    }

    /// The phase's figures; `window_ms` is the search window, where the network has one.
    pub fn report(&self, window_ms: Option<u64>) -> Option<HitTiming> {
        Some(HitTiming {
            first_ms: Latency::of(&self.first)?,
            last_ms: Latency::of(&self.last)?,
            window_ms,
        })
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

/// When hits came, over a phase's searches that returned hits (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HitTiming {
    /// Time from a query's start to its answer's first hit, milliseconds.
    pub first_ms: Latency,
    /// Time from a query's start to its answer's last new hit, milliseconds.
    pub last_ms: Latency,
    /// The search window every Gnutella search waited (its latency), milliseconds; `None`
    /// for the networks whose answer is one message.
    pub window_ms: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use p2plab_peer_protocol::Holder;

    fn hit(arrived: Option<u64>) -> Hit {
        Hit {
            name: "a".into(),
            size: 1,
            holder: Holder::Http {
                addr: "127.0.0.1:1".parse().unwrap(),
                index: 0,
            },
            hops: None,
            arrived: arrived.map(Duration::from_millis),
        }
    }

    #[test]
    fn first_and_last_come_from_the_hits_or_else_from_the_answer() {
        let mut t = HitTimes::default();
        let window = Duration::from_millis(1_000);
        t.add(&[hit(Some(40)), hit(Some(200)), hit(Some(120))], window);
        t.add(&[], window);
        let r = t.report(Some(1_000)).unwrap();
        assert!((r.first_ms.max - 40.0).abs() < 0.1, "{r:?}");
        assert!((r.last_ms.max - 200.0).abs() < 0.2, "{r:?}");
        // A one-message answer: both are its latency.
        let mut one = HitTimes::default();
        one.add(&[hit(None)], Duration::from_millis(7));
        let r = one.report(None).unwrap();
        // 7 ms, to the histogram's three digits.
        assert!((r.first_ms.p50 - 7.0).abs() < 0.01 && (r.last_ms.p50 - 7.0).abs() < 0.01);
        assert!(
            HitTimes::default().report(None).is_none(),
            "no hits, no figures"
        );
    }
}
