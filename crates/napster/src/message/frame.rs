//! The frame every Napster message travels in, before its data is interpreted.
//!
//! ```text
//! +--------+--------+-----------------------+
//! | len    | type   | data: len bytes       |
//! | u16 LE | u16 LE | ASCII, no terminator  |
//! +--------+--------+-----------------------+
//! ```
//!
//! Splitting the frame from the message lets a reader skip a well-framed message it does not
//! understand (an unknown type) without losing the stream, and lets the server answer a
//! search it cannot parse with "invalid search request", as OpenNap does, instead of
//! dropping the user.

use p2plab_peer_protocol::{CodecError, MessageKind, WireMessage};

use crate::MAX_DATA_LEN;

/// Bytes before the data: the length and the type.
pub const HEADER_LEN: usize = 4;

/// One framed message: its type number and its raw data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The message type (see [`crate::types`]).
    pub ty: u16,
    /// The data, exactly as it came.
    pub data: Vec<u8>,
}

impl Frame {
    /// Reads the header at the front of `buf`: `(type, data length)`.
    ///
    /// # Errors
    /// [`CodecError::Incomplete`] with fewer than 4 bytes; [`CodecError::TooLarge`] when the
    /// length exceeds [`MAX_DATA_LEN`] — known from the header alone, before any data.
    pub fn peek_header(buf: &[u8]) -> Result<(u16, usize), CodecError> {
        let header = buf.get(..HEADER_LEN).ok_or(CodecError::Incomplete)?;
        let len = usize::from(u16::from_le_bytes([header[0], header[1]]));
        let ty = u16::from_le_bytes([header[2], header[3]]);
        if len > MAX_DATA_LEN {
            return Err(CodecError::TooLarge {
                len,
                max: MAX_DATA_LEN,
            });
        }
        Ok((ty, len))
    }
}

impl WireMessage for Frame {
    type Kind = RawFrame;

    fn decode(buf: &[u8]) -> Result<(Self, usize), CodecError> {
        let (ty, len) = Frame::peek_header(buf)?;
        let data = buf
            .get(HEADER_LEN..HEADER_LEN + len)
            .ok_or(CodecError::Incomplete)?;
        Ok((
            Frame {
                ty,
                data: data.to_vec(),
            },
            HEADER_LEN + len,
        ))
    }

    fn encode(&self, out: &mut Vec<u8>) {
        let len = u16::try_from(self.data.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&self.ty.to_le_bytes());
        out.extend_from_slice(&self.data[..usize::from(len)]);
    }

    fn encoded_len(&self) -> usize {
        HEADER_LEN + self.data.len().min(usize::from(u16::MAX))
    }

    fn kind(&self) -> RawFrame {
        RawFrame
    }
}

/// The kind of a [`Frame`] whose data is not read yet: metrics count messages once read
/// ([`Kind`](super::Kind)), so this name shows only where a raw frame does.
#[derive(Clone, Copy, Debug)]
pub struct RawFrame;

impl MessageKind for RawFrame {
    fn name(self) -> &'static str {
        "frame"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_length_counts_the_data_only() {
        let bytes = [0x03, 0x00, 0xc8, 0x00, b'a', b'b', b'c', 0xff];
        let (frame, used) = Frame::decode(&bytes).unwrap();
        assert_eq!(used, 7);
        assert_eq!(frame.ty, 200);
        assert_eq!(frame.data, b"abc");
        assert_eq!(frame.to_bytes(), bytes[..7]);
    }

    #[test]
    fn short_input_waits_and_long_frames_are_refused_from_the_header() {
        assert_eq!(
            Frame::decode(&[0x03, 0x00, 0xc8]),
            Err(CodecError::Incomplete)
        );
        assert_eq!(
            Frame::decode(&[0x03, 0x00, 0xc8, 0x00, b'a']),
            Err(CodecError::Incomplete)
        );
        assert_eq!(
            Frame::decode(&[0x01, 0x08, 0x00, 0x00]),
            Err(CodecError::TooLarge {
                len: 0x0801,
                max: MAX_DATA_LEN
            })
        );
    }
}
