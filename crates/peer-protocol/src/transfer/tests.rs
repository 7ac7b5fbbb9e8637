//! The two transfer cores against each other, on a pair of in-memory byte pipes with a
//! jumping clock: no socket, no sleep. Each write lands [`LATENCY`] later, in order.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use super::*;
use crate::library::Library;
use crate::node::{Download, TransferNotice};
use crate::time::Instant;

/// One-way delay of both pipes.
const LATENCY: Duration = Duration::from_millis(5);

/// The most steps one drive may take: a livelock fails the test instead of hanging it.
const MAX_STEPS: usize = 10_000;

/// What lands at one end of the connection.
#[derive(Debug)]
enum Arrival {
    AtHolder(Vec<u8>),
    AtDownloader(Vec<u8>),
    HolderClosed,
}

/// An uploader and (at most) one downloader at a time on one connection.
struct Pair {
    now: Instant,
    library: Library,
    up: Uploader,
    down: Option<Downloader>,
    /// Bytes and closes in flight, in arrival order (one latency for all keeps it sorted).
    wire: VecDeque<(Instant, Arrival)>,
    /// Whether the driver grants the upload slot the uploader claims.
    slot_free: bool,
    claims: usize,
    notices: Vec<TransferNotice>,
    /// Where the download under way starts.
    start: u64,
    /// What the downloader delivered, checked to come in order.
    file: Vec<u8>,
    /// What reached the downloader's end, raw (for tests without a downloader).
    raw: Vec<u8>,
    /// What reached the holder's end, raw.
    to_holder: Vec<u8>,
    done: Option<(Instant, Result<u64, DownloadError>)>,
    /// When the uploader closed, if it did.
    up_closed: Option<Instant>,
}

impl Pair {
    fn new(dialect: Dialect, library: Library) -> Self {
        Pair {
            now: Instant::ZERO,
            library,
            up: Uploader::new(dialect, Instant::ZERO),
            down: None,
            wire: VecDeque::new(),
            slot_free: true,
            claims: 0,
            notices: Vec::new(),
            start: 0,
            file: Vec::new(),
            raw: Vec::new(),
            to_holder: Vec::new(),
            done: None,
            up_closed: None,
        }
    }

    /// A firewalled holder, `alice`, that has connected out to push `name` of `library`.
    fn pushing(library: Library, name: &str) -> Self {
        let file = library
            .by_name(name)
            .expect("the pushed file is shared")
            .clone();
        Pair {
            up: Uploader::push(Instant::ZERO, "alice", &file),
            ..Pair::new(Dialect::Napster, library)
        }
    }

    /// Starts a download on the connection (which is up: it connects at once).
    fn download(&mut self, download: &Download, size: u64, start: u64) -> &mut Self {
        let mut down = Downloader::new(self.now, download, size, start);
        down.handle_connected(self.now);
        self.down = Some(down);
        self.start = start;
        self.file.clear();
        self.done = None;
        self
    }

