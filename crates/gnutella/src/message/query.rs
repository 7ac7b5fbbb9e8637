//! Query (`0x80`): a search.
//!
//! ```text
//! off  size  field
//!  0    2    minimum speed, u16 LE, kbit/s (0 = no minimum)
//!  2    N    search criteria, then a NUL byte
//!  …    …    optional extension data after the NUL (0.6: XML/GGEP/HUGE), forwarded untouched
//! ```
//!
//! The criteria are space-separated keywords; the spec names no encoding (ISO-8859-1 and UTF-8
//! both appear), so they are kept as bytes and read leniently when matched.
//!
//! # Errors
//! A payload without the two speed bytes or without the NUL after the criteria is malformed.

use std::borrow::Cow;

use p2plab_peer_protocol::{ByteReader, CodecError};

/// A Query payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// Servents slower than this (kbit/s) should not answer.
    pub min_speed: u16,
    /// The search text, without its NUL.
    pub criteria: Vec<u8>,
    /// Extension bytes after the NUL, kept as they came.
    pub extra: Vec<u8>,
}

impl Query {
    /// A plain query for `text` with no speed limit.
    pub fn new(text: &str) -> Self {
        Query {
            min_speed: 0,
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
            min_speed: f.u16_le()?,
            criteria: f.until_nul()?.to_vec(),
            extra: f.rest().to_vec(),
        })
    }

    /// Appends the payload to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.min_speed.to_le_bytes());
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
        assert_eq!(q.min_speed, 56);
        assert_eq!(q.text(), "abba");
        assert_eq!(q.extra, [0xC3, 0x82, 0x01]);
        let mut out = Vec::new();
        q.encode(&mut out);
        assert_eq!(out, bytes);
        assert_eq!(q.len(), bytes.len());
    }

    #[test]
    fn a_query_without_its_nul_is_malformed() {
        assert!(Query::decode(b"\x00\x00abba").is_err());
        assert!(Query::decode(b"\x00").is_err());
        assert_eq!(Query::new("x").len(), 4);
    }
}
