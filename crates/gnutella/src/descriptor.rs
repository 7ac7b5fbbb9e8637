//! A whole Gnutella message: the 23-byte header and its payload.
//!
//! ```text
//! | GUID (16) | type (1) | TTL (1) | Hops (1) | length (4, LE) | payload (length bytes) |
//! ```
//!
//! Decoding first reads the header and checks the announced length against
//! [`MAX_PAYLOAD`](crate::MAX_PAYLOAD) — before waiting for the payload, so a lying peer is cut
//! off at once — then decodes the payload by its type. The next descriptor starts right after
//! the payload; there is no padding and no sync marker.

use p2plab_peer_protocol::{CodecError, WireMessage};

use crate::guid::Guid;
use crate::header::{Header, PayloadType, EXTENSION_TYPES};
use crate::kind::Kind;
use crate::message::{Ping, Pong, Push, Query, QueryHit};
use crate::HEADER_LEN;

/// The payload of a descriptor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// `0x00`.
    Ping(Ping),
    /// `0x01`.
    Pong(Pong),
    /// `0x40`.
    Push(Push),
    /// `0x80`.
    Query(Query),
    /// `0x81`.
    QueryHit(QueryHit),
    /// A later extension a 0.4 servent may ignore (one of
    /// [`EXTENSION_TYPES`]): read whole, so the stream stays in sync, and then dropped.
    Extension {
        /// Its type code.
        code: u8,
        /// Its payload, unparsed.
        data: Vec<u8>,
    },
}

impl Payload {
    /// Decodes a payload of type `code`.
    ///
    /// # Errors
    /// [`CodecError::UnknownType`] for a code that is neither a 0.4 type nor a known
    /// extension; [`CodecError::Malformed`] when the bytes break the type's layout.
    pub fn decode(code: u8, data: &[u8]) -> Result<Self, CodecError> {
        let Some(kind) = PayloadType::from_code(code) else {
            return if EXTENSION_TYPES.contains(&code) {
                Ok(Payload::Extension {
                    code,
                    data: data.to_vec(),
                })
            } else {
                Err(CodecError::UnknownType(u32::from(code)))
            };
        };
        Ok(match kind {
            PayloadType::Ping => Payload::Ping(Ping::decode(data)),
            PayloadType::Pong => Payload::Pong(Pong::decode(data)?),
            PayloadType::Push => Payload::Push(Push::decode(data)?),
            PayloadType::Query => Payload::Query(Query::decode(data)?),
            PayloadType::QueryHit => Payload::QueryHit(QueryHit::decode(data)?),
        })
    }

    /// The type code on the wire.
    pub fn code(&self) -> u8 {
        match self {
            Payload::Ping(_) => PayloadType::Ping.code(),
            Payload::Pong(_) => PayloadType::Pong.code(),
            Payload::Push(_) => PayloadType::Push.code(),
            Payload::Query(_) => PayloadType::Query.code(),
            Payload::QueryHit(_) => PayloadType::QueryHit.code(),
            Payload::Extension { code, .. } => *code,
        }
    }

    /// Payload length in bytes.
    pub fn len(&self) -> usize {
        match self {
            Payload::Ping(p) => p.len(),
            Payload::Pong(p) => p.len(),
            Payload::Push(p) => p.len(),
            Payload::Query(p) => p.len(),
            Payload::QueryHit(p) => p.len(),
            Payload::Extension { data, .. } => data.len(),
        }
    }

    /// True for an empty payload (a classic Ping).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends the payload bytes to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Payload::Ping(p) => p.encode(out),
            Payload::Pong(p) => p.encode(out),
            Payload::Push(p) => p.encode(out),
            Payload::Query(p) => p.encode(out),
            Payload::QueryHit(p) => p.encode(out),
            Payload::Extension { data, .. } => out.extend_from_slice(data),
        }
    }
}

/// One Gnutella message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Descriptor {
    /// The descriptor ID.
    pub guid: Guid,
    /// Remaining forwards.
    pub ttl: u8,
    /// Forwards so far.
    pub hops: u8,
    /// What it says.
    pub payload: Payload,
}

