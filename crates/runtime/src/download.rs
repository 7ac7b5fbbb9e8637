//! The downloader's side of both transfers: Gnutella 0.4's HTTP `GET` (used by Gnutella and
//! Chord) and Napster's data-port transfer, dialled or pushed. What to send and what to
//! accept is the [`Downloader`] core's; this loop connects (or, for a push, waits for the
//! holder's connection to the data port), moves bytes between it and the socket, and
//! writes what it delivers into the [`Target`]'s part file.

use std::io;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use p2plab_peer_protocol::transfer::{DownloadError, DownloadStep, Downloader};
use p2plab_peer_protocol::Download;

use crate::clock::Clock;
use crate::push::Waiter;

/// Bytes read from the socket at a time: big enough that a file arrives in few reads.
const RECV_BUF: usize = 64 * 1024;

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
/// bytes written. A push comes through `push`, the place the download took among those
/// waiting for one. On failure, the part file is removed.
///
/// # Errors
/// I/O errors, a stalled or refused transfer, or a reply that breaks the protocol.
pub async fn fetch(
    download: &Download,
    size: u64,
    target: &Target,
    push: Option<Waiter>,
) -> io::Result<u64> {
    // Created first, so a part file that is not ours (another download's) is never touched.
    let part = target.create_part().await?;
    let fetched = pump(download, size, part, push).await;
    if fetched.is_err() {
        let _ = tokio::fs::remove_file(&target.part).await;
    }
    fetched
}

/// Pumps a [`Downloader`] over a connection with the holder, writing what it delivers.
async fn pump(
    download: &Download,
    size: u64,
    mut part: tokio::fs::File,
    push: Option<Waiter>,
) -> io::Result<u64> {
    let clock = Clock::start();
    let mut core = Downloader::new(clock.now(), download, size, 0);
    let mut stream = connect(&mut core, &clock, download, push).await?;
    let mut buf = vec![0u8; RECV_BUF];
    loop {
        while let Some(step) = core.poll_output() {
            match step {
                DownloadStep::Write(bytes) => stream.write_all(&bytes).await?,
                DownloadStep::Deliver { bytes, .. } => part.write_all(&bytes).await?,
                DownloadStep::Done(Ok(received)) => {
                    part.flush().await?;
                    return Ok(received);
                }
                DownloadStep::Done(Err(e)) => return Err(io_error(e)),
            }
        }
        match clock
            .until(core.poll_timeout(), stream.read(&mut buf))
            .await
        {
            None => core.handle_timeout(clock.now()),
            Some(read) => match read? {
                0 => core.handle_closed(),
                n => core.handle_received(clock.now(), &buf[..n]),
            },
        }
    }
}

/// The connection with the holder: dialled, or (a push) the holder's, handed over by the
/// data port that greeted it. The core's deadline bounds the wait for either, as it bounds
/// every later one.
async fn connect(
    core: &mut Downloader,
    clock: &Clock,
    download: &Download,
    push: Option<Waiter>,
) -> io::Result<TcpStream> {
    let stalled = || io_error(DownloadError::Stalled);
    if let Some(addr) = download.addr() {
        let dial = TcpStream::connect(addr);
        let stream = clock
            .until(core.poll_timeout(), dial)
            .await
            .ok_or_else(stalled)??;
        stream.set_nodelay(true)?;
        core.handle_connected(clock.now());
        return Ok(stream);
    }
    let Some(mut push) = push else {
        let why = "too many downloads wait for a push already";
        return Err(io::Error::other(why));
    };
    let arrived = clock.until(core.poll_timeout(), push.arrival());
    let pushed = arrived.await.ok_or_else(stalled)??;
    core.handle_greeted(clock.now());
    core.handle_received(clock.now(), &pushed.first);
    Ok(pushed.stream)
}

/// A download's failure as the I/O error callers see, of the kind that fits it.
fn io_error(e: DownloadError) -> io::Error {
    let kind = match e {
        DownloadError::Stalled => io::ErrorKind::TimedOut,
        DownloadError::ClosedEarly | DownloadError::Truncated { .. } => {
            io::ErrorKind::UnexpectedEof
        }
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, e)
}
