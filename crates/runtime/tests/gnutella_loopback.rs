//! Gnutella 0.4 on real loopback sockets: a 20-servent random overlay finds and downloads a
//! file three links away, heals after 30% of it crashes, and speaks the spec's bytes to a
//! client written from the specification alone.

#![allow(clippy::unwrap_used)] // a test fails by panicking

mod common;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

use rand::seq::IndexedRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use p2plab_peer_protocol::Library;
use p2plab_runtime::{launch, NodeHandle};

const N: usize = 20;
const MIN_PEERS: usize = 3;

fn track(i: usize) -> Library {
    Library::synthetic([(format!("track {i}.mp3"), 1_000 + i as u64)], 1)
}

/// Starts servent `i` with bootstrap peers; a short search window keeps the test quick.
async fn servent(library: Library, bootstrap: Vec<SocketAddr>) -> NodeHandle {
    launch::gnutella_servent(common::any_port(), library, |c| {
        c.bootstrap = bootstrap;
        c.min_peers = MIN_PEERS;
        c.max_peers = 8;
        c.ping_ttl = 2;
        c.ping_interval = Duration::from_secs(1);
        c.search_window = Duration::from_millis(800);
    })
    .await
    .unwrap()
}

async fn neighbours(node: &NodeHandle) -> Vec<SocketAddr> {
    let state = node.stats().await.unwrap().state;
    serde_json::from_value(state["neighbours"].clone()).unwrap()
}

/// Polls until every live servent has at least `MIN_PEERS` neighbours, all of them live,
/// and the live overlay is one connected piece.
async fn settle(nodes: &[NodeHandle], live: &[usize]) {
    let live_addrs: Vec<SocketAddr> = live.iter().map(|&i| nodes[i].addr()).collect();
    for _ in 0..400 {
        let mut ok = true;
        for &i in live {
            let n = neighbours(&nodes[i]).await;
            ok &= n.len() >= MIN_PEERS && n.iter().all(|a| live_addrs.contains(a));
        }
        if ok && distances(nodes, live[0]).await.len() == live.len() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the overlay did not settle");
}

/// Hop distances from `from` over the servents' own neighbour lists.
async fn distances(nodes: &[NodeHandle], from: usize) -> HashMap<usize, usize> {
    let index: HashMap<SocketAddr, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.addr(), i))
        .collect();
    let mut adj = Vec::new();
    for n in nodes {
        let known = if n.is_stopped() {
            Vec::new()
        } else {
            neighbours(n).await
        };
        adj.push(
            known
                .iter()
                .filter_map(|a| index.get(a).copied())
                .collect::<Vec<_>>(),
        );
    }
    let mut dist = HashMap::from([(from, 0)]);
    let mut queue = VecDeque::from([from]);
    while let Some(u) = queue.pop_front() {
        for &v in &adj[u] {
            if !dist.contains_key(&v) {
                dist.insert(v, dist[&u] + 1);
                queue.push_back(v);
            }
        }
    }
    dist
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_random_overlay_finds_far_files_and_heals_after_a_crash() {
    let mut rng = ChaCha8Rng::seed_from_u64(20);
    let mut nodes: Vec<NodeHandle> = Vec::new();
    for i in 0..N {
        let earlier: Vec<SocketAddr> = nodes.iter().map(NodeHandle::addr).collect();
        let bootstrap = earlier.choose_multiple(&mut rng, 2).copied().collect();
        nodes.push(servent(track(i), bootstrap).await);
    }
    let all: Vec<usize> = (0..N).collect();
    settle(&nodes, &all).await;

    // A new file appears on a servent exactly three links from servent 0.
    let dist = distances(&nodes, 0).await;
    let far = *all
        .iter()
        .find(|i| dist.get(i) == Some(&3))
        .expect("a servent three links away");
    let treasure = Library::synthetic(
        [
            (format!("track {far}.mp3"), 1_000 + far as u64),
            ("deep treasure.bin".to_owned(), 50_000),
        ],
        1,
    );
    let expected = treasure.files()[1].read_all().unwrap();
    nodes[far].share(treasure);
    let hits = nodes[0].search("treasure").await.unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    // Three links at the shortest.
    assert!(hits[0].hops >= Some(3), "{hits:?}");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("treasure.bin");
    nodes[0]
        .get("deep treasure.bin", &out, false)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), expected);

    // 30% crash; the survivors dial replacements from their host caches.
    let live = common::crash_random(&nodes, N * 3 / 10, &mut rng);
    settle(&nodes, &live).await;
    let searches = live[1..].iter().map(|&i| {
        let node = nodes[0].clone();
        async move { (i, node.search(&format!("track {i}")).await.unwrap()) }
    });
    let mut set = tokio::task::JoinSet::new();
    for s in searches {
        set.spawn(s);
    }
    while let Some(done) = set.join_next().await {
        let (i, hits) = done.unwrap();
        assert_eq!(hits.len(), 1, "the file of live servent {i} is found again");
        assert_eq!(hits[0].name, format!("track {i}.mp3"));
    }
}

