//! A Napster peer: a user that shares a library and searches through the index server.
//!
//! On [`Input::Start`] the peer dials the server and logs in (2). When the ack (3) comes,
//! it shares every file of its library (one 100 each). Then:
//!
//! - [`Command::Search`] sends `FILENAME CONTAINS "<words>" MAX_RESULTS 100` (200), collects
//!   the 201s until the 202 and reports the hits — one hop each, the server being the whole
//!   overlay;
//! - [`Command::Locate`] asks where a hit's holder listens (203) and reports the 204 as a
//!   [`Download::Napster`](p2plab_peer_protocol::Download::Napster), or the 206/609/404 as
//!   a refusal (the replies are matched by nick and file, see `pending.rs`);
//! - a 607 (another user asks, through the server, for one of this peer's files) is
//!   accepted with 608 when the file is shared, and left unanswered when it is not, as
//!   OpenNap expects: a client has no message that refuses, and the server tells the
//!   downloader (609) when no 608 comes;
//! - [`Command::Share`] sends the difference with what was shared: 102s, then 100s;
//! - [`Command::Transfer`] tells the server 218/219/220/221;
//! - [`Command::Ask`] browses a user (211 → 212… 213, or 210 for one not online), asks who
//!   it is (603 → 604, 605 or 404) or pings it (751 → 752 or 404), and reports the answer
//!   as an [`Event::Answered`], matched by the nick the replies name;
//! - a 751 (another user pings this one) is answered with 752 at once, as a Napster client
//!   does, and a 205 (a private message) is logged;
//! - [`Command::Leave`] closes the connection; from then on a search or locate fails at
//!   once with [`SearchError::Left`] (the rule all three networks follow).
//!
//! When the server connection is lost, every request in flight fails with
//! [`SearchError::NotConnected`], new ones fail at once, and the peer dials again every
//! [`PeerConfig::reconnect_every`] — or after a random delay around it if the server
//! closed the connection before acking the login, so that peers it turned away together
//! come back spread out. Until it is logged in again the peer reports why it cannot reach
//! the server — refused, timed out, closed — as its [`Node::problem`].
//!
//! A peer whose data port is 0 is firewalled (napster.txt §4.2): nobody can connect to it,
//! so its files travel by push. A downloader whose 204 names such a holder answers its
//! locate with a [`Download::NapsterPush`](p2plab_peer_protocol::Download::NapsterPush) and
//! sends 500; the server asks the holder (607/608) and sends it 501, the downloader's
//! address; the holder's core checks that it shares the file and reports
//! [`Event::PushUpload`], and its driver connects out and serves the file. The transfer
//! bytes themselves, both ways, are the driver's (`p2plab_peer_protocol::transfer`).

mod pending;
mod replies;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::Duration;

use p2plab_peer_protocol::settings::{check_range, SettingError, PERIODS};
use p2plab_peer_protocol::time::random_phase;
use p2plab_peer_protocol::Failure;
use p2plab_peer_protocol::{
    Command, ConnId, Event, FrameReader, Hit, Holder, Input, Instant, Library, Metrics, Node,
    Outbox, Problem, Query, Question, Reach, RequestId, SearchError, TimerKind, TimerTable,
    TransferNotice,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::message::{FileInfo, Login, Message, NickFile, HEADER_LEN};
use crate::search::SearchRequest;
use crate::server::valid_nick;
use crate::{MAX_DATA_LEN, MAX_LINK_TYPE};
use pending::Pending;

/// How a peer is set up.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// The index server's address.
    pub server: SocketAddr,
    /// The nick to log in as.
    pub nick: String,
    /// The password (p2plab servers accept any).
    pub password: String,
    /// The port this peer serves files on (the [`crate::transfer`] protocol); 0 if
    /// firewalled.
    pub data_port: u16,
    /// The files shared at start.
    pub library: Arc<Library>,
    /// The link-type code announced, 0..=10.
    pub link_type: u8,
    /// How long a search or locate may wait for the server.
    pub search_timeout: Duration,
    /// How long to wait before dialling the server again after losing it.
    ///
    /// A server that accepted the connection and closed it before acking the login is up
    /// but turning peers away: too many connections waiting to log in
    /// ([`MAX_PENDING_LOGINS`](crate::MAX_PENDING_LOGINS)), or a refused login. The peers
    /// it turned away together would all come back together, so each waits a random time
    /// between half and one and a half of this instead, and they return spread out.
    pub reconnect_every: Duration,
    /// Seeds that random time: same seed, same run.
    pub seed: u64,
}

