//! The holder's side of a transfer connection, as a sans-IO core.
//!
//! An [`Uploader`] reads requests off one connection, checks each against the [`Library`],
//! and serves the file, one [`READ_CHUNK`] at a time that its driver reads for it:
//!
//! ```text
//!  ┌──────────▶ Request ── head/line complete ──▶ resolve ── not shared ──▶ Write(error), Close
//!  │            (HEAD_TIMEOUT)                       │
//!  │                                                 ▼
//!  │                       no slot yet? Claim ──▶ refused ──▶ Write(busy), Close
//!  │                                                 │ granted (kept for the connection)
//!  │                                                 ▼
//!  │                   Write(head or size) ─▶ Read ◀─▶ handle_chunk ─▶ Write(chunk) …
//!  │                                                 │ last byte
//!  └──── HTTP keep-alive ◀───────────────────────────┴──────── otherwise ──▶ Close
//! ```
//!
//! The two [`Dialect`]s differ only in their wire: Napster greets with `1`, takes one request
//! and closes; HTTP answers requests in a row while the downloader asks to keep the
//! connection alive. Every request head must arrive within [`HEAD_TIMEOUT`] and fit in the
//! dialect's bound ([`MAX_HEAD_LEN`], [`napster::MAX_REQUEST_LEN`]); bytes that come while a
//! response is being sent wait in the same bounded buffer for their turn.
//!
//! A firewalled Napster holder pushes instead ([`Uploader::push`]): it has connected out to
//! the downloader, waits for the downloader's `1`, writes `SEND` and its header, and reads
//! the offset in place of a request. From there on it serves as above, with no size reply
//! (the header carried the size) and no error text (the downloader would take any byte for
//! the file's): a bad offset, or a file no longer shared as announced, just closes.
//!
//! Upload slots are the driver's to count: the core only asks ([`UploadStep::Claim`]) once
//! it knows what it would serve, and holds the slot it got until the connection ends.

use std::collections::VecDeque;

use crate::library::{Library, SharedFile};
use crate::node::TransferNotice;
use crate::time::Instant;

use super::http::{self, HttpError, Method, MAX_HEAD_LEN};
use super::{napster, HEAD_TIMEOUT, READ_CHUNK};

/// Which exchange a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Gnutella 0.4's HTTP `GET` (Gnutella servents and Chord nodes, on their protocol port).
    Http,
    /// Napster's data-port exchange (a Napster peer's data port).
    Napster,
}

/// What an [`Uploader`] asks its driver to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadStep {
    /// Write these bytes to the downloader.
    Write(Vec<u8>),
    /// Read `len` bytes of `file` from `offset` and hand them to [`Uploader::handle_chunk`].
    /// Nothing more comes from the core until then.
    Read {
        /// The shared file, as the library listed it.
        file: SharedFile,
        /// Where to start.
        offset: u64,
        /// How many bytes; at most [`READ_CHUNK`].
        len: usize,
    },
    /// Ask for an upload slot and answer with [`Uploader::handle_slot`].
    Claim,
    /// Tell the node that serving a file began or ended (Napster reports it to its server).
    Notice(TransferNotice),
    /// Send what was written, then close the connection. Nothing follows.
    Close,
}

/// The file a push announced: it is served only while the library still shares it so.
struct Pushed {
    name: String,
    size: u64,
    /// `SEND` and the header line, written once the downloader has greeted.
    header: Option<(Vec<u8>, Vec<u8>)>,
}

/// A request understood and checked against the library: what to send.
struct Serve {
    file: SharedFile,
    start: u64,
    /// One past the last byte to send: the end of a closed range, the file's size, or
    /// `start` itself for a `HEAD`, which gets the head and no body.
    end: u64,
    /// The response head (HTTP) or size reply (Napster) that goes before the bytes.
    reply: Vec<u8>,
    keep_alive: bool,
}

/// What the buffered bytes say.
enum Parsed {
    /// Not a whole request yet.
    Incomplete,
    /// A request to refuse with these bytes, then close.
    Refuse(Vec<u8>),
    /// A request to serve, which took this many bytes.
    Serve(Serve, usize),
}

