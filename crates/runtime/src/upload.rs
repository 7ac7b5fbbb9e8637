//! The uploader's side of both transfers: a thin loop that pumps an [`Uploader`] core over
//! one accepted connection.
//!
//! Gnutella servents and Chord nodes serve HTTP on their protocol port: the listener
//! ([`crate::listen`]) hands over connections that begin with `GET `. A Napster peer serves
//! its data port. What to answer, when, and from which bytes of which shared file is the
//! core's to say; this loop moves bytes between it, the socket and the library, and keeps
//! the socket's limits: the connection's place among the unidentified until it has asked
//! for something, an upload slot of [`MAX_UPLOADS`](crate::limits::MAX_UPLOADS) from its
//! first request to its end, and [`WRITE_TIMEOUT`] on every write.
//!
//! A firewalled Napster peer pushes instead ([`push`]): it dials the downloader the server
//! named in a 501, within [`CONNECT_TIMEOUT`], holding one of
//! [`MAX_PUSHES`](crate::limits::MAX_PUSHES) from before the dial to the end, and the same
//! loop serves the file.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use p2plab_peer_protocol::transfer::{Dialect, UploadStep, Uploader};

use crate::clock::Clock;
use crate::handle::NodeHandle;
use crate::limits::{CONNECT_TIMEOUT, WRITE_TIMEOUT};
use crate::listen::{Gate, Place};

/// Bytes read from the socket at a time: request heads are a few hundred bytes.
const READ_BUF: usize = 2048;

/// Serves one connection in `dialect` until the core closes it or the downloader goes.
/// `first` holds the bytes the listener already read, after it wrote the greeting if the
/// dialect has one. Until the first request is whole, the connection holds `place` (and is
/// closed if pushed out of it).
pub(crate) async fn serve(
    stream: TcpStream,
    node: NodeHandle,
    dialect: Dialect,
    first: Vec<u8>,
    place: Place,
    gate: &Gate,
) -> io::Result<()> {
    let clock = Clock::start();
    let core = Uploader::greeted(dialect, clock.now());
    let slot = Slot::Pool(&gate.uploads);
    run(core, clock, stream, &node, first, Some(place), slot).await
}

/// Pushes `name` as `my_nick` to the downloader at `to`, holding `slot` (one of the
/// node's pushes) throughout: dials within [`CONNECT_TIMEOUT`], then serves the one file.
/// A file the library no longer shares is not dialled for.
///
/// # Errors
/// A failed or late dial, or a failed write.
pub(crate) async fn push(
    node: NodeHandle,
    to: SocketAddr,
    my_nick: String,
    name: String,
    slot: OwnedSemaphorePermit,
) -> io::Result<()> {
    let Some(file) = node.library().get().by_name(&name).cloned() else {
        return Ok(());
    };
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(to))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "push dial timed out"))??;
    stream.set_nodelay(true)?;
    let clock = Clock::start();
    let core = Uploader::push(clock.now(), &my_nick, &file);
    run(
        core,
        clock,
        stream,
        &node,
        Vec::new(),
        None,
        Slot::Held(slot),
    )
    .await
}

/// Where an upload's slot comes from.
enum Slot<'a> {
    /// Taken from this pool when the core first claims one.
    Pool(&'a Arc<Semaphore>),
    /// Held from the start (a push's).
    Held(OwnedSemaphorePermit),
}

/// Pumps `core` over `stream` to its end; however the loop ended, the core hears of it,
/// so an upload under way is reported over.
async fn run(
    mut core: Uploader,
    clock: Clock,
    mut stream: TcpStream,
    node: &NodeHandle,
    first: Vec<u8>,
    place: Option<Place>,
    slot: Slot<'_>,
) -> io::Result<()> {
    let served = pump(&mut core, &clock, &mut stream, node, first, place, slot).await;
    core.handle_closed();
    while let Some(step) = core.poll_output() {
        if let UploadStep::Notice(notice) = step {
            node.notify(notice);
        }
    }
    served
}

/// Carries out what `core` asks until it closes the connection, or the socket fails.
async fn pump(
    core: &mut Uploader,
    clock: &Clock,
    stream: &mut TcpStream,
    node: &NodeHandle,
    first: Vec<u8>,
    mut place: Option<Place>,
    slot: Slot<'_>,
) -> io::Result<()> {
    // Held for the whole connection, keep-alive pauses included: a connection that has
    // passed identification is then always one of the MAX_UPLOADS, so idle keep-alive
    // connections cannot pile up beside the slots.
    let (pool, mut slot) = match slot {
        Slot::Pool(pool) => (Some(pool), None),
        Slot::Held(held) => (None, Some(held)),
    };
    core.handle_received(clock.now(), &first, &node.library().get());
    let mut buf = vec![0u8; READ_BUF];
    loop {
        while let Some(step) = core.poll_output() {
            match step {
                UploadStep::Write(bytes) => write(stream, &bytes).await?,
                UploadStep::Read { file, offset, len } => {
                    let chunk = tokio::task::spawn_blocking(move || file.read_at(offset, len))
                        .await
                        .map_err(io::Error::other)?;
                    core.handle_chunk(clock.now(), chunk, &node.library().get());
                }
                UploadStep::Claim => {
                    // A request the core would serve: the connection has identified itself.
                    place = None;
                    slot = slot.or_else(|| pool.and_then(|p| p.clone().try_acquire_owned().ok()));
                    core.handle_slot(clock.now(), slot.is_some(), &node.library().get());
                }
                UploadStep::Notice(notice) => node.notify(notice),
                UploadStep::Close => return within(stream.shutdown()).await,
            }
        }
        let read = async {
            let read = clock.until(core.poll_timeout(), stream.read(&mut buf));
            Ok(read.await)
        };
        let read = match &place {
            Some(place) => place.identify(read).await?,
            None => read.await?,
        };
        match read.transpose()? {
            None => core.handle_timeout(clock.now()),
            Some(0) => core.handle_closed(),
            Some(n) => core.handle_received(clock.now(), &buf[..n], &node.library().get()),
        }
    }
}

/// Runs `step` for at most [`WRITE_TIMEOUT`]: a peer must take at least this much.
async fn within<T>(step: impl std::future::Future<Output = io::Result<T>>) -> io::Result<T> {
    tokio::time::timeout(WRITE_TIMEOUT, step)
        .await
        .unwrap_or_else(|_| Err(io::Error::new(io::ErrorKind::TimedOut, "peer too slow")))
}

/// Writes all of `bytes`, or fails if the peer takes none of them for [`WRITE_TIMEOUT`].
pub(crate) async fn write<W: AsyncWrite + Unpin>(stream: &mut W, bytes: &[u8]) -> io::Result<()> {
    within(stream.write_all(bytes)).await
}
