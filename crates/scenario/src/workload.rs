//! Judging a search's answer against the plan, and the tally of a phase's verdicts.
//!
//! A query is judged against the plan and against who was up when it was asked:
//!
//! - for a file with a live holder, it **succeeds** if a hit names a peer that was up and
//!   really shares the file; no hit at all is a **false "not found"**; hits that all name
//!   dead or wrong peers are **stale**; a failed search is an **error**;
//! - for a file whose holders are all down, nothing can be found: it is counted apart
//!   (**unfindable**), not against the network;
//! - for a file that exists nowhere, any hit is a **wrong hit**.

use std::time::Duration;

use hdrhistogram::Histogram;
use p2plab_peer_protocol::{Hit, Holder};

use crate::plan::{Plan, PlannedQuery};

/// A query's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Found a live holder.
    Found {
        /// Overlay hops of the best valid hit, where the network reports them.
        hops: Option<u32>,
    },
    /// No hit although a live holder existed.
    FalseNotFound,
    /// Hits, but none names a live holder.
    Stale,
    /// The search itself failed; `findable` if a live holder existed.
    Error {
        /// Whether a live holder existed (then the error is a miss).
        findable: bool,
    },
    /// Every holder was down: nothing to find.
    Unfindable,
    /// A query for a file that exists nowhere returned nothing, as it should.
    RightlyEmpty,
    /// A query for a file that exists nowhere returned hits.
    WrongHits,
}

/// Judges one search's result against the plan and against who was up when it was asked
/// (`alive`); `holder_of` names the peer a hit's holder is, if any.
pub fn verdict(
    plan: &Plan,
    query: &PlannedQuery,
    alive: &[bool],
    holder_of: impl Fn(&Holder) -> Option<usize>,
    result: &Result<Vec<Hit>, String>,
) -> Verdict {
    let Some(file) = query.file else {
        return match result {
            Ok(hits) if !hits.is_empty() => Verdict::WrongHits,
            Ok(_) => Verdict::RightlyEmpty,
            Err(_) => Verdict::Error { findable: false },
        };
    };
    let holders = &plan.files[file].holders;
    let valid = |h: &&Hit| {
        holder_of(&h.holder)
            .is_some_and(|i| holders.contains(&i) && alive.get(i).copied().unwrap_or(false))
            && h.name == plan.files[file].name
    };
    if !holders.iter().any(|&i| alive[i]) {
        return Verdict::Unfindable;
    }
    match result {
        Err(_) => Verdict::Error { findable: true },
        Ok(hits) if hits.is_empty() => Verdict::FalseNotFound,
        Ok(hits) => match hits.iter().filter(valid).map(|h| h.hops).min() {
            Some(hops) => Verdict::Found { hops },
            None => Verdict::Stale,
        },
    }
}

/// Counts of verdicts and the latency distribution of one phase in one network.
#[derive(Debug, Clone)]
pub struct Tally {
    /// Queries asked.
    pub queries: u64,
    /// Queries for files that had a live holder.
    pub findable: u64,
    /// Of those, found.
    pub found: u64,
    /// Of those, no hit.
    pub false_not_found: u64,
    /// Of those, only stale hits.
    pub stale: u64,
    /// Searches that failed (any kind of query; one for a findable file is a miss).
    pub errors: u64,
    /// Queries for files all of whose holders were down.
    pub unfindable: u64,
    /// Queries for files that exist nowhere.
    pub missing: u64,
    /// Of those, answered with hits.
    pub wrong_hits: u64,
    /// Sum and count of hops over found queries that report hops.
    pub hops_sum: u64,
    /// See `hops_sum`.
    pub hops_n: u64,
    /// Search latency in microseconds, all queries that returned.
    pub latency: Histogram<u64>,
    /// Downloads tried and verified.
    pub downloads: u64,
    /// Downloads whose bytes matched the file.
    pub downloads_ok: u64,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            queries: 0,
            findable: 0,
            found: 0,
            false_not_found: 0,
            stale: 0,
            errors: 0,
            unfindable: 0,
            missing: 0,
            wrong_hits: 0,
            hops_sum: 0,
            hops_n: 0,
            latency: latency_histogram(),
            downloads: 0,
            downloads_ok: 0,
        }
    }
}

/// Latencies from 1 µs to [`MAX_LATENCY_MICROS`], three significant digits (0.1% error);
/// longer ones are recorded as the maximum.
pub(crate) fn latency_histogram() -> Histogram<u64> {
    // Bounds 1 <= 2 * 1 <= MAX and 3 significant digits (at most 5) are always valid.
    Histogram::new_with_bounds(1, MAX_LATENCY_MICROS, 3)
        .unwrap_or_else(|e| unreachable!("valid bounds: {e}"))
}

/// The longest latency a histogram tells apart: an hour, in microseconds.
pub const MAX_LATENCY_MICROS: u64 = 3_600_000_000;

impl Tally {
    /// Adds one judged query; `latency` is `None` when its search failed, so that only
    /// searches that got an answer count in the latency distribution (a query for a file
    /// whose holders are all down is unfindable whether its search failed or not).
    pub fn add(&mut self, verdict: Verdict, latency: Option<Duration>) {
        self.queries += 1;
        if let Some(latency) = latency {
            let micros = u64::try_from(latency.as_micros())
                .unwrap_or(u64::MAX)
                .max(1);
            self.latency.saturating_record(micros);
        }
        match verdict {
            Verdict::Found { hops } => {
                self.findable += 1;
                self.found += 1;
                if let Some(h) = hops {
                    self.hops_sum += u64::from(h);
                    self.hops_n += 1;
                }
            }
            Verdict::FalseNotFound => {
                self.findable += 1;
                self.false_not_found += 1;
            }
            Verdict::Stale => {
                self.findable += 1;
                self.stale += 1;
            }
            Verdict::Error { findable } => {
                // Only queries for files that exist nowhere fail unfindable.
                self.errors += 1;
                self.findable += u64::from(findable);
                self.missing += u64::from(!findable);
            }
            Verdict::Unfindable => self.unfindable += 1,
            Verdict::RightlyEmpty => self.missing += 1,
            Verdict::WrongHits => {
                self.missing += 1;
                self.wrong_hits += 1;
            }
        }
    }
}
