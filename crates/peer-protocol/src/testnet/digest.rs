//! A fingerprint of everything a run's cores were told: two runs with the same digest
//! delivered the same inputs, at the same times, to the same nodes, in the same order.
//!
//! The hash is 64-bit FNV-1a (Fowler, Noll, Vo): a byte at a time, `h = (h ^ byte) * prime`.
//! It is not cryptographic and need not be — it only has to be stable, and FNV's definition
//! fixes every bit, on every platform and Rust version (std's `DefaultHasher` promises
//! neither).

use crate::node::Input;
use crate::time::Instant;

/// FNV-1a's 64-bit offset basis: the hash of nothing.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV-1a's 64-bit prime.
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// A running FNV-1a hash over delivered inputs.
#[derive(Debug, Clone, Copy)]
pub(super) struct Digest(u64);

impl Default for Digest {
    fn default() -> Self {
        Digest(FNV_OFFSET)
    }
}

impl Digest {
    pub(super) fn value(self) -> u64 {
        self.0
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(FNV_PRIME);
        }
    }

    fn word(&mut self, word: u64) {
        self.bytes(&word.to_le_bytes());
    }

    /// Folds one input in: when, to whom, which kind, on which connection, what bytes.
    pub(super) fn input(&mut self, now: Instant, node: usize, input: &Input<'_>) {
        self.word(now.as_micros());
        self.word(node as u64);
        let (kind, conn, bytes): (u8, u64, &[u8]) = match input {
            Input::Start => (0, 0, &[]),
            Input::Accepted { conn, .. } => (1, conn.0, &[]),
            Input::Connected { conn } => (2, conn.0, &[]),
            Input::Received { conn, bytes } => (3, conn.0, bytes),
            Input::Closed { conn } => (4, conn.0, &[]),
            Input::Timeout => (5, 0, &[]),
            Input::Command(_) => (6, 0, &[]),
        };
        self.bytes(&[kind]);
        self.word(conn);
        self.word(bytes.len() as u64);
        self.bytes(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_published_fnv1a_vectors() {
        let hash = |s: &[u8]| {
            let mut d = Digest::default();
            d.bytes(s);
            d.value()
        };
        assert_eq!(hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
