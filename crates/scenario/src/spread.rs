//! Seed spread: one scenario played over several seeds, and for each headline figure of
//! each phase and network its mean and a 95% interval.
//!
//! One run is one draw: its files, placement, queries and victims all come from one seed,
//! so its success rate could read 92.7% or 96.2% by the luck of that draw alone. Playing
//! the scenario over the seeds `seed, seed + 1, ...` (cheap on the simulator) and putting
//! an interval around the mean tells how much of a gap between two networks is their
//! design and how much is the draw.
//!
//! Each interval names its method (see [`Method`]):
//! - **t** — over K ≥ 2 seeds: mean ± t(0.975, K − 1) · s / √K. Student's t, not the
//!   normal 1.96, because K is small and the seed-to-seed deviation `s` is itself guessed
//!   from those K runs.
//! - **Wilson** — a proportion (the success rate) from one run: the Wilson score interval
//!   over that run's queries. It stays inside [0, 1] and is honest at 100%, where the
//!   textbook p ± 1.96·√(p(1 − p)/n) shrinks to nothing. It covers the queries' luck within
//!   the run only, not the draw of the plan.
//! - **one seed** — any other figure of one run: no interval at all, and labelled so.
//!
//! The figures are the rows of [`HEADLINE`]: a new column of the report is one more line
//! there, and every table and every `report.json` that carries a spread gains it.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::report::{PhaseReport, Report};
use crate::spec::Network;

/// The normal quantile for a two-sided 95% interval.
const Z_975: f64 = 1.959_964;

/// Student's t(0.975, df) for df = 1..=30, from the standard tables; beyond 30 degrees of
/// freedom [`t_975`] uses the Cornish–Fisher expansion, which agrees with the tables to
/// 0.001 there.
const T_975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// t(0.975, df): the half-width of a 95% interval in standard errors.
fn t_975(df: usize) -> f64 {
    if let Some(t) = df.checked_sub(1).and_then(|i| T_975.get(i)) {
        return *t;
    }
    let (z, n) = (Z_975, df.max(1) as f64);
    let (z3, z5) = (z.powi(3), z.powi(5));
    z + (z3 + z) / (4.0 * n) + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * n * n)
}

/// How an interval was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Student's t over seeds.
    T,
    /// Wilson score interval over one run's trials.
    Wilson,
    /// One run and no interval: `lo == hi == mean`.
    OneSeed,
}

/// A figure's mean over runs and its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Mean over the runs that had the figure.
    pub mean: f64,
    /// Lower end of the 95% interval.
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
    /// Runs that had the figure (a phase without answers has no latency).
    pub runs: usize,
    /// How `lo` and `hi` were made.
    pub method: Method,
}

impl Spread {
    /// Mean and Student-t 95% interval of `values` (one value: no interval); `None` when
    /// there are none.
    pub fn t(values: &[f64]) -> Option<Spread> {
        let k = values.len();
        let mean = values.iter().sum::<f64>() / k as f64;
        if k < 2 {
            return (k == 1).then_some(Spread {
                mean,
                lo: mean,
                hi: mean,
                runs: 1,
                method: Method::OneSeed,
            });
        }
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (k - 1) as f64;
        let half = t_975(k - 1) * (var / k as f64).sqrt();
        Some(Spread {
            mean,
            lo: mean - half,
            hi: mean + half,
            runs: k,
            method: Method::T,
        })
    }

    /// The proportion `successes / trials` of one run and its Wilson 95% interval; `None`
    /// without trials.
    pub fn wilson(successes: u64, trials: u64) -> Option<Spread> {
        if trials == 0 {
            return None;
        }
        let (n, p, z2) = (
            trials as f64,
            successes as f64 / trials as f64,
            Z_975 * Z_975,
        );
        let denom = 1.0 + z2 / n;
        let centre = (p + z2 / (2.0 * n)) / denom;
        let half = Z_975 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
        Some(Spread {
            mean: p,
            lo: (centre - half).max(0.0),
            hi: (centre + half).min(1.0),
            runs: 1,
            method: Method::Wilson,
        })
    }
}

/// How a figure is printed.
#[derive(Debug, Clone, Copy)]
enum Format {
    /// A share, printed as a percentage.
    Percent,
    /// A number with this many decimals.
    Digits(usize),
}

