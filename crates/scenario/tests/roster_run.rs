//! A run through a roster: the runner starts no node itself. Every node runs on a seat —
//! a control port waiting for the node the runner sends — listed in a roster file with its
//! token file, as seats on other hosts would be. The timeline still happens: the nodes
//! start, answer, download, crash, and crashed peers start again on their seats where the
//! churn rejoins them. Everything on loopback.

#![allow(clippy::unwrap_used)] // a test fails by panicking

mod common;

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::Arc;

use common::ready_phase;
use p2plab_peer_protocol::Listen;
use p2plab_runtime::control::{ControlOptions, ControlServer};
use p2plab_scenario::hosts::Roster;
use p2plab_scenario::live::{self, Event};
use p2plab_scenario::seat::Seat;
use p2plab_scenario::spec::Network;
use p2plab_scenario::{markdown, parse, run, RunOptions};
use tokio_util::sync::CancellationToken;

const PEERS: usize = 8;

const SCENARIO: &str = r#"{
  "name": "roster run",
  "networks": ["napster", "gnutella", "chord"],
  "nodes": 8,
  "seed": 11,
  "files": { "count": 16, "copies": 2, "min_size": 500, "max_size": 4000 },
  "workload": { "rate": 100, "zipf": 0.8, "missing_share": 0.2, "download_share": 0.5, "concurrency": 16 },
  "settings": {
    "gnutella": { "degree": 2, "max_peers": 6, "ttl": 7, "ping_ttl": 2, "ping_interval_s": 30, "search_window_ms": 300 },
    "chord": { "successors": 4, "replicas": 2, "stabilize_ms": 100, "fix_fingers_ms": 50, "join_batch": 4 }
  },
  "timeline": [
    { "start": { "label": "start", "settle_s": 0.5 } },
    { "queries": { "label": "steady", "count": 30 } },
    { "kill_peers": { "label": "a quarter crash", "fraction": 0.25 } },
    { "wait": { "label": "repair", "seconds": 1.5 } },
    { "queries": { "label": "after the crash", "count": 20 } },
    { "churn": { "label": "churn", "seconds": 2, "joins_per_s": 3, "leaves_per_s": 1, "crash": true } }
  ]
}"#;

/// Where seats' ports are drawn from: below Linux's ephemeral range (32768 and up), which
/// port 0 and every outgoing connection draw from, so that no connection of another test
/// takes a seat's port while its node is down.
const SEAT_PORTS: std::ops::Range<u16> = 20_000..32_000;

/// A port free on loopback now, for a seat to keep: a seat's nodes listen on the same
/// address every time they start, so the roster can name it.
fn free_port() -> SocketAddr {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let span = SEAT_PORTS.end - SEAT_PORTS.start;
    // Each test process starts elsewhere in the range, and walks on from there.
    let start = (std::process::id() % u32::from(span)) as u16;
    loop {
        let k = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = SEAT_PORTS.start + ((u32::from(start) + u32::from(k)) % u32::from(span)) as u16;
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) {
            return listener.local_addr().unwrap();
        }
    }
}

