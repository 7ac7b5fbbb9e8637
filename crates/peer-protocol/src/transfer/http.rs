//! The wire of Gnutella 0.4's HTTP download (PROTOCOLS.md §1.6): requests and response
//! heads, parsed and written, and [`resolve`], which maps a request to a shared file.
//!
//! ```text
//! GET /get/<index>/<name> HTTP/1.0\r\n
//! User-Agent: p2plab/0.1\r\n
//! Range: bytes=<start>-\r\n
//! Connection: Keep-Alive\r\n
//! \r\n
//! ```
//!
//! The holder answers `HTTP/1.0 200 OK` (or `206 Partial Content` for a range that is not
//! the whole file) with `Content-Length`, then the bytes; a `HEAD` gets the same head and no
//! bytes. It accepts the forms servents have sent: a trailing slash after the name or none,
//! the name percent-encoded or with raw spaces. It never builds a filesystem path
//! from the request: the index and name are looked up in the [`Library`], so `../` or an
//! unshared index can only ever give an error.

use std::ops::Range;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};
use thiserror::Error;

use crate::library::{Library, SharedFile};

/// The longest request or response head accepted, in bytes. Real heads are a few hundred.
pub const MAX_HEAD_LEN: usize = 8 * 1024;

/// The most header lines parsed in a head.
pub const MAX_HEADERS: usize = 32;

/// Characters percent-encoded in a file name inside the URI.
const NAME_ENCODE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'?')
    .add(b'<')
    .add(b'>')
    .add(b'\\');

/// What a request asks for: the file (`GET`), or only the head `GET` would send (`HEAD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The response head and the bytes.
    Get,
    /// The same response head, no body: a downloader checks size and availability first.
    Head,
}

/// A parsed download request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetRequest {
    /// `GET` or `HEAD`.
    pub method: Method,
    /// The file index from the QueryHit.
    pub index: u32,
    /// The file name, percent-decoded.
    pub name: String,
    /// The first byte wanted (`Range: bytes=<start>-`), 0 without a Range.
    pub start: u64,
    /// The last byte wanted, inclusive, from a closed `Range: bytes=<start>-<end>`; `None`
    /// asks for the rest of the file.
    pub end: Option<u64>,
    /// Whether the downloader wants the connection kept open for another request:
    /// `Connection: Keep-Alive` in HTTP/1.0, the default in HTTP/1.1.
    pub keep_alive: bool,
}

/// Why a request could not be served; each maps to an HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HttpError {
    /// Not a request we understand (400).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// No such shared file (404).
    #[error("file not shared")]
    NotFound,
    /// The range starts past the end of the file (416).
    #[error("range not satisfiable")]
    BadRange,
    /// The head is longer than [`MAX_HEAD_LEN`] (431, then the connection is closed).
    #[error("request head too large")]
    TooLarge,
    /// Every upload slot is taken (503, as Gnutella servents answer when busy); try later.
    #[error("all upload slots are busy")]
    Busy,
}

impl HttpError {
    /// The status code and reason phrase sent for this error.
    pub fn status(&self) -> (u16, &'static str) {
        match self {
            HttpError::BadRequest(_) => (400, "Bad Request"),
            HttpError::NotFound => (404, "Not Found"),
            HttpError::BadRange => (416, "Requested Range Not Satisfiable"),
            HttpError::TooLarge => (431, "Request Header Fields Too Large"),
            HttpError::Busy => (503, "Service Unavailable"),
        }
    }
}

/// Writes a download request for `start..` of file `index` called `name`, in the form
/// deployed servents parse: `/get/<index>/<name>` with no trailing slash (gtk-gnutella
/// answers 404 to one), the name percent-encoded.
pub fn encode_request(index: u32, name: &str, start: u64) -> Vec<u8> {
    let name = utf8_percent_encode(name, NAME_ENCODE);
    format!(
        "GET /get/{index}/{name} HTTP/1.0\r\nUser-Agent: p2plab/0.1\r\nRange: bytes={start}-\r\n\
         Connection: Keep-Alive\r\n\r\n"
    )
    .into_bytes()
}

/// The first line of a request: `<method> <target> <version>`.
struct RequestLine<'a> {
    method: Method,
    target: &'a str,
    /// The minor HTTP version: 0 or 1.
    minor: u8,
}

