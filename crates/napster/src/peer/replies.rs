//! What the peer does with each message from the server.

use std::net::SocketAddr;

use p2plab_peer_protocol::{
    Answer, CodecError, ConnId, Download, Event, Failure, Hit, Holder, Instant, Outbox,
    SearchError, UserInfo, WireMessage,
};

use super::pending::Topic;
use super::{Link, Peer};
use crate::message::{Endpoint, Frame, Message, NickFile, WhoisInfo};
use crate::FIREWALL_ERROR;

impl Peer {
    /// Reads every whole frame from the server. A broken stream closes the connection (and
    /// the peer dials again later); a type the peer does not speak is skipped.
    pub(super) fn receive(&mut self, now: Instant, conn: ConnId, bytes: &[u8], out: &mut Outbox) {
        let mut input = bytes;
        while self.server_conn() == Some(conn) {
            let frame = match self.reader.decode_next(&mut input, Frame::decode) {
                Ok(Some((frame, len))) => (frame, len),
                Ok(None) => return,
                Err(e) => return self.broken(now, conn, &e, out),
            };
            match Message::from_frame(&frame.0) {
                Ok(msg) => {
                    self.metrics.record_in(msg.kind(), frame.1);
                    self.on_message(now, conn, msg, out);
                }
                Err(CodecError::UnknownType(ty)) => {
                    tracing::debug!(ty, "skipping a server message p2plab does not speak");
                    self.metrics.record_drop("unknown_type");
                }
                Err(e) => return self.broken(now, conn, &e, out),
            }
        }
    }

    fn broken(&mut self, now: Instant, conn: ConnId, e: &CodecError, out: &mut Outbox) {
        self.metrics.record_drop("malformed");
        out.close(conn);
        let why = format!("it sent a bad message ({e})");
        self.lost(now, Failure::Incompatible(why), out);
    }

    fn on_message(&mut self, now: Instant, conn: ConnId, msg: Message, out: &mut Outbox) {
        match msg {
            Message::LoginAck { .. } if self.link == Link::LoggingIn(conn) => {
                self.link = Link::Online(conn);
                self.share_all(conn, out);
            }
            Message::Error(text) => {
                tracing::info!(
                    nick = self.config.nick,
                    text,
                    "the server refused the login"
                );
            }
            Message::SearchResult(r) => {
                let hit = Hit {
                    name: r.file.name,
                    size: r.file.size,
                    holder: Holder::Napster {
                        nick: r.nick,
                        ip: r.ip,
                    },
                    hops: Some(1),
                    arrived: None,
                };
                if !self.pending.on_result(hit) {
                    self.metrics.record_drop("unsolicited_result");
                }
            }
            Message::SearchEnd => self.search_end(now, out),
            Message::DownloadAck(ep) => self.download_ack(conn, ep, out),
            Message::GetError(nf) => {
                let why = format!("{} does not share {:?}", nf.nick, nf.name);
                self.locate_reply(&nf, Err(SearchError::Refused(why)), out);
            }
            Message::AcceptFailed(nf) => {
                let why = format!("{} did not accept the upload of {:?}", nf.nick, nf.name);
                self.locate_reply(&nf, Err(SearchError::Refused(why)), out);
            }
            Message::UploadRequest(request) => self.upload_request(conn, request.asker, out),
            Message::NoSuch(text) => {
                if let Some(event) = self.pending.on_error(text) {
                    out.report(event);
                }
            }
            Message::UploadFirewall(ep) => self.push_upload(ep, out),
            Message::Stats { .. } | Message::Motd(_) => {}
            Message::PingUser { nick } => self.send(conn, &Message::PongUser { nick }, out),
            Message::PrivateMessage { nick, text } => {
                tracing::info!(me = self.config.nick, from = nick, text, "private message");
            }
            Message::BrowseEntry { nick, file } => {
                if !self.pending.on_browse_entry(&nick, file) {
                    self.metrics.record_drop("unasked_browse_entry");
                }
            }
            Message::UserSignoff { nick } => {
                if !self.pending.on_signoff(&nick) {
                    tracing::debug!(nick, "a signoff no browse waits for");
                }
            }
            Message::BrowseEnd { nick, ip } => {
                let answered = self.pending.on_browse_end(&nick, ip);
                self.answered(answered, &nick, out);
            }
            Message::WhoisReply(info) => {
                let nick = info.nick.clone();
                let answered = self
                    .pending
                    .on_answer(Topic::Whois, &nick, |_| Answer::Online(user_info(info)));
                self.answered(answered, &nick, out);
            }
            Message::Whowas {
                nick,
                level,
                last_seen,
            } => {
                let answered = self
                    .pending
                    .on_answer(Topic::Whois, &nick, |_| Answer::Offline {
                        nick: nick.clone(),
                        level,
                        last_seen_unix: last_seen,
                    });
                self.answered(answered, &nick, out);
            }
            Message::PongUser { nick } => {
                let answered = self
                    .pending
                    .on_answer(Topic::Ping, &nick, |asked| Answer::Pong {
                        nick: nick.clone(),
                        round_trip: now.saturating_since(asked),
                    });
                self.answered(answered, &nick, out);
            }
            other => {
                tracing::debug!(?other, "unexpected message from the server");
                self.metrics.record_drop("unexpected");
            }
        }
    }

