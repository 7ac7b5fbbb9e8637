//! Pong (`0x01`): "I am here", the answer to a Ping.
//!
//! ```text
//! off  size  field
//!  0    2    port, u16 LE (the servent's listening port)
//!  2    4    IPv4, BIG-endian
//!  6    4    number of files shared, u32 LE
//! 10    4    kilobytes shared, u32 LE
//! 14    …    optional extension data, forwarded untouched
//! ```
//!
//! A Pong reuses its Ping's descriptor ID, which is how it finds its way back. Port 0 or IP
//! 0.0.0.0 means "firewalled": such a Pong is not forwarded and its address is not cached.
//!
//! # Errors
//! A payload shorter than 14 bytes is malformed.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use p2plab_peer_protocol::{ByteReader, CodecError};

use super::GnutellaFields;

/// A Pong payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pong {
    /// Where the answering servent listens for Gnutella connections.
    pub port: u16,
    /// Its IPv4 address.
    pub ip: Ipv4Addr,
    /// How many files it shares.
    pub files: u32,
    /// How many kilobytes it shares.
    pub kbytes: u32,
    /// Extension bytes, kept as they came.
    pub extra: Vec<u8>,
}

impl Pong {
    /// The fixed part of the payload.
    pub const MIN_LEN: usize = 14;

    /// Decodes a Pong payload.
    ///
    /// # Errors
    /// [`CodecError::Malformed`] if shorter than [`Pong::MIN_LEN`].
    pub fn decode(payload: &[u8]) -> Result<Self, CodecError> {
        let mut f = ByteReader::new(payload, "pong");
        Ok(Pong {
            port: f.u16_le()?,
            ip: f.ipv4()?,
            files: f.u32_le()?,
            kbytes: f.u32_le()?,
            extra: f.rest().to_vec(),
        })
    }

    /// Appends the payload to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.port.to_le_bytes());
        out.extend_from_slice(&self.ip.octets());
        out.extend_from_slice(&self.files.to_le_bytes());
        out.extend_from_slice(&self.kbytes.to_le_bytes());
        out.extend_from_slice(&self.extra);
    }

    /// Payload length in bytes.
    pub fn len(&self) -> usize {
        Self::MIN_LEN + self.extra.len()
    }

    /// Never true: a Pong has at least its 14 fixed bytes.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The advertised address, unless the Pong says "firewalled" (port 0 or IP 0).
    pub fn addr(&self) -> Option<SocketAddr> {
        (self.port != 0 && !self.ip.is_unspecified())
            .then(|| SocketAddr::V4(SocketAddrV4::new(self.ip, self.port)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_is_little_endian_and_ip_big_endian() {
        // port 6346 = 0x18CA -> CA 18; 192.168.1.2 -> C0 A8 01 02; 5 files; 300 kB = 2C 01 00 00.
        let bytes = [
            0xCA, 0x18, 0xC0, 0xA8, 0x01, 0x02, 0x05, 0x00, 0x00, 0x00, 0x2C, 0x01, 0x00, 0x00,
        ];
        let pong = Pong::decode(&bytes).expect("valid pong");
        assert_eq!(pong.port, 6346);
        assert_eq!(pong.ip, Ipv4Addr::new(192, 168, 1, 2));
        assert_eq!((pong.files, pong.kbytes), (5, 300));
        assert_eq!(pong.addr(), Some("192.168.1.2:6346".parse().expect("addr")));
        let mut out = Vec::new();
        pong.encode(&mut out);
        assert_eq!(out, bytes);
        assert_eq!(pong.len(), 14);
    }

    #[test]
    fn short_pongs_are_malformed_and_port_zero_is_firewalled() {
        assert!(matches!(
            Pong::decode(&[0; 13]),
            Err(CodecError::Malformed(_))
        ));
        let pong = Pong::decode(&[0; 14]).expect("valid pong");
        assert_eq!(pong.addr(), None);
    }
}
