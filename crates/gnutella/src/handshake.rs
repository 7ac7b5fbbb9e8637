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

    /// True when the peer says it is an ultrapeer (`X-Ultrapeer: True`). A peer that says
    /// `False`, or nothing (a 0.4 servent), is taken for a leaf.
    pub fn is_ultrapeer(&self) -> bool {
        self.header("X-Ultrapeer")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }

    /// True when the peer says it is no ultrapeer (`X-Ultrapeer: False`); a peer that says
    /// nothing is neither this nor [`Block::is_ultrapeer`].
    pub fn is_leaf(&self) -> bool {
        self.header("X-Ultrapeer")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"))
    }

    /// How many ultrapeer links the peer keeps (`X-Degree`), if it says.
    pub fn degree(&self) -> Option<u32> {
        self.header("X-Degree")?.trim().parse().ok()
    }

    /// The highest TTL the peer takes on a fresh Query (`X-Max-TTL`), if it says.
    pub fn max_ttl(&self) -> Option<u8> {
        self.header("X-Max-TTL")?.trim().parse().ok()
    }

    /// True when the peer queries dynamically and reads Query Status Responses
    /// (`X-Dynamic-Querying`, any version).
    pub fn dynamic_querying(&self) -> bool {
        self.header("X-Dynamic-Querying").is_some()
    }

    /// True when the peer passes on a Query it has seen if a copy comes with more TTL left
    /// (`X-Ext-Probes`, any version), so it may be queried again deeper.
    pub fn ext_probes(&self) -> bool {
        self.header("X-Ext-Probes").is_some()
    }

    /// True when the peer gives leaf guidance (`X-Ultrapeer-Needed: False`).
    pub fn guides_to_leaf(&self) -> bool {
        self.header("X-Ultrapeer-Needed")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"))
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

/// What a servent says of itself in its 0.6 blocks: the headers of its role
/// ([`Role`](crate::config::Role)).
///
/// Each header promises a behaviour, and says nothing the servent does not do:
///
/// - `X-Ultrapeer: True` — it takes leaves and shields them, routing Queries to them by their
///   tables; `False` — it is a leaf, or a flooding servent that takes no leaves. A servent
///   that sends neither is a "normal node", which gtk-gnutella refuses.
/// - `X-Query-Routing: 0.1` — a leaf sends its QRP 0.1 table; an ultrapeer reads its leaves'.
/// - `X-Degree` — how many ultrapeer links an ultrapeer keeps; `X-Max-TTL` — the TTL + Hops
///   above which it lowers a Query's TTL, so a searcher knows no larger TTL goes further.
/// - `X-Dynamic-Querying: 0.1` — an ultrapeer searches for its leaves and itself a step at a
///   time (`servent/dynamic.rs`): a probe, then one ultrapeer link more per step with a TTL
///   chosen from the results so far, until enough came back; it reads its leaves' Query
///   Status Responses (BEAR 12). A leaf sends those only to ultrapeers that say this.
/// - `X-Ext-Probes: 0.1` — an ultrapeer passes on a Query it has seen if the new copy has
///   more TTL left than the first, so another's wider step is not lost where its probe went.
/// - `X-Ultrapeer-Needed: False` — *leaf guidance*: an ultrapeer with all the ultrapeer
///   links it wants but room for leaves tells a dialling ultrapeer to join as its leaf
///   instead ([`ok_06`]). One that has no neighbour yet takes it, and says `X-Ultrapeer:
///   False` in its closing block ([`client_ok_06`]); one that declines is closed.
/// - `Pong-Caching: 0.1`, `GGEP: 0.5` — a leaf takes Pongs an ultrapeer answers from its
///   cache, and skips GGEP blocks it cannot read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stance {
    /// A 0.4 flooding servent speaking 0.6.
    Flooding,
    /// A leaf.
    Leaf,
    /// An ultrapeer keeping `degree` ultrapeer links and lowering TTLs above `max_ttl`.
    Ultrapeer {
        /// Its ultrapeer-link target, `max_peers`.
        degree: usize,
        /// Its ceiling on TTL + Hops.
        max_ttl: u8,
    },
}

