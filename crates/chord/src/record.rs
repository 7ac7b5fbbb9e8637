//! An index entry: one file held by one peer, as the ring stores it under a key.
//!
//! The same record is stored under several keys: the file name's key (SHA-1 of the
//! normalised name) and the key of each of the name's keywords. A searcher fetches the
//! records under one keyword's key and keeps those whose name matches its whole query.
//!
//! ```text
//! Record      holder Addr, index (u32), size (u64), name (Name: u8 length + UTF-8)
//! ```

use std::net::SocketAddr;

use p2plab_peer_protocol::library::MAX_NAME_LEN;
use p2plab_peer_protocol::{ByteReader, CodecError, Hit, Holder, SharedFile};

use crate::wire::{addr_len, put_addr, ChordFields};

/// One file, where to download it, and its size.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Record {
    /// The file's name as its holder shares it.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// The holder's listen address, where it also serves HTTP downloads.
    pub holder: SocketAddr,
    /// The file's index in the holder's library.
    pub index: u32,
}

impl Record {
    /// The record for a file this node shares at `holder`.
    pub fn of(file: &SharedFile, holder: SocketAddr) -> Self {
        Record {
            name: file.name.clone(),
            size: file.size,
            holder,
            index: file.index,
        }
    }

    /// The search hit this record answers with, found after `hops` overlay hops.
    pub fn to_hit(&self, hops: u32) -> Hit {
        Hit {
            name: self.name.clone(),
            size: self.size,
            holder: Holder::Http {
                addr: self.holder,
                index: self.index,
            },
            hops: Some(hops),
            arrived: None,
        }
    }

    /// Two records describe the same shared file (whatever its size now).
    pub fn same_file(&self, other: &Record) -> bool {
        self.holder == other.holder && self.index == other.index && self.name == other.name
    }

    /// Encoded size.
    pub fn encoded_len(&self) -> usize {
        addr_len(&self.holder) + 4 + 8 + 1 + truncated(&self.name).len()
    }

    /// Appends the encoding; names longer than [`MAX_NAME_LEN`] are never built
    /// (the library refuses them), and are cut at a character boundary if they were.
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_addr(out, &self.holder);
        out.extend_from_slice(&self.index.to_be_bytes());
        out.extend_from_slice(&self.size.to_be_bytes());
        let name = truncated(&self.name);
        out.push(name.len() as u8);
        out.extend_from_slice(name.as_bytes());
    }

    /// Reads one record.
    ///
    /// # Errors
    /// Malformed on a short field, a bad address family or a name that is not UTF-8.
    pub fn decode(r: &mut ByteReader<'_>) -> Result<Self, CodecError> {
        let holder = r.addr()?;
        let index = r.u32_be()?;
        let size = r.u64_be()?;
        let len = usize::from(r.u8()?);
        let name = r.utf8(len)?;
        Ok(Record {
            name,
            size,
            holder,
            index,
        })
    }
}

/// `name` cut to at most [`MAX_NAME_LEN`] bytes, at a character boundary.
fn truncated(name: &str) -> &str {
    let mut end = name.len().min(MAX_NAME_LEN);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}