/// The link type a peer announces: T3 ([`MAX_LINK_TYPE`], the fastest code), since every
/// p2plab peer talks over loopback.
pub const DEFAULT_LINK_TYPE: u8 = MAX_LINK_TYPE;

/// Valid link types: napster.txt's codes, from 0 (unknown) to 10 (T3 or faster).
pub const LINK_TYPES: RangeInclusive<u8> = 0..=MAX_LINK_TYPE;

/// How long a search or locate waits for the server, by default: a server that has not
/// answered in ten seconds is not answering.
pub const DEFAULT_SEARCH_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a peer waits before dialling a lost server again, by default: soon enough that
/// a restarted server fills its index within seconds, slow enough not to hammer a dead one.
pub const DEFAULT_RECONNECT_EVERY: Duration = Duration::from_secs(2);

impl PeerConfig {
    /// A peer with the usual settings: any password (p2plab servers accept any),
    /// [`DEFAULT_LINK_TYPE`], searches that give up after [`DEFAULT_SEARCH_TIMEOUT`], a new
    /// dial to a lost server every [`DEFAULT_RECONNECT_EVERY`], and a seed made from the nick.
    pub fn new(server: SocketAddr, nick: &str, data_port: u16, library: Arc<Library>) -> Self {
        PeerConfig {
            server,
            nick: nick.to_owned(),
            password: "p2plab".to_owned(),
            data_port,
            library,
            link_type: DEFAULT_LINK_TYPE,
            search_timeout: DEFAULT_SEARCH_TIMEOUT,
            reconnect_every: DEFAULT_RECONNECT_EVERY,
            seed: seed_from(nick),
        }
    }

    /// Checks the link type and the periods against their ranges.
    ///
    /// # Errors
    /// [`SettingError`] naming the first field out of range and the range it must be in.
    pub fn validate(&self) -> Result<(), SettingError> {
        check_range("link_type", self.link_type, &LINK_TYPES)?;
        check_range("search_timeout", self.search_timeout, &PERIODS)?;
        check_range("reconnect_every", self.reconnect_every, &PERIODS)
    }
}

/// A seed that differs between nicks: the nick's 64-bit FNV-1a hash (offset basis and prime
/// as the FNV specification gives them).
fn seed_from(nick: &str) -> u64 {
    nick.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The client-info string sent at login.
pub const CLIENT_INFO: &str = "p2plab 0.1";

/// Where the peer stands with the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// No connection; dial again when [`Timer::Redial`] fires.
    Down,
    /// Dialling.
    Dialing(ConnId),
    /// Connected, login sent, no ack yet.
    LoggingIn(ConnId),
    /// Logged in.
    Online(ConnId),
    /// Left on command; never dials again.
    Left,
}

/// The peer's one named timer, the slot of its [`TimerTable`].
#[derive(Clone, Copy, Debug)]
enum Timer {
    /// Dialling the server again, armed while the link is [`Link::Down`].
    Redial,
}

impl TimerKind for Timer {
    const COUNT: usize = 1;

    fn index(self) -> usize {
        self as usize
    }
}

