//! Nodes listening on every interface advertise the address they are told to, and are found
//! and downloaded from there; told nothing, they refuse to start; and a node that
//! advertises loopback dials no peer off it.

#![allow(clippy::unwrap_used)] // a test fails by panicking

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use p2plab_chord::RingView;
use p2plab_peer_protocol::{CloseReason, Failure, Holder, Library, Listen};
use p2plab_runtime::{launch, NodeHandle};

/// How many times a test polls a node before it gives up.
const POLLS: usize = 200;

/// The pause between two polls: it paces them, nothing is judged on it.
const PAUSE: Duration = Duration::from_millis(50);

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Every interface, any free port, advertising loopback.
fn everywhere() -> Listen {
    Listen::new("0.0.0.0:0".parse().unwrap(), Some(LOOPBACK))
}

fn shared(name: &str, size: u64) -> Library {
    Library::synthetic([(name.to_owned(), size)], 9)
}

/// Searches until a hit for `name` comes back; returns it.
async fn find(searcher: &NodeHandle, query: &str, name: &str) -> p2plab_peer_protocol::Hit {
    for _ in 0..POLLS {
        let hits = searcher.search(query).await.unwrap_or_default();
        if let Some(hit) = hits.into_iter().find(|h| h.name == name) {
            return hit;
        }
        tokio::time::sleep(PAUSE).await;
    }
    panic!("no hit for {name}");
}

/// Downloads `hit` from `searcher` and checks the bytes are `holder`'s.
async fn download_matches(searcher: &NodeHandle, hit: p2plab_peer_protocol::Hit, holder: &Library) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("got");
    let expected = holder.files()[0].read_all().unwrap();
    searcher.fetch(hit, &out, false).await.unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_servent_on_every_interface_is_found_at_its_advertised_address() {
    let library = shared("wide open.mp3", 40_000);
    let holder = launch::gnutella_servent(everywhere(), library.clone(), |_| {})
        .await
        .unwrap();
    assert_eq!(
        holder.addr().ip(),
        LOOPBACK,
        "it advertises what it was told"
    );
    assert_ne!(holder.addr().port(), 0, "with the port it bound");
    let searcher = launch::gnutella_servent(common::any_port(), Library::empty(), |c| {
        c.bootstrap = vec![holder.addr()];
        c.search_window = Duration::from_millis(500);
    })
    .await
    .unwrap();
    let hit = find(&searcher, "wide open", "wide open.mp3").await;
    let Holder::Http { addr, .. } = hit.holder else {
        panic!("not an HTTP holder: {hit:?}");
    };
    assert_eq!(
        addr,
        holder.addr(),
        "the QueryHit names the advertised address"
    );
    download_matches(&searcher, hit, &library).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chord_node_on_every_interface_joins_and_is_downloaded_from() {
    let fast = |c: &mut p2plab_chord::ChordConfig| {
        c.stabilize_every = Duration::from_millis(100);
        c.fix_fingers_every = Duration::from_millis(50);
        c.republish_every = Duration::from_secs(1);
    };
    let first = launch::chord_node(common::any_port(), Library::empty(), fast)
        .await
        .unwrap();
    let library = shared("ring wide.mp3", 30_000);
    let joined = launch::chord_node(everywhere(), library.clone(), |c| {
        fast(c);
        c.join = Some(first.addr());
    })
    .await
    .unwrap();
    assert_eq!(joined.addr().ip(), LOOPBACK);
    // It enters its bootstrap's ring under the address it advertises.
    let mut in_ring = false;
    for _ in 0..POLLS {
        let view: RingView = serde_json::from_value(first.stats().await.unwrap().state).unwrap();
        if view.successors.first().map(|s| s.addr) == Some(joined.addr()) {
            in_ring = true;
            break;
        }
        tokio::time::sleep(PAUSE).await;
    }
    assert!(in_ring, "the bootstrap's successor became the joined node");
    let hit = find(&first, "ring wide", "ring wide.mp3").await;
    let Holder::Http { addr, .. } = hit.holder else {
        panic!("not an HTTP holder: {hit:?}");
    };
    assert_eq!(
        addr,
        joined.addr(),
        "the index entry names the advertised address"
    );
    download_matches(&first, hit, &library).await;
}

#[tokio::test]
async fn every_interface_without_an_address_to_advertise_does_not_start() {
    let bare: SocketAddr = "0.0.0.0:0".parse().unwrap();
    let err = launch::chord_node(bare, Library::empty(), |_| {})
        .await
        .err()
        .unwrap();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("--advertise"), "{err}");
}

/// A node that advertises loopback is refused any peer off loopback before a byte goes
/// out. The bootstrap here is in 192.0.2.0/24 (TEST-NET-1, RFC 5737: documentation only):
/// it is never dialled, and had it been, the dial would time out or find no route, not
/// fail with the driver's own reason.
#[tokio::test]
async fn a_node_advertising_loopback_dials_no_peer_off_it() {
    let far: SocketAddr = "192.0.2.1:6346".parse().unwrap();
    let servent = launch::gnutella_servent(everywhere(), Library::empty(), |c| {
        c.bootstrap = vec![far];
    })
    .await
    .unwrap();
    for _ in 0..POLLS {
        if let Some(problem) = servent.stats().await.unwrap().problem {
            assert_eq!(problem.tried[0].addr, far, "{problem}");
            assert_eq!(
                problem.tried[0].failure,
                Failure::Closed(CloseReason::LoopbackOnly),
                "{problem}"
            );
            return;
        }
        tokio::time::sleep(PAUSE).await;
    }
    panic!("the servent reported no problem");
}

/// The index server records the address a peer's login came from, as OpenNap does: a
/// peer dials it from the address it advertises, so that is the address the server gives
/// out. Here the peer listens on every interface and advertises 127.0.0.2, another
/// loopback address, while the server is at 127.0.0.1: left to itself the kernel would
/// dial from 127.0.0.1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_napster_peer_is_recorded_at_the_address_it_advertises() {
    let server = launch::napster_server(common::any_port(), Default::default())
        .await
        .unwrap();
    let other = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    let library = shared("told address.mp3", 25_000);
    let listen = Listen::new("0.0.0.0:0".parse().unwrap(), Some(other));
    let holder = launch::napster_peer(server.addr(), listen, "holder", library.clone())
        .await
        .unwrap();
    assert_eq!(holder.addr().ip(), other);
    let searcher = launch::napster_peer(
        server.addr(),
        common::any_port(),
        "searcher",
        Library::empty(),
    )
    .await
    .unwrap();
    let hit = find(&searcher, "told address", "told address.mp3").await;
    let Holder::Napster { ref nick, ip } = hit.holder else {
        panic!("not a Napster holder: {hit:?}");
    };
    assert_eq!(
        (nick.as_str(), IpAddr::from(ip)),
        ("holder", other),
        "{hit:?}"
    );
    download_matches(&searcher, hit, &library).await;
}
