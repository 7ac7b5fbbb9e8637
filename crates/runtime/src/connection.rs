//! One task per TCP connection: it moves raw bytes between the socket and the node's driver.
//!
//! The task knows nothing of any protocol. Bytes read go to the driver as they come;
//! byte vectors from the driver are written one `write_all` each (so each message is its own
//! write, as the Gnutella wire check wants). When the driver drops its sender — the core
//! closed the connection — the task writes what is queued, shuts the socket down and ends
//! without reporting anything back.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use p2plab_peer_protocol::ConnId;

use crate::driver::ToDriver;

/// Bytes read from a socket per `read` call.
const READ_CHUNK: usize = 16 * 1024;

/// Runs one connection until either side closes it.
pub(crate) async fn run(
    conn: ConnId,
    stream: TcpStream,
    mut outgoing: mpsc::UnboundedReceiver<Vec<u8>>,
    driver: mpsc::UnboundedSender<ToDriver>,
) {
    let (mut rd, mut wr) = stream.into_split();
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        tokio::select! {
            read = rd.read(&mut buf) => match read {
                Ok(0) | Err(_) => {
                    let _ = driver.send(ToDriver::Closed { conn });
                    return;
                }
                Ok(n) => {
                    if driver.send(ToDriver::Received { conn, bytes: buf[..n].to_vec() }).is_err() {
                        return;
                    }
                }
            },
            msg = outgoing.recv() => match msg {
                Some(bytes) => {
                    if wr.write_all(&bytes).await.is_err() {
                        let _ = driver.send(ToDriver::Closed { conn });
                        return;
                    }
                }
                None => {
                    let _ = wr.shutdown().await;
                    return;
                }
            },
        }
    }
}
