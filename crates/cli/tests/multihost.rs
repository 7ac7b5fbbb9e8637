//! The three networks across emulated hosts: `scripts/multihost.sh` builds network
//! namespaces on a private bridge, starts 10+ nodes of each network spread over them, and
//! checks searches, downloads, joins and a host's crash through the `p2plab` client;
//! `scripts/multihost-roster.sh` runs a scenario through a roster of seats on the
//! namespaces, and beside it on loopback, and compares their verdicts. They need root and
//! iproute2; without them these tests say why and pass without running.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Mutex;

/// The seconds the script may take before it gives up (and cleans up) by itself.
const TIMEOUT_SECS: &str = "420";

/// One script at a time: each loads both cores, and the verdicts of the roster run are
/// measured against a loopback run.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The default tour scaled to 12 peers a network and a few seconds a phase, so that the
/// roster script's two runs fit a test.
const SMALL_TOUR: &str = r#"{
  "name": "default tour, 12 peers a network",
  "networks": ["napster", "gnutella", "chord"],
  "nodes": 12,
  "seed": 2001,
  "files": { "count": 48, "copies": 2, "min_size": 2000, "max_size": 64000 },
  "workload": { "rate": 40, "zipf": 0.8, "missing_share": 0.1, "download_share": 0.2, "concurrency": 16 },
  "settings": {
    "gnutella": { "degree": 4, "max_peers": 8, "ttl": 7, "ping_ttl": 2, "ping_interval_s": 10, "search_window_ms": 1000 },
    "chord": { "successors": 8, "replicas": 3, "stabilize_ms": 250, "fix_fingers_ms": 100, "join_batch": 4 }
  },
  "timeline": [
    { "start": { "label": "start", "settle_s": 2 } },
    { "queries": { "label": "steady", "count": 40 } },
    { "kill_peers": { "label": "20% of peers crash", "fraction": 0.2 } },
    { "wait": { "label": "repair", "seconds": 3 } },
    { "queries": { "label": "after 20% died", "count": 30 } },
    { "kill_server": { "label": "index server dies" } },
    { "queries": { "label": "after the server died", "count": 30 } },
    { "churn": { "label": "churn", "seconds": 4, "joins_per_s": 1, "leaves_per_s": 1, "crash": true } }
  ]
}"#;

/// Why the script cannot run here, if it cannot.
fn missing() -> Option<String> {
    let uid = Command::new("id").arg("-u").output();
    match uid {
        Ok(out) if String::from_utf8_lossy(&out.stdout).trim() == "0" => {}
        Ok(_) => return Some("not root: network namespaces need it".to_owned()),
        Err(e) => return Some(format!("cannot run `id -u`: {e}")),
    }
    match Command::new("ip").arg("-V").output() {
        Ok(out) if out.status.success() => None,
        _ => Some("no `ip` (iproute2) on this machine".to_owned()),
    }
}

/// Runs `scripts/<script>` on 3 hosts in `net` with `env`, prints its output, and returns
/// it once it succeeded.
fn run_script(script: &str, net: &str, env: &[(&str, &str)]) -> String {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts")
        .join(script);
    let out: Output = Command::new("bash")
        .arg(&path)
        .env("P2PLAB_BIN", env!("CARGO_BIN_EXE_p2plab"))
        .env("MULTIHOST_TIMEOUT", TIMEOUT_SECS)
        .env("MULTIHOST_HOSTS", "3")
        .env("MULTIHOST_NET", net)
        .envs(env.iter().copied())
        .output()
        .expect("bash runs the script");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    print!("{text}");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{script} failed: {}", out.status);
    text
}

#[test]
fn searches_downloads_joins_and_a_crash_across_namespaces() {
    if let Some(why) = missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let text = run_script("multihost.sh", "10.77.0", &[("MULTIHOST_PER_HOST", "4")]);
    for line in [
        "ok: host 0's nodes listen on 0.0.0.0 and advertise 10.77.0.1",
        "ok: napster: all 12 peers logged in",
        "ok: napster: a search from host 1 finds host 2's file",
        "ok: napster: downloads across hosts give identical bytes",
        "ok: gnutella: a search from host 1 finds host 0's file at its advertised address",
        "ok: gnutella: downloads across hosts give identical bytes",
        "ok: chord: all 12 nodes joined one ring across 3 hosts",
        "ok: chord: a search from host 2 finds host 0's file at its advertised address",
        "ok: chord: downloads across hosts give identical bytes",
        "ok: a servent advertising 127.0.0.1 refused a peer from host 2",
        "ok: chord: the 8 survivors mended their ring",
        "ok: gnutella: survivors still find and download each other's files",
        "ok: napster: host 2's files are gone from the index, 8 peers remain",
        "multihost: all checks passed",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(line)),
            "no line starting {line:?}"
        );
    }
    // Every address a hit or a download named is a namespace's: none is 0.0.0.0 or
    // loopback.
    for hit in text
        .lines()
        .filter(|l| l.contains("finds") || l.contains("bytes from"))
    {
        assert!(
            !hit.contains("0.0.0.0") && !hit.contains("127.0.0.1"),
            "{hit}"
        );
    }
}

#[test]
fn a_scenario_through_a_roster_of_seats_gives_the_verdicts_of_loopback() {
    if let Some(why) = missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let dir = tempfile::tempdir().expect("a scratch folder");
    let scenario = dir.path().join("small-tour.json");
    std::fs::write(&scenario, SMALL_TOUR).expect("the scenario is written");
    let scenario = scenario.display().to_string();
    let text = run_script(
        "multihost-roster.sh",
        "10.77.0",
        &[("MULTIHOST_SCENARIO", &scenario)],
    );
    for line in [
        "seats: 37 on 3 hosts (12 peers of each network",
        "ok: small-tour ran through the roster",
        "ok: small-tour ran on loopback",
        "ok: same verdicts on all 12 query phases",
        "multihost-roster: all checks passed",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(line)),
            "no line starting {line:?}"
        );
    }
    // The verdicts the design questions expect, on the roster as on loopback: every
    // network finds before the crash, and Napster finds nothing once its server is dead.
    for (phase, network, verdict) in [
        ("steady", "napster", "finds"),
        ("steady", "gnutella", "finds"),
        ("steady", "chord", "finds"),
        ("after the server died", "napster", "none"),
        ("after the server died", "gnutella", "finds"),
    ] {
        let row = format!("| 12 | {phase} | {network} |");
        let line = text.lines().find(|l| l.starts_with(&row));
        assert!(
            line.is_some_and(|l| l.ends_with(&format!("| {verdict} | {verdict} |"))),
            "{row}: {line:?}"
        );
    }
    // Every node ran on a namespace's address, one host in three each.
    for host in ["10.77.0.1", "10.77.0.2", "10.77.0.3"] {
        for network in ["napster", "gnutella", "chord"] {
            let placed = format!("  {network} on {host}: ");
            assert!(
                text.lines().any(|l| l.starts_with(&placed)),
                "no {network} node on {host}"
            );
        }
    }
}
