//! [`Seat`]: a place for one node, at an address fixed in advance, that the scenario runner
//! fills over a control port — how the runner drives nodes it did not launch itself.
//!
//! A seat (`p2plab seat`) is a control port with no node of its own. The runner sends it a
//! `start` request with the [`NodeSpec`] its timeline chose (bootstrap list, seed, nick) and
//! the names and sizes of the files to share; the seat starts that node on its listen
//! address and answers with what the node advertises. Every other request goes to the node
//! as to any node's control port: search, fetch, stats, the fabric's cut — except
//! `fetch_bytes`, a download whose bytes the seat sends back in its reply, so that a runner
//! on another machine checks what its node really received. A `crash` stops
//! the node at once — every socket closes, as when its machine dies — and a `leave` makes it
//! leave politely; either way the seat stays, so the runner can start a node there again
//! where the timeline rejoins that peer. A `start` on a seat whose node still runs crashes
//! that node first: a seat holds one node at a time, and a runner that was interrupted
//! leaves nothing the next run would trip on.
//!
//! Where seats run is not the runner's business: a person starts them (one command per
//! classroom machine), or an orchestrator does (a StatefulSet's pods). The roster
//! ([`crate::hosts`]) tells the runner where they are.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use p2plab_peer_protocol::control::{ControlReply, ControlRequest, MAX_REPLY_LEN};
use p2plab_peer_protocol::{Hit, Library, Listen};
use p2plab_runtime::control::{self, ControlOptions, ControlServer, Obey};
use p2plab_runtime::launch::Launcher;
use p2plab_runtime::NodeHandle;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::node_spec::NodeSpec;

/// How long a restarted node may wait for the port its crashed predecessor held: a crash
/// closes the listener from the node's own tasks, a moment after the crash returns.
const REBIND_PATIENCE: Duration = Duration::from_secs(2);

/// Pause between two tries to bind the seat's port again.
const REBIND_EVERY: Duration = Duration::from_millis(50);

/// The largest file a seat sends back: its bytes go as hex (two characters a byte) in one
/// reply line, which a control client reads up to [`MAX_REPLY_LEN`]; a little is left for
/// the reply's other fields.
pub const MAX_BYTES_BACK: u64 = MAX_REPLY_LEN / 2 - 4096;

/// One seat: where its node listens, and the node while one runs.
#[derive(Debug)]
pub struct Seat {
    /// Where every node of this seat listens, and what it advertises.
    listen: Listen,
    /// The node now running, if any (it may have stopped by itself since).
    node: Mutex<Option<NodeHandle>>,
    /// Where downloads sent back wait between the transfer and the reply.
    scratch: PathBuf,
    /// Numbers the downloads in `scratch`.
    downloads: AtomicU64,
}

impl Seat {
    /// An empty seat whose nodes will listen on `listen`.
    pub fn new(listen: Listen) -> Self {
        let name = format!("p2plab-seat-{}-{}", std::process::id(), listen.addr.port());
        Seat {
            listen,
            node: Mutex::new(None),
            scratch: std::env::temp_dir().join(name),
            downloads: AtomicU64::new(0),
        }
    }

    /// Serves this seat's control port on `addr` until `stop` is cancelled.
    ///
    /// # Errors
    /// As [`control::serve`]: a remote address without `allow_remote`, a port taken, a
    /// token file that cannot be written.
    pub async fn serve(
        self: Arc<Self>,
        addr: SocketAddr,
        options: &ControlOptions,
        stop: CancellationToken,
    ) -> io::Result<ControlServer> {
        control::serve_with(self, stop, addr, options).await
    }

    /// Stops the node running here, if any, and waits until it has.
    async fn clear(&self) {
        if let Some(node) = self.node.lock().await.take() {
            node.crash();
            node.stopped().await;
        }
    }

    /// Starts the node `document` describes, sharing `files`; replaces any running one.
    async fn start(
        &self,
        document: serde_json::Value,
        files: Vec<(String, u64)>,
        content_seed: u64,
    ) -> Result<SocketAddr, String> {
        let spec: NodeSpec = serde_json::from_value(document)
            .map_err(|e| format!("not a node this seat can start: {e}"))?;
        spec.validate("node").map_err(|e| e.to_string())?;
        self.clear().await;
        let library = Library::synthetic(files, content_seed);
        let launcher = Launcher::default();
        let give_up = tokio::time::Instant::now() + REBIND_PATIENCE;
        let node = loop {
            match spec.launch(&launcher, self.listen, library.clone()).await {
                Err(e)
                    if e.kind() == io::ErrorKind::AddrInUse
                        && tokio::time::Instant::now() < give_up =>
                {
                    tokio::time::sleep(REBIND_EVERY).await;
                }
                other => break other,
            }
        }
        .map_err(|e| format!("cannot listen on {}: {e}", self.listen.addr))?;
        let addr = node.addr();
        *self.node.lock().await = Some(node);
        Ok(addr)
    }

    /// Downloads `hit` through `node` and returns the bytes, leaving no file behind.
    async fn fetch_bytes(&self, node: &NodeHandle, hit: Hit) -> Result<ControlReply, String> {
        if hit.size > MAX_BYTES_BACK {
            return Err(format!(
                "{} is {} bytes; a seat sends back at most {MAX_BYTES_BACK}",
                hit.name, hit.size
            ));
        }
        std::fs::create_dir_all(&self.scratch)
            .map_err(|e| format!("cannot create {}: {e}", self.scratch.display()))?;
        let k = self.downloads.fetch_add(1, Ordering::Relaxed);
        let out = self.scratch.join(k.to_string());
        let fetched = node.fetch(hit, &out, true).await.map_err(|e| e.to_string());
        let bytes = fetched.and_then(|f| {
            let bytes =
                std::fs::read(&out).map_err(|e| format!("cannot read {}: {e}", out.display()));
            bytes.map(|b| (f.from, b))
        });
        let _ = std::fs::remove_file(&out);
        let (from, bytes) = bytes?;
        Ok(ControlReply::Bytes {
            from,
            hex: hex::encode(bytes),
        })
    }

    /// The node running here, if one is.
    async fn running(&self) -> Option<NodeHandle> {
        self.node
            .lock()
            .await
            .clone()
            .filter(|node| !node.is_stopped())
    }
}

impl Obey for Seat {
    async fn obey(&self, req: ControlRequest) -> ControlReply {
        match req {
            ControlRequest::Start {
                node,
                files,
                content_seed,
            } => match self.start(node, files, content_seed).await {
                Ok(addr) => ControlReply::Started { addr },
                Err(message) => ControlReply::Error { message },
            },
            other => match self.running().await {
                Some(node) => match other {
                    ControlRequest::FetchBytes { hit } => self
                        .fetch_bytes(&node, hit)
                        .await
                        .unwrap_or_else(|message| ControlReply::Error { message }),
                    other => control::execute(&node, other).await,
                },
                None => ControlReply::Error {
                    message: format!(
                        "no node runs on the seat at {} now (it was never started, or it \
                         crashed or left)",
                        self.listen.addr
                    ),
                },
            },
        }
    }
}
