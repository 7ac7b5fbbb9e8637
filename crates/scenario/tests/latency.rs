//! A scenario with log-normal link latency runs on both engines: the simulator's links take
//! that long, and on real sockets every node holds each message that long before writing
//! it. The same queries find the same files, at the same cost in messages: the messages
//! the searches caused (upkeep follows each engine's clock, and a real run's phase lasts as
//! long as its machine takes). The Gnutella overlay is a tree (preferential attachment, one
//! link per newcomer), so every QueryHit retraces the one path its Query took, whichever
//! engine's latencies drew which copy first.

#![allow(clippy::unwrap_used)] // a test fails by panicking

mod common;

use common::{in_process, ready_phase};
use p2plab_scenario::spec::Network;
use p2plab_scenario::{parse, run, sim};

const SCENARIO: &str = r#"{
  "name": "slow links",
  "networks": ["napster", "gnutella"],
  "nodes": 8,
  "seed": 11,
  "files": { "count": 16, "copies": 2, "min_size": 500, "max_size": 2000 },
  "workload": { "rate": 20, "zipf": 0.5, "missing_share": 0.2, "download_share": 0.5, "concurrency": 8 },
  "settings": {
    "gnutella": { "overlay": "power-law", "degree": 1, "max_peers": 8, "ttl": 7, "ping_ttl": 1, "ping_interval_s": 3600, "search_window_ms": 1500 }
  },
  "latency_ms": { "median": 20, "sigma": 0.5 },
  "timeline": [
    { "start": { "label": "start", "settle_s": 0.5 } },
    { "queries": { "label": "queries", "count": 30 } }
  ]
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_normal_latency_runs_on_both_engines_and_they_agree() {
    let scenario = parse(SCENARIO).unwrap();
    let simulated = sim::run(&scenario, false).unwrap().report;
    let scratch = tempfile::tempdir().unwrap();
    let real = run(&scenario, &in_process(scratch.path())).await.unwrap();
    for net in [Network::Napster, Network::Gnutella] {
        let (r, s) = (
            ready_phase(&real, net, "queries"),
            ready_phase(&simulated, net, "queries"),
        );
        assert_eq!(r.success_rate, Some(1.0), "{net}: {r:?}");
        assert_eq!(
            (r.queries, r.findable, r.found, r.downloads_ok),
            (s.queries, s.findable, s.found, s.downloads_ok),
            "{net}"
        );
        assert_eq!(
            r.search_messages, s.search_messages,
            "{net}: every message the queries caused"
        );
        assert!(r.search_messages > 0, "{net}: the searches cost something");
    }
}
