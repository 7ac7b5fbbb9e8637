//! The view's listening socket, with a bound on the connections open at once.
//!
//! Each accepted connection holds one of [`MAX_CONNECTIONS`] slots until it closes; while
//! every slot is taken, new connections wait in the kernel's accept backlog instead of each
//! costing the server a task and its buffers. Refused requests (no token, a foreign Host)
//! are answered and their connections closed as usual, so they give their slots back.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::serve::Listener;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Most connections open at once. A browser opens about six per server, and the page at
/// most [`super::live::MAX_STREAMS`] event streams: this leaves room for a few tabs and the
/// command-line checks, and keeps a local program that opens connections without end from
/// growing the server without end.
pub const MAX_CONNECTIONS: usize = 32;

/// A listener that accepts only while a slot is free.
pub struct Bounded {
    inner: TcpListener,
    slots: Arc<Semaphore>,
}

impl Bounded {
    /// Bounds `inner` to [`MAX_CONNECTIONS`].
    pub fn new(inner: TcpListener) -> Self {
        Bounded {
            inner,
            slots: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
        }
    }
}

/// An accepted connection and the slot it holds until it is dropped.
pub struct Held {
    io: TcpStream,
    _slot: OwnedSemaphorePermit,
}

impl Listener for Bounded {
    type Io = Held;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Held, SocketAddr) {
        let slot = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let (io, addr) = Listener::accept(&mut self.inner).await;
        (Held { io, _slot: slot }, addr)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl AsyncRead for Held {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Held {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::{poll_fn, Future};

    #[tokio::test]
    async fn past_the_bound_a_connection_waits_until_another_closes() {
        let inner = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = inner.local_addr().expect("an address");
        let mut bounded = Bounded::new(inner);
        let mut clients = Vec::new();
        let mut held = Vec::new();
        for _ in 0..MAX_CONNECTIONS {
            clients.push(TcpStream::connect(addr).await.expect("connects"));
            held.push(Listener::accept(&mut bounded).await.0);
        }
        clients.push(
            TcpStream::connect(addr)
                .await
                .expect("waits in the backlog"),
        );
        let mut next = Box::pin(Listener::accept(&mut bounded));
        let first = poll_fn(|cx| Poll::Ready(next.as_mut().poll(cx).is_pending())).await;
        assert!(first, "every slot is taken: the next accept waits");
        held.pop();
        let (_, from) = next.await;
        assert_eq!(from.ip(), addr.ip(), "a freed slot lets the waiting one in");
    }
}
