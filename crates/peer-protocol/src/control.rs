//! The control protocol: how a person or the scenario runner drives any node.
//!
//! Every node binary listens on a local TCP port for JSON lines: one request per line, one
//! reply per line, in order. The same requests work for Napster peers, Gnutella servents and
//! Chord nodes, so the runner drives all three the same way:
//!
//! ```text
//! → {"token":"9f2c…","cmd":"search","query":"daft punk"}
//! ← {"reply":"hits","hits":[{"name":"Daft Punk - One More Time.mp3","size":5000,...}]}
//! → {"token":"9f2c…","cmd":"stats"}
//! ← {"reply":"stats","kind":"gnutella","addr":"127.0.0.1:6346","metrics":{...},"state":{...}}
//! ```
//!
//! ## Who may use it
//!
//! A control port can make its node download into any path, share any folder and stop, so
//! it obeys only its owner. Every request carries the node's [`ControlToken`], a random
//! secret the node writes to a file only its user can read (as Jupyter does); p2plab's own
//! clients read it from there. Loopback alone is not enough: any web page the owner's browser
//! shows can send an HTTP request to `127.0.0.1`, so [`parse_line`] ends the session at the
//! first line that is not an authenticated request, and at once — without a reply — at a
//! line that looks like HTTP.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::latency::Latency;
use crate::metrics::Metrics;
use crate::node::{Answer, Hit, Question};
use crate::reach::Problem;

/// The longest request line a control server reads; longer lines close the connection.
/// The longest real request is a `get` or `share` with a path, far below this.
pub const MAX_LINE_LEN: usize = 64 * 1024;

/// The longest reply line a control client reads: a `stats` reply of a Napster server or a
/// search with thousands of hits stays well under it; more means the other side is not a node.
pub const MAX_REPLY_LEN: u64 = 16 * 1024 * 1024;

/// How long a control session may sit without sending a request before the node hangs up.
/// p2plab's clients send their request as soon as they connect; an idle session only holds
/// one of the few [`MAX_SESSIONS`] places.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Control sessions served at once; more are closed as they arrive. A node has one owner,
/// who asks one thing at a time (the scenario runner a few at once).
pub const MAX_SESSIONS: usize = 16;

/// The owner's secret: 32 random bytes, written as 64 lowercase hex digits.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ControlToken(String);

impl ControlToken {
    /// Hex digits in a token.
    pub const LEN: usize = 64;

    /// A token made of `bytes` (which must come from a cryptographic random source).
    pub fn from_random_bytes(bytes: [u8; 32]) -> Self {
        ControlToken(hex::encode(bytes))
    }

    /// Reads a token as written by [`ControlToken::as_str`] (surrounding whitespace allowed).
    ///
    /// # Errors
    /// [`LineError::Malformed`] unless it is exactly [`ControlToken::LEN`] hex digits.
    pub fn parse(text: &str) -> Result<Self, LineError> {
        let text = text.trim();
        if text.len() != Self::LEN || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(LineError::Malformed(format!(
                "a control token is {} hex digits",
                Self::LEN
            )));
        }
        Ok(ControlToken(text.to_ascii_lowercase()))
    }

    /// The token's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Compares in time that does not depend on where the two differ, so a caller who
    /// guesses cannot learn the token a digit at a time.
    pub fn matches(&self, other: &str) -> bool {
        use subtle::ConstantTimeEq;
        bool::from(self.0.as_bytes().ct_eq(other.as_bytes()))
    }
}

impl std::fmt::Debug for ControlToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never in logs.
        f.write_str("ControlToken(…)")
    }
}

/// One request line as it goes on the wire: the token beside the request's own fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestLine {
    /// The node's [`ControlToken`].
    pub token: ControlToken,
    /// What is asked.
    #[serde(flatten)]
    pub request: ControlRequest,
}

