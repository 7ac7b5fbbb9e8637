//! Experiment files parse, and a bad one is reported with the field's path and line.

use p2plab_sim::chord_paper::{load, parse, Experiment};

#[test]
fn a_bad_field_is_named_with_its_path_and_line() {
    let text = r#"{
  "failures": {
    "seed": 1,
    "nodes": 100,
    "fractions": [0.01, "0.1"],
    "replicas": [1],
    "names": 10, "lookups": 10, "settle_periods": 1
  }
}"#;
    let err = parse(text)
        .expect_err("a string is not a fraction")
        .to_string();
    assert!(err.contains("failures.fractions[1]"), "{err}");
    assert!(err.contains("line 5"), "{err}");
}

#[test]
fn an_unknown_field_is_refused_by_name() {
    let text = r#"{ "keys_per_node": { "nodes": 10, "keys": [1], "virtual_nodes": [1],
  "vnodes": 3 } }"#;
    let err = parse(text).expect_err("vnodes is not a field").to_string();
    assert!(err.contains("vnodes") && err.contains("line 2"), "{err}");
}

#[test]
fn every_committed_experiment_file_parses() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/chord-paper");
    let mut kinds = Vec::new();
    for entry in std::fs::read_dir(dir).expect("the folder exists") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            kinds.push(match load(&path).expect("it parses") {
                Experiment::PathLength(_) => "path_length",
                Experiment::KeysPerNode(_) => "keys_per_node",
                Experiment::Failures(_) => "failures",
                Experiment::Churn(_) => "churn",
            });
        }
    }
    kinds.sort_unstable();
    assert_eq!(kinds, ["churn", "failures", "keys_per_node", "path_length"]);
}