#[tokio::test]
async fn a_client_written_from_the_spec_gets_a_spec_query_hit() {
    let node = servent(Library::synthetic([("Foobar.mp3", 300u64)], 3), Vec::new()).await;
    let mut s = TcpStream::connect(node.addr()).await.unwrap();
    s.write_all(b"GNUTELLA CONNECT/0.4\n\n").await.unwrap();
    assert_eq!(common::read_exact(&mut s, 13).await, b"GNUTELLA OK\n\n");

    // A Query: GUID, type 0x80, TTL 7, hops 0, length 9 LE; min speed 0, "foobar" NUL.
    let guid = [0x11u8; 16];
    let mut query = guid.to_vec();
    query.extend_from_slice(&[0x80, 7, 0, 9, 0, 0, 0]);
    query.extend_from_slice(&[0, 0]);
    query.extend_from_slice(b"foobar\0");
    s.write_all(&query).await.unwrap();

    // Skip whatever Pings the servent sends, until the QueryHit with our GUID arrives.
    let (header, payload) = loop {
        let header = common::read_exact(&mut s, 23).await;
        let len = u32::from_le_bytes(header[19..23].try_into().unwrap()) as usize;
        let payload = common::read_exact(&mut s, len).await;
        if header[16] == 0x81 {
            break (header, payload);
        }
    };
    assert_eq!(
        header[..16],
        guid,
        "a QueryHit reuses the Query's descriptor ID"
    );
    assert_eq!(header[18], 0, "hops start at 0");
    assert!(header[17] >= 1, "enough TTL to travel back");
    assert_eq!(payload[0], 1, "one hit");
    let port = u16::from_le_bytes([payload[1], payload[2]]);
    assert_eq!(port, node.addr().port(), "port little-endian");
    assert_eq!(payload[3..7], [127, 0, 0, 1], "IPv4 big-endian");
    assert_eq!(
        u32::from_le_bytes(payload[11..15].try_into().unwrap()),
        0,
        "file index"
    );
    assert_eq!(
        u32::from_le_bytes(payload[15..19].try_into().unwrap()),
        300,
        "file size"
    );
    let urn = Library::synthetic([("Foobar.mp3", 300u64)], 3).files()[0]
        .meta
        .urn_sha1()
        .unwrap();
    let record = format!("Foobar.mp3\0{urn}\0");
    assert_eq!(
        &payload[19..19 + record.len()],
        record.as_bytes(),
        "name NUL urn NUL"
    );
    let trailer = 19 + record.len();
    assert_eq!(
        &payload[trailer..trailer + 7],
        b"PLAB\x02\x10\x01",
        "QHD trailer"
    );
    assert_eq!(
        payload.len(),
        trailer + 7 + 16,
        "then the 16-byte servent id, and nothing else"
    );
}

/// Sends one raw HTTP request to `addr` and returns the whole reply.
async fn http(addr: SocketAddr, request: &str) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let reply = common::exchange(&mut s, &[request.as_bytes()]).await;
    String::from_utf8_lossy(&reply).into_owned()
}

#[tokio::test]
async fn http_serves_only_shared_files() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::write(shared.join("song.mp3"), b"0123456789").unwrap();
    std::fs::write(dir.path().join("secret.txt"), b"top secret").unwrap();
    let node = servent(Library::from_dir(&shared).unwrap(), Vec::new()).await;
    let addr = node.addr();

    let ok = http(
        addr,
        "GET /get/0/song.mp3/ HTTP/1.0\r\nRange: bytes=4-\r\n\r\n",
    )
    .await;
    assert!(ok.starts_with("HTTP/1.0 206 Partial Content\r\n"), "{ok}");
    assert!(ok.ends_with("\r\n\r\n456789"), "{ok}");

    // The forms deployed servents send: no trailing slash, a closed range, HEAD.
    let closed = http(
        addr,
        "GET /get/0/song.mp3 HTTP/1.0\r\nRange: bytes=1-2\r\n\r\n",
    )
    .await;
    assert!(
        closed.contains("Content-Range: bytes 1-2/10\r\n"),
        "{closed}"
    );
    assert!(closed.ends_with("\r\n\r\n12"), "{closed}");
    let head = http(addr, "HEAD /get/0/song.mp3 HTTP/1.0\r\n\r\n").await;
    assert!(head.starts_with("HTTP/1.0 200 OK\r\n"), "{head}");
    assert!(head.ends_with("Content-Length: 10\r\n\r\n"), "{head}");

    for (request, status) in [
        ("GET /get/0/..%2Fsecret.txt/ HTTP/1.0\r\n\r\n", "404"),
        ("GET /get/0/../secret.txt HTTP/1.0\r\n\r\n", "404"),
        ("GET /get/1/secret.txt/ HTTP/1.0\r\n\r\n", "404"),
        (
            "GET /get/0/song.mp3/ HTTP/1.0\r\nRange: bytes=99-\r\n\r\n",
            "416",
        ),
        (
            "GET /get/0/song.mp3/ HTTP/1.0\r\nRange: bytes=x-\r\n\r\n",
            "400",
        ),
    ] {
        let reply = http(addr, request).await;
        assert!(
            reply.starts_with(&format!("HTTP/1.0 {status} ")),
            "{request:?} -> {reply}"
        );
        assert!(!reply.contains("top secret"));
    }
}
