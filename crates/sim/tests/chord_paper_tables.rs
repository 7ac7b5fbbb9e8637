//! The committed small-size tables of the Chord paper's experiments are what the code
//! prints now. A change that moves any number fails here until `scripts/chord-paper.sh`
//! regenerates the tables (the full-size ones with them).

use std::path::Path;

use p2plab_sim::chord_paper::{load, run};

/// Runs `scenarios/chord-paper/small/<name>.json` and compares its table with
/// `docs/src/generated/chord-paper/small/<name>/table.md`.
fn matches_committed(name: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let spec = root.join(format!("scenarios/chord-paper/small/{name}.json"));
    let table = root.join(format!(
        "docs/src/generated/chord-paper/small/{name}/table.md"
    ));
    let report = run(&load(&spec).expect("the file parses")).expect("the experiment runs");
    let committed = std::fs::read_to_string(&table).expect("the table is committed");
    assert_eq!(
        report.markdown(),
        committed,
        "{name}: the committed table is stale; run scripts/chord-paper.sh"
    );
}

#[test]
fn the_path_length_table_matches_the_code() {
    matches_committed("path-length");
}

#[test]
fn the_keys_per_node_table_matches_the_code() {
    matches_committed("keys-per-node");
}

#[test]
fn the_failures_table_matches_the_code() {
    matches_committed("failures");
}

#[test]
fn the_churn_table_matches_the_code() {
    matches_committed("churn");
}