/// A proportion's successes and trials in one phase.
type Trials = fn(&PhaseReport) -> (u64, u64);

/// One headline figure: what it is called and how to read it off a phase.
#[derive(Debug, Clone, Copy)]
pub struct Figure {
    /// Its key in `report.json`.
    pub key: &'static str,
    /// Its column head.
    pub head: &'static str,
    /// Its value in one phase of one run, if the phase has it.
    value: fn(&PhaseReport) -> Option<f64>,
    /// For a proportion, its successes and trials, so one run still gets an interval.
    trials: Option<Trials>,
    format: Format,
}

/// The figures a spread is taken of, in column order. Upkeep is read off `wait` phases:
/// the traffic a network makes with nobody asking it anything.
pub const HEADLINE: &[Figure] = &[
    Figure {
        key: "success",
        head: "success",
        value: |p| p.success_rate,
        trials: Some(|p| (p.found, p.findable)),
        format: Format::Percent,
    },
    Figure::number("search_messages_per_query", "search msgs/query", 1, |p| {
        p.search_messages_per_query
    }),
    Figure::number("latency_p50_ms", "p50 ms", 2, |p| {
        p.latency_ms.map(|l| l.p50)
    }),
    Figure::number("latency_p95_ms", "p95 ms", 2, |p| {
        p.latency_ms.map(|l| l.p95)
    }),
    Figure::number("hops", "hops", 2, |p| p.mean_hops),
    Figure::number("upkeep_per_node_s", "upkeep msgs/node/s", 2, |p| {
        (p.kind == "wait")
            .then_some(p.upkeep_messages_per_node_s)
            .flatten()
    }),
];

impl Figure {
    /// A figure that is a plain number.
    const fn number(
        key: &'static str,
        head: &'static str,
        digits: usize,
        value: fn(&PhaseReport) -> Option<f64>,
    ) -> Figure {
        Figure {
            key,
            head,
            value,
            trials: None,
            format: Format::Digits(digits),
        }
    }

    /// Its spread over `phases`, the same phase of one run per seed.
    fn over(&self, phases: &[&PhaseReport]) -> Option<Spread> {
        match (phases, self.trials) {
            ([one], Some(trials)) => {
                let (k, n) = trials(one);
                Spread::wilson(k, n)
            }
            _ => Spread::t(
                &phases
                    .iter()
                    .filter_map(|p| (self.value)(p))
                    .collect::<Vec<_>>(),
            ),
        }
    }

    /// `x` printed as this figure is.
    fn show(&self, x: f64) -> String {
        match self.format {
            Format::Percent => format!("{:.1}%", x * 100.0),
            Format::Digits(d) => format!("{x:.d$}"),
        }
    }

    /// A table cell: the mean, and its interval in the method's own notation.
    fn cell(&self, s: &Spread) -> String {
        match s.method {
            Method::T => {
                let half = (s.hi - s.lo) / 2.0;
                match self.format {
                    Format::Percent => format!("{} ± {:.1}", self.show(s.mean), half * 100.0),
                    Format::Digits(_) => format!("{} ± {}", self.show(s.mean), self.show(half)),
                }
            }
            Method::Wilson => format!(
                "{} ({}–{})",
                self.show(s.mean),
                self.show(s.lo),
                self.show(s.hi)
            ),
            Method::OneSeed => self.show(s.mean),
        }
    }
}

/// The row of phase `i` of `network` in run `run` of every report, if it has any figure.
fn row(reports: &[Report], run: usize, network: Network, i: usize) -> Option<SpreadRow> {
    let same: Vec<&PhaseReport> = reports
        .iter()
        .filter_map(|r| {
            let n = r
                .runs
                .get(run)?
                .networks
                .iter()
                .find(|n| n.network == network)?;
            n.phases.get(i)
        })
        .collect();
    let figures: BTreeMap<String, Spread> = HEADLINE
        .iter()
        .filter_map(|f| Some((f.key.to_owned(), f.over(&same)?)))
        .collect();
    (!figures.is_empty()).then(|| SpreadRow {
        nodes: reports[0].runs[run].nodes,
        phase: same[0].label.clone(),
        network,
        figures,
    })
}

