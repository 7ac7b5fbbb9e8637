//! A neighbour that floods Queries, on the in-memory network: its link is cut to the Query
//! budget, and a search from another neighbour during the flood still finds its file.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{one_file, quiet_config, LINK};
use p2plab_gnutella::handshake::CONNECT_04;
use p2plab_gnutella::{
    Descriptor, Guid, Payload, Query, Servent, MAX_QUERIES_FORWARDED_PER_WINDOW,
    MAX_QUERIES_PER_WINDOW,
};
use p2plab_netsim::{Latency, NodeIdx, TestNet};
use p2plab_peer_protocol::{
    Command, ConnId, Hit, Input, Instant, Library, Metrics, Node, Outbox, RequestId, WireMessage,
};

/// Distinct Queries in each burst: more than the seen table holds (16,384), so that without
/// a budget one burst pushes every other search out of it.
const BURST: u32 = 20_000;

/// A hostile neighbour: it dials `target`, says `GNUTELLA CONNECT/0.4`, ignores everything,
/// and on every command writes [`BURST`] new Queries at once.
struct Flooder {
    target: SocketAddr,
    conn: Option<ConnId>,
    sent: u32,
    metrics: Metrics,
}

impl Flooder {
    fn burst(&mut self) -> Vec<u8> {
        let first = self.sent;
        self.sent += BURST;
        (first..self.sent)
            .flat_map(|n| {
                let mut guid = [0xF1; 16];
                guid[..4].copy_from_slice(&n.to_le_bytes());
                Descriptor::new(Guid(guid), 7, Payload::Query(Query::new("flood"))).to_bytes()
            })
            .collect()
    }
}

enum TestNode {
    Servent(Box<Servent>),
    Flooder(Box<Flooder>),
}

impl Node for TestNode {
    fn handle(&mut self, now: Instant, input: Input<'_>, out: &mut Outbox) {
        let f = match self {
            TestNode::Servent(s) => return s.handle(now, input, out),
            TestNode::Flooder(f) => f,
        };
        match input {
            Input::Start => {
                out.connect(f.target);
            }
            Input::Connected { conn } => {
                f.conn = Some(conn);
                out.send(conn, CONNECT_04.to_vec());
            }
            Input::Command(_) => {
                if let Some(conn) = f.conn {
                    let burst = f.burst();
                    out.send(conn, burst);
                }
            }
            _ => {}
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        match self {
            TestNode::Servent(s) => s.poll_timeout(),
            TestNode::Flooder(_) => None,
        }
    }

    fn metrics(&self) -> &Metrics {
        match self {
            TestNode::Servent(s) => s.metrics(),
            TestNode::Flooder(f) => &f.metrics,
        }
    }
}

fn servent(net: &TestNet<TestNode>, idx: NodeIdx) -> &Servent {
    match net.node(idx) {
        TestNode::Servent(s) => s,
        TestNode::Flooder(_) => panic!("node {idx} is the flooder"),
    }
}

/// Adds servent `i` with `library`, bootstrapping to `hub` (if any).
fn add_servent(
    net: &mut TestNet<TestNode>,
    i: usize,
    library: Library,
    hub: Option<NodeIdx>,
) -> NodeIdx {
    let mut config = quiet_config(i, 7, library);
    config.bootstrap = hub.map(|h| net.addr(h)).into_iter().collect();
    net.add(TestNode::Servent(Box::new(Servent::new(config))))
}

fn search_result(net: &mut TestNet<TestNode>, idx: NodeIdx, request: RequestId) -> Vec<Hit> {
    let window = servent(net, idx).config().search_window;
    common::search_outcome(net, idx, request, window)
        .expect("the search ended")
        .expect("the search had neighbours")
}

#[test]
fn a_query_flood_is_cut_to_the_budget_and_other_searches_still_find_their_files() {
    // A hub with three neighbours: the holder of a file, a searcher, and a flooder.
    let mut net = TestNet::new(Latency::Constant(LINK), 7);
    let hub = add_servent(&mut net, 0, Library::empty(), None);
    let holder = add_servent(&mut net, 1, one_file("needle in a haystack.mp3"), Some(hub));
    let searcher = add_servent(&mut net, 2, Library::empty(), Some(hub));
    let flooder = net.add(TestNode::Flooder(Box::new(Flooder {
        target: net.addr(hub),
        conn: None,
        sent: 0,
        metrics: Metrics::default(),
    })));
    net.run_for(Duration::from_secs(1));
    assert_eq!(servent(&net, hub).neighbour_count(), 3);

    // A burst just before the search, and one between its Query and its QueryHit passing
    // the hub (each link takes LINK).
    let flood = || Command::Leave {
        request: RequestId(0),
    };
    net.command(flooder, flood());
    net.run_for(LINK / 2);
    let request = RequestId(1);
    net.command(
        searcher,
        Command::Search {
            request,
            query: "needle".into(),
        },
    );
    net.run_for(LINK / 2);
    net.command(flooder, flood());
    let hits = search_result(&mut net, searcher, request);

    assert_eq!(hits.len(), 1, "the holder's file is found: {hits:?}");
    assert_eq!(hits[0].name, "needle in a haystack.mp3");
    let drops = |reason| servent(&net, hub).metrics().dropped.get(reason).copied();
    let (budget, share) = (MAX_QUERIES_PER_WINDOW, MAX_QUERIES_FORWARDED_PER_WINDOW);
    assert_eq!(drops("query_rate"), Some(u64::from(2 * BURST - budget)));
    assert_eq!(drops("forward_rate"), Some(u64::from(budget - share)));
    let passed_on = |idx| servent(&net, idx).metrics().received["query"].messages;
    assert_eq!(passed_on(searcher), u64::from(share));
    assert_eq!(
        passed_on(holder),
        u64::from(share) + 1,
        "the flood's share, and the search"
    );
}
