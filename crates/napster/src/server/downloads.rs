//! Download requests, asked of the holder first as OpenNap asks: the downloader's 203 (or
//! 500), the 607 the server relays to the holder, the holder's 608, and what comes of it —
//! 204 to the downloader, 501 to a firewalled holder, or 609 to the downloader when the
//! holder does not accept (or is gone). A user or file the index does not hold is 206 at
//! once. The requests waiting on a 608 live in [`Relays`](super::relay::Relays).

use std::net::Ipv4Addr;

use p2plab_peer_protocol::{ConnId, Instant, Outbox};

use super::relay::{Relay, UserFull};
use super::{Server, User};
use crate::message::{Endpoint, FileInfo, Message, NickFile, UploadRequest};
use crate::FIREWALL_ERROR;

/// How the downloader means to fetch: by connecting to the holder (203), or by having a
/// firewalled holder connect to it (500).
#[derive(Debug, Clone, Copy)]
enum Route {
    Direct,
    Push,
}

/// What OpenNap's `nosuchuser` says when a message names a user who is not logged in.
pub const NO_SUCH_USER: &str = "User is not currently online.";

/// What OpenNap says to a holder that accepts (608) an upload of a file it does not share.
pub const NOT_SHARING: &str = "Not sharing that file";

/// `holder`'s address and data port, with the file as named and its md5 field: the data of
/// a 204 about the holder (or of a 501 about the downloader).
pub(super) fn endpoint(user: &User, ip: Ipv4Addr, name: &str, md5: &str) -> Endpoint {
    Endpoint {
        nick: user.nick.clone(),
        ip,
        port: user.data_port,
        name: name.to_owned(),
        md5: md5.to_owned(),
        link_type: user.link_type,
    }
}

impl Server {
    /// The logged-in user on `conn` and the address it connected from.
    pub(super) fn requester(&self, conn: ConnId) -> Option<(&User, Ipv4Addr)> {
        let session = self.sessions.get(&conn)?;
        Some((session.user.as_ref()?, session.ip))
    }

    /// Who `nf` names, if that user shares the file: (its connection, the user, its
    /// address, the file).
    fn locate(&self, nf: &NickFile) -> Option<(ConnId, &User, Ipv4Addr, &FileInfo)> {
        let holder = *self.nicks.get(&nf.nick)?;
        let (user, ip) = self.requester(holder)?;
        Some((holder, user, ip, self.index.lookup(holder, &nf.name)?))
    }

    /// 203: 206 if the index does not hold the file; a 204 at once if the holder is
    /// firewalled (its port 0 tells the downloader to send 500; `firewallerror` if the
    /// downloader is firewalled too); else 607 to the holder, and the 204 waits for its 608.
    pub(super) fn download(&mut self, now: Instant, conn: ConnId, nf: &NickFile, out: &mut Outbox) {
        self.ask_for(now, conn, nf, Route::Direct, out);
    }

    /// 500: the holder is firewalled and must connect out. 206 if the index does not hold
    /// the file, a 204 with `firewallerror` if the downloader is firewalled too; else 607 to
    /// the holder, whose 608 gets it the 501.
    pub(super) fn download_firewall(
        &mut self,
        now: Instant,
        conn: ConnId,
        nf: &NickFile,
        out: &mut Outbox,
    ) {
        self.ask_for(now, conn, nf, Route::Push, out);
    }

