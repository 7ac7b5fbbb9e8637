//! The wire of Napster's peer-to-peer transfer on a data port (napster.txt §4.1 and
//! "firewalled downloading", PROTOCOLS.md §2.4): what each side writes and how it reads what
//! came. Whoever *accepted* the connection greets with `1`; a data port accepts two kinds.
//!
//! ```text
//! downloader                                uploader (listening on its data port)
//!     ── TCP connect ─────────────────────▶
//!     ◀──────────────────────────────── "1"                      GREETING
//!     ── "GET" ───────────────────────────▶                      request(): first write
//!     ── bob "song.mp3" 0 ────────────────▶                      request(): second write
//!                                                                parse_request() → serve()
//!     ◀──────────────────────── "443332" + file bytes from the offset
//!     or ◀───────────── "FILE NOT SHARED" / "INVALID REQUEST", then close
//! ```
//!
//! A firewalled holder (data port 0) cannot be reached, so on the server's 501 it connects
//! out to the downloader's data port, and the roles of the two writes turn around:
//!
//! ```text
//! downloader (listening on its data port)   firewalled holder
//!     ◀───────────────────────────────────── TCP connect
//!     ── "1" ─────────────────────────────▶                      GREETING
//!     ◀──────────────────────────────── "SEND"                   push_header(): first write
//!     ◀─────────────── alice "song.mp3" 443332                   push_header(): second write
//!   parse_push_header(), checked against what was asked
//!     ── "0" ─────────────────────────────▶                      offset_reply() / parse_offset()
//!     ◀──────────────────────── file bytes from the offset
//!     or ── "INVALID REQUEST" ────────────▶, then close
//! ```
//!
//! Two quirks of the protocol shape the parsers:
//!
//! - The request has **no terminator**. The uploader takes it as complete once the whole
//!   pattern `GET<nick> "<name>" <digits>` is there. That holds because the downloader
//!   writes `<nick> "<name>" <offset>` in one write, as napster.txt prescribes and
//!   [`request`] returns it; the uploader sends nothing until it answered. The push header
//!   (`SEND<nick> "<name>" <size>`) and the offset that answers it are read the same way.
//! - The size reply has no terminator either, and file bytes follow at once — and may
//!   begin with a digit. The downloader knows the size from the search result, so
//!   [`parse_size_reply`] reads exactly its digits. The size is the **whole** file's size
//!   ("the remote client will then return the file size"), whatever the offset; the bytes
//!   that follow start at the offset.
//!
//! Files are only ever found with [`Library::by_name`]: the name in a request is never
//! joined onto a path, so `../` names find nothing.

use crate::library::{Library, SharedFile};

/// What the uploader writes as soon as it accepts a data connection: ASCII `1`.
pub const GREETING: &[u8] = b"1";

/// The first write of a download request.
pub const GET: &[u8] = b"GET";

/// The first write of a firewalled holder that connected out to the downloader (a push).
pub const SEND: &[u8] = b"SEND";

/// The uploader's answer to a request for a file it does not share.
pub const FILE_NOT_SHARED: &[u8] = b"FILE NOT SHARED";

/// The uploader's answer to a request it cannot honour (an offset past the end).
pub const INVALID_REQUEST: &[u8] = b"INVALID REQUEST";

/// The uploader's answer when every upload slot is taken (Napster clients show the text and
/// try again later; the server-side queue messages, 620, are for the index server).
pub const UPLOADS_FULL: &[u8] = b"UPLOADS FULL";

/// The longest request accepted, `GET` included: a nick, a 255-byte name, quotes and a
/// 20-digit offset fit well within it.
pub const MAX_REQUEST_LEN: usize = 1024;

/// The longest error text a downloader reads before giving up on it.
pub const MAX_ERROR_LEN: usize = 256;

/// The most digits an offset has: `u64::MAX` is 20 digits long. A pusher that reads more
/// before the downloader stops is being sent something else.
pub const MAX_OFFSET_LEN: usize = 20;

/// A download request, as the uploader read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRequest {
    /// The downloader's nick.
    pub nick: String,
    /// The file asked for.
    pub name: String,
    /// Where to start, in bytes; 0 for the whole file.
    pub offset: u64,
}

