//! QueryHit (`0x81`): the results of a search, from one servent.
//!
//! ```text
//! off    size  field
//!  0      1    number of hits
//!  1      2    port, u16 LE (the HTTP download port)
//!  3      4    IPv4, BIG-endian
//!  7      4    speed, u32 LE, kbit/s
//! 11      …    result records, "number of hits" of them:
//!                file index u32 LE | file size u32 LE | name | 00 | extension (no NUL) | 00
//!  …      …    optional trailer (QHD / "BearShare trailer")
//! L-16   16    servent identifier
//! ```
//!
//! With no per-result extension a record ends in the classic `name NUL NUL`. A QueryHit reuses
//! its Query's descriptor ID and retraces the Query's path. To parse one, walk the records; the
//! servent ID is always the last 16 bytes, and whatever lies between the last record and it is
//! the trailer.
//!
//! # Errors
//! A payload under 27 bytes (11 + 16), one with 0 hits and no more than 27 bytes, or one whose
//! records run into the servent ID is malformed.

use std::borrow::Cow;
use std::net::Ipv4Addr;

use p2plab_peer_protocol::{ByteReader, CodecError};

use super::GnutellaFields;
use crate::guid::Guid;

/// One result record of a QueryHit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HitRecord {
    /// The file's index in the holder's library, used in the download's `GET /get/<index>/`.
    pub index: u32,
    /// Its size in bytes.
    pub size: u32,
    /// Its name, as bytes (the spec names no encoding).
    pub name: Vec<u8>,
    /// Per-result extension data (HUGE URNs in later servents); never contains a NUL.
    pub extra: Vec<u8>,
}

impl HitRecord {
    /// A record with no extension: `index size name NUL NUL`.
    pub fn new(index: u32, size: u32, name: &str) -> Self {
        HitRecord {
            index,
            size,
            name: name.as_bytes().to_vec(),
            extra: Vec::new(),
        }
    }

    /// The name as text (invalid UTF-8 replaced).
    pub fn name_text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.name)
    }

    /// Bytes this record takes on the wire.
    pub fn len(&self) -> usize {
        8 + self.name.len() + 1 + self.extra.len() + 1
    }

    /// Never true: a record has at least its 10 fixed bytes.
    pub fn is_empty(&self) -> bool {
        false
    }

    fn decode(f: &mut ByteReader<'_>) -> Result<Self, CodecError> {
        Ok(HitRecord {
            index: f.u32_le()?,
            size: f.u32_le()?,
            name: f.until_nul()?.to_vec(),
            extra: f.until_nul()?.to_vec(),
        })
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.index.to_le_bytes());
        out.extend_from_slice(&self.size.to_le_bytes());
        out.extend_from_slice(&self.name);
        out.push(0);
        out.extend_from_slice(&self.extra);
        out.push(0);
    }
}

/// A QueryHit payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryHit {
    /// The holder's HTTP download port.
    pub port: u16,
    /// The holder's IPv4 address.
    pub ip: Ipv4Addr,
    /// The holder's speed in kbit/s.
    pub speed: u32,
    /// The results; at most 255 (the count is one byte).
    pub results: Vec<HitRecord>,
    /// Bytes between the last record and the servent ID (QHD), kept as they came.
    pub trailer: Vec<u8>,
    /// The holder's servent ID, for routing Pushes to it.
    pub servent_id: Guid,
}

impl QueryHit {
    /// The fixed part: 11 bytes before the records and the 16-byte servent ID.
    pub const MIN_LEN: usize = 11 + Guid::LEN;

    /// The most results one QueryHit can count.
    pub const MAX_RESULTS: usize = u8::MAX as usize;

    /// Decodes a QueryHit payload.
    ///
    /// # Errors
    /// [`CodecError::Malformed`] as described in the module documentation.
    pub fn decode(payload: &[u8]) -> Result<Self, CodecError> {
        if payload.len() < Self::MIN_LEN || (payload[0] == 0 && payload.len() <= Self::MIN_LEN) {
            return Err(CodecError::malformed(format!(
                "query hit of {} bytes with {} hits",
                payload.len(),
                payload.first().copied().unwrap_or(0)
            )));
        }
        let (body, id) = payload.split_at(payload.len() - Guid::LEN);
        let mut f = ByteReader::new(body, "query hit");
        let count = f.u8()?;
        let (port, ip, speed) = (f.u16_le()?, f.ipv4()?, f.u32_le()?);
        let results = (0..count)
            .map(|_| HitRecord::decode(&mut f))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(QueryHit {
            port,
            ip,
            speed,
            results,
            trailer: f.rest().to_vec(),
            servent_id: Guid::from_slice(id).ok_or_else(|| CodecError::malformed("no id"))?,
        })
    }

    /// Appends the payload to `out`. The count byte is the number of results, which the
    /// servent keeps at or under [`QueryHit::MAX_RESULTS`].
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::try_from(self.results.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(&self.port.to_le_bytes());
        out.extend_from_slice(&self.ip.octets());
        out.extend_from_slice(&self.speed.to_le_bytes());
        for record in self.results.iter().take(Self::MAX_RESULTS) {
            record.encode(out);
        }
        out.extend_from_slice(&self.trailer);
        out.extend_from_slice(&self.servent_id.0);
    }

    /// Payload length in bytes.
    pub fn len(&self) -> usize {
        let records: usize = self
            .results
            .iter()
            .take(Self::MAX_RESULTS)
            .map(HitRecord::len)
            .sum();
        Self::MIN_LEN + records + self.trailer.len()
    }

