//! One task per TCP connection: it moves raw bytes between the socket and the node's driver.
//!
//! The task knows nothing of any protocol. Bytes read go to the driver's inbox as they come;
//! when the inbox is full the task stops reading, and TCP's own flow control slows the
//! sender. Byte vectors from the driver are written one `write_all` each (so each message is
//! its own write, as the Gnutella wire check wants), each within [`WRITE_TIMEOUT`].
//!
//! The driver keeps a [`SendQueue`] per connection that counts the bytes waiting: past
//! [`MAX_QUEUED_BYTES`] the peer is not keeping up, and the driver aborts the task and tells
//! the core the connection closed. When the driver instead drops the queue — the core closed
//! the connection — the task writes what is queued, shuts the socket down and ends without
//! reporting anything back.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinSet};

use p2plab_peer_protocol::ConnId;

use crate::driver::ToDriver;
use crate::limits::{MAX_QUEUED_BYTES, WRITE_TIMEOUT};

/// Bytes read from a socket per `read` call.
const READ_CHUNK: usize = 16 * 1024;

/// The driver's end of one connection: its send queue and its task.
#[derive(Debug)]
pub(crate) struct SendQueue {
    tx: mpsc::UnboundedSender<Vec<u8>>,
    /// Bytes queued and not yet written: the driver adds, the task subtracts.
    queued: Arc<AtomicUsize>,
    task: AbortHandle,
}

/// Why bytes could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overflow;

impl SendQueue {
    /// Starts the task for `stream`, which reports to `inbox`.
    pub(crate) fn open(
        conn: ConnId,
        stream: TcpStream,
        inbox: mpsc::Sender<ToDriver>,
        tasks: &mut JoinSet<()>,
    ) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let task = tasks.spawn(run(conn, stream, rx, queued.clone(), inbox));
        SendQueue { tx, queued, task }
    }

    /// Queues `bytes` for sending.
    ///
    /// # Errors
    /// [`Overflow`] when this would put more than [`MAX_QUEUED_BYTES`] in the queue: the peer
    /// is not reading, and the caller must [`SendQueue::abort`] it.
    pub(crate) fn push(&self, bytes: Vec<u8>) -> Result<(), Overflow> {
        let len = bytes.len();
        let before = self.queued.fetch_add(len, Ordering::Relaxed);
        if before + len > MAX_QUEUED_BYTES {
            return Err(Overflow);
        }
        // A task that already ended has reported its close; the bytes have nowhere to go.
        let _ = self.tx.send(bytes);
        Ok(())
    }

    /// Ends the connection at once, dropping whatever is still queued.
    pub(crate) fn abort(self) {
        self.task.abort();
    }
}

/// Runs one connection until either side closes it.
async fn run(
    conn: ConnId,
    stream: TcpStream,
    mut outgoing: mpsc::UnboundedReceiver<Vec<u8>>,
    queued: Arc<AtomicUsize>,
    inbox: mpsc::Sender<ToDriver>,
) {
    let (mut rd, mut wr) = stream.into_split();
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        tokio::select! {
            read = rd.read(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let bytes = buf[..n].to_vec();
                    if inbox.send(ToDriver::Received { conn, bytes }).await.is_err() {
                        return;
                    }
                }
            },
            msg = outgoing.recv() => match msg {
                Some(bytes) => match tokio::time::timeout(WRITE_TIMEOUT, wr.write_all(&bytes)).await {
                    Ok(Ok(())) => {
                        queued.fetch_sub(bytes.len(), Ordering::Relaxed);
                    }
                    // Failed, or the peer took nothing for WRITE_TIMEOUT.
                    _ => break,
                },
                None => {
                    let _ = tokio::time::timeout(WRITE_TIMEOUT, wr.shutdown()).await;
                    return;
                }
            },
        }
    }
    let _ = inbox.send(ToDriver::Closed { conn }).await;
}
