//! The control protocol: how a person or the scenario runner drives any node.
//!
//! Every node binary listens on a local TCP port for JSON lines: one request per line, one
//! reply per line, in order. The same requests work for Napster peers, Gnutella servents and
//! Chord nodes, so the runner drives all three the same way:
//!
//! ```text
//! → {"cmd":"search","query":"daft punk"}
//! ← {"reply":"hits","hits":[{"name":"Daft Punk - One More Time.mp3","size":5000,...}]}
//! → {"cmd":"stats"}
//! ← {"reply":"stats","kind":"gnutella","addr":"127.0.0.1:6346","metrics":{...},"state":{...}}
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::metrics::Metrics;
use crate::node::Hit;

/// The longest request line a control server reads; longer lines close the connection.
pub const MAX_LINE_LEN: usize = 64 * 1024;

/// A request to a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum ControlRequest {
    /// Search the network by keywords.
    Search {
        /// Free text.
        query: String,
    },
    /// Find a file by name, then download it into `out` (a path on the node's machine).
    Get {
        /// The file's name.
        name: String,
        /// Where to write it.
        out: PathBuf,
    },
    /// Share every file in `dir` (replacing what was shared).
    Share {
        /// The folder.
        dir: PathBuf,
    },
    /// Counters and the node's view of its network.
    Stats,
    /// Leave the network politely, then stop.
    Leave,
    /// Stop at once, as if the machine died.
    Crash,
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
    /// The request was carried out.
    Done,
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn replies_round_trip() {
        let reply = ControlReply::Error {
            message: "no such file".into(),
        };
        let line = serde_json::to_string(&reply).unwrap();
        assert_eq!(line, r#"{"reply":"error","message":"no such file"}"#);
        assert_eq!(serde_json::from_str::<ControlReply>(&line).unwrap(), reply);
    }
}