    /// True when the QueryHit carries no results.
    pub fn is_empty(&self) -> bool {
        self.results.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two hits from 192.168.1.2:6346 at 1000 kbit/s, classic `name NUL NUL` records.
    fn spec_bytes() -> Vec<u8> {
        let mut b = vec![
            0x02, 0xCA, 0x18, 0xC0, 0xA8, 0x01, 0x02, 0xE8, 0x03, 0x00, 0x00,
        ];
        b.extend_from_slice(&[0x07, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00]); // 7, 4096
        b.extend_from_slice(b"abba.mp3\0\0");
        b.extend_from_slice(&[0x2A, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00]); // 42, 1
        b.extend_from_slice(b"x\0urn:sha1:X\0");
        b.extend_from_slice(&[0x5A; 16]); // servent id
        b
    }

    #[test]
    fn walks_the_records_and_takes_the_last_16_bytes_as_the_servent_id() {
        let bytes = spec_bytes();
        let qh = QueryHit::decode(&bytes).expect("valid query hit");
        assert_eq!(qh.port, 6346);
        assert_eq!(qh.ip, Ipv4Addr::new(192, 168, 1, 2));
        assert_eq!(qh.speed, 1000);
        assert_eq!(qh.results[0], HitRecord::new(7, 4096, "abba.mp3"));
        assert_eq!(qh.results[1].index, 42);
        assert_eq!(qh.results[1].extra, b"urn:sha1:X");
        assert!(qh.trailer.is_empty());
        assert_eq!(qh.servent_id, Guid([0x5A; 16]));
        let mut out = Vec::new();
        qh.encode(&mut out);
        assert_eq!(out, bytes);
        assert_eq!(qh.len(), bytes.len());
    }

    #[test]
    fn a_trailer_between_records_and_id_is_kept() {
        let mut bytes = spec_bytes();
        let at = bytes.len() - 16;
        bytes.splice(at..at, *b"BEAR\x02\x01\x01");
        let qh = QueryHit::decode(&bytes).expect("valid query hit");
        assert_eq!(qh.trailer, b"BEAR\x02\x01\x01");
        assert_eq!(qh.to_vec(), bytes);
    }

    /// A QueryHit laid out as gtk-gnutella sends one: one result whose extension holds its
    /// `urn:sha1:` and, after the 0x1C separator, a GGEP block (COBS-free, no NUL); then the
    /// QHD trailer — vendor `GTKG`, open-data size 2, the flag mask and flag bytes, and a
    /// private GGEP block whose data has a NUL, as binary GGEP data may — then the servent
    /// ID. The records are walked by count, so the trailer's NUL cannot cut them short.
    #[test]
    fn a_gtk_gnutella_query_hit_with_sha1_and_a_qhd_trailer_parses() {
        let mut b = vec![
            0x01, 0xCA, 0x18, 0xC0, 0xA8, 0x01, 0x02, 0xE8, 0x03, 0x00, 0x00,
        ];
        b.extend_from_slice(&[0x03, 0x00, 0x00, 0x00, 0x0C, 0x00, 0x00, 0x00]); // 3, 12 bytes
        b.extend_from_slice(b"Hello World.txt\0");
        b.extend_from_slice(b"urn:sha1:PLSTHIPQGSSZTS5FJUPAKUZWUGYQYPFB");
        b.extend_from_slice(b"\x1C\xC3\x82LF\x41\x0C"); // GGEP "LF" (length 1): 12
        b.push(0x00);
        b.extend_from_slice(b"GTKG\x02\x1C\x19"); // vendor, open data: mask, flags
        b.extend_from_slice(b"\xC3\x85GTKGV\x47\x01\x02\x00\x09\x00\x00\x00"); // version
        b.extend_from_slice(&[0x6B; 16]);
        let qh = QueryHit::decode(&b).expect("a gtk-gnutella query hit");
        assert_eq!(
            (qh.port, qh.ip, qh.speed),
            (6346, Ipv4Addr::new(192, 168, 1, 2), 1000)
        );
        assert_eq!(qh.results.len(), 1);
        let hit = &qh.results[0];
        assert_eq!((hit.index, hit.size), (3, 12));
        assert_eq!(hit.name_text(), "Hello World.txt");
        assert!(hit
            .extra
            .starts_with(b"urn:sha1:PLSTHIPQGSSZTS5FJUPAKUZWUGYQYPFB\x1C\xC3"));
        assert!(qh.trailer.starts_with(b"GTKG\x02\x1C\x19\xC3"));
        assert_eq!(
            qh.trailer.len(),
            7 + 15,
            "open data, then the 15-byte GGEP block"
        );
        assert_eq!(qh.servent_id, Guid([0x6B; 16]));
        assert_eq!(qh.to_vec(), b, "forwarded byte for byte");
    }

    #[test]
    fn the_27_byte_rule_and_truncated_records_are_malformed() {
        assert!(QueryHit::decode(&[0; 26]).is_err(), "under 27 bytes");
        assert!(QueryHit::decode(&[0; 27]).is_err(), "0 hits and 27 bytes");
        let mut one_hit = vec![0u8; 27];
        one_hit[0] = 1;
        assert!(QueryHit::decode(&one_hit).is_err(), "a hit with no record");
        let bytes = spec_bytes();
        let mut no_second_nul = bytes[..bytes.len() - 17].to_vec();
        no_second_nul.extend_from_slice(&[0x5A; 16]);
        assert!(QueryHit::decode(&no_second_nul).is_err());
    }

    impl QueryHit {
        fn to_vec(&self) -> Vec<u8> {
            let mut out = Vec::new();
            self.encode(&mut out);
            out
        }
    }
}
