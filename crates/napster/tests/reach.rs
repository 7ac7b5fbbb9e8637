//! A peer whose index server is not there says so, and why, until it logs in: on the
//! in-memory network, on virtual time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use p2plab_napster::{NapsterNode, Peer, PeerConfig, Server, ServerConfig};
use p2plab_netsim::{Latency, TestNet};
use p2plab_peer_protocol::{CloseReason, Failure, Library, Node};

#[test]
fn a_peer_without_its_server_reports_it_refused_until_the_server_comes() {
    let mut net: TestNet<NapsterNode> =
        TestNet::new(Latency::Constant(Duration::from_millis(5)), 1);
    let server: SocketAddr = "10.9.9.9:8888".parse().unwrap();
    let config = PeerConfig::new(server, "alice", 6699, Arc::new(Library::empty()));
    let peer = net.add(Peer::new(config).into());
    net.run_for(Duration::from_secs(5));

    let problem = net.node(peer).problem().cloned().expect("a problem");
    assert_eq!(problem.what, "index server");
    assert_eq!(problem.tried.len(), 1);
    assert_eq!(problem.tried[0].addr, server);
    assert_eq!(
        problem.tried[0].failure,
        Failure::Closed(CloseReason::Refused)
    );
    assert_eq!(problem.retry_in, Some(Duration::from_secs(2)));
    assert!(
        problem.to_string().starts_with(
            "cannot reach index server 10.9.9.9:8888: connection refused; retrying in 2 s"
        ),
        "{problem}"
    );

    net.add_at(server, Server::new(ServerConfig::default()).into());
    net.run_for(Duration::from_secs(5));
    let node = net.node(peer).as_peer().expect("a peer");
    assert!(node.is_online());
    assert_eq!(net.node(peer).problem(), None, "logging in clears it");
}
