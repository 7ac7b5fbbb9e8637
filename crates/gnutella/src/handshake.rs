//! The text handshake that opens every Gnutella connection, before any descriptor.
//!
//! Gnutella 0.6, which this servent speaks when it dials, because every servent still
//! alive does (gtk-gnutella closes a 0.4 `CONNECT` without a word): three blocks of
//! `\r\n`-terminated lines, each ended by an empty line.
//!
//! ```text
//! client → server   GNUTELLA CONNECT/0.6\r\n  User-Agent: X\r\n ... \r\n
//! server → client   GNUTELLA/0.6 200 OK\r\n   User-Agent: Y\r\n ... \r\n   (or 4xx/5xx)
//! client → server   GNUTELLA/0.6 200 OK\r\n   (optional headers) \r\n
//! ```
//!
//! Gnutella 0.4, which it accepts, and dials only a peer that refused 0.6:
//!
//! ```text
//! client → server   GNUTELLA CONNECT/0.4\n\n      (22 bytes)
//! server → client   GNUTELLA OK\n\n               (13 bytes; anything else is a refusal)
//! ```
//!
//! Binary descriptors follow at once. Both shapes are the same thing — a block of lines ended by
//! an empty line — so one reader serves both; it accepts LF or CRLF endings, while what this
//! servent writes for 0.4 uses LF only, as the spec requires.

use std::net::SocketAddr;
use std::time::Duration;

use thiserror::Error;

use crate::{MAX_HANDSHAKE_LEN, USER_AGENT};

/// What a 0.4 client sends first.
pub const CONNECT_04: &[u8] = b"GNUTELLA CONNECT/0.4\n\n";

/// A 0.4 server's acceptance.
pub const OK_04: &[u8] = b"GNUTELLA OK\n\n";

/// Every Gnutella handshake begins with this; a connection that does not is closed.
pub const GNUTELLA: &[u8] = b"GNUTELLA";

/// Why a handshake failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HandshakeError {
    /// The peer's first bytes are not `GNUTELLA`.
    #[error("not a gnutella handshake")]
    NotGnutella,
    /// No empty line within [`MAX_HANDSHAKE_LEN`] bytes.
    #[error("handshake longer than {MAX_HANDSHAKE_LEN} bytes")]
    TooLong,
    /// The block is not text.
    #[error("handshake is not text")]
    NotText,
}

/// One block of handshake lines: a first line and `Name: value` headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The first line, without its ending.
    pub first_line: String,
    /// The headers in order; names as sent.
    pub headers: Vec<(String, String)>,
}

/// What a handshake block says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Greeting {
    /// `GNUTELLA CONNECT/0.4`.
    Connect04,
    /// `GNUTELLA CONNECT/0.6` with headers.
    Connect06,
    /// `GNUTELLA OK` (0.4 acceptance).
    Ok04,
    /// `GNUTELLA/0.6 <code> <reason>`; only the code matters.
    Status06(u16),
    /// Anything else.
    Other,
}

impl Block {
    /// The value of header `name`, compared without case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// What the block says.
    pub fn greeting(&self) -> Greeting {
        let line = self.first_line.trim_end();
        match line {
            "GNUTELLA CONNECT/0.4" => Greeting::Connect04,
            "GNUTELLA CONNECT/0.6" => Greeting::Connect06,
            "GNUTELLA OK" => Greeting::Ok04,
            _ => line
                .strip_prefix("GNUTELLA/0.6 ")
                .and_then(|rest| rest.get(..3))
                .and_then(|code| code.parse().ok())
                .map_or(Greeting::Other, Greeting::Status06),
        }
    }

    /// True when the peer reads deflate: `Accept-Encoding` lists `deflate`.
    pub fn accepts_deflate(&self) -> bool {
        self.lists("Accept-Encoding", "deflate")
    }

    /// True when the peer compresses what it sends from now on: `Content-Encoding: deflate`.
    pub fn sends_deflate(&self) -> bool {
        self.lists("Content-Encoding", "deflate")
    }

    /// True when header `name` is a comma-separated list holding `token` (without case).
    fn lists(&self, name: &str, token: &str) -> bool {
        self.header(name)
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    }

    /// How long a refusing peer asks us to wait (`Retry-After: <seconds>`), if it says.
    pub fn retry_after(&self) -> Option<Duration> {
        let secs: u64 = self.header("Retry-After")?.trim().parse().ok()?;
        Some(Duration::from_secs(secs))
    }

    /// The peer's listening address, from `Listen-IP`, `X-My-Address` or `Node`.
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        ["Listen-IP", "X-My-Address", "Node"]
            .iter()
            .find_map(|h| self.header(h)?.trim().parse().ok())
    }
}

