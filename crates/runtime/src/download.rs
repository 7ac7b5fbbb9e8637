//! The downloader's side of both transfers: Gnutella 0.4's HTTP `GET` (used by Gnutella and
//! Chord) and Napster's data-port transfer.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use p2plab_napster::transfer as napster;
use p2plab_peer_protocol::transfer::{self as http, MAX_HEAD_LEN};
use p2plab_peer_protocol::Download;

/// How long a transfer may stall (connect, or wait for any byte) before it is abandoned.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a download goes: `out`, by way of `<out>.part`.
///
/// The bytes are written to the part file, created new (so nothing already there is ever
/// written over, and no link planted under that name is followed). Only a complete download
/// becomes `out`: linked into place when `out` may not be replaced, so a file that appeared
/// meanwhile is still kept, or renamed over it when it may. A failed download removes its
/// part file.
#[derive(Debug, Clone)]
pub struct Target {
    out: PathBuf,
    part: PathBuf,
    overwrite: bool,
}

impl Target {
    /// Checks that `out` can be written before anything is downloaded.
    ///
    /// # Errors
    /// A sentence naming the path: it is a folder, its folder does not exist, or it exists
    /// and `overwrite` is off.
    pub fn new(out: &Path, overwrite: bool) -> Result<Self, String> {
        let shown = out.display();
        if out.is_dir() {
            return Err(format!("{shown} is a folder; give the file's path"));
        }
        let parent = out.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(parent) = parent.filter(|p| !p.is_dir()) {
            return Err(format!(
                "cannot write {shown}: no folder {}",
                parent.display()
            ));
        }
        if out.exists() && !overwrite {
            return Err(format!("{shown} exists; pass --force to replace it"));
        }
        let mut part = out.as_os_str().to_owned();
        part.push(".part");
        Ok(Target {
            out: out.to_owned(),
            part: PathBuf::from(part),
            overwrite,
        })
    }

    /// Moves the complete part file to `out`.
    ///
    /// # Errors
    /// A sentence naming the path, if `out` appeared meanwhile (and may not be replaced) or
    /// the move failed; the part file is removed either way.
    pub fn finish(&self) -> Result<(), String> {
        let moved = if self.overwrite {
            std::fs::rename(&self.part, &self.out)
        } else {
            // A hard link is made only where nothing is: it never replaces a file.
            std::fs::hard_link(&self.part, &self.out)
        };
        let _ = std::fs::remove_file(&self.part);
        moved.map_err(|e| format!("cannot write {}: {e}", self.out.display()))
    }

    /// The part file, created new.
    async fn create_part(&self) -> io::Result<tokio::fs::File> {
        tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&self.part)
            .await
            .map_err(|e| {
                let why = if e.kind() == io::ErrorKind::AlreadyExists {
                    "exists (is another download into it under way?)".to_owned()
                } else {
                    e.to_string()
                };
                io::Error::new(e.kind(), format!("{}: {why}", self.part.display()))
            })
    }
}

/// Downloads `download` (a file of `size` bytes) into `target`'s part file; returns the
/// bytes written. On failure, the part file is removed.
///
/// # Errors
/// I/O errors, a stalled or refused transfer, or a reply that breaks the protocol.
pub async fn fetch(download: &Download, size: u64, target: &Target) -> io::Result<u64> {
    let fetched = fetch_into(download, size, target).await;
    if fetched.is_err() {
        let _ = tokio::fs::remove_file(&target.part).await;
    }
    fetched
}

async fn fetch_into(download: &Download, size: u64, out: &Target) -> io::Result<u64> {
    match download {
        Download::Http { addr, index, name } => fetch_http(*addr, *index, name, size, out).await,
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

/// Fetches over HTTP. The holder must announce the size its hit gave: a holder that claims
/// more could otherwise fill the downloader's disk.
async fn fetch_http(
    addr: SocketAddr,
    index: u32,
    name: &str,
    size: u64,
    out: &Target,
) -> io::Result<u64> {
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
    if head.content_length != size {
        return Err(io::Error::other(format!(
            "the holder announced {} bytes where its hit said {size}",
            head.content_length
        )));
    }
    save(&buf[used..], &mut stream, head.content_length, out).await
}

async fn fetch_napster(
    addr: SocketAddr,
    my_nick: &str,
    name: &str,
    size: u64,
    out: &Target,
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
    out: &Target,
) -> io::Result<u64> {
    let mut file = out.create_part().await?;
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
