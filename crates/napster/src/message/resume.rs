//! Resuming a download: who else shares exactly this file? 215 request, one 216 per
//! match, then 217.
//!
//! ```text
//! type 215, C   <md5> <size>
//!               b92870e0d41bc8e698cf2f0a1ddfeac7 443332
//! type 216, S   <nick> <ip> <port> "<filename>" <md5> <size> <link-type>
//!               lefty 3437166285 6699 "generic band - generic song.mp3" b92870e0d41bc8e698cf2f0a1ddfeac7 443332 4
//! type 217, S   (no data)
//! ```
//!
//! A file is the same file when its md5 and its size agree, whatever its name: the md5 is
//! the client's hash of the file's first 299,008 bytes, so the size tells apart files that
//! begin alike. napster.txt writes the 216 file name bare; OpenNap quotes it, as every
//! other message does, and so does p2plab. `<ip>` is the decimal encoding of
//! [`crate::ip`].

use std::fmt::Write as _;

use p2plab_peer_protocol::CodecError;

use super::download::Endpoint;
use crate::fields::Fields;
use crate::ip;

/// The data of a 215: the file a client wants more sources of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeRequest {
    /// The md5 field, as the holders shared it (32 hex digits).
    pub md5: String,
    /// The size in bytes.
    pub size: u64,
}

impl ResumeRequest {
    /// Reads `<md5> <size>`.
    ///
    /// # Errors
    /// [`CodecError::Malformed`] for a missing or bad field, or trailing fields.
    pub fn parse(data: &str) -> Result<Self, CodecError> {
        let mut f = Fields::new(data);
        let request = ResumeRequest {
            md5: f.word("md5")?.to_owned(),
            size: f.number("size")?,
        };
        f.finish()?;
        Ok(request)
    }

    /// Writes `<md5> <size>`.
    pub fn write(&self, out: &mut String) {
        let _ = write!(out, "{} {}", self.md5, self.size);
    }
}

/// The data of a 216: one holder of the file, where to fetch it, and the file as that
/// holder shares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeMatch {
    /// The holder's nick, address, data port and link type, with the file's name and md5
    /// — the fields of a 204.
    pub holder: Endpoint,
    /// The file's size in bytes.
    pub size: u64,
}

impl ResumeMatch {
    /// Reads `<nick> <ip> <port> "<filename>" <md5> <size> <link-type>`.
    ///
    /// # Errors
    /// [`CodecError::Malformed`] for a missing or bad field, or trailing fields.
    pub fn parse(data: &str) -> Result<Self, CodecError> {
        let mut f = Fields::new(data);
        let nick = f.word("nick")?.to_owned();
        let ip = ip::from_wire(f.number("ip")?);
        let port = f.number("port")?;
        let name = f.quoted("file name")?.to_owned();
        let md5 = f.word("md5")?.to_owned();
        let size = f.number("size")?;
        let link_type = f.number("link type")?;
        f.finish()?;
        Ok(ResumeMatch {
            holder: Endpoint {
                nick,
                ip,
                port,
                name,
                md5,
                link_type,
            },
            size,
        })
    }

    /// Writes `<nick> <ip> <port> "<filename>" <md5> <size> <link-type>`.
    pub fn write(&self, out: &mut String) {
        let h = &self.holder;
        let _ = write!(
            out,
            "{} {} {} \"{}\" {} {} {}",
            h.nick,
            ip::to_wire(h.ip),
            h.port,
            h.name,
            h.md5,
            self.size,
            h.link_type
        );
    }
}
