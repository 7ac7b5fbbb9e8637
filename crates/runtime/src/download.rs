//! The downloader's side of both transfers: Gnutella 0.4's HTTP `GET` (used by Gnutella and
//! Chord) and Napster's data-port transfer.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use p2plab_napster::transfer as napster;
use p2plab_peer_protocol::transfer::{self as http, MAX_HEAD_LEN};
use p2plab_peer_protocol::Download;

/// How long a transfer may stall (connect, or wait for any byte) before it is abandoned.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Downloads `download` (a file of `size` bytes) into `out`; returns the bytes written.
///
/// # Errors
/// I/O errors, a stalled or refused transfer, or a reply that breaks the protocol.
pub async fn fetch(download: &Download, size: u64, out: &Path) -> io::Result<u64> {
    match download {
        Download::Http { addr, index, name } => fetch_http(*addr, *index, name, out).await,
        Download::Napster {
            addr,
            my_nick,
            name,
        } => fetch_napster(*addr, my_nick, name, size, out).await,
    }
}

async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = stalled(TcpStream::connect(addr)).await??;
    stream.set_nodelay(true)?;
    Ok(stream)
}

async fn stalled<F: std::future::Future>(f: F) -> io::Result<F::Output> {
    tokio::time::timeout(STALL_TIMEOUT, f)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "transfer stalled"))
}

/// Reads more bytes into `buf`; end of stream is an error (the head was not complete).
async fn read_more<R: AsyncRead + Unpin>(stream: &mut R, buf: &mut Vec<u8>) -> io::Result<()> {
    let mut chunk = [0u8; 4096];
    let n = stalled(stream.read(&mut chunk)).await??;
    if n == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed early",
        ));
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

async fn fetch_http(addr: SocketAddr, index: u32, name: &str, out: &Path) -> io::Result<u64> {
    let mut stream = connect(addr).await?;
    stream
        .write_all(&http::encode_request(index, name, 0))
        .await?;
    let mut buf = Vec::new();
    let (head, used) = loop {
        match http::parse_response_head(&buf).map_err(io::Error::other)? {
            Some(parsed) => break parsed,
            None if buf.len() > MAX_HEAD_LEN => {
                return Err(io::Error::other("response head too long"))
            }
            None => read_more(&mut stream, &mut buf).await?,
        }
    };
    if head.status != 200 {
        return Err(io::Error::other(format!(
            "holder answered HTTP {}",
            head.status
        )));
    }
    save(&buf[used..], &mut stream, head.content_length, out).await
}

async fn fetch_napster(
    addr: SocketAddr,
    my_nick: &str,
    name: &str,
    size: u64,
    out: &Path,
) -> io::Result<u64> {
    let mut stream = connect(addr).await?;
    let mut buf = Vec::new();
    while buf.len() < napster::GREETING.len() {
        read_more(&mut stream, &mut buf).await?;
    }
    if !buf.starts_with(napster::GREETING) {
        return Err(io::Error::other("the holder did not greet with '1'"));
    }
    buf.drain(..napster::GREETING.len());
    let (get, line) = napster::request(my_nick, name, 0);
    stream.write_all(&get).await?;
    stream.write_all(&line).await?;
    let (announced, used) = loop {
        match napster::parse_size_reply(&buf, size).map_err(io::Error::other)? {
            Some(parsed) => break parsed,
            None => read_more(&mut stream, &mut buf).await?,
        }
    };
    save(&buf[used..], &mut stream, announced, out).await
}

/// Writes `first` and then the rest of the body from `stream`, `len` bytes in all.
async fn save<R: AsyncRead + Unpin>(
    first: &[u8],
    stream: &mut R,
    len: u64,
    out: &Path,
) -> io::Result<u64> {
    let mut file = tokio::fs::File::create(out).await?;
    let first = &first[..first.len().min(usize::try_from(len).unwrap_or(usize::MAX))];
    file.write_all(first).await?;
    let mut written = first.len() as u64;
    let mut chunk = vec![0u8; 64 * 1024];
    while written < len {
        let want = usize::try_from(len - written)
            .unwrap_or(usize::MAX)
            .min(chunk.len());
        let n = stalled(stream.read(&mut chunk[..want])).await??;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("holder closed after {written} of {len} bytes"),
            ));
        }
        file.write_all(&chunk[..n]).await?;
        written += n as u64;
    }
    file.flush().await?;
    Ok(written)
}