    /// Writes raw bytes towards the holder, as a hand-made client would.
    fn send_raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.wire
            .push_back((self.now + LATENCY, Arrival::AtHolder(bytes.to_vec())));
        self
    }

    /// Runs for virtual time `limit`, or until nothing is left to happen.
    fn run_for(&mut self, limit: Duration) -> &mut Self {
        self.run(limit, false)
    }

    /// Runs until the download ends, or as [`Pair::run_for`].
    fn run_until_done(&mut self, limit: Duration) -> &mut Self {
        self.run(limit, true)
    }

    fn run(&mut self, limit: Duration, until_done: bool) -> &mut Self {
        let until = self.now + limit;
        for _ in 0..MAX_STEPS {
            self.pump();
            if until_done && self.done.is_some() {
                return self;
            }
            let timers = [
                self.up.poll_timeout(),
                self.down.as_ref().and_then(Downloader::poll_timeout),
            ];
            let next = timers
                .into_iter()
                .flatten()
                .chain(self.wire.front().map(|(t, _)| *t))
                .min();
            let Some(next) = next.filter(|t| *t <= until) else {
                self.now = self.now.max(until);
                return self;
            };
            self.now = self.now.max(next);
            self.step();
        }
        panic!("more than {MAX_STEPS} steps: livelock?");
    }

    /// Delivers what is due now, or fires the timers.
    fn step(&mut self) {
        if self.wire.front().is_some_and(|(t, _)| *t <= self.now) {
            let (_, arrival) = self.wire.pop_front().expect("front was just seen");
            return match arrival {
                Arrival::AtHolder(bytes) => {
                    self.to_holder.extend_from_slice(&bytes);
                    self.up.handle_received(self.now, &bytes, &self.library)
                }
                Arrival::AtDownloader(bytes) => {
                    self.raw.extend_from_slice(&bytes);
                    if let Some(down) = &mut self.down {
                        down.handle_received(self.now, &bytes);
                    }
                }
                Arrival::HolderClosed => {
                    if let Some(down) = &mut self.down {
                        down.handle_closed();
                    }
                }
            };
        }
        self.up.handle_timeout(self.now);
        if let Some(down) = &mut self.down {
            down.handle_timeout(self.now);
        }
    }

    /// Carries out everything both cores ask for.
    fn pump(&mut self) {
        while let Some(step) = self.up.poll_output() {
            let at = self.now + LATENCY;
            match step {
                UploadStep::Write(bytes) => self.wire.push_back((at, Arrival::AtDownloader(bytes))),
                UploadStep::Read { file, offset, len } => {
                    let chunk = file.read_at(offset, len);
                    self.up.handle_chunk(self.now, chunk, &self.library);
                }
                UploadStep::Claim => {
                    self.claims += 1;
                    self.up.handle_slot(self.now, self.slot_free, &self.library);
                }
                UploadStep::Notice(notice) => self.notices.push(notice),
                UploadStep::Close => {
                    self.up_closed = Some(self.now);
                    self.wire.push_back((at, Arrival::HolderClosed));
                }
            }
        }
        let Some(down) = &mut self.down else {
            return;
        };
        while let Some(step) = down.poll_output() {
            match step {
                DownloadStep::Write(bytes) => self
                    .wire
                    .push_back((self.now + LATENCY, Arrival::AtHolder(bytes))),
                DownloadStep::Deliver { offset, bytes } => {
                    let expected = self.start + self.file.len() as u64;
                    assert_eq!(offset, expected, "delivered out of order");
                    self.file.extend_from_slice(&bytes);
                }
                DownloadStep::Done(result) => self.done = Some((self.now, result)),
            }
        }
    }

    fn result(&self) -> Result<u64, DownloadError> {
        self.done.clone().expect("the download never ended").1
    }
}

fn holder() -> SocketAddr {
    "10.0.0.2:6346".parse().expect("a valid address")
}

fn http(index: u32, name: &str) -> Download {
    Download::Http {
        addr: holder(),
        index,
        name: name.into(),
    }
}

fn napster(name: &str) -> Download {
    Download::Napster {
        addr: holder(),
        my_nick: "bob".into(),
        name: name.into(),
    }
}

fn push(holder: &str, name: &str) -> Download {
    Download::NapsterPush {
        holder: holder.into(),
        name: name.into(),
    }
}

/// A file over three chunks, an empty one, and a small one.
fn library() -> Library {
    Library::synthetic(
        [
            ("big song.mp3", 2 * READ_CHUNK as u64 + 1000),
            ("empty.txt", 0),
            ("small.ogg", 300),
        ],
        7,
    )
}

fn bytes_of(library: &Library, index: usize) -> Vec<u8> {
    library.files()[index]
        .read_all()
        .expect("synthetic files read")
}

const MINUTE: Duration = Duration::from_secs(60);

#[test]
fn a_whole_file_crosses_in_order_in_chunks() {
    let lib = library();
    let want = bytes_of(&lib, 0);
    let mut pair = Pair::new(Dialect::Http, lib);
    pair.download(&http(0, "big song.mp3"), want.len() as u64, 0)
        .run_for(MINUTE);
    assert_eq!(pair.result(), Ok(want.len() as u64));
    assert_eq!(pair.file, want);
    assert_eq!(
        pair.notices,
        [
            TransferNotice::UploadStarted,
            TransferNotice::UploadFinished
        ]
    );
    // Request there, reply back: one round trip, all chunks riding it (no bandwidth model).
    assert_eq!(
        pair.done.as_ref().map(|d| d.0),
        Some(Instant::ZERO + 2 * LATENCY)
    );
    assert_eq!(
        pair.up_closed,
        Some(Instant::ZERO + LATENCY + HEAD_TIMEOUT),
        "kept alive after the response, until no next request came"
    );
}

#[test]
fn a_resumed_range_brings_only_the_rest() {
    let lib = library();
    let want = bytes_of(&lib, 0);
    for dialect in [Dialect::Http, Dialect::Napster] {
        let mut pair = Pair::new(dialect, lib.clone());
        let download = match dialect {
            Dialect::Http => http(0, "big song.mp3"),
            Dialect::Napster => napster("big song.mp3"),
        };
        pair.download(&download, want.len() as u64, 70_000)
            .run_for(MINUTE);
        assert_eq!(pair.result(), Ok(want.len() as u64 - 70_000), "{dialect:?}");
        assert_eq!(pair.file, want[70_000..], "{dialect:?}");
    }
}

