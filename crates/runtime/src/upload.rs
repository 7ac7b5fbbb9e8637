//! The uploader's side of both transfers, reading only files the node shares.
//!
//! Gnutella servents and Chord nodes serve HTTP on their protocol port: the listener
//! ([`crate::listen`]) hands over connections that begin with `GET `. A Napster peer serves
//! its data port: it greets with `1` and answers `GET` + `nick "name" offset`.

use std::io::{self, Read};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use p2plab_napster::transfer as napster;
use p2plab_peer_protocol::transfer as http;
use p2plab_peer_protocol::{SharedFile, TransferNotice};

use crate::handle::NodeHandle;
use crate::limits::{IDENTIFY_TIMEOUT, WRITE_TIMEOUT};
use crate::listen::{Gate, Place};

/// Bytes read from disk (or generated) per write to the socket.
const CHUNK: usize = 64 * 1024;

/// Serves HTTP `GET` requests on one connection: several in a row while the downloader
/// asks for keep-alive, else one. `first` holds the bytes the listener already read; the
/// first head must arrive while `place` lasts, each later one within [`IDENTIFY_TIMEOUT`].
pub(crate) async fn serve_http(
    mut stream: TcpStream,
    node: NodeHandle,
    first: Vec<u8>,
    place: Place,
    gate: &Gate,
) -> io::Result<()> {
    let mut buf = first;
    let mut place = Some(place);
    // The slot is held for the whole connection, keep-alive pauses included: a connection
    // that has passed identification is then always one of the MAX_UPLOADS, so idle
    // keep-alive connections cannot pile up beside the slots.
    let mut slot = None;
    loop {
        let read = read_request(&mut stream, &mut buf, http::parse_request);
        let parsed = match place.take() {
            Some(place) => place.identify(read).await?,
            None => within(IDENTIFY_TIMEOUT, read).await?,
        };
        let (req, used) = match parsed {
            Some(Ok(parsed)) => parsed,
            Some(Err(e)) => return refuse(&mut stream, &http::error_response(&e)).await,
            None => return Ok(()),
        };
        buf.drain(..used);
        let library = node.library().get();
        let file = match http::resolve(&library, &req) {
            Ok(file) => file.clone(),
            Err(e) => return refuse(&mut stream, &http::error_response(&e)).await,
        };
        if slot.is_none() {
            let Ok(taken) = gate.uploads.clone().try_acquire_owned() else {
                return refuse(&mut stream, &http::error_response(&http::HttpError::Busy)).await;
            };
            slot = Some(taken);
        }
        write(&mut stream, &http::response_head(&file, req.start)).await?;
        send_file(&mut stream, &file, req.start, &node).await?;
        if !req.keep_alive {
            return within(WRITE_TIMEOUT, stream.shutdown()).await;
        }
    }
}

/// Serves one Napster data-port request; the request must arrive while `place` lasts.
pub(crate) async fn serve_napster(
    mut stream: TcpStream,
    node: NodeHandle,
    place: Place,
    gate: &Gate,
) -> io::Result<()> {
    write(&mut stream, napster::GREETING).await?;
    let mut buf = Vec::new();
    let read = read_request(&mut stream, &mut buf, napster::parse_request);
    let req = match place.identify(read).await? {
        Some(Ok((req, _))) => req,
        Some(Err(_)) => return refuse(&mut stream, napster::INVALID_REQUEST).await,
        None => return Ok(()),
    };
    drop(place);
    let library = node.library().get();
    let (file, size_reply) = match napster::serve(&library, &req) {
        Ok((file, reply)) => (file.clone(), reply),
        Err(text) => return refuse(&mut stream, &text).await,
    };
    let Ok(_slot) = gate.uploads.clone().try_acquire_owned() else {
        return refuse(&mut stream, napster::UPLOADS_FULL).await;
    };
    write(&mut stream, &size_reply).await?;
    send_file(&mut stream, &file, req.offset, &node).await
}

/// Reads until `parse` finds a whole request at the front of `buf`. `Ok(None)` when the peer
/// closed before sending anything more; a parse error is handed back for the caller to answer.
async fn read_request<T, E>(
    stream: &mut (impl AsyncRead + Unpin),
    buf: &mut Vec<u8>,
    parse: impl Fn(&[u8]) -> Result<Option<T>, E>,
) -> io::Result<Option<Result<T, E>>> {
    let mut chunk = [0u8; 2048];
    loop {
        match parse(buf) {
            Ok(Some(parsed)) => return Ok(Some(Ok(parsed))),
            Err(e) => return Ok(Some(Err(e))),
            Ok(None) => {}
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Runs `step` for at most `limit`.
async fn within<T>(
    limit: std::time::Duration,
    step: impl std::future::Future<Output = io::Result<T>>,
) -> io::Result<T> {
    tokio::time::timeout(limit, step)
        .await
        .unwrap_or_else(|_| Err(io::Error::new(io::ErrorKind::TimedOut, "peer too slow")))
}

/// Writes all of `bytes`, or fails if the peer takes none of them for [`WRITE_TIMEOUT`].
async fn write<W: AsyncWrite + Unpin>(stream: &mut W, bytes: &[u8]) -> io::Result<()> {
    within(WRITE_TIMEOUT, stream.write_all(bytes)).await
}

async fn refuse<W: AsyncWrite + Unpin>(stream: &mut W, reply: &[u8]) -> io::Result<()> {
    write(stream, reply).await?;
    within(WRITE_TIMEOUT, stream.shutdown()).await
}

/// Streams `file` from `offset`, reading it off the runtime's worker threads.
async fn send_file<W: AsyncWrite + Unpin>(
    stream: &mut W,
    file: &SharedFile,
    offset: u64,
    node: &NodeHandle,
) -> io::Result<()> {
    node.notify(TransferNotice::UploadStarted);
    let result = async {
        let mut reader = {
            let file = file.clone();
            tokio::task::spawn_blocking(move || file.open_at(offset))
                .await
                .map_err(io::Error::other)??
        };
        loop {
            let (r, chunk) = tokio::task::spawn_blocking(move || {
                let mut chunk = vec![0u8; CHUNK];
                let n = read_full(&mut reader, &mut chunk);
                n.map(|n| {
                    chunk.truncate(n);
                    (reader, chunk)
                })
            })
            .await
            .map_err(io::Error::other)??;
            if chunk.is_empty() {
                return Ok(());
            }
            write(stream, &chunk).await?;
            reader = r;
        }
    }
    .await;
    node.notify(TransferNotice::UploadFinished);
    result
}

/// Fills `buf` as far as the reader goes; returns how much was read (short only at the end).
fn read_full(reader: &mut Box<dyn Read + Send>, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