impl Dialect {
    /// The longest request this dialect reads before it refuses it.
    fn max_request(self) -> usize {
        match self {
            Dialect::Http => MAX_HEAD_LEN,
            Dialect::Napster => napster::MAX_REQUEST_LEN,
        }
    }

    /// What the uploader writes as soon as the connection opens.
    fn greeting(self) -> &'static [u8] {
        match self {
            Dialect::Http => b"",
            Dialect::Napster => napster::GREETING,
        }
    }

    /// The answer when every upload slot is taken.
    fn busy(self) -> Vec<u8> {
        match self {
            Dialect::Http => http::error_response(&HttpError::Busy),
            Dialect::Napster => napster::UPLOADS_FULL.to_vec(),
        }
    }

    /// Reads a request from the front of `buf` and checks it against `library`.
    fn parse(self, buf: &[u8], library: &Library) -> Parsed {
        match self {
            Dialect::Http => {
                let refuse = |e: HttpError| Parsed::Refuse(http::error_response(&e));
                match http::parse_request(buf) {
                    Ok(None) => Parsed::Incomplete,
                    Err(e) => refuse(e),
                    Ok(Some((req, used))) => match http::resolve(library, &req) {
                        Err(e) => refuse(e),
                        Ok((file, range)) => Parsed::Serve(
                            Serve {
                                reply: http::response_head(file, &range),
                                file: file.clone(),
                                start: range.start,
                                end: match req.method {
                                    Method::Get => range.end,
                                    Method::Head => range.start,
                                },
                                keep_alive: req.keep_alive,
                            },
                            used,
                        ),
                    },
                }
            }
            Dialect::Napster => match napster::parse_request(buf) {
                Ok(None) => Parsed::Incomplete,
                Err(_) => Parsed::Refuse(napster::INVALID_REQUEST.to_vec()),
                Ok(Some((req, used))) => match napster::serve(library, &req) {
                    Err(text) => Parsed::Refuse(text),
                    Ok((file, reply)) => Parsed::Serve(
                        Serve {
                            file: file.clone(),
                            start: req.offset,
                            end: file.size,
                            reply,
                            keep_alive: false,
                        },
                        used,
                    ),
                },
            },
        }
    }
}

impl Pushed {
    /// Reads the downloader's offset from the front of `buf`, and checks that `library`
    /// still shares the announced file with the announced size.
    fn parse(&self, buf: &[u8], library: &Library) -> Parsed {
        match napster::parse_offset(buf) {
            Ok(None) => Parsed::Incomplete,
            Err(_) => Parsed::Refuse(Vec::new()),
            Ok(Some((offset, used))) => match library.by_name(&self.name) {
                Some(file) if file.size == self.size && offset <= file.size => Parsed::Serve(
                    Serve {
                        file: file.clone(),
                        start: offset,
                        end: file.size,
                        reply: Vec::new(),
                        keep_alive: false,
                    },
                    used,
                ),
                _ => Parsed::Refuse(Vec::new()),
            },
        }
    }
}

/// Where the connection stands.
enum State {
    /// Push: waiting for the downloader's `1` until the deadline.
    Greeting,
    /// Waiting for a request head until the deadline.
    Request,
    /// A request is resolved; the driver is asked for a slot.
    Claiming(Serve),
    /// A file is going out; `next` is the first byte not yet asked of the driver, `end`
    /// one past the last byte to send.
    Sending {
        file: SharedFile,
        next: u64,
        end: u64,
        keep_alive: bool,
    },
    /// Closed: every input is ignored.
    Closed,
}