    /// Reports the answer to a question, or counts a reply no question waits for.
    fn answered(&mut self, event: Option<Event>, nick: &str, out: &mut Outbox) {
        match event {
            Some(event) => out.report(event),
            None => {
                tracing::debug!(
                    nick,
                    "ignoring an answer no question waits for (late, or never asked)"
                );
                self.metrics.record_drop("late_answer");
            }
        }
    }

    fn search_end(&mut self, now: Instant, out: &mut Outbox) {
        let Some(done) = self.pending.on_search_end() else {
            return;
        };
        if done.result.is_ok() {
            self.metrics
                .record_lookup(1, now.saturating_since(done.started));
        }
        out.report(Event::SearchDone {
            request: done.id,
            result: done.result,
        });
    }

    /// Answers the locate waiting for `about`; false if none waits (the reply is dropped).
    fn locate_reply(
        &mut self,
        about: &NickFile,
        result: Result<Download, SearchError>,
        out: &mut Outbox,
    ) -> bool {
        match self.pending.on_locate_reply(about, result) {
            Some(event) => {
                out.report(event);
                true
            }
            None => {
                tracing::debug!(
                    nick = about.nick,
                    name = about.name,
                    "ignoring a download reply no request waits for (late, or never asked)"
                );
                self.metrics.record_drop("late_download_reply");
                false
            }
        }
    }

    /// A 204: where to download from. A holder with data port 0 is firewalled: the locate
    /// is answered with a push download, and only then is the holder asked, through the
    /// server, to connect here (500). In that order, so that a driver learns to expect the
    /// holder's connection before the request for it leaves.
    fn download_ack(&mut self, conn: ConnId, ep: Endpoint, out: &mut Outbox) {
        let about = NickFile {
            nick: ep.nick.clone(),
            name: ep.name.clone(),
        };
        let push = ep.port == 0 && ep.md5 != FIREWALL_ERROR;
        let result = self.download_from(ep);
        if self.locate_reply(&about, result, out) && push {
            self.send(conn, &Message::DownloadFirewall(about), out);
        }
    }

    /// A 607: `asker` wants one of this peer's files. Accept (608) if the library holds it
    /// (what the data port serves); otherwise say nothing, which is how a Napster client
    /// declines.
    fn upload_request(&mut self, conn: ConnId, asker: NickFile, out: &mut Outbox) {
        if self.config.library.by_name(&asker.name).is_some() {
            self.send(conn, &Message::UploadAccept(asker), out);
        } else {
            tracing::debug!(
                asker = asker.nick,
                name = asker.name,
                "not accepting an upload of a file this peer does not share"
            );
            self.metrics.record_drop("upload_request_unshared");
        }
    }

    /// A 501: the server asks this (firewalled) peer to connect out to a downloader and
    /// push it a file. The driver does it ([`Event::PushUpload`]) for a file the library
    /// shares and a downloader with a data port; any other 501 is dropped and counted.
    fn push_upload(&mut self, ep: Endpoint, out: &mut Outbox) {
        if self.config.library.by_name(&ep.name).is_none() {
            tracing::debug!(to = ep.nick, name = ep.name, "no push of an unshared file");
            return self.metrics.record_drop("push_unshared");
        }
        if ep.port == 0 {
            tracing::debug!(to = ep.nick, "no push to a downloader without a data port");
            return self.metrics.record_drop("push_no_port");
        }
        out.report(Event::PushUpload {
            to: SocketAddr::new(ep.ip.into(), ep.port),
            my_nick: self.config.nick.clone(),
            name: ep.name,
        });
    }

    /// A 204 becomes a download address, or a push from a firewalled holder; nothing, if
    /// this peer is firewalled too (the server says so with `firewallerror`), as neither
    /// end can then reach the other.
    fn download_from(&self, ep: Endpoint) -> Result<Download, SearchError> {
        if ep.md5 == FIREWALL_ERROR {
            return Err(SearchError::Refused(format!(
                "{} and this peer are both firewalled: neither can connect to the other",
                ep.nick
            )));
        }
        if ep.port == 0 {
            return Ok(Download::NapsterPush {
                holder: ep.nick,
                name: ep.name,
            });
        }
        Ok(Download::Napster {
            addr: SocketAddr::new(ep.ip.into(), ep.port),
            my_nick: self.config.nick.clone(),
            name: ep.name,
        })
    }
}

/// A 604 as the shared answer says it: the channels split into names.
fn user_info(info: WhoisInfo) -> UserInfo {
    UserInfo {
        channels: info
            .channels
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        nick: info.nick,
        level: info.level,
        online_secs: info.online_secs,
        status: info.status,
        shared: info.shared,
        downloads: info.downloads,
        uploads: info.uploads,
        link_type: info.link_type,
        client: info.client_info,
    }
}
