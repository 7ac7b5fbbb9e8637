//! When peers leave and come back during a `churn` step.
//!
//! A [`Schedule`] is made from the step and the seed, the same on either engine: the
//! timeline ([`crate::timeline`]) merges it with the step's queries and makes each change
//! as it comes due. It is made one of three ways:
//!
//! - **periodic** rates (the default): a leave every `1/leaves_per_s` seconds and a join
//!   every `1/joins_per_s`, on the dot;
//! - **Poisson** rates (`"process": "poisson"`): joins and leaves are two independent Poisson
//!   processes of those rates, the gaps exponential and drawn from the seed, as in the Chord
//!   paper's churn experiment;
//! - **sessions**: each peer that is up when the step starts stays for a session drawn from
//!   a lifetime distribution (exponential, Weibull, Pareto), goes, and comes back after an
//!   offline time drawn from another, again and again: the session model of
//!   [`p2plab_sim::churn`], with every replacement being the same peer returning with its
//!   files.
//!
//! At rates, who leaves (a live peer) and who comes back (a peer that is down) is drawn when
//! the change comes due, from the phase's victims RNG, as a `kill_peers` step draws. Under
//! sessions the schedule names the peer.

use std::collections::HashMap;
use std::iter::Peekable;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp};

use p2plab_sim::churn::{Churn, ChurnKind, ChurnModel};

use crate::plan::Plan;
use crate::roster;
use crate::spec::{ChurnProcess, Sessions, Step};

/// What to do to whom, now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Stop this live peer (crashing it, or letting it leave politely).
    Leave(usize),
    /// Start this peer again, with its files.
    Join(usize),
}

/// A churn step's changes in time order; empty for any other step.
pub struct Schedule {
    /// Seconds from the step's start past which nothing more happens.
    end: f64,
    /// Whether leaving peers crash.
    crash: bool,
    source: Source,
}

enum Source {
    Quiet,
    /// Leaves and joins at rates; `None` for a kind whose rate is 0.
    Rates {
        leave: Option<Clock>,
        join: Option<Clock>,
        rng: Box<ChaCha8Rng>,
    },
    Sessions {
        events: Box<Peekable<Churn>>,
        /// The churn stream's node numbers, as peers of the run.
        peer_of: HashMap<usize, usize>,
    },
}

/// When the next change of one kind is due, and how far the one after will be.
struct Clock {
    next: f64,
    gap: Gap,
}

impl Clock {
    /// The clock of a change at `rate` per second, its first change one gap in; `None` at
    /// rate 0 (that change never happens).
    fn start(rate: f64, process: ChurnProcess, rng: &mut ChaCha8Rng) -> Option<Clock> {
        let gap = Gap::of(rate, process)?;
        Some(Clock {
            next: gap.draw(rng),
            gap,
        })
    }

    fn tick(&mut self, rng: &mut ChaCha8Rng) {
        self.next += self.gap.draw(rng);
    }
}

/// The time from one change of a kind to the next.
#[derive(Clone, Copy)]
enum Gap {
    Every(f64),
    Poisson(Exp<f64>),
}

impl Gap {
    /// The gap for `rate` per second, or `None` at rate 0 (that change never happens).
    fn of(rate: f64, process: ChurnProcess) -> Option<Gap> {
        if rate <= 0.0 {
            return None;
        }
        Some(match process {
            ChurnProcess::Periodic => Gap::Every(1.0 / rate),
            ChurnProcess::Poisson => Gap::Poisson(Exp::new(rate).ok()?),
        })
    }

    fn draw(self, rng: &mut ChaCha8Rng) -> f64 {
        match self {
            Gap::Every(period) => period,
            Gap::Poisson(exp) => exp.sample(rng),
        }
    }
}

