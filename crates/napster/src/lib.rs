//! # p2plab-napster
//!
//! Napster as OpenNap documented it: one **central index server** that knows every shared
//! file, and **peers** that log in, tell the server what they share, ask it where files are,
//! and then fetch them directly from each other. Both are sans-IO cores
//! ([`p2plab_peer_protocol::Node`]): they never touch a socket or a clock.
//!
//! A search costs one round trip to the server, whatever the size of the network — and the
//! server sees every search, holds every file name, and takes all search down with it when
//! it dies. That trade-off is what p2plab measures against Gnutella and Chord.
//!
//! ## Layout
//!
//! - [`ip`] — the decimal IP encoding of 201/204/501 (`3437166285` = 205.254.222.204).
//! - [`fields`] — the tokenizer for message data: bare words, quoted names, numbers.
//! - [`message`] — [`Message`], one variant per message type, and its framing codec.
//! - [`search`] — the 200 search syntax (`FILENAME CONTAINS "..." MAX_RESULTS n ...`).
//! - [`index`] — the server's inverted keyword index: word → postings of (user, file).
//! - [`server`] — [`Server`], the central index.
//! - [`peer`] — [`Peer`], a user that shares a library and searches.
//! - [`transfer`] — the peer-to-peer data-port transfer (`1`, `GET`, size, bytes), and its
//!   firewalled push (`1`, `SEND`, header, offset, bytes). Every transfer lives in
//!   `p2plab-peer-protocol` beside the HTTP one, so that one pair of upload and download
//!   cores speaks both; this is its wire, under its Napster name.
//! - [`node`] — [`NapsterNode`], either of the two, for drivers that hold one node type.
//!
//! ## Wire format in one paragraph
//!
//! Every client↔server message is `<len:u16 LE><type:u16 LE><data>`, where `len` counts
//! the data only. The data is ASCII text with no terminator; fields are separated by one
//! space; file names and client-info strings are in double quotes, which are never escaped.
//! See `PROTOCOLS.md` §2 and the doc block of each [`Message`] variant.

pub mod fields;
pub mod index;
pub mod ip;
pub mod message;
pub mod node;
pub mod peer;
pub mod search;
pub mod server;

pub use p2plab_peer_protocol::transfer::napster as transfer;

pub use message::{FileInfo, Kind, Login, Message};
pub use node::NapsterNode;
pub use peer::{Peer, PeerConfig};
pub use search::SearchRequest;
pub use server::{Server, ServerConfig};

use std::time::Duration;

/// The largest data part of a message we accept or send, in bytes.
///
/// The length field allows 65,535, but the largest legitimate message — a 201 search result
/// with a 255-byte file name, an md5, five numbers and a nick — stays under 400 bytes. A
/// frame announcing more is garbage or abuse, and the connection is dropped before its
/// bytes are buffered.
pub const MAX_DATA_LEN: usize = 2048;

/// The most results one search returns. napster.txt: "if it is greater than 100, the
/// server will only return 100 results"; OpenNap's `max_results` defaults to 100.
pub const MAX_RESULTS: usize = 100;

/// The most files the server indexes for one user. It matches the largest
/// [`Library`](p2plab_peer_protocol::Library) a peer can hold, so any honest peer fits,
/// while one user cannot grow the index without bound.
pub const MAX_FILES_PER_USER: usize = p2plab_peer_protocol::library::MAX_FILES;

/// The most files the server indexes, for all users together; shares beyond it are refused
/// with a 404, as OpenNap refuses a share past its per-user limit.
///
/// This bounds the index's memory. `tests/index_memory.rs` counts what a file costs, to the
/// byte, and holds it to a budget of 375 bytes with names like those of `p2plab bench
/// napster`: its record (slot, name, md5), one id in the posting list of each of its words,
/// one id in each side map, and its place in its user's name-ordered set. A word no other
/// file has costs a posting list of its own, about 60 bytes, so a 255-byte name of
/// one-letter words that no other file has costs about 8 KB. The full index thus takes
/// under 100 MB for ordinary names and at most about 2 GB for the worst. The busiest
/// scenario indexes 4,000 files; 250,000 is also two and a half users at
/// [`MAX_FILES_PER_USER`].
pub const MAX_INDEXED_FILES: usize = 250_000;

