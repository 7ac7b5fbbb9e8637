//! Helpers shared by the loopback tests.

#![allow(dead_code, clippy::unwrap_used)] // each test file uses some of them

use std::net::SocketAddr;
use std::time::Duration;

use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use p2plab_runtime::NodeHandle;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Any free port on loopback.
pub fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Crashes `count` nodes chosen at random, never node 0; returns the indices still alive.
pub fn crash_random(nodes: &[NodeHandle], count: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut victims: Vec<usize> = (1..nodes.len()).collect();
    victims.shuffle(rng);
    victims.truncate(count);
    for &v in &victims {
        nodes[v].crash();
    }
    (0..nodes.len()).filter(|i| !victims.contains(i)).collect()
}

/// How long a raw client waits for bytes before the test fails.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads exactly `n` bytes.
pub async fn read_exact(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    tokio::time::timeout(READ_TIMEOUT, stream.read_exact(&mut buf))
        .await
        .unwrap()
        .unwrap();
    buf
}

/// Writes each of `writes` (one `write_all` apiece), then reads until the peer closes.
pub async fn exchange(stream: &mut TcpStream, writes: &[&[u8]]) -> Vec<u8> {
    for w in writes {
        stream.write_all(w).await.unwrap();
    }
    let mut reply = Vec::new();
    tokio::time::timeout(READ_TIMEOUT, stream.read_to_end(&mut reply))
        .await
        .unwrap()
        .unwrap();
    reply
}

/// A Napster frame as napster.txt gives it: length and type, little-endian, then the data.
pub fn napster_frame(kind: u16, data: &str) -> Vec<u8> {
    let len = u16::try_from(data.len()).unwrap();
    let mut frame = len.to_le_bytes().to_vec();
    frame.extend_from_slice(&kind.to_le_bytes());
    frame.extend_from_slice(data.as_bytes());
    frame
}

/// Reads one Napster frame: its type and its data.
pub async fn read_napster_frame(stream: &mut TcpStream) -> (u16, Vec<u8>) {
    let header = read_exact(stream, 4).await;
    let len = usize::from(u16::from_le_bytes([header[0], header[1]]));
    let kind = u16::from_le_bytes([header[2], header[3]]);
    (kind, read_exact(stream, len).await)
}
