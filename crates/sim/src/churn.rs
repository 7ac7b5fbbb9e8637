//! Churn: when nodes join, fail and leave, drawn from the models the churn literature uses.
//!
//! A peer-to-peer network is never still. Measurement studies of Gnutella, Kad and BitTorrent
//! found that peers come and go all the time and that how long a peer stays (its *session*)
//! is heavy-tailed: most sessions are short, a few last for days. Simulators model this in
//! two ways, and this module offers both:
//!
//! - **Poisson churn** ([`ChurnModel::Poisson`]): joins and failures are two independent
//!   Poisson processes of rate R per second, so the time between two joins (or two failures)
//!   is exponential with mean 1/R, and the population wanders around its start. A failure
//!   strikes a live node chosen uniformly. This is the model of the Chord paper's churn
//!   experiment (ToN §V-D: 500 nodes, R = 0.01 .. 0.1 per second).
//! - **Session churn** ([`ChurnModel::Sessions`]): every node stays for a session drawn from a
//!   [`Lifetime`] distribution — exponential, Weibull or Pareto — and departs; a replacement
//!   (a new node, with a new identity) arrives after an offline time drawn from a second
//!   distribution. This is OverSim's *LifetimeChurn*: with equal session and offline means,
//!   about half of the slots are online at any time.
//!
//! [`Churn`] turns a model, an initial population and a seed into an endless, time-ordered
//! stream of [`ChurnEvent`]s; take from it what fits the experiment
//! (`churn.take_while(|e| e.at < end)`). The same seed gives the same stream. Nodes are
//! numbered: the initial population is `0..population`, and every join brings the next number.
//!
//! ```
//! use p2plab_sim::churn::{Churn, ChurnKind, ChurnModel};
//! use std::time::Duration;
//!
//! let churn = Churn::new(ChurnModel::Poisson { rate: 0.05 }, 500, 7).unwrap();
//! let first_hour: Vec<_> = churn.take_while(|e| e.at < Duration::from_secs(3_600)).collect();
//! // About 0.05 * 3600 = 180 joins and as many failures.
//! let joins = first_hour.iter().filter(|e| e.kind == ChurnKind::Join).count();
//! assert!((120..240).contains(&joins));
//! ```

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use anyhow::{bail, Context};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, Pareto, Weibull};
use serde::{Deserialize, Serialize};

/// How long something lasts (a session, an offline period), as a distribution in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "distribution", deny_unknown_fields)]
pub enum Lifetime {
    /// Memoryless: as likely to end in the next second whatever its age.
    Exponential {
        /// Mean length, seconds.
        mean_secs: f64,
    },
    /// Weibull(shape k, scale λ): mean λ·Γ(1 + 1/k). A shape below 1 gives the decreasing
    /// hazard measured for real peers (the longer a peer has stayed, the longer it stays).
    Weibull {
        /// k: below 1 heavy-tailed, 1 exponential, above 1 wear-out.
        shape: f64,
        /// λ, seconds.
        scale_secs: f64,
    },
    /// Pareto(shape α, scale x_m): never shorter than x_m, mean α·x_m/(α − 1) for α > 1; the
    /// heaviest tail, as in the Gnutella and Napster measurements of Saroiu et al.
    Pareto {
        /// α: the smaller, the heavier the tail (the mean is infinite for α ≤ 1).
        shape: f64,
        /// x_m, the shortest length, seconds.
        scale_secs: f64,
    },
}

/// A [`Lifetime`] with its parameters checked, ready to draw from.
#[derive(Debug, Clone, Copy)]
enum Sampler {
    Exponential(Exp<f64>),
    Weibull(Weibull<f64>),
    Pareto(Pareto<f64>),
}

impl Lifetime {
    fn sampler(self) -> anyhow::Result<Sampler> {
        Ok(match self {
            Lifetime::Exponential { mean_secs } if mean_secs > 0.0 => {
                Sampler::Exponential(Exp::new(1.0 / mean_secs).context("exponential lifetime")?)
            }
            Lifetime::Exponential { mean_secs } => {
                bail!("an exponential lifetime needs a positive mean, not {mean_secs}")
            }
            Lifetime::Weibull { shape, scale_secs } => {
                Sampler::Weibull(Weibull::new(scale_secs, shape).context("Weibull lifetime")?)
            }
            Lifetime::Pareto { shape, scale_secs } => {
                Sampler::Pareto(Pareto::new(scale_secs, shape).context("Pareto lifetime")?)
            }
        })
    }
}