/// A Napster peer: a sans-IO core.
#[derive(Debug)]
pub struct Peer {
    config: PeerConfig,
    link: Link,
    reader: FrameReader,
    pending: Pending,
    timers: TimerTable<Timer, { Timer::COUNT }>,
    /// The names announced to the server on this connection.
    shared: BTreeSet<String>,
    /// Draws the delay before dialling a server that turned the peer away.
    rng: ChaCha8Rng,
    /// Why the server cannot be reached, while it cannot.
    reach: Reach,
    metrics: Metrics,
}

impl Peer {
    /// A peer that has not dialled yet.
    pub fn new(config: PeerConfig) -> Self {
        let rng = ChaCha8Rng::seed_from_u64(config.seed);
        Peer {
            config,
            link: Link::Down,
            reader: FrameReader::new(HEADER_LEN + MAX_DATA_LEN),
            pending: Pending::default(),
            timers: TimerTable::new(),
            shared: BTreeSet::new(),
            rng,
            reach: Reach::default(),
            metrics: Metrics::default(),
        }
    }

    /// True when logged in to the server.
    pub fn is_online(&self) -> bool {
        matches!(self.link, Link::Online(_))
    }

    /// The nick.
    pub fn nick(&self) -> &str {
        &self.config.nick
    }

    /// The library shared now.
    pub fn library(&self) -> &Arc<Library> {
        &self.config.library
    }

    /// The names the server was told about on the current connection.
    pub fn shared_names(&self) -> impl Iterator<Item = &str> {
        self.shared.iter().map(String::as_str)
    }

    fn server_conn(&self) -> Option<ConnId> {
        match self.link {
            Link::Dialing(c) | Link::LoggingIn(c) | Link::Online(c) => Some(c),
            Link::Down | Link::Left => None,
        }
    }

    fn online_conn(&self) -> Result<ConnId, SearchError> {
        match self.link {
            Link::Online(c) => Ok(c),
            Link::Left => Err(SearchError::Left),
            _ => Err(SearchError::NotConnected(
                "not logged in to the index server".into(),
            )),
        }
    }

    fn send(&mut self, conn: ConnId, msg: &Message, out: &mut Outbox) {
        out.send_message(conn, msg, &mut self.metrics);
    }

    fn dial(&mut self, out: &mut Outbox) {
        self.reader = FrameReader::new(HEADER_LEN + MAX_DATA_LEN);
        self.shared.clear();
        self.timers.stop(Timer::Redial);
        self.link = Link::Dialing(out.connect(self.config.server));
    }

    fn on_connected(&mut self, conn: ConnId, out: &mut Outbox) {
        if self.link != Link::Dialing(conn) {
            return;
        }
        let login = Message::Login {
            login: Login {
                nick: self.config.nick.clone(),
                password: self.config.password.clone(),
                port: self.config.data_port,
                client_info: CLIENT_INFO.to_owned(),
                link_type: self.config.link_type,
            },
            build: None,
        };
        self.send(conn, &login, out);
        self.link = Link::LoggingIn(conn);
    }

    /// The server connection is gone, for `why`: fail what waits, say why the server
    /// cannot be reached, and dial again later.
    fn lost(&mut self, now: Instant, why: Failure, out: &mut Outbox) {
        tracing::debug!(nick = self.config.nick, %why, "lost the index server");
        let err = SearchError::NotConnected(format!("lost the index server: {why}"));
        for event in self.pending.fail_all(&err) {
            out.report(event);
        }
        self.shared.clear();
        let delay = self.redial_delay();
        let server = self.config.server;
        let problem = Problem::one("index server", server, why, now);
        self.reach.fail(problem.retrying_in(Some(delay)));
        self.timers.set(Timer::Redial, now + delay);
        self.link = Link::Down;
    }

    /// How long to wait before dialling again, now that the server connection is gone:
    /// [`PeerConfig::reconnect_every`], or a random time around it if the server closed
    /// the connection before acking the login.
    fn redial_delay(&mut self) -> Duration {
        let every = self.config.reconnect_every;
        match self.link {
            Link::LoggingIn(_) => every / 2 + random_phase(&mut self.rng, every),
            _ => every,
        }
    }

