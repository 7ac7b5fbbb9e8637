//! When QueryHits arrive, on the in-memory network: along a line of servents with one-way
//! latency `LINK` on every link, a holder `k` hops away answers after exactly `2 · k · LINK`
//! (the Query's `k` hops out, the QueryHit's `k` hops back; the in-memory network adds no
//! cost per hop beyond the link's latency, and a servent answers in the same instant it
//! reads). The answer still comes when the window closes, and a hit that needs longer than
//! the window is counted late, not returned.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{build, one_file, LINK};
use p2plab_gnutella::Servent;
use p2plab_netsim::TestNet;
use p2plab_peer_protocol::{Command, Event, Library, RequestId};

/// A line 0 - 1 - … - k, the file at servent `k` only.
fn line(k: usize, window: Duration) -> TestNet<Servent> {
    let adj: Vec<BTreeSet<usize>> = (0..=k)
        .map(|i| {
            let mut n = BTreeSet::new();
            if i > 0 {
                n.insert(i - 1);
            }
            if i < k {
                n.insert(i + 1);
            }
            n
        })
        .collect();
    let files = |i: usize| {
        if i == k {
            one_file("far away.mp3")
        } else {
            Library::default()
        }
    };
    build(&adj, 7, files, |c| c.search_window = window)
}

/// Asks "far away" from servent 0 and returns the answer's hits' arrival times, with the
/// instant the answer came, counted from the search's start.
fn ask(net: &mut TestNet<Servent>) -> (Vec<Option<Duration>>, Duration) {
    let start = net.now();
    net.command(
        0,
        Command::Search {
            request: RequestId(1),
            query: "far away".into(),
        },
    );
    for _ in 0..10_000 {
        net.run_for(Duration::from_millis(1));
        let done = net.take_events(0).into_iter().find_map(|e| match e {
            Event::SearchDone { result, .. } => Some(result),
            _ => None,
        });
        if let Some(result) = done {
            let hits = result.expect("the search runs");
            let arrived = hits.iter().map(|h| h.arrived).collect();
            return (arrived, net.now().saturating_since(start));
        }
    }
    panic!("no answer in 10 s");
}

#[test]
fn the_first_hit_comes_after_two_k_links_and_the_answer_at_the_window() {
    let window = Duration::from_millis(500);
    for k in [1, 3, 5] {
        let mut net = line(k, window);
        let (arrived, answered) = ask(&mut net);
        assert_eq!(arrived, [Some(LINK * 2 * k as u32)], "holder {k} hops away");
        // The answer waits for the whole window (stepped by 1 ms, so within one step).
        assert!(
            answered >= window && answered <= window + Duration::from_millis(1),
            "answered after {answered:?}"
        );
        assert_eq!(net.node(0).late_hits().map(|l| l.hits).sum::<u32>(), 0);
    }
}

#[test]
fn a_holder_reached_only_after_the_window_counts_as_late() {
    // Five hops out and back take 100 ms; the window closes at 50 ms.
    let mut net = line(5, Duration::from_millis(50));
    let (arrived, _) = ask(&mut net);
    assert!(arrived.is_empty(), "nothing came inside the window");
    net.run_for(Duration::from_millis(100));
    let late: Vec<(String, u32)> = net
        .node(0)
        .late_hits()
        .map(|l| (l.query.clone(), l.hits))
        .collect();
    assert_eq!(late, [("far away".to_owned(), 1)]);
}
