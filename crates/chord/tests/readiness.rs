//! A node that cannot answer yet says so: a search asked while the ring is still taking the
//! node in is "not ready", never a "no file matches"; the same search once the ring has
//! converged finds the file.

mod common;

use std::sync::Arc;

use common::*;
use p2plab_peer_protocol::{Command, Event, Hit, Holder, Library, RequestId, SearchError};

/// Asks `query` at `from` and runs the network until the answer is in.
fn search(
    net: &mut Net,
    from: p2plab_netsim::NodeIdx,
    query: &str,
) -> Result<Vec<Hit>, SearchError> {
    net.command(
        from,
        Command::Search {
            request: RequestId(3),
            query: query.into(),
        },
    );
    net.run_for(secs(5));
    match net.take_events(from).as_slice() {
        [Event::SearchDone { result, .. }] => result.clone(),
        other => panic!("search {query:?}: {other:?}"),
    }
}

#[test]
fn a_search_before_the_ring_is_ready_is_not_ready_and_after_it_is_found() {
    let mut net = net(21);
    let holder = Net::addr_for(0);
    let ids = ring(&mut net, 8, |c| {
        if c.addr == holder {
            let names = vec![("Blue Monday.mp3".to_owned(), 100)];
            c.library = Arc::new(Library::synthetic(names, 1));
        }
    });
    // Node 5 has been started but has not heard back from its bootstrap: still joining.
    let asker = ids[5];
    match search(&mut net, asker, "blue monday") {
        Err(SearchError::NotReady(why)) => assert!(why.contains("joining"), "{why}"),
        other => panic!("a joining node answered {other:?}"),
    }
    assert!(net.run_until_cond(secs(600), |n| ring_is_exact(n)));
    net.run_for(secs(10));
    let hits = search(&mut net, asker, "blue monday").expect("the ring is ready");
    assert!(
        hits.iter()
            .any(|h| matches!(h.holder, Holder::Http { addr, .. } if addr == holder)),
        "{hits:?}"
    );
}