impl Stance {
    /// The role's header lines, each ended by `\r\n`.
    fn lines(self) -> String {
        match self {
            Stance::Flooding => "X-Ultrapeer: False\r\n".to_owned(),
            Stance::Leaf => "X-Ultrapeer: False\r\nX-Query-Routing: 0.1\r\n\
                             Pong-Caching: 0.1\r\nGGEP: 0.5\r\n"
                .to_owned(),
            Stance::Ultrapeer { degree, max_ttl } => format!(
                "X-Ultrapeer: True\r\nX-Query-Routing: 0.1\r\nX-Degree: {degree}\r\n\
                 X-Max-TTL: {max_ttl}\r\nX-Dynamic-Querying: 0.1\r\nX-Ext-Probes: 0.1\r\n"
            ),
        }
    }

    /// True when it offers deflate as it dials. A leaf must (gtk-gnutella refuses a leaf
    /// without it) and an ultrapeer gains most from it, its links carrying every flood; a
    /// flooding servent compresses only for a client that asks.
    fn dials_deflate(self) -> bool {
        !matches!(self, Stance::Flooding)
    }
}

/// The 0.6 client's `CONNECT`: the mandatory `User-Agent`, our listening address, the
/// headers of our role, and `Accept-Encoding: deflate` if the role offers it.
pub fn connect_06(listen: SocketAddr, stance: Stance) -> Vec<u8> {
    let deflate = if stance.dials_deflate() {
        "Accept-Encoding: deflate\r\n"
    } else {
        ""
    };
    format!(
        "GNUTELLA CONNECT/0.6\r\nUser-Agent: {USER_AGENT}\r\nListen-IP: {listen}\r\n{}{deflate}\r\n",
        stance.lines()
    )
    .into_bytes()
}

/// The 0.6 client's confirmation, the third block, after the server's `200`.
pub const CLIENT_OK_06: &[u8] = b"GNUTELLA/0.6 200 OK\r\n\r\n";

/// The header of leaf guidance: join as a leaf, no ultrapeer is needed here.
pub const LEAF_GUIDANCE: &str = "X-Ultrapeer-Needed: False\r\n";

/// The 0.6 server's acceptance: the mandatory `User-Agent`, our listening address, the
/// headers of our role and, if `guide`, [`LEAF_GUIDANCE`]. To a client that offered
/// deflate (`Accept-Encoding: deflate`) it says it will compress (`Content-Encoding`) and
/// can read compressed bytes (`Accept-Encoding`).
pub fn ok_06(listen: SocketAddr, stance: Stance, deflate: bool, guide: bool) -> Vec<u8> {
    let encoding = if deflate {
        "Accept-Encoding: deflate\r\nContent-Encoding: deflate\r\n"
    } else {
        ""
    };
    let guidance = if guide { LEAF_GUIDANCE } else { "" };
    format!(
        "GNUTELLA/0.6 200 OK\r\nUser-Agent: {USER_AGENT}\r\nListen-IP: {listen}\r\n{}{guidance}\
         {encoding}\r\n",
        stance.lines()
    )
    .into_bytes()
}

/// The client's closing `200 OK`, saying it will compress when the server reads deflate,
/// and `X-Ultrapeer: False` when it takes the server's leaf guidance.
pub fn client_ok_06(deflate: bool, as_leaf: bool) -> Vec<u8> {
    let leaf = if as_leaf {
        "X-Ultrapeer: False\r\n"
    } else {
        ""
    };
    let encoding = if deflate {
        "Content-Encoding: deflate\r\n"
    } else {
        ""
    };
    format!("GNUTELLA/0.6 200 OK\r\n{leaf}{encoding}\r\n").into_bytes()
}

/// A 0.6 refusal: the servent has all the neighbours it wants.
pub const REFUSE_06: &[u8] = b"GNUTELLA/0.6 503 Too many connections\r\n\r\n";

/// The kinds of link an ultrapeer counts apart, each with its own ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// A link to another ultrapeer.
    Ultra,
    /// A link to a leaf.
    Leaf,
}

