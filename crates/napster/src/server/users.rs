//! What the server answers when a user asks about another user: browse (211), whois
//! (603), ping and pong (751, 752) and private messages (205) — as OpenNap's browse.c,
//! whois.c, ping.c and privmsg.c answer them.
//!
//! - A browse of a user online lists its files (212, at most the smaller of the asked max
//!   and [`MAX_BROWSE_RESULTS`]) and ends with 213 and its address (0 if it shares
//!   nothing, as later OpenNap sends, so that nobody learns the address of a user who
//!   offers nothing). A browse of a user not online is answered 210 and then 213, as the
//!   original Napster servers did and OpenNap copies: the client's list always ends.
//! - A whois of a user online is a 604 from what the server holds: the time since its
//!   login, the files it shares, the transfers it reported (218–221), its link type and
//!   client. Of a user who left, a 605 with when it left; of a nick never seen, a 404.
//! - A ping, a pong and a private message are relayed with the sender's nick in place of
//!   the recipient's; to a user not online the sender gets a 404 in OpenNap's words.

use std::net::Ipv4Addr;

use p2plab_peer_protocol::{ConnId, Instant, Outbox};

use super::downloads::NO_SUCH_USER;
use super::Server;
use crate::message::{Message, WhoisInfo};
use crate::{MAX_BROWSE_RESULTS, MAX_PRIVATE_MESSAGE_LEN};

/// The level every p2plab user has: the server knows no moderators.
pub const USER_LEVEL: &str = "User";

/// The status of a user online, as OpenNap gives it to users.
pub const ACTIVE: &str = "Active";

/// The channel list of a user in no channel, as OpenNap writes it (a space: the list
/// starts with one and puts one after each channel).
pub const NO_CHANNELS: &str = " ";

/// Which of the two relayed ping messages.
#[derive(Debug, Clone, Copy)]
pub(super) enum Ping {
    /// 751: is that user there?
    Ping,
    /// 752: the answer.
    Pong,
}

impl Server {
    /// The nick logged in on `conn`.
    fn nick_on(&self, conn: ConnId) -> Option<String> {
        let user = self.sessions.get(&conn)?.user.as_ref()?;
        Some(user.nick.clone())
    }

    /// 211: `nick`'s files, at most `max` (none or 0: [`MAX_BROWSE_RESULTS`]), then 213 —
    /// or 210 and 213 if `nick` is not online.
    pub(super) fn browse(&mut self, conn: ConnId, nick: &str, max: Option<u32>, out: &mut Outbox) {
        let Some((target, holder, ip)) = self
            .nicks
            .get(nick)
            .and_then(|&c| self.requester(c).map(|(u, ip)| (c, u.nick.clone(), ip)))
        else {
            let nick = nick.to_owned();
            self.send(conn, &Message::UserSignoff { nick: nick.clone() }, out);
            return self.send(conn, &Message::BrowseEnd { nick, ip: None }, out);
        };
        let limit = match max.map(usize::try_from) {
            Some(Ok(max)) if max > 0 => max.min(MAX_BROWSE_RESULTS),
            _ => MAX_BROWSE_RESULTS,
        };
        let entries: Vec<Message> = self
            .index
            .files_by(target, limit)
            .into_iter()
            .map(|file| Message::BrowseEntry {
                nick: holder.clone(),
                file: file.clone(),
            })
            .collect();
        let ip = if entries.is_empty() {
            Ipv4Addr::UNSPECIFIED
        } else {
            ip
        };
        for entry in &entries {
            self.send(conn, entry, out);
        }
        let end = Message::BrowseEnd {
            nick: holder,
            ip: Some(ip),
        };
        self.send(conn, &end, out);
    }

    /// 603: 604 for a user online, 605 for one who left and is remembered, else 404.
    pub(super) fn whois(&mut self, now: Instant, conn: ConnId, nick: &str, out: &mut Outbox) {
        let online = self.nicks.get(nick).and_then(|&c| {
            let (user, _) = self.requester(c)?;
            Some(WhoisInfo {
                nick: user.nick.clone(),
                level: USER_LEVEL.to_owned(),
                online_secs: now.saturating_since(user.since).as_secs(),
                channels: NO_CHANNELS.to_owned(),
                status: ACTIVE.to_owned(),
                shared: self.index.files_of(c) as u64,
                downloads: user.downloads,
                uploads: user.uploads,
                link_type: user.link_type,
                client_info: user.client_info.clone(),
            })
        });
        let reply = match (online, self.whowas.last_seen(nick)) {
            (Some(info), _) => Message::WhoisReply(info),
            (None, Some(left)) => Message::Whowas {
                nick: nick.to_owned(),
                level: USER_LEVEL.to_owned(),
                last_seen: self.unix_time(left),
            },
            (None, None) => Message::NoSuch(NO_SUCH_USER.into()),
        };
        self.send(conn, &reply, out);
    }

    /// `at` as seconds since 1970: the server's clock starts at
    /// [`ServerConfig::clock_origin_unix`](super::ServerConfig::clock_origin_unix).
    fn unix_time(&self, at: Instant) -> u64 {
        let since_start = at.saturating_since(Instant::ZERO).as_secs();
        self.config.clock_origin_unix.saturating_add(since_start)
    }

    /// 751 or 752 for `nick`: relayed as the same type with the sender's nick, or 404
    /// `ping failed, <nick> is not online`.
    pub(super) fn relay_ping(&mut self, conn: ConnId, nick: &str, kind: Ping, out: &mut Outbox) {
        let Some(from) = self.nick_on(conn) else {
            return;
        };
        let Some(&to) = self.nicks.get(nick) else {
            let text = format!("ping failed, {nick} is not online");
            return self.send(conn, &Message::NoSuch(text), out);
        };
        let msg = match kind {
            Ping::Ping => Message::PingUser { nick: from },
            Ping::Pong => Message::PongUser { nick: from },
        };
        self.send(to, &msg, out);
    }

    /// 205 for `nick`: relayed with the sender's nick and the text cut to
    /// [`MAX_PRIVATE_MESSAGE_LEN`], or 404 if `nick` is not online.
    pub(super) fn private_message(
        &mut self,
        conn: ConnId,
        nick: &str,
        text: &str,
        out: &mut Outbox,
    ) {
        let Some(from) = self.nick_on(conn) else {
            return;
        };
        let Some(&to) = self.nicks.get(nick) else {
            return self.send(conn, &Message::NoSuch(NO_SUCH_USER.into()), out);
        };
        let msg = Message::PrivateMessage {
            nick: from,
            text: cut(text, MAX_PRIVATE_MESSAGE_LEN).to_owned(),
        };
        self.send(to, &msg, out);
    }
}

/// `text` cut to at most `max` bytes, at a character boundary.
fn cut(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::cut;

    #[test]
    fn text_is_cut_at_a_character_boundary() {
        assert_eq!(cut("hello", 10), "hello");
        assert_eq!(cut("hello", 3), "hel");
        assert_eq!(cut("héllo", 2), "h", "é is two bytes: both go");
    }
}
