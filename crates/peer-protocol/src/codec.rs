//! What every wire codec shares: the error type, the message trait, and the per-connection
//! reassembly buffer that turns a TCP byte stream into whole messages.
//!
//! Decoding is split the mini-redis way: `decode` first checks that a whole message is in the
//! buffer and returns [`CodecError::Incomplete`] if not — which is normal, wait for more bytes —
//! and only then parses. Every other error means the peer sent garbage.

use thiserror::Error;

use crate::metrics::MessageKind;

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

    /// The protocol's kinds of message, each named once for metrics and traces.
    type Kind: MessageKind;

    /// This message's kind.
    fn kind(&self) -> Self::Kind;

    /// The encoding as a fresh vector.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out
    }
}

/// Reassembles one connection's byte stream into messages.
///
/// Bytes that arrive are decoded where they lie: a chunk that holds whole messages (the
/// common case: a sender writes a message at a time) is never copied, and the reader's
/// buffer is touched only for what is left over, the start of a message whose end is still
/// on its way. Once the buffer holds something, later bytes join it until it is drained.
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

    /// Appends bytes that arrived, for input parsed by hand from [`FrameReader::buffered`]
    /// (a text handshake) or read with [`FrameReader::next_message`].
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

    /// The next whole message of the buffered bytes, with its encoded size; `Ok(None)` if
    /// more bytes are needed.
    ///
    /// # Errors
    /// As [`FrameReader::decode_next`].
    pub fn next_message<M: WireMessage>(&mut self) -> Result<Option<(M, usize)>, CodecError> {
        self.decode_next(&mut &[][..], M::decode)
    }

    /// The next whole message of the buffered bytes followed by `input`, with its encoded
    /// size; `Ok(None)` once more bytes are needed. `input` is what just arrived: the
    /// message's bytes are taken off its front, and when it holds only the start of one, it
    /// moves into the buffer. Call again until `Ok(None)`, with the same `input`.
    ///
    /// `decode` reads one message from the front of a slice, as [`WireMessage::decode`] does;
    /// a protocol may wrap it, to skip a bad message it can frame instead of failing.
    ///
    /// # Errors
    /// Whatever `decode` reports other than `Incomplete`, or [`CodecError::TooLarge`] when an
    /// incomplete message outgrows the limit. After an error the stream is out of sync: close
    /// it.
    pub fn decode_next<T>(
        &mut self,
        input: &mut &[u8],
        decode: impl FnOnce(&[u8]) -> Result<(T, usize), CodecError>,
    ) -> Result<Option<(T, usize)>, CodecError> {
        if self.buf.is_empty() {
            if input.is_empty() {
                return Ok(None);
            }
            return match decode(input) {
                Ok((msg, used)) => {
                    *input = &input[used.min(input.len())..];
                    Ok(Some((msg, used)))
                }
                Err(CodecError::Incomplete) => {
                    self.buf.extend_from_slice(std::mem::take(input));
                    self.check_limit().map(|()| None)
                }
                Err(e) => Err(e),
            };
        }
        self.buf.extend_from_slice(std::mem::take(input));
        match decode(&self.buf) {
            Ok((msg, used)) => {
                self.buf.drain(..used.min(self.buf.len()));
                Ok(Some((msg, used)))
            }
            Err(CodecError::Incomplete) => self.check_limit().map(|()| None),
            Err(e) => Err(e),
        }
    }

    /// An incomplete message may not grow past the limit.
    fn check_limit(&self) -> Result<(), CodecError> {
        if self.buf.len() > self.limit {
            Err(CodecError::TooLarge {
                len: self.buf.len(),
                max: self.limit,
            })
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy message: one length byte, then that many bytes.
    #[derive(Debug, PartialEq)]
    struct Blob(Vec<u8>);

    #[derive(Clone, Copy)]
    struct BlobKind;

    impl MessageKind for BlobKind {
        fn name(self) -> &'static str {
            "blob"
        }
    }

    impl WireMessage for Blob {
        type Kind = BlobKind;

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
        fn kind(&self) -> BlobKind {
            BlobKind
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

    /// Everything `decode_next` yields for `chunks` arriving one after another.
    fn decode_chunks(r: &mut FrameReader, chunks: &[&[u8]]) -> Result<Vec<Blob>, CodecError> {
        let mut got = Vec::new();
        for chunk in chunks {
            let mut input = *chunk;
            while let Some((blob, used)) = r.decode_next(&mut input, Blob::decode)? {
                assert_eq!(used, blob.encoded_len());
                got.push(blob);
            }
            assert!(input.is_empty(), "the whole chunk is taken");
        }
        Ok(got)
    }

    #[test]
    fn whole_messages_are_decoded_in_place() {
        let mut r = FrameReader::new(64);
        let got = decode_chunks(&mut r, &[&[2, b'h', b'i', 1, b'!'], &[1, b'?']]);
        let want = [&b"hi"[..], b"!", b"?"].map(|b| Blob(b.to_vec()));
        assert_eq!(got, Ok(want.into()));
        assert_eq!(r.buf.capacity(), 0, "nothing was buffered");
    }

    #[test]
    fn the_start_of_a_message_waits_in_the_buffer() {
        let mut r = FrameReader::new(64);
        let got = decode_chunks(&mut r, &[&[1, b'a', 3, b'b'], b"c", &[b'd', 1, b'e', 2]]);
        let want = [&b"a"[..], b"bcd", b"e"].map(|b| Blob(b.to_vec()));
        assert_eq!(got, Ok(want.into()));
        assert_eq!(r.buffered(), [2]);
    }

    #[test]
    fn a_stalled_message_is_cut_off_however_it_arrives() {
        let mut r = FrameReader::new(4);
        assert_eq!(
            decode_chunks(&mut r, &[&[200, 1, 2, 3, 4]]),
            Err(CodecError::TooLarge { len: 5, max: 4 })
        );
        let mut r = FrameReader::new(4);
        assert_eq!(
            decode_chunks(&mut r, &[&[200, 1], &[2, 3], &[4]]),
            Err(CodecError::TooLarge { len: 5, max: 4 })
        );
    }

    proptest::proptest! {
        #[test]
        fn any_split_gives_the_same_messages(
            bodies in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 1..20), 0..12),
            cuts in proptest::collection::vec(0usize..300, 0..10),
        ) {
            let stream: Vec<u8> = bodies.iter().flat_map(|b| Blob(b.clone()).to_bytes()).collect();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(stream.len())).collect();
            cuts.push(stream.len());
            cuts.sort_unstable();
            let mut chunks = Vec::new();
            let mut from = 0;
            for cut in cuts {
                chunks.push(&stream[from..cut]);
                from = cut;
            }
            let mut r = FrameReader::new(64);
            let got = decode_chunks(&mut r, &chunks).expect("a well-formed stream");
            let want: Vec<Blob> = bodies.into_iter().map(Blob).collect();
            proptest::prop_assert_eq!(got, want);
            proptest::prop_assert!(r.buffered().is_empty());
        }
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
