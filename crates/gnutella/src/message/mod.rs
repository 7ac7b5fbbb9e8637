//! The five payloads of Gnutella 0.4, one module each.
//!
//! Every payload decodes from exactly the bytes its header announced and encodes back to the
//! same bytes: extension data a servent does not understand is kept and forwarded untouched,
//! as the spec asks. Integers are little-endian; IPv4 addresses are big-endian (network order).

pub mod ping;
pub mod pong;
pub mod push;
pub mod query;
pub mod query_hit;

pub use ping::Ping;
pub use pong::Pong;
pub use push::Push;
pub use query::Query;
pub use query_hit::{HitRecord, QueryHit};

use std::net::Ipv4Addr;

use p2plab_peer_protocol::CodecError;

use crate::guid::Guid;

/// Reads fixed-layout fields from the front of a payload, failing with
/// [`CodecError::Malformed`] when the payload is too short for them.
pub(crate) struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
    /// What is being read, for error messages.
    what: &'static str,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(buf: &'a [u8], what: &'static str) -> Self {
        Fields { buf, pos: 0, what }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let end = end.ok_or_else(|| CodecError::malformed(format!("{} too short", self.what)))?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u16_le(&mut self) -> Result<u16, CodecError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32_le(&mut self) -> Result<u32, CodecError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// An IPv4 address: the one big-endian field of the protocol.
    pub(crate) fn ipv4(&mut self) -> Result<Ipv4Addr, CodecError> {
        let b = self.take(4)?;
        Ok(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
    }

    pub(crate) fn guid(&mut self) -> Result<Guid, CodecError> {
        let b = self.take(Guid::LEN)?;
        Guid::from_slice(b).ok_or_else(|| CodecError::malformed("short guid"))
    }

    /// The bytes up to the next NUL, which is consumed but not returned.
    pub(crate) fn until_nul(&mut self) -> Result<&'a [u8], CodecError> {
        let rest = &self.buf[self.pos..];
        let len = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| CodecError::malformed(format!("{}: missing NUL", self.what)))?;
        self.pos += len + 1;
        Ok(&rest[..len])
    }

    /// Everything not read yet.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let rest = &self.buf[self.pos..];
        self.pos = self.buf.len();
        rest
    }
}