/// Starts one seat, its token file in `tokens`; returns its roster entry.
async fn seat(tokens: &Path, stop: &CancellationToken, servers: &mut Vec<ControlServer>) -> String {
    let listen = free_port();
    let seat = Arc::new(Seat::new(Listen::from(listen)));
    let control = SocketAddr::from(([127, 0, 0, 1], 0));
    let options = ControlOptions::new(tokens.to_owned());
    let server = seat.serve(control, &options, stop.clone()).await.unwrap();
    let entry = format!(
        r#"{{ "listen": "{listen}", "control": "{}", "token_file": "{}" }}"#,
        server.addr,
        server.token_file.path().display()
    );
    servers.push(server);
    entry
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timeline_plays_on_seats_it_did_not_start() {
    let scenario = parse(SCENARIO).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    let stop = CancellationToken::new();
    let mut servers = Vec::new();
    let mut networks = Vec::new();
    for network in ["napster", "gnutella", "chord"] {
        let server = if network == "napster" {
            format!(r#""server": {},"#, seat(&tokens, &stop, &mut servers).await)
        } else {
            String::new()
        };
        let mut peers = Vec::new();
        for _ in 0..PEERS {
            peers.push(seat(&tokens, &stop, &mut servers).await);
        }
        networks.push(format!(
            r#""{network}": {{ {server} "peers": [{}] }}"#,
            peers.join(",\n")
        ));
    }
    let text = format!(r#"{{ "networks": {{ {} }} }}"#, networks.join(",\n"));
    let path = dir.path().join("roster.json");
    std::fs::write(&path, text).unwrap();
    let roster = Roster::load(&path).unwrap();

    let (events, mut heard) = live::channel();
    let opts = RunOptions {
        scratch: dir.path().join("scratch"),
        processes: None,
        roster: Some(Arc::new(roster)),
        progress: false,
        events: Some(events),
    };
    let report = run(&scenario, &opts).await.unwrap();
    stop.cancel();
    assert_eq!(report.mode, "roster");

    for net in [Network::Napster, Network::Gnutella, Network::Chord] {
        let steady = ready_phase(&report, net, "steady");
        assert!(steady.success_rate.unwrap() >= 0.9, "{net}: {steady:?}");
        assert_eq!(steady.outcomes.wrong_hits, 0, "{net}");
        assert!(steady.downloads > 0, "{net}");
        assert_eq!(
            steady.downloads_ok, steady.downloads,
            "{net}: every download verified"
        );
        let after = ready_phase(&report, net, "after the crash");
        assert_eq!(
            after.live_peers,
            PEERS - 2,
            "{net}: a quarter of the peers crashed"
        );
        assert_eq!(
            after.outcomes.wrong_hits, 0,
            "{net}: no hit names a dead seat"
        );
    }

    // Crashed peers started again on their seats where the churn rejoined them.
    let mut joined = std::collections::BTreeMap::<Network, usize>::new();
    while let Ok(event) = heard.try_recv() {
        if let Event::Joined { network, .. } = event.event {
            *joined.entry(network).or_default() += 1;
        }
    }
    for (net, first) in [
        (Network::Napster, PEERS + 1),
        (Network::Gnutella, PEERS),
        (Network::Chord, PEERS),
    ] {
        let starts = joined.get(&net).copied().unwrap_or(0);
        assert!(
            starts > first,
            "{net}: {starts} starts, no rejoin after the crash"
        );
    }

    assert_eq!(report.placement.len(), 3 * PEERS + 1);
    let md = markdown::render(&report);
    assert!(md.contains("## Where each node ran"), "{md}");
    assert!(
        md.contains(&format!(
            "| napster | 127.0.0.1 | {} | server, p0,",
            PEERS + 1
        )),
        "{md}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seat_checks_the_node_it_is_sent_and_holds_one_at_a_time() {
    use p2plab_peer_protocol::control::{ControlReply, ControlRequest};
    use p2plab_runtime::control::ControlClient;
    use std::time::Duration;

    let dir = tempfile::tempdir().unwrap();
    let stop = CancellationToken::new();
    let listen = free_port();
    let seat = Arc::new(Seat::new(Listen::from(listen)));
    let tokens = dir.path().join("tokens");
    let options = ControlOptions::new(tokens.clone());
    let server = seat
        .serve(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            &options,
            stop.clone(),
        )
        .await
        .unwrap();
    let client = ControlClient::find(server.addr, &tokens).unwrap();
    let ask = |req: ControlRequest| {
        let client = client.clone();
        async move { client.ask(&req, Duration::from_secs(20)).await.unwrap() }
    };
    let start = |node: serde_json::Value| ControlRequest::Start {
        node,
        files: vec![("a.txt".to_owned(), 100)],
        content_seed: 1,
    };
    let error = |reply: ControlReply| match reply {
        ControlReply::Error { message } => message,
        other => panic!("not refused: {other:?}"),
    };

    // Nothing runs yet: a node's requests are refused with why.
    assert!(error(ask(ControlRequest::Stats).await).contains("no node runs on the seat"));
    // A document that is no node, and a node with a setting out of range, are refused.
    let junk = error(ask(start(serde_json::json!({"router": {}}))).await);
    assert!(junk.starts_with("not a node this seat can start"), "{junk}");
    let mut chord = serde_json::to_value(p2plab_scenario::node_spec::NodeSpec::Chord {
        settings: Default::default(),
        join: None,
        seed: 3,
    })
    .unwrap();
    chord["chord"]["settings"]["successors"] = serde_json::json!(0);
    let bad = error(ask(start(chord.clone())).await);
    assert!(bad.starts_with("node.chord.settings.successors:"), "{bad}");

    // A good one starts on the seat's address; started again, it replaces the first.
    chord["chord"]["settings"]["successors"] = serde_json::json!(4);
    for _ in 0..2 {
        match ask(start(chord.clone())).await {
            ControlReply::Started { addr } => assert_eq!(addr, listen),
            other => panic!("not started: {other:?}"),
        }
        match ask(ControlRequest::Stats).await {
            ControlReply::Stats(stats) => {
                assert_eq!((stats.kind.as_str(), stats.files), ("chord", 1))
            }
            other => panic!("no stats: {other:?}"),
        }
    }
    // A crash stops the node and leaves the seat.
    assert_eq!(ask(ControlRequest::Crash).await, ControlReply::Done);
    assert!(error(ask(ControlRequest::Stats).await).contains("no node runs on the seat"));
    stop.cancel();
}