    /// Announces every shareable file of the library (after login).
    fn share_all(&mut self, conn: ConnId, out: &mut Outbox) {
        let library = Arc::clone(&self.config.library);
        for file in library.files() {
            self.share_one(conn, &FileInfo::from_shared(file), out);
        }
    }

    /// Sends a 100, unless the name cannot travel in one: a `"` would end the quoted name
    /// early (quotes are never escaped), and a duplicate name means nothing new.
    fn share_one(&mut self, conn: ConnId, info: &FileInfo, out: &mut Outbox) {
        if info.name.is_empty() || info.name.contains('"') || self.shared.contains(&info.name) {
            tracing::debug!(name = info.name, "not sharing a name Napster cannot carry");
            return;
        }
        self.shared.insert(info.name.clone());
        self.send(conn, &Message::AddFile(info.clone()), out);
    }

    fn share(&mut self, library: Arc<Library>, out: &mut Outbox) {
        self.config.library = library;
        let Link::Online(conn) = self.link else {
            return;
        };
        let wanted: BTreeSet<String> = self
            .config
            .library
            .files()
            .iter()
            .map(|f| f.name.clone())
            .collect();
        let gone: Vec<String> = self.shared.difference(&wanted).cloned().collect();
        for name in gone {
            self.shared.remove(&name);
            self.send(conn, &Message::RemoveFile { name }, out);
        }
        let library = Arc::clone(&self.config.library);
        for file in library.files() {
            if !self.shared.contains(&file.name) {
                self.share_one(conn, &FileInfo::from_shared(file), out);
            }
        }
    }

    fn search(&mut self, now: Instant, request: RequestId, text: &str, out: &mut Outbox) {
        let result = self.online_conn().and_then(|conn| {
            let msg = Message::Search(SearchRequest::keywords(text));
            if msg.data().len() > MAX_DATA_LEN {
                return Err(SearchError::Refused("query too long".into()));
            }
            Ok((conn, msg))
        });
        match result {
            Err(e) => out.report(Event::SearchDone {
                request,
                result: Err(e),
            }),
            Ok(_) if Query::parse(text).is_empty() => out.report(Event::SearchDone {
                request,
                result: Ok(Vec::new()),
            }),
            Ok((conn, msg)) => {
                let deadline = now + self.config.search_timeout;
                match self.pending.push_search(request, now, deadline) {
                    Ok(()) => self.send(conn, &msg, out),
                    Err(e) => out.report(Event::SearchDone {
                        request,
                        result: Err(e),
                    }),
                }
            }
        }
    }

    fn locate(&mut self, now: Instant, request: RequestId, hit: &Hit, out: &mut Outbox) {
        let target = match (&hit.holder, self.online_conn()) {
            (_, Err(e)) => Err(e),
            (Holder::Http { .. }, Ok(_)) => Err(SearchError::Refused("not a Napster hit".into())),
            (Holder::Napster { nick, .. }, Ok(conn)) => Ok((conn, nick.clone())),
        };
        let sent = target.and_then(|(conn, nick)| {
            let holder = NickFile {
                nick,
                name: hit.name.clone(),
            };
            let deadline = now + self.config.search_timeout;
            self.pending
                .push_locate(request, now, deadline, holder.clone())?;
            self.send(conn, &Message::Download(holder), out);
            Ok(())
        });
        if let Err(e) = sent {
            out.report(Event::Located {
                request,
                result: Err(e),
            });
        }
    }

