//! Logging in: 2 login, 6 register-and-login, 3 ack, 0 error; 7 nick check and its replies.
//!
//! ```text
//! type 2, C   <nick> <password> <port> "<client-info>" <link-type> [<build>]
//!             foo badpass 6699 "nap v0.8" 3
//! type 6, C   <nick> <password> <port> "<client-info>" <link-type> <email>
//! type 3, S   <email>            (a dummy value for an unregistered nick)
//! type 0, S   <message>          (login refused, e.g. "foo is already active")
//! type 7, C   <nick>             → 8 free / 9 taken / 10 invalid, each with no data
//! ```
//!
//! `<port>` is the user's data port; 0 means firewalled (it can only push). `<link-type>` is
//! 0..=10 (0 unknown … 10 T3). Range checks on the values are the server's business; the
//! codec only checks that numbers are numbers.

use std::fmt::Write as _;

use p2plab_peer_protocol::CodecError;

use crate::fields::Fields;

/// What a login (2) and a register-and-login (6) have in common.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// The nick to log in as.
    pub nick: String,
    /// The password; p2plab servers accept any.
    pub password: String,
    /// The data port peers download from; 0 means firewalled.
    pub port: u16,
    /// The client's name and version, such as `nap v0.8`.
    pub client_info: String,
    /// The link-type code, 0..=10.
    pub link_type: u8,
}

impl Login {
    /// Reads the five shared fields from the front of `f`.
    ///
    /// # Errors
    /// [`CodecError::Malformed`] for a missing or unparsable field.
    pub fn parse(f: &mut Fields<'_>) -> Result<Self, CodecError> {
        Ok(Login {
            nick: f.word("nick")?.to_owned(),
            password: f.word("password")?.to_owned(),
            port: f.number("port")?,
            client_info: f.quoted("client info")?.to_owned(),
            link_type: f.number("link type")?,
        })
    }

    /// Writes the five shared fields.
    pub fn write(&self, out: &mut String) {
        let _ = write!(
            out,
            "{} {} {} \"{}\" {}",
            self.nick, self.password, self.port, self.client_info, self.link_type
        );
    }
}

/// Reads a type 2 login: the five fields, then an optional build.
///
/// # Errors
/// [`CodecError::Malformed`] for a bad field or anything after the build.
pub fn parse_login(data: &str) -> Result<(Login, Option<String>), CodecError> {
    let mut f = Fields::new(data);
    let login = Login::parse(&mut f)?;
    let build = if f.is_empty() {
        None
    } else {
        Some(f.word("build")?.to_owned())
    };
    f.finish()?;
    Ok((login, build))
}

/// Reads a type 6 register-and-login: the five fields, then the email.
///
/// # Errors
/// [`CodecError::Malformed`] for a bad or missing field, or trailing fields.
pub fn parse_register(data: &str) -> Result<(Login, String), CodecError> {
    let mut f = Fields::new(data);
    let login = Login::parse(&mut f)?;
    let email = f.word("email")?.to_owned();
    f.finish()?;
    Ok((login, email))
}

/// Reads a message whose data is exactly one word (3 email, 7 nick).
///
/// # Errors
/// [`CodecError::Malformed`] unless the data is one non-empty word.
pub fn parse_word(data: &str, what: &str) -> Result<String, CodecError> {
    let mut f = Fields::new(data);
    let word = f.word(what)?.to_owned();
    f.finish()?;
    Ok(word)
}
