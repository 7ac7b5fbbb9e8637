//! Deflate on a Gnutella link: `Accept-Encoding: deflate` / `Content-Encoding: deflate`.
//!
//! In the 0.6 handshake each side may say it can read compressed bytes (`Accept-Encoding:
//! deflate`); the other then answers `Content-Encoding: deflate` and, from the end of the
//! handshake on, everything it sends that way is one zlib stream. Each direction is
//! negotiated apart, so a link may be compressed one way only. gtk-gnutella refuses a leaf
//! whose link is not compressed ("Gnet connection not compressed").
//!
//! The stream never ends while the link is up. A sender that just compressed its messages
//! must *flush* — a zlib sync flush, which ends the current block on a byte boundary — or
//! the compressor would keep them back waiting for more; this servent flushes once after
//! each batch of messages for a connection (everything one input made it send). The
//! receiver inflates whatever arrives and hands the plain bytes to the descriptor reader.
//!
//! Inflating is where a peer could make a small input cost much memory (a "zip bomb": a
//! megabyte of zeros deflates to about a kilobyte). [`Inflater::inflate`] stops at
//! [`MAX_INFLATED_PER_READ`] and the connection is closed.
//!
//! The servent's metrics count each descriptor's framed bytes, before compression: what a
//! message costs in the protocol, the same whether or not a link deflates it.

use std::borrow::Cow;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use p2plab_peer_protocol::{ConnId, Outbox};
use thiserror::Error;

/// The most plain bytes one read of compressed bytes may inflate to: 1 MiB, 64 times the
/// runtime's 16 KiB read. Gnutella descriptors deflate to a third or a fifth of their size,
/// so an honest peer is far below it; a stream past it is a bomb, and its link is closed.
pub const MAX_INFLATED_PER_READ: usize = 1 << 20;

/// Why compressed bytes could not be read. Either way the stream is lost.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InflateError {
    /// The bytes are not a zlib stream.
    #[error("not a zlib stream")]
    Corrupt,
    /// The bytes inflate past [`MAX_INFLATED_PER_READ`].
    #[error("compressed bytes inflate past {MAX_INFLATED_PER_READ} bytes")]
    TooLarge,
}

/// The sending half: one zlib stream, flushed after every batch.
#[derive(Debug)]
pub struct Deflater {
    z: Compress,
}

impl Default for Deflater {
    fn default() -> Self {
        Deflater {
            z: Compress::new(Compression::default(), true),
        }
    }
}

impl Deflater {
    /// Compresses `plain`, one batch, and flushes it: the bytes returned carry all of it.
    pub fn deflate(&mut self, plain: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(plain.len() / 2 + 64);
        let start = self.z.total_in();
        loop {
            let used = usize::try_from(self.z.total_in() - start).unwrap_or(plain.len());
            // Memory to memory, deflate fails only on misuse of the stream; the bytes so
            // far are what there is to send.
            if self
                .z
                .compress_vec(&plain[used..], &mut out, FlushCompress::Sync)
                .is_err()
            {
                return out;
            }
            // The flush is whole once all input is in and it left room to spare in `out`.
            let all_in = usize::try_from(self.z.total_in() - start).unwrap_or(0) == plain.len();
            if all_in && out.len() < out.capacity() {
                return out;
            }
            out.reserve(out.capacity().max(64));
        }
    }
}

/// The receiving half: inflates what arrives, within [`MAX_INFLATED_PER_READ`].
#[derive(Debug)]
pub struct Inflater {
    z: Decompress,
}

impl Default for Inflater {
    fn default() -> Self {
        Inflater {
            z: Decompress::new(true),
        }
    }
}

impl Inflater {
    /// The plain bytes that `compressed` (the next part of the stream) carries.
    ///
    /// # Errors
    /// [`InflateError::Corrupt`] for bytes that are not zlib, [`InflateError::TooLarge`]
    /// past [`MAX_INFLATED_PER_READ`].
    pub fn inflate(&mut self, compressed: &[u8]) -> Result<Vec<u8>, InflateError> {
        let mut out = Vec::with_capacity((compressed.len() * 4).min(MAX_INFLATED_PER_READ));
        let start = self.z.total_in();
        loop {
            let used = usize::try_from(self.z.total_in() - start).unwrap_or(compressed.len());
            let before = self.z.total_out();
            self.z
                .decompress_vec(&compressed[used..], &mut out, FlushDecompress::Sync)
                .map_err(|_| InflateError::Corrupt)?;
            if out.len() > MAX_INFLATED_PER_READ {
                return Err(InflateError::TooLarge);
            }
            let all_in =
                usize::try_from(self.z.total_in() - start).unwrap_or(0) == compressed.len();
            let stalled = self.z.total_out() == before;
            if out.len() < out.capacity() && (all_in || stalled) {
                return Ok(out);
            }
            let room = MAX_INFLATED_PER_READ + 1 - out.len();
            out.reserve(out.capacity().max(64).min(room));
        }
    }
}