impl Schedule {
    /// The schedule of `step` (number `phase` of the timeline), whose peers now up are
    /// `live`. Any step but `churn` has an empty one.
    pub fn new(step: Option<&Step>, live: &[usize], plan: &Plan, phase: u64) -> Self {
        let Some(&Step::Churn {
            seconds,
            joins_per_s,
            leaves_per_s,
            process,
            sessions,
            crash,
            ..
        }) = step
        else {
            return Schedule {
                end: 0.0,
                crash: true,
                source: Source::Quiet,
            };
        };
        let mut rng = plan.churn_rng(phase);
        let source = match sessions {
            Some(Sessions { session, offline }) => {
                let model = ChurnModel::Sessions { session, offline };
                let churn = Churn::new(model, live.len(), rng.random())
                    .expect("spec::validate checks every lifetime's parameters");
                Source::Sessions {
                    events: Box::new(churn.peekable()),
                    peer_of: live.iter().copied().enumerate().collect(),
                }
            }
            None => Source::Rates {
                leave: Clock::start(leaves_per_s, process, &mut rng),
                join: Clock::start(joins_per_s, process, &mut rng),
                rng: Box::new(rng),
            },
        };
        Schedule {
            end: seconds,
            crash,
            source,
        }
    }

    /// Whether leaving peers crash (rather than leave politely).
    pub fn crash(&self) -> bool {
        self.crash
    }

    /// When the next change is due, in seconds from the step's start; `None` when nothing
    /// more happens before the step ends.
    pub fn next_at(&mut self) -> Option<f64> {
        let at = match &mut self.source {
            Source::Quiet => None,
            Source::Rates { leave, join, .. } => [leave, join]
                .into_iter()
                .flatten()
                .map(|clock| clock.next)
                .min_by(f64::total_cmp),
            Source::Sessions { events, .. } => events.peek().map(|e| e.at.as_secs_f64()),
        };
        at.filter(|&t| t < self.end)
    }

