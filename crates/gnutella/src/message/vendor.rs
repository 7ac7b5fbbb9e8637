//! The trailer p2plab puts on its own QueryHits: the optional QHD of the 0.4 spec (the
//! "BearShare trailer"), between the last result record and the servent ID.
//!
//! ```text
//! off  size  field
//!  0    4    vendor code: "PLAB"
//!  4    1    open data size: 2
//!  5    1    flags:  bit 0 push needed (its value); bits 2, 3, 4: the busy, have-uploaded and
//!                    speed-measured bits of flags2 are meaningful
//!  6    1    flags2: bit 0: the push bit of flags is meaningful; bits 2, 3, 4: busy,
//!                    have uploaded, speed measured (their values)
//! ```
//!
//! The push bit is the odd one out: its value sits in the first byte and its "meaningful" bit
//! in the second, the other way round from the rest. A reader takes a flag as set when its bit
//! is set in both bytes (gtk-gnutella computes `flags & flags2`). Servents that check hits —
//! gtk-gnutella among them — treat a QueryHit with no vendor code as spam.
//!
//! p2plab sets only what it knows. Push: meaningful, and needed only when the servent
//! advertises no port to download from. Speed measured: meaningful and never set, since the
//! speed field is the configured one. Busy and have-uploaded: left meaningless, because uploads
//! are served apart from the servent core, which does not see them.
//!
//! The vendor code `PLAB` ("p2plab") is four ASCII letters, as the spec asks, and is none of
//! the codes gtk-gnutella's vendor table knows (BEAR, GTKG, LIME, RAZA, …).

/// p2plab's vendor code.
pub const VENDOR_CODE: [u8; 4] = *b"PLAB";

/// How many bytes of open data follow the vendor code: the two flag bytes.
const OPEN_DATA_SIZE: u8 = 2;

/// Bit 0: push needed (value in flags, "meaningful" in flags2).
const PUSH: u8 = 0x01;

/// Bit 4: the speed field was measured (meaningful in flags, value in flags2).
const SPEED_MEASURED: u8 = 0x10;

/// p2plab's QHD trailer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VendorTrailer {
    /// True when a downloader must ask for a Push: the servent advertises no port.
    pub push_needed: bool,
}

impl VendorTrailer {
    /// Bytes the trailer takes: vendor code, open data size, two flag bytes.
    pub const LEN: usize = 7;

    /// The trailer as it goes on the wire.
    pub fn to_bytes(self) -> [u8; Self::LEN] {
        let push = if self.push_needed { PUSH } else { 0 };
        let [v0, v1, v2, v3] = VENDOR_CODE;
        [v0, v1, v2, v3, OPEN_DATA_SIZE, push | SPEED_MEASURED, PUSH]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trailer_byte_by_byte() {
        assert_eq!(
            VendorTrailer { push_needed: false }.to_bytes(),
            *b"PLAB\x02\x10\x01",
            "push meaningful and off, speed-measured meaningful and off"
        );
        assert_eq!(
            VendorTrailer { push_needed: true }.to_bytes(),
            *b"PLAB\x02\x11\x01"
        );
    }

    #[test]
    fn a_reader_anding_the_two_bytes_sees_only_push_when_needed() {
        for push_needed in [false, true] {
            let bytes = VendorTrailer { push_needed }.to_bytes();
            assert_eq!(bytes[5] & bytes[6] == PUSH, push_needed);
        }
    }
}
