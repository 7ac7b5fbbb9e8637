//! The central index server.
//!
//! A [`Server`] accepts connections from peers. Each must log in (2 or 6) within
//! [`ServerConfig::login_timeout`]; until then anything else is refused with a type 0 error
//! and the connection is closed. At most [`MAX_PENDING_LOGINS`] connections wait to log in
//! at once, [`MAX_PENDING_LOGINS_PER_ADDRESS`] of them from one address; a newcomer past a
//! cap closes the oldest of them (`pending.rs`), so silent connections cannot take the
//! slots logged-in users need. A logged-in user is greeted as OpenNap greets it (3, the
//! motd in 621 lines, 214 stats), tells the server its files (100, 102, 110), searches
//! (200 → 201… 202), asks for a file (203, or 500 for a firewalled holder) and reports its
//! transfers (218–221). It may ask about other users — browse their files (211), whois them
//! (603), ping them (751) — and message them (205), as OpenNap answers (`users.rs`). When
//! its connection closes, all its files leave the index at once, and its nick and the time
//! are remembered for whowas (605, `whowas.rs`).
//!
//! A user may also keep a hotlist (207/208 → 301 or 302; 303), and is then told when those
//! users sign on (209) and off (210); ask who else shares a file by md5 and size, to resume
//! a download from them (215 → 216… 217); ask a user's link speed (600 → 601); and ping
//! the server (750 → 750). See `presence.rs` and `resume.rs`.
//!
//! A download is asked of the holder first, as OpenNap does (`relay.rs`): on 203 the server
//! sends the holder 607, and only the holder's 608 gets the downloader its 204 (or, for a
//! 500, the firewalled holder its 501). A holder that does not accept within
//! [`ServerConfig::upload_accept_timeout`], or leaves first, gets the downloader a 609. A
//! user or file the index does not hold is answered 206 at once; a 203 for a firewalled
//! holder gets its 204 at once too, whose port 0 tells the downloader to send 500.
//!
//! The index is bounded per user ([`MAX_FILES_PER_USER`]) and in all ([`MAX_INDEXED_FILES`],
//! [`MAX_INDEXED_BYTES`]); a share past a bound is refused with a 404 that names it.
//!
//! Peer input never stops the server: a client whose frame is oversized is dropped (and
//! counted in [`Metrics::dropped`]), and every other client goes on. A logged-in client
//! whose message does not fit its type's layout, or whose type the server does not take,
//! is answered with a 404 that says so, as OpenNap answers it, and stays (`refusals.rs`);
//! one that has not logged in gets a type 0 error and is closed.
//!
//! Method kinds, as in every p2plab core: getters take `&self`; [`Node::handle`] takes one
//! input at a time with a `now` that never goes backwards; [`Node::poll_timeout`] tells the
//! next login or relayed-request deadline.

mod downloads;
mod handlers;
mod hotlist;
mod pending;
mod presence;
mod refusals;
mod relay;
mod resume;
mod session;
mod users;
mod welcome;
mod whowas;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::time::Duration;

use p2plab_peer_protocol::settings::{check_range, SettingError, PERIODS};
use p2plab_peer_protocol::{
    CodecError, Command, ConnId, Event, Input, Instant, Metrics, Node, Outbox, SearchError,
    WireMessage,
};

use crate::index::{Index, Limits};
use crate::message::{Frame, Kind, Message};
use crate::{
    types, LOGIN_TIMEOUT, MAX_FILES_PER_USER, MAX_HOTLIST_ENTRIES, MAX_HOTLIST_PER_USER,
    MAX_INDEXED_BYTES, MAX_INDEXED_FILES, MAX_PENDING_LOGINS, MAX_PENDING_LOGINS_PER_ADDRESS,
    MAX_RELAYED_PER_USER, MAX_RELAYED_REQUESTS, MAX_RESULTS, MAX_USERS, MAX_WHOWAS,
    UPLOAD_ACCEPT_TIMEOUT,
};

