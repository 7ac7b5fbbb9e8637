//! The fabric on real loopback sockets: a cut closes the links that cross it and refuses new
//! dials across it, a search then finds only its own side, and a heal lets the servents
//! reconnect by themselves — set on a shared fabric in one process, or through a node's
//! control port. Under log-normal latency, every connection still delivers in order.

#![allow(clippy::unwrap_used)] // a test fails by panicking

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use p2plab_gnutella::DIAL_RETRY;
use p2plab_peer_protocol::control::{ControlReply, ControlRequest};
use p2plab_peer_protocol::{Latency, Library};
use p2plab_runtime::control::{self, ControlClient, ControlOptions};
use p2plab_runtime::launch::Launcher;
use p2plab_runtime::{Fabric, NodeHandle};

/// The longest a test waits for the network to settle, reconnect or close.
const SETTLE: Duration = Duration::from_secs(20);

const ASK: Duration = Duration::from_secs(20);

/// A servent that shares `library`, dials `bootstrap`, and keeps one neighbour.
async fn servent(launcher: &Launcher, library: Library, bootstrap: Vec<SocketAddr>) -> NodeHandle {
    launcher
        .gnutella_servent(common::any_port(), library, |c| {
            c.bootstrap = bootstrap;
            c.min_peers = 1;
            c.search_window = Duration::from_millis(500);
        })
        .await
        .unwrap()
}

fn song() -> Library {
    Library::synthetic([("island song.mp3", 4_000u64)], 1)
}

async fn neighbours(node: &NodeHandle) -> Vec<SocketAddr> {
    let state = node.stats().await.unwrap().state;
    serde_json::from_value(state["neighbours"].clone()).unwrap()
}

/// Polls until `node`'s neighbour list is what `done` wants; fails after [`SETTLE`].
async fn until_neighbours(node: &NodeHandle, done: impl Fn(&[SocketAddr]) -> bool, what: &str) {
    let polled = async {
        while !done(&neighbours(node).await) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(SETTLE, polled)
        .await
        .unwrap_or_else(|_| panic!("{what} within {SETTLE:?}"));
}

/// The seeker dialled the holder; `cut` separates them and `heal` joins them again. The
/// search finds the holder's song before, nothing during, and the song again after.
async fn cut_then_heal(
    seeker: &NodeHandle,
    holder: &NodeHandle,
    cut: impl std::future::Future<Output = ()>,
    heal: impl std::future::Future<Output = ()>,
) {
    let linked = |n: &[SocketAddr]| n.contains(&holder.addr());
    until_neighbours(seeker, linked, "the seeker links to the holder").await;
    assert_eq!(seeker.search("island").await.unwrap().len(), 1);

    cut.await;
    until_neighbours(seeker, <[_]>::is_empty, "the cut closes the link").await;
    until_neighbours(holder, <[_]>::is_empty, "the holder sees it close").await;
    // The seeker keeps redialling its bootstrap servent; every dial is refused.
    tokio::time::sleep(DIAL_RETRY * 2).await;
    assert!(
        neighbours(seeker).await.is_empty(),
        "a dial crossed the cut"
    );
    // Alone, the seeker has nobody to ask (an error) — or, were it linked on its own side,
    // nobody who has the song.
    let found = seeker.search("island").await.unwrap_or_default();
    assert!(found.is_empty(), "{found:?}");

    heal.await;
    until_neighbours(seeker, linked, "the seeker reconnects after the heal").await;
    let hits = seeker.search("island").await.unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].name, "island song.mp3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_fabric_cuts_two_servents_apart_and_heals_them() {
    let fabric = Fabric::open();
    let launcher = Launcher::new(fabric.clone());
    let holder = servent(&launcher, song(), Vec::new()).await;
    let seeker = servent(&launcher, Library::empty(), vec![holder.addr()]).await;
    let sides = vec![vec![seeker.addr()], vec![holder.addr()]];
    let (cutter, healer) = (fabric.clone(), fabric.clone());
    cut_then_heal(
        &seeker,
        &holder,
        async move { cutter.cut(&sides) },
        async move { healer.heal() },
    )
    .await;
}

