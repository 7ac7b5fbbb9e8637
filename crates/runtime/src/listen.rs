//! Accept loops: take connections off a listener and hand each to the right server.
//!
//! Gnutella servents and Chord nodes serve file downloads on their protocol port, as
//! Gnutella 0.4 does. The listener reads the first bytes of each connection: `GET ` or
//! `HEAD ` goes to the HTTP uploader, anything else to the protocol core, with the bytes already read.
//!
//! A Napster peer's data port takes two kinds of connection, and both wait for it to speak
//! first: a downloader's, and a firewalled holder's that pushes a file this node asked for
//! (napster.txt §4.1, §4.2). So it greets every connection with `1`, then reads `GET`
//! (to the Napster uploader) or `SEND` (to the download waiting for that push, see
//! [`crate::push`]).
//!
//! Until a connection has said what it is (for HTTP: until its whole request head is in),
//! it holds one of [`MAX_UNIDENTIFIED`] places, for at most [`IDENTIFY_TIMEOUT`]; a newcomer
//! that finds them all taken pushes out the oldest. Uploads then take one of
//! [`MAX_UPLOADS`] slots.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::debug;

use p2plab_peer_protocol::transfer::{napster, Dialect};

use crate::handle::NodeHandle;
use crate::limits::{IDENTIFY_TIMEOUT, MAX_UNIDENTIFIED, MAX_UPLOADS};
use crate::{push, upload};

/// How long a listener waits after a failed accept before it tries again.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// What a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Serves {
    /// Only the protocol core (the Napster index server).
    Core,
    /// The protocol core, and HTTP downloads for connections that begin with `GET `.
    CoreAndHttp,
    /// Only Napster's data-port transfers (a Napster peer's data port): downloads from
    /// this node, and pushes to it.
    NapsterData,
}

/// Accepts connections until the node stops, handing each to `on_accept`.
pub(crate) fn accept_until_stopped(
    listener: TcpListener,
    node: &NodeHandle,
    on_accept: impl FnMut(TcpStream, SocketAddr) + Send + 'static,
) {
    accept_until(listener, node.cancel_token(), on_accept);
}

/// Accepts connections until `cancel` is cancelled, handing each to `on_accept`.
pub(crate) fn accept_until(
    listener: TcpListener,
    cancel: CancellationToken,
    mut on_accept: impl FnMut(TcpStream, SocketAddr) + Send + 'static,
) {
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

/// What one listener shares between its connections.
#[derive(Debug, Clone)]
pub(crate) struct Gate {
    /// Connections still identifying themselves.
    pub unidentified: Unidentified,
    /// Upload slots.
    pub uploads: Arc<Semaphore>,
}

/// Runs an accept loop that serves what `serves` says, until the node stops.
pub(crate) fn spawn(listener: TcpListener, node: NodeHandle, serves: Serves) {
    let gate = Gate {
        unidentified: Unidentified::default(),
        uploads: Arc::new(Semaphore::new(MAX_UPLOADS)),
    };
    accept_until_stopped(listener, &node.clone(), move |mut stream, remote| {
        let _ = stream.set_nodelay(true);
        let node = node.clone();
        let gate = gate.clone();
        match serves {
            Serves::Core => node.accepted(stream, remote, Vec::new()),
            Serves::CoreAndHttp => spawn_guarded(node.clone(), async move {
                let place = gate.unidentified.admit();
                let first = place.identify(sniff(&mut stream, &HTTP_METHODS)).await?;
                if HTTP_METHODS.contains(&first.as_slice()) {
                    upload::serve(stream, node, Dialect::Http, first, place, &gate).await
                } else {
                    drop(place);
                    node.accepted(stream, remote, first);
                    Ok(())
                }
            }),
            Serves::NapsterData => spawn_guarded(node.clone(), async move {
                let place = gate.unidentified.admit();
                upload::write(&mut stream, napster::GREETING).await?;
                let first = place.identify(sniff(&mut stream, &NAPSTER_OPENERS)).await?;
                if first == napster::SEND {
                    push::accept(stream, first, place, node.pushes()).await
                } else {
                    // `GET`, or what the uploader refuses as not a request.
                    upload::serve(stream, node, Dialect::Napster, first, place, &gate).await
                }
            }),
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
            r = task => if let Err(e) = r { debug!("connection ended: {e}") },
        }
    });
}

/// The starts of the HTTP requests the uploader serves: a download, and its head alone.
const HTTP_METHODS: [&[u8]; 2] = [b"GET ", b"HEAD "];

/// The first writes a Napster data port answers after its `1`: a download request, and a
/// firewalled holder's push.
const NAPSTER_OPENERS: [&[u8]; 2] = [napster::GET, napster::SEND];

/// Reads until the first bytes either are one of `openers` or cannot become one; returns
/// them. Never reads past an opener: what follows it is the server's to read.
async fn sniff(stream: &mut TcpStream, openers: &[&[u8]]) -> io::Result<Vec<u8>> {
    let mut first = Vec::with_capacity(5);
    let mut buf = [0u8; 5];
    // The opener that the bytes so far could still become, if any.
    let growing = |first: &[u8]| {
        openers
            .iter()
            .find(|m| m.len() > first.len() && m.starts_with(first))
    };
    while let Some(method) = growing(&first) {
        let want = method.len() - first.len();
        let n = stream.read(&mut buf[..want]).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "closed before saying anything",
            ));
        }
        first.extend_from_slice(&buf[..n]);
    }
    Ok(first)
}