pub use downloads::NO_SUCH_USER;
use hotlist::Hotlists;
use pending::PendingLogins;
use refusals::STATS_HAVE_NO_DATA;
use relay::Relays;
use session::Session;
pub use session::{valid_nick, User};
use users::Ping;
use whowas::Whowas;

/// How a server is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// The most users online at once; further logins are refused.
    pub max_users: usize,
    /// The most results one search returns (capped again at [`MAX_RESULTS`]).
    pub max_results: usize,
    /// The most files indexed per user.
    pub max_files_per_user: usize,
    /// The most files indexed in all.
    pub max_files: usize,
    /// The most bytes the indexed files may add up to.
    pub max_bytes: u64,
    /// How long a new connection may take to log in.
    pub login_timeout: Duration,
    /// The most connections waiting to log in, from all addresses.
    pub max_pending_logins: usize,
    /// The most connections waiting to log in from one address.
    pub max_pending_per_address: usize,
    /// How long a relayed upload request (607) waits for the holder's 608 before the
    /// downloader is told 609.
    pub upload_accept_timeout: Duration,
    /// The UNIX time, in seconds, at the instant the server's clock counts from
    /// ([`Instant::ZERO`]): a core reads no clock, so this is how a whowas (605) can say
    /// when, in calendar time, a user was last seen. The runtime sets it when it starts the
    /// server; 0 (the default) makes last-seen times count from the start of the run.
    pub clock_origin_unix: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_users: MAX_USERS,
            max_results: MAX_RESULTS,
            max_files_per_user: MAX_FILES_PER_USER,
            max_files: MAX_INDEXED_FILES,
            max_bytes: MAX_INDEXED_BYTES,
            login_timeout: LOGIN_TIMEOUT,
            max_pending_logins: MAX_PENDING_LOGINS,
            max_pending_per_address: MAX_PENDING_LOGINS_PER_ADDRESS,
            upload_accept_timeout: UPLOAD_ACCEPT_TIMEOUT,
            clock_origin_unix: 0,
        }
    }
}

/// Valid `max_results`: at least one, or no search finds anything; at most napster.txt's
/// [`MAX_RESULTS`].
pub const RESULTS: RangeInclusive<usize> = 1..=MAX_RESULTS;

impl ServerConfig {
    /// Checks the search bound and the two timeouts against their ranges, and that one
    /// address may not hold more waiting logins than all addresses together.
    ///
    /// # Errors
    /// [`SettingError`] naming the first field out of range and the range it must be in.
    pub fn validate(&self) -> Result<(), SettingError> {
        check_range("max_results", self.max_results, &RESULTS)?;
        check_range("login_timeout", self.login_timeout, &PERIODS)?;
        check_range(
            "upload_accept_timeout",
            self.upload_accept_timeout,
            &PERIODS,
        )?;
        if self.max_pending_per_address > self.max_pending_logins {
            return Err(SettingError::Beyond {
                field: "max_pending_per_address",
                relation: "at most",
                other: "max_pending_logins",
                bound: self.max_pending_logins.to_string(),
                got: self.max_pending_per_address.to_string(),
            });
        }
        Ok(())
    }
}

/// Which client a frame came from, and whether it had logged in when the frame was read.
#[derive(Debug, Clone, Copy)]
struct Client {
    conn: ConnId,
    logged_in: bool,
}

/// The email a login ack (3) carries for an unregistered nick.
pub const DUMMY_EMAIL: &str = "anon@p2plab";

/// The central index server: a sans-IO core.
#[derive(Debug)]
pub struct Server {
    config: ServerConfig,
    sessions: HashMap<ConnId, Session>,
    nicks: HashMap<String, ConnId>,
    index: Index<ConnId>,
    /// Connections not yet logged in, with their deadlines.
    pending: PendingLogins,
    /// Upload requests relayed to holders, waiting for their 608.
    relays: Relays,
    /// Who wants to be told when whom signs on or off.
    hotlists: Hotlists,
    /// The users who left, for whowas (605).
    whowas: Whowas,
    metrics: Metrics,
}

