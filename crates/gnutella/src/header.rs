//! The 23-byte descriptor header that starts every Gnutella message.
//!
//! ```text
//! offset  size  field
//!  0      16    Descriptor ID (GUID), kept unchanged when forwarding
//! 16       1    payload type: 00 Ping, 01 Pong, 40 Push, 80 Query, 81 QueryHit
//! 17       1    TTL: how many more times the descriptor may be forwarded
//! 18       1    Hops: how many times it has been forwarded
//! 19       4    payload length, u32 LITTLE-endian, header excluded
//! ```
//!
//! The payload length is the only framing Gnutella has — there is no sync marker — so it is
//! checked before anything else: a length over [`MAX_PAYLOAD`] means the stream is lost.

use p2plab_peer_protocol::CodecError;

use crate::guid::Guid;
use crate::kind::Kind;
use crate::{HEADER_LEN, MAX_PAYLOAD};

/// The payload types of Gnutella 0.4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PayloadType {
    /// `0x00`: "who is out there?"
    Ping,
    /// `0x01`: "I am here", in answer to a Ping.
    Pong,
    /// `0x40`: "please connect to me and upload", for firewalled servents.
    Push,
    /// `0x80`: a search.
    Query,
    /// `0x81`: results of a search.
    QueryHit,
}

/// Bye (`0x02`): the sender is closing the connection, and says why (a code and a text).
/// The receiver closes the connection once it has read it; the sender may wait, bounded,
/// for that close so the Bye is not lost to a reset.
pub const BYE: u8 = 0x02;

/// Payload types later specs added, which a 0.4 servent may ignore: Bye ([`BYE`]), the type
/// reserved for IBCM (`0x10`), QRP (`0x30`), open and standard vendor messages (`0x31`,
/// `0x32`). Any other unknown type means the stream lost sync.
pub const EXTENSION_TYPES: [u8; 5] = [0x02, 0x10, 0x30, 0x31, 0x32];

impl PayloadType {
    /// All five, in wire order of their codes.
    pub const ALL: [PayloadType; 5] = [
        PayloadType::Ping,
        PayloadType::Pong,
        PayloadType::Push,
        PayloadType::Query,
        PayloadType::QueryHit,
    ];

    /// The type's code on the wire.
    pub const fn code(self) -> u8 {
        match self {
            PayloadType::Ping => 0x00,
            PayloadType::Pong => 0x01,
            PayloadType::Push => 0x40,
            PayloadType::Query => 0x80,
            PayloadType::QueryHit => 0x81,
        }
    }

    /// The type with this code, if it is one of the five.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The metrics kind of a descriptor of this type.
    pub const fn kind(self) -> Kind {
        match self {
            PayloadType::Ping => Kind::Ping,
            PayloadType::Pong => Kind::Pong,
            PayloadType::Push => Kind::Push,
            PayloadType::Query => Kind::Query,
            PayloadType::QueryHit => Kind::QueryHit,
        }
    }
}

/// A decoded descriptor header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The descriptor ID.
    pub guid: Guid,
    /// The payload type code (one of [`PayloadType`] or [`EXTENSION_TYPES`] if valid).
    pub payload_type: u8,
    /// Remaining forwards.
    pub ttl: u8,
    /// Forwards so far.
    pub hops: u8,
    /// Payload bytes that follow the header.
    pub payload_len: u32,
}

impl Header {
    /// Decodes the header at the front of `buf`.
    ///
    /// # Errors
    /// [`CodecError::Incomplete`] with fewer than [`HEADER_LEN`] bytes;
    /// [`CodecError::TooLarge`] when the payload length exceeds [`MAX_PAYLOAD`].
    pub fn decode(buf: &[u8]) -> Result<Self, CodecError> {
        let head = buf.get(..HEADER_LEN).ok_or(CodecError::Incomplete)?;
        let guid = Guid::from_slice(head).ok_or(CodecError::Incomplete)?;
        let payload_len = u32::from_le_bytes([head[19], head[20], head[21], head[22]]);
        if payload_len as usize > MAX_PAYLOAD {
            return Err(CodecError::TooLarge {
                len: payload_len as usize,
                max: MAX_PAYLOAD,
            });
        }
        Ok(Header {
            guid,
            payload_type: head[16],
            ttl: head[17],
            hops: head[18],
            payload_len,
        })
    }

    /// Appends the 23 header bytes to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.guid.0);
        out.extend_from_slice(&[self.payload_type, self.ttl, self.hops]);
        out.extend_from_slice(&self.payload_len.to_le_bytes());
    }

    /// Header plus payload: the bytes this descriptor takes on the wire.
    pub fn frame_len(&self) -> usize {
        HEADER_LEN + self.payload_len as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Query header, TTL 7, Hops 0, payload length 300 = `2C 01 00 00` (little-endian).
    const QUERY_HEADER: [u8; 23] = [
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, //
        0xFF, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x00, //
        0x80, 0x07, 0x00, 0x2C, 0x01, 0x00, 0x00,
    ];

    #[test]
    fn decodes_the_spec_layout_with_a_little_endian_length() {
        let h = Header::decode(&QUERY_HEADER).expect("valid header");
        assert_eq!(h.guid.0[0], 0x01);
        assert_eq!(h.guid.0[8], 0xFF);
        assert_eq!(h.payload_type, PayloadType::Query.code());
        assert_eq!((h.ttl, h.hops), (7, 0));
        assert_eq!(h.payload_len, 300);
        assert_eq!(h.frame_len(), 323);
        let mut out = Vec::new();
        h.encode(&mut out);
        assert_eq!(out, QUERY_HEADER);
    }

    #[test]
    fn a_short_buffer_is_incomplete_and_a_huge_length_is_refused() {
        assert_eq!(
            Header::decode(&QUERY_HEADER[..22]),
            Err(CodecError::Incomplete)
        );
        let mut huge = QUERY_HEADER;
        huge[19..23].copy_from_slice(&4097u32.to_le_bytes());
        assert_eq!(
            Header::decode(&huge),
            Err(CodecError::TooLarge {
                len: 4097,
                max: MAX_PAYLOAD
            })
        );
    }

    #[test]
    fn type_codes_match_the_spec() {
        let codes: Vec<u8> = PayloadType::ALL.iter().map(|t| t.code()).collect();
        assert_eq!(codes, [0x00, 0x01, 0x40, 0x80, 0x81]);
        assert_eq!(PayloadType::from_code(0x81), Some(PayloadType::QueryHit));
        assert_eq!(PayloadType::from_code(0x02), None);
    }
}