impl RequestLine {
    /// The request as one JSON line, newline included.
    pub fn encode(token: &ControlToken, request: &ControlRequest) -> String {
        let line = RequestLine {
            token: token.clone(),
            request: request.clone(),
        };
        // A struct of strings, paths and numbers always serialises.
        let mut text = serde_json::to_string(&line).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// Why a control line was not obeyed. Each ends the session.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LineError {
    /// An HTTP request line or header: a web page, or a confused client. No reply is sent.
    #[error("an HTTP request is not a control request")]
    LooksLikeHttp,
    /// Not a request this protocol knows.
    #[error("bad request: {0}")]
    Malformed(String),
    /// A request without the node's token, or with another.
    #[error("bad or missing token: the control port obeys only its owner (the token is in the node's token file)")]
    BadToken,
}

/// Reads one line of a control session and checks it carries `token`.
///
/// # Errors
/// [`LineError`]: the session must end.
pub fn parse_line(line: &str, token: &ControlToken) -> Result<ControlRequest, LineError> {
    if looks_like_http(line) {
        return Err(LineError::LooksLikeHttp);
    }
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| LineError::Malformed(e.to_string()))?;
    let given = value.get("token").and_then(serde_json::Value::as_str);
    if !given.is_some_and(|t| token.matches(t)) {
        return Err(LineError::BadToken);
    }
    let parsed: RequestLine =
        serde_json::from_value(value).map_err(|e| LineError::Malformed(e.to_string()))?;
    Ok(parsed.request)
}

/// True for an HTTP request line (`POST / HTTP/1.1`) or header line (`Host: …`): anything
/// that does not start like a JSON object and has an HTTP method or a header's colon.
fn looks_like_http(line: &str) -> bool {
    const METHODS: [&str; 9] = [
        "GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE ",
    ];
    let line = line.trim_start();
    !line.starts_with('{')
        && (METHODS.iter().any(|m| line.starts_with(m))
            || line.contains(" HTTP/")
            || line.split_once(':').is_some_and(|(name, _)| {
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            }))
}

/// A request to a node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum ControlRequest {
    /// Search the network by keywords.
    Search {
        /// Free text.
        query: String,
    },
    /// Find a file by name, then download it into `out` (a path on the node's machine).
    /// The bytes go to `<out>.part` first, renamed to `out` once complete.
    Get {
        /// The file's name.
        name: String,
        /// Where to write it.
        out: PathBuf,
        /// Replace `out` if it exists (by default an existing file is never touched).
        #[serde(default)]
        overwrite: bool,
    },
    /// Download the file one search hit names, from that holder, into `out` (through
    /// `<out>.part`, as `get` does).
    Fetch {
        /// The hit, as a `search` reply gave it.
        hit: Hit,
        /// Where to write it.
        out: PathBuf,
        /// Replace `out` if it exists.
        #[serde(default)]
        overwrite: bool,
    },
    /// Share every file in `dir` (replacing what was shared).
    Share {
        /// The folder.
        dir: PathBuf,
    },
    /// Ask the network about another user (Napster: browse, whois, ping); the reply is
    /// an `answer`, or an `error` with the network's words.
    Ask {
        /// What is asked, and about whom.
        question: Question,
    },
    /// Counters and the node's view of its network.
    Stats,
    /// Leave the network politely, then stop.
    Leave,
    /// Stop at once, as if the machine died.
    Crash,
    /// Set the network the node sees, whole: the cut (or none) and the latency (or none).
    /// This is how the scenario runner cuts, heals and slows nodes that run as processes
    /// of their own; each node then enforces its own side of the cut.
    Fabric {
        /// `sides[k]` are the listen addresses of side k; an address not listed is on side
        /// 0. Absent or `null`: no cut (the network heals).
        #[serde(default)]
        cut: Option<Vec<Vec<SocketAddr>>>,
        /// Added to every message the node sends, drawn per message. Absent or `null`: none.
        #[serde(default)]
        latency: Option<Latency>,
        /// Seeds the draws (each node mixes in its own address).
        #[serde(default)]
        seed: u64,
    },
    /// Download the file one search hit names, as `fetch` does, and send its bytes back
    /// in the reply instead of keeping them: a seat's (`p2plab seat`) answer to a runner on
    /// another machine, which checks the bytes against what the holder shares. A running
    /// node that is no seat refuses it.
    FetchBytes {
        /// The hit, as a `search` reply gave it.
        hit: Hit,
    },
    /// Start a node on a seat (`p2plab seat`: a control port with no node of its own, at
    /// an address fixed in advance), replacing the one it ran, if any. This is how the
    /// scenario runner starts a node it did not launch — on another machine, in another
    /// pod — and starts it again where its timeline rejoins it after a crash. A node that
    /// is already running refuses it.
    Start {
        /// The node and its settings, as the scenario runner describes it
        /// (`p2plab_scenario::node_spec::NodeSpec`); the seat checks it.
        node: serde_json::Value,
        /// The files it shares, as names and sizes: their bytes are drawn from
        /// `content_seed`, so both ends know the content without sending it.
        #[serde(default)]
        files: Vec<(String, u64)>,
        /// Seeds the files' content (`Library::synthetic`).
        #[serde(default)]
        content_seed: u64,
    },
}

