//! What the server does with each message of a client: login, sharing, search, download
//! requests, transfer counts and statistics.

use p2plab_peer_protocol::library::MAX_NAME_LEN;
use p2plab_peer_protocol::{ConnId, Outbox};

use super::{Server, User};
use crate::index::IndexError;
use crate::message::{Endpoint, FileInfo, Login, Message, NickFile, SearchResult};
use crate::search::SearchRequest;
use crate::FIREWALL_ERROR;

impl Server {
    /// 2 / 6: checks the fields and the nick, then acks with 3 — or refuses with 0 and
    /// closes.
    pub(super) fn login(&mut self, conn: ConnId, login: &Login, email: &str, out: &mut Outbox) {
        let refusal = match User::from_login(login) {
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
            }
            Some(why) => {
                self.metrics.record_drop("login_refused");
                self.send(conn, &Message::Error(why), out);
                self.drop_client(conn, out);
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

    /// Who `nf` names and the file, if that user shares it: (holder, its ip, the file).
    fn locate(&self, nf: &NickFile) -> Option<(&User, std::net::Ipv4Addr, &FileInfo)> {
        let holder_conn = *self.nicks.get(&nf.nick)?;
        let session = self.sessions.get(&holder_conn)?;
        let file = self.index.lookup(holder_conn, &nf.name)?;
        Some((session.user.as_ref()?, session.ip, file))
    }

    fn requester(&self, conn: ConnId) -> Option<(&User, std::net::Ipv4Addr)> {
        let session = self.sessions.get(&conn)?;
        Some((session.user.as_ref()?, session.ip))
    }

    /// 203: 204 with the holder's address and data port (port 0: firewalled, the client
    /// then sends 500), 204 with `firewallerror` if both ends are firewalled, or 206.
    pub(super) fn download(&mut self, conn: ConnId, nf: &NickFile, out: &mut Outbox) {
        let my_port = self.requester(conn).map_or(0, |(u, _)| u.data_port);
        let reply = match self.locate(nf) {
            None => Message::GetError(nf.clone()),
            Some((holder, ip, file)) => Message::DownloadAck(Endpoint {
                nick: holder.nick.clone(),
                ip,
                port: holder.data_port,
                name: file.name.clone(),
                md5: if holder.data_port == 0 && my_port == 0 {
                    FIREWALL_ERROR.to_owned()
                } else {
                    file.md5.clone()
                },
                link_type: holder.link_type,
            }),
        };
        self.send(conn, &reply, out);
    }

    /// 500: the holder is firewalled, so it must connect out: 501 to the holder with the
    /// requester's address. 206 to the requester if the user or file is unknown, and 204
    /// with `firewallerror` if the requester is firewalled too.
    pub(super) fn download_firewall(&mut self, conn: ConnId, nf: &NickFile, out: &mut Outbox) {
        let Some((me, my_ip)) = self.requester(conn) else {
            return;
        };
        let me = me.clone();
        let outcome = match self.locate(nf) {
            None => Err(Message::GetError(nf.clone())),
            Some((holder, ip, file)) if me.data_port == 0 => Err(Message::DownloadAck(Endpoint {
                nick: holder.nick.clone(),
                ip,
                port: holder.data_port,
                name: file.name.clone(),
                md5: FIREWALL_ERROR.to_owned(),
                link_type: holder.link_type,
            })),
            Some((holder, _, file)) => Ok((
                holder.nick.clone(),
                Message::UploadFirewall(Endpoint {
                    nick: me.nick.clone(),
                    ip: my_ip,
                    port: me.data_port,
                    name: file.name.clone(),
                    md5: file.md5.clone(),
                    link_type: me.link_type,
                }),
            )),
        };
        match outcome {
            Ok((holder, push)) => {
                if let Some(&holder_conn) = self.nicks.get(&holder) {
                    self.send(holder_conn, &push, out);
                }
            }
            Err(reply) => self.send(conn, &reply, out),
        }
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

    /// 214: users, files and gigabytes shared.
    pub(super) fn stats(&mut self, conn: ConnId, out: &mut Outbox) {
        let stats = Message::Stats {
            users: self.nicks.len() as u64,
            files: self.index.len() as u64,
            gigabytes: self.index.total_bytes() >> 30,
        };
        self.send(conn, &stats, out);
    }
}
