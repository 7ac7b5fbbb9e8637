//! Accept loops: take connections off a listener and hand each to the right server.
//!
//! Gnutella servents and Chord nodes serve file downloads on their protocol port, as
//! Gnutella 0.4 does. The listener peeks at the first four bytes of each connection:
//! `GET ` goes to the HTTP uploader, anything else to the protocol core.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tracing::debug;

use crate::handle::NodeHandle;
use crate::upload;

/// How long a new connection may stay silent before the listener gives up on it.
pub const SNIFF_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a listener waits after a failed accept before it tries again.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// What a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Serves {
    /// Only the protocol core (the Napster index server).
    Core,
    /// The protocol core, and HTTP downloads for connections that begin with `GET `.
    CoreAndHttp,
    /// Only Napster's data-port transfer (a Napster peer's data port).
    NapsterData,
}

/// Accepts connections until the node stops, handing each to `on_accept`.
pub(crate) fn accept_until_stopped(
    listener: TcpListener,
    node: &NodeHandle,
    mut on_accept: impl FnMut(TcpStream, SocketAddr) + Send + 'static,
) {
    let cancel = node.cancel_token();
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = cancel.cancelled() => return,
                a = listener.accept() => a,
            };
            match accepted {
                Ok((stream, remote)) => on_accept(stream, remote),
                // Out of file descriptors, most likely: the connection stays in the backlog,
                // so trying again at once would spin. Pause, and let connections close.
                Err(e) => {
                    debug!(error = %e, "accept failed; pausing");
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = tokio::time::sleep(ACCEPT_BACKOFF) => {}
                    }
                }
            }
        }
    });
}

/// Runs an accept loop that serves what `serves` says, until the node stops.
pub(crate) fn spawn(listener: TcpListener, node: NodeHandle, serves: Serves) {
    accept_until_stopped(listener, &node.clone(), move |stream, remote| {
        let _ = stream.set_nodelay(true);
        let node = node.clone();
        match serves {
            Serves::Core => node.accepted(stream, remote),
            Serves::CoreAndHttp => spawn_guarded(node.clone(), async move {
                if starts_with_get(&stream).await? {
                    upload::serve_http(stream, node).await
                } else {
                    node.accepted(stream, remote);
                    Ok(())
                }
            }),
            Serves::NapsterData => spawn_guarded(node.clone(), upload::serve_napster(stream, node)),
        }
    });
}

/// Runs `task` until it ends or the node stops, whichever is first.
fn spawn_guarded<F>(node: NodeHandle, task: F)
where
    F: std::future::Future<Output = io::Result<()>> + Send + 'static,
{
    let cancel = node.cancel_token();
    tokio::spawn(async move {
        tokio::select! {
            _ = cancel.cancelled() => {}
            r = task => if let Err(e) = r { debug!("transfer ended: {e}") },
        }
    });
}

/// Peeks until the first four bytes are known: are they `GET `?
async fn starts_with_get(stream: &TcpStream) -> io::Result<bool> {
    const GET: &[u8] = b"GET ";
    tokio::time::timeout(SNIFF_TIMEOUT, async {
        let mut buf = [0u8; 4];
        loop {
            let n = stream.peek(&mut buf).await?;
            if n == 0 || !GET.starts_with(&buf[..n]) {
                return Ok(false);
            }
            if n == GET.len() {
                return Ok(true);
            }
            // Only part of the prefix is here; peek returns at once, so wait a moment.
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await
    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "silent connection"))?
}