impl Descriptor {
    /// A fresh descriptor: Hops 0.
    pub fn new(guid: Guid, ttl: u8, payload: Payload) -> Self {
        Descriptor {
            guid,
            ttl,
            hops: 0,
            payload,
        }
    }

    /// The overlay links this descriptor crossed to reach the servent that decoded it. It
    /// left its first sender with Hops 0 and every servent that passed it on added one, so
    /// a descriptor that crossed k links arrives with Hops = k − 1: a neighbour's QueryHit
    /// arrives with Hops 0 from a holder one link away. Every distance p2plab reports (a
    /// hit's hops, a search's path length) and every reply's TTL counts these links.
    pub fn links_crossed(&self) -> u32 {
        u32::from(self.hops) + 1
    }

    /// The copy to forward: TTL one less, Hops one more (routing rule 5).
    pub fn forwarded(&self) -> Self {
        Descriptor {
            ttl: self.ttl.saturating_sub(1),
            hops: self.hops.saturating_add(1),
            ..self.clone()
        }
    }

    fn header(&self) -> Header {
        Header {
            guid: self.guid,
            payload_type: self.payload.code(),
            ttl: self.ttl,
            hops: self.hops,
            payload_len: u32::try_from(self.payload.len()).unwrap_or(u32::MAX),
        }
    }
}

impl WireMessage for Descriptor {
    type Kind = Kind;

    fn decode(buf: &[u8]) -> Result<(Self, usize), CodecError> {
        let header = Header::decode(buf)?;
        let data = buf
            .get(HEADER_LEN..header.frame_len())
            .ok_or(CodecError::Incomplete)?;
        let payload = Payload::decode(header.payload_type, data)?;
        let descriptor = Descriptor {
            guid: header.guid,
            ttl: header.ttl,
            hops: header.hops,
            payload,
        };
        Ok((descriptor, header.frame_len()))
    }

    fn encode(&self, out: &mut Vec<u8>) {
        self.header().encode(out);
        self.payload.encode(out);
    }

    fn encoded_len(&self) -> usize {
        HEADER_LEN + self.payload.len()
    }

