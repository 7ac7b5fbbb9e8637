//! Judging a search's answer against the plan, and the tally of a phase's verdicts.
//!
//! Every query of a phase lands in exactly one [`Outcome`], judged against the plan and
//! against who was up when it was asked:
//!
//! - for a file with a live holder (**findable**), it is **found** if a hit names a peer
//!   that was up and really shares the file; no hit at all is a **false "not found"**;
//!   hits that all name dead or wrong peers are **stale**;
//! - for a file whose holders are all down, nothing can be found: it is **unfindable**,
//!   counted apart and not against the network, whatever the answer;
//! - for a file that exists nowhere (**absent**), an empty answer is right
//!   (**rightly empty**) and any hit is a **wrong hit**;
//! - for a findable or an absent file, a network that says it cannot answer yet is
//!   **not ready**, and a search that failed is an **error**.
//!
//! No query is left unanswered at the end of a phase: a query phase waits for every search
//! it asked, and the timeline ends one that waited [`p2plab_peer_protocol::CALL_TIMEOUT`]
//! as an error.

use std::fmt;
use std::time::Duration;

use hdrhistogram::Histogram;
use p2plab_peer_protocol::{Hit, Holder, SearchError};
use serde::{Deserialize, Serialize};

use crate::plan::{Plan, PlannedQuery};

/// Why a search brought no list of hits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The network said it cannot answer yet ([`SearchError::NotReady`]); what it lacks.
    NotReady(String),
    /// The search failed; why, as a sentence.
    Failed(String),
}

impl From<SearchError> for Failure {
    /// Only [`SearchError::NotReady`] is "not ready": the network will answer if asked
    /// later. A searcher that has left ([`SearchError::Left`]) never will — the timeline
    /// asks only peers it holds to be up, so such an answer is a search that failed, an
    /// error, not the network's excuse.
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::NotReady(why) => Failure::NotReady(why),
            other => Failure::Failed(other.to_string()),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::NotReady(why) => write!(f, "not ready: {why}"),
            Failure::Failed(why) => f.write_str(why),
        }
    }
}

/// What a search ended with: its hits, or why it has none.
pub type Answer = Result<Vec<Hit>, Failure>;

/// What a query asked for, as the plan and the world at asking time say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A file with a live holder: the denominator of success.
    Findable,
    /// A file whose holders were all down.
    Unfindable,
    /// A file that exists nowhere.
    Absent,
}

/// A query's verdict: what it asked for, its [`Outcome`], and the hops of a found one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// What it asked for.
    pub class: Class,
    /// Where the query lands.
    pub outcome: Outcome,
    /// For a found query, overlay hops of the best valid hit, where the network reports them.
    pub hops: Option<u32>,
}

/// The one outcome each query lands in (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Findable, and a hit named a live holder.
    Found,
    /// Findable, and no hit at all.
    FalseNotFound,
    /// Findable, and hits, but none names a live holder.
    Stale,
    /// The network said it cannot answer yet (findable or absent file).
    NotReady,
    /// The search failed (findable or absent file).
    Error,
    /// Every holder was down: nothing to find.
    Unfindable,
    /// A file that exists nowhere, answered with nothing, as it should be.
    RightlyEmpty,
    /// A file that exists nowhere, answered with hits.
    WrongHits,
}

impl Outcome {
    fn of(self, class: Class) -> Verdict {
        Verdict {
            class,
            outcome: self,
            hops: None,
        }
    }
}

/// Judges one search's answer against the plan and against who was up when it was asked
/// (`alive`); `holder_of` names the peer a hit's holder is, if any.
pub fn verdict(
    plan: &Plan,
    query: &PlannedQuery,
    alive: &[bool],
    holder_of: impl Fn(&Holder) -> Option<usize>,
    answer: &Answer,
) -> Verdict {
    let failed = |f: &Failure| match f {
        Failure::NotReady(_) => Outcome::NotReady,
        Failure::Failed(_) => Outcome::Error,
    };
    let Some(file) = query.file else {
        return match answer {
            Ok(hits) if !hits.is_empty() => Outcome::WrongHits,
            Ok(_) => Outcome::RightlyEmpty,
            Err(f) => failed(f),
        }
        .of(Class::Absent);
    };
    let holders = &plan.files[file].holders;
    if !holders
        .iter()
        .any(|&i| alive.get(i).copied().unwrap_or(false))
    {
        return Outcome::Unfindable.of(Class::Unfindable);
    }
    let valid = |h: &&Hit| {
        holder_of(&h.holder)
            .is_some_and(|i| holders.contains(&i) && alive.get(i).copied().unwrap_or(false))
            && h.name == plan.files[file].name
    };
    match answer {
        Err(f) => failed(f).of(Class::Findable),
        Ok(hits) if hits.is_empty() => Outcome::FalseNotFound.of(Class::Findable),
        Ok(hits) => match hits.iter().filter(valid).map(|h| h.hops).min() {
            Some(hops) => Verdict {
                hops,
                ..Outcome::Found.of(Class::Findable)
            },
            None => Outcome::Stale.of(Class::Findable),
        },
    }
}