impl Sampler {
    fn sample(&self, rng: &mut ChaCha8Rng) -> Duration {
        let secs = match self {
            Sampler::Exponential(d) => d.sample(rng),
            Sampler::Weibull(d) => d.sample(rng),
            Sampler::Pareto(d) => d.sample(rng),
        };
        Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX)
    }
}

/// How nodes come and go.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "model")]
pub enum ChurnModel {
    /// Joins and failures, each a Poisson process of `rate` events per second; a failure
    /// strikes a uniformly chosen live node.
    Poisson {
        /// R, events of each kind per second.
        rate: f64,
    },
    /// Each node stays for a `session`, then departs; a new node takes its place after an
    /// `offline` period.
    Sessions {
        /// How long a node stays.
        session: Lifetime,
        /// How long until its replacement arrives.
        offline: Lifetime,
    },
}

/// What happens to a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChurnKind {
    /// A new node starts and joins the network.
    Join,
    /// A node stops at once, telling no one (a crash, a pulled cable).
    Fail,
    /// A node leaves politely, handing over what it holds.
    Leave,
}

/// One churn event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChurnEvent {
    /// When, from the start of the churn.
    pub at: Duration,
    /// Which node: `0..population` at first, then a new number per join.
    pub node: usize,
    /// What happens to it.
    pub kind: ChurnKind,
    /// Under session churn, a departing node's replacement: the number that a later
    /// [`ChurnKind::Join`] brings back (after its offline time, if within the stream).
    pub replaced_by: Option<usize>,
}

/// The models, compiled: what [`Churn`] draws from.
#[derive(Debug, Clone, Copy)]
enum Compiled {
    Poisson { gap: Exp<f64> },
    Sessions { session: Sampler, offline: Sampler },
}

/// A seeded, endless, time-ordered stream of [`ChurnEvent`]s. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct Churn {
    model: Compiled,
    /// How departing nodes go: [`ChurnKind::Fail`] unless [`Churn::departing_by`] says otherwise.
    departure: ChurnKind,
    rng: ChaCha8Rng,
    /// Events drawn but not yet handed out, earliest first; the sequence number breaks ties
    /// in drawing order, so the stream is the same on every platform.
    pending: BinaryHeap<Reverse<(Duration, u64, usize, Kind)>>,
    seq: u64,
    /// The live nodes, in no order (Poisson churn picks its victims here).
    live: Vec<usize>,
    /// `slot[node]` = where `node` sits in `live`, while it lives.
    slot: Vec<Option<usize>>,
    /// Poisson churn: when the next event (join or failure) happens.
    clock: Duration,
}

/// What a pending event does; `Depart` becomes the configured departure kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Join,
    Depart,
}

impl Churn {
    /// Churn of `model` over an initial population of `population` live nodes, seeded.
    ///
    /// # Errors
    /// When a rate or a distribution parameter is not positive.
    pub fn new(model: ChurnModel, population: usize, seed: u64) -> anyhow::Result<Self> {
        let compiled = match model {
            ChurnModel::Poisson { rate } if rate > 0.0 => Compiled::Poisson {
                // Joins and failures at R each merge into one process of rate 2R, whose
                // events are joins or failures with even odds.
                gap: Exp::new(2.0 * rate).context("Poisson churn rate")?,
            },
            ChurnModel::Poisson { rate } => bail!("a churn rate must be positive, not {rate}"),
            ChurnModel::Sessions { session, offline } => Compiled::Sessions {
                session: session.sampler()?,
                offline: offline.sampler()?,
            },
        };
        let mut churn = Churn {
            model: compiled,
            departure: ChurnKind::Fail,
            rng: ChaCha8Rng::seed_from_u64(seed),
            pending: BinaryHeap::new(),
            seq: 0,
            live: Vec::new(),
            slot: Vec::new(),
            clock: Duration::ZERO,
        };
        for node in 0..population {
            churn.arrive(node, Duration::ZERO);
        }
        Ok(churn)
    }

    /// Departing nodes go this way ([`ChurnKind::Fail`] or [`ChurnKind::Leave`]).
    pub fn departing_by(mut self, kind: ChurnKind) -> Self {
        self.departure = kind;
        self
    }

    /// Nodes alive after the events handed out so far.
    pub fn live(&self) -> usize {
        self.live.len()
    }