    /// What 203 and 500 share: answer at once when no transfer can follow, else ask the
    /// holder.
    fn ask_for(
        &mut self,
        now: Instant,
        conn: ConnId,
        nf: &NickFile,
        route: Route,
        out: &mut Outbox,
    ) {
        let Some((me, _)) = self.requester(conn) else {
            return;
        };
        let i_am_walled = me.data_port == 0;
        let reply = match (self.locate(nf), route) {
            (None, _) => Message::GetError(nf.clone()),
            (Some((_, holder, ip, file)), Route::Direct) if holder.data_port == 0 => {
                let md5 = if i_am_walled {
                    FIREWALL_ERROR
                } else {
                    &file.md5
                };
                Message::DownloadAck(endpoint(holder, ip, &nf.name, md5))
            }
            (Some((_, holder, ip, _)), Route::Push) if i_am_walled => {
                Message::DownloadAck(endpoint(holder, ip, &nf.name, FIREWALL_ERROR))
            }
            (Some((holder_conn, holder, ..)), _) => {
                let holder_nick = holder.nick.clone();
                return self.ask_holder(now, conn, (holder_conn, holder_nick), &nf.name, out);
            }
        };
        self.send(conn, &reply, out);
    }

    /// Relays the request to the holder (607) and waits for its 608 — unless the
    /// downloader has too many requests waiting, when it is told 609 at once.
    fn ask_holder(
        &mut self,
        now: Instant,
        downloader: ConnId,
        (holder, holder_nick): (ConnId, String),
        name: &str,
        out: &mut Outbox,
    ) {
        let Some((me, _)) = self.requester(downloader) else {
            return;
        };
        let request = UploadRequest {
            asker: NickFile {
                nick: me.nick.clone(),
                name: name.to_owned(),
            },
            speed: Some(me.link_type),
        };
        let relay = Relay {
            downloader,
            holder,
            holder_nick,
            name: name.to_owned(),
            deadline: now + self.config.upload_accept_timeout,
        };
        match self.relays.add(relay.clone()) {
            Err(UserFull) => {
                self.metrics.record_drop("relay_user_full");
                self.accept_failed(&relay, out);
            }
            Ok(displaced) => {
                if let Some(old) = displaced {
                    self.metrics.record_drop("relay_displaced");
                    self.accept_failed(&old, out);
                }
                self.send(holder, &Message::UploadRequest(request), out);
            }
        }
    }

    /// 608 from `conn`: it accepts the upload of `nf.name` to `nf.nick`. The downloader
    /// gets the 204 — or, if the holder is firewalled, the holder gets the downloader's
    /// address in a 501. A 608 that no relayed request waits for is ignored.
    pub(super) fn upload_accept(&mut self, conn: ConnId, nf: &NickFile, out: &mut Outbox) {
        let Some(&downloader) = self.nicks.get(&nf.nick) else {
            self.send(conn, &Message::NoSuch(NO_SUCH_USER.into()), out);
            return;
        };
        let Some(relay) = self.relays.take_accepted(conn, downloader, &nf.name) else {
            tracing::debug!(%conn, asker = nf.nick, name = nf.name, "a 608 nobody waits for");
            self.metrics.record_drop("unasked_upload_accept");
            return;
        };
        let holder_nick = NickFile {
            nick: relay.holder_nick.clone(),
            name: relay.name.clone(),
        };
        let (Some((_, holder, ip, file)), Some((me, my_ip))) =
            (self.locate(&holder_nick), self.requester(downloader))
        else {
            self.send(conn, &Message::NoSuch(NOT_SHARING.into()), out);
            return self.accept_failed(&relay, out);
        };
        let (to, msg) = if holder.data_port == 0 {
            let ep = endpoint(me, my_ip, &relay.name, &file.md5);
            (conn, Message::UploadFirewall(ep))
        } else {
            let ep = endpoint(holder, ip, &relay.name, &file.md5);
            (downloader, Message::DownloadAck(ep))
        };
        self.send(to, &msg, out);
    }

    /// 609 to the downloader, if it is still here: the holder did not accept.
    pub(super) fn accept_failed(&mut self, relay: &Relay, out: &mut Outbox) {
        if !self.sessions.contains_key(&relay.downloader) {
            return;
        }
        let nf = NickFile {
            nick: relay.holder_nick.clone(),
            name: relay.name.clone(),
        };
        self.send(relay.downloader, &Message::AcceptFailed(nf), out);
    }
}