/// What a firewalled holder announces when it connects out: who it is and the file it
/// will send, as the downloader read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushHeader {
    /// The holder's nick.
    pub nick: String,
    /// The file it pushes.
    pub name: String,
    /// The whole file's size, in bytes.
    pub size: u64,
}

/// Why a transfer cannot go on. The runtime closes the data connection on any of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    /// The bytes do not form a request.
    #[error("malformed transfer request: {0}")]
    Malformed(String),
    /// The request grew past [`MAX_REQUEST_LEN`] without completing.
    #[error("transfer request longer than {0} bytes")]
    TooLong(usize),
    /// The uploader answered with an error text instead of a size.
    #[error("the uploader refused: {0}")]
    Refused(String),
    /// The uploader announced a size other than the one the search reported.
    #[error("the uploader announced size {got}, expected {expected}")]
    SizeMismatch {
        /// The size from the search result.
        expected: u64,
        /// What the uploader sent, as far as it was read.
        got: String,
    },
}

/// The downloader's two writes: `GET`, then `<nick> "<name>" <offset>`.
pub fn request(my_nick: &str, name: &str, offset: u64) -> (Vec<u8>, Vec<u8>) {
    (
        GET.to_vec(),
        format!("{my_nick} \"{name}\" {offset}").into_bytes(),
    )
}

/// The uploader reads a request from `buf` (what arrived after it sent [`GREETING`]).
///
/// Returns `Ok(None)` while the request may still be incomplete, and the request with the
/// number of bytes it used once complete.
///
/// # Errors
/// [`TransferError::Malformed`] for bytes that cannot start a request (not `GET`, no quoted
/// name, an offset out of range); [`TransferError::TooLong`] past [`MAX_REQUEST_LEN`].
pub fn parse_request(buf: &[u8]) -> Result<Option<(TransferRequest, usize)>, TransferError> {
    Ok(parse_tagged(GET, buf)?.map(|(line, used)| {
        let request = TransferRequest {
            nick: line.nick,
            name: line.name,
            offset: line.number,
        };
        (request, used)
    }))
}

/// The firewalled holder's two writes: `SEND`, then `<nick> "<name>" <size>`.
pub fn push_header(my_nick: &str, name: &str, size: u64) -> (Vec<u8>, Vec<u8>) {
    (
        SEND.to_vec(),
        format!("{my_nick} \"{name}\" {size}").into_bytes(),
    )
}

/// The downloader reads a push header from `buf` (what arrived after it sent
/// [`GREETING`] to the holder that connected to it), as [`parse_request`] reads a request.
///
/// # Errors
/// As [`parse_request`], with `SEND` in place of `GET` and the size in place of the offset.
pub fn parse_push_header(buf: &[u8]) -> Result<Option<(PushHeader, usize)>, TransferError> {
    Ok(parse_tagged(SEND, buf)?.map(|(line, used)| {
        let header = PushHeader {
            nick: line.nick,
            name: line.name,
            size: line.number,
        };
        (header, used)
    }))
}

/// The downloader's answer to a push header it accepts: where to start, in ASCII decimal,
/// as its own write.
pub fn offset_reply(offset: u64) -> Vec<u8> {
    offset.to_string().into_bytes()
}

/// The firewalled holder reads the downloader's answer to its header: the offset and the
/// bytes it took, once digits are there (the downloader sends nothing more until the file
/// comes, so the digits of one write are the whole offset).
///
/// # Errors
/// [`TransferError::Refused`] for [`INVALID_REQUEST`] or any other text;
/// [`TransferError::Malformed`] for more than [`MAX_OFFSET_LEN`] digits, or digits
/// followed by something else.
pub fn parse_offset(buf: &[u8]) -> Result<Option<(u64, usize)>, TransferError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    if !first.is_ascii_digit() {
        return parse_error_text(buf).map(|()| None);
    }
    if buf.len() > MAX_OFFSET_LEN || !buf.iter().all(u8::is_ascii_digit) {
        return Err(TransferError::Malformed("offset is not a number".into()));
    }
    let offset = parse_number(buf)?;
    Ok(Some((offset, buf.len())))
}

