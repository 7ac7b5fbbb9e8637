//! The wire of Gnutella 0.4's HTTP download (PROTOCOLS.md §1.6): requests and response
//! heads, parsed and written, and [`resolve`], which maps a request to a shared file.
//!
//! ```text
//! GET /get/<index>/<name>/ HTTP/1.0\r\n
//! User-Agent: p2plab/0.1\r\n
//! Range: bytes=<start>-\r\n
//! Connection: Keep-Alive\r\n
//! \r\n
//! ```
//!
//! The holder answers `HTTP/1.0 200 OK` (or `206 Partial Content` for a range that does
//! not start at 0) with `Content-Length`, then the bytes. It never builds a filesystem path
//! from the request: the index and name are looked up in the [`Library`], so `../` or an
//! unshared index can only ever give an error.

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

/// A parsed download request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetRequest {
    /// The file index from the QueryHit.
    pub index: u32,
    /// The file name, percent-decoded.
    pub name: String,
    /// The first byte wanted (`Range: bytes=<start>-`), 0 without a Range.
    pub start: u64,
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

/// Writes a download request for `start..` of file `index` called `name`.
pub fn encode_request(index: u32, name: &str, start: u64) -> Vec<u8> {
    let name = utf8_percent_encode(name, NAME_ENCODE);
    format!(
        "GET /get/{index}/{name}/ HTTP/1.0\r\nUser-Agent: p2plab/0.1\r\nRange: bytes={start}-\r\n\
         Connection: Keep-Alive\r\n\r\n"
    )
    .into_bytes()
}

/// Parses a request head from the front of `buf`: `Ok(None)` until the blank line arrives.
///
/// # Errors
/// [`HttpError::BadRequest`] for anything but `GET /get/<index>/<name>[/]` with an optional
/// `Range: bytes=<start>-[<end>]`, [`HttpError::TooLarge`] past [`MAX_HEAD_LEN`].
pub fn parse_request(buf: &[u8]) -> Result<Option<(GetRequest, usize)>, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let used = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD_LEN => {
            return Err(HttpError::TooLarge)
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(HttpError::BadRequest(e.to_string())),
    };
    if req.method != Some("GET") {
        return Err(HttpError::BadRequest("only GET is served".into()));
    }
    let (index, name) = parse_path(req.path.unwrap_or_default())?;
    let header = |name: &str| {
        req.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
    };
    let start = match header("range") {
        Some(h) => parse_range(h.value)?,
        None => 0,
    };
    let keep_alive = match header("connection") {
        Some(h) => h.value.eq_ignore_ascii_case(b"keep-alive"),
        None => req.version == Some(1),
    };
    Ok(Some((
        GetRequest {
            index,
            name,
            start,
            keep_alive,
        },
        used,
    )))
}

/// `/get/<index>/<name>/` (trailing slash optional) → index and decoded name.
fn parse_path(path: &str) -> Result<(u32, String), HttpError> {
    let bad = || HttpError::BadRequest(format!("expected /get/<index>/<name>/, got {path:?}"));
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

/// `bytes=<start>-` or `bytes=<start>-<end>` → start. (The end is ignored: we send to EOF.)
fn parse_range(value: &[u8]) -> Result<u64, HttpError> {
    let bad = || HttpError::BadRequest("Range must be bytes=<start>-[<end>]".into());
    let value = std::str::from_utf8(value).map_err(|_| bad())?.trim();
    let spec = value.strip_prefix("bytes=").ok_or_else(bad)?;
    let (start, end) = spec.split_once('-').ok_or_else(bad)?;
    let start: u64 = start.trim().parse().map_err(|_| bad())?;
    if !end.trim().is_empty() {
        let end: u64 = end.trim().parse().map_err(|_| bad())?;
        if end < start {
            return Err(bad());
        }
    }
    Ok(start)
}

/// The shared file a request names, checked against the library: the index and the name
/// must agree, and the range must start inside the file.
///
/// # Errors
/// [`HttpError::NotFound`] or [`HttpError::BadRange`].
pub fn resolve<'a>(library: &'a Library, req: &GetRequest) -> Result<&'a SharedFile, HttpError> {
    let file = library
        .by_index(req.index, &req.name)
        .ok_or(HttpError::NotFound)?;
    if req.start > file.size || (req.start == file.size && file.size > 0) {
        return Err(HttpError::BadRange);
    }
    Ok(file)
}

/// The response head for a file served from `start`.
pub fn response_head(file: &SharedFile, start: u64) -> Vec<u8> {
    let len = file.size - start;
    let status = if start == 0 {
        "200 OK"
    } else {
        "206 Partial Content"
    };
    let mut head = format!(
        "HTTP/1.0 {status}\r\nServer: p2plab/0.1\r\nContent-Type: application/binary\r\n\
         Content-Length: {len}\r\n"
    );
    if start > 0 {
        head.push_str(&format!(
            "Content-Range: bytes {start}-{}/{}\r\n",
            file.size - 1,
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
                index: 2468,
                name: "Foobar.mp3".into(),
                start: 0,
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
            b"GET /get/1/my%20song.ogg/ HTTP/1.0\r\nUser-Agent: p2plab/0.1\r\nRange: bytes=4-\r\n\
              Connection: Keep-Alive\r\n\r\n"
        );
        let (req, _) = parse_request(&bytes).unwrap().unwrap();
        assert_eq!(
            req,
            GetRequest {
                index: 1,
                name: "my song.ogg".into(),
                start: 4,
                keep_alive: true
            }
        );
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
            let outcome =
                parse(&text).and_then(|r| resolve(&lib, &r.unwrap().0).map(|f| f.name.clone()));
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
            resolve(&lib, &ok).unwrap().name,
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
        let head = response_head(f, 0);
        assert_eq!(
            head,
            b"HTTP/1.0 200 OK\r\nServer: p2plab/0.1\r\nContent-Type: application/binary\r\nContent-Length: 100\r\n\r\n"
        );
        let (parsed, used) = parse_response_head(&head).unwrap().unwrap();
        assert_eq!(
            (parsed.status, parsed.content_length, used),
            (200, 100, head.len())
        );
        let partial = String::from_utf8(response_head(f, 60)).unwrap();
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
