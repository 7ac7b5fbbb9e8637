//! Mean and percentiles of a sample, as the paper's figures report them.

use serde::{Deserialize, Serialize};

/// Mean, 1st and 99th percentile of a sample (all zero for an empty one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// How many values.
    pub count: usize,
    /// Their mean.
    pub mean: f64,
    /// The 1st percentile.
    pub p1: f64,
    /// The 99th percentile.
    pub p99: f64,
}

impl Summary {
    /// Summarises `values`; percentiles by the nearest-rank rule on the sorted sample.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Self {
        let mut v: Vec<f64> = values.into_iter().collect();
        if v.is_empty() {
            return Summary::default();
        }
        v.sort_by(f64::total_cmp);
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        Summary {
            count: v.len(),
            mean,
            p1: percentile(&v, 1.0),
            p99: percentile(&v, 99.0),
        }
    }
}

/// The nearest-rank `pct`-th percentile of the sorted, non-empty `sorted`.
fn percentile(sorted: &[f64], pct: f64) -> f64 {
    let rank = (pct / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_of_one_to_a_hundred() {
        let s = Summary::of((1..=100).map(f64::from));
        assert_eq!(s.count, 100);
        assert_eq!(s.mean, 50.5);
        assert_eq!(s.p1, 1.0);
        assert_eq!(s.p99, 99.0);
    }

    #[test]
    fn an_empty_sample_is_all_zero() {
        assert_eq!(Summary::of([]), Summary::default());
    }
}
