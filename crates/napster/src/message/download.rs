//! Asking where to download: 203 request, 204 ack, 206 error; and the firewalled path,
//! 500 request and 501 ack.
//!
//! ```text
//! type 203, C   <nick> "<filename>"                      the holder and the file
//! type 204, S   <nick> <ip> <port> "<filename>" <md5> <link-type>
//!               lefty 3437166285 6699 "generic band - generic song.mp3" 10fe9e623b1962da85eea61df7ac1f69 3
//! type 206, S   <nick> "<filename>"                      that user or file is unavailable
//! type 500, C   <nick> "<filename>"                      the holder's port is 0: ask it to push
//! type 501, S   <nick> <ip> <port> "<filename>" <md5> <speed>   to the holder: the downloader
//! ```
//!
//! A 204 with port 0 tells the downloader the holder is firewalled (send 500); a 204 whose
//! md5 is `firewallerror` says both ends are firewalled and no transfer is possible.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use p2plab_peer_protocol::CodecError;

use crate::fields::Fields;
use crate::ip;

/// A nick and a file name: the data of 203, 206 and 500.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NickFile {
    /// The user.
    pub nick: String,
    /// The file, as that user shares it.
    pub name: String,
}

impl NickFile {
    /// Reads `<nick> "<filename>"`.
    ///
    /// # Errors
    /// [`CodecError::Malformed`] for a bad or missing field, or trailing fields.
    pub fn parse(data: &str) -> Result<Self, CodecError> {
        let mut f = Fields::new(data);
        let nick = f.word("nick")?.to_owned();
        let name = f.quoted("file name")?.to_owned();
        f.finish()?;
        Ok(NickFile { nick, name })
    }

    /// Writes `<nick> "<filename>"`.
    pub fn write(&self, out: &mut String) {
        let _ = write!(out, "{} \"{}\"", self.nick, self.name);
    }
}

/// Where a file can be fetched: the data of 204 (about the holder, to the downloader) and
/// of 501 (about the downloader, to a firewalled holder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The other party's nick.
    pub nick: String,
    /// Its address, as the server saw it connect.
    pub ip: Ipv4Addr,
    /// Its data port; 0 if firewalled.
    pub port: u16,
    /// The file.
    pub name: String,
    /// The file's md5 field, or [`FIREWALL_ERROR`](crate::FIREWALL_ERROR).
    pub md5: String,
    /// The other party's link type.
    pub link_type: u8,
}

impl Endpoint {
    /// Reads `<nick> <ip> <port> "<filename>" <md5> <link-type>`.
    ///
    /// # Errors
    /// [`CodecError::Malformed`] for a bad or missing field, or trailing fields.
    pub fn parse(data: &str) -> Result<Self, CodecError> {
        let mut f = Fields::new(data);
        let endpoint = Endpoint {
            nick: f.word("nick")?.to_owned(),
            ip: ip::from_wire(f.number("ip")?),
            port: f.number("port")?,
            name: f.quoted("file name")?.to_owned(),
            md5: f.word("md5")?.to_owned(),
            link_type: f.number("link type")?,
        };
        f.finish()?;
        Ok(endpoint)
    }

    /// Writes `<nick> <ip> <port> "<filename>" <md5> <link-type>`.
    pub fn write(&self, out: &mut String) {
        let _ = write!(
            out,
            "{} {} {} \"{}\" {} {}",
            self.nick,
            ip::to_wire(self.ip),
            self.port,
            self.name,
            self.md5,
            self.link_type
        );
    }
}
