//! The decimal IP address of messages 201, 204 and 501.
//!
//! OpenNap stores a peer's `sin_addr.s_addr` — the four address bytes in network order —
//! and prints it with `%u` on a little-endian host. So the number on the wire is those four
//! bytes read as a **little-endian** `u32`: a.b.c.d = a + b·2⁸ + c·2¹⁶ + d·2²⁴. napster.txt's
//! example `3437166285` is 205.254.222.204.

use std::net::Ipv4Addr;

/// The wire number for `ip`.
pub fn to_wire(ip: Ipv4Addr) -> u32 {
    u32::from_le_bytes(ip.octets())
}

/// The address a wire number stands for.
pub fn from_wire(n: u32) -> Ipv4Addr {
    Ipv4Addr::from(n.to_le_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_napster_txt_example() {
        assert_eq!(from_wire(3_437_166_285), Ipv4Addr::new(205, 254, 222, 204));
        assert_eq!(to_wire(Ipv4Addr::new(205, 254, 222, 204)), 3_437_166_285);
    }

    #[test]
    fn the_first_octet_is_the_low_byte() {
        assert_eq!(to_wire(Ipv4Addr::new(1, 0, 0, 0)), 1);
        assert_eq!(to_wire(Ipv4Addr::new(0, 0, 0, 1)), 1 << 24);
        assert_eq!(to_wire(Ipv4Addr::new(10, 0, 0, 2)), 10 + (2 << 24));
    }

    proptest::proptest! {
        #[test]
        fn round_trips(n: u32) {
            proptest::prop_assert_eq!(to_wire(from_wire(n)), n);
        }
    }
}
