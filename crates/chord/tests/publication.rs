//! Files published while the ring is still forming are found once it settles — before any
//! periodic re-publication could have repaired a misplaced entry.

mod common;

use std::sync::Arc;

use common::{net, ring, secs};
use p2plab_peer_protocol::{Command, Event, Library, RequestId};

#[test]
fn entries_published_during_joins_land_at_their_owners() {
    let mut net = net(7);
    let n = 32;
    let ids = ring(&mut net, n, |c| {
        let i = c.seed;
        c.library = Arc::new(Library::synthetic([(format!("f{i}.bin"), 10u64)], 1));
    });
    net.run_for(secs(20));
    assert!(common::ring_is_exact(&net), "the ring settles first");
    for (k, i) in ids.iter().enumerate() {
        net.command(
            ids[0],
            Command::Search {
                request: RequestId(k as u64),
                query: format!("f{i}"),
            },
        );
    }
    net.run_for(secs(5));
    let mut missing = Vec::new();
    for e in net.take_events(ids[0]) {
        if let Event::SearchDone { request, result } = e {
            if result.map(|h| h.len()).unwrap_or(0) != 1 {
                missing.push(request.0);
            }
        }
    }
    assert!(missing.is_empty(), "not found: {missing:?} of {n}");
}