    /// Takes the change due at [`Schedule::next_at`] and says whom it strikes among
    /// `peers` (`None` while down), drawing from `victims` at rates. `None` when it strikes
    /// no one: nobody is up to leave, or down to come back. A leave comes before a join due
    /// at the same moment.
    pub fn pop<T>(&mut self, peers: &[Option<T>], victims: &mut impl Rng) -> Option<Change> {
        match &mut self.source {
            Source::Quiet => None,
            Source::Rates { leave, join, rng } => {
                let leaving = match (&leave, &join) {
                    (Some(l), Some(j)) => l.next <= j.next,
                    (l, _) => l.is_some(),
                };
                if leaving {
                    leave.as_mut()?.tick(rng);
                    let picked = roster::pick_live(peers, victims, 1);
                    picked.first().map(|&v| Change::Leave(v))
                } else {
                    join.as_mut()?.tick(rng);
                    roster::pick_down(peers, victims).map(Change::Join)
                }
            }
            Source::Sessions { events, peer_of } => {
                let e = events.next()?;
                let peer = *peer_of.get(&e.node)?;
                if e.kind == ChurnKind::Join {
                    return peers[peer].is_none().then_some(Change::Join(peer));
                }
                peer_of.remove(&e.node);
                if let Some(next) = e.replaced_by {
                    peer_of.insert(next, peer);
                }
                peers[peer].is_some().then_some(Change::Leave(peer))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::FilesSpec;
    use p2plab_sim::churn::Lifetime;

    fn plan(peers: usize) -> Plan {
        let files = FilesSpec {
            count: 10,
            copies: 1,
            min_size: 1,
            max_size: 1,
        };
        Plan::new(5, peers, &files)
    }

    fn churn(seconds: f64, rates: (f64, f64), process: ChurnProcess) -> Step {
        with_sessions(seconds, rates, process, None)
    }

    fn with_sessions(
        seconds: f64,
        (joins_per_s, leaves_per_s): (f64, f64),
        process: ChurnProcess,
        sessions: Option<Sessions>,
    ) -> Step {
        Step::Churn {
            label: "churn".into(),
            seconds,
            joins_per_s,
            leaves_per_s,
            process,
            sessions,
            crash: true,
        }
    }

    /// Plays a schedule on `n` peers, all up at first; returns each change with its time.
    fn play(step: &Step, n: usize) -> Vec<(f64, Change)> {
        let plan = plan(n);
        let mut peers: Vec<Option<()>> = vec![Some(()); n];
        let live: Vec<usize> = (0..n).collect();
        let mut schedule = Schedule::new(Some(step), &live, &plan, 3);
        let mut victims = plan.victims_rng(3);
        let mut out = Vec::new();
        while let Some(t) = schedule.next_at() {
            let Some(change) = schedule.pop(&peers, &mut victims) else {
                continue;
            };
            match change {
                Change::Leave(v) => peers[v] = None,
                Change::Join(v) => peers[v] = Some(()),
            }
            out.push((t, change));
        }
        out
    }

    #[test]
    fn periodic_changes_fall_on_the_dot_leaves_first() {
        let changes = play(&churn(2.0, (2.0, 2.0), ChurnProcess::Periodic), 10);
        let times: Vec<f64> = changes.iter().map(|c| c.0).collect();
        assert_eq!(times, [0.5, 0.5, 1.0, 1.0, 1.5, 1.5]);
        assert!(changes
            .chunks(2)
            .all(|p| matches!(p, [(_, Change::Leave(_)), (_, Change::Join(_))])));
    }

    #[test]
    fn poisson_changes_come_at_their_rates_and_repeat_with_the_seed() {
        let step = churn(1_000.0, (0.5, 2.0), ChurnProcess::Poisson);
        let changes = play(&step, 5_000);
        let count = |join: bool| {
            changes
                .iter()
                .filter(|c| matches!(c.1, Change::Join(_)) == join)
                .count() as f64
        };
        assert!((count(true) - 500.0).abs() < 75.0, "joins {}", count(true));
        assert!(
            (count(false) - 2_000.0).abs() < 150.0,
            "leaves {}",
            count(false)
        );
        assert!(
            changes.windows(2).all(|w| w[0].0 <= w[1].0),
            "in time order"
        );
        assert!(changes.iter().all(|c| c.0 < 1_000.0));
        let gaps: Vec<f64> = changes.windows(2).map(|w| w[1].0 - w[0].0).collect();
        assert!(
            gaps.iter().any(|g| (g - gaps[0]).abs() > 1e-9),
            "not periodic"
        );
        assert_eq!(changes, play(&step, 5_000));
    }

    #[test]
    fn sessions_bring_each_peer_back_after_it_went() {
        let sessions = Sessions {
            session: Lifetime::Weibull {
                shape: 0.5,
                scale_secs: 30.0,
            },
            offline: Lifetime::Exponential { mean_secs: 20.0 },
        };
        let step = with_sessions(600.0, (0.0, 0.0), ChurnProcess::Periodic, Some(sessions));
        let changes = play(&step, 100);
        let mut up = [true; 100];
        for (_, c) in &changes {
            match *c {
                Change::Leave(v) => {
                    assert!(up[v], "peer {v} leaves twice");
                    up[v] = false;
                }
                Change::Join(v) => {
                    assert!(!up[v], "peer {v} joins while up");
                    up[v] = true;
                }
            }
        }
        let joins = changes
            .iter()
            .filter(|c| matches!(c.1, Change::Join(_)))
            .count();
        // Mean session 60 s (Weibull, k = 0.5, λ = 30 s), mean offline 20 s: each peer
        // cycles several times in ten minutes.
        assert!(joins > 300, "only {joins} returns");
        assert_eq!(changes, play(&step, 100));
    }

    #[test]
    fn other_steps_change_nothing() {
        let wait = Step::Wait {
            label: "idle".into(),
            seconds: 5.0,
        };
        assert!(play(&wait, 10).is_empty());
        assert!(play(&churn(5.0, (0.0, 0.0), ChurnProcess::Poisson), 10).is_empty());
    }
}