/// The connections of one listener that have not yet identified themselves, oldest first.
#[derive(Debug, Clone, Default)]
pub(crate) struct Unidentified(Arc<Mutex<Waiting>>);

#[derive(Debug, Default)]
struct Waiting {
    next: u64,
    queue: VecDeque<(u64, CancellationToken)>,
}

impl Unidentified {
    /// Gives a new connection a place, pushing out the oldest if all are taken.
    pub(crate) fn admit(&self) -> Place {
        let mut waiting = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if waiting.queue.len() >= MAX_UNIDENTIFIED {
            if let Some((_, oldest)) = waiting.queue.pop_front() {
                debug!("closed the oldest unidentified connection to make room");
                oldest.cancel();
            }
        }
        let (id, cancel) = (waiting.next, CancellationToken::new());
        waiting.next += 1;
        waiting.queue.push_back((id, cancel.clone()));
        Place {
            id,
            cancel,
            owner: self.clone(),
        }
    }

    /// How many connections hold a place now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .queue
            .len()
    }
}

/// One connection's place among the unidentified; dropping it gives the place back.
#[derive(Debug)]
pub(crate) struct Place {
    id: u64,
    cancel: CancellationToken,
    owner: Unidentified,
}

impl Place {
    /// Runs `step` (reading what identifies the connection) unless the connection is pushed
    /// out first or [`IDENTIFY_TIMEOUT`] passes since it was admitted.
    ///
    /// # Errors
    /// `TimedOut` for either, or `step`'s own error.
    pub(crate) async fn identify<T>(
        &self,
        step: impl std::future::Future<Output = io::Result<T>>,
    ) -> io::Result<T> {
        tokio::select! {
            _ = self.cancel.cancelled() => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "pushed out by newer connections before identifying itself",
            )),
            r = tokio::time::timeout(IDENTIFY_TIMEOUT, step) => r.unwrap_or_else(|_| Err(
                io::Error::new(io::ErrorKind::TimedOut, "did not identify itself in time"),
            )),
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut waiting = self.owner.0.lock().unwrap_or_else(PoisonError::into_inner);
        waiting.queue.retain(|(id, _)| *id != self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newcomer_pushes_out_the_oldest_and_leaving_frees_a_place() {
        let gate = Unidentified::default();
        let places: Vec<Place> = (0..MAX_UNIDENTIFIED).map(|_| gate.admit()).collect();
        assert!(places.iter().all(|p| !p.cancel.is_cancelled()));
        let newcomer = gate.admit();
        assert!(places[0].cancel.is_cancelled(), "the oldest goes");
        assert!(places[1..].iter().all(|p| !p.cancel.is_cancelled()));
        assert_eq!(gate.len(), MAX_UNIDENTIFIED);
        drop(newcomer);
        assert_eq!(gate.len(), MAX_UNIDENTIFIED - 1);
        drop(places);
        assert_eq!(gate.len(), 0);
    }
}
