//! The fetching side of a transfer, as a sans-IO core.
//!
//! A [`Downloader`] fetches one file of a known size from where a [`Download`] says, from a
//! given offset on. It writes the request, reads the reply, and holds the holder to what
//! its search hit promised: the status must be the one asked for and the announced length
//! must be the hit's size — a holder that claims more could otherwise fill the disk. The
//! file's bytes then come out in order, each [`DownloadStep::Deliver`] with its offset, and
//! the download ends with [`DownloadStep::Done`]: the bytes received, or a
//! [`DownloadError`].
//!
//! ```text
//! Connecting ─ handle_connected ─▶ (Napster: Greeting ─ "1" ─▶) Reply ─ head/size ─▶ Body ─▶ Done
//!            HTTP: Write(GET …)              Write("GET"), Write(line)
//!            push: Write("1")                        SEND header ─▶ Write(offset)
//! ```
//!
//! A Napster push ([`Download::NapsterPush`]) turns the connection around: the holder
//! connects to us, so "connected" is the driver handing over the holder's connection, and
//! it waits for it [`PUSH_TIMEOUT`] instead of [`STALL_TIMEOUT`]. We greet; the holder's
//! header must name the holder and the file asked for, with the hit's size, or it is
//! answered `INVALID REQUEST` and the download fails; our offset follows, then the bytes.
//!
//! Nothing it receives is kept beyond the reply being read: at most [`MAX_HEAD_LEN`](super::MAX_HEAD_LEN) for
//! an HTTP head and [`napster::MAX_ERROR_LEN`] for a Napster refusal; file bytes are passed
//! on as they come. A download that makes no progress for [`STALL_TIMEOUT`] — not
//! connected, or no byte — ends as [`DownloadError::Stalled`].

use std::collections::VecDeque;

use thiserror::Error;

use crate::keywords::normalize_name;
use crate::node::Download;
use crate::time::Instant;

use super::{http, napster, PUSH_TIMEOUT, STALL_TIMEOUT};

/// What a [`Downloader`] asks its driver to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownloadStep {
    /// Write these bytes to the holder (as one write: Napster's exchange cares).
    Write(Vec<u8>),
    /// File bytes, in order: `bytes` belong at `offset` of the file.
    Deliver {
        /// Where in the file they go.
        offset: u64,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// The download is over: the number of file bytes received, or why it failed. The
    /// driver closes the connection; nothing follows.
    Done(Result<u64, DownloadError>),
}

/// Why a download failed. `Display` gives the sentence a user sees.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DownloadError {
    /// No connection, or no byte, for [`STALL_TIMEOUT`].
    #[error("transfer stalled")]
    Stalled,
    /// The holder could not be reached.
    #[error("could not connect to the holder")]
    Unreachable,
    /// The connection ended before the reply was whole.
    #[error("connection closed early")]
    ClosedEarly,
    /// The connection ended in the middle of the file.
    #[error("holder closed after {received} of {expected} bytes")]
    Truncated {
        /// File bytes received.
        received: u64,
        /// File bytes announced.
        expected: u64,
    },
    /// The holder answered with another HTTP status than the one asked for.
    #[error("holder answered HTTP {0}")]
    Status(u16),
    /// The holder announced another length than the hit's size says it owes.
    #[error("the holder announced {announced} bytes where its hit said {expected}")]
    SizeMismatch {
        /// What the holder announced.
        announced: String,
        /// What the hit's size makes of the range asked for.
        expected: u64,
    },
    /// A Napster holder did not greet with `1`.
    #[error("the holder did not greet with '1'")]
    NoGreeting,
    /// The holder refused, or answered something that is not a reply.
    #[error("{0}")]
    Refused(String),
}

/// What is asked for, and in which dialect.
#[derive(Debug, Clone)]
enum Ask {
    Http { index: u32, name: String },
    Napster { my_nick: String, name: String },
    Push { holder: String, name: String },
}

/// Where the download stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the connection.
    Connecting,
    /// Napster: waiting for the uploader's `1`.
    Greeting,
    /// Waiting for the response head, size reply or push header.
    Reply,
    /// Receiving the file; `next` is the offset of the next byte.
    Body { next: u64 },
    /// Over; every input is ignored.
    Done,
}

