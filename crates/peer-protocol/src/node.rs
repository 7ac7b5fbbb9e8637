//! The sans-IO node contract every protocol core implements.
//!
//! A core is a plain struct. A driver (the tokio runtime, the in-memory `TestNet` of
//! `p2plab-netsim`, the simulator) owns the sockets and the clock and feeds the core
//! [`Input`]s; the core answers by pushing effects into an [`Outbox`] and by telling, through
//! [`Node::poll_timeout`], when it next wants to be woken.
//!
//! The driver's loop, the same in every driver:
//!
//! 1. call [`Node::handle`] once with one input and `now`, lending it an [`Outbox`] over the
//!    driver's effect queue and the node's [`ConnIds`];
//! 2. drain the queue completely (send, connect, close, deliver events);
//! 3. sleep until the next input or until [`Node::poll_timeout`], then feed
//!    [`Input::Timeout`].
//!
//! Rules a driver keeps: `now` never goes backwards; [`Input::Start`] comes first;
//! [`Input::Closed`] is reported only for connections the core did not close itself;
//! a connection the core asked for with [`Outbox::connect`] gets either
//! [`Input::Connected`] or [`Input::Closed`]; every [`ConnId`] comes from the node's one
//! [`ConnIds`], the driver's for [`Input::Accepted`] and the outbox's for a dial.
//!
//! [`Outbox`]: crate::outbox::Outbox
//! [`Outbox::connect`]: crate::outbox::Outbox::connect
//! [`ConnIds`]: crate::outbox::ConnIds

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};

use serde::{Deserialize, Serialize};

use crate::library::Library;
use crate::metrics::Metrics;
use crate::outbox::Outbox;
use crate::reach::{CloseReason, Problem};
use crate::time::Instant;
use std::sync::Arc;
use std::time::Duration;

/// The longest a driver waits for a core to answer a command (a search, a locate, a
/// polite leave). Cores time their own searches out well before this; it only guards
/// against a node that stopped mid-command, on real sockets and in the simulator alike.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Names one connection of one node. The driver draws them from the node's
/// [`ConnIds`](crate::outbox::ConnIds), for accepted and for dialled connections alike, so
/// they never collide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ConnId(pub u64);

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn#{}", self.0)
    }
}

/// Ties a [`Command`] to the [`Event`] that answers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RequestId(pub u64);

/// Something that happened to a node, fed to [`Node::handle`].
#[derive(Debug)]
pub enum Input<'a> {
    /// The node has just been started: open the connections the configuration asks for.
    Start,
    /// A peer connected to the node's listener.
    Accepted {
        /// The id the driver gave the new connection, from the node's
        /// [`ConnIds`](crate::outbox::ConnIds).
        conn: ConnId,
        /// The peer's address as TCP reports it (its port is ephemeral, not a listen port).
        remote: SocketAddr,
    },
    /// A connection the node asked for is established.
    Connected {
        /// The id returned by [`Outbox::connect`](crate::outbox::Outbox::connect).
        conn: ConnId,
    },
    /// Bytes arrived on a connection. Chunk boundaries mean nothing: TCP is a stream.
    Received {
        /// The connection they came in on.
        conn: ConnId,
        /// The bytes, in order.
        bytes: &'a [u8],
    },
    /// A connection is gone: closed by the peer, broken, or never established.
    Closed {
        /// The lost connection.
        conn: ConnId,
        /// Why, as the driver saw it: a refused dial, a timeout, the peer closing.
        reason: CloseReason,
    },
    /// The deadline from [`Node::poll_timeout`] has passed. Firing early does nothing.
    Timeout,
    /// The user (through the control protocol) or the scenario runner asks for something.
    Command(Command),
}

