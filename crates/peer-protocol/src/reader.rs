//! [`ByteReader`]: a cursor over one message's bytes, the building block of every binary
//! decoder.
//!
//! A reader is made for bytes whose length was already checked: the frame or payload is whole,
//! so a field that runs past its end is a lie of the sender, and every shortfall is
//! [`CodecError::Malformed`], never [`CodecError::Incomplete`].
//!
//! Byte order is the caller's choice, per field, because the protocols disagree:
//!
//! - **Gnutella 0.4** was written on little-endian PCs and sends its integers little-endian
//!   (`u16_le`, `u32_le`), except IPv4 addresses, which go as the four octets in network
//!   order, as everywhere else on the Internet.
//! - **Chord** has no byte order in the paper; p2plab's own frames use network order
//!   (big-endian: `u16_be`, `u32_be`, `u64_be`), the convention of Internet protocols, so that
//!   identifiers, integers and addresses all read left to right in a hex dump.
//!
//! Protocol-specific fields (a Gnutella GUID, a Chord node reference) are built on top, in
//! each protocol crate, from [`ByteReader::take`] and [`ByteReader::array`].

use crate::CodecError;

/// Reads fields one after another from the front of a byte slice.
#[derive(Debug)]
pub struct ByteReader<'a> {
    /// The bytes not read yet.
    buf: &'a [u8],
    /// What is being read, such as `"pong"` or `"chord frame"`: every error names it, so a
    /// log says which message was malformed.
    what: &'static str,
}

impl<'a> ByteReader<'a> {
    /// Reads `buf` from its start; `what` names it in error messages.
    pub fn new(buf: &'a [u8], what: &'static str) -> Self {
        ByteReader { buf, what }
    }

    /// The next `n` bytes.
    ///
    /// # Errors
    /// [`CodecError::Malformed`] if fewer are left.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        if self.buf.len() < n {
            return Err(CodecError::malformed(format!("{} too short", self.what)));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    /// The next `N` bytes as an array: an address, an identifier, an integer to convert.
    ///
    /// # Errors
    /// As [`ByteReader::take`].
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// One byte.
    ///
    /// # Errors
    /// As [`ByteReader::take`].
    pub fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.take(1)?[0])
    }

    /// A little-endian u16 (Gnutella).
    ///
    /// # Errors
    /// As [`ByteReader::take`].
    pub fn u16_le(&mut self) -> Result<u16, CodecError> {
        self.array().map(u16::from_le_bytes)
    }

    /// A little-endian u32 (Gnutella).
    ///
    /// # Errors
    /// As [`ByteReader::take`].
    pub fn u32_le(&mut self) -> Result<u32, CodecError> {
        self.array().map(u32::from_le_bytes)
    }

    /// A big-endian u16 (Chord).
    ///
    /// # Errors
    /// As [`ByteReader::take`].
    pub fn u16_be(&mut self) -> Result<u16, CodecError> {
        self.array().map(u16::from_be_bytes)
    }

    /// A big-endian u32 (Chord).
    ///
    /// # Errors
    /// As [`ByteReader::take`].
    pub fn u32_be(&mut self) -> Result<u32, CodecError> {
        self.array().map(u32::from_be_bytes)
    }

    /// A big-endian u64 (Chord).
    ///
    /// # Errors
    /// As [`ByteReader::take`].
    pub fn u64_be(&mut self) -> Result<u64, CodecError> {
        self.array().map(u64::from_be_bytes)
    }

    /// The bytes up to the next NUL, which is consumed but not returned (Gnutella's
    /// search criteria and file names are NUL-terminated).
    ///
    /// # Errors
    /// [`CodecError::Malformed`] if no NUL is left.
    pub fn until_nul(&mut self) -> Result<&'a [u8], CodecError> {
        let Some(len) = self.buf.iter().position(|&b| b == 0) else {
            return Err(CodecError::malformed(format!("{}: missing NUL", self.what)));
        };
        let field = &self.buf[..len];
        self.buf = &self.buf[len + 1..];
        Ok(field)
    }

    /// Everything not read yet (extension data kept as it came).
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    /// Fails unless every byte was read, for layouts with nothing after the last field.
    ///
    /// # Errors
    /// [`CodecError::Malformed`] on trailing bytes.
    pub fn finish(&self) -> Result<(), CodecError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(CodecError::malformed(format!(
                "{}: trailing bytes after the last field",
                self.what
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_byte_orders() {
        let mut r = ByteReader::new(&[1, 2, 1, 2, 0, 0, 0, 1, 7], "test");
        assert_eq!(r.u16_le(), Ok(0x0201));
        assert_eq!(r.u16_be(), Ok(0x0102));
        assert_eq!(r.u32_be(), Ok(1));
        assert_eq!(r.u32_le().map_err(|_| ()), Err(()), "one byte left");
        assert_eq!(r.u8(), Ok(7), "a failed read consumes nothing");
        assert_eq!(r.finish(), Ok(()));
    }

    #[test]
    fn until_nul_consumes_the_nul() {
        let mut r = ByteReader::new(b"ab\0\0cd", "test");
        assert_eq!(r.until_nul(), Ok(&b"ab"[..]));
        assert_eq!(r.until_nul(), Ok(&b""[..]));
        assert!(r.until_nul().is_err());
        assert!(r.finish().is_err());
        assert_eq!(r.rest(), b"cd");
        assert_eq!(r.finish(), Ok(()));
    }

    #[test]
    fn errors_name_what_is_read() {
        let mut r = ByteReader::new(&[0; 4], "pong");
        assert_eq!(r.u64_be(), Err(CodecError::malformed("pong too short")));
    }
}
