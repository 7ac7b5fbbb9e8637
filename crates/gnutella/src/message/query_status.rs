//! The Query Status Response, vendor message `BEAR/12` version 1: a leaf tells the ultrapeer
//! that searches for it how many of the results it kept, so the ultrapeer's dynamic query
//! (`servent/dynamic.rs`) stops on the leaf's count rather than on the hits it routed,
//! which the leaf may have thrown away as duplicates or filtered out.
//!
//! A vendor message is a descriptor of payload type `0x31` whose payload opens with eight
//! bytes naming it (the GDF's "Framework for Vendor-specific Messages", Manfredi 2003); the
//! Query Status Response adds two (LimeWire's `QueryStatusResponse`, which BearShare named):
//!
//! ```text
//! header   descriptor ID = the GUID of the Query it reports on; type 0x31; TTL 1, hops 0
//! off  size  field
//!  0    4    vendor ID "BEAR" (case-sensitive ASCII)
//!  4    2    sub-selector 12, u16 little-endian
//!  6    2    version 1, u16 little-endian
//!  8    2    results kept, u16 little-endian; 0xFFFF: "stop this query now"
//! ```
//!
//! The count is the leaf's share, not its total: LimeWire's leaves divide the hits they
//! kept by the number of ultrapeers searching for them, so that each ultrapeer can compare
//! it with its own target. p2plab's leaf does the same ([`QueryStatus::share`]).

/// The payload type of every vendor message.
pub const VENDOR_MESSAGE: u8 = 0x31;

/// The vendor ID of the Query Status messages: BearShare introduced them.
pub const VENDOR: [u8; 4] = *b"BEAR";

/// The sub-selector of the Query Status Response (11 is its Request).
pub const SELECTOR: u16 = 12;

/// The version this servent reads and writes; a later one is refused, as LimeWire does.
pub const VERSION: u16 = 1;

/// The count that asks the ultrapeer to stop the query at once.
pub const STOP: u16 = 0xFFFF;

/// Bytes of a Query Status Response payload: the vendor message's 8 and the count's 2.
pub const LEN: usize = 10;

/// A Query Status Response: how many results the leaf kept (its share), or [`STOP`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryStatus {
    /// Results kept, per ultrapeer searching; [`STOP`] ends the query.
    pub kept: u16,
}

impl QueryStatus {
    /// The share of `kept` results one of `ultrapeers` reports, rounded up so that one kept
    /// hit is never reported as none; at most `STOP - 1`, which is not a stop.
    pub fn share(kept: usize, ultrapeers: usize) -> Self {
        let share = kept.div_ceil(ultrapeers.max(1));
        QueryStatus {
            kept: u16::try_from(share).map_or(STOP - 1, |s| s.min(STOP - 1)),
        }
    }

    /// True when it asks the ultrapeer to stop.
    pub fn is_stop(self) -> bool {
        self.kept == STOP
    }

    /// The payload, as it goes on the wire.
    pub fn to_bytes(self) -> [u8; LEN] {
        let mut bytes = [0; LEN];
        bytes[..4].copy_from_slice(&VENDOR);
        bytes[4..6].copy_from_slice(&SELECTOR.to_le_bytes());
        bytes[6..8].copy_from_slice(&VERSION.to_le_bytes());
        bytes[8..].copy_from_slice(&self.kept.to_le_bytes());
        bytes
    }

    /// Reads a vendor message's payload: `Ok(None)` when it is some other vendor message,
    /// which a servent may ignore.
    ///
    /// # Errors
    /// A `BEAR/12` of another version, or whose payload is not [`LEN`] bytes: a message this
    /// servent cannot trust, to be dropped.
    pub fn decode(data: &[u8]) -> Result<Option<Self>, String> {
        let Some((name, rest)) = data.split_first_chunk::<8>() else {
            return Ok(None);
        };
        if name[..4] != VENDOR || u16::from_le_bytes([name[4], name[5]]) != SELECTOR {
            return Ok(None);
        }
        let version = u16::from_le_bytes([name[6], name[7]]);
        match rest {
            _ if version != VERSION => Err(format!("query status version {version}")),
            [lo, hi] => Ok(Some(QueryStatus {
                kept: u16::from_le_bytes([*lo, *hi]),
            })),
            _ => Err(format!("query status of {} bytes", data.len())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_status_response_byte_by_byte() {
        assert_eq!(
            QueryStatus { kept: 37 }.to_bytes(),
            *b"BEAR\x0c\x00\x01\x00\x25\x00",
            "vendor, selector 12 LE, version 1 LE, count LE"
        );
        assert_eq!(
            QueryStatus { kept: STOP }.to_bytes()[8..],
            [0xFF, 0xFF],
            "stop"
        );
        assert_eq!(
            QueryStatus::decode(b"BEAR\x0c\x00\x01\x00\x02\x01"),
            Ok(Some(QueryStatus { kept: 0x0102 }))
        );
    }

    #[test]
    fn other_vendor_messages_pass_and_broken_ones_are_refused() {
        assert_eq!(QueryStatus::decode(b"BEAR\x0b\x00\x01\x00"), Ok(None));
        assert_eq!(
            QueryStatus::decode(b"GTKG\x0c\x00\x01\x00\x05\x00"),
            Ok(None)
        );
        assert_eq!(QueryStatus::decode(b"BEAR"), Ok(None));
        assert!(QueryStatus::decode(b"BEAR\x0c\x00\x02\x00\x05\x00").is_err());
        assert!(QueryStatus::decode(b"BEAR\x0c\x00\x01\x00\x05").is_err());
    }

    #[test]
    fn a_share_rounds_up_and_never_says_stop() {
        assert_eq!(QueryStatus::share(10, 4).kept, 3);
        assert_eq!(QueryStatus::share(1, 3).kept, 1);
        assert_eq!(QueryStatus::share(0, 3).kept, 0);
        assert_eq!(QueryStatus::share(5, 0).kept, 5);
        assert_eq!(QueryStatus::share(1 << 20, 1).kept, STOP - 1);
    }
}