/// What the user or the scenario runner can ask of any node.
#[derive(Debug, Clone)]
pub enum Command {
    /// Find files whose names hold every word of `query` (see [`crate::keywords`]).
    Search {
        /// Echoed in [`Event::SearchDone`].
        request: RequestId,
        /// Free text; split into keywords by the shared matcher.
        query: String,
    },
    /// Find out where to download `hit` from. Immediate for Gnutella and Chord, whose hits
    /// carry the holder's address; a round trip to the index server (203/204) for Napster.
    Locate {
        /// Echoed in [`Event::Located`].
        request: RequestId,
        /// A hit from an earlier search.
        hit: Hit,
    },
    /// The node now shares this library (it replaces the previous one).
    Share {
        /// The new set of shared files.
        library: Arc<Library>,
    },
    /// A transfer began or ended: Napster tells its server (218/219, 220/221).
    Transfer(TransferNotice),
    /// Leave the network politely (hand over state, tell neighbours), then go quiet.
    Leave {
        /// Echoed in [`Event::Left`].
        request: RequestId,
    },
    /// Ask the network about another user. Only a network that keeps a directory of users
    /// (Napster's index server) can answer; the others answer at once that they cannot.
    Ask {
        /// Echoed in [`Event::Answered`].
        request: RequestId,
        /// What is asked, and about whom.
        question: Question,
    },
}

impl Command {
    /// The one rule all three networks follow once a node has left: a search, a locate, a
    /// question or another leave is answered at once — [`SearchError::Left`] for the first three, the
    /// leave is done already — instead of waiting out the caller's timeout. Reports that
    /// answer into `out` and returns true; returns false for a command that needs no
    /// network ([`Command::Share`], [`Command::Transfer`]), which the node then takes as
    /// it would anyway.
    pub fn answer_when_left(&self, out: &mut Outbox<'_>) -> bool {
        let event = match self {
            Command::Search { request, .. } => Event::SearchDone {
                request: *request,
                result: Err(SearchError::Left),
            },
            Command::Locate { request, .. } => Event::Located {
                request: *request,
                result: Err(SearchError::Left),
            },
            Command::Leave { request } => Event::Left { request: *request },
            Command::Ask { request, .. } => Event::Answered {
                request: *request,
                result: Err(SearchError::Left),
            },
            Command::Share { .. } | Command::Transfer(_) => return false,
        };
        out.report(event);
        true
    }
}

/// A question about another user of the network ([`Command::Ask`]), named by the nick it
/// logged in with. The Napster names of each are in brackets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Question {
    /// Which files does this user share? (browse, 211)
    Browse {
        /// The user.
        nick: String,
    },
    /// Who is this user: online since when, sharing what, with which client? (whois, 603)
    Whois {
        /// The user.
        nick: String,
    },
    /// Is this user's connection alive, and how long does its answer take? (ping, 751)
    Ping {
        /// The user.
        nick: String,
    },
}

impl Question {
    /// The user asked about.
    pub fn nick(&self) -> &str {
        match self {
            Question::Browse { nick } | Question::Whois { nick } | Question::Ping { nick } => nick,
        }
    }

    /// The answer of a network that keeps no directory of users (Gnutella, Chord): a
    /// [`SearchError::Refused`] that names the network and the question.
    pub fn unsupported(&self, network: &str) -> SearchError {
        let what = match self {
            Question::Browse { .. } => "browse",
            Question::Whois { .. } => "whois",
            Question::Ping { .. } => "ping",
        };
        SearchError::Refused(format!(
            "{network} keeps no directory of users: {what} is not supported by this network"
        ))
    }
}

/// The answer to a [`Question`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// A browse: the user's files, each a hit a `fetch` can download.
    Files {
        /// The files, in the order the network listed them.
        hits: Vec<Hit>,
    },
    /// A whois of a user online.
    Online(UserInfo),
    /// A whois of a user who is not online but was seen before.
    Offline {
        /// The user.
        nick: String,
        /// Its level when last seen (`User`, `Moderator`, …).
        level: String,
        /// When it was last seen, in seconds since 1970 (UNIX time).
        last_seen_unix: u64,
    },
    /// A ping: the user answered.
    Pong {
        /// The user.
        nick: String,
        /// From the ping leaving this node to the answer reaching it.
        round_trip: Duration,
    },
}

