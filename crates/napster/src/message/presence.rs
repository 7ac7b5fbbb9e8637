//! Who is online, and how: the hotlist (the users a client wants to be told about when
//! they sign on or off), a user's link speed, and a ping of the server itself.
//!
//! ```text
//! type 207, C   <nick>               add this user to my hotlist
//! type 208, C   <nick>               one entry of the hotlist, sent after login (one each)
//! type 301, S   <nick>               ack: the user is on your hotlist now
//! type 302, S   <nick>               the user could not be added (bad nick, list full)
//! type 303, C   <nick>               take this user off my hotlist (no reply)
//! type 209, S   <nick> <link-type>   a user on your hotlist signed on
//!               lefty 4
//! type 210, S   <nick>               a user on your hotlist signed off
//!
//! type 600, C   <nick>               what link does this user have?
//! type 601, S   <nick> <link-type>   this one                  lefty 4
//!
//! type 750, C   (any data)           server ping
//! type 750, S   (no data)            the server's answer
//! ```
//!
//! A 207 or 208 for a user already online is acked (301) and then answered at once with
//! that user's 209, as OpenNap does; afterwards the server sends 209 when the user logs
//! in and 210 when it leaves, until the client sends 303 or leaves itself.
//!
//! A 600 about a user who is not online is answered with a 404, `User is not currently
//! online.`, OpenNap's text. napster.txt notes that Napster 2.0b5a puts its nick in the
//! 750 it sends; the server reads nothing from the data and answers with an empty 750,
//! as napster.txt says (OpenNap's `ping_server` sends the client's data back instead).

use std::fmt::Write as _;

use p2plab_peer_protocol::CodecError;

use crate::fields::Fields;

/// A nick and its link-type code: the data of 209 (signed on) and 601 (link speed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NickLink {
    /// The user.
    pub nick: String,
    /// Its link type, 0..=10, as it logged in with.
    pub link_type: u8,
}

impl NickLink {
    /// Reads `<nick> <link-type>`.
    ///
    /// # Errors
    /// [`CodecError::Malformed`] for a missing or bad field, or trailing fields.
    pub fn parse(data: &str) -> Result<Self, CodecError> {
        let mut f = Fields::new(data);
        let nl = NickLink {
            nick: f.word("nick")?.to_owned(),
            link_type: f.number("link type")?,
        };
        f.finish()?;
        Ok(nl)
    }

    /// Writes `<nick> <link-type>`.
    pub fn write(&self, out: &mut String) {
        let _ = write!(out, "{} {}", self.nick, self.link_type);
    }
}