#[test]
fn an_unshared_name_or_index_is_a_404_and_closes() {
    for download in [
        http(0, "other.mp3"),
        http(2, "big song.mp3"),
        http(9, "small.ogg"),
    ] {
        let mut pair = Pair::new(Dialect::Http, library());
        pair.download(&download, 300, 0).run_for(MINUTE);
        assert_eq!(
            pair.result(),
            Err(DownloadError::Status(404)),
            "{download:?}"
        );
        assert!(pair.up_closed.is_some());
        assert_eq!(pair.claims, 0, "no slot is spent on a refusal");
        assert!(pair.notices.is_empty());
    }
}

#[test]
fn a_holder_announcing_another_size_than_the_hit_is_refused() {
    let mut pair = Pair::new(Dialect::Http, library());
    pair.download(&http(2, "small.ogg"), 301, 0).run_for(MINUTE);
    assert_eq!(
        pair.result(),
        Err(DownloadError::SizeMismatch {
            announced: "300".into(),
            expected: 301
        })
    );
    assert!(pair.file.is_empty(), "no byte of a lying holder is kept");

    let mut pair = Pair::new(Dialect::Napster, library());
    pair.download(&napster("small.ogg"), 3000, 0)
        .run_for(MINUTE);
    assert!(
        matches!(
            pair.result(),
            Err(DownloadError::SizeMismatch { expected: 3000, .. })
        ),
        "{:?}",
        pair.result()
    );
}

/// `HEAD` gets exactly the head `GET` would, and no body, and the connection stays usable.
#[test]
fn head_answers_like_get_without_the_body() {
    let lib = library();
    let mut get = Pair::new(Dialect::Http, lib.clone());
    get.send_raw(b"GET /get/2/small.ogg HTTP/1.0\r\n\r\n")
        .run_for(MINUTE);
    let head_len = get.raw.len() - 300;
    let mut head = Pair::new(Dialect::Http, lib);
    head.send_raw(b"HEAD /get/2/small.ogg HTTP/1.0\r\n\r\n")
        .run_for(MINUTE);
    assert_eq!(head.raw, get.raw[..head_len]);
    assert!(head
        .raw
        .starts_with(b"HTTP/1.0 200 OK\r\nServer: p2plab/0.1\r\n"));
    assert!(String::from_utf8_lossy(&head.raw).contains("Content-Length: 300\r\n"));
    assert_eq!(
        head.up_closed,
        Some(Instant::ZERO + LATENCY),
        "HTTP/1.0: closed"
    );
}

/// `Range: bytes=1-2` is two bytes, not the rest of the file.
#[test]
fn a_closed_range_sends_exactly_its_bytes() {
    let lib = library();
    let want = bytes_of(&lib, 2);
    let mut pair = Pair::new(Dialect::Http, lib);
    pair.send_raw(b"GET /get/2/small.ogg HTTP/1.0\r\nRange: bytes=1-2\r\n\r\n")
        .run_for(MINUTE);
    let mut expected = b"HTTP/1.0 206 Partial Content\r\nServer: p2plab/0.1\r\n\
        Content-Type: application/binary\r\nContent-Length: 2\r\n\
        Content-Range: bytes 1-2/300\r\n\r\n"
        .to_vec();
    expected.extend_from_slice(&want[1..3]);
    assert_eq!(pair.raw, expected);
}

#[test]
fn a_head_that_never_ends_is_closed_at_its_deadline() {
    let mut pair = Pair::new(Dialect::Http, library());
    pair.send_raw(b"GET /get/2/small.ogg HTTP/1.0\r\nX-Drip: ")
        .run_for(MINUTE);
    assert_eq!(pair.up_closed, Some(Instant::ZERO + HEAD_TIMEOUT));
    assert!(pair.raw.is_empty(), "closed without an answer");
}

#[test]
fn a_holder_that_stops_sending_stalls_the_download() {
    let mut pair = Pair::new(Dialect::Http, library());
    // The request is lost on the way: nobody ever answers.
    pair.download(&http(2, "small.ogg"), 300, 0).pump();
    pair.wire.clear();
    pair.run_for(MINUTE);
    let (at, result) = pair.done.clone().expect("the download ended");
    assert_eq!(result, Err(DownloadError::Stalled));
    assert_eq!(at, Instant::ZERO + STALL_TIMEOUT);
}