/// What a whois tells of a user online.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    /// The user.
    pub nick: String,
    /// `User`, `Moderator`, `Admin` or `Elite`.
    pub level: String,
    /// Seconds since it logged in.
    pub online_secs: u64,
    /// The channels it is in.
    pub channels: Vec<String>,
    /// `Active`, or what else the server says.
    pub status: String,
    /// Files it shares.
    pub shared: u64,
    /// Downloads in progress.
    pub downloads: u32,
    /// Uploads in progress.
    pub uploads: u32,
    /// Its link-type code (Napster's 0 unknown … 10 T3).
    pub link_type: u8,
    /// The client it logged in with.
    pub client: String,
}

/// Transfer bookkeeping a node may report to its network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransferNotice {
    /// This node started downloading a file.
    DownloadStarted,
    /// This node finished (or gave up) a download.
    DownloadFinished,
    /// This node started serving a file.
    UploadStarted,
    /// This node finished serving a file.
    UploadFinished,
}

/// What a node reports back: answers to commands, and things worth knowing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// A search has finished.
    SearchDone {
        /// The [`Command::Search`] this answers.
        request: RequestId,
        /// The hits, or why the search could not run.
        result: Result<Vec<Hit>, SearchError>,
    },
    /// A [`Command::Locate`] has finished.
    Located {
        /// The command this answers.
        request: RequestId,
        /// Where to download from, or why not.
        result: Result<Download, SearchError>,
    },
    /// The node has left the network.
    Left {
        /// The [`Command::Leave`] this answers.
        request: RequestId,
    },
    /// A [`Command::Ask`] has been answered.
    Answered {
        /// The command this answers.
        request: RequestId,
        /// The answer, or why there is none (the network's error text, for one).
        result: Result<Answer, SearchError>,
    },
    /// A firewalled Napster peer's server asked it (501) to push a file it shares to a
    /// downloader that cannot connect to it: the driver connects out to `to` and serves
    /// `name` there as napster.txt §4.2 says (`1`, `SEND`, the header, the offset, the
    /// bytes). No command asked for it; the core has checked that the file is shared.
    PushUpload {
        /// The downloader's data port.
        to: SocketAddr,
        /// This peer's nick, which the downloader expects in the header.
        my_nick: String,
        /// The file to push, as the downloader named it.
        name: String,
    },
}

/// Why a search or locate failed. `Display` gives the sentence a user sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum SearchError {
    /// The node has no way into the network (no server, no neighbours, no ring).
    #[error("not connected to the network: {0}")]
    NotConnected(String),
    /// The network answered with an error.
    #[error("the network refused: {0}")]
    Refused(String),
    /// No answer came in time.
    #[error("no answer within {0} ms")]
    Timeout(u64),
    /// The node is in the network but cannot answer correctly yet (a Chord node whose
    /// ring pointers are not yet right): an empty answer now would be a false "not found".
    /// Asking again later can succeed.
    #[error("the network cannot answer yet: {0}")]
    NotReady(String),
    /// The node has left the network ([`Command::Leave`]): it takes no part in it any more
    /// and will not until it is started again. A variant of its own, not
    /// [`SearchError::NotReady`] with a reason: "not ready" promises that asking again later
    /// can succeed, and a node that has left never gets ready by waiting. Nor is it
    /// [`SearchError::NotConnected`], which a node says that lost its way in and may find
    /// one again. It carries no sentence: what happened is all there is to say.
    #[error("this node has left the network")]
    Left,
}

/// One search result: a file and who holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hit {
    /// The file's name as its holder shares it.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Who holds it and how to ask for it.
    pub holder: Holder,
    /// Overlay hops the answer took, where the network measures them.
    pub hops: Option<u32>,
    /// When the hit reached the searcher, counted from the search's start, where answers
    /// come piecemeal (Gnutella: each QueryHit arrives on its own, from its own distance).
    /// `None` where the answer is one message (Napster's index, Chord's owner): the hit
    /// then arrived with the answer.
    #[serde(default)]
    pub arrived: Option<Duration>,
}

