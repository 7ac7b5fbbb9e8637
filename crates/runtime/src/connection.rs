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
//!
//! A message may carry a release time (the fabric's latency, see [`crate::fabric`]): the task
//! then holds it until that time before writing it. The task takes messages strictly in
//! turn, so a message is never written before one queued ahead of it, whatever the two
//! drew; and a held message is still counted in the queue's bytes, so holding costs no more
//! memory than a slow reader does. The task goes on reading while it holds.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinSet};
use tokio::time::Instant;

use p2plab_peer_protocol::{CloseReason, ConnId};

use crate::close::close_reason;

use crate::driver::ToDriver;
use crate::limits::{MAX_QUEUED_BYTES, WRITE_TIMEOUT};

/// Bytes read from a socket per `read` call.
const READ_CHUNK: usize = 16 * 1024;

/// One message for the socket, and when it may be written (`None`: at once).
#[derive(Debug)]
struct Outgoing {
    release: Option<Instant>,
    bytes: Vec<u8>,
}

/// The driver's end of one connection: its send queue and its task.
#[derive(Debug)]
pub(crate) struct SendQueue {
    tx: mpsc::UnboundedSender<Outgoing>,
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

    /// Queues `bytes` for sending, not before `release` (if given) and never before what
    /// was queued ahead of it.
    ///
    /// # Errors
    /// [`Overflow`] when this would put more than [`MAX_QUEUED_BYTES`] in the queue: the peer
    /// is not reading, and the caller must [`SendQueue::abort`] it.
    pub(crate) fn push(&self, bytes: Vec<u8>, release: Option<Instant>) -> Result<(), Overflow> {
        let len = bytes.len();
        let before = self.queued.fetch_add(len, Ordering::Relaxed);
        if before + len > MAX_QUEUED_BYTES {
            return Err(Overflow);
        }
        // A task that already ended has reported its close; the bytes have nowhere to go.
        let _ = self.tx.send(Outgoing { release, bytes });
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
    mut outgoing: mpsc::UnboundedReceiver<Outgoing>,
    queued: Arc<AtomicUsize>,
    inbox: mpsc::Sender<ToDriver>,
) {
    let (mut rd, mut wr) = stream.into_split();
    let mut buf = vec![0u8; READ_CHUNK];
    // The message being held back until its release time; nothing behind it is taken
    // from the queue meanwhile.
    let mut held: Option<Outgoing> = None;
    let reason = loop {
        let release = held.as_ref().and_then(|h| h.release);
        tokio::select! {
            read = rd.read(&mut buf) => match read {
                Ok(0) => break CloseReason::PeerClosed,
                Err(e) => break close_reason(&e),
                Ok(n) => {
                    let bytes = buf[..n].to_vec();
                    if inbox.send(ToDriver::Received { conn, bytes }).await.is_err() {
                        return;
                    }
                }
            },
            msg = outgoing.recv(), if held.is_none() => match msg {
                Some(msg) => held = Some(msg),
                None => {
                    let _ = tokio::time::timeout(WRITE_TIMEOUT, wr.shutdown()).await;
                    return;
                }
            },
            () = hold_until(release), if held.is_some() => if let Some(msg) = held.take() {
                match tokio::time::timeout(WRITE_TIMEOUT, wr.write_all(&msg.bytes)).await {
                    Ok(Ok(())) => {
                        queued.fetch_sub(msg.bytes.len(), Ordering::Relaxed);
                    }
                    Ok(Err(e)) => break close_reason(&e),
                    // The peer took nothing for WRITE_TIMEOUT.
                    Err(_) => break CloseReason::TimedOut,
                }
            },
        }
    };
    let _ = inbox.send(ToDriver::Closed { conn, reason }).await;
}

/// Waits until `release`; at once when there is none or it has passed.
async fn hold_until(release: Option<Instant>) {
    if let Some(at) = release.filter(|at| *at > Instant::now()) {
        tokio::time::sleep_until(at).await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a test fails by panicking

    use std::time::Duration;

    use tokio::net::TcpListener;

    use super::*;

    /// A send queue on one end of a loopback connection, and the other end.
    async fn pair(tasks: &mut JoinSet<()>) -> (SendQueue, TcpStream, mpsc::Receiver<ToDriver>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let far = TcpStream::connect(listener.local_addr().unwrap());
        let (far, near) = tokio::join!(far, listener.accept());
        let (inbox, reports) = mpsc::channel(4);
        let queue = SendQueue::open(ConnId(1), near.unwrap().0, inbox, tasks);
        (queue, far.unwrap(), reports)
    }

    #[tokio::test(start_paused = true)]
    async fn held_messages_keep_their_order_and_wait_for_their_time() {
        let mut tasks = JoinSet::new();
        let (queue, mut far, _reports) = pair(&mut tasks).await;
        let start = Instant::now();
        let ms = Duration::from_millis;
        queue.push(b"a".to_vec(), Some(start + ms(30))).unwrap();
        queue.push(b"b".to_vec(), Some(start + ms(10))).unwrap();
        queue.push(b"c".to_vec(), None).unwrap();
        let mut got = [0u8; 3];
        far.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"abc", "nothing overtakes a message held before it");
        assert!(
            Instant::now() >= start + ms(30),
            "the first was held its time"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn held_bytes_count_against_the_send_budget() {
        let mut tasks = JoinSet::new();
        let (queue, _far, _reports) = pair(&mut tasks).await;
        let later = Some(Instant::now() + Duration::from_secs(5));
        queue.push(vec![0; MAX_QUEUED_BYTES], later).unwrap();
        assert_eq!(queue.push(vec![0], None), Err(Overflow));
    }
}
