//! A fingerprint of everything a run's cores were told: two runs with the same digest
//! delivered the same inputs, at the same times, to the same nodes, in the same order.
//!
//! Each input is hashed with XXH3 (64-bit), seeded with the digest so far: first a 33-byte
//! record of when, to whom, which kind, on which connection and how many bytes, then the
//! bytes. The hash is not cryptographic and need not be: it only has to be stable, and XXH3's
//! specification fixes every bit of its output on every platform (std's `DefaultHasher`
//! promises neither). It reads eight bytes and more at a step, so hashing every message of
//! a run costs little next to running it.

use p2plab_peer_protocol::{Input, Instant};
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// The digest so far: the seed for the next input's hash.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Digest(u64);

impl Digest {
    pub(super) fn value(self) -> u64 {
        self.0
    }

    /// Folds one input in: when, to whom, which kind, on which connection, what bytes.
    pub(super) fn input(&mut self, now: Instant, node: usize, input: &Input<'_>) {
        let (kind, conn, bytes): (u8, u64, &[u8]) = match input {
            Input::Start => (0, 0, &[]),
            Input::Accepted { conn, .. } => (1, conn.0, &[]),
            Input::Connected { conn } => (2, conn.0, &[]),
            Input::Received { conn, bytes } => (3, conn.0, bytes),
            // The reason is not folded in: it says why, it changes nothing that happens.
            Input::Closed { conn, .. } => (4, conn.0, &[]),
            Input::Timeout => (5, 0, &[]),
            Input::Command(_) => (6, 0, &[]),
        };
        let mut record = [0u8; 33];
        record[..8].copy_from_slice(&now.as_micros().to_le_bytes());
        record[8..16].copy_from_slice(&(node as u64).to_le_bytes());
        record[16] = kind;
        record[17..25].copy_from_slice(&conn.to_le_bytes());
        record[25..].copy_from_slice(&(bytes.len() as u64).to_le_bytes());
        self.0 = xxh3_64_with_seed(&record, self.0);
        self.0 = xxh3_64_with_seed(bytes, self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same two inputs hashed by an independent XXH3 (Python's `xxhash`), record by record.
    const GOLDEN: u64 = 0x89f1_4863_e660_1838;

    #[test]
    fn the_hash_is_xxh3_as_published() {
        assert_eq!(xxh3_64_with_seed(b"", 0), 0x2d06_8005_38d3_94c2);
    }

    #[test]
    fn a_known_input_has_a_fixed_digest() {
        // Pinned: a change to the record's layout or to the hash shows here, not as a
        // silent change of every digest a reader compares against.
        let mut d = Digest::default();
        let at = Instant::ZERO + std::time::Duration::from_millis(1);
        let conn = p2plab_peer_protocol::ConnId(7);
        d.input(
            at,
            3,
            &Input::Received {
                conn,
                bytes: b"GNUTELLA",
            },
        );
        d.input(at, 4, &Input::Timeout);
        assert_eq!(d.value(), GOLDEN);
    }

    #[test]
    fn every_field_of_an_input_counts() {
        let at = |ms| Instant::ZERO + std::time::Duration::from_millis(ms);
        let conn = p2plab_peer_protocol::ConnId(1);
        let digest = |now, node, input: Input<'_>| {
            let mut d = Digest::default();
            d.input(now, node, &input);
            d.value()
        };
        let base = digest(at(1), 0, Input::Received { conn, bytes: b"ab" });
        assert_ne!(
            base,
            digest(at(2), 0, Input::Received { conn, bytes: b"ab" })
        );
        assert_ne!(
            base,
            digest(at(1), 1, Input::Received { conn, bytes: b"ab" })
        );
        assert_ne!(
            base,
            digest(at(1), 0, Input::Received { conn, bytes: b"ba" })
        );
        assert_ne!(base, digest(at(1), 0, Input::Connected { conn }));
        let other = p2plab_peer_protocol::ConnId(2);
        assert_ne!(
            base,
            digest(
                at(1),
                0,
                Input::Received {
                    conn: other,
                    bytes: b"ab"
                }
            )
        );
    }
}
