//! What the server does with each message of a client: login, sharing, search, transfer
//! counts and statistics. Download requests are in `downloads.rs`, questions about
//! other users in `users.rs`.

use p2plab_peer_protocol::library::MAX_NAME_LEN;
use p2plab_peer_protocol::{ConnId, Instant, Outbox};

use super::{Server, User};
use crate::index::IndexError;
use crate::message::{FileInfo, Login, Message, SearchResult};
use crate::search::SearchRequest;

impl Server {
    /// 2 / 6: checks the fields and the nick, then acks with 3, greets, and tells everyone
    /// with the nick on their hotlist (209) — or refuses with 0 and closes.
    pub(super) fn login(
        &mut self,
        now: Instant,
        conn: ConnId,
        login: &Login,
        email: &str,
        out: &mut Outbox,
    ) {
        let refusal = match User::from_login(login, now) {
            Err(why) => Some(why),
            Ok(_) if self.nicks.contains_key(&login.nick) => {
                Some(format!("{} is already active", login.nick))
            }
            Ok(_) if self.nicks.len() >= self.config.max_users => Some("server is full".to_owned()),
            Ok(user) => {
                let Some(session) = self.sessions.get_mut(&conn) else {
                    return;
                };
                session.user = Some(user);
                self.pending.remove(conn);
                self.nicks.insert(login.nick.clone(), conn);
                None
            }
        };
        match refusal {
            None => {
                let ack = Message::LoginAck {
                    email: email.to_owned(),
                };
                self.send(conn, &ack, out);
                self.motd(conn, out);
                self.stats(conn, out);
                self.announce_signon(conn, out);
            }
            Some(why) => {
                self.metrics.record_drop("login_refused");
                self.send(conn, &Message::Error(why), out);
                self.drop_client(now, conn, out);
            }
        }
    }

    /// 7: 8 if the nick is free, 9 if someone uses it, 10 if it is not a valid nick.
    pub(super) fn nick_check(&mut self, conn: ConnId, nick: &str, out: &mut Outbox) {
        let reply = if !super::valid_nick(nick) {
            Message::NickInvalid
        } else if self.nicks.contains_key(nick) {
            Message::NickTaken
        } else {
            Message::NickFree
        };
        self.send(conn, &reply, out);
    }

    /// 100: indexes the file. A share past a limit (the user's files, the index's files or
    /// bytes) is refused with a 404 saying which, as OpenNap refuses one past its per-user
    /// limit: the user learns that the file cannot be found. A duplicate or a name that is
    /// empty or too long is only counted and logged: the name is findable already, or could
    /// never be, and no reply would help.
    pub(super) fn add_file(&mut self, conn: ConnId, info: FileInfo, out: &mut Outbox) {
        if info.name.is_empty() || info.name.len() > MAX_NAME_LEN {
            self.metrics.record_drop("share_refused");
            return;
        }
        match self.index.add(conn, info) {
            Ok(_) => {}
            Err(e @ IndexError::Duplicate(_)) => {
                tracing::debug!(%conn, error = %e, "share refused");
                self.metrics.record_drop("share_refused");
            }
            Err(e) => {
                tracing::debug!(%conn, error = %e, "share refused: a limit");
                self.metrics.record_drop("share_refused");
                self.send(conn, &Message::NoSuch(e.to_string()), out);
            }
        }
    }

    /// 102: forgets one file.
    pub(super) fn remove_file(&mut self, conn: ConnId, name: &str) {
        if !self.index.remove(conn, name) {
            self.metrics.record_drop("unshare_unknown");
        }
    }

    /// 200: one 201 per hit, at most the smaller of the request's and the server's cap,
    /// then 202.
    pub(super) fn search(&mut self, conn: ConnId, req: &SearchRequest, out: &mut Outbox) {
        let asked = req
            .max_results
            .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
        let limit = asked.min(self.config.max_results).min(crate::MAX_RESULTS);
        let sessions = &self.sessions;
        let link_of = |user: ConnId| {
            sessions
                .get(&user)
                .and_then(|s| s.user.as_ref())
                .map(|u| u.link_type)
        };
        let results: Vec<Message> = self
            .index
            .search(&req.query(), limit, |user, info| {
                link_of(user).is_some_and(|link| req.admits(info, link))
            })
            .into_iter()
            .filter_map(|(user, info)| {
                let session = sessions.get(&user)?;
                let holder = session.user.as_ref()?;
                Some(Message::SearchResult(SearchResult {
                    file: info.clone(),
                    nick: holder.nick.clone(),
                    ip: session.ip,
                    link_type: holder.link_type,
                }))
            })
            .collect();
        for msg in &results {
            self.send(conn, msg, out);
        }
        self.send(conn, &Message::SearchEnd, out);
    }

    /// 218–221: counts the user's transfers in progress.
    pub(super) fn transfer(&mut self, conn: ConnId, msg: &Message) {
        let Some(user) = self.sessions.get_mut(&conn).and_then(|s| s.user.as_mut()) else {
            return;
        };
        match msg {
            Message::Downloading => user.downloads += 1,
            Message::DownloadDone => user.downloads = user.downloads.saturating_sub(1),
            Message::Uploading => user.uploads += 1,
            Message::UploadDone => user.uploads = user.uploads.saturating_sub(1),
            _ => {}
        }
    }
}
