//! A servent none of whose bootstrap servents answers says so — each address and why —
//! until a handshake completes: on the in-memory network, on virtual time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use p2plab_gnutella::{Servent, ServentConfig};
use p2plab_netsim::{Latency, TestNet};
use p2plab_peer_protocol::{CloseReason, Failure, Library, Node};

fn servent(addr: SocketAddr, bootstrap: Vec<SocketAddr>) -> Servent {
    let mut config = ServentConfig::new(addr, Arc::new(Library::empty()));
    config.bootstrap = bootstrap;
    Servent::new(config)
}

#[test]
fn a_servent_whose_bootstraps_are_absent_names_each_until_one_answers() {
    let mut net: TestNet<Servent> = TestNet::new(Latency::Constant(Duration::from_millis(5)), 1);
    let absent: Vec<SocketAddr> = ["10.9.9.1:6346", "10.9.9.2:6346"]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
    let me = TestNet::<Servent>::addr_for(0);
    let idx = net.add_at(me, servent(me, absent.clone()));
    net.run_for(Duration::from_secs(1));

    let problem = net.node(idx).problem().cloned().expect("a problem");
    assert_eq!(problem.what, "bootstrap servent");
    assert_eq!(problem.tried_count, 2);
    let tried: Vec<(SocketAddr, Failure)> = problem
        .tried
        .iter()
        .map(|a| (a.addr, a.failure.clone()))
        .collect();
    let refused = Failure::Closed(CloseReason::Refused);
    assert_eq!(
        tried,
        vec![(absent[0], refused.clone()), (absent[1], refused)]
    );
    let text = problem.to_string();
    assert!(
        text.starts_with(
            "cannot reach any of 2 bootstrap servents: 10.9.9.1:6346 connection refused, \
             10.9.9.2:6346 connection refused; retrying in"
        ),
        "{text}"
    );

    net.add_at(absent[1], servent(absent[1], Vec::new()));
    net.run_for(Duration::from_secs(10));
    assert_eq!(net.node(idx).neighbour_count(), 1);
    assert_eq!(net.node(idx).problem(), None, "a handshake clears it");
}

#[test]
fn a_servent_with_no_bootstrap_list_has_no_problem() {
    let mut net: TestNet<Servent> = TestNet::new(Latency::Constant(Duration::from_millis(5)), 1);
    let me = TestNet::<Servent>::addr_for(0);
    let idx = net.add_at(me, servent(me, Vec::new()));
    net.run_for(Duration::from_secs(10));
    assert_eq!(
        net.node(idx).problem(),
        None,
        "alone by design is not a problem"
    );
}
