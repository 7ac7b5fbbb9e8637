//! Peers that attack the driver, on real loopback sockets: one that never reads what it asked
//! for, a crowd of connections that never say what they are, downloaders that hold every
//! upload slot. Each must cost the node a bounded amount, and the node must go on serving
//! everyone else.

#![allow(clippy::unwrap_used)] // a test fails by panicking

mod common;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use p2plab_peer_protocol::Library;
use p2plab_runtime::limits::{MAX_UNIDENTIFIED, MAX_UPLOADS};
use p2plab_runtime::{launch, NodeHandle};

/// A connection whose receive buffer is tiny, so what the other side sends piles up there.
async fn connect_small_window(addr: std::net::SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(addr).await.unwrap()
}

async fn server_state(server: &NodeHandle, key: &str) -> u64 {
    server.stats().await.unwrap().state[key].as_u64().unwrap()
}

/// Polls (a bounded number of times) until `key` of the server's state is `want`.
async fn wait_for_state(server: &NodeHandle, key: &str, want: u64) {
    for _ in 0..400 {
        if server_state(server, key).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the server's {key} never became {want}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_napster_client_that_never_reads_is_disconnected_and_others_go_on() {
    let server = launch::napster_server(common::any_port(), Default::default())
        .await
        .unwrap();
    let files: Vec<(String, u64)> = (0..100)
        .map(|i| (format!("popular song {i}.mp3"), 1_000))
        .collect();
    let _holder = launch::napster_peer(
        server.addr(),
        common::any_port(),
        "holder",
        Library::synthetic(files, 1),
    )
    .await
    .unwrap();
    wait_for_state(&server, "files", 100).await;

    // Mallory logs in and asks for 100 results at a time, and reads none of them.
    let mut mallory = connect_small_window(server.addr()).await;
    let login = common::napster_frame(2, "mallory secret 0 \"hostile 1.0\" 0");
    mallory.write_all(&login).await.unwrap();
    let search = common::napster_frame(200, "FILENAME CONTAINS \"popular\" MAX_RESULTS 100");
    // Each search makes the server queue ~8 KB of results; 20,000 of them (160 MB) would
    // have to wait somewhere if the server never gave up on Mallory.
    for _ in 0..20_000 {
        let sent = tokio::time::timeout(Duration::from_secs(30), mallory.write_all(&search)).await;
        if !matches!(sent, Ok(Ok(()))) {
            break; // the server has hung up
        }
    }

    // The server hangs up on Mallory: only the holder is still connected, and a newcomer
    // searches as usual.
    wait_for_state(&server, "connections", 1).await;
    let dave = launch::napster_peer(server.addr(), common::any_port(), "dave", Library::empty())
        .await
        .unwrap();
    let mut found = 0;
    for _ in 0..200 {
        found = dave.search("popular song").await.map_or(0, |h| h.len());
        if found > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(found, 100);
}

/// How many connections, of those we hold open, the node has already closed.
async fn closed_by_node(conns: &mut [TcpStream]) -> usize {
    let mut closed = 0;
    for c in conns.iter_mut() {
        let mut b = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_millis(1), c.read(&mut b)).await;
        if let Ok(Ok(0) | Err(_)) = read {
            closed += 1;
        }
    }
    closed
}

/// Connections the test may open against one node: 2,000, or fewer under a low file limit.
fn crowd_size() -> usize {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(1024);
    2_000.min(soft.saturating_sub(200) / 2)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_of_silent_connections_cannot_keep_a_search_or_a_download_out() {
    let song = Library::synthetic([("crowded song.mp3", 300_000u64)], 3);
    let want = song.files()[0].read_all().unwrap();
    let holder = launch::gnutella_servent(common::any_port(), song, |c| {
        c.min_peers = 1;
        c.search_window = Duration::from_millis(500);
    })
    .await
    .unwrap();
    let seeker = launch::gnutella_servent(common::any_port(), Library::empty(), |c| {
        c.bootstrap = vec![holder.addr()];
        c.min_peers = 1;
        c.search_window = Duration::from_millis(500);
    })
    .await
    .unwrap();

    // The crowd: each connection sends the first byte of a request, then nothing more
    // (a drip of one byte every few seconds looks the same to a total deadline).
    let size = crowd_size();
    let mut crowd = Vec::with_capacity(size);
    for _ in 0..size {
        let mut c = TcpStream::connect(holder.addr()).await.unwrap();
        c.write_all(b"G").await.unwrap();
        crowd.push(c);
    }

    // The seeker still finds and downloads the file while the crowd is there.
    let mut hits = Vec::new();
    for _ in 0..100 {
        hits = seeker.search("crowded").await.unwrap_or_default();
        if !hits.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(hits.len(), 1, "the search found nothing under the crowd");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("song.mp3");
    seeker.get("crowded song.mp3", &out, false).await.unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), want);

    // Of the crowd, at most MAX_UNIDENTIFIED are still waiting; the node closed the rest.
    let mut closed = 0;
    for _ in 0..100 {
        closed = closed_by_node(&mut crowd).await;
        if closed >= size - MAX_UNIDENTIFIED {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        closed >= size - MAX_UNIDENTIFIED,
        "{closed} of {size} silent connections closed; the rest still hold the node's descriptors"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_every_upload_slot_is_held_a_newcomer_is_told_503() {
    // A file far larger than the socket buffers, so an upload to a downloader that does not
    // read stays in its slot.
    let big = Library::synthetic([("big.bin", 64 * 1024 * 1024u64)], 5);
    let node = launch::gnutella_servent(common::any_port(), big, |c| c.min_peers = 0)
        .await
        .unwrap();
    let get = b"GET /get/0/big.bin HTTP/1.0\r\n\r\n";
    let mut holders = Vec::new();
    for _ in 0..MAX_UPLOADS {
        let mut c = connect_small_window(node.addr()).await;
        c.write_all(get).await.unwrap();
        // The head arrives first: this upload has its slot.
        let head = common::read_exact(&mut c, 12).await;
        assert_eq!(&head, b"HTTP/1.0 200");
        holders.push(c);
    }
    let mut late = TcpStream::connect(node.addr()).await.unwrap();
    let reply = common::exchange(&mut late, &[get]).await;
    let text = String::from_utf8_lossy(&reply);
    assert!(
        text.starts_with("HTTP/1.0 503 Service Unavailable\r\n"),
        "{text}"
    );

    // A slot comes free when its downloader leaves.
    drop(holders.pop());
    let mut ok = false;
    for _ in 0..100 {
        let mut c = connect_small_window(node.addr()).await;
        c.write_all(get).await.unwrap();
        if common::read_exact(&mut c, 12).await == b"HTTP/1.0 200" {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "the freed slot was never given out");
}
