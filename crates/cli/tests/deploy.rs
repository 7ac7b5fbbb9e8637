//! The Kubernetes manifests in `deploy/k8s/` stay true to the binary: every container's
//! command line parses with the real `p2plab` (as the book's commands do, see `docs.rs`),
//! and the runner Job's roster and scenario are read by the runner's own parsers and seat
//! exactly the pods the StatefulSets and the Deployment make. (The manifests' fit to the
//! Kubernetes schemas is `scripts/deploy-check.sh`'s.)

mod common;

use std::path::{Path, PathBuf};

use common::parses;
use p2plab_scenario::hosts::Roster;

/// What Kubernetes puts in place of `$(POD_IP)` in a container's arguments: some pod's IP.
const POD_IP: &str = "10.244.1.7";

fn manifests() -> Vec<(PathBuf, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/k8s");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("deploy/k8s is readable")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("a manifest is readable");
            (p, text)
        })
        .collect()
}

/// The containers' `args: [...]` lines (written as one JSON array each).
fn args_lines(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("args: "))
        .map(|json| serde_json::from_str(json).expect("args is a JSON array of strings"))
        .collect()
}

/// The block `key: |` of a ConfigMap, its indentation taken off.
fn block(text: &str, key: &str) -> String {
    let mut lines = text.lines().skip_while(|l| l.trim() != format!("{key}: |"));
    lines.next().expect("the key is there");
    let body: Vec<&str> = lines.take_while(|l| l.starts_with("    ")).collect();
    body.iter().map(|l| &l[4..]).collect::<Vec<_>>().join("\n")
}

/// A manifest's `replicas:` count.
fn replicas(text: &str) -> usize {
    let line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("replicas: "));
    line.expect("a replicas count").parse().expect("a number")
}

#[test]
fn every_container_command_line_parses() {
    let mut checked = 0;
    for (path, text) in manifests() {
        for args in args_lines(&text) {
            let args: Vec<String> = args
                .iter()
                .map(|a| a.replace("$(POD_IP)", POD_IP))
                .collect();
            if let Err(e) = parses(&args) {
                panic!("{}: p2plab {}: {e}", path.display(), args.join(" "));
            }
            checked += 1;
        }
    }
    // Four seat templates (index server, three StatefulSets) and the runner.
    assert_eq!(checked, 5);
}

#[test]
fn the_runners_roster_seats_every_pod_of_the_scenario() {
    let all = manifests();
    let text = |name: &str| {
        let found = all.iter().find(|(p, _)| p.ends_with(name));
        found.map(|(_, t)| t.clone()).expect("the manifest exists")
    };
    let runner = text("runner.yaml");
    let scenario = p2plab_scenario::parse(&block(&runner, "scenario.json"))
        .unwrap_or_else(|e| panic!("the Job's scenario: {e}"));
    // Offline, the pods' names resolve nowhere and the Secret is not mounted: the names
    // become this machine's, the token a file of the test's.
    let dir = tempfile::tempdir().expect("a scratch folder");
    let token = dir.path().join("token");
    std::fs::write(&token, "07".repeat(32)).expect("the token file is written");
    let roster = block(&runner, "roster.json")
        .replace(".p2plab.svc.cluster.local", "")
        .replace("/etc/p2plab/token/token", &token.display().to_string());
    let value: serde_json::Value = serde_json::from_str(&roster).expect("the roster is JSON");
    let mut local = roster.clone();
    for pod in pods(&value) {
        local = local.replace(&format!("\"{pod}:"), "\"localhost:");
    }
    let parsed =
        Roster::parse(&local, dir.path()).unwrap_or_else(|e| panic!("the Job's roster: {e}"));
    parsed
        .check(&scenario)
        .unwrap_or_else(|e| panic!("the roster does not seat the scenario: {e}"));

    for (network, file, service) in [
        ("napster", "napster-peers.yaml", "napster-peer"),
        ("gnutella", "gnutella.yaml", "gnutella"),
        ("chord", "chord.yaml", "chord"),
    ] {
        let peers = value["networks"][network]["peers"]
            .as_array()
            .expect("a list of peers");
        let manifest = text(file);
        assert_eq!(
            peers.len(),
            replicas(&manifest),
            "{network}: one seat a pod"
        );
        for (i, seat) in peers.iter().enumerate() {
            let listen = seat["listen"].as_str().unwrap_or_default();
            assert!(
                listen.starts_with(&format!("{service}-{i}.{service}:")),
                "{network} peers[{i}] is not pod {i}: {listen}"
            );
        }
    }
    let server = value["networks"]["napster"]["server"]["listen"].as_str();
    assert_eq!(server, Some("napster-server:8888"));
}

/// The host names a roster names.
fn pods(roster: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(networks) = roster["networks"].as_object() else {
        return out;
    };
    for seats in networks.values() {
        let server = seats.get("server").into_iter();
        let peers = seats["peers"].as_array().into_iter().flatten();
        for seat in server.chain(peers) {
            for field in ["listen", "control"] {
                if let Some((host, _)) = seat[field].as_str().and_then(|a| a.rsplit_once(':')) {
                    out.push(host.to_owned());
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}