#[test]
fn keep_alive_serves_two_files_in_a_row_on_one_slot() {
    let lib = library();
    let (big, small) = (bytes_of(&lib, 0), bytes_of(&lib, 2));
    let mut pair = Pair::new(Dialect::Http, lib);
    pair.download(&http(0, "big song.mp3"), big.len() as u64, 0)
        .run_until_done(MINUTE);
    assert_eq!(pair.file, big);
    pair.download(&http(2, "small.ogg"), 300, 0)
        .run_until_done(MINUTE);
    assert_eq!(pair.result(), Ok(300));
    assert_eq!(pair.file, small);
    assert_eq!(pair.claims, 1, "the slot is kept between requests");
    assert_eq!(pair.notices.len(), 4, "each file starts and finishes");
    // Idle again: the next head is waited for HEAD_TIMEOUT, then the connection goes.
    let idle_since = pair.now;
    pair.run_for(MINUTE);
    assert!(pair
        .up_closed
        .is_some_and(|t| t <= idle_since + HEAD_TIMEOUT));
}

#[test]
fn a_full_house_answers_503_or_uploads_full() {
    for (dialect, download) in [
        (Dialect::Http, http(2, "small.ogg")),
        (Dialect::Napster, napster("small.ogg")),
    ] {
        let mut pair = Pair::new(dialect, library());
        pair.slot_free = false;
        pair.download(&download, 300, 0).run_for(MINUTE);
        let refused = match dialect {
            Dialect::Http => DownloadError::Status(503),
            Dialect::Napster => DownloadError::Refused("the uploader refused: UPLOADS FULL".into()),
        };
        assert_eq!(pair.result(), Err(refused));
        assert!(pair.up_closed.is_some());
    }
}

#[test]
fn napster_greets_serves_one_file_and_closes() {
    let lib = library();
    let want = bytes_of(&lib, 0);
    let mut pair = Pair::new(Dialect::Napster, lib);
    pair.download(&napster("BIG SONG.mp3"), want.len() as u64, 0)
        .run_for(MINUTE);
    assert_eq!(pair.result(), Ok(want.len() as u64));
    assert_eq!(pair.file, want);
    let size = want.len().to_string();
    assert!(pair.raw.starts_with(format!("1{size}").as_bytes()));
    assert!(pair.up_closed.is_some(), "one file per data connection");
}

#[test]
fn napster_refuses_an_unshared_name_with_its_text() {
    let mut pair = Pair::new(Dialect::Napster, library());
    pair.download(&napster("../etc/passwd"), 10, 0)
        .run_for(MINUTE);
    assert_eq!(
        pair.result(),
        Err(DownloadError::Refused(
            "the uploader refused: FILE NOT SHARED".into()
        ))
    );
}

#[test]
fn a_napster_file_whose_bytes_begin_with_digits_arrives_whole() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("digits.txt"), b"2024 was a year").expect("written");
    let lib = Library::from_dir(dir.path()).expect("the folder is shared");
    let mut pair = Pair::new(Dialect::Napster, lib);
    pair.download(&napster("digits.txt"), 15, 0).run_for(MINUTE);
    assert_eq!(pair.result(), Ok(15));
    assert_eq!(pair.file, b"2024 was a year");
    assert_eq!(
        pair.raw, b"1152024 was a year",
        "greeting, size, then the bytes"
    );
}

#[test]
fn a_connection_lost_mid_file_still_ends_the_upload() {
    let lib = library();
    let now = Instant::ZERO;
    let mut up = Uploader::new(Dialect::Http, now);
    up.handle_received(now, &encode_request(0, "big song.mp3", 0), &lib);
    assert_eq!(up.poll_output(), Some(UploadStep::Claim));
    up.handle_slot(now, true, &lib);
    let steps: Vec<UploadStep> = std::iter::from_fn(|| up.poll_output()).collect();
    assert!(
        matches!(
            steps.as_slice(),
            [
                UploadStep::Write(_),
                UploadStep::Notice(TransferNotice::UploadStarted),
                UploadStep::Read { offset: 0, .. }
            ]
        ),
        "{steps:?}"
    );
    // The driver's write fails before the chunk is read: the upload is over all the same.
    up.handle_closed();
    let steps: Vec<UploadStep> = std::iter::from_fn(|| up.poll_output()).collect();
    assert_eq!(
        steps,
        [
            UploadStep::Notice(TransferNotice::UploadFinished),
            UploadStep::Close
        ]
    );
}

