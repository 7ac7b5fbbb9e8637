//! Query (`0x80`): a search.
//!
//! ```text
//! off  size  field
//!  0    2    speed field: flags, u16 BIG-endian, when its bit 15 is set (every servent
//!            since 2003); else the 0.4 minimum speed, u16 LE, kbit/s (0 = no minimum)
//!  2    N    search criteria, then a NUL byte
//!  …    …    optional extension data after the NUL (0.6: XML/GGEP/HUGE), forwarded untouched
//! ```
//!
//! The 0.4 minimum speed was hardly ever respected, so servents took its two bytes for flags
//! ("New Interpretation of the MinSpeed field in Queries", gtk-gnutella's `min_speed` doc):
//! the field is then written big-endian — unlike every other integer of 0.4 — and bit 15
//! says the rest are flags. gtk-gnutella drops a Query without that bit as an "ancient query
//! format", so this servent sends `80 00`: flags in use, none other set, because it honours
//! none of them (it is never firewalled, reads no XML or GGEP, answers over TCP only).
//!
//! ```text
//! bit 15  flags in use            bit 11  understands GGEP "H" in hits
//! bit 14  querier is firewalled   bit 10  out-of-band (UDP) reply possible
//! bit 13  wants XML metadata      bit  9  can do firewall-to-firewall transfers
//! bit 12  leaf-guided query       bits 8..0  most hits wanted (0 = no limit)
//! ```
//!
//! A 0.4 minimum speed whose first (low) byte has its high bit set reads as flags; deployed
//! servents read it so too, and such a Query is answered as a flagged one.
//!
//! The criteria are space-separated keywords; the spec names no encoding (ISO-8859-1 and UTF-8
//! both appear), so they are kept as bytes and read leniently when matched.
//!
//! # Errors
//! A payload without the two speed bytes or without the NUL after the criteria is malformed.

use std::borrow::Cow;

use p2plab_peer_protocol::{ByteReader, CodecError};

/// Bit 15 of the speed field: the field holds flags, not a speed.
pub const FLAGS_IN_USE: u16 = 0x8000;
/// Bit 14: the querier is firewalled (a firewalled servent should not answer it).
pub const FLAG_FIREWALLED: u16 = 0x4000;
/// Bit 13: the querier wants XML metadata in the hits.
pub const FLAG_XML: u16 = 0x2000;
/// Bit 12: a leaf-guided dynamic query.
pub const FLAG_LEAF_GUIDED: u16 = 0x1000;
/// Bit 11: the querier understands GGEP "H" (hashes) in hits.
pub const FLAG_GGEP_H: u16 = 0x0800;
/// Bit 10: the querier can take hits out of band, over UDP.
pub const FLAG_OUT_OF_BAND: u16 = 0x0400;
/// Bit 9: the querier can do firewall-to-firewall transfers.
pub const FLAG_FW_TO_FW: u16 = 0x0200;

/// The flags this servent's Queries carry: only [`FLAGS_IN_USE`], as it honours no other.
pub const OUR_QUERY_FLAGS: u16 = FLAGS_IN_USE;

/// What a Query's first two bytes say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpeedField {
    /// 0.4: servents slower than this (kbit/s) should not answer. Written little-endian.
    MinSpeed(u16),
    /// Flags, [`FLAGS_IN_USE`] always set. Written big-endian.
    Flags(u16),
}

impl SpeedField {
    /// Reads the two bytes: flags if bit 15 of their big-endian value is set.
    pub fn from_bytes(bytes: [u8; 2]) -> Self {
        let flags = u16::from_be_bytes(bytes);
        if flags & FLAGS_IN_USE != 0 {
            SpeedField::Flags(flags)
        } else {
            SpeedField::MinSpeed(u16::from_le_bytes(bytes))
        }
    }

    /// The two bytes on the wire.
    pub fn to_bytes(self) -> [u8; 2] {
        match self {
            SpeedField::MinSpeed(kbps) => kbps.to_le_bytes(),
            SpeedField::Flags(flags) => (flags | FLAGS_IN_USE).to_be_bytes(),
        }
    }

    /// Whether a servent of `speed_kbps`, never firewalled, should answer: a minimum speed
    /// is checked; flags ask nothing of such a servent.
    pub fn admits(self, speed_kbps: u32) -> bool {
        match self {
            SpeedField::MinSpeed(min) => speed_kbps >= u32::from(min),
            SpeedField::Flags(_) => true,
        }
    }
}

