//! The downloads that wait for a firewalled Napster holder to connect (napster.txt §4.2).
//!
//! A download from a holder whose data port is 0 cannot dial: it asks the server (500) and
//! waits for the holder to connect to this node's data port. The data port greets every
//! connection with `1` and then tells them apart by their first write; a push says `SEND`
//! and then `<nick> "<filename>" <size>`. [`PushWaits`] hands the connection to the
//! download waiting for that holder and that file — the oldest, if several are — or to
//! nobody: a push nobody waits for is answered `INVALID REQUEST` and closed.
//!
//! A download says what it waits for before it locates the file ([`PushWaits::expect`]),
//! so the holder's connection can never arrive before it is expected; the [`Waiter`] it
//! gets back leaves the table when dropped, whether a push came or not. At most
//! [`MAX_PUSH_WAITS`] wait at once.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::sync::oneshot;

use p2plab_peer_protocol::keywords::normalize_name;
use p2plab_peer_protocol::transfer::napster::{self, PushHeader};

use crate::limits::MAX_PUSH_WAITS;
use crate::listen::Place;
use crate::upload;

/// A holder's connection, handed to the download that waited for it.
#[derive(Debug)]
pub(crate) struct Pushed {
    /// The connection, greeted already.
    pub stream: TcpStream,
    /// What the holder has sent so far: `SEND` and its header (and whatever followed).
    pub first: Vec<u8>,
}

/// The downloads of one node waiting for a push, oldest first.
#[derive(Debug, Clone, Default)]
pub(crate) struct PushWaits(Arc<Mutex<Table>>);

#[derive(Debug, Default)]
struct Table {
    next: u64,
    waiting: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    id: u64,
    holder: String,
    /// The file's name, normalised as libraries match names.
    name: String,
    tx: oneshot::Sender<Pushed>,
}

impl PushWaits {
    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for `holder` to push `name`; `None` if [`MAX_PUSH_WAITS`] wait already.
    pub(crate) fn expect(&self, holder: &str, name: &str) -> Option<Waiter> {
        let mut table = self.table();
        if table.waiting.len() >= MAX_PUSH_WAITS {
            return None;
        }
        let (tx, rx) = oneshot::channel();
        let id = table.next;
        table.next += 1;
        table.waiting.push(Entry {
            id,
            holder: holder.to_owned(),
            name: normalize_name(name),
            tx,
        });
        Some(Waiter {
            id,
            rx,
            owner: self.clone(),
        })
    }

    /// Hands `pushed` to the oldest download waiting for what `header` announces.
    ///
    /// # Errors
    /// `pushed` itself, when no download waits for it.
    fn deliver(&self, header: &PushHeader, pushed: Pushed) -> Result<(), Pushed> {
        let name = normalize_name(&header.name);
        let mut table = self.table();
        let found = table
            .waiting
            .iter()
            .position(|e| e.holder.eq_ignore_ascii_case(&header.nick) && e.name == name);
        let Some(i) = found else {
            return Err(pushed);
        };
        table.waiting.remove(i).tx.send(pushed)
    }
}

/// One download's place in the [`PushWaits`]; dropping it gives the place back.
#[derive(Debug)]
pub(crate) struct Waiter {
    id: u64,
    rx: oneshot::Receiver<Pushed>,
    owner: PushWaits,
}

impl Waiter {
    /// The holder's connection, once it has come.
    ///
    /// # Errors
    /// If the node stopped before it came.
    pub(crate) async fn arrival(&mut self) -> io::Result<Pushed> {
        (&mut self.rx)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::Interrupted, "the node stopped"))
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        self.owner.table().waiting.retain(|e| e.id != self.id);
    }
}

/// A connection to the data port that began with `SEND` (in `first`): reads the header,
/// within the connection's `place` among the unidentified, and hands the connection to the
/// download that waits for it, or refuses it.
///
/// # Errors
/// A header that is malformed, too long or late, or a failed read or write.
pub(crate) async fn accept(
    mut stream: TcpStream,
    mut first: Vec<u8>,
    place: Place,
    waits: &PushWaits,
) -> io::Result<()> {
    let header = place.identify(read_header(&mut stream, &mut first)).await?;
    drop(place);
    match waits.deliver(&header, Pushed { stream, first }) {
        Ok(()) => Ok(()),
        Err(Pushed { mut stream, .. }) => {
            tracing::debug!(
                holder = header.nick,
                name = header.name,
                "refused a push nobody waits for"
            );
            upload::write(&mut stream, napster::INVALID_REQUEST).await
        }
    }
}

/// Reads into `buf` until it holds a whole push header, bounded by the parser.
async fn read_header(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<PushHeader> {
    let mut chunk = [0u8; 512];
    loop {
        match napster::parse_push_header(buf) {
            Ok(Some((header, _))) => return Ok(header),
            Ok(None) => {}
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
        }
        match stream.read(&mut chunk).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => buf.extend_from_slice(&chunk[..n]),
        }
    }
}
