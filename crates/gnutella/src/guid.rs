//! The 16-byte identifiers of Gnutella: descriptor IDs and servent IDs.
//!
//! A descriptor ID names one Ping, Query or Push and every answer to it; a servent ID names a
//! servent in QueryHits so that Pushes can find it. Both are opaque bytes: a forwarding servent
//! never changes them. p2plab draws them from the servent's seeded RNG and applies the
//! "modern servent" marking of the GDF: byte 8 is `0xFF` and byte 15 is `0x00`.

use std::fmt;

use rand::RngCore;

/// A 16-byte Gnutella identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Guid(pub [u8; 16]);

impl Guid {
    /// Length on the wire.
    pub const LEN: usize = 16;

    /// A fresh random identifier with the modern-servent marking.
    pub fn random(rng: &mut impl RngCore) -> Self {
        let mut bytes = [0u8; 16];
        rng.fill_bytes(&mut bytes);
        bytes[8] = 0xFF;
        bytes[15] = 0x00;
        Guid(bytes)
    }

    /// Reads the identifier from the first 16 bytes of `buf`, if there are that many.
    pub fn from_slice(buf: &[u8]) -> Option<Self> {
        let bytes: [u8; 16] = buf.get(..Self::LEN)?.try_into().ok()?;
        Some(Guid(bytes))
    }
}

impl fmt::Display for Guid {
    /// 32 hex digits, the form `GIV` lines use.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02X}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn random_guids_are_marked_modern_and_differ() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let a = Guid::random(&mut rng);
        let b = Guid::random(&mut rng);
        assert_ne!(a, b);
        for g in [a, b] {
            assert_eq!(g.0[8], 0xFF);
            assert_eq!(g.0[15], 0x00);
        }
    }

    #[test]
    fn displays_as_32_hex_digits() {
        let g = Guid([0xAB; 16]);
        assert_eq!(g.to_string(), "AB".repeat(16));
        assert_eq!(Guid::from_slice(&[1; 15]), None);
    }
}
