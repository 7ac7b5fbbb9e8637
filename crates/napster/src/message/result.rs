//! Search results: 201 for each hit, then 202.
//!
//! ```text
//! type 201, S   "<filename>" <md5> <size> <bitrate> <freq> <length> <nick> <ip> <link-type> [<weight>]
//!               "random band - random song.mp3" 7d733c1e7419674744768db71bff8bcd 2558199 128 44100 159 lefty 3437166285 4
//! type 202, S   (no data)
//! ```
//!
//! `<ip>` is the decimal encoding of [`crate::ip`]. A trailing weight, which some servers
//! add, is read and ignored.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use p2plab_peer_protocol::CodecError;

use super::share::FileInfo;
use crate::fields::Fields;
use crate::ip;

/// One search hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchResult {
    /// The file.
    pub file: FileInfo,
    /// Who shares it.
    pub nick: String,
    /// The sharer's address, as the server saw it connect.
    pub ip: Ipv4Addr,
    /// The sharer's link type.
    pub link_type: u8,
}

impl SearchResult {
    /// Reads a type 201 result.
    ///
    /// # Errors
    /// [`CodecError::Malformed`] for a bad field or more than one trailing field.
    pub fn parse(data: &str) -> Result<Self, CodecError> {
        let mut f = Fields::new(data);
        let result = SearchResult {
            file: FileInfo::parse(&mut f)?,
            nick: f.word("nick")?.to_owned(),
            ip: ip::from_wire(f.number("ip")?),
            link_type: f.number("link type")?,
        };
        if !f.is_empty() {
            f.number::<u64>("weight")?;
        }
        f.finish()?;
        Ok(result)
    }

    /// Writes the data of a 201.
    pub fn write(&self, out: &mut String) {
        self.file.write(out);
        let _ = write!(
            out,
            " {} {} {}",
            self.nick,
            ip::to_wire(self.ip),
            self.link_type
        );
    }
}