/// The fetching side of one download.
///
/// Inputs are `handle_*` with `now`; the driver drains [`Downloader::poll_output`] after
/// each and calls [`Downloader::handle_timeout`] at [`Downloader::poll_timeout`]. `now`
/// must never go backwards.
#[derive(Debug)]
pub struct Downloader {
    ask: Ask,
    /// The whole file's size, from the search hit.
    size: u64,
    /// The first byte asked for.
    start: u64,
    phase: Phase,
    /// Reply bytes not yet understood, bounded by the parsers.
    buf: Vec<u8>,
    out: VecDeque<DownloadStep>,
    /// When the download is declared stalled, unless something happens first.
    deadline: Option<Instant>,
}

impl Downloader {
    /// A download of the `size`-byte file `download` names, from byte `start` on, begun
    /// at `now` (when the driver starts to connect).
    pub fn new(now: Instant, download: &Download, size: u64, start: u64) -> Self {
        let ask = match download {
            Download::Http { index, name, .. } => Ask::Http {
                index: *index,
                name: name.clone(),
            },
            Download::Napster { my_nick, name, .. } => Ask::Napster {
                my_nick: my_nick.clone(),
                name: name.clone(),
            },
            Download::NapsterPush { holder, name } => Ask::Push {
                holder: holder.clone(),
                name: name.clone(),
            },
        };
        let wait = match ask {
            Ask::Push { .. } => PUSH_TIMEOUT,
            Ask::Http { .. } | Ask::Napster { .. } => STALL_TIMEOUT,
        };
        let mut downloader = Downloader {
            ask,
            size,
            start,
            phase: Phase::Connecting,
            buf: Vec::new(),
            out: VecDeque::new(),
            deadline: Some(now + wait),
        };
        if start > size {
            downloader.fail(DownloadError::Refused(format!(
                "cannot resume at byte {start} of a {size}-byte file"
            )));
        }
        downloader
    }

    /// The connection is up: HTTP asks at once, Napster waits for the greeting, and a push
    /// (the holder's connection, handed over) is greeted.
    pub fn handle_connected(&mut self, now: Instant) {
        if self.phase != Phase::Connecting {
            return;
        }
        match &self.ask {
            Ask::Http { index, name } => {
                let request = http::encode_request(*index, name, self.start);
                self.out.push_back(DownloadStep::Write(request));
                self.progress(now);
                self.phase = Phase::Reply;
            }
            Ask::Napster { .. } => {
                self.progress(now);
                self.phase = Phase::Greeting;
            }
            Ask::Push { .. } => {
                self.out
                    .push_back(DownloadStep::Write(napster::GREETING.to_vec()));
                self.handle_greeted(now);
            }
        }
    }

    /// A push's connection is up and the driver has greeted it already: a data port writes
    /// the `1` to every connection it accepts, before it can tell a push from a download.
    /// Only a push waits for the header next; any other download ignores this.
    pub fn handle_greeted(&mut self, now: Instant) {
        if self.phase == Phase::Connecting && matches!(self.ask, Ask::Push { .. }) {
            self.progress(now);
            self.phase = Phase::Reply;
        }
    }

    /// Bytes arrived from the holder.
    pub fn handle_received(&mut self, now: Instant, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        match self.phase {
            Phase::Connecting | Phase::Done => {}
            Phase::Body { .. } => {
                self.progress(now);
                self.deliver(bytes);
            }
            Phase::Greeting | Phase::Reply => {
                self.progress(now);
                self.buf.extend_from_slice(bytes);
                if self.phase == Phase::Greeting {
                    self.take_greeting();
                }
                if self.phase == Phase::Reply {
                    self.take_reply();
                }
            }
        }
    }

    /// The connection is gone (or was never made).
    pub fn handle_closed(&mut self) {
        let error = match self.phase {
            Phase::Done => return,
            Phase::Connecting => DownloadError::Unreachable,
            Phase::Greeting | Phase::Reply => DownloadError::ClosedEarly,
            Phase::Body { next } => DownloadError::Truncated {
                received: next - self.start,
                expected: self.size - self.start,
            },
        };
        self.fail(error);
    }

