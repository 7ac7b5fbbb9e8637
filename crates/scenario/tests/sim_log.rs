//! A simulated run's event log: the same scenario and seed give the same log, byte for
//! byte; its phases are the report's own; its snapshots are the cores' real links.

#![allow(clippy::unwrap_used)] // a test fails by panicking

use p2plab_scenario::live::{Event, Log, World, MAX_LOG_ENTRIES};
use p2plab_scenario::spec::Network;
use p2plab_scenario::{parse, sim};

const PEERS: usize = 8;

const SCENARIO: &str = r#"{
  "name": "logged run",
  "networks": ["napster", "gnutella", "chord"],
  "nodes": 8,
  "seed": 11,
  "files": { "count": 16, "copies": 2, "min_size": 100, "max_size": 1000 },
  "workload": { "rate": 200, "zipf": 0.8, "missing_share": 0.2, "download_share": 0.0, "concurrency": 16 },
  "settings": {
    "gnutella": { "degree": 2, "max_peers": 6, "ttl": 7, "ping_ttl": 2, "ping_interval_s": 30, "search_window_ms": 300 },
    "chord": { "successors": 3, "replicas": 2, "stabilize_ms": 100, "fix_fingers_ms": 50, "join_batch": 3 }
  },
  "timeline": [
    { "start": { "label": "start", "settle_s": 0.5 } },
    { "queries": { "label": "ask", "count": 10 } },
    { "kill_peers": { "label": "a quarter dies", "fraction": 0.25 } },
    { "kill_server": { "label": "server dies" } }
  ]
}"#;

fn logged() -> (sim::SimRun, Log) {
    sim::run_logged(&parse(SCENARIO).unwrap(), false).unwrap()
}

#[test]
fn the_same_seed_gives_the_same_log_byte_for_byte() {
    let first = serde_json::to_vec(&logged().1).unwrap();
    let second = serde_json::to_vec(&logged().1).unwrap();
    assert!(first == second, "two runs of one seed logged differently");
    let back: Log = serde_json::from_slice(&first).unwrap();
    let again = serde_json::to_vec(&back).unwrap();
    assert!(
        again == first,
        "a log reads back as written, to the last bit"
    );
}

#[test]
fn the_log_holds_the_report_s_phases_in_virtual_time_order() {
    let (run, log) = logged();
    assert_eq!(log.dropped, 0);
    assert!(matches!(
        log.events.last().map(|e| &e.event),
        Some(Event::Done)
    ));
    assert!(log.events.windows(2).all(|w| w[0].at_us <= w[1].at_us));
    for made in &run.report.runs[0].networks {
        let network = made.network;
        let phases: Vec<_> = log
            .events
            .iter()
            .filter_map(|e| match &e.event {
                Event::Phase {
                    network: n, report, ..
                } if *n == network => Some(report),
                _ => None,
            })
            .collect();
        assert_eq!(
            phases.len(),
            made.phases.len(),
            "{network}: one event a phase"
        );
        for (heard, made) in phases.iter().zip(&made.phases) {
            let json = |r: &p2plab_scenario::report::PhaseReport| serde_json::to_string(r);
            assert_eq!(json(heard).unwrap(), json(made).unwrap(), "{network}");
        }
        let joined = log
            .events
            .iter()
            .filter(|e| matches!(&e.event, Event::Joined { network: n, .. } if *n == network))
            .count();
        let server = usize::from(network == Network::Napster);
        assert_eq!(joined, PEERS + server, "{network}: every node joined");
        let worlds: Vec<&World> = log
            .events
            .iter()
            .filter_map(|e| match &e.event {
                Event::World(w) if w.network == network => Some(&**w),
                _ => None,
            })
            .collect();
        assert_eq!(
            worlds.len(),
            made.phases.len(),
            "{network}: a snapshot a phase"
        );
        let end = worlds.last().unwrap();
        let up = end.nodes.iter().filter(|n| n.up).count();
        let last = made.phases.last().unwrap();
        assert_eq!(
            up,
            last.live_peers + usize::from(last.server_up == Some(true))
        );
        let linked = end
            .nodes
            .iter()
            .filter(|n| n.up && n.links.degree() > 0)
            .count();
        match network {
            // The server is dead: no peer is logged in to anyone.
            Network::Napster => assert_eq!(linked, 0),
            _ => assert_eq!(linked, up, "{network}: every live node has links"),
        }
        let start = worlds[0];
        if network == Network::Napster {
            let server = start.nodes.iter().position(|n| n.name == "server").unwrap();
            assert_eq!(start.nodes[server].links.users.len(), PEERS);
        }
    }
}

#[test]
fn past_its_bound_the_log_keeps_phases_and_counts_the_rest() {
    let (_, full) = logged();
    let mut log = Log::new("bounded", &full.networks, full.seed);
    let world = full
        .events
        .iter()
        .find(|e| matches!(e.event, Event::World(_)))
        .unwrap()
        .clone();
    let Event::World(w) = &world.event else {
        unreachable!()
    };
    let fits = MAX_LOG_ENTRIES / w.nodes.len();
    for _ in 0..fits + 3 {
        log.push(world.clone());
    }
    let phase = full
        .events
        .iter()
        .find(|e| matches!(e.event, Event::Phase { .. }))
        .unwrap();
    log.push(phase.clone());
    assert_eq!(log.events.len(), fits + 1);
    assert_eq!(log.dropped, 3);
    let json = |e| serde_json::to_string(e).unwrap();
    assert_eq!(json(log.events.last().unwrap()), json(phase));
}
