//! Every node kind started against a loopback port where nothing listens says, through its
//! control port's `stats`, that it cannot reach its server or bootstrap, and that the
//! connection was refused.

#![allow(clippy::unwrap_used)] // a test fails by panicking

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use p2plab_peer_protocol::control::{ControlReply, ControlRequest};
use p2plab_peer_protocol::{CloseReason, Failure, Library, Problem};
use p2plab_runtime::control::{self, ControlClient, ControlOptions};
use p2plab_runtime::{launch, NodeHandle};

const ASK: Duration = Duration::from_secs(20);

/// How many times `stats` is read before the test gives up on seeing a problem.
const POLLS: usize = 100;

/// The pause between two reads of `stats`: it paces the polls, nothing is judged on it.
const PAUSE: Duration = Duration::from_millis(100);

/// A loopback address where nothing listens: a port the kernel handed out, then freed.
fn dead_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// Reads the node's `stats` through its control port until it reports a problem.
async fn first_problem(node: &NodeHandle, dir: &std::path::Path) -> Problem {
    let options = ControlOptions::new(dir.to_owned());
    let server = control::serve(node, common::any_port(), &options)
        .await
        .unwrap();
    let client = ControlClient::find(server.addr, dir).unwrap();
    for _ in 0..POLLS {
        let reply = client.ask(&ControlRequest::Stats, ASK).await.unwrap();
        let ControlReply::Stats(stats) = reply else {
            panic!("not a stats reply: {reply:?}");
        };
        if let Some(problem) = stats.problem {
            return problem;
        }
        tokio::time::sleep(PAUSE).await;
    }
    panic!("no problem reported after {POLLS} reads of stats");
}

fn assert_refused(problem: &Problem, what: &str, addr: SocketAddr) {
    assert_eq!(problem.what, what, "{problem}");
    assert_eq!(problem.tried[0].addr, addr, "{problem}");
    assert_eq!(
        problem.tried[0].failure,
        Failure::Closed(CloseReason::Refused),
        "{problem}"
    );
    let text = problem.to_string();
    assert!(text.contains("connection refused"), "{text}");
    assert!(!text.contains("closed"), "a refusal is not a close: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_napster_peer_reports_its_server_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = dead_port();
    let node = launch::napster_peer(server, common::any_port(), "alice", Library::empty())
        .await
        .unwrap();
    let problem = first_problem(&node, &dir.path().join("run")).await;
    assert_refused(&problem, "index server", server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gnutella_servent_reports_its_bootstrap_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bootstrap = dead_port();
    let node = launch::gnutella_servent(common::any_port(), Library::empty(), |c| {
        c.bootstrap = vec![bootstrap];
    })
    .await
    .unwrap();
    let problem = first_problem(&node, &dir.path().join("run")).await;
    assert_refused(&problem, "bootstrap servent", bootstrap);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chord_node_reports_its_bootstrap_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bootstrap = dead_port();
    let node = launch::chord_node(common::any_port(), Library::empty(), |c| {
        c.join = Some(bootstrap);
    })
    .await
    .unwrap();
    let problem = first_problem(&node, &dir.path().join("run")).await;
    assert_refused(&problem, "bootstrap node", bootstrap);
}