    /// The deadline from [`Downloader::poll_timeout`] may have passed. Early calls do
    /// nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.deadline.is_some_and(|d| d <= now) {
            self.fail(DownloadError::Stalled);
        }
    }

    /// The next thing to do, if any.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<DownloadStep> {
        self.out.pop_front()
    }

    /// When [`Downloader::handle_timeout`] is due.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// True once [`DownloadStep::Done`] has been queued.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    fn progress(&mut self, now: Instant) {
        self.deadline = Some(now + STALL_TIMEOUT);
    }

    /// Napster: the uploader's `1`, then our two writes.
    fn take_greeting(&mut self) {
        let Ask::Napster { my_nick, name } = &self.ask else {
            return;
        };
        if self.buf.len() < napster::GREETING.len() {
            return;
        }
        if !self.buf.starts_with(napster::GREETING) {
            return self.fail(DownloadError::NoGreeting);
        }
        self.buf.drain(..napster::GREETING.len());
        let (get, line) = napster::request(my_nick, name, self.start);
        self.out.push_back(DownloadStep::Write(get));
        self.out.push_back(DownloadStep::Write(line));
        self.phase = Phase::Reply;
    }

    /// The response head, size reply or push header, once it can be told; then the bytes
    /// after it.
    fn take_reply(&mut self) {
        let used = match self.ask {
            Ask::Http { .. } => self.take_http_head(),
            Ask::Napster { .. } => napster::parse_size_reply(&self.buf, self.size)
                .map_err(|e| self.size_error(e))
                .map(|reply| reply.map(|(_, used)| used)),
            Ask::Push { .. } => self.take_push_header(),
        };
        match used {
            Ok(None) => {}
            Err(e) => self.fail(e),
            Ok(Some(used)) => {
                let rest = self.buf.split_off(used);
                self.buf = Vec::new();
                self.phase = Phase::Body { next: self.start };
                self.deliver(&rest);
            }
        }
    }

    /// HTTP: the status asked for (200 for a whole file, 206 for a range) and a length that
    /// is the hit's size from the start on.
    fn take_http_head(&self) -> Result<Option<usize>, DownloadError> {
        let parsed = http::parse_response_head(&self.buf)
            .map_err(|e| DownloadError::Refused(e.to_string()))?;
        let Some((head, used)) = parsed else {
            return Ok(None);
        };
        let status = if self.start == 0 { 200 } else { 206 };
        if head.status != status {
            return Err(DownloadError::Status(head.status));
        }
        let expected = self.size - self.start;
        if head.content_length != expected {
            return Err(DownloadError::SizeMismatch {
                announced: head.content_length.to_string(),
                expected,
            });
        }
        Ok(Some(used))
    }

    /// Push: the header must be the holder and the file asked for, with the hit's size.
    /// Answers it: the offset to start at, or `INVALID REQUEST`.
    fn take_push_header(&mut self) -> Result<Option<usize>, DownloadError> {
        let Ask::Push { holder, name } = &self.ask else {
            return Ok(None);
        };
        let parsed = napster::parse_push_header(&self.buf)
            .map_err(|e| DownloadError::Refused(e.to_string()));
        let checked = parsed.and_then(|parsed| {
            let Some((header, used)) = parsed else {
                return Ok(None);
            };
            if !header.nick.eq_ignore_ascii_case(holder)
                || normalize_name(&header.name) != normalize_name(name)
            {
                return Err(DownloadError::Refused(format!(
                    "{} pushed {:?}, not {name:?} from {holder}",
                    header.nick, header.name
                )));
            }
            if header.size != self.size {
                return Err(DownloadError::SizeMismatch {
                    announced: header.size.to_string(),
                    expected: self.size,
                });
            }
            Ok(Some(used))
        });
        let answer = match &checked {
            Ok(None) => return checked,
            Ok(Some(_)) => napster::offset_reply(self.start),
            Err(_) => napster::INVALID_REQUEST.to_vec(),
        };
        self.out.push_back(DownloadStep::Write(answer));
        checked
    }

    fn size_error(&self, e: napster::TransferError) -> DownloadError {
        match e {
            napster::TransferError::SizeMismatch { got, .. } => DownloadError::SizeMismatch {
                announced: got,
                expected: self.size,
            },
            other => DownloadError::Refused(other.to_string()),
        }
    }

    /// Passes on file bytes (none past the end), and ends the download at the last one.
    fn deliver(&mut self, bytes: &[u8]) {
        let Phase::Body { next } = self.phase else {
            return;
        };
        let left = usize::try_from(self.size - next).unwrap_or(usize::MAX);
        let bytes = &bytes[..bytes.len().min(left)];
        if !bytes.is_empty() {
            self.out.push_back(DownloadStep::Deliver {
                offset: next,
                bytes: bytes.to_vec(),
            });
        }
        let next = next + bytes.len() as u64;
        self.phase = Phase::Body { next };
        if next == self.size {
            self.phase = Phase::Done;
            self.deadline = None;
            let received = self.size - self.start;
            self.out.push_back(DownloadStep::Done(Ok(received)));
        }
    }

    fn fail(&mut self, error: DownloadError) {
        self.phase = Phase::Done;
        self.deadline = None;
        self.buf = Vec::new();
        self.out.push_back(DownloadStep::Done(Err(error)));
    }
}
