//! What every wire codec shares: the error type, the message trait, and the per-connection
//! reassembly buffer that turns a TCP byte stream into whole messages.
//!
//! Decoding is split the mini-redis way: `decode` first checks that a whole message is in the
//! buffer and returns [`CodecError::Incomplete`] if not — which is normal, wait for more bytes —
//! and only then parses. Every other error means the peer sent garbage.

use thiserror::Error;

/// Why bytes did not decode into a message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CodecError {
    /// Not a whole message yet; wait for more bytes. Not an error of the peer.
    #[error("incomplete message")]
    Incomplete,
    /// A length field exceeds the protocol's limit: the stream cannot be trusted further.
    #[error("message of {len} bytes exceeds the limit of {max}")]
    TooLarge {
        /// The announced length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A message type this protocol does not know.
    #[error("unknown message type {0:#x}")]
    UnknownType(u32),
    /// The bytes break the message's layout.
    #[error("malformed message: {0}")]
    Malformed(String),
}

impl CodecError {
    /// Shorthand for [`CodecError::Malformed`].
    pub fn malformed(why: impl Into<String>) -> Self {
        CodecError::Malformed(why.into())
    }
}

/// A message with a binary encoding.
pub trait WireMessage: Sized {
    /// Decodes one message from the front of `buf`, returning it and the bytes it used.
    ///
    /// # Errors
    /// [`CodecError::Incomplete`] if `buf` holds only part of a message; any other variant if
    /// the bytes are not a valid message.
    fn decode(buf: &[u8]) -> Result<(Self, usize), CodecError>;

    /// Appends the encoding to `out`.
    fn encode(&self, out: &mut Vec<u8>);

    /// The exact number of bytes [`WireMessage::encode`] writes.
    fn encoded_len(&self) -> usize;

    /// A short name for metrics and traces, such as `"query"` or `"notify"`.
    fn kind(&self) -> &'static str;

    /// The encoding as a fresh vector.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out
    }
}

/// Reassembles one connection's byte stream into messages.
///
/// `limit` bounds what may pile up: a peer that sends more than that without completing a
/// message is cut off with [`CodecError::TooLarge`].
#[derive(Debug)]
pub struct FrameReader {
    buf: Vec<u8>,
    limit: usize,
}

impl FrameReader {
    /// A reader that holds at most `limit` bytes of an incomplete message.
    pub fn new(limit: usize) -> Self {
        FrameReader {
            buf: Vec::new(),
            limit,
        }
    }

    /// Appends bytes that arrived.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet consumed.
    pub fn buffered(&self) -> &[u8] {
        &self.buf
    }

    /// Drops the first `n` buffered bytes (after a text handshake was parsed by hand).
    pub fn consume(&mut self, n: usize) {
        self.buf.drain(..n.min(self.buf.len()));
    }

    /// The next whole message with its encoded size, `Ok(None)` if more bytes are needed.
    ///
    /// # Errors
    /// Whatever `M::decode` reports other than `Incomplete`, or [`CodecError::TooLarge`] when
    /// the buffer outgrows the limit. After an error the stream is out of sync: close it.
    pub fn next_message<M: WireMessage>(&mut self) -> Result<Option<(M, usize)>, CodecError> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        match M::decode(&self.buf) {
            Ok((msg, used)) => {
                self.buf.drain(..used);
                Ok(Some((msg, used)))
            }
            Err(CodecError::Incomplete) if self.buf.len() > self.limit => {
                Err(CodecError::TooLarge {
                    len: self.buf.len(),
                    max: self.limit,
                })
            }
            Err(CodecError::Incomplete) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy message: one length byte, then that many bytes.
    #[derive(Debug, PartialEq)]
    struct Blob(Vec<u8>);

    impl WireMessage for Blob {
        fn decode(buf: &[u8]) -> Result<(Self, usize), CodecError> {
            let (&len, rest) = buf.split_first().ok_or(CodecError::Incomplete)?;
            let len = usize::from(len);
            if len == 0 {
                return Err(CodecError::malformed("empty blob"));
            }
            let body = rest.get(..len).ok_or(CodecError::Incomplete)?;
            Ok((Blob(body.to_vec()), 1 + len))
        }
        fn encode(&self, out: &mut Vec<u8>) {
            out.push(self.0.len() as u8);
            out.extend_from_slice(&self.0);
        }
        fn encoded_len(&self) -> usize {
            1 + self.0.len()
        }
        fn kind(&self) -> &'static str {
            "blob"
        }
    }

    #[test]
    fn reassembles_messages_split_across_chunks() {
        let mut r = FrameReader::new(64);
        r.extend(&[3, b'a']);
        assert_eq!(r.next_message::<Blob>(), Ok(None));
        r.extend(&[b'b', b'c', 1]);
        assert_eq!(
            r.next_message::<Blob>(),
            Ok(Some((Blob(b"abc".to_vec()), 4)))
        );
        assert_eq!(r.next_message::<Blob>(), Ok(None));
        r.extend(b"z");
        assert_eq!(r.next_message::<Blob>(), Ok(Some((Blob(b"z".to_vec()), 2))));
    }

    #[test]
    fn a_stalled_oversized_message_is_cut_off() {
        let mut r = FrameReader::new(4);
        r.extend(&[200, 1, 2, 3, 4, 5]);
        assert_eq!(
            r.next_message::<Blob>(),
            Err(CodecError::TooLarge { len: 6, max: 4 })
        );
    }

    #[test]
    fn malformed_input_is_an_error_not_a_wait() {
        let mut r = FrameReader::new(64);
        r.extend(&[0]);
        assert!(matches!(
            r.next_message::<Blob>(),
            Err(CodecError::Malformed(_))
        ));
    }
}