    /// Records `node` as live from `at`; under session churn, schedules its departure.
    fn arrive(&mut self, node: usize, at: Duration) {
        if self.slot.len() <= node {
            self.slot.resize(node + 1, None);
        }
        self.slot[node] = Some(self.live.len());
        self.live.push(node);
        if let Compiled::Sessions { session, .. } = self.model {
            let stay = session.sample(&mut self.rng);
            self.push(at.saturating_add(stay), node, Kind::Depart);
        }
    }

    fn depart(&mut self, node: usize) {
        if let Some(i) = self.slot[node].take() {
            self.live.swap_remove(i);
            if let Some(&moved) = self.live.get(i) {
                self.slot[moved] = Some(i);
            }
        }
    }

    fn push(&mut self, at: Duration, node: usize, kind: Kind) {
        self.seq += 1;
        self.pending.push(Reverse((at, self.seq, node, kind)));
    }

    /// The next node number: one past every node seen so far.
    fn fresh(&self) -> usize {
        self.slot.len()
    }

    /// Poisson churn: the next join, or the failure of a random live node.
    fn next_poisson(&mut self, gap: Exp<f64>) -> ChurnEvent {
        loop {
            let wait = Duration::try_from_secs_f64(gap.sample(&mut self.rng)).unwrap_or_default();
            self.clock = self.clock.saturating_add(wait);
            let at = self.clock;
            if self.rng.random_bool(0.5) {
                let node = self.fresh();
                self.arrive(node, at);
                return ChurnEvent {
                    at,
                    node,
                    kind: ChurnKind::Join,
                    replaced_by: None,
                };
            }
            if !self.live.is_empty() {
                let node = self.live[self.rng.random_range(0..self.live.len())];
                self.depart(node);
                return ChurnEvent {
                    at,
                    node,
                    kind: self.departure,
                    replaced_by: None,
                };
            }
            // A failure with no one left to fail is no event; draw the next one.
        }
    }

    /// Session churn: the earliest pending departure or arrival.
    fn next_session(&mut self, offline: Sampler) -> Option<ChurnEvent> {
        let Reverse((at, _, node, kind)) = self.pending.pop()?;
        Some(match kind {
            Kind::Depart => {
                self.depart(node);
                let back = offline.sample(&mut self.rng);
                let replacement = self.fresh();
                // Reserve the replacement's number now, so numbers follow drawing order.
                self.slot.push(None);
                self.push(at.saturating_add(back), replacement, Kind::Join);
                ChurnEvent {
                    at,
                    node,
                    kind: self.departure,
                    replaced_by: Some(replacement),
                }
            }
            Kind::Join => {
                self.arrive(node, at);
                ChurnEvent {
                    at,
                    node,
                    kind: ChurnKind::Join,
                    replaced_by: None,
                }
            }
        })
    }
}

impl Iterator for Churn {
    type Item = ChurnEvent;

