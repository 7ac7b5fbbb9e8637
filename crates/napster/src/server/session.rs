//! One client connection of the server, before and after login.

use std::net::Ipv4Addr;

use p2plab_peer_protocol::{FrameReader, Instant};

use crate::message::{Login, HEADER_LEN};
use crate::{MAX_DATA_LEN, MAX_LINK_TYPE, MAX_NICK_LEN};

/// A client connection.
#[derive(Debug)]
pub(super) struct Session {
    /// Reassembles the client's byte stream into frames.
    pub reader: FrameReader,
    /// The address the client connected from: what 201/204 tell others.
    pub ip: Ipv4Addr,
    /// Who logged in on it; `None` until a valid 2 or 6.
    pub user: Option<User>,
}

impl Session {
    pub fn new(ip: Ipv4Addr) -> Self {
        Session {
            reader: FrameReader::new(HEADER_LEN + MAX_DATA_LEN),
            ip,
            user: None,
        }
    }
}

/// A logged-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The nick, unique on the server.
    pub nick: String,
    /// The data port peers download from; 0 when firewalled.
    pub data_port: u16,
    /// The link-type code, 0..=10.
    pub link_type: u8,
    /// Downloads in progress, from 218/219.
    pub downloads: u32,
    /// Uploads in progress, from 220/221.
    pub uploads: u32,
    /// The client-info string it logged in with, for whois (604).
    pub client_info: String,
    /// When it logged in: whois tells how long it has been online.
    pub since: Instant,
}

impl User {
    /// Checks a login's fields; the error is the text of the type 0 refusal, worded as
    /// OpenNap's login.c words it. `now` is when it logs in.
    pub fn from_login(login: &Login, now: Instant) -> Result<Self, String> {
        if !valid_nick(&login.nick) {
            return Err(format!("invalid nick {:?}", login.nick));
        }
        if login.link_type > MAX_LINK_TYPE {
            return Err("invalid speed".to_owned());
        }
        Ok(User {
            nick: login.nick.clone(),
            data_port: login.port,
            link_type: login.link_type,
            downloads: 0,
            uploads: 0,
            client_info: login.client_info.clone(),
            since: now,
        })
    }
}

/// A nick is 1 to [`MAX_NICK_LEN`] printable ASCII characters other than `"`.
pub fn valid_nick(nick: &str) -> bool {
    !nick.is_empty()
        && nick.len() <= MAX_NICK_LEN
        && nick.bytes().all(|b| b.is_ascii_graphic() && b != b'"')
}
