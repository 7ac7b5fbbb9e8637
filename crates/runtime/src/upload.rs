//! The uploader's side of both transfers, reading only files the node shares.
//!
//! Gnutella servents and Chord nodes serve HTTP on their protocol port: the listener
//! ([`crate::listen`]) hands over connections that begin with `GET `. A Napster peer serves
//! its data port: it greets with `1` and answers `GET` + `nick "name" offset`.

use std::io::{self, Read};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use p2plab_napster::transfer as napster;
use p2plab_peer_protocol::transfer as http;
use p2plab_peer_protocol::{SharedFile, TransferNotice};

use crate::handle::NodeHandle;

/// How long an uploader waits for a request before hanging up.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Bytes read from disk (or generated) per write to the socket.
const CHUNK: usize = 64 * 1024;

/// Serves HTTP `GET` requests on one connection: several in a row while the downloader
/// asks for keep-alive, else one.
pub(crate) async fn serve_http(mut stream: TcpStream, node: NodeHandle) -> io::Result<()> {
    let mut buf = Vec::new();
    loop {
        let (req, used) = loop {
            match http::parse_request(&buf) {
                Ok(Some(parsed)) => break parsed,
                Ok(None) => {
                    if !read_some(&mut stream, &mut buf).await? {
                        return Ok(());
                    }
                }
                Err(e) => return refuse(&mut stream, &http::error_response(&e)).await,
            }
        };
        buf.drain(..used);
        let library = node.library().get();
        let file = match http::resolve(&library, &req) {
            Ok(file) => file.clone(),
            Err(e) => return refuse(&mut stream, &http::error_response(&e)).await,
        };
        stream
            .write_all(&http::response_head(&file, req.start))
            .await?;
        send_file(&mut stream, &file, req.start, &node).await?;
        if !req.keep_alive {
            return stream.shutdown().await;
        }
    }
}

/// Serves one Napster data-port request.
pub(crate) async fn serve_napster(mut stream: TcpStream, node: NodeHandle) -> io::Result<()> {
    stream.write_all(napster::GREETING).await?;
    let mut buf = Vec::new();
    let req = loop {
        match napster::parse_request(&buf) {
            Ok(Some((req, _))) => break req,
            Ok(None) => {
                if !read_some(&mut stream, &mut buf).await? {
                    return Ok(());
                }
            }
            Err(_) => return refuse(&mut stream, b"INVALID REQUEST").await,
        }
    };
    let library = node.library().get();
    let (file, size_reply) = match napster::serve(&library, &req) {
        Ok((file, reply)) => (file.clone(), reply),
        Err(text) => return refuse(&mut stream, &text).await,
    };
    stream.write_all(&size_reply).await?;
    send_file(&mut stream, &file, req.offset, &node).await
}

/// Reads more of a request; `Ok(false)` when the peer closed first.
async fn read_some<R: AsyncRead + Unpin>(stream: &mut R, buf: &mut Vec<u8>) -> io::Result<bool> {
    let mut chunk = [0u8; 2048];
    let n = tokio::time::timeout(REQUEST_TIMEOUT, stream.read(&mut chunk))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no request"))??;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n > 0)
}

async fn refuse<W: AsyncWrite + Unpin>(stream: &mut W, reply: &[u8]) -> io::Result<()> {
    stream.write_all(reply).await?;
    stream.shutdown().await
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
            stream.write_all(&chunk).await?;
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