/// Reads the request line at the front of `buf`: `Ok(None)` until its line end arrives.
///
/// The last space-separated token is the version and everything between the method and it
/// is the target, so a name sent with raw spaces, as old servents did (the annotated 0.4
/// spec only says spaces "may need to be encoded"), is read whole.
fn request_line(buf: &[u8]) -> Result<Option<(RequestLine<'_>, usize)>, HttpError> {
    let Some(eol) = buf.iter().position(|&b| b == b'\n') else {
        return if buf.len() > MAX_HEAD_LEN {
            Err(HttpError::TooLarge)
        } else {
            Ok(None)
        };
    };
    let bad = |why: &str| HttpError::BadRequest(why.into());
    let line = std::str::from_utf8(&buf[..eol]).map_err(|_| bad("request line is not UTF-8"))?;
    let line = line.strip_suffix('\r').unwrap_or(line);
    let (method, rest) = line
        .split_once(' ')
        .ok_or_else(|| bad("no request target"))?;
    let (target, version) = rest
        .rsplit_once(' ')
        .ok_or_else(|| bad("no HTTP version"))?;
    let method = match method {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        _ => return Err(bad("only GET and HEAD are served")),
    };
    let minor = match version {
        "HTTP/1.0" => 0,
        "HTTP/1.1" => 1,
        _ => return Err(bad("invalid HTTP version")),
    };
    let target = target.trim_matches(' ');
    Ok(Some((
        RequestLine {
            method,
            target,
            minor,
        },
        eol + 1,
    )))
}

/// Parses a request head from the front of `buf`: `Ok(None)` until the blank line arrives.
///
/// # Errors
/// [`HttpError::BadRequest`] for anything but `GET` or `HEAD` of `/get/<index>/<name>[/]`
/// (the name raw or percent-encoded) with an optional `Range: bytes=<start>-[<end>]`,
/// [`HttpError::TooLarge`] past [`MAX_HEAD_LEN`].
pub fn parse_request(buf: &[u8]) -> Result<Option<(GetRequest, usize)>, HttpError> {
    let Some((line, line_len)) = request_line(buf)? else {
        return Ok(None);
    };
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let (used, headers) = match httparse::parse_headers(&buf[line_len..], &mut headers) {
        Ok(httparse::Status::Complete((n, headers))) => (line_len + n, headers),
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD_LEN => {
            return Err(HttpError::TooLarge)
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(HttpError::BadRequest(e.to_string())),
    };
    if used > MAX_HEAD_LEN {
        return Err(HttpError::TooLarge);
    }
    let (index, name) = parse_path(line.target)?;
    let header = |name: &str| headers.iter().find(|h| h.name.eq_ignore_ascii_case(name));
    let (start, end) = match header("range") {
        Some(h) => parse_range(h.value)?,
        None => (0, None),
    };
    let keep_alive = match header("connection") {
        Some(h) => h.value.eq_ignore_ascii_case(b"keep-alive"),
        None => line.minor == 1,
    };
    let request = GetRequest {
        method: line.method,
        index,
        name,
        start,
        end,
        keep_alive,
    };
    Ok(Some((request, used)))
}

/// `/get/<index>/<name>/` (trailing slash optional) → index and decoded name.
fn parse_path(path: &str) -> Result<(u32, String), HttpError> {
    let bad = || HttpError::BadRequest(format!("expected /get/<index>/<name>, got {path:?}"));
    let rest = path.strip_prefix("/get/").ok_or_else(bad)?;
    let (index, name) = rest.split_once('/').ok_or_else(bad)?;
    let index: u32 = index.parse().map_err(|_| bad())?;
    let name = name.strip_suffix('/').unwrap_or(name);
    let name = percent_decode_str(name)
        .decode_utf8()
        .map_err(|_| bad())?
        .into_owned();
    if name.is_empty() || name.contains(['/', '\\', '\0']) {
        return Err(HttpError::NotFound);
    }
    Ok((index, name))
}

/// `bytes=<start>-` or `bytes=<start>-<end>` → start and the inclusive end, if given.
fn parse_range(value: &[u8]) -> Result<(u64, Option<u64>), HttpError> {
    let bad = || HttpError::BadRequest("Range must be bytes=<start>-[<end>]".into());
    let value = std::str::from_utf8(value).map_err(|_| bad())?.trim();
    let spec = value.strip_prefix("bytes=").ok_or_else(bad)?;
    let (start, end) = spec.split_once('-').ok_or_else(bad)?;
    let start: u64 = start.trim().parse().map_err(|_| bad())?;
    if end.trim().is_empty() {
        return Ok((start, None));
    }
    let end: u64 = end.trim().parse().map_err(|_| bad())?;
    if end < start {
        return Err(bad());
    }
    Ok((start, Some(end)))
}

/// The shared file a request names, checked against the library, and the bytes of it to
/// send: the index and the name must agree, and the range must start inside the file. A
/// closed range that ends past the file is cut at its last byte (RFC 9110 §14.1.2).
///
/// # Errors
/// [`HttpError::NotFound`] or [`HttpError::BadRange`].
pub fn resolve<'a>(
    library: &'a Library,
    req: &GetRequest,
) -> Result<(&'a SharedFile, Range<u64>), HttpError> {
    let file = library
        .by_index(req.index, &req.name)
        .ok_or(HttpError::NotFound)?;
    if req.start > file.size || (req.start == file.size && file.size > 0) {
        return Err(HttpError::BadRange);
    }
    let end = req
        .end
        .map_or(file.size, |last| last.saturating_add(1).min(file.size));
    Ok((file, req.start..end))
}