/// `<nick> "<name>" <number>`, the one line both a request and a push header carry.
struct Line {
    nick: String,
    name: String,
    number: u64,
}

/// Reads `tag` and then a [`Line`] from `buf`, bounded by [`MAX_REQUEST_LEN`].
fn parse_tagged(tag: &[u8], buf: &[u8]) -> Result<Option<(Line, usize)>, TransferError> {
    let expected =
        || TransferError::Malformed(format!("expected {}", String::from_utf8_lossy(tag)));
    if buf.len() < tag.len() {
        return if tag.starts_with(buf) {
            Ok(None)
        } else {
            Err(expected())
        };
    }
    if !buf.starts_with(tag) {
        return Err(expected());
    }
    match parse_line(&buf[tag.len()..])? {
        Some(line) => Ok(Some((line, buf.len()))),
        None if buf.len() > MAX_REQUEST_LEN => Err(TransferError::TooLong(MAX_REQUEST_LEN)),
        None => Ok(None),
    }
}

/// Reads `<nick> "<name>" <digits>` making up all of `line`.
fn parse_line(line: &[u8]) -> Result<Option<Line>, TransferError> {
    let Some(space) = line.iter().position(|&b| b == b' ') else {
        return Ok(None);
    };
    let nick = std::str::from_utf8(&line[..space])
        .map_err(|_| TransferError::Malformed("nick is not text".into()))?;
    if nick.is_empty() {
        return Err(TransferError::Malformed("empty nick".into()));
    }
    let rest = &line[space + 1..];
    let Some(body) = rest.strip_prefix(b"\"") else {
        return if rest.is_empty() {
            Ok(None)
        } else {
            Err(TransferError::Malformed("file name is not quoted".into()))
        };
    };
    // The name ends at the last quote; after it come a space and the number's digits.
    let Some(close) = body.iter().rposition(|&b| b == b'"') else {
        return Ok(None);
    };
    let Some(digits) = body[close + 1..].strip_prefix(b" ") else {
        return Ok(None);
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Ok(None);
    }
    let name = std::str::from_utf8(&body[..close])
        .map_err(|_| TransferError::Malformed("file name is not text".into()))?;
    Ok(Some(Line {
        nick: nick.to_owned(),
        name: name.to_owned(),
        number: parse_number(digits)?,
    }))
}

/// ASCII digits as a u64.
fn parse_number(digits: &[u8]) -> Result<u64, TransferError> {
    std::str::from_utf8(digits)
        .ok()
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| TransferError::Malformed("number out of range".into()))
}

/// The uploader decides: the file and the size reply to write before its bytes, or the
/// error text to write before closing.
///
/// # Errors
/// [`FILE_NOT_SHARED`] for a name the library does not share (including any path);
/// [`INVALID_REQUEST`] for an offset past the end of the file.
pub fn serve<'a>(
    library: &'a Library,
    req: &TransferRequest,
) -> Result<(&'a SharedFile, Vec<u8>), Vec<u8>> {
    let file = library
        .by_name(&req.name)
        .ok_or_else(|| FILE_NOT_SHARED.to_vec())?;
    if req.offset > file.size {
        return Err(INVALID_REQUEST.to_vec());
    }
    Ok((file, file.size.to_string().into_bytes()))
}

/// The downloader reads the uploader's reply to its request from `buf`.
///
/// Returns `Ok(None)` until the reply can be told, then the size and the number of bytes
/// it took; the file's bytes start right after.
///
/// # Errors
/// [`TransferError::Refused`] for an error text (read up to [`MAX_ERROR_LEN`]);
/// [`TransferError::SizeMismatch`] when the digits are not `expected_size`.
pub fn parse_size_reply(
    buf: &[u8],
    expected_size: u64,
) -> Result<Option<(u64, usize)>, TransferError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    if !first.is_ascii_digit() {
        return parse_error_text(buf).map(|_| None);
    }
    let want = expected_size.to_string();
    let n = want.len().min(buf.len());
    if buf[..n] != want.as_bytes()[..n] {
        return Err(TransferError::SizeMismatch {
            expected: expected_size,
            got: digits_prefix(buf),
        });
    }
    if n < want.len() {
        return Ok(None);
    }
    Ok(Some((expected_size, want.len())))
}