    fn kind(&self) -> Kind {
        match PayloadType::from_code(self.payload.code()) {
            Some(t) => t.kind(),
            None => Kind::Extension,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{HitRecord, SpeedField};
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    const GUID: [u8; 16] = [
        0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xFF, 0xA9, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE,
        0x00,
    ];

    #[test]
    fn a_ping_is_its_23_byte_header() {
        let mut bytes = GUID.to_vec();
        bytes.extend_from_slice(&[0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00]);
        let (d, used) = Descriptor::decode(&bytes).expect("valid ping");
        assert_eq!(used, 23);
        assert_eq!(
            d,
            Descriptor::new(Guid(GUID), 7, Payload::Ping(Ping::default()))
        );
        assert_eq!(d.to_bytes(), bytes);
        assert_eq!(d.kind(), Kind::Ping);
    }

    #[test]
    fn a_pong_with_its_header_byte_for_byte() {
        let mut bytes = GUID.to_vec();
        bytes.extend_from_slice(&[0x01, 0x03, 0x04, 0x0E, 0x00, 0x00, 0x00]); // TTL 3, Hops 4, len 14
        bytes.extend_from_slice(&[0xCA, 0x18, 0xC0, 0xA8, 0x01, 0x02]); // 192.168.1.2:6346
        bytes.extend_from_slice(&[0x02, 0, 0, 0, 0x00, 0x04, 0, 0]); // 2 files, 1024 kB
        bytes.extend_from_slice(b"next");
        let (d, used) = Descriptor::decode(&bytes).expect("valid pong");
        assert_eq!(used, 37);
        let Payload::Pong(ref pong) = d.payload else {
            panic!("not a pong: {d:?}")
        };
        assert_eq!(pong.addr(), Some("192.168.1.2:6346".parse().expect("addr")));
        assert_eq!((pong.files, pong.kbytes, d.ttl, d.hops), (2, 1024, 3, 4));
        assert_eq!(d.to_bytes(), bytes[..37]);
    }

    #[test]
    fn partial_frames_wait_and_bad_ones_fail() {
        let d = Descriptor::new(Guid(GUID), 5, Payload::Query(Query::new("abba")));
        let bytes = d.to_bytes();
        for cut in 0..bytes.len() {
            assert_eq!(
                Descriptor::decode(&bytes[..cut]),
                Err(CodecError::Incomplete)
            );
        }
        let mut unknown = bytes.clone();
        unknown[16] = 0x99;
        assert_eq!(
            Descriptor::decode(&unknown),
            Err(CodecError::UnknownType(0x99))
        );
        let mut bye = bytes.clone();
        bye[16] = 0x02;
        assert!(matches!(
            Descriptor::decode(&bye),
            Ok((
                Descriptor {
                    payload: Payload::Extension { code: 2, .. },
                    ..
                },
                _
            ))
        ));
        let mut no_nul = bytes;
        let last = no_nul.len() - 1;
        no_nul[last] = b'!';
        assert!(matches!(
            Descriptor::decode(&no_nul),
            Err(CodecError::Malformed(_))
        ));
    }

    fn payload() -> impl Strategy<Value = Payload> {
        let bytes = |n| proptest::collection::vec(any::<u8>(), 0..n);
        let text = |n| proptest::collection::vec(1u8..=255, 0..n);
        let record = (any::<u32>(), any::<u32>(), text(40), text(10)).prop_map(
            |(index, size, name, extra)| HitRecord {
                index,
                size,
                name,
                extra,
            },
        );
        prop_oneof![
            bytes(8).prop_map(|extra| Payload::Ping(Ping { extra })),
            (
                any::<u16>(),
                any::<u32>(),
                any::<u32>(),
                any::<u32>(),
                bytes(8)
            )
                .prop_map(|(port, ip, files, kbytes, extra)| Payload::Pong(Pong {
                    port,
                    ip: Ipv4Addr::from(ip),
                    files,
                    kbytes,
                    extra
                })),
            (
                any::<[u8; 16]>(),
                any::<u32>(),
                any::<u32>(),
                any::<u16>(),
                bytes(8)
            )
                .prop_map(|(id, index, ip, port, extra)| Payload::Push(Push {
                    servent_id: Guid(id),
                    index,
                    ip: Ipv4Addr::from(ip),
                    port,
                    extra
                })),
            (any::<u16>(), text(60), bytes(20)).prop_map(|(field, criteria, extra)| {
                // Bit 7 of the first byte tells flags from a minimum speed, so a minimum
                // speed keeps it clear (its low byte under 0x80) and flags keep bit 15 set.
                let speed = if field & 1 == 0 {
                    SpeedField::MinSpeed(field & 0xFF7F)
                } else {
                    SpeedField::Flags(field | 0x8000)
                };
                Payload::Query(Query {
                    speed,
                    criteria,
                    extra,
                })
            }),
            (
                any::<u16>(),
                any::<u32>(),
                any::<u32>(),
                proptest::collection::vec(record, 1..20),
                bytes(12),
                any::<[u8; 16]>()
            )
                .prop_map(|(port, ip, speed, results, trailer, id)| {
                    Payload::QueryHit(QueryHit {
                        port,
                        ip: Ipv4Addr::from(ip),
                        speed,
                        results,
                        trailer,
                        servent_id: Guid(id),
                    })
                }),
        ]
    }

    proptest! {
        #[test]
        fn every_descriptor_round_trips(
            guid in any::<[u8; 16]>(), ttl in any::<u8>(), hops in any::<u8>(), payload in payload()
        ) {
            let d = Descriptor { guid: Guid(guid), ttl, hops, payload };
            let bytes = d.to_bytes();
            prop_assert_eq!(bytes.len(), d.encoded_len());
            let mut stream = bytes.clone();
            stream.extend_from_slice(&bytes);
            let (back, used) = Descriptor::decode(&stream).expect("round trip");
            prop_assert_eq!(used, bytes.len());
            prop_assert_eq!(back, d);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Descriptor::decode(&bytes);
        }
    }
}
