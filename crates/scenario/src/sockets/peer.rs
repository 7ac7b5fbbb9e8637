//! [`Peer`]: one running node, whether it is a task of this process, or a child process or
//! a seat's node driven over its control port. The measurement code only ever sees this
//! type, so the numbers mean the same in every mode.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::process::Child;
use tokio::sync::Mutex;

use p2plab_peer_protocol::control::{ControlReply, ControlRequest, NodeStats};
use p2plab_peer_protocol::Hit;
use p2plab_runtime::control::ControlClient;
use p2plab_runtime::{NodeError, NodeHandle};

use crate::workload::{Answer, Failure};

/// How long the runner waits for a child node's control reply (a search's own timeout is
/// far shorter; this only catches a hung child).
pub const CONTROL_TIMEOUT: Duration = Duration::from_secs(90);

/// A running node of any network.
#[derive(Debug, Clone)]
pub enum Peer {
    /// A node running as tasks of this process.
    Local(NodeHandle),
    /// A `p2plab ... node` child process, or a node on a roster's seat, driven through its
    /// control port.
    Remote(Arc<RemoteNode>),
}

/// A node driven through its control port: a child process and the ports it reported on
/// its standard output, or a node a seat started.
#[derive(Debug)]
pub struct RemoteNode {
    /// Where the node listens (a Napster peer's data port).
    pub addr: SocketAddr,
    /// Its control port, with the token the child left for us (or the roster gave).
    pub control: ControlClient,
    /// Its process id, to read its memory use (a child's only).
    pub pid: Option<u32>,
    /// The child; killed when dropped (`kill_on_drop`) or crashed. `None` for a seat's
    /// node, which crashes when its seat is told to.
    pub child: Option<Mutex<Child>>,
}

impl Peer {
    /// The node's listen address: what Gnutella and Chord hits name as the holder.
    pub fn addr(&self) -> SocketAddr {
        match self {
            Peer::Local(h) => h.addr(),
            Peer::Remote(r) => r.addr,
        }
    }

    /// Searches the network from this node.
    ///
    /// # Errors
    /// [`Failure::NotReady`] if the network said it cannot answer yet, else the node's
    /// error as a sentence.
    pub async fn search(&self, query: &str) -> Answer {
        match self {
            Peer::Local(h) => h.search(query).await.map_err(|e| match e {
                NodeError::Search(e) => Failure::from(e),
                other => Failure::Failed(other.to_string()),
            }),
            Peer::Remote(r) => {
                let search = ControlRequest::Search {
                    query: query.into(),
                };
                match r.ask(&search).await.map_err(Failure::Failed)? {
                    ControlReply::Hits { hits } => Ok(hits),
                    ControlReply::NotReady { message } => Err(Failure::NotReady(message)),
                    other => Err(Failure::Failed(unexpected(other))),
                }
            }
        }
    }

    /// Downloads the file `hit` names into `out`; the number of bytes written.
    ///
    /// # Errors
    /// The node's error, as a sentence.
    pub async fn fetch(&self, hit: Hit, out: &Path) -> Result<u64, String> {
        match self {
            Peer::Local(h) => h
                .fetch(hit, out, false)
                .await
                .map(|f| f.bytes)
                .map_err(|e| e.to_string()),
            // A child shares this machine's disk: it writes the file where the runner reads.
            Peer::Remote(r) if r.child.is_some() => {
                let req = ControlRequest::Fetch {
                    hit,
                    out: out.to_owned(),
                    overwrite: false,
                };
                match r.ask(&req).await? {
                    ControlReply::Downloaded { bytes, .. } => Ok(bytes),
                    other => Err(unexpected(other)),
                }
            }
            // A seat's node may be on another machine: its seat sends the bytes back.
            Peer::Remote(r) => match r.ask(&ControlRequest::FetchBytes { hit }).await? {
                ControlReply::Bytes { hex, .. } => {
                    let bytes = hex::decode(&hex).map_err(|e| format!("bytes sent back: {e}"))?;
                    std::fs::write(out, &bytes)
                        .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
                    Ok(bytes.len() as u64)
                }
                other => Err(unexpected(other)),
            },
        }
    }

    /// Sends a child node one control request and returns its reply; a node in this
    /// process has no control port to ask (`Err`).
    ///
    /// # Errors
    /// The child's error, or that the node is not a child.
    pub async fn ask(&self, req: &ControlRequest) -> Result<ControlReply, String> {
        match self {
            Peer::Local(_) => Err("a node in this process has no control port".to_owned()),
            Peer::Remote(r) => r.ask(req).await,
        }
    }

    /// The node's counters and state.
    ///
    /// # Errors
    /// If the node has stopped or does not answer.
    pub async fn stats(&self) -> Result<NodeStats, String> {
        match self {
            Peer::Local(h) => h.stats().await.map_err(|e| e.to_string()),
            Peer::Remote(r) => match r.ask(&ControlRequest::Stats).await? {
                ControlReply::Stats(stats) => Ok(*stats),
                other => Err(unexpected(other)),
            },
        }
    }

    /// Stops the node at once, as if its machine died.
    pub async fn crash(&self) {
        match self {
            Peer::Local(h) => h.crash(),
            Peer::Remote(r) => r.crash().await,
        }
    }

    /// Leaves politely, then stops.
    pub async fn leave(&self) {
        match self {
            Peer::Local(h) => {
                if let Err(e) = h.leave().await {
                    tracing::debug!(addr = %h.addr(), "leave: {e}");
                }
            }
            Peer::Remote(r) => {
                if let Err(e) = r.ask(&ControlRequest::Leave).await {
                    tracing::debug!(addr = %r.addr, "leave: {e}");
                }
                // A seat's node stops by itself once it has left; a child is killed.
                if r.child.is_some() {
                    r.crash().await;
                }
            }
        }
    }
}

fn unexpected(reply: ControlReply) -> String {
    match reply {
        ControlReply::Error { message } => message,
        other => format!("unexpected reply: {other:?}"),
    }
}

impl RemoteNode {
    /// Stops the node at once: kills the child and reaps it, or tells the seat to crash
    /// its node (the seat stays, for the node's next start).
    pub async fn crash(&self) {
        match &self.child {
            Some(child) => {
                if let Err(e) = child.lock().await.kill().await {
                    tracing::debug!(pid = ?self.pid, "kill: {e}");
                }
            }
            None => {
                if let Err(e) = self.ask(&ControlRequest::Crash).await {
                    tracing::debug!(addr = %self.addr, "crash: {e}");
                }
            }
        }
    }

    /// One request, one reply, on a fresh control connection.
    async fn ask(&self, req: &ControlRequest) -> Result<ControlReply, String> {
        self.control.ask(req, CONTROL_TIMEOUT).await
    }
}

/// Reads a `key` line's address from a child's standard output (`chord listening on
/// 127.0.0.1:41234`, `control port 127.0.0.1:40000`).
pub fn address_after(line: &str, marker: &str) -> Option<SocketAddr> {
    line.split_once(marker)?.1.trim().parse().ok()
}

/// Waits so long, then gives up: used to bound every wait for a child's output.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