/// An error text: known ones as soon as they are whole, others once they stop growing
/// past [`MAX_ERROR_LEN`]. Texts have no terminator; the uploader closes after one.
fn parse_error_text(buf: &[u8]) -> Result<(), TransferError> {
    for known in [FILE_NOT_SHARED, INVALID_REQUEST, UPLOADS_FULL] {
        if buf.starts_with(known) {
            return Err(refused(known));
        }
        if known.starts_with(buf) {
            return Ok(());
        }
    }
    if buf.iter().any(|b| !(b.is_ascii_graphic() || *b == b' ')) || buf.len() >= MAX_ERROR_LEN {
        return Err(refused(&buf[..buf.len().min(MAX_ERROR_LEN)]));
    }
    Ok(())
}

fn refused(text: &[u8]) -> TransferError {
    TransferError::Refused(String::from_utf8_lossy(text).into_owned())
}

fn digits_prefix(buf: &[u8]) -> String {
    let end = buf
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(buf.len())
        .min(20);
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library() -> Library {
        Library::synthetic([("song one.mp3", 443_332u64), ("empty.txt", 0)], 1)
    }

    #[test]
    fn the_downloader_writes_get_then_the_request_line() {
        let (a, b) = request("bob", "song one.mp3", 0);
        assert_eq!(a, b"GET");
        assert_eq!(b, b"bob \"song one.mp3\" 0");
    }

    /// napster.txt §4.2: "The uploader should then send the string "SEND" in a single
    /// packet, and then the information: <mynick> "<filename>" <size>".
    #[test]
    fn a_firewalled_holder_writes_send_then_the_header_line() {
        let (a, b) = push_header("alice", "song one.mp3", 443_332);
        assert_eq!(a, b"SEND");
        assert_eq!(b, b"alice \"song one.mp3\" 443332");
    }

    #[test]
    fn the_downloader_reads_a_push_header_only_once_whole() {
        let wire = b"SENDalice \"song one.mp3\" 443332";
        for cut in 0..wire.len() - 6 {
            assert_eq!(parse_push_header(&wire[..cut]), Ok(None), "cut {cut}");
        }
        let want = PushHeader {
            nick: "alice".into(),
            name: "song one.mp3".into(),
            size: 443_332,
        };
        assert_eq!(parse_push_header(wire), Ok(Some((want, wire.len()))));
        assert!(
            parse_push_header(b"GETalice \"a\" 1").is_err(),
            "not a push"
        );
        assert!(
            parse_push_header(b"SENDalice a 1").is_err(),
            "unquoted name"
        );
        let mut long = b"SENDalice \"".to_vec();
        long.extend(std::iter::repeat_n(b'a', MAX_REQUEST_LEN));
        assert_eq!(
            parse_push_header(&long),
            Err(TransferError::TooLong(MAX_REQUEST_LEN))
        );
    }

    /// napster.txt §4.2: "The byte offset should be sent as a single packet in plain ASCII
    /// digits", or "an error message such as "INVALID REQUEST"".
    #[test]
    fn the_offset_is_plain_ascii_digits_or_a_refusal() {
        assert_eq!(offset_reply(0), b"0");
        assert_eq!(offset_reply(1024), b"1024");
        assert_eq!(parse_offset(b""), Ok(None));
        assert_eq!(parse_offset(b"1024"), Ok(Some((1024, 4))));
        assert_eq!(parse_offset(b"INVALID REQ"), Ok(None));
        assert_eq!(
            parse_offset(b"INVALID REQUEST"),
            Err(TransferError::Refused("INVALID REQUEST".into()))
        );
        assert!(parse_offset(b"12x").is_err());
        assert!(parse_offset(b"123456789012345678901").is_err(), "21 digits");
        assert!(parse_offset(b"99999999999999999999").is_err(), "past u64");
    }

    #[test]
    fn the_uploader_reads_a_request_only_once_whole() {
        let wire = b"GETbob \"song one.mp3\" 1024";
        for cut in 0..wire.len() - 4 {
            assert_eq!(parse_request(&wire[..cut]), Ok(None), "cut {cut}");
        }
        let want = TransferRequest {
            nick: "bob".into(),
            name: "song one.mp3".into(),
            offset: 1024,
        };
        assert_eq!(parse_request(wire), Ok(Some((want, wire.len()))));
        let quoted = b"GETbob \"say \"hi\" now.mp3\" 0";
        let (req, _) = parse_request(quoted).unwrap().unwrap();
        assert_eq!(req.name, "say \"hi\" now.mp3");
    }

    #[test]
    fn the_uploader_rejects_garbage_and_bounds_the_request() {
        assert!(parse_request(b"PUT").is_err());
        assert!(parse_request(b"G3").is_err());
        assert!(parse_request(b"GET bob").is_err(), "empty nick");
        assert!(
            parse_request(b"GETbob song.mp3 0").is_err(),
            "unquoted name"
        );
        assert!(parse_request(b"GETbob \"a\" 99999999999999999999999").is_err());
        let mut long = b"GETbob \"".to_vec();
        long.extend(std::iter::repeat_n(b'a', MAX_REQUEST_LEN));
        assert_eq!(
            parse_request(&long),
            Err(TransferError::TooLong(MAX_REQUEST_LEN))
        );
    }

    #[test]
    fn serve_answers_the_whole_size_or_an_error() {
        let lib = library();
        let ask = |name: &str, offset| TransferRequest {
            nick: "bob".into(),
            name: name.into(),
            offset,
        };
        let (file, reply) = serve(&lib, &ask("Song  One.MP3", 100)).unwrap();
        assert_eq!(file.name, "song one.mp3");
        assert_eq!(reply, b"443332");
        assert_eq!(serve(&lib, &ask("empty.txt", 0)).unwrap().1, b"0");
        assert_eq!(
            serve(&lib, &ask("song one.mp3", 443_332)).unwrap().1,
            b"443332"
        );
        assert_eq!(
            serve(&lib, &ask("song one.mp3", 443_333)).unwrap_err(),
            b"INVALID REQUEST"
        );
        assert_eq!(
            serve(&lib, &ask("../song one.mp3", 0)).unwrap_err(),
            b"FILE NOT SHARED"
        );
        assert_eq!(
            serve(&lib, &ask("/etc/passwd", 0)).unwrap_err(),
            b"FILE NOT SHARED"
        );
        assert_eq!(
            serve(&lib, &ask("other.mp3", 0)).unwrap_err(),
            b"FILE NOT SHARED"
        );
    }

    #[test]
    fn the_downloader_reads_exactly_the_expected_digits() {
        assert_eq!(parse_size_reply(b"", 443_332), Ok(None));
        assert_eq!(parse_size_reply(b"4433", 443_332), Ok(None));
        // The file's first bytes happen to be digits: they are not part of the size.
        assert_eq!(
            parse_size_reply(b"44333212\xff", 443_332),
            Ok(Some((443_332, 6)))
        );
        assert_eq!(parse_size_reply(b"0", 0), Ok(Some((0, 1))));
        assert_eq!(
            parse_size_reply(b"5000", 443_332),
            Err(TransferError::SizeMismatch {
                expected: 443_332,
                got: "5000".into()
            })
        );
    }

    #[test]
    fn the_downloader_recognises_error_texts() {
        assert_eq!(parse_size_reply(b"FILE NOT", 10), Ok(None));
        assert_eq!(
            parse_size_reply(b"FILE NOT SHARED", 10),
            Err(TransferError::Refused("FILE NOT SHARED".into()))
        );
        assert_eq!(
            parse_size_reply(b"INVALID REQUEST", 10),
            Err(TransferError::Refused("INVALID REQUEST".into()))
        );
        assert!(matches!(
            parse_size_reply(b"BUSY\xff", 10),
            Err(TransferError::Refused(_))
        ));
        assert_eq!(parse_size_reply(b"SERVER BUS", 10), Ok(None));
        assert_eq!(
            parse_size_reply(b"UPLOADS FULL", 10),
            Err(TransferError::Refused("UPLOADS FULL".into()))
        );
    }
}