/// The most bytes the indexed files may add up to, for all users together; a share that
/// would take the total past it is refused with a 404.
///
/// Sizes cost no memory, but they come off the wire as any u64, and the server adds them
/// up (the 214 statistics report the total in gigabytes). 2^50 bytes (1 PiB) holds
/// [`MAX_INDEXED_FILES`] files of 4 GiB each — more than any file of the era — and keeps
/// the total 2^14 times below `u64::MAX`: one share of size near 2^64 is refused instead
/// of wrapping the total.
pub const MAX_INDEXED_BYTES: u64 = 1 << 50;

/// The most connections that have not logged in yet the server keeps, from all addresses
/// together. A new connection beyond it closes the oldest of them.
///
/// The runtime refuses connections beyond 1,024 per node at accept (its
/// `MAX_CONNECTIONS`), and a connection that never logs in holds its slot for
/// [`LOGIN_TIMEOUT`]. Without this cap, 1,024 silent connections fill every slot and no one
/// can log in; with it, at least 512 slots are always left to logged-in users. An honest
/// client logs in one round trip after it connects, but a server that is busy accepting a
/// burst sees the burst's connections before their logins: half the slots let the 100- and
/// 200-peer scenarios start on one address with no login turned away.
pub const MAX_PENDING_LOGINS: usize = 512;

/// The most connections that have not logged in yet the server keeps from one address. A
/// new connection from an address at the cap closes that address's oldest waiting one.
///
/// Half of [`MAX_PENDING_LOGINS`], so that one address never fills the total and never
/// closes another address's connections. Closing the oldest rather than refusing the
/// newest is the choice that keeps a login possible from a shared address (a NAT, or
/// p2plab's own peers, which all connect from 127.0.0.1): an honest client sends its login
/// as soon as it connects, so the connection waiting longest is the one least likely to
/// log in, and to keep a newcomer out a squatter must open 256 connections within the
/// newcomer's round trip, instead of holding 256 silent ones for [`LOGIN_TIMEOUT`]. The
/// peers a burst turns away retry after a random delay (see [`PeerConfig`]), so a burst of
/// any size gets in.
pub const MAX_PENDING_LOGINS_PER_ADDRESS: usize = 256;

/// The most users one server serves at once (the default of
/// [`ServerConfig::max_users`]); logins beyond it are refused with a type 0 error.
pub const MAX_USERS: usize = 10_000;

/// The longest nick accepted, in bytes. OpenNap's `max_nick_length` defaults to 19.
pub const MAX_NICK_LEN: usize = 19;

/// The highest link-type code: 0 unknown, 1 14.4k, … 9 T1, 10 T3 or faster.
pub const MAX_LINK_TYPE: u8 = 10;

/// How long a new connection may take to log in before the server closes it.
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The md5 field of a file with no hash: 32 `0`s, as OpenNap sends without `RESUME` and as
/// clients that never hash send. p2plab's peers send a real md5
/// ([`p2plab_peer_protocol::FileMeta::md5_hex`]).
pub const NO_MD5: &str = "00000000000000000000000000000000";

/// What OpenNap puts in a 204's md5 field when both ends are firewalled (data port 0).
pub const FIREWALL_ERROR: &str = "firewallerror";

/// The most requests a peer keeps waiting for the server at once (searches and locates
/// together, counting timed-out searches still owed their 202); a request beyond it is
/// refused at once.
///
/// A server answers each request within a round trip or the request times out after the
/// peer's search timeout, so only a peer asking faster than the server answers comes near
/// it: 256 is far above what a user or a scenario keeps waiting (a few a second), and it
/// bounds the table, whose largest entry is a search's [`MAX_RESULTS`] hits.
pub const MAX_REQUESTS_IN_FLIGHT: usize = 256;

