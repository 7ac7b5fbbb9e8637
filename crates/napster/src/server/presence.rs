//! Who is online, as the server tells it: hotlist entries (207, 208, 303) and the notices
//! they earn (301 or 302, then 209 and 210), link speeds (600 → 601) and the server ping
//! (750). The table of entries is [`Hotlists`](super::hotlist::Hotlists).
//!
//! ```text
//! mred → 207 lefty          → 301 lefty, and 209 lefty 4 at once if lefty is online
//! lefty logs in             → 209 lefty 4 to everyone with lefty on their hotlist
//! lefty leaves              → 210 lefty to the same
//! mred → 303 lefty          → nothing; no more notices about lefty
//! mred → 207 bad"nick       → 302 bad"nick, 404 invalid nickname
//! ```
//!
//! OpenNap refuses an entry with a 404 alone; p2plab sends napster.txt's 302 first, so a
//! client knows which entry failed, and then the 404 with OpenNap's text, so it knows why.
//! A second 207 for a nick listed already is ignored, as OpenNap ignores it.

use p2plab_peer_protocol::{ConnId, Outbox};

use super::downloads::NO_SUCH_USER;
use super::{valid_nick, Server};
use crate::message::{Message, NickLink};

/// What OpenNap says of a nick it will not put on a hotlist.
pub const INVALID_NICK: &str = "invalid nickname";

/// What OpenNap says to a 303 for a nick that is not on the client's hotlist.
pub const NOT_IN_HOTLIST: &str = "user is not in your hotlist";

impl Server {
    /// 207 / 208: puts `nick` on `conn`'s hotlist; acks with 301 and, if that user is
    /// online, tells its link at once (209). A bad nick or a full list gets 302 and a 404.
    pub(super) fn hotlist_add(&mut self, conn: ConnId, nick: String, out: &mut Outbox) {
        let refusal = if valid_nick(&nick) {
            match self.hotlists.add(conn, &nick) {
                Ok(true) => None,
                Ok(false) => return,
                Err(full) => Some(full.to_string()),
            }
        } else {
            Some(INVALID_NICK.to_owned())
        };
        if let Some(why) = refusal {
            self.metrics.record_drop("hotlist_refused");
            self.send(conn, &Message::HotlistError { nick }, out);
            self.send(conn, &Message::NoSuch(why), out);
            return;
        }
        let online = self.online(&nick);
        self.send(conn, &Message::HotlistAck { nick }, out);
        if let Some(signon) = online {
            self.send(conn, &Message::UserSignon(signon), out);
        }
    }

    /// 303: takes `nick` off `conn`'s hotlist; no reply, unless it was not there.
    pub(super) fn hotlist_remove(&mut self, conn: ConnId, nick: &str, out: &mut Outbox) {
        if !self.hotlists.remove(conn, nick) {
            self.send(conn, &Message::NoSuch(NOT_IN_HOTLIST.into()), out);
        }
    }

    /// 209 to everyone with the user who just logged in on `conn` on their hotlist.
    pub(super) fn announce_signon(&mut self, conn: ConnId, out: &mut Outbox) {
        let Some(signon) = self
            .sessions
            .get(&conn)
            .and_then(|s| s.user.as_ref())
            .and_then(|user| self.online(&user.nick))
        else {
            return;
        };
        for watcher in self.hotlists.watchers(&signon.nick) {
            self.send(watcher, &Message::UserSignon(signon.clone()), out);
        }
    }

    /// 210 to everyone with `nick`, who just left, on their hotlist.
    pub(super) fn announce_signoff(&mut self, nick: &str, out: &mut Outbox) {
        for watcher in self.hotlists.watchers(nick) {
            let signoff = Message::UserSignoff {
                nick: nick.to_owned(),
            };
            self.send(watcher, &signoff, out);
        }
    }

    /// 600: the user's link type in a 601, or a 404 if no one is online under `nick`.
    pub(super) fn link_speed(&mut self, conn: ConnId, nick: &str, out: &mut Outbox) {
        let reply = match self.online(nick) {
            Some(speed) => Message::LinkSpeed(speed),
            None => Message::NoSuch(NO_SUCH_USER.into()),
        };
        self.send(conn, &reply, out);
    }

    /// 750: an empty 750, whatever the ping carried.
    pub(super) fn server_ping(&mut self, conn: ConnId, out: &mut Outbox) {
        self.send(conn, &Message::ServerPing(String::new()), out);
    }

    /// The user logged in as `nick` and its link type, if any.
    fn online(&self, nick: &str) -> Option<NickLink> {
        let user = self.user(nick)?;
        Some(NickLink {
            nick: user.nick.clone(),
            link_type: user.link_type,
        })
    }
}
