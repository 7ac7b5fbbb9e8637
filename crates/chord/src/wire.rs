//! The primitive fields every Chord message is made of: identifiers, addresses, node
//! references, counted lists and short strings, all big-endian.
//!
//! ```text
//! Id          20 bytes, big-endian; below 2^m, so high bytes are zero on small rings
//! Addr        family (1 byte: 4 or 6), IPv4 (4 bytes) or IPv6 (16 bytes), port (u16)
//! NodeRef     Id, Addr                                    (27 bytes for IPv4)
//! Option<T>   0x00, or 0x01 followed by T
//! List<T>     count (u8), then count × T
//! Name        length (u8), then that many bytes of UTF-8
//! Text        length (u16), then that many bytes of UTF-8
//! ```
//!
//! A frame's body is read with the shared [`ByteReader`] (in network order) and the
//! [`ChordFields`] it gains here; it answers [`CodecError::Malformed`] when a field runs past
//! the end: the frame's length was already checked, so a short field is a lie, not a wait.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use p2plab_peer_protocol::{ByteReader, CodecError};

use crate::id::{Id, ID_BYTES};
use crate::node_ref::NodeRef;

/// Encoded size of an address.
pub fn addr_len(addr: &SocketAddr) -> usize {
    match addr {
        SocketAddr::V4(_) => 1 + 4 + 2,
        SocketAddr::V6(_) => 1 + 16 + 2,
    }
}

/// Encoded size of a node reference.
pub fn node_len(node: &NodeRef) -> usize {
    ID_BYTES + addr_len(&node.addr)
}

/// Appends an identifier.
pub fn put_id(out: &mut Vec<u8>, id: &Id) {
    out.extend_from_slice(id.as_bytes());
}

/// Appends an address.
pub fn put_addr(out: &mut Vec<u8>, addr: &SocketAddr) {
    match addr.ip() {
        IpAddr::V4(ip) => {
            out.push(4);
            out.extend_from_slice(&ip.octets());
        }
        IpAddr::V6(ip) => {
            out.push(6);
            out.extend_from_slice(&ip.octets());
        }
    }
    out.extend_from_slice(&addr.port().to_be_bytes());
}

/// Appends a node reference.
pub fn put_node(out: &mut Vec<u8>, node: &NodeRef) {
    put_id(out, &node.id);
    put_addr(out, &node.addr);
}

/// Appends a list of node references (the caller keeps it under 256 entries).
pub fn put_nodes(out: &mut Vec<u8>, nodes: &[NodeRef]) {
    out.push(nodes.len() as u8);
    for n in nodes {
        put_node(out, n);
    }
}

/// The Chord fields on top of the shared [`ByteReader`], which reads the big-endian
/// integers itself.
pub trait ChordFields {
    /// An identifier.
    ///
    /// # Errors
    /// Malformed on a short field.
    fn id(&mut self) -> Result<Id, CodecError>;

    /// An address.
    ///
    /// # Errors
    /// Malformed on a family other than 4 or 6, or a short field.
    fn addr(&mut self) -> Result<SocketAddr, CodecError>;

    /// A node reference.
    ///
    /// # Errors
    /// As [`ChordFields::id`] and [`ChordFields::addr`].
    fn node(&mut self) -> Result<NodeRef, CodecError>;

    /// An optional node reference.
    ///
    /// # Errors
    /// Malformed on a flag other than 0 or 1.
    fn opt_node(&mut self) -> Result<Option<NodeRef>, CodecError>;

    /// A list of at most `max` node references.
    ///
    /// # Errors
    /// Malformed if the count exceeds `max`.
    fn nodes(&mut self, max: usize) -> Result<Vec<NodeRef>, CodecError>;

    /// UTF-8 text of `len` bytes.
    ///
    /// # Errors
    /// Malformed if it is not UTF-8.
    fn utf8(&mut self, len: usize) -> Result<String, CodecError>;
}

impl ChordFields for ByteReader<'_> {
    fn id(&mut self) -> Result<Id, CodecError> {
        self.array().map(Id::from_bytes)
    }

    fn addr(&mut self) -> Result<SocketAddr, CodecError> {
        let ip = match self.u8()? {
            4 => IpAddr::V4(Ipv4Addr::from(self.array::<4>()?)),
            6 => IpAddr::V6(Ipv6Addr::from(self.array::<16>()?)),
            f => return Err(CodecError::malformed(format!("address family {f}"))),
        };
        Ok(SocketAddr::new(ip, self.u16_be()?))
    }

    fn node(&mut self) -> Result<NodeRef, CodecError> {
        let id = self.id()?;
        let addr = self.addr()?;
        Ok(NodeRef { id, addr })
    }

    fn opt_node(&mut self) -> Result<Option<NodeRef>, CodecError> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(self.node()?)),
            f => Err(CodecError::malformed(format!("option flag {f}"))),
        }
    }

    fn nodes(&mut self, max: usize) -> Result<Vec<NodeRef>, CodecError> {
        let n = usize::from(self.u8()?);
        if n > max {
            return Err(CodecError::malformed(format!("{n} nodes, at most {max}")));
        }
        (0..n).map(|_| self.node()).collect()
    }

    fn utf8(&mut self, len: usize) -> Result<String, CodecError> {
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| CodecError::malformed("text is not UTF-8"))
    }
}