impl Server {
    /// A server with no users.
    pub fn new(config: ServerConfig) -> Self {
        Server {
            index: Index::new(Limits {
                files_per_user: config.max_files_per_user,
                files: config.max_files,
                bytes: config.max_bytes,
            }),
            pending: PendingLogins::new(config.max_pending_logins, config.max_pending_per_address),
            relays: Relays::new(MAX_RELAYED_REQUESTS, MAX_RELAYED_PER_USER),
            hotlists: Hotlists::new(MAX_HOTLIST_PER_USER, MAX_HOTLIST_ENTRIES),
            whowas: Whowas::new(MAX_WHOWAS),
            config,
            sessions: HashMap::new(),
            nicks: HashMap::new(),
            metrics: Metrics::default(),
        }
    }

    /// Users logged in.
    pub fn user_count(&self) -> usize {
        self.nicks.len()
    }

    /// Files indexed.
    pub fn file_count(&self) -> usize {
        self.index.len()
    }

    /// Connections open, logged in or not.
    pub fn connection_count(&self) -> usize {
        self.sessions.len()
    }

    /// The user logged in as `nick`, if any.
    pub fn user(&self, nick: &str) -> Option<&User> {
        let conn = self.nicks.get(nick)?;
        self.sessions.get(conn)?.user.as_ref()
    }

    /// The index, to inspect.
    pub fn index(&self) -> &Index<ConnId> {
        &self.index
    }

    /// Hotlist entries, for all users together.
    pub fn hotlist_entries(&self) -> usize {
        self.hotlists.len()
    }

    /// A new connection: it has `login_timeout` to log in, and may displace the oldest
    /// connection still waiting to (see [`PendingLogins`]).
    fn accept(&mut self, now: Instant, conn: ConnId, remote: SocketAddr, out: &mut Outbox) {
        let ip = match remote.ip() {
            IpAddr::V4(ip) => ip,
            IpAddr::V6(ip) => ip.to_ipv4_mapped().unwrap_or(Ipv4Addr::UNSPECIFIED),
        };
        let deadline = now + self.config.login_timeout;
        if let Some(oldest) = self.pending.add(conn, remote.ip(), deadline) {
            tracing::debug!(%oldest, %conn, "too many connections waiting to log in: closing the oldest");
            self.metrics.record_drop("login_evicted");
            self.drop_client(now, oldest, out);
        }
        self.sessions.insert(conn, Session::new(ip));
    }

    /// Reads every whole frame `conn` has sent, stopping if the connection is dropped.
    fn receive(&mut self, now: Instant, conn: ConnId, bytes: &[u8], out: &mut Outbox) {
        let mut input = bytes;
        loop {
            let Some(session) = self.sessions.get_mut(&conn) else {
                return;
            };
            let logged_in = session.user.is_some();
            match session.reader.decode_next(&mut input, Frame::decode) {
                Ok(None) => return,
                Ok(Some((frame, len))) => {
                    let from = Client { conn, logged_in };
                    self.on_frame(now, from, &frame, len, out);
                }
                Err(e) => {
                    tracing::debug!(%conn, error = %e, "dropping client: broken stream");
                    self.metrics.record_drop("malformed");
                    self.drop_client(now, conn, out);
                }
            }
        }
    }