    /// Sends the question's message (211, 603 or 751) and waits for its answer; a nick
    /// that is not one (empty, spaced, too long) is refused without asking.
    fn ask(&mut self, now: Instant, request: RequestId, question: &Question, out: &mut Outbox) {
        let sent = self.online_conn().and_then(|conn| {
            let nick = question.nick().to_owned();
            if !valid_nick(&nick) {
                return Err(SearchError::Refused(format!("{nick:?} is not a nick")));
            }
            let msg = match question {
                Question::Browse { .. } => Message::Browse { nick, max: None },
                Question::Whois { .. } => Message::Whois { nick },
                Question::Ping { .. } => Message::PingUser { nick },
            };
            let deadline = now + self.config.search_timeout;
            self.pending.push_ask(request, now, deadline, question)?;
            self.send(conn, &msg, out);
            Ok(())
        });
        if let Err(e) = sent {
            out.report(Event::Answered {
                request,
                result: Err(e),
            });
        }
    }

    fn transfer(&mut self, notice: TransferNotice, out: &mut Outbox) {
        let Link::Online(conn) = self.link else {
            return;
        };
        let msg = match notice {
            TransferNotice::DownloadStarted => Message::Downloading,
            TransferNotice::DownloadFinished => Message::DownloadDone,
            TransferNotice::UploadStarted => Message::Uploading,
            TransferNotice::UploadFinished => Message::UploadDone,
        };
        self.send(conn, &msg, out);
    }

    fn leave(&mut self, request: RequestId, out: &mut Outbox) {
        if let Some(conn) = self.server_conn() {
            out.close(conn);
        }
        for event in self.pending.fail_all(&SearchError::Left) {
            out.report(event);
        }
        self.shared.clear();
        self.timers.stop_all();
        self.link = Link::Left;
        out.report(Event::Left { request });
    }

    fn command(&mut self, now: Instant, cmd: Command, out: &mut Outbox) {
        if matches!(self.link, Link::Left) && cmd.answer_when_left(out) {
            return;
        }
        match cmd {
            Command::Search { request, query } => self.search(now, request, &query, out),
            Command::Locate { request, hit } => self.locate(now, request, &hit, out),
            Command::Share { library } => self.share(library, out),
            Command::Transfer(notice) => self.transfer(notice, out),
            Command::Leave { request } => self.leave(request, out),
            Command::Ask { request, question } => self.ask(now, request, &question, out),
        }
    }

    fn timeout(&mut self, now: Instant, out: &mut Outbox) {
        let ms = u64::try_from(self.config.search_timeout.as_millis()).unwrap_or(u64::MAX);
        for event in self.pending.expire(now, ms) {
            out.report(event);
        }
        if self.timers.is_expired(Timer::Redial, now) {
            self.dial(out);
        }
    }
}

impl Node for Peer {
    fn handle(&mut self, now: Instant, input: Input<'_>, out: &mut Outbox) {
        match input {
            Input::Start => self.dial(out),
            Input::Accepted { conn, .. } => {
                tracing::debug!(%conn, "a Napster peer takes no connections on its server port");
                out.close(conn);
            }
            Input::Connected { conn } => self.on_connected(conn, out),
            Input::Received { conn, bytes } if self.server_conn() == Some(conn) => {
                self.receive(now, conn, bytes, out);
                if self.is_online() {
                    let server = self.config.server;
                    self.reach
                        .clear(format_args!("logged in to the index server {server}"));
                }
            }
            Input::Received { .. } => {}
            Input::Closed { conn, reason } if self.server_conn() == Some(conn) => {
                self.lost(now, Failure::Closed(reason), out);
            }
            Input::Closed { .. } => {}
            Input::Timeout => self.timeout(now, out),
            Input::Command(cmd) => self.command(now, cmd, out),
        }
    }

    /// The earliest of the redial and of the deadlines the requests in flight keep with
    /// them, one each.
    fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next_timeout_with(self.pending.next_deadline())
    }

    fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    fn library(&self) -> Option<&Library> {
        Some(&self.config.library)
    }

    fn problem(&self) -> Option<&Problem> {
        self.reach.problem()
    }
}
