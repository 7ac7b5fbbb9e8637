//! A joining node says why it cannot get into the ring — its bootstrap refused, or speaks a
//! ring of another id width — until it joins: on the in-memory network, on virtual time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use p2plab_chord::{ChordConfig, ChordNode};
use p2plab_netsim::{Latency, TestNet};
use p2plab_peer_protocol::{CloseReason, Failure, Library, Node};

fn node(addr: SocketAddr, join: Option<SocketAddr>, id_bits: u32) -> ChordNode {
    let mut config = ChordConfig::new(addr, join, Arc::new(Library::empty()));
    config.id_bits = id_bits;
    ChordNode::new(config)
}

fn net() -> TestNet<ChordNode> {
    TestNet::new(Latency::Constant(Duration::from_millis(5)), 1)
}

#[test]
fn a_node_whose_bootstrap_is_absent_reports_it_refused_until_it_joins() {
    let mut net = net();
    let bootstrap: SocketAddr = "10.9.9.9:7000".parse().unwrap();
    let me = TestNet::<ChordNode>::addr_for(0);
    let idx = net.add_at(me, node(me, Some(bootstrap), 160));
    net.run_for(Duration::from_secs(5));

    let problem = net.node(idx).problem().cloned().expect("a problem");
    assert_eq!(problem.what, "bootstrap node");
    assert_eq!(problem.tried[0].addr, bootstrap);
    assert_eq!(
        problem.tried[0].failure,
        Failure::Closed(CloseReason::Refused)
    );
    assert!(problem.retry_in.is_some(), "the join is retried");

    net.add_at(bootstrap, node(bootstrap, None, 160));
    net.run_for(Duration::from_secs(10));
    assert!(net.node(idx).is_joined());
    assert_eq!(net.node(idx).problem(), None, "joining clears it");
}

#[test]
fn a_node_with_other_id_bits_than_its_bootstrap_names_both_widths() {
    for (theirs, ours) in [(16, 160), (160, 16)] {
        let mut net = net();
        let bootstrap = TestNet::<ChordNode>::addr_for(0);
        net.add_at(bootstrap, node(bootstrap, None, theirs));
        let me = TestNet::<ChordNode>::addr_for(1);
        let idx = net.add_at(me, node(me, Some(bootstrap), ours));
        let events = net.events();
        net.run_for(Duration::from_secs(30));

        assert!(!net.node(idx).is_joined());
        let problem = net.node(idx).problem().cloned().expect("a problem");
        assert_eq!(problem.tried[0].addr, bootstrap);
        let want = format!("it speaks a ring of {theirs}-bit ids, this node {ours}-bit");
        assert!(
            matches!(&problem.tried[0].failure, Failure::Incompatible(why) if why.starts_with(&want)),
            "{problem}"
        );
        // Retried once per stabilize, not in a hot loop: a few hundred inputs in 30 s.
        assert!(net.events() - events < 2_000, "{}", net.events() - events);
    }
}