/// Reads one handshake block from the front of `buf`.
///
/// Returns `Ok(None)` while the empty line has not arrived, and the block with the number of
/// bytes it used once it has.
///
/// # Errors
/// [`HandshakeError::NotGnutella`] as soon as the first bytes differ from `GNUTELLA`;
/// [`HandshakeError::TooLong`] past [`MAX_HANDSHAKE_LEN`]; [`HandshakeError::NotText`].
pub fn read_block(buf: &[u8]) -> Result<Option<(Block, usize)>, HandshakeError> {
    let n = buf.len().min(GNUTELLA.len());
    if buf[..n] != GNUTELLA[..n] {
        return Err(HandshakeError::NotGnutella);
    }
    let Some(end) = block_end(buf) else {
        return if buf.len() > MAX_HANDSHAKE_LEN {
            Err(HandshakeError::TooLong)
        } else {
            Ok(None)
        };
    };
    if end > MAX_HANDSHAKE_LEN {
        return Err(HandshakeError::TooLong);
    }
    let text = std::str::from_utf8(&buf[..end]).map_err(|_| HandshakeError::NotText)?;
    let mut lines = text.lines().filter(|l| !l.is_empty());
    let first_line = lines.next().unwrap_or_default().to_owned();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Ok(Some((
        Block {
            first_line,
            headers,
        },
        end,
    )))
}

/// The end of the first block: just past the empty line (`\n\n` or `\n\r\n`).
fn block_end(buf: &[u8]) -> Option<usize> {
    buf.iter().enumerate().find_map(|(i, &b)| {
        if b != b'\n' {
            return None;
        }
        match buf.get(i + 1..) {
            Some([b'\n', ..]) => Some(i + 2),
            Some([b'\r', b'\n', ..]) => Some(i + 3),
            _ => None,
        }
    })
}

/// The 0.6 client's `CONNECT`, with the mandatory `User-Agent`, our listening address, and
/// `X-Ultrapeer: False`: a servent that sends no ultrapeer header is a "normal node", which
/// gtk-gnutella refuses (`403 Normal nodes refused`).
pub fn connect_06(listen: SocketAddr) -> Vec<u8> {
    format!(
        "GNUTELLA CONNECT/0.6\r\nUser-Agent: {USER_AGENT}\r\nListen-IP: {listen}\r\n\
         X-Ultrapeer: False\r\n\r\n"
    )
    .into_bytes()
}

/// The 0.6 client's confirmation, the third block, after the server's `200`.
pub const CLIENT_OK_06: &[u8] = b"GNUTELLA/0.6 200 OK\r\n\r\n";

/// The 0.6 server's acceptance, with the mandatory `User-Agent` and our listening address.
/// To a client that offered deflate (`Accept-Encoding: deflate`) it says it will compress
/// (`Content-Encoding`) and can read compressed bytes (`Accept-Encoding`).
pub fn ok_06(listen: SocketAddr, deflate: bool) -> Vec<u8> {
    let encoding = if deflate {
        "Accept-Encoding: deflate\r\nContent-Encoding: deflate\r\n"
    } else {
        ""
    };
    format!(
        "GNUTELLA/0.6 200 OK\r\nUser-Agent: {USER_AGENT}\r\nListen-IP: {listen}\r\n\
         X-Ultrapeer: False\r\n{encoding}\r\n"
    )
    .into_bytes()
}

/// What a leaf sends to dial an ultrapeer: it is no ultrapeer itself, it will send a QRP 0.1
/// table, it reads deflate, takes cached Pongs, and reads GGEP blocks (it skips them). These
/// are the headers gtk-gnutella looks for in a leaf; it refuses one without deflate.
pub fn connect_06_leaf(listen: SocketAddr) -> Vec<u8> {
    format!(
        "GNUTELLA CONNECT/0.6\r\nUser-Agent: {USER_AGENT}\r\nListen-IP: {listen}\r\n\
         X-Ultrapeer: False\r\nX-Query-Routing: 0.1\r\nAccept-Encoding: deflate\r\n\
         Pong-Caching: 0.1\r\nGGEP: 0.5\r\n\r\n"
    )
    .into_bytes()
}

/// The client's closing `200 OK`, saying it will compress when the server reads deflate.
pub fn client_ok_06(deflate: bool) -> &'static [u8] {
    if deflate {
        b"GNUTELLA/0.6 200 OK\r\nContent-Encoding: deflate\r\n\r\n"
    } else {
        CLIENT_OK_06
    }
}

