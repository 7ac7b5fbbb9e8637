//! Asking about another user: 211/212/213 browse (and 210 for one not online), 603 whois
//! with its 604 and 605 answers, 751/752 ping and pong, and 205 private messages.
//!
//! ```text
//! type 205, C   <nick> <text>          to the server: for <nick>
//!          S   <nick> <text>          from the server: <nick> sent you this
//!               lefty hello there
//! type 210, S   <nick>                 that user signed off, or (after a 211) is not online
//! type 211, C   <nick> [<max>]         list <nick>'s files, at most <max> of them
//! type 212, S   <nick> "<filename>" <md5> <size> <bitrate> <frequency> <time>
//!               foouser "generic band - generic song.mp3" b92870e0d41bc8e698cf2f0a1ddfeac7 443332 128 44100 60
//! type 213, S   <nick> [<ip>]          no more entries for <nick>; its address (0 if it shares nothing)
//! type 603, C   <nick>                 who is <nick>?
//! type 604, S   <nick> "<level>" <seconds> "<channels>" "<status>" <shared> <downloads> <uploads> <link-type> "<client-info>"
//!               lefty "User" 1203 " " "Active" 3 0 1 10 "p2plab 0.1"
//! type 605, S   <nick> "<level>" <last-seen>    <nick> is offline; last seen at this UNIX time
//! type 751, C   <nick>                 ping <nick>
//!          S   <nick>                 <nick> pings you: answer with 752
//! type 752, C   <nick>                 pong: the answer to <nick>'s ping
//!          S   <nick>                 <nick> answered your ping
//! ```
//!
//! The server rewrites the nick of the relayed types (205, 751, 752): the sender names the
//! recipient, the recipient sees the sender. `<ip>` in 213 is the decimal encoding of
//! [`crate::ip`]; OpenNap 0.36 sends none, later versions send it, and 0 for a user who
//! shares nothing. OpenNap writes the channel list of 604 as `" "` followed by each
//! channel and a space, so a user in no channel has `" "`, and the level of 605 in quotes
//! where napster.txt shows it bare: p2plab writes what OpenNap writes and reads either.
//! The optional fields napster.txt lists after the client info of 604 (totals, ip, ports,
//! email) go to moderators only, and p2plab's users are all users: they are not read.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use p2plab_peer_protocol::CodecError;

use super::share::FileInfo;
use crate::fields::Fields;
use crate::ip;

/// The data of a 604: everything the server knows of a user online.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhoisInfo {
    /// The user.
    pub nick: String,
    /// `User`, `Moderator`, `Admin` or `Elite`.
    pub level: String,
    /// Seconds since the user logged in.
    pub online_secs: u64,
    /// The channels it is in, each followed by a space, after a leading space.
    pub channels: String,
    /// `Active`, `Inactive` or `Remote` (OpenNap adds `Muzzled` and `Cloaked`).
    pub status: String,
    /// Files it shares.
    pub shared: u64,
    /// Downloads in progress (its 218s less its 219s).
    pub downloads: u32,
    /// Uploads in progress (its 220s less its 221s).
    pub uploads: u32,
    /// Its link-type code.
    pub link_type: u8,
    /// Its client-info string, as it logged in with it.
    pub client_info: String,
}

impl WhoisInfo {
    /// Reads a 604.
    ///
    /// # Errors
    /// [`CodecError::Malformed`] for a bad or missing field, or trailing fields.
    pub fn parse(data: &str) -> Result<Self, CodecError> {
        let mut f = Fields::new(data);
        let info = WhoisInfo {
            nick: f.word("nick")?.to_owned(),
            level: f.quoted("level")?.to_owned(),
            online_secs: f.number("online time")?,
            channels: f.quoted("channels")?.to_owned(),
            status: f.quoted("status")?.to_owned(),
            shared: f.number("shared")?,
            downloads: f.number("downloads")?,
            uploads: f.number("uploads")?,
            link_type: f.number("link type")?,
            client_info: f.quoted("client info")?.to_owned(),
        };
        f.finish()?;
        Ok(info)
    }

    /// Writes a 604, in OpenNap's `%s "%s" %d "%s" "%s" %d %d %d %d "%s"`.
    pub fn write(&self, out: &mut String) {
        let _ = write!(
            out,
            "{} \"{}\" {} \"{}\" \"{}\" {} {} {} {} \"{}\"",
            self.nick,
            self.level,
            self.online_secs,
            self.channels,
            self.status,
            self.shared,
            self.downloads,
            self.uploads,
            self.link_type,
            self.client_info
        );
    }
}

/// Reads a 205, `<nick> <text>`: the text is the rest of the data, and may not be empty.
///
/// # Errors
/// [`CodecError::Malformed`] for a missing nick or text.
pub fn parse_private(data: &str) -> Result<(String, String), CodecError> {
    let mut f = Fields::new(data);
    let nick = f.word("nick")?.to_owned();
    let text = f.rest();
    if text.is_empty() {
        return Err(CodecError::malformed("205 carries no text"));
    }
    Ok((nick, text.to_owned()))
}

/// Reads a 211, `<nick> [<max>]`.
///
/// # Errors
/// [`CodecError::Malformed`] for a missing nick, a bad max, or trailing fields.
pub fn parse_browse(data: &str) -> Result<(String, Option<u32>), CodecError> {
    let mut f = Fields::new(data);
    let nick = f.word("nick")?.to_owned();
    let max = if f.is_empty() {
        None
    } else {
        Some(f.number("max")?)
    };
    f.finish()?;
    Ok((nick, max))
}

/// Reads a 212, `<nick>` and then a file as a share (100) gives it.
///
/// # Errors
/// [`CodecError::Malformed`] for a bad or missing field, or trailing fields.
pub fn parse_browse_entry(data: &str) -> Result<(String, FileInfo), CodecError> {
    let mut f = Fields::new(data);
    let nick = f.word("nick")?.to_owned();
    let file = FileInfo::parse(&mut f)?;
    f.finish()?;
    Ok((nick, file))
}

/// Reads a 213, `<nick> [<ip>]`.
///
/// # Errors
/// [`CodecError::Malformed`] for a missing nick, a bad ip, or trailing fields.
pub fn parse_browse_end(data: &str) -> Result<(String, Option<Ipv4Addr>), CodecError> {
    let mut f = Fields::new(data);
    let nick = f.word("nick")?.to_owned();
    let ip = if f.is_empty() {
        None
    } else {
        Some(ip::from_wire(f.number("ip")?))
    };
    f.finish()?;
    Ok((nick, ip))
}

/// Reads a 605, `<nick> "<level>" <last-seen>`, or with the level bare as napster.txt
/// shows it.
///
/// # Errors
/// [`CodecError::Malformed`] for a bad or missing field, or trailing fields.
pub fn parse_whowas(data: &str) -> Result<(String, String, u64), CodecError> {
    let mut f = Fields::new(data);
    let nick = f.word("nick")?.to_owned();
    let quoted = f.clone().quoted("level");
    let level = match quoted {
        Ok(_) => f.quoted("level")?,
        Err(_) => f.word("level")?,
    };
    let last_seen = f.number("last seen")?;
    f.finish()?;
    Ok((nick, level.to_owned(), last_seen))
}
