//! Experiment files: `scenarios/chord-paper/*.json`.
//!
//! A file names one experiment and its parameters, externally tagged:
//!
//! ```json
//! { "path_length": { "seed": 1, "exponents": [3, 4, 5], "lookups": 2000 } }
//! ```
//!
//! Files are parsed with `serde_path_to_error`, and every struct refuses unknown fields, so a
//! typo is reported with the path of the field and the line it is on:
//! `failures.fractions[2]: invalid type: string "0.1", expected f64 at line 5 column 31`.

use std::path::Path;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::chord::RingParams;

/// One experiment of the paper's evaluation (SIGCOMM 2001 §6).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Experiment {
    /// Path length against N (SIGCOMM §6.3, Fig. 10).
    PathLength(PathLengthSpec),
    /// Keys per node, with and without virtual nodes (SIGCOMM §6.2, Fig. 8 and 9).
    KeysPerNode(KeysPerNodeSpec),
    /// Failed lookups after simultaneous failures (SIGCOMM §6.4, Fig. 11).
    Failures(FailuresSpec),
    /// Failed lookups under continuous churn (SIGCOMM §6.5, Fig. 12).
    Churn(ChurnSpec),
}

/// Path length: rings of 2^k nodes, random lookups in each.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathLengthSpec {
    /// Seeds every ring and workload.
    pub seed: u64,
    /// The k of each ring size N = 2^k.
    pub exponents: Vec<u32>,
    /// Lookups per ring.
    pub lookups: usize,
    /// Protocol settings of every node.
    #[serde(default)]
    pub ring: RingParams,
}

/// Keys per node: consistent hashing alone, no messages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysPerNodeSpec {
    /// Real nodes.
    pub nodes: usize,
    /// Key counts to place.
    pub keys: Vec<usize>,
    /// Virtual nodes per real node, one table block each.
    pub virtual_nodes: Vec<usize>,
}

/// Simultaneous failures: a ring loses a fraction p of its nodes at once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailuresSpec {
    /// Seeds every ring and workload.
    pub seed: u64,
    /// Nodes before the failure.
    pub nodes: usize,
    /// The fractions p that fail.
    pub fractions: Vec<f64>,
    /// Copies of each record; one series each.
    pub replicas: Vec<usize>,
    /// Names published before the failure.
    pub names: usize,
    /// Keys placed by hashing alone (no messages) to count the fraction whose every copy
    /// crashed, at the paper's key count; 0 counts over the published names only.
    #[serde(default)]
    pub keys: usize,
    /// Lookups after the failure.
    pub lookups: usize,
    /// Stabilize periods to wait once the ring is exact again after the failure, before
    /// looking up (fingers that named dead nodes get refreshed meanwhile).
    pub settle_periods: u32,
    /// Protocol settings of every node (its `replicas` is overridden by the series).
    #[serde(default)]
    pub ring: RingParams,
}

/// Churn: Poisson joins and failures at rate R while lookups run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChurnSpec {
    /// Seeds every ring, churn stream and workload.
    pub seed: u64,
    /// Nodes at the start.
    pub nodes: usize,
    /// Join rate = failure rate R, per second.
    pub rates: Vec<f64>,
    /// Simulated seconds of churn per rate.
    pub duration_s: u64,
    /// One lookup this often, in milliseconds.
    pub lookup_every_ms: u64,
    /// Names published at the start.
    pub names: usize,
    /// Protocol settings of every node.
    #[serde(default)]
    pub ring: RingParams,
}

/// Parses an experiment file's text.
///
/// # Errors
/// Names the offending field by its path, with line and column.
pub fn parse(text: &str) -> anyhow::Result<Experiment> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        anyhow::anyhow!("{path}: {}", e.into_inner())
    })
}

/// Reads and parses an experiment file.
///
/// # Errors
/// When it cannot be read, or does not parse (see [`parse`]).
pub fn load(path: &Path) -> anyhow::Result<Experiment> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(&text).with_context(|| format!("in {}", path.display()))
}