/// A control client for `node`, its token kept in `dir`.
async fn control_of(node: &NodeHandle, dir: &std::path::Path) -> ControlClient {
    let options = ControlOptions::new(dir.to_owned());
    let server = control::serve(node, common::any_port(), &options)
        .await
        .unwrap();
    ControlClient::find(server.addr, dir).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_ports_cut_nodes_apart_and_heal_them() {
    // Two nodes, each on a fabric of its own, as two processes would be; each is told of
    // the cut through its control port, and each refuses its own dials across it.
    let holder = servent(&Launcher::default(), song(), Vec::new()).await;
    let seeker = servent(&Launcher::default(), Library::empty(), vec![holder.addr()]).await;
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let clients = [
        control_of(&seeker, &run).await,
        control_of(&holder, &run).await,
    ];
    let set = |cut: Option<Vec<Vec<SocketAddr>>>| {
        let clients = clients.clone();
        async move {
            for client in clients {
                let request = ControlRequest::Fabric {
                    cut: cut.clone(),
                    latency: None,
                    seed: 0,
                };
                let reply = client.ask(&request, ASK).await.unwrap();
                assert_eq!(reply, ControlReply::Done);
            }
        }
    };
    let sides = vec![vec![seeker.addr()], vec![holder.addr()]];
    cut_then_heal(&seeker, &holder, set(Some(sides)), set(None)).await;
}

/// A listener the test plays a servent on: accepts one connection and answers the handshake.
async fn accept_handshake(listener: &TcpListener) -> TcpStream {
    let (mut stream, _) = tokio::time::timeout(SETTLE, listener.accept())
        .await
        .expect("the servent dials")
        .unwrap();
    // The 0.6 handshake's three steps: CONNECT with headers, our 200, the servent's 200.
    let mut hello = Vec::new();
    while !hello.ends_with(b"\r\n\r\n") {
        hello.extend(common::read_exact(&mut stream, 1).await);
    }
    assert!(hello.starts_with(b"GNUTELLA CONNECT/0.6\r\n"), "{hello:?}");
    stream
        .write_all(b"GNUTELLA/0.6 200 OK\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(
        common::read_exact(&mut stream, 23).await,
        b"GNUTELLA/0.6 200 OK\r\n\r\n"
    );
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_far_end_of_a_cut_link_sees_it_close_and_no_dial_crosses_until_the_heal() {
    let listener = TcpListener::bind(common::any_port()).await.unwrap();
    let far = listener.local_addr().unwrap();
    let fabric = Fabric::open();
    let node = servent(&Launcher::new(fabric.clone()), Library::empty(), vec![far]).await;
    let mut link = accept_handshake(&listener).await;

    fabric.cut(&[vec![], vec![far]]);
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(SETTLE, link.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the servent closed its link across the cut");
    let redial = tokio::time::timeout(DIAL_RETRY * 3, listener.accept()).await;
    assert!(redial.is_err(), "a dial crossed the cut");

    fabric.heal();
    accept_handshake(&listener).await;
    drop(node);
}

/// A Ping descriptor with `guid`: type 0x00, TTL 1, hops 0, no payload.
fn ping(guid: [u8; 16]) -> Vec<u8> {
    let mut bytes = guid.to_vec();
    bytes.extend_from_slice(&[0x00, 1, 0, 0, 0, 0, 0]);
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_log_normal_latency_a_link_delivers_in_order() {
    let listener = TcpListener::bind(common::any_port()).await.unwrap();
    let fabric = Fabric::open();
    let latency = Latency::LogNormal {
        median: Duration::from_millis(2),
        sigma: 1.0,
    };
    fabric.set_latency(Some(latency), 7);
    let far = listener.local_addr().unwrap();
    let _node = servent(&Launcher::new(fabric), Library::empty(), vec![far]).await;
    let mut link = accept_handshake(&listener).await;

    // Twenty Pings, each answered by its own Pong; each Pong draws its own delay, and still
    // they come back in the order the Pings went.
    const PINGS: u8 = 20;
    for i in 0..PINGS {
        link.write_all(&ping([i; 16])).await.unwrap();
    }
    let mut answered = Vec::new();
    while answered.len() < usize::from(PINGS) {
        let header = common::read_exact(&mut link, 23).await;
        let len = u32::from_le_bytes(header[19..23].try_into().unwrap()) as usize;
        common::read_exact(&mut link, len).await;
        if header[16] == 0x01 {
            answered.push(header[0]);
        }
    }
    assert_eq!(answered, (0..PINGS).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_across_a_slow_overlay_still_find_every_file() {
    let fabric = Fabric::open();
    let latency = Latency::LogNormal {
        median: Duration::from_millis(5),
        sigma: 0.8,
    };
    fabric.set_latency(Some(latency), 11);
    let launcher = Launcher::new(fabric);
    let mut nodes: Vec<NodeHandle> = Vec::new();
    for i in 0..5 {
        let library = Library::synthetic([(format!("slow track {i}.mp3"), 100 + i)], 1);
        let bootstrap = nodes.last().map(NodeHandle::addr).into_iter().collect();
        nodes.push(servent(&launcher, library, bootstrap).await);
    }
    for pair in nodes.windows(2) {
        let before = pair[0].addr();
        until_neighbours(&pair[1], |n| n.contains(&before), "the chain links").await;
    }
    let hits = nodes[4].search("slow track").await.unwrap();
    let mut names: Vec<String> = hits.into_iter().map(|h| h.name).collect();
    names.sort();
    let expected: Vec<String> = (0..4).map(|i| format!("slow track {i}.mp3")).collect();
    assert_eq!(names, expected, "every other servent of the chain answers");
}