/// The holder's side of one transfer connection.
///
/// Methods come in the usual kinds: `handle_*` inputs with `now`, and the `poll_*` outputs a
/// driver drains after each input. `now` must never go backwards. The `library` handed to
/// the inputs that can start a response is the one shared at that moment, so a file that
/// stops being shared is not served on a connection opened before.
pub struct Uploader {
    dialect: Dialect,
    /// What a push announces, for a push; `None` for a connection the downloader made.
    push: Option<Pushed>,
    /// Bytes received and not yet taken by a request, at most the dialect's bound.
    buf: Vec<u8>,
    state: State,
    /// Whether the driver granted an upload slot, which the connection keeps to its end.
    has_slot: bool,
    out: VecDeque<UploadStep>,
    /// When the request head being waited for is late.
    deadline: Option<Instant>,
}

impl Uploader {
    /// A connection accepted at `now`; the dialect's greeting is the first thing written.
    pub fn new(dialect: Dialect, now: Instant) -> Self {
        let mut uploader = Uploader::greeted(dialect, now);
        if !dialect.greeting().is_empty() {
            let greeting = UploadStep::Write(dialect.greeting().to_vec());
            uploader.out.push_back(greeting);
        }
        uploader
    }

    /// A connection accepted at `now` whose greeting the driver wrote already: a Napster
    /// data port writes the `1` to every connection before it can tell a download from a
    /// push.
    pub fn greeted(dialect: Dialect, now: Instant) -> Self {
        Uploader {
            dialect,
            push: None,
            buf: Vec::new(),
            state: State::Request,
            has_slot: false,
            out: VecDeque::new(),
            deadline: Some(now + HEAD_TIMEOUT),
        }
    }

    /// A push of `file` as `my_nick`, on a connection this holder made at `now` to the
    /// downloader (Napster's firewalled upload). The downloader's `1` must come within
    /// [`HEAD_TIMEOUT`], and so must its offset after the header.
    pub fn push(now: Instant, my_nick: &str, file: &SharedFile) -> Self {
        let header = napster::push_header(my_nick, &file.name, file.size);
        Uploader {
            push: Some(Pushed {
                name: file.name.clone(),
                size: file.size,
                header: Some(header),
            }),
            state: State::Greeting,
            ..Uploader::greeted(Dialect::Napster, now)
        }
    }

    /// Bytes arrived from the downloader.
    pub fn handle_received(&mut self, now: Instant, bytes: &[u8], library: &Library) {
        if matches!(self.state, State::Closed) {
            return;
        }
        self.buf.extend_from_slice(bytes);
        match self.state {
            State::Greeting => self.take_greeting(now, library),
            State::Request => self.take_request(now, library),
            // A request sent ahead waits its turn, within the same bound as any head.
            _ if self.buf.len() > self.dialect.max_request() => self.close(),
            _ => {}
        }
    }

    /// The driver's answer to [`UploadStep::Claim`].
    pub fn handle_slot(&mut self, now: Instant, granted: bool, library: &Library) {
        if !matches!(self.state, State::Claiming(_)) {
            return;
        }
        if !granted {
            if self.push.is_none() {
                self.out.push_back(UploadStep::Write(self.dialect.busy()));
            }
            return self.close();
        }
        self.has_slot = true;
        if let State::Claiming(serve) = std::mem::replace(&mut self.state, State::Closed) {
            self.begin(now, serve, library);
        }
    }

    /// The driver's answer to [`UploadStep::Read`]: the bytes, or the reason they could not
    /// be read (the file was replaced or removed), which ends the connection.
    pub fn handle_chunk(
        &mut self,
        now: Instant,
        chunk: std::io::Result<Vec<u8>>,
        library: &Library,
    ) {
        let State::Sending { next, end, .. } = &mut self.state else {
            return;
        };
        let wanted = chunk_len(*next, *end);
        match chunk {
            Ok(bytes) if bytes.len() == wanted => {
                *next += bytes.len() as u64;
                self.out.push_back(UploadStep::Write(bytes));
                self.ask_or_finish(now, library);
            }
            // A short read: the file shrank under us, and the length promised is a lie now.
            Ok(_) | Err(_) => {
                self.out
                    .push_back(UploadStep::Notice(TransferNotice::UploadFinished));
                self.close();
            }
        }
    }