impl std::fmt::Display for SpeedField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpeedField::MinSpeed(kbps) => write!(f, "minimum speed {kbps} kbit/s, u16 LE"),
            SpeedField::Flags(flags) => write!(f, "query flags {flags:#06x}, u16 big-endian"),
        }
    }
}

/// A Query payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// The speed field: flags or a minimum speed.
    pub speed: SpeedField,
    /// The search text, without its NUL.
    pub criteria: Vec<u8>,
    /// Extension bytes after the NUL, kept as they came.
    pub extra: Vec<u8>,
}

impl Query {
    /// A plain query for `text`, with this servent's flags ([`OUR_QUERY_FLAGS`]).
    pub fn new(text: &str) -> Self {
        Query {
            speed: SpeedField::Flags(OUR_QUERY_FLAGS),
            criteria: text.as_bytes().to_vec(),
            extra: Vec::new(),
        }
    }

    /// Decodes a Query payload.
    ///
    /// # Errors
    /// [`CodecError::Malformed`] if the speed or the criteria's NUL is missing.
    pub fn decode(payload: &[u8]) -> Result<Self, CodecError> {
        let mut f = ByteReader::new(payload, "query");
        Ok(Query {
            speed: SpeedField::from_bytes(f.array()?),
            criteria: f.until_nul()?.to_vec(),
            extra: f.rest().to_vec(),
        })
    }

    /// Appends the payload to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.speed.to_bytes());
        out.extend_from_slice(&self.criteria);
        out.push(0);
        out.extend_from_slice(&self.extra);
    }

    /// Payload length in bytes.
    pub fn len(&self) -> usize {
        2 + self.criteria.len() + 1 + self.extra.len()
    }

    /// Never true: a Query has at least its speed and NUL.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The criteria as text (invalid UTF-8 replaced, which keeps every ASCII keyword).
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.criteria)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_speed_criteria_and_extension() {
        // min speed 56 = 38 00, "abba", NUL, then a GGEP-ish extension kept untouched.
        let bytes = b"\x38\x00abba\x00\xC3\x82\x01";
        let q = Query::decode(bytes).expect("valid query");
        assert_eq!(q.speed, SpeedField::MinSpeed(56));
        assert_eq!(q.text(), "abba");
        assert_eq!(q.extra, [0xC3, 0x82, 0x01]);
        let mut out = Vec::new();
        q.encode(&mut out);
        assert_eq!(out, bytes);
        assert_eq!(q.len(), bytes.len());
    }

    /// The flags convention is big-endian: `80 00` is bit 15 alone, and `60 00` (bits 14
    /// and 13 but not 15) is a 0.4 minimum speed of 96 kbit/s, little-endian.
    #[test]
    fn the_speed_field_is_flags_when_bit_15_is_set_big_endian() {
        let ours = Query::new("abba");
        let mut out = Vec::new();
        ours.encode(&mut out);
        assert_eq!(out, b"\x80\x00abba\x00", "flags in use, nothing else");
        let gtkg = Query::decode(b"\xB8\x00abba\x00").expect("flagged query");
        assert_eq!(
            gtkg.speed,
            SpeedField::Flags(FLAGS_IN_USE | FLAG_XML | FLAG_LEAF_GUIDED | FLAG_GGEP_H)
        );
        let fw = Query::decode(b"\xC4\x00x\x00").expect("flagged query");
        assert_eq!(fw.speed, SpeedField::Flags(0xC400));
        assert_eq!(
            fw.speed,
            SpeedField::Flags(FLAGS_IN_USE | FLAG_FIREWALLED | FLAG_OUT_OF_BAND)
        );
        let legacy = Query::decode(b"\x60\x00x\x00").expect("0.4 query");
        assert_eq!(legacy.speed, SpeedField::MinSpeed(96));
        assert!(!legacy.speed.admits(56) && legacy.speed.admits(96));
        assert!(gtkg.speed.admits(0), "flags ask no speed");
        assert_eq!(SpeedField::MinSpeed(0).to_bytes(), [0, 0]);
    }

    #[test]
    fn a_query_without_its_nul_is_malformed() {
        assert!(Query::decode(b"\x00\x00abba").is_err());
        assert!(Query::decode(b"\x00").is_err());
        assert_eq!(Query::new("x").len(), 4);
    }
}