impl Hit {
    /// Where to download a hit that names an HTTP holder: Gnutella's and Chord's hits carry
    /// the holder's address and index, so locating them needs no message. `Err(self)` for a
    /// Napster hit, whose data port only the index server can tell.
    ///
    /// # Errors
    /// The hit itself, when its holder is not an HTTP one.
    pub fn http_download(self) -> Result<Download, Hit> {
        match self.holder {
            Holder::Http { addr, index } => Ok(Download::Http {
                addr,
                index,
                name: self.name,
            }),
            Holder::Napster { .. } => Err(self),
        }
    }
}

/// Who holds a file found by a search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Holder {
    /// A peer that serves the Gnutella 0.4 HTTP download (`GET /get/<index>/<name>`).
    Http {
        /// Where it serves HTTP.
        addr: SocketAddr,
        /// The file's index in the holder's library.
        index: u32,
    },
    /// A Napster user; the index server tells its data port on request (203 → 204).
    Napster {
        /// The user's nick on the server.
        nick: String,
        /// The address the server saw it connect from.
        ip: Ipv4Addr,
    },
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Holder::Http { addr, index } => write!(f, "{addr} (index {index})"),
            Holder::Napster { nick, ip } => write!(f, "{nick}@{ip}"),
        }
    }
}

/// Everything needed to fetch a file, once located.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Download {
    /// `GET /get/<index>/<name> HTTP/1.0` at `addr`.
    Http {
        /// The holder's HTTP address.
        addr: SocketAddr,
        /// The file's index in the holder's library.
        index: u32,
        /// The file's name.
        name: String,
    },
    /// Napster's data-port transfer at `addr`: the `1` greeting, `GET`, `nick "name" offset`.
    Napster {
        /// The holder's data port.
        addr: SocketAddr,
        /// Our own nick, which the uploader expects in the request.
        my_nick: String,
        /// The file's name as the holder shares it.
        name: String,
    },
    /// Napster's firewalled download: the holder (data port 0) was asked, through the
    /// server (500 → 501), to connect to this peer's data port and push the file.
    NapsterPush {
        /// The holder's nick, which its `SEND` header must carry.
        holder: String,
        /// The file's name as the holder shares it, which the header must carry too.
        name: String,
    },
}

impl Download {
    /// Where to connect: the holder's HTTP address or Napster data port; `None` for a push,
    /// where the holder connects instead.
    pub fn addr(&self) -> Option<SocketAddr> {
        match self {
            Download::Http { addr, .. } | Download::Napster { addr, .. } => Some(*addr),
            Download::NapsterPush { .. } => None,
        }
    }
}

/// A protocol core: a state machine with no sockets, clocks or threads inside.
pub trait Node {
    /// Reacts to one input at time `now`, pushing effects into `out`.
    fn handle(&mut self, now: Instant, input: Input<'_>, out: &mut Outbox<'_>);

    /// When the node next wants [`Input::Timeout`], if ever.
    #[must_use]
    fn poll_timeout(&self) -> Option<Instant>;

    /// Traffic and lookup counters.
    fn metrics(&self) -> &Metrics;

    /// The files this node serves to downloaders, if it shares any. A driver that carries
    /// transfers itself (the in-memory network of `p2plab-netsim`) serves them from here;
    /// the core never looks at transfer bytes.
    fn library(&self) -> Option<&Library> {
        None
    }

    /// Why the node cannot reach its server or bootstrap, while it cannot: read by
    /// `stats`. `None` for a node that needs nobody (an index server, a ring's creator).
    fn problem(&self) -> Option<&Problem> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_http_hit_is_its_own_download_and_a_napster_hit_is_not() {
        let addr: SocketAddr = "10.0.0.7:6346".parse().unwrap();
        let hit = |holder| Hit {
            name: "song.mp3".into(),
            size: 3,
            holder,
            hops: Some(2),
            arrived: None,
        };
        assert_eq!(
            hit(Holder::Http { addr, index: 4 }).http_download(),
            Ok(Download::Http {
                addr,
                index: 4,
                name: "song.mp3".into()
            })
        );
        let napster = hit(Holder::Napster {
            nick: "alice".into(),
            ip: Ipv4Addr::new(10, 0, 0, 8),
        });
        assert_eq!(napster.clone().http_download(), Err(napster));
    }
}
