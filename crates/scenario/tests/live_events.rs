//! A watched run on real loopback sockets: the events a watcher hears are the run's own
//! report, phase by phase and in order, and every node that joined or was killed.

#![allow(clippy::unwrap_used)] // a test fails by panicking

use p2plab_scenario::live::{self, Event};
use p2plab_scenario::spec::Network;
use p2plab_scenario::{parse, run, RunOptions};

const PEERS: usize = 6;

const SCENARIO: &str = r#"{
  "name": "watched run",
  "networks": ["napster", "gnutella", "chord"],
  "nodes": 6,
  "seed": 7,
  "files": { "count": 12, "copies": 2, "min_size": 100, "max_size": 1000 },
  "workload": { "rate": 200, "zipf": 0.8, "missing_share": 0.2, "download_share": 0.0, "concurrency": 16 },
  "settings": {
    "gnutella": { "degree": 2, "max_peers": 6, "ttl": 7, "ping_ttl": 2, "ping_interval_s": 30, "search_window_ms": 300 },
    "chord": { "successors": 3, "replicas": 2, "stabilize_ms": 100, "fix_fingers_ms": 50, "join_batch": 3 }
  },
  "timeline": [
    { "start": { "label": "start", "settle_s": 0.3 } },
    { "queries": { "label": "ask", "count": 10 } },
    { "kill_server": { "label": "server dies" } }
  ]
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_hears_the_report_as_it_is_made() {
    let scenario = parse(SCENARIO).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let (events, mut heard) = live::channel();
    let opts = RunOptions {
        scratch: scratch.path().join("scratch"),
        processes: None,
        roster: None,
        progress: false,
        events: Some(events),
    };
    let report = run(&scenario, &opts).await.unwrap();
    let mut all = Vec::new();
    while let Ok(stamped) = heard.try_recv() {
        all.push(stamped.event);
    }
    assert!(
        matches!(all.last(), Some(Event::Done)),
        "the last event ends the run"
    );
    for net in &report.runs[0].networks {
        let phases: Vec<_> = all
            .iter()
            .filter_map(|e| match e {
                Event::Phase {
                    network,
                    index,
                    report,
                    nodes,
                } if *network == net.network => Some((*index, *nodes, report)),
                _ => None,
            })
            .collect();
        assert_eq!(
            phases.len(),
            net.phases.len(),
            "{}: one event a phase",
            net.network
        );
        for (k, ((index, nodes, heard), made)) in phases.iter().zip(&net.phases).enumerate() {
            assert_eq!((*index, *nodes), (k, PEERS));
            assert_eq!(heard.label, made.label);
            assert_eq!(
                heard.messages, made.messages,
                "{}: {}",
                net.network, made.label
            );
            assert_eq!(heard.queries, made.queries);
            assert_eq!(heard.found, made.found);
        }
        let joined = all
            .iter()
            .filter(|e| matches!(e, Event::Joined { network, .. } if *network == net.network))
            .count();
        let server = usize::from(net.network == Network::Napster);
        assert_eq!(joined, PEERS + server, "{}: every node joined", net.network);
    }
    let killed: Vec<_> = all
        .iter()
        .filter_map(|e| match e {
            Event::Left {
                network,
                node,
                crashed,
            } => Some((*network, node.as_str(), *crashed)),
            _ => None,
        })
        .collect();
    assert_eq!(killed, [(Network::Napster, "server", true)]);
}