/// How many queries of a phase landed in each [`Outcome`]: their sum is the phase's
/// queries, by construction (each query adds one to exactly one field).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcomes {
    /// See [`Outcome::Found`].
    pub found: u64,
    /// See [`Outcome::FalseNotFound`].
    pub false_not_found: u64,
    /// See [`Outcome::Stale`].
    pub stale: u64,
    /// See [`Outcome::NotReady`].
    pub not_ready: u64,
    /// See [`Outcome::Error`].
    pub errors: u64,
    /// See [`Outcome::Unfindable`].
    pub unfindable: u64,
    /// See [`Outcome::RightlyEmpty`].
    pub rightly_empty: u64,
    /// See [`Outcome::WrongHits`].
    pub wrong_hits: u64,
}

impl Outcomes {
    /// Counts one query.
    pub fn add(&mut self, outcome: Outcome) {
        *self.slot(outcome) += 1;
    }

    fn slot(&mut self, outcome: Outcome) -> &mut u64 {
        match outcome {
            Outcome::Found => &mut self.found,
            Outcome::FalseNotFound => &mut self.false_not_found,
            Outcome::Stale => &mut self.stale,
            Outcome::NotReady => &mut self.not_ready,
            Outcome::Error => &mut self.errors,
            Outcome::Unfindable => &mut self.unfindable,
            Outcome::RightlyEmpty => &mut self.rightly_empty,
            Outcome::WrongHits => &mut self.wrong_hits,
        }
    }

    /// Every outcome's count added up: a phase's queries.
    pub fn total(&self) -> u64 {
        let Outcomes {
            found,
            false_not_found,
            stale,
            not_ready,
            errors,
            unfindable,
            rightly_empty,
            wrong_hits,
        } = *self;
        found
            + false_not_found
            + stale
            + not_ready
            + errors
            + unfindable
            + rightly_empty
            + wrong_hits
    }
}

/// Counts of verdicts and the latency distribution of one phase in one network.
#[derive(Debug, Clone)]
pub struct Tally {
    /// Queries asked.
    pub queries: u64,
    /// Queries for files that had a live holder (see [`Class::Findable`]).
    pub findable: u64,
    /// Queries for files that exist nowhere (see [`Class::Absent`]).
    pub absent: u64,
    /// Each query in its one outcome.
    pub outcomes: Outcomes,
    /// Sum and count of hops over found queries that report hops.
    pub hops_sum: u64,
    /// See `hops_sum`.
    pub hops_n: u64,
    /// Search latency in microseconds, all queries that got an answer.
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
            absent: 0,
            outcomes: Outcomes::default(),
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
    /// Adds one judged query; `latency` is `None` when its search got no answer (it failed,
    /// or the network was not ready), so that only answers count in the latency
    /// distribution.
    pub fn add(&mut self, verdict: Verdict, latency: Option<Duration>) {
        self.queries += 1;
        if let Some(latency) = latency {
            let micros = u64::try_from(latency.as_micros())
                .unwrap_or(u64::MAX)
                .max(1);
            self.latency.saturating_record(micros);
        }
        self.outcomes.add(verdict.outcome);
        match verdict.class {
            Class::Findable => self.findable += 1,
            Class::Absent => self.absent += 1,
            Class::Unfindable => {}
        }
        if let (Outcome::Found, Some(h)) = (verdict.outcome, verdict.hops) {
            self.hops_sum += u64::from(h);
            self.hops_n += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_searcher_that_left_failed_where_one_not_ready_may_yet_answer() {
        assert_eq!(
            Failure::from(SearchError::Left),
            Failure::Failed("this node has left the network".into())
        );
        assert_eq!(
            Failure::from(SearchError::NotReady("joining".into())),
            Failure::NotReady("joining".into())
        );
    }
}
