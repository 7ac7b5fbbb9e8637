//! The failure experiment at tiny scale: keeping three copies of every record loses fewer
//! lookups than keeping one.

use p2plab_sim::chord::RingParams;
use p2plab_sim::chord_paper::failures;
use p2plab_sim::chord_paper::spec::FailuresSpec;

#[test]
fn three_replicas_fail_less_than_one_when_a_fifth_of_the_ring_dies() {
    let spec = FailuresSpec {
        seed: 5,
        nodes: 64,
        fractions: vec![0.2],
        replicas: vec![1, 3],
        names: 200,
        keys: 0,
        lookups: 400,
        settle_periods: 20,
        ring: RingParams::default(),
    };
    let report = failures::run(&spec).expect("the rings settle");
    let failed_at = report
        .columns
        .iter()
        .position(|c| c == "failed")
        .expect("a 'failed' column");
    assert!(
        report.rows.iter().all(|r| r[3].starts_with("exact in ")),
        "a fifth of 64 nodes leaves every survivor a live successor: {:?}",
        report.rows
    );
    let failed: Vec<f64> = report
        .rows
        .iter()
        .filter(|r| r[0] == "p2plab")
        .map(|r| r[failed_at].parse().expect("a number"))
        .collect();
    let (one, three) = (failed[0], failed[1]);
    assert!(
        one > 0.05,
        "with one copy, about a fifth of the names die: {one}"
    );
    assert!(three < one / 2.0, "replicas 3: {three}, replicas 1: {one}");
}