/// The spread of one scenario over seeds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedSpread {
    /// The seeds played, in order.
    pub seeds: Vec<u64>,
    /// One row per node count, phase and network that has any figure.
    pub rows: Vec<SpreadRow>,
}

/// One phase of one network at one node count, over every seed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SpreadRow {
    /// Peers per network.
    pub nodes: usize,
    /// The phase's label.
    pub phase: String,
    /// Which network.
    pub network: Network,
    /// Each figure of [`HEADLINE`] the phase has, by key.
    pub figures: BTreeMap<String, Spread>,
}

impl SeedSpread {
    /// The spread over `reports`, one per seed, all of the same scenario: a phase is
    /// matched with the phase of the same node count, network and place in the timeline.
    pub fn across(reports: &[Report]) -> SeedSpread {
        let mut rows = Vec::new();
        let Some(first) = reports.first() else {
            return SeedSpread {
                seeds: Vec::new(),
                rows,
            };
        };
        for (run, first_run) in first.runs.iter().enumerate() {
            let phases = first_run.networks.iter().map(|n| n.phases.len());
            for i in 0..phases.max().unwrap_or(0) {
                for net in &first_run.networks {
                    if let Some(row) = row(reports, run, net.network, i) {
                        rows.push(row);
                    }
                }
            }
        }
        SeedSpread {
            seeds: reports.iter().map(|r| r.scenario.seed).collect(),
            rows,
        }
    }

    /// The same spread with one row per node count and network: each figure from the
    /// first of its phases that has it, so that a query step's cost and the upkeep of a
    /// wait stand side by side.
    pub fn per_network(self) -> SeedSpread {
        let mut rows: Vec<SpreadRow> = Vec::new();
        for row in self.rows {
            let same = |r: &&mut SpreadRow| r.nodes == row.nodes && r.network == row.network;
            match rows.iter_mut().find(same) {
                Some(into) => {
                    into.phase = format!("{} + {}", into.phase, row.phase);
                    for (key, spread) in row.figures {
                        into.figures.entry(key).or_insert(spread);
                    }
                }
                None => rows.push(row),
            }
        }
        SeedSpread {
            seeds: self.seeds,
            rows,
        }
    }

    /// The spread as a Markdown table under `title`, with a line that says what the
    /// intervals are.
    pub fn table(&self, title: &str) -> String {
        let mut out = format!("## {title}\n\n{}\n\n| N | phase | network |", self.method());
        let mut rule = "|---|---|---|".to_owned();
        for f in HEADLINE {
            let _ = write!(out, " {} |", f.head);
            rule.push_str("---|");
        }
        let _ = writeln!(out, "\n{rule}");
        for row in &self.rows {
            let _ = write!(out, "| {} | {} | {} |", row.nodes, row.phase, row.network);
            for f in HEADLINE {
                let cell = row.figures.get(f.key).map(|s| f.cell(s));
                let _ = write!(out, " {} |", cell.as_deref().unwrap_or("–"));
            }
            out.push('\n');
        }
        out
    }

