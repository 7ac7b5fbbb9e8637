//! Push (`0x40`): "please connect to me and upload", for a servent behind a firewall.
//!
//! ```text
//! off  size  field
//!  0   16    servent identifier of the target (from its QueryHit)
//! 16    4    file index, u32 LE
//! 20    4    IPv4 of the requester, BIG-endian
//! 24    2    port of the requester, u16 LE
//! 26    …    optional extension data
//! ```
//!
//! A Push travels along the reverse path of the target's QueryHits, found by servent ID. The
//! target then opens a connection to the requester and sends `GIV <index>:<servent id>/<name>`,
//! which the shared HTTP transfer handles, not this core.
//!
//! # Errors
//! A payload shorter than 26 bytes is malformed.

use std::net::Ipv4Addr;

use p2plab_peer_protocol::{ByteReader, CodecError};

use super::GnutellaFields;
use crate::guid::Guid;

/// A Push payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Push {
    /// The servent asked to push.
    pub servent_id: Guid,
    /// The file wanted, by its index in the target's library.
    pub index: u32,
    /// Where the requester waits for the `GIV`.
    pub ip: Ipv4Addr,
    /// Its port.
    pub port: u16,
    /// Extension bytes, kept as they came.
    pub extra: Vec<u8>,
}

impl Push {
    /// The fixed part of the payload.
    pub const MIN_LEN: usize = 26;

    /// Decodes a Push payload.
    ///
    /// # Errors
    /// [`CodecError::Malformed`] if shorter than [`Push::MIN_LEN`].
    pub fn decode(payload: &[u8]) -> Result<Self, CodecError> {
        let mut f = ByteReader::new(payload, "push");
        Ok(Push {
            servent_id: f.guid()?,
            index: f.u32_le()?,
            ip: f.ipv4()?,
            port: f.u16_le()?,
            extra: f.rest().to_vec(),
        })
    }

    /// Appends the payload to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.servent_id.0);
        out.extend_from_slice(&self.index.to_le_bytes());
        out.extend_from_slice(&self.ip.octets());
        out.extend_from_slice(&self.port.to_le_bytes());
        out.extend_from_slice(&self.extra);
    }

    /// Payload length in bytes.
    pub fn len(&self) -> usize {
        Self::MIN_LEN + self.extra.len()
    }

    /// Never true: a Push has at least its 26 fixed bytes.
    pub fn is_empty(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_spec_layout() {
        let mut bytes = vec![0x11; 16];
        bytes.extend_from_slice(&[0xD2, 0x04, 0x00, 0x00]); // index 1234, LE
        bytes.extend_from_slice(&[0xD0, 0x11, 0x32, 0x04]); // 208.17.50.4, BE
        bytes.extend_from_slice(&[0xCA, 0x18]); // port 6346, LE
        let push = Push::decode(&bytes).expect("valid push");
        assert_eq!(push.servent_id, Guid([0x11; 16]));
        assert_eq!(push.index, 1234);
        assert_eq!(push.ip, Ipv4Addr::new(208, 17, 50, 4));
        assert_eq!(push.port, 6346);
        let mut out = Vec::new();
        push.encode(&mut out);
        assert_eq!(out, bytes);
        assert!(Push::decode(&bytes[..25]).is_err());
    }
}