#[test]
fn an_empty_file_is_a_finished_download() {
    for (dialect, download) in [
        (Dialect::Http, http(1, "empty.txt")),
        (Dialect::Napster, napster("empty.txt")),
    ] {
        let mut pair = Pair::new(dialect, library());
        pair.download(&download, 0, 0).run_for(MINUTE);
        assert_eq!(pair.result(), Ok(0), "{dialect:?}");
    }
}

#[test]
fn a_holder_that_closes_mid_file_truncates_the_download() {
    let lib = library();
    let size = bytes_of(&lib, 0).len() as u64;
    let mut pair = Pair::new(Dialect::Http, lib);
    pair.download(&http(0, "big song.mp3"), size, 0);
    // Deliver the request and the head, then cut the connection after the first chunk.
    pair.run_for(LATENCY * 3 / 2);
    pair.wire.truncate(2);
    pair.wire
        .push_back((pair.now + LATENCY, Arrival::HolderClosed));
    pair.run_for(MINUTE);
    assert_eq!(
        pair.result(),
        Err(DownloadError::Truncated {
            received: READ_CHUNK as u64,
            expected: size
        })
    );
}

/// napster.txt §4.2, both ends' bytes: the downloader greets with `1` and answers the
/// holder's `SEND` and header with its offset; the file's bytes follow, with no size reply.
#[test]
fn a_push_greets_announces_and_sends_from_the_offset_asked() {
    let lib = library();
    let want = bytes_of(&lib, 2);
    for start in [0, 120] {
        let mut pair = Pair::pushing(lib.clone(), "small.ogg");
        pair.download(&push("ALICE", "small.ogg"), 300, start)
            .run_for(MINUTE);
        assert_eq!(pair.result(), Ok(300 - start));
        assert_eq!(pair.file, want[start as usize..]);
        assert_eq!(pair.to_holder, format!("1{start}").as_bytes());
        let mut wire = b"SENDalice \"small.ogg\" 300".to_vec();
        wire.extend_from_slice(&want[start as usize..]);
        assert_eq!(pair.raw, wire, "start {start}");
        assert_eq!(
            pair.notices,
            [
                TransferNotice::UploadStarted,
                TransferNotice::UploadFinished
            ]
        );
        assert!(pair.up_closed.is_some(), "one file per push");
    }
}

#[test]
fn a_push_of_another_file_or_size_is_answered_invalid_request() {
    for (download, size) in [
        (push("alice", "big song.mp3"), 300),
        (push("mallory", "small.ogg"), 300),
        (push("alice", "small.ogg"), 301),
    ] {
        let mut pair = Pair::pushing(library(), "small.ogg");
        pair.download(&download, size, 0).run_for(MINUTE);
        assert!(pair.result().is_err(), "{download:?} {size}");
        assert_eq!(pair.to_holder, b"1INVALID REQUEST");
        assert!(pair.file.is_empty());
        assert!(pair.notices.is_empty(), "nothing was uploaded");
        assert!(pair.up_closed.is_some());
    }
}

#[test]
fn a_pusher_never_greeted_or_never_answered_gives_up() {
    let mut silent = Pair::pushing(library(), "small.ogg");
    silent.run_for(MINUTE);
    assert!(silent.up_closed.is_some(), "no `1` within the head timeout");
    assert!(
        silent.raw.is_empty(),
        "nothing announced before the greeting"
    );

    let mut pair = Pair::pushing(library(), "small.ogg");
    pair.send_raw(b"1").run_for(MINUTE);
    assert_eq!(pair.raw, b"SENDalice \"small.ogg\" 300");
    assert!(
        pair.up_closed.is_some(),
        "no offset within the head timeout"
    );
    assert!(pair.notices.is_empty());
}

#[test]
fn a_push_nobody_connects_for_times_out() {
    let mut down = Downloader::new(Instant::ZERO, &push("alice", "small.ogg"), 300, 0);
    assert_eq!(down.poll_timeout(), Some(Instant::ZERO + PUSH_TIMEOUT));
    down.handle_timeout(Instant::ZERO + PUSH_TIMEOUT);
    assert_eq!(
        down.poll_output(),
        Some(DownloadStep::Done(Err(DownloadError::Stalled)))
    );
}

#[test]
fn a_file_unshared_before_the_offset_comes_is_not_pushed() {
    let mut pair = Pair::pushing(library(), "small.ogg");
    pair.library = Library::synthetic([("small.ogg", 299)], 7);
    pair.download(&push("alice", "small.ogg"), 300, 0)
        .run_for(MINUTE);
    assert_eq!(
        pair.result(),
        Err(DownloadError::Truncated {
            received: 0,
            expected: 300
        })
    );
    assert!(pair.notices.is_empty(), "nothing was uploaded");
    assert!(pair.up_closed.is_some());
}