    fn on_frame(
        &mut self,
        now: Instant,
        from: Client,
        frame: &Frame,
        len: usize,
        out: &mut Outbox,
    ) {
        let Client { conn, logged_in } = from;
        match Message::from_frame(frame) {
            Ok(msg) => {
                self.metrics.record_in(msg.kind(), len);
                if logged_in {
                    self.on_message(now, conn, msg, out);
                } else {
                    self.on_message_before_login(now, conn, msg, out);
                }
            }
            Err(CodecError::UnknownType(_)) if logged_in => {
                self.unknown_command(conn, frame.ty, out);
            }
            Err(CodecError::Malformed(why)) if logged_in => {
                if frame.ty == types::SEARCH {
                    // Still a search served: its 404 and 202 are charged to it.
                    self.metrics.record_in(Kind::Search, len);
                }
                self.unparsable(conn, frame.ty, &why, out);
            }
            Err(e) => {
                tracing::debug!(%conn, error = %e, "dropping client: bad message");
                self.metrics.record_drop("malformed");
                if !logged_in {
                    self.send(conn, &Message::Error("invalid message".into()), out);
                }
                self.drop_client(now, conn, out);
            }
        }
    }

    fn on_message(&mut self, now: Instant, conn: ConnId, msg: Message, out: &mut Outbox) {
        match msg {
            Message::AddFile(info) => self.add_file(conn, info, out),
            Message::RemoveFile { name } => self.remove_file(conn, &name),
            Message::UnshareAll => {
                self.index.remove_user(conn);
            }
            Message::Search(req) => self.search(conn, &req, out),
            Message::Download(nf) => self.download(now, conn, &nf, out),
            Message::DownloadFirewall(nf) => self.download_firewall(now, conn, &nf, out),
            Message::UploadAccept(nf) => self.upload_accept(conn, &nf, out),
            Message::StatsRequest => self.stats(conn, out),
            Message::Motd(_) => self.motd(conn, out),
            Message::Downloading
            | Message::DownloadDone
            | Message::Uploading
            | Message::UploadDone => self.transfer(conn, &msg),
            Message::NickCheck { nick } => self.nick_check(conn, &nick, out),
            Message::Browse { nick, max } => self.browse(conn, &nick, max, out),
            Message::Whois { nick } => self.whois(now, conn, &nick, out),
            Message::PingUser { nick } => self.relay_ping(conn, &nick, Ping::Ping, out),
            Message::PongUser { nick } => self.relay_ping(conn, &nick, Ping::Pong, out),
            Message::PrivateMessage { nick, text } => {
                self.private_message(conn, &nick, &text, out);
            }
            Message::Login { .. } | Message::Register { .. } => {
                self.send(conn, &Message::NoSuch("already logged in".into()), out);
            }

            Message::HotlistAdd { nick } | Message::HotlistInit { nick } => {
                self.hotlist_add(conn, nick, out);
            }
            Message::HotlistRemove { nick } => self.hotlist_remove(conn, &nick, out),
            Message::ResumeRequest(req) => self.resume(conn, &req, out),
            Message::LinkSpeedRequest { nick } => self.link_speed(conn, &nick, out),
            Message::ServerPing(_) => self.server_ping(conn, out),

            Message::Stats { .. } => {
                self.unparsable(conn, types::STATS, STATS_HAVE_NO_DATA, out);
            }
            Message::NoSuch(text) => {
                tracing::debug!(%conn, text, "a client reported an error");
                self.metrics.record_drop("client_error");
            }
            other => self.unknown_command(conn, other.type_number(), out),
        }
    }

    fn on_message_before_login(
        &mut self,
        now: Instant,
        conn: ConnId,
        msg: Message,
        out: &mut Outbox,
    ) {
        match msg {
            Message::Login { login, .. } => self.login(now, conn, &login, DUMMY_EMAIL, out),
            Message::Register { login, email } => self.login(now, conn, &login, &email, out),
            Message::NickCheck { nick } => self.nick_check(conn, &nick, out),
            _ => {
                self.metrics.record_drop("before_login");
                self.send(conn, &Message::Error("you must log in first".into()), out);
                self.drop_client(now, conn, out);
            }
        }
    }

