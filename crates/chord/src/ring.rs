//! A snapshot of one node's view of the ring, for `p2plab chord ring` and for tests.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::id::Id;
use crate::node_ref::NodeRef;

/// A peer as the snapshot shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerView {
    /// Its id: decimal on rings of up to 64 bits, hex otherwise.
    pub id: String,
    /// Its listen address.
    pub addr: SocketAddr,
}

/// One finger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FingerView {
    /// i, from 1 to m.
    pub index: usize,
    /// `n + 2^(i-1) mod 2^m`.
    pub start: String,
    /// The node the finger points at, if known.
    pub node: Option<PeerView>,
}

/// What one node knows of the ring.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RingView {
    /// m.
    pub id_bits: u32,
    /// The node itself.
    pub node: PeerView,
    /// Its predecessor, if known.
    pub predecessor: Option<PeerView>,
    /// Its successor list, nearest first.
    pub successors: Vec<PeerView>,
    /// Its fingers, finger 1 first.
    pub fingers: Vec<FingerView>,
    /// How many keys it stores entries for.
    pub stored_keys: usize,
}

/// An id as text: decimal when it fits in 64 bits on a small ring, else hex at the ring's
/// full width.
pub fn id_text(id: Id, id_bits: u32) -> String {
    if id_bits <= 64 {
        id.low_u64().to_string()
    } else {
        // Every id of the ring at the ring's full width, so ids line up and sort as text:
        // the id is below 2^id_bits, so the digits cut off the front are zeros.
        let digits = id_bits.div_ceil(4) as usize;
        let hex = hex::encode(id.as_bytes());
        format!("0x{}", &hex[hex.len() - digits..])
    }
}

impl PeerView {
    /// The view of `node`.
    pub fn of(node: NodeRef, id_bits: u32) -> Self {
        PeerView {
            id: id_text(node.id, id_bits),
            addr: node.addr,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::Ring;

    #[test]
    fn ids_on_a_wide_ring_are_hex_at_full_width() {
        let small = id_text(Id::from_u64(0x5), 160);
        assert_eq!(small, format!("0x{}5", "0".repeat(39)));
        assert_eq!(id_text(Id::from_u64(0x5), 72).len(), 2 + 18);
        assert_eq!(
            id_text(Id::from_u64(300), 16),
            "300",
            "decimal on small rings"
        );
    }

    proptest::proptest! {
        #[test]
        fn wide_ids_read_as_the_number_they_are(bytes in proptest::array::uniform20(proptest::num::u8::ANY), bits in 65u32..=160) {
            let id = Ring::new(bits).distance(Id::from_u64(0), Id::from_bytes(bytes));
            let text = id_text(id, bits);
            let digits = text.strip_prefix("0x").expect("hex");
            proptest::prop_assert_eq!(digits.len(), bits.div_ceil(4) as usize);
            // `Display` writes the same number without leading zeros.
            let shown = id.to_string();
            let shown = shown.trim_start_matches("0x");
            proptest::prop_assert_eq!(digits.trim_start_matches('0'), shown.trim_start_matches('0'));
        }
    }
}