/// One connection's encoding, each way: plain until the handshake says otherwise.
#[derive(Debug, Default)]
pub(crate) struct Link {
    /// Set once the peer said `Content-Encoding: deflate`: what it sends is compressed.
    rx: Option<Inflater>,
    /// Set once we said `Content-Encoding: deflate`: what we send is compressed.
    tx: Option<Deflater>,
    /// Plain bytes queued for `tx` since the last flush.
    unsent: Vec<u8>,
}

impl Link {
    /// From now on the peer's bytes are compressed.
    pub(crate) fn inflate_from_now(&mut self) {
        self.rx.get_or_insert_with(Inflater::default);
    }

    /// From now on our bytes are compressed.
    pub(crate) fn deflate_from_now(&mut self) {
        self.tx.get_or_insert_with(Deflater::default);
    }

    /// The plain bytes of what the peer sent.
    ///
    /// # Errors
    /// [`InflateError`] when the compressed stream is lost.
    pub(crate) fn read<'a>(&mut self, bytes: &'a [u8]) -> Result<Cow<'a, [u8]>, InflateError> {
        match &mut self.rx {
            Some(rx) => rx.inflate(bytes).map(Cow::Owned),
            None => Ok(Cow::Borrowed(bytes)),
        }
    }

    /// Sends `bytes` on `conn`: at once on a plain link, at the next
    /// [`flush`](Link::flush) on a compressed one.
    pub(crate) fn send(&mut self, conn: ConnId, bytes: Vec<u8>, out: &mut Outbox) {
        if self.tx.is_some() {
            self.unsent.extend_from_slice(&bytes);
        } else {
            out.send(conn, bytes);
        }
    }

    /// Compresses and sends what [`send`](Link::send) queued, flushed whole.
    pub(crate) fn flush(&mut self, conn: ConnId, out: &mut Outbox) {
        if let Some(tx) = self.tx.as_mut().filter(|_| !self.unsent.is_empty()) {
            out.send(conn, tx.deflate(&self.unsent));
            self.unsent.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zlib stream starts with its two-byte header and each flush ends on the sync
    /// marker `00 00 FF FF`, so the receiver can read every message sent so far.
    #[test]
    fn every_batch_is_flushed_whole() {
        let mut tx = Deflater::default();
        let mut rx = Inflater::default();
        let first = tx.deflate(b"GNUTELLA descriptor one");
        assert_eq!(first[..2], [0x78, 0x9C], "zlib, default compression");
        assert_eq!(first[first.len() - 4..], [0x00, 0x00, 0xFF, 0xFF]);
        assert_eq!(
            rx.inflate(&first).expect("inflates"),
            b"GNUTELLA descriptor one"
        );
        let second = tx.deflate(b"and two");
        assert_eq!(second[second.len() - 4..], [0x00, 0x00, 0xFF, 0xFF]);
        assert_eq!(rx.inflate(&second).expect("inflates"), b"and two");
    }

    /// The stream can be cut anywhere in transit: each piece gives what it completes.
    #[test]
    fn a_stream_read_byte_by_byte_gives_the_same_bytes() {
        let plain: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        let wire = Deflater::default().deflate(&plain);
        let mut rx = Inflater::default();
        let mut got = Vec::new();
        for byte in &wire {
            got.extend(rx.inflate(std::slice::from_ref(byte)).expect("inflates"));
        }
        assert_eq!(got, plain);
    }

    #[test]
    fn garbage_and_bombs_are_refused() {
        assert_eq!(
            Inflater::default().inflate(b"GNUTELLA plain text"),
            Err(InflateError::Corrupt)
        );
        let bomb = Deflater::default().deflate(&vec![0; 4 * MAX_INFLATED_PER_READ]);
        assert!(bomb.len() < 16 * 1024, "fits one read");
        assert_eq!(
            Inflater::default().inflate(&bomb),
            Err(InflateError::TooLarge)
        );
    }
}