    /// Encodes, counts and queues `msg` for `conn`.
    fn send(&mut self, conn: ConnId, msg: &Message, out: &mut Outbox) {
        out.send_message(conn, msg, &mut self.metrics);
    }

    /// Closes `conn` and forgets it: its user logs out and its files leave the index.
    fn drop_client(&mut self, now: Instant, conn: ConnId, out: &mut Outbox) {
        out.close(conn);
        self.forget(now, conn, out);
    }

    /// Forgets a connection that is gone at `now`. The uploads it was asked for fail (609
    /// to their downloaders); those it asked for are dropped; its user, if it logged in,
    /// is remembered for whowas.
    fn forget(&mut self, now: Instant, conn: ConnId, out: &mut Outbox) {
        let Some(session) = self.sessions.remove(&conn) else {
            return;
        };
        self.pending.remove(conn);
        for relay in self.relays.take_involving(conn) {
            if relay.holder == conn {
                self.accept_failed(&relay, out);
            }
        }
        if let Some(user) = session.user {
            self.nicks.remove(&user.nick);
            self.whowas.record(&user.nick, now);
            let files = self.index.remove_user(conn);
            self.hotlists.remove_user(conn);
            self.announce_signoff(&user.nick, out);
            tracing::debug!(%conn, nick = user.nick, files, "user left");
        }
    }

    /// Closes connections that did not log in in time.
    fn expire_logins(&mut self, now: Instant, out: &mut Outbox) {
        for conn in self.pending.take_due(now) {
            tracing::debug!(%conn, "closing a connection that never logged in");
            self.metrics.record_drop("login_timeout");
            self.drop_client(now, conn, out);
        }
    }

    /// Tells the downloaders of the relayed requests no holder accepted in time.
    fn expire_relays(&mut self, now: Instant, out: &mut Outbox) {
        for relay in self.relays.take_due(now) {
            tracing::debug!(
                holder = relay.holder_nick,
                name = relay.name,
                "upload not accepted in time"
            );
            self.accept_failed(&relay, out);
        }
    }

    fn command(&mut self, now: Instant, cmd: Command, out: &mut Outbox) {
        let refused = || SearchError::NotConnected("this node is the index server".into());
        match cmd {
            Command::Search { request, .. } => out.report(Event::SearchDone {
                request,
                result: Err(refused()),
            }),
            Command::Locate { request, .. } => out.report(Event::Located {
                request,
                result: Err(refused()),
            }),
            Command::Ask { request, .. } => out.report(Event::Answered {
                request,
                result: Err(refused()),
            }),
            Command::Leave { request } => {
                // In connection order, not the map's: a run must not depend on hashing.
                let mut conns: Vec<ConnId> = self.sessions.keys().copied().collect();
                conns.sort_unstable();
                for conn in conns {
                    self.drop_client(now, conn, out);
                }
                out.report(Event::Left { request });
            }
            Command::Share { .. } | Command::Transfer(_) => {
                tracing::debug!("the index server shares no files and makes no transfers");
            }
        }
    }
}

impl Node for Server {
    fn handle(&mut self, now: Instant, input: Input<'_>, out: &mut Outbox) {
        match input {
            Input::Start | Input::Connected { .. } => {}
            Input::Accepted { conn, remote } => self.accept(now, conn, remote, out),
            Input::Received { conn, bytes } => self.receive(now, conn, bytes, out),
            Input::Closed { conn, .. } => self.forget(now, conn, out),
            Input::Timeout => {
                self.expire_logins(now, out);
                self.expire_relays(now, out);
            }
            Input::Command(cmd) => self.command(now, cmd, out),
        }
    }

    /// The server has no named timers: its deadlines are each connection's time to log
    /// in, kept in order by the pending logins, and each relayed upload request's time to
    /// be accepted, kept in order by the relays.
    fn poll_timeout(&self) -> Option<Instant> {
        match (self.pending.next_deadline(), self.relays.next_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}
