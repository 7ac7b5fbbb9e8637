//! The five payloads of Gnutella 0.4, one module each, and the one vendor message this
//! servent reads and writes ([`QueryStatus`]).
//!
//! Every payload decodes from exactly the bytes its header announced and encodes back to the
//! same bytes: extension data a servent does not understand is kept and forwarded untouched,
//! as the spec asks. Integers are little-endian; IPv4 addresses are big-endian (network order).

pub mod ping;
pub mod pong;
pub mod push;
pub mod query;
pub mod query_hit;
pub mod query_status;
pub mod vendor;

pub use ping::Ping;
pub use pong::Pong;
pub use push::Push;
pub use query::{Query, SpeedField};
pub use query_hit::{HitRecord, QueryHit};
pub use query_status::QueryStatus;
pub use vendor::VendorTrailer;

use std::net::Ipv4Addr;

use p2plab_peer_protocol::{ByteReader, CodecError};

use crate::guid::Guid;

/// The two Gnutella fields on top of the shared [`ByteReader`], which reads the
/// little-endian integers and NUL-terminated strings itself.
pub(crate) trait GnutellaFields {
    /// An IPv4 address: the one big-endian field of the protocol.
    fn ipv4(&mut self) -> Result<Ipv4Addr, CodecError>;

    /// A 16-byte servent or descriptor identifier.
    fn guid(&mut self) -> Result<Guid, CodecError>;
}

impl GnutellaFields for ByteReader<'_> {
    fn ipv4(&mut self) -> Result<Ipv4Addr, CodecError> {
        self.array().map(Ipv4Addr::from)
    }

    fn guid(&mut self) -> Result<Guid, CodecError> {
        self.array().map(Guid)
    }
}