    /// What the intervals of this spread are, in words.
    fn method(&self) -> String {
        match self.seeds.as_slice() {
            [seed] => format!(
                "One seed ({seed}): success with its 95% Wilson interval over the phase's \
                 queries in brackets; the other figures are one run, without an interval."
            ),
            seeds => format!(
                "{} seeds ({}–{}): mean ± half-width of the 95% Student-t interval over seeds.",
                seeds.len(),
                seeds.first().copied().unwrap_or_default(),
                seeds.last().copied().unwrap_or_default()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-3
    }

    #[test]
    fn the_t_interval_of_one_to_five() {
        // Mean 3, s = √2.5, standard error √0.5, t(0.975, 4) = 2.776: 3 ± 1.963.
        let s = Spread::t(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!((s.mean, s.runs, s.method), (3.0, 5, Method::T));
        assert!(close(s.lo, 1.037) && close(s.hi, 4.963), "{s:?}");
    }

    #[test]
    fn equal_values_have_no_width_and_one_value_no_interval() {
        let s = Spread::t(&[0.5, 0.5, 0.5]).unwrap();
        assert_eq!((s.lo, s.hi), (0.5, 0.5));
        let one = Spread::t(&[7.0]).unwrap();
        assert_eq!((one.lo, one.hi, one.method), (7.0, 7.0, Method::OneSeed));
        assert_eq!(Spread::t(&[]), None);
    }

    #[test]
    fn t_quantiles_meet_the_normal_one() {
        assert_eq!(t_975(1), 12.706);
        // Past the table the expansion carries on from its last entry, down towards 1.96.
        assert!(close(t_975(31), 2.040), "{}", t_975(31));
        assert!(t_975(31) < t_975(30) && t_975(1000) > Z_975 && t_975(1000) < 1.963);
    }

    #[test]
    fn wilson_stays_inside_zero_and_one() {
        // 10 of 10: [0.7225, 1], where p ± 1.96·√(p(1−p)/n) would claim [1, 1].
        let s = Spread::wilson(10, 10).unwrap();
        assert!(close(s.lo, 0.7225) && close(s.hi, 1.0), "{s:?}");
        // 5 of 10: centred on 0.5, [0.2366, 0.7634].
        let s = Spread::wilson(5, 10).unwrap();
        assert!(close(s.lo, 0.2366) && close(s.hi, 0.7634), "{s:?}");
        assert_eq!(Spread::wilson(0, 0), None);
    }

    /// A report of one network and two phases: queries, then a wait.
    fn report(seed: u64, found: u64, per_query: f64, upkeep: f64) -> Report {
        let queries = PhaseReport {
            label: "steady".into(),
            kind: "queries".into(),
            queries: 100,
            findable: 100,
            found,
            success_rate: Some(found as f64 / 100.0),
            search_messages_per_query: Some(per_query),
            ..PhaseReport::default()
        };
        let wait = PhaseReport {
            label: "idle".into(),
            kind: "wait".into(),
            upkeep_messages_per_node_s: Some(upkeep),
            ..PhaseReport::default()
        };
        Report::for_test(seed, Network::Chord, vec![queries, wait])
    }

    #[test]
    fn a_spread_matches_phases_across_seeds() {
        let reports = [report(1, 90, 10.0, 2.0), report(2, 100, 20.0, 4.0)];
        let spread = SeedSpread::across(&reports);
        assert_eq!(spread.seeds, [1, 2]);
        assert_eq!(spread.rows.len(), 2);
        let steady = &spread.rows[0].figures;
        assert_eq!(steady["success"].mean, 0.95);
        assert_eq!(steady["search_messages_per_query"].mean, 15.0);
        // Two values 10 and 20: s = 7.07, standard error 5, t(0.975, 1) = 12.706.
        assert!(close(
            steady["search_messages_per_query"].hi,
            15.0 + 5.0 * 12.706
        ));
        assert!(!steady.contains_key("upkeep_per_node_s"));
        let idle = &spread.rows[1].figures;
        assert_eq!(idle.keys().collect::<Vec<_>>(), ["upkeep_per_node_s"]);
        assert_eq!(idle["upkeep_per_node_s"].mean, 3.0);
        let table = spread.table("Seed spread");
        assert!(table.contains("2 seeds (1–2)"), "{table}");
        assert!(table.contains("| 95.0% ± "), "{table}");
    }

    #[test]
    fn per_network_puts_upkeep_beside_the_query_cost() {
        let spread = SeedSpread::across(&[report(7, 100, 10.0, 2.0)]).per_network();
        assert_eq!(spread.rows.len(), 1);
        let row = &spread.rows[0];
        assert_eq!(row.phase, "steady + idle");
        assert_eq!(row.figures["search_messages_per_query"].mean, 10.0);
        assert_eq!(row.figures["upkeep_per_node_s"].mean, 2.0);
    }

    #[test]
    fn one_seed_is_labelled_and_its_success_gets_wilson() {
        let spread = SeedSpread::across(&[report(7, 100, 10.0, 2.0)]);
        let steady = &spread.rows[0].figures;
        assert_eq!(steady["success"].method, Method::Wilson);
        assert_eq!(steady["search_messages_per_query"].method, Method::OneSeed);
        let table = spread.table("Scaling");
        assert!(table.contains("One seed (7)"), "{table}");
        assert!(
            table.contains("| 100.0% (96.3%–100.0%) | 10.0 |"),
            "{table}"
        );
    }
}