/// An ultrapeer's refusal when it has `max` links of the `slot` asked for, worded as
/// gtk-gnutella words it: `503 Too many leaf connections (30 max)`.
pub fn refuse_full(slot: Slot, max: usize) -> Vec<u8> {
    let what = match slot {
        Slot::Ultra => "ultra",
        Slot::Leaf => "leaf",
    };
    format!("GNUTELLA/0.6 503 Too many {what} connections ({max} max)\r\n\r\n").into_bytes()
}

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
        let hello = String::from_utf8(connect_06(listen, Stance::Leaf)).expect("text");
        assert_eq!(
            hello,
            format!(
                "GNUTELLA CONNECT/0.6\r\nUser-Agent: {USER_AGENT}\r\n\
                 Listen-IP: 127.0.0.1:6346\r\nX-Ultrapeer: False\r\n\
                 X-Query-Routing: 0.1\r\nPong-Caching: 0.1\r\nGGEP: 0.5\r\n\
                 Accept-Encoding: deflate\r\n\r\n"
            )
        );
        assert_eq!(
            client_ok_06(true, false),
            b"GNUTELLA/0.6 200 OK\r\nContent-Encoding: deflate\r\n\r\n"
        );
        assert_eq!(client_ok_06(false, false), CLIENT_OK_06);
        let ok = String::from_utf8(ok_06(listen, Stance::Flooding, true, false)).expect("text");
        assert!(ok.ends_with(
            "X-Ultrapeer: False\r\nAccept-Encoding: deflate\r\nContent-Encoding: deflate\r\n\r\n"
        ));
        assert!(
            String::from_utf8(ok_06(listen, Stance::Flooding, false, false))
                .expect("text")
                .ends_with("X-Ultrapeer: False\r\n\r\n")
        );
    }

    /// An ultrapeer's blocks, line by line: its role, its degree and TTL ceiling, deflate;
    /// and its refusals, in gtk-gnutella's words.
    #[test]
    fn the_ultrapeer_blocks_and_refusals() {
        let listen = "10.0.0.2:6346".parse().expect("addr");
        let stance = Stance::Ultrapeer {
            degree: 8,
            max_ttl: 4,
        };
        let hello = String::from_utf8(connect_06(listen, stance)).expect("text");
        let lines: Vec<&str> = hello.split("\r\n").collect();
        assert_eq!(
            lines[2..],
            [
                "Listen-IP: 10.0.0.2:6346",
                "X-Ultrapeer: True",
                "X-Query-Routing: 0.1",
                "X-Degree: 8",
                "X-Max-TTL: 4",
                "X-Dynamic-Querying: 0.1",
                "X-Ext-Probes: 0.1",
                "Accept-Encoding: deflate",
                "",
                ""
            ]
        );
        let (block, _) = read_block(hello.as_bytes())
            .expect("text")
            .expect("complete");
        assert!(block.is_ultrapeer() && block.dynamic_querying() && block.ext_probes());
        assert_eq!((block.degree(), block.max_ttl()), (Some(8), Some(4)));
        let ok = String::from_utf8(ok_06(listen, stance, false, false)).expect("text");
        assert!(ok.ends_with(
            "X-Ultrapeer: True\r\nX-Query-Routing: 0.1\r\nX-Degree: 8\r\nX-Max-TTL: 4\r\n\
             X-Dynamic-Querying: 0.1\r\nX-Ext-Probes: 0.1\r\n\r\n"
        ));
        let guiding = ok_06(listen, stance, true, true);
        let (block, _) = read_block(&guiding).expect("text").expect("complete");
        assert!(block.guides_to_leaf() && block.accepts_deflate());
        assert!(String::from_utf8(guiding)
            .expect("text")
            .contains("X-Ext-Probes: 0.1\r\nX-Ultrapeer-Needed: False\r\nAccept-Encoding"));
        assert_eq!(
            client_ok_06(true, true),
            b"GNUTELLA/0.6 200 OK\r\nX-Ultrapeer: False\r\nContent-Encoding: deflate\r\n\r\n"
        );
        let (taken, _) = read_block(&client_ok_06(false, true))
            .expect("text")
            .expect("complete");
        assert!(taken.is_leaf() && !taken.is_ultrapeer() && !taken.guides_to_leaf());
        assert!(!read_block(CLIENT_OK_06)
            .expect("text")
            .expect("complete")
            .0
            .is_leaf());
        let leaf = connect_06(listen, Stance::Leaf);
        let (block, _) = read_block(&leaf).expect("text").expect("complete");
        assert!(!block.is_ultrapeer());
        assert_eq!(
            refuse_full(Slot::Leaf, 30),
            b"GNUTELLA/0.6 503 Too many leaf connections (30 max)\r\n\r\n"
        );
        assert_eq!(
            refuse_full(Slot::Ultra, 8),
            b"GNUTELLA/0.6 503 Too many ultra connections (8 max)\r\n\r\n"
        );
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
        let hello = connect_06("10.0.0.1:6346".parse().expect("addr"), Stance::Flooding);
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