/// How long the server waits for a holder to accept (608) an upload it relayed (607)
/// before telling the downloader it did not (609).
///
/// Half of a peer's default locate timeout ([`peer::DEFAULT_SEARCH_TIMEOUT`]), so that the
/// 609 reaches a waiting downloader before it gives up on its own, and still a hundred
/// times a loopback or LAN round trip: a holder that has not answered by then is not
/// going to.
pub const UPLOAD_ACCEPT_TIMEOUT: Duration = Duration::from_secs(5);

/// The most upload requests the server waits on for one downloader at once; a 203 beyond
/// it is answered with 609 at once.
///
/// A user fetches a few files at a time (the Napster client's default was three
/// downloads), so 16 leaves room for a burst of requests, while one user alone cannot
/// fill the server's table ([`MAX_RELAYED_REQUESTS`]).
pub const MAX_RELAYED_PER_USER: usize = 16;

/// The most upload requests the server waits on, for all users together. When it is
/// full, the oldest is answered with 609 to make room: it has waited longest, so it is the
/// one least likely to be accepted still.
///
/// Each costs a file name and a few ids (well under 400 bytes), so the table stays under
/// 2 MB; it takes 256 users asking at their [`MAX_RELAYED_PER_USER`] to fill it.
pub const MAX_RELAYED_REQUESTS: usize = 4096;

/// The most entries one user's hotlist holds (207/208); one more is refused with 302.
///
/// OpenNap's `max_hotlist` defaults to 32. A hotlist is the friends a user wants told
/// about, which the clients of the time showed in one short panel, so no honest list
/// comes near it; the bound keeps one user from making every login and logout on the
/// server a broadcast to it of unbounded cost in memory.
pub const MAX_HOTLIST_PER_USER: usize = 32;

/// The most hotlist entries the server keeps, for all users together; an entry past it
/// is refused with 302.
///
/// Every user of a server at [`MAX_USERS`] can fill its list. An entry costs a nick
/// (at most [`MAX_NICK_LEN`] bytes) twice — in the user's list and in the list of who
/// watches that nick — with the slots and tree nodes of the maps holding them: at most
/// about 250 bytes, reckoned from their layouts, so a full table takes about 80 MB.
pub const MAX_HOTLIST_ENTRIES: usize = MAX_USERS * MAX_HOTLIST_PER_USER;

/// The longest text of a 404 the server sends about a client message it cannot read.
///
/// A reason may quote the field that broke the layout, escaped, and that field may be
/// the whole message: escaping can make it several times [`MAX_DATA_LEN`], more than a
/// client reads in one message. 200 bytes names what was wrong and keeps every such
/// reply under a tenth of the largest message a client may send.
pub const MAX_REASON_LEN: usize = 200;

/// The most 212 entries one browse (211) returns: OpenNap's `max_browse_result` default.
///
/// A user may share up to [`MAX_FILES_PER_USER`] files, and a reply of that many frames
/// would be one user's request filling another's send queue; OpenNap stops at 500 "to
/// avoid flooding the client", and so does p2plab's server. A client may ask for fewer
/// (211's optional `<max>`); the peer keeps no more than this of a reply either.
pub const MAX_BROWSE_RESULTS: usize = 500;

/// The most bytes of text a private message (205) carries on to its recipient; longer
/// text is cut there, at a character boundary.
///
/// OpenNap cuts at 180 bytes "to prevent DoS attack against windows napster client"
/// (privmsg.c), whose message window broke on longer lines; p2plab keeps the same cut so
/// that a client written for OpenNap never sees more.
pub const MAX_PRIVATE_MESSAGE_LEN: usize = 180;

