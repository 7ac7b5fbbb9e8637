//! File transfers: locating a file differs between the three networks; fetching it does not.
//!
//! Gnutella servents and Chord nodes serve Gnutella 0.4's HTTP `GET` on their protocol port;
//! a Napster peer serves Napster's exchange on its data port. Both are here twice over: as
//! their wire (parsers and writers) and as two sans-IO cores that speak either one.
//!
//! ## Layout
//!
//! - [`http`] — the HTTP download's wire: request, response head, errors, [`resolve`].
//! - [`napster`] — Napster's data-port wire: the `1` greeting, `GET`, `nick "name" offset`,
//!   the size reply; and the firewalled holder's push: `SEND`, `nick "name" size`, the
//!   offset.
//! - [`upload`] — [`Uploader`], the holder's side of one connection.
//! - [`download`] — [`Downloader`], the fetching side of one download.
//!
//! ## The cores
//!
//! Like the protocol cores, the transfer cores never touch a socket, a clock or a file.
//! A driver feeds them what arrived, with `now`, and carries out what they ask for:
//!
//! ```text
//!            handle_received(now, bytes)           handle_received(now, bytes)
//!   socket ─────────────────────────────▶ Uploader ◀──── handle_chunk(now, bytes) ─┐
//!            ◀── Write(bytes) / Close ───          ── Read { file, offset, len } ─▶ Library
//!
//!   socket ─────────────────────────────▶ Downloader ── Deliver { offset, bytes } ─▶ file
//!            ◀── Write(bytes)                      ── Done(Ok(n) | Err(why))
//! ```
//!
//! Each core's run loop is the one every p2plab driver keeps: give it one input, drain
//! `poll_output` until it returns `None`, then wait for the next input or `poll_timeout`
//! and call `handle_timeout`. `now` never goes backwards. The uploader asks for the file one
//! [`READ_CHUNK`] at a time and waits for each, so a slow downloader holds back the reads
//! (the driver's writes wait on the socket) and an upload never holds more than one chunk.
//!
//! The same two cores run over TCP in `p2plab-runtime`, against each other on byte pipes in
//! this module's tests, and across the virtual network in `p2plab-netsim`.

pub mod download;
pub mod http;
pub mod napster;
pub mod upload;

#[cfg(test)]
mod tests;

use std::time::Duration;

pub use download::{DownloadError, DownloadStep, Downloader};
pub use http::{
    encode_request, error_response, parse_request, parse_response_head, resolve, response_head,
    GetRequest, HttpError, Method, ResponseHead, MAX_HEADERS, MAX_HEAD_LEN,
};
pub use upload::{Dialect, UploadStep, Uploader};

/// Bytes of a shared file an uploader asks for at once, and so the most an upload holds in
/// memory: 64 KiB, the largest window TCP offers without window scaling, is enough to keep
/// a loopback or LAN connection busy between two reads.
pub const READ_CHUNK: usize = 64 * 1024;

/// How long an uploader waits for each request head — the first, and every later one on a
/// kept-alive connection. A downloader asks at once; a connection that stays silent (or
/// drips its head) only holds a place an honest one could use.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a download may make no progress (no connection yet, or no byte for this long)
/// before it is abandoned. A holder that stops sending holds a download for this at most.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a firewalled download waits for the holder to connect (Napster's push). The
/// holder hears of the request only after two hops through the server (500, then 607 and
/// its 608, then 501), which an OpenNap-like server lets take up to its 5-second accept
/// timeout, and then dials, which may take a runtime's 5-second connect timeout: 20 s
/// covers both with [`STALL_TIMEOUT`] to spare, and bounds how long a holder that never
/// comes holds the download.
pub const PUSH_TIMEOUT: Duration = Duration::from_secs(20);
