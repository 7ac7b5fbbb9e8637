//! [`Drive`]: a phase's queries at the workload's rate, merged in time with its churn —
//! the one loop both engines play, on their own clocks.

use std::net::SocketAddr;
use std::time::Duration;

use p2plab_peer_protocol::Instant;
use rand_chacha::ChaCha8Rng;

use crate::churn::{Change, Schedule};
use crate::plan::{Plan, PlannedQuery};
use crate::spec::Step;

/// What comes next in a driven phase.
#[derive(Debug)]
pub enum Next {
    /// Ask this query now.
    Ask(PlannedQuery),
    /// Make this change to the network now.
    Change(Change),
    /// Nothing is due before this instant.
    Until(Instant),
    /// A query is due, but as many searches as the workload allows are in flight.
    Blocked,
    /// Everything is asked and every change made.
    Over,
}

/// The queries of one phase and the changes of its churn, each due at its own time from
/// the phase's start.
pub struct Drive {
    t0: Instant,
    queries: Vec<PlannedQuery>,
    next: usize,
    rate: f64,
    churn: Schedule,
    victims: ChaCha8Rng,
}

impl std::fmt::Debug for Drive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Drive")
            .field("t0", &self.t0)
            .field("asked", &self.next)
            .field("queries", &self.queries.len())
            .finish_non_exhaustive()
    }
}

impl Drive {
    /// Phase `k` from `now`: `count` of the plan's queries at `rate` per second and, for a
    /// churn step, its schedule over the peers now `live`.
    pub fn new(
        plan: &Plan,
        step: &Step,
        k: u64,
        count: usize,
        workload: &crate::spec::WorkloadSpec,
        live: &[usize],
        now: Instant,
    ) -> Self {
        let churn = matches!(step, Step::Churn { .. }).then_some(step);
        Drive {
            t0: now,
            queries: plan.queries(k, count, workload),
            next: 0,
            rate: workload.rate,
            churn: Schedule::new(churn, live, plan, k),
            victims: plan.victims_rng(k),
        }
    }

    /// Whether leaving peers crash (rather than leave politely).
    pub fn crash(&self) -> bool {
        self.churn.crash()
    }

    /// What is due at `now`, over the network's `peers` (`None` while down); `full` when
    /// no more searches may start yet. A query and a change due at the same moment: the
    /// query first. A change that strikes no one (nobody up to leave, or down to come back)
    /// is skipped.
    pub fn next(&mut self, now: Instant, peers: &[Option<SocketAddr>], full: bool) -> Next {
        loop {
            let tq = (self.next < self.queries.len()).then(|| self.next as f64 / self.rate);
            let Some(t) = [tq, self.churn.next_at()]
                .into_iter()
                .flatten()
                .min_by(f64::total_cmp)
            else {
                return Next::Over;
            };
            let at = self.t0 + Duration::from_secs_f64(t);
            if now < at {
                return Next::Until(at);
            }
            if tq == Some(t) {
                if full {
                    return Next::Blocked;
                }
                self.next += 1;
                return Next::Ask(self.queries[self.next - 1].clone());
            }
            if let Some(change) = self.churn.pop(peers, &mut self.victims) {
                return Next::Change(change);
            }
        }
    }
}