    fn next(&mut self) -> Option<ChurnEvent> {
        match self.model {
            Compiled::Poisson { gap } => Some(self.next_poisson(gap)),
            Compiled::Sessions { offline, .. } => self.next_session(offline),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DRAWS: usize = 200_000;

    fn mean_secs(lifetime: Lifetime) -> f64 {
        let sampler = lifetime.sampler().unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let total: f64 = (0..DRAWS)
            .map(|_| sampler.sample(&mut rng).as_secs_f64())
            .sum();
        total / DRAWS as f64
    }

    fn close(measured: f64, expected: f64, tolerance: f64) -> bool {
        (measured - expected).abs() <= tolerance * expected
    }

    #[test]
    fn lifetimes_have_their_textbook_means() {
        let exp = mean_secs(Lifetime::Exponential { mean_secs: 60.0 });
        assert!(close(exp, 60.0, 0.02), "exponential mean {exp}");
        // Weibull mean = λ Γ(1 + 1/k); Γ(3) = 2 for k = 0.5.
        let weibull = mean_secs(Lifetime::Weibull {
            shape: 0.5,
            scale_secs: 30.0,
        });
        assert!(close(weibull, 60.0, 0.05), "Weibull mean {weibull}");
        // Pareto mean = α x_m / (α − 1) = 3 · 20 / 2 for α = 3.
        let pareto = mean_secs(Lifetime::Pareto {
            shape: 3.0,
            scale_secs: 20.0,
        });
        assert!(close(pareto, 30.0, 0.02), "Pareto mean {pareto}");
    }

    #[test]
    fn pareto_sessions_are_never_shorter_than_the_scale() {
        let sampler = Lifetime::Pareto {
            shape: 1.5,
            scale_secs: 5.0,
        }
        .sampler()
        .unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        assert!((0..10_000).all(|_| sampler.sample(&mut rng) >= Duration::from_secs(5)));
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(Churn::new(ChurnModel::Poisson { rate: 0.0 }, 10, 1).is_err());
        let bad = Lifetime::Weibull {
            shape: -1.0,
            scale_secs: 1.0,
        };
        let model = ChurnModel::Sessions {
            session: bad,
            offline: bad,
        };
        assert!(Churn::new(model, 10, 1).is_err());
    }

    #[test]
    fn poisson_churn_joins_and_fails_at_rate_r() {
        let rate = 0.1;
        let horizon = Duration::from_secs(100_000);
        let churn = Churn::new(ChurnModel::Poisson { rate }, 500, 5).unwrap();
        let events: Vec<_> = churn.take_while(|e| e.at < horizon).collect();
        let count = |k| events.iter().filter(|e| e.kind == k).count() as f64;
        let expected = rate * horizon.as_secs_f64();
        assert!(close(count(ChurnKind::Join), expected, 0.03));
        assert!(close(count(ChurnKind::Fail), expected, 0.03));
        assert!(
            events.windows(2).all(|w| w[0].at <= w[1].at),
            "in time order"
        );
    }

    #[test]
    fn failures_strike_live_nodes_and_joins_bring_new_ones() {
        let churn = Churn::new(ChurnModel::Poisson { rate: 1.0 }, 20, 9).unwrap();
        let mut live: Vec<bool> = vec![true; 20];
        for e in churn.take(5_000) {
            match e.kind {
                ChurnKind::Join => {
                    assert_eq!(e.node, live.len(), "a join brings the next number");
                    live.push(true);
                }
                _ => {
                    assert!(live[e.node], "node {} fails twice", e.node);
                    live[e.node] = false;
                }
            }
        }
    }

    #[test]
    fn sessions_keep_the_online_share_at_session_over_cycle() {
        // Mean session 60 s, mean offline 20 s: 3/4 of the slots online in the long run.
        let session = Lifetime::Weibull {
            shape: 0.5,
            scale_secs: 30.0,
        };
        let offline = Lifetime::Exponential { mean_secs: 20.0 };
        let model = ChurnModel::Sessions { session, offline };
        let mut churn = Churn::new(model, 2_000, 4)
            .unwrap()
            .departing_by(ChurnKind::Leave);
        let (mut area, mut last, mut online) = (0.0, Duration::ZERO, 2_000_usize);
        let horizon = Duration::from_secs(20_000);
        while let Some(e) = churn.next().filter(|e| e.at < horizon) {
            area += online as f64 * (e.at - last).as_secs_f64();
            last = e.at;
            match e.kind {
                ChurnKind::Join => online += 1,
                ChurnKind::Leave => online -= 1,
                ChurnKind::Fail => panic!("departures are polite here"),
            }
            assert_eq!(churn.live(), online);
        }
        let share = area / horizon.as_secs_f64() / 2_000.0;
        assert!(close(share, 0.75, 0.05), "online share {share}");
    }

    #[test]
    fn a_departed_nodes_replacement_joins_under_the_number_announced() {
        let model = ChurnModel::Sessions {
            session: Lifetime::Exponential { mean_secs: 10.0 },
            offline: Lifetime::Exponential { mean_secs: 10.0 },
        };
        let mut announced = std::collections::BTreeSet::new();
        for e in Churn::new(model, 30, 6).unwrap().take(3_000) {
            match (e.kind, e.replaced_by) {
                (ChurnKind::Fail, Some(next)) => assert!(announced.insert(next)),
                (ChurnKind::Join, None) => assert!(
                    announced.remove(&e.node),
                    "node {} joins unannounced",
                    e.node
                ),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(!announced.is_empty(), "some replacements are still offline");
    }

    #[test]
    fn the_same_seed_gives_the_same_stream() {
        let session = Lifetime::Pareto {
            shape: 2.0,
            scale_secs: 10.0,
        };
        let model = ChurnModel::Sessions {
            session,
            offline: session,
        };
        let run = |seed| {
            Churn::new(model, 50, seed)
                .unwrap()
                .take(1_000)
                .collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }
}