/// The most users who left the server remembers for whowas (605): their nick, level and
/// when they were last seen. Past it the one seen longest ago is forgotten and a whois of
/// it gets a 404, as a never-seen nick does.
///
/// OpenNap keeps a whowas entry for each registered nick in its user database; p2plab has
/// no registration, so the table is bounded instead: [`MAX_USERS`], so that a full
/// server's worth of users can all leave and still be found. An entry holds a nick of at
/// most [`MAX_NICK_LEN`] bytes twice (in the table and in its age order) and an instant,
/// under 200 bytes with the collections' overhead: the full table stays under 2 MB.
pub const MAX_WHOWAS: usize = MAX_USERS;

/// The message type numbers, with OpenNap's names for them (opennap.h).
pub mod types {
    /// 0, S: error during login (`MSG_SERVER_ERROR`).
    pub const ERROR: u16 = 0;
    /// 2, C: login (`MSG_CLIENT_LOGIN`).
    pub const LOGIN: u16 = 2;
    /// 3, S: login ack carrying an email (`MSG_SERVER_EMAIL`).
    pub const LOGIN_ACK: u16 = 3;
    /// 6, C: register a nick and log in (`MSG_CLIENT_LOGIN_REGISTER`).
    pub const LOGIN_REGISTER: u16 = 6;
    /// 7, C: is this nick free?
    pub const NICK_CHECK: u16 = 7;
    /// 8, S: the nick is free.
    pub const NICK_FREE: u16 = 8;
    /// 9, S: the nick is already registered.
    pub const NICK_TAKEN: u16 = 9;
    /// 10, S: the nick is invalid.
    pub const NICK_INVALID: u16 = 10;
    /// 100, C: share a file (`MSG_CLIENT_ADD_FILE`).
    pub const ADD_FILE: u16 = 100;
    /// 102, C: stop sharing a file (`MSG_CLIENT_REMOVE_FILE`).
    pub const REMOVE_FILE: u16 = 102;
    /// 110, C: stop sharing everything.
    pub const UNSHARE_ALL: u16 = 110;
    /// 200, C: search (`MSG_CLIENT_SEARCH`).
    pub const SEARCH: u16 = 200;
    /// 201, S: one search result (`MSG_SERVER_SEARCH_RESULT`).
    pub const SEARCH_RESULT: u16 = 201;
    /// 202, S: end of search results (`MSG_SERVER_SEARCH_END`).
    pub const SEARCH_END: u16 = 202;
    /// 203, C: where can I download this? (`MSG_CLIENT_DOWNLOAD`).
    pub const DOWNLOAD: u16 = 203;
    /// 204, S: here: ip and data port (`MSG_SERVER_FILE_READY`).
    pub const DOWNLOAD_ACK: u16 = 204;
    /// 206, S: that user or file is unavailable (`MSG_SERVER_SEND_ERROR`).
    pub const GET_ERROR: u16 = 206;
    /// 205, C/S: a private message to or from another user (`MSG_CLIENT_PRIVMSG`).
    pub const PRIVATE_MESSAGE: u16 = 205;
    /// 210, S: that user signed off, or is not online (`MSG_SERVER_USER_SIGNOFF`).
    pub const USER_SIGNOFF: u16 = 210;
    /// 211, C: list a user's files (`MSG_CLIENT_BROWSE`).
    pub const BROWSE: u16 = 211;
    /// 212, S: one of the browsed user's files (`MSG_SERVER_BROWSE_RESPONSE`).
    pub const BROWSE_ENTRY: u16 = 212;
    /// 213, S: end of the browse list (`MSG_SERVER_BROWSE_END`).
    pub const BROWSE_END: u16 = 213;
    /// 603, C: who is this user? (`MSG_CLIENT_WHOIS`).
    pub const WHOIS: u16 = 603;
    /// 604, S: this user, online (`MSG_SERVER_WHOIS_RESPONSE`).
    pub const WHOIS_REPLY: u16 = 604;
    /// 605, S: this user, offline: when last seen (`MSG_SERVER_WHOWAS`).
    pub const WHOWAS: u16 = 605;
    /// 751, C/S: is this user's connection alive? (`MSG_CLIENT_PING`).
    pub const PING_USER: u16 = 751;
    /// 752, C/S: the pinged user's answer (`MSG_CLIENT_PONG`).
    pub const PONG_USER: u16 = 752;
    /// 214, C/S: server statistics.
    pub const STATS: u16 = 214;
    /// 218, C: I started a download.
    pub const DOWNLOADING: u16 = 218;
    /// 219, C: I finished a download.
    pub const DOWNLOAD_DONE: u16 = 219;
    /// 220, C: I started an upload.
    pub const UPLOADING: u16 = 220;
    /// 221, C: I finished an upload.
    pub const UPLOAD_DONE: u16 = 221;
    /// 404, S: error after login (`MSG_SERVER_NOSUCH`).
    pub const NOSUCH: u16 = 404;
    /// 500, C: ask a firewalled holder to push a file (`MSG_CLIENT_DOWNLOAD_FIREWALL`).
    pub const DOWNLOAD_FIREWALL: u16 = 500;
    /// 501, S: to the holder: connect out to this downloader (`MSG_SERVER_UPLOAD_FIREWALL`).
    pub const UPLOAD_FIREWALL: u16 = 501;
    /// 607, S: to the holder: a user asks for a file (`MSG_SERVER_UPLOAD_REQUEST`).
    pub const UPLOAD_REQUEST: u16 = 607;
    /// 608, C: the holder accepts the upload (`MSG_CLIENT_UPLOAD_OK`).
    pub const UPLOAD_ACCEPT: u16 = 608;
    /// 609, S: to the downloader: the holder did not accept (napster.txt's "accept failed";
    /// OpenNap 0.36 never sends it).
    pub const ACCEPT_FAILED: u16 = 609;
    /// 621, S: a line of the message of the day; C: send the motd (`MSG_SERVER_MOTD`).
    pub const MOTD: u16 = 621;