/// A node's reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum ControlReply {
    /// Search results (possibly none).
    Hits {
        /// The hits.
        hits: Vec<Hit>,
    },
    /// A finished download.
    Downloaded {
        /// The file's name.
        name: String,
        /// Bytes written.
        bytes: u64,
        /// Who it came from.
        from: String,
    },
    /// Counters and state.
    Stats(Box<NodeStats>),
    /// The answer to an `ask`.
    Answer {
        /// What the network said.
        answer: Answer,
    },
    /// The request was carried out.
    Done,
    /// A downloaded file's bytes (the answer to `fetch_bytes`).
    Bytes {
        /// Who it came from.
        from: String,
        /// The bytes, as lowercase hex.
        hex: String,
    },
    /// A seat started its node, which advertises `addr`.
    Started {
        /// What the node tells its peers (its listen address, or its `--advertise`).
        addr: SocketAddr,
    },
    /// A search the node cannot answer yet ([`crate::SearchError::NotReady`]): not a
    /// "no file matches", and not a failure of the network either; `message` says what the
    /// node still lacks.
    NotReady {
        /// A sentence for the user.
        message: String,
    },
    /// The request failed; `message` says why.
    Error {
        /// A sentence for the user.
        message: String,
    },
}

/// A node's counters and its own description of where it stands in its network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeStats {
    /// `napster-server`, `napster-peer`, `gnutella` or `chord`.
    pub kind: String,
    /// The node's listen address.
    pub addr: SocketAddr,
    /// Files shared.
    pub files: usize,
    /// Traffic and lookups.
    pub metrics: Metrics,
    /// Protocol-specific state: neighbours, ring pointers, index size.
    pub state: serde_json::Value,
    /// Why the node cannot reach its server or bootstrap, while it cannot; absent once it
    /// got in (and from nodes that predate the field).
    #[serde(default)]
    pub problem: Option<Problem>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> ControlToken {
        ControlToken::from_random_bytes([7; 32])
    }

    #[test]
    fn a_request_line_carries_the_token_beside_the_fields() {
        let line = RequestLine::encode(&token(), &ControlRequest::Stats);
        assert_eq!(
            line,
            format!("{{\"token\":\"{}\",\"cmd\":\"stats\"}}\n", "07".repeat(32))
        );
        assert_eq!(
            parse_line(line.trim_end(), &token()),
            Ok(ControlRequest::Stats)
        );
    }

    #[test]
    fn only_the_owners_token_is_obeyed() {
        let other = ControlToken::from_random_bytes([8; 32]);
        let line = RequestLine::encode(&other, &ControlRequest::Crash);
        assert_eq!(parse_line(&line, &token()), Err(LineError::BadToken));
        assert_eq!(
            parse_line(r#"{"cmd":"crash"}"#, &token()),
            Err(LineError::BadToken)
        );
        let short = format!(r#"{{"token":"{}","cmd":"crash"}}"#, "07".repeat(31));
        assert_eq!(parse_line(&short, &token()), Err(LineError::BadToken));
        let number = r#"{"token":7,"cmd":"crash"}"#;
        assert_eq!(parse_line(number, &token()), Err(LineError::BadToken));
    }

    #[test]
    fn http_lines_end_the_session_whatever_follows() {
        for line in [
            "POST / HTTP/1.1",
            "GET /favicon.ico HTTP/1.1",
            "OPTIONS * HTTP/1.1",
            "Host: 127.0.0.1:7001",
            "Content-Type: text/plain",
            "Origin: http://evil.example",
        ] {
            assert_eq!(
                parse_line(line, &token()),
                Err(LineError::LooksLikeHttp),
                "{line}"
            );
        }
        assert!(matches!(
            parse_line("hello", &token()),
            Err(LineError::Malformed(_))
        ));
    }

    #[test]
    fn tokens_are_64_hex_digits() {
        let t = token();
        assert_eq!(
            ControlToken::parse(&format!(" {}\n", t.as_str())),
            Ok(t.clone())
        );
        assert!(ControlToken::parse("abc").is_err());
        assert!(ControlToken::parse(&"g".repeat(64)).is_err());
        assert_eq!(format!("{t:?}"), "ControlToken(…)", "never printed");
    }

    #[test]
    fn get_never_overwrites_unless_asked() {
        let line = format!(
            r#"{{"token":"{}","cmd":"get","name":"a","out":"/tmp/a"}}"#,
            token().as_str()
        );
        assert_eq!(
            parse_line(&line, &token()),
            Ok(ControlRequest::Get {
                name: "a".into(),
                out: "/tmp/a".into(),
                overwrite: false
            })
        );
    }

    #[test]
    fn requests_are_tagged_json_lines() {
        let req: ControlRequest =
            serde_json::from_str(r#"{"cmd":"search","query":"one more"}"#).unwrap();
        assert_eq!(
            req,
            ControlRequest::Search {
                query: "one more".into()
            }
        );
        assert_eq!(
            serde_json::to_string(&ControlRequest::Stats).unwrap(),
            r#"{"cmd":"stats"}"#
        );
        let err = serde_json::from_str::<ControlRequest>(r#"{"cmd":"dance"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown variant `dance`"), "{err}");
    }

    #[test]
    fn a_fabric_request_names_the_sides_and_the_latency() {
        let line = format!(
            r#"{{"token":"{}","cmd":"fabric","cut":[["127.0.0.1:1"],["127.0.0.1:2"]],"latency":{{"log_normal":{{"median":{{"secs":0,"nanos":40000000}},"sigma":0.8}}}},"seed":9}}"#,
            token().as_str()
        );
        let addr = |port| SocketAddr::from(([127, 0, 0, 1], port));
        assert_eq!(
            parse_line(&line, &token()),
            Ok(ControlRequest::Fabric {
                cut: Some(vec![vec![addr(1)], vec![addr(2)]]),
                latency: Some(Latency::LogNormal {
                    median: Duration::from_millis(40),
                    sigma: 0.8
                }),
                seed: 9,
            })
        );
        let heal = format!(r#"{{"token":"{}","cmd":"fabric"}}"#, token().as_str());
        assert_eq!(
            parse_line(&heal, &token()),
            Ok(ControlRequest::Fabric {
                cut: None,
                latency: None,
                seed: 0
            }),
            "nothing given: an open fabric"
        );
    }

    #[test]
    fn an_ask_names_the_question_and_its_user() {
        let line = format!(
            r#"{{"token":"{}","cmd":"ask","question":{{"whois":{{"nick":"lefty"}}}}}}"#,
            token().as_str()
        );
        let whois = ControlRequest::Ask {
            question: Question::Whois {
                nick: "lefty".into(),
            },
        };
        assert_eq!(parse_line(&line, &token()), Ok(whois.clone()));
        assert_eq!(RequestLine::encode(&token(), &whois), format!("{line}\n"));
        let reply = ControlReply::Answer {
            answer: Answer::Pong {
                nick: "lefty".into(),
                round_trip: Duration::from_millis(3),
            },
        };
        let text = serde_json::to_string(&reply).unwrap();
        assert_eq!(
            text,
            r#"{"reply":"answer","answer":{"pong":{"nick":"lefty","round_trip":{"secs":0,"nanos":3000000}}}}"#
        );
        assert_eq!(serde_json::from_str::<ControlReply>(&text).unwrap(), reply);
    }

    #[test]
    fn replies_round_trip() {
        let reply = ControlReply::Error {
            message: "no such file".into(),
        };
        let line = serde_json::to_string(&reply).unwrap();
        assert_eq!(line, r#"{"reply":"error","message":"no such file"}"#);
        assert_eq!(serde_json::from_str::<ControlReply>(&line).unwrap(), reply);
    }
}