/// The response head for the bytes `range` of a file: `200 OK` for the whole file,
/// `206 Partial Content` with `Content-Range` for any other part.
pub fn response_head(file: &SharedFile, range: &Range<u64>) -> Vec<u8> {
    let len = range.end - range.start;
    let whole = range.start == 0 && range.end == file.size;
    let status = if whole {
        "200 OK"
    } else {
        "206 Partial Content"
    };
    let mut head = format!(
        "HTTP/1.0 {status}\r\nServer: p2plab/0.1\r\nContent-Type: application/binary\r\n\
         Content-Length: {len}\r\n"
    );
    if !whole {
        head.push_str(&format!(
            "Content-Range: bytes {}-{}/{}\r\n",
            range.start,
            range.end.saturating_sub(1),
            file.size
        ));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// The full response for an error: status line, a short text body, `Content-Length`.
pub fn error_response(err: &HttpError) -> Vec<u8> {
    let (code, reason) = err.status();
    let body = format!("{err}\n");
    format!(
        "HTTP/1.0 {code} {reason}\r\nServer: p2plab/0.1\r\nContent-Type: text/plain\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A parsed response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code.
    pub status: u16,
    /// `Content-Length`, which a Gnutella servent must send.
    pub content_length: u64,
}

/// Parses a response head from the front of `buf`: `Ok(None)` until the blank line arrives.
/// Accepts the legacy status line `HTTP 200 OK` (no version) as well.
///
/// # Errors
/// [`HttpError::BadRequest`] for a malformed head or a missing `Content-Length`,
/// [`HttpError::TooLarge`] past [`MAX_HEAD_LEN`].
pub fn parse_response_head(buf: &[u8]) -> Result<Option<(ResponseHead, usize)>, HttpError> {
    // Legacy servents write "HTTP 200 OK"; give httparse the version it insists on.
    const LEGACY: &[u8] = b"HTTP ";
    if buf.starts_with(LEGACY) {
        let mut fixed = b"HTTP/1.0 ".to_vec();
        fixed.extend_from_slice(&buf[LEGACY.len()..]);
        let shift = "HTTP/1.0 ".len() - LEGACY.len();
        return Ok(parse_response_head(&fixed)?.map(|(head, used)| (head, used - shift)));
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let used = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD_LEN => {
            return Err(HttpError::TooLarge)
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(HttpError::BadRequest(e.to_string())),
    };
    let content_length = resp
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse().ok())
        .ok_or_else(|| HttpError::BadRequest("response has no Content-Length".into()))?;
    let status = resp.code.unwrap_or_default();
    Ok(Some((
        ResponseHead {
            status,
            content_length,
        },
        used,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lib() -> Library {
        Library::synthetic([("Foobar.mp3", 100u64), ("my song.ogg", 10)], 1)
    }

    fn parse(text: &str) -> Result<Option<(GetRequest, usize)>, HttpError> {
        parse_request(text.as_bytes())
    }

    #[test]
    fn parses_the_spec_example() {
        let text = "GET /get/2468/Foobar.mp3/ HTTP/1.0\r\nUser-Agent: Gnutella/0.4\r\n\
                    Range: bytes=0-\r\nConnection: Keep-Alive\r\n\r\n";
        let (req, used) = parse(text).unwrap().unwrap();
        assert_eq!(
            req,
            GetRequest {
                method: Method::Get,
                index: 2468,
                name: "Foobar.mp3".into(),
                start: 0,
                end: None,
                keep_alive: true
            }
        );
        assert_eq!(used, text.len());
    }

    #[test]
    fn writes_requests_byte_for_byte_and_reads_them_back() {
        let bytes = encode_request(1, "my song.ogg", 4);
        assert_eq!(
            bytes,
            b"GET /get/1/my%20song.ogg HTTP/1.0\r\nUser-Agent: p2plab/0.1\r\nRange: bytes=4-\r\n\
              Connection: Keep-Alive\r\n\r\n"
        );
        let (req, _) = parse_request(&bytes).unwrap().unwrap();
        assert_eq!(
            req,
            GetRequest {
                method: Method::Get,
                index: 1,
                name: "my song.ogg".into(),
                start: 4,
                end: None,
                keep_alive: true
            }
        );
    }

    /// The name as a QueryHit carries it, raw spaces and all, as old servents sent it: the
    /// last token is the version, everything between the method and it the target.
    #[test]
    fn a_name_with_raw_spaces_is_read_whole() {
        for text in [
            "GET /get/0/Hello World.txt/ HTTP/1.0\r\n\r\n",
            "GET /get/0/Hello World.txt HTTP/1.0\r\n\r\n",
            "GET /get/0/Hello%20World.txt HTTP/1.0\r\n\r\n",
        ] {
            let (req, used) = parse(text).unwrap().unwrap();
            assert_eq!(
                (req.index, req.name.as_str()),
                (0, "Hello World.txt"),
                "{text}"
            );
            assert_eq!(used, text.len());
        }
        for (text, why) in [
            ("GET /get/0/a HTTP/2.0\r\n\r\n", "invalid HTTP version"),
            ("GET /get/0/a\r\n\r\n", "no HTTP version"),
            ("GET\r\n\r\n", "no request target"),
        ] {
            assert_eq!(
                parse(text),
                Err(HttpError::BadRequest(why.into())),
                "{text}"
            );
        }
    }

    #[test]
    fn head_is_parsed_as_its_own_method() {
        let (req, _) = parse("HEAD /get/0/Foobar.mp3 HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!((req.method, req.keep_alive), (Method::Head, true));
    }

    #[test]
    fn a_closed_range_is_honoured_and_cut_at_the_end_of_the_file() {
        let lib = lib();
        let f = &lib.files()[0];
        let closed = parse("GET /get/0/Foobar.mp3 HTTP/1.0\r\nRange: bytes=1-2\r\n\r\n")
            .unwrap()
            .unwrap()
            .0;
        assert_eq!((closed.start, closed.end), (1, Some(2)));
        let (_, range) = resolve(&lib, &closed).unwrap();
        assert_eq!(range, 1..3);
        assert_eq!(
            response_head(f, &range),
            b"HTTP/1.0 206 Partial Content\r\nServer: p2plab/0.1\r\n\
              Content-Type: application/binary\r\nContent-Length: 2\r\n\
              Content-Range: bytes 1-2/100\r\n\r\n"
        );
        let past = parse("GET /get/0/Foobar.mp3 HTTP/1.0\r\nRange: bytes=90-500\r\n\r\n")
            .unwrap()
            .unwrap()
            .0;
        assert_eq!(resolve(&lib, &past).unwrap().1, 90..100);
        let whole = parse("GET /get/0/Foobar.mp3 HTTP/1.0\r\nRange: bytes=0-99\r\n\r\n")
            .unwrap()
            .unwrap()
            .0;
        let (_, range) = resolve(&lib, &whole).unwrap();
        assert!(response_head(f, &range).starts_with(b"HTTP/1.0 200 OK\r\n"));
        let beyond = parse("GET /get/0/Foobar.mp3 HTTP/1.0\r\nRange: bytes=100-200\r\n\r\n")
            .unwrap()
            .unwrap()
            .0;
        assert_eq!(resolve(&lib, &beyond), Err(HttpError::BadRange));
    }

    #[test]
    fn http_10_closes_unless_asked_to_keep_alive() {
        let close = parse("GET /get/0/a/ HTTP/1.0\r\n\r\n").unwrap().unwrap().0;
        assert!(!close.keep_alive);
        let v11 = parse("GET /get/0/a/ HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap()
            .unwrap()
            .0;
        assert!(v11.keep_alive);
        let v11_close = parse("GET /get/0/a/ HTTP/1.1\r\nConnection: close\r\n\r\n")
            .unwrap()
            .unwrap()
            .0;
        assert!(!v11_close.keep_alive);
    }

    #[test]
    fn waits_for_the_blank_line_and_bounds_the_head() {
        assert_eq!(parse("GET /get/0/Foobar.mp3/ HTTP/1.0\r\n"), Ok(None));
        let huge = format!("GET /get/0/a/ HTTP/1.0\r\nX: {}", "a".repeat(MAX_HEAD_LEN));
        assert_eq!(parse(&huge), Err(HttpError::TooLarge));
    }

    #[test]
    fn path_tricks_and_unshared_files_are_not_found() {
        let lib = lib();
        for path in [
            "/get/0/..%2F..%2Fetc%2Fpasswd/",
            "/get/0/../Foobar.mp3",
            "/get/7/Foobar.mp3/",
            "/get/1/Foobar.mp3/",
        ] {
            let text = format!("GET {path} HTTP/1.0\r\n\r\n");
            let outcome = parse(&text)
                .and_then(|r| resolve(&lib, &r.unwrap().0).map(|(f, _)| f.name.clone()));
            assert!(
                matches!(
                    outcome,
                    Err(HttpError::NotFound) | Err(HttpError::BadRequest(_))
                ),
                "{path}: {outcome:?}"
            );
        }
        let ok = parse("GET /get/0/foobar.MP3 HTTP/1.0\r\n\r\n")
            .unwrap()
            .unwrap()
            .0;
        assert_eq!(
            resolve(&lib, &ok).unwrap().0.name,
            "Foobar.mp3",
            "names compare case-folded"
        );
    }

    #[test]
    fn bad_ranges_are_refused() {
        let lib = lib();
        let past = parse("GET /get/0/Foobar.mp3/ HTTP/1.0\r\nRange: bytes=101-\r\n\r\n")
            .unwrap()
            .unwrap()
            .0;
        assert_eq!(resolve(&lib, &past), Err(HttpError::BadRange));
        for range in ["bytes=x-", "lines=1-", "bytes=9-3", "bytes=5"] {
            let text = format!("GET /get/0/Foobar.mp3/ HTTP/1.0\r\nRange: {range}\r\n\r\n");
            assert!(
                matches!(parse(&text), Err(HttpError::BadRequest(_))),
                "{range}"
            );
        }
        assert!(matches!(
            parse("POST /get/0/Foobar.mp3/ HTTP/1.0\r\n\r\n"),
            Err(HttpError::BadRequest(_))
        ));
    }

    #[test]
    fn response_heads_carry_length_and_range() {
        let lib = lib();
        let f = &lib.files()[0];
        let head = response_head(f, &(0..100));
        assert_eq!(
            head,
            b"HTTP/1.0 200 OK\r\nServer: p2plab/0.1\r\nContent-Type: application/binary\r\nContent-Length: 100\r\n\r\n"
        );
        let (parsed, used) = parse_response_head(&head).unwrap().unwrap();
        assert_eq!(
            (parsed.status, parsed.content_length, used),
            (200, 100, head.len())
        );
        let partial = String::from_utf8(response_head(f, &(60..100))).unwrap();
        assert!(partial.starts_with("HTTP/1.0 206 Partial Content\r\n"));
        assert!(partial.contains("Content-Length: 40\r\nContent-Range: bytes 60-99/100\r\n"));
    }

    #[test]
    fn legacy_status_lines_and_errors_parse() {
        let legacy = b"HTTP 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        let (head, used) = parse_response_head(legacy).unwrap().unwrap();
        assert_eq!((head.status, head.content_length), (200, 5));
        assert_eq!(&legacy[used..], b"hello");
        let err = error_response(&HttpError::NotFound);
        let (head, used) = parse_response_head(&err).unwrap().unwrap();
        assert_eq!(head.status, 404);
        assert_eq!(err.len() - used, head.content_length as usize);
        assert!(
            parse_response_head(b"HTTP/1.0 200 OK\r\n\r\n").is_err(),
            "Content-Length is required"
        );
    }
}