    // Hotlist, resume, link speed and server ping.
    /// 207, C: add a user to my hotlist (`MSG_CLIENT_ADD_HOTLIST`).
    pub const HOTLIST_ADD: u16 = 207;
    /// 208, C: one entry of the hotlist sent after login (`MSG_CLIENT_ADD_HOTLIST_SEQ`).
    pub const HOTLIST_INIT: u16 = 208;
    /// 209, S: a user on your hotlist signed on (`MSG_SERVER_USER_SIGNON`).
    pub const USER_SIGNON: u16 = 209;
    /// 215, C: who shares a file with this md5 and size? (`MSG_CLIENT_RESUME_REQUEST`).
    pub const RESUME_REQUEST: u16 = 215;
    /// 216, S: this user does (`MSG_SERVER_RESUME_MATCH`).
    pub const RESUME_MATCH: u16 = 216;
    /// 217, S: end of the resume matches (`MSG_SERVER_RESUME_MATCH_END`).
    pub const RESUME_END: u16 = 217;
    /// 301, S: the user is on your hotlist now (`MSG_SERVER_HOTLIST_ACK`).
    pub const HOTLIST_ACK: u16 = 301;
    /// 302, S: the user could not be added to your hotlist (napster.txt's "hotlist
    /// error"; OpenNap 0.36 has no name for it and answers with a 404 alone).
    pub const HOTLIST_ERROR: u16 = 302;
    /// 303, C: take a user off my hotlist (`MSG_CLIENT_REMOVE_HOTLIST`).
    pub const HOTLIST_REMOVE: u16 = 303;
    /// 600, C: what is this user's link type? (`MSG_CLIENT_USERSPEED`).
    pub const LINK_SPEED_REQUEST: u16 = 600;
    /// 601, S: this (`MSG_SERVER_USER_SPEED`).
    pub const LINK_SPEED: u16 = 601;
    /// 750, C/S: server ping, answered with an empty 750 (`MSG_CLIENT_PING_SERVER`).
    pub const SERVER_PING: u16 = 750;
}