/// A 0.6 refusal: the servent has all the neighbours it wants.
pub const REFUSE_06: &[u8] = b"GNUTELLA/0.6 503 Too many connections\r\n\r\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_04_strings_have_their_spec_lengths() {
        assert_eq!(CONNECT_04.len(), 22);
        assert_eq!(OK_04.len(), 13);
        let (block, used) = read_block(CONNECT_04).expect("text").expect("complete");
        assert_eq!((block.greeting(), used), (Greeting::Connect04, 22));
        let (block, used) = read_block(OK_04).expect("text").expect("complete");
        assert_eq!((block.greeting(), used), (Greeting::Ok04, 13));
    }

    #[test]
    fn reads_a_06_block_and_leaves_the_binary_after_it() {
        let hello = b"GNUTELLA CONNECT/0.6\r\nUser-Agent: gtk-gnutella/1.2\r\n\
                      Listen-IP: 1.2.3.4:6346\r\nX-Ultrapeer: False\r\n\r\n\x01\x02";
        let (block, used) = read_block(hello).expect("text").expect("complete");
        assert_eq!(block.greeting(), Greeting::Connect06);
        assert_eq!(block.header("user-agent"), Some("gtk-gnutella/1.2"));
        assert_eq!(
            block.listen_addr(),
            Some("1.2.3.4:6346".parse().expect("addr"))
        );
        assert_eq!(&hello[used..], b"\x01\x02");
        let (ok, _) = read_block(b"GNUTELLA/0.6 200 OK\r\n\r\n")
            .expect("text")
            .expect("complete");
        assert_eq!(ok.greeting(), Greeting::Status06(200));
        let (no, _) = read_block(b"GNUTELLA/0.6 403 Normal nodes refused\r\n\r\n")
            .expect("text")
            .expect("complete");
        assert_eq!(no.greeting(), Greeting::Status06(403));
    }

    /// The leaf's three blocks, byte for byte, with the version this crate builds as.
    #[test]
    fn the_leaf_dial_says_leaf_qrp_and_deflate() {
        let listen = "127.0.0.1:6346".parse().expect("addr");
        let hello = String::from_utf8(connect_06_leaf(listen)).expect("text");
        assert_eq!(
            hello,
            format!(
                "GNUTELLA CONNECT/0.6\r\nUser-Agent: {USER_AGENT}\r\n\
                 Listen-IP: 127.0.0.1:6346\r\nX-Ultrapeer: False\r\n\
                 X-Query-Routing: 0.1\r\nAccept-Encoding: deflate\r\n\
                 Pong-Caching: 0.1\r\nGGEP: 0.5\r\n\r\n"
            )
        );
        assert_eq!(
            client_ok_06(true),
            b"GNUTELLA/0.6 200 OK\r\nContent-Encoding: deflate\r\n\r\n"
        );
        assert_eq!(client_ok_06(false), b"GNUTELLA/0.6 200 OK\r\n\r\n");
        let ok = String::from_utf8(ok_06(listen, true)).expect("text");
        assert!(ok.ends_with(
            "X-Ultrapeer: False\r\nAccept-Encoding: deflate\r\nContent-Encoding: deflate\r\n\r\n"
        ));
        assert!(String::from_utf8(ok_06(listen, false))
            .expect("text")
            .ends_with("X-Ultrapeer: False\r\n\r\n"));
    }

    #[test]
    fn encodings_are_read_as_token_lists() {
        let (block, _) = read_block(
            b"GNUTELLA/0.6 200 OK\r\nAccept-Encoding: gzip, DEFLATE\r\n\
              Content-Encoding: deflate\r\n\r\n",
        )
        .expect("text")
        .expect("complete");
        assert!(block.accepts_deflate() && block.sends_deflate());
        let (plain, _) = read_block(b"GNUTELLA/0.6 200 OK\r\nAccept-Encoding: deflated\r\n\r\n")
            .expect("text")
            .expect("complete");
        assert!(!plain.accepts_deflate() && !plain.sends_deflate());
    }

    /// What this servent writes when it dials, line by line, as the 0.6 handshake lays out.
    #[test]
    fn the_06_dial_lines() {
        let hello = connect_06("10.0.0.1:6346".parse().expect("addr"));
        let text = String::from_utf8(hello.clone()).expect("text");
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(
            lines,
            [
                "GNUTELLA CONNECT/0.6",
                &format!("User-Agent: {USER_AGENT}"),
                "Listen-IP: 10.0.0.1:6346",
                "X-Ultrapeer: False",
                "",
                ""
            ]
        );
        let (block, used) = read_block(&hello).expect("text").expect("complete");
        assert_eq!((block.greeting(), used), (Greeting::Connect06, hello.len()));
        assert_eq!(CLIENT_OK_06, b"GNUTELLA/0.6 200 OK\r\n\r\n");
        let (ok, _) = read_block(CLIENT_OK_06).expect("text").expect("complete");
        assert_eq!(ok.greeting(), Greeting::Status06(200));
        let (busy, _) = read_block(b"GNUTELLA/0.6 503 Busy\r\nRetry-After: 300\r\n\r\n")
            .expect("text")
            .expect("complete");
        assert_eq!(busy.greeting(), Greeting::Status06(503));
        assert_eq!(busy.retry_after(), Some(Duration::from_secs(300)));
        assert_eq!(ok.retry_after(), None);
    }

    #[test]
    fn waits_for_the_empty_line_and_gives_up_on_garbage() {
        assert_eq!(read_block(b"GNUT"), Ok(None));
        assert_eq!(read_block(b"GNUTELLA CONNECT/0.4\n"), Ok(None));
        assert_eq!(
            read_block(b"GET /get/1/a HTTP/1.0"),
            Err(HandshakeError::NotGnutella)
        );
        let mut endless = b"GNUTELLA CONNECT/0.6\r\n".to_vec();
        endless.extend(std::iter::repeat_n(b'x', MAX_HANDSHAKE_LEN));
        assert_eq!(read_block(&endless), Err(HandshakeError::TooLong));
        assert_eq!(
            read_block(b"GNUTELLA \xFF\n\n"),
            Err(HandshakeError::NotText)
        );
    }
}