    /// The connection is gone (the downloader closed it, or it broke): a file being sent
    /// is over, and so is the connection.
    pub fn handle_closed(&mut self) {
        match self.state {
            State::Closed => {}
            State::Sending { .. } => {
                self.out
                    .push_back(UploadStep::Notice(TransferNotice::UploadFinished));
                self.close();
            }
            State::Greeting | State::Request | State::Claiming(_) => self.close(),
        }
    }

    /// The deadline from [`Uploader::poll_timeout`] may have passed. Early calls do nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.deadline.is_some_and(|d| d <= now) {
            self.close();
        }
    }

    /// The next thing to do, if any.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<UploadStep> {
        self.out.pop_front()
    }

    /// When [`Uploader::handle_timeout`] is due: the head being waited for is late then.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// Push: the downloader's `1`, then `SEND` and the header; its offset comes next.
    fn take_greeting(&mut self, now: Instant, library: &Library) {
        let greeting = napster::GREETING;
        if self.buf.len() < greeting.len() {
            return;
        }
        if !self.buf.starts_with(greeting) {
            return self.close();
        }
        self.buf.drain(..greeting.len());
        if let Some((send, line)) = self.push.as_mut().and_then(|p| p.header.take()) {
            self.out.push_back(UploadStep::Write(send));
            self.out.push_back(UploadStep::Write(line));
        }
        self.state = State::Request;
        self.deadline = Some(now + HEAD_TIMEOUT);
        self.take_request(now, library);
    }

    /// Serves the request at the front of the buffer, once it is whole.
    fn take_request(&mut self, now: Instant, library: &Library) {
        let parsed = match &self.push {
            Some(pushed) => pushed.parse(&self.buf, library),
            None => self.dialect.parse(&self.buf, library),
        };
        match parsed {
            Parsed::Incomplete => {}
            Parsed::Refuse(reply) => {
                self.write(reply);
                self.close();
            }
            Parsed::Serve(serve, used) => {
                self.buf.drain(..used);
                self.deadline = None;
                if self.has_slot {
                    self.begin(now, serve, library);
                } else {
                    self.state = State::Claiming(serve);
                    self.out.push_back(UploadStep::Claim);
                }
            }
        }
    }

    /// Writes the reply and asks for the first chunk.
    fn begin(&mut self, now: Instant, serve: Serve, library: &Library) {
        self.write(serve.reply);
        self.out
            .push_back(UploadStep::Notice(TransferNotice::UploadStarted));
        self.state = State::Sending {
            file: serve.file,
            next: serve.start,
            end: serve.end,
            keep_alive: serve.keep_alive,
        };
        self.ask_or_finish(now, library);
    }

    /// Asks for the next chunk or, once every byte is out, ends the response: the
    /// connection closes, or (kept alive) waits for the next request.
    fn ask_or_finish(&mut self, now: Instant, library: &Library) {
        let State::Sending {
            file,
            next,
            end,
            keep_alive,
        } = &self.state
        else {
            return;
        };
        let len = chunk_len(*next, *end);
        if len > 0 {
            let read = UploadStep::Read {
                file: file.clone(),
                offset: *next,
                len,
            };
            return self.out.push_back(read);
        }
        let keep_alive = *keep_alive;
        self.out
            .push_back(UploadStep::Notice(TransferNotice::UploadFinished));
        if !keep_alive {
            return self.close();
        }
        self.state = State::Request;
        self.deadline = Some(now + HEAD_TIMEOUT);
        self.take_request(now, library);
    }

    /// Writes `bytes`, unless there are none (a push has no size reply and no error text).
    fn write(&mut self, bytes: Vec<u8>) {
        if !bytes.is_empty() {
            self.out.push_back(UploadStep::Write(bytes));
        }
    }

    fn close(&mut self) {
        self.state = State::Closed;
        self.deadline = None;
        self.out.push_back(UploadStep::Close);
    }
}

/// The size of the chunk that starts at `next` of a response that ends before `end`.
fn chunk_len(next: u64, end: u64) -> usize {
    usize::try_from(end.saturating_sub(next))
        .unwrap_or(usize::MAX)
        .min(READ_CHUNK)
}
