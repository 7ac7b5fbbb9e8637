//! [`NodeHandle`]: how the control server, the CLI and the scenario runner talk to a running
//! node, whatever its protocol.

use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use thiserror::Error;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use p2plab_peer_protocol::control::NodeStats;
use p2plab_peer_protocol::keywords::normalize_name;
use p2plab_peer_protocol::{
    Answer, Download, Event, Hit, Holder, Library, Question, SearchError, TransferNotice,
    CALL_TIMEOUT,
};

use crate::download::Target;
use crate::driver::{Call, ToDriver};
use crate::fabric::Fabric;
use crate::push::PushWaits;

/// The library a node shares, readable by its upload servers and replaceable by `share`.
#[derive(Debug, Clone, Default)]
pub struct SharedLibrary(Arc<RwLock<Arc<Library>>>);

impl SharedLibrary {
    /// Wraps a library.
    pub fn new(library: Library) -> Self {
        SharedLibrary(Arc::new(RwLock::new(Arc::new(library))))
    }

    /// The current library.
    pub fn get(&self) -> Arc<Library> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, library: Arc<Library>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = library;
    }
}

/// Why a request to a node failed.
#[derive(Debug, Error)]
pub enum NodeError {
    /// The node is no longer running.
    #[error("the node has stopped")]
    Stopped,
    /// The node did not answer in time.
    #[error("the node did not answer within {0:?}")]
    Timeout(Duration),
    /// The network could not run the search.
    #[error(transparent)]
    Search(#[from] SearchError),
    /// Nobody shares a file of that name.
    #[error("no peer shares a file named {0:?}")]
    NotFound(String),
    /// Every holder failed to deliver.
    #[error("download failed: {0}")]
    Transfer(String),
    /// The download has nowhere to go: `--out` is a folder, its folder is missing, or it
    /// names a file that exists and may not be replaced.
    #[error("{0}")]
    Output(String),
}

/// The result of a download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// Bytes written.
    pub bytes: u64,
    /// Who served them.
    pub from: String,
}

/// A cheap, cloneable handle to a running node.
#[derive(Debug, Clone)]
pub struct NodeHandle {
    tx: mpsc::UnboundedSender<ToDriver>,
    addr: SocketAddr,
    kind: &'static str,
    library: SharedLibrary,
    fabric: Fabric,
    cancel: CancellationToken,
    /// This node's downloads waiting for a firewalled holder to connect.
    pushes: PushWaits,
}

impl NodeHandle {
    pub(crate) fn new(
        tx: mpsc::UnboundedSender<ToDriver>,
        addr: SocketAddr,
        kind: &'static str,
        library: SharedLibrary,
        fabric: Fabric,
        cancel: CancellationToken,
    ) -> Self {
        NodeHandle {
            tx,
            addr,
            kind,
            library,
            fabric,
            cancel,
            pushes: PushWaits::default(),
        }
    }

    /// The node's listen address (for a Napster peer, its data port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `napster-server`, `napster-peer`, `gnutella` or `chord`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The network this node sees; a change to it reaches the node at once.
    pub fn fabric(&self) -> &Fabric {
        &self.fabric
    }

    /// Stops when the node stops: every task of the node watches this token.
    pub(crate) fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    pub(crate) fn library(&self) -> &SharedLibrary {
        &self.library
    }

    /// The downloads waiting for a push, which the data port hands pushes to.
    pub(crate) fn pushes(&self) -> &PushWaits {
        &self.pushes
    }

    /// Hands an accepted connection to the core, with the bytes already read from it.
    pub(crate) fn accepted(
        &self,
        stream: tokio::net::TcpStream,
        remote: SocketAddr,
        first: Vec<u8>,
    ) {
        let _ = self.tx.send(ToDriver::Accepted {
            stream,
            remote,
            first,
        });
    }

    pub(crate) fn notify(&self, notice: TransferNotice) {
        let _ = self.tx.send(ToDriver::Notice(notice));
    }

    /// True once the node has stopped (crashed or left).
    pub fn is_stopped(&self) -> bool {
        self.cancel.is_cancelled() || self.tx.is_closed()
    }

    async fn call(&self, call: Call) -> Result<Event, NodeError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(ToDriver::Call { call, reply })
            .map_err(|_| NodeError::Stopped)?;
        match tokio::time::timeout(CALL_TIMEOUT, answer).await {
            Ok(Ok(event)) => Ok(event),
            Ok(Err(_)) => Err(NodeError::Stopped),
            Err(_) => Err(NodeError::Timeout(CALL_TIMEOUT)),
        }
    }

    /// Searches the network for files matching every word of `query`.
    ///
    /// # Errors
    /// The network's [`SearchError`], or [`NodeError::Stopped`].
    pub async fn search(&self, query: &str) -> Result<Vec<Hit>, NodeError> {
        match self.call(Call::Search(query.to_owned())).await? {
            Event::SearchDone { result, .. } => Ok(result?),
            other => unreachable_event(other),
        }
    }

    /// Finds out where to download `hit` from.
    ///
    /// # Errors
    /// The network's [`SearchError`], or [`NodeError::Stopped`].
    pub async fn locate(&self, hit: Hit) -> Result<Download, NodeError> {
        match self.call(Call::Locate(hit)).await? {
            Event::Located { result, .. } => Ok(result?),
            other => unreachable_event(other),
        }
    }

    /// Asks the network about another user (a Napster browse, whois or ping).
    ///
    /// # Errors
    /// The network's [`SearchError`] — its own words for a user it does not know, or that
    /// it cannot answer such questions — or [`NodeError::Stopped`].
    pub async fn ask(&self, question: Question) -> Result<Answer, NodeError> {
        match self.call(Call::Ask(question)).await? {
            Event::Answered { result, .. } => Ok(result?),
            other => unreachable_event(other),
        }
    }

    /// Finds a file by name and downloads it into `out`, trying each holder in turn. The
    /// bytes go to `<out>.part`, renamed to `out` only once complete; an existing `out` is
    /// replaced only if `overwrite` is set.
    ///
    /// # Errors
    /// [`NodeError::Output`] if `out` cannot be written, [`NodeError::NotFound`] if no hit
    /// has that name, [`NodeError::Transfer`] if every holder failed, or the search's error.
    pub async fn get(&self, name: &str, out: &Path, overwrite: bool) -> Result<Fetched, NodeError> {
        let target = Target::new(out, overwrite).map_err(NodeError::Output)?;
        let wanted = normalize_name(name);
        let hits: Vec<Hit> = self
            .search(name)
            .await?
            .into_iter()
            .filter(|h| normalize_name(&h.name) == wanted)
            .collect();
        if hits.is_empty() {
            return Err(NodeError::NotFound(name.to_owned()));
        }
        let mut failures = Vec::new();
        for hit in hits {
            match self.fetch_into(hit, &target).await {
                Ok(fetched) => return Ok(fetched),
                Err(NodeError::Transfer(e)) => failures.push(e),
                Err(e) => return Err(e),
            }
        }
        Err(NodeError::Transfer(failures.join("; ")))
    }

    /// Downloads the file `hit` names, from its holder, into `out` (through `<out>.part`,
    /// as [`NodeHandle::get`] does).
    ///
    /// # Errors
    /// [`NodeError::Output`] if `out` cannot be written, [`NodeError::Transfer`] if the
    /// holder failed.
    pub async fn fetch(&self, hit: Hit, out: &Path, overwrite: bool) -> Result<Fetched, NodeError> {
        let target = Target::new(out, overwrite).map_err(NodeError::Output)?;
        self.fetch_into(hit, &target).await
    }

    /// Locates `hit` and downloads it into `target`; a failure names the holder.
    ///
    /// A Napster holder may turn out to be firewalled, and the locate then asks it to
    /// connect here: the push is expected before the locate begins, so that it cannot
    /// arrive unexpected, and no longer expected once this download is over.
    async fn fetch_into(&self, hit: Hit, target: &Target) -> Result<Fetched, NodeError> {
        let (size, holder) = (hit.size, hit.holder.to_string());
        let push = match &hit.holder {
            Holder::Napster { nick, .. } => self.pushes.expect(nick, &hit.name),
            Holder::Http { .. } => None,
        };
        let download = self
            .locate(hit)
            .await
            .map_err(|e| NodeError::Transfer(format!("{holder}: {e}")))?;
        let push = push.filter(|_| matches!(download, Download::NapsterPush { .. }));
        if let Some(addr) = download.addr() {
            if !self.fabric.allows(self.addr, addr) {
                // Across a cut: refused, as the holder's port would refuse it.
                let refused = io::Error::from(ErrorKind::ConnectionRefused);
                return Err(NodeError::Transfer(format!("{holder}: {refused}")));
            }
        }
        self.notify(TransferNotice::DownloadStarted);
        let fetched = crate::download::fetch(&download, size, target, push).await;
        self.notify(TransferNotice::DownloadFinished);
        let bytes = fetched.map_err(|e| NodeError::Transfer(format!("{holder}: {e}")))?;
        target.finish().map_err(NodeError::Output)?;
        Ok(Fetched {
            bytes,
            from: holder,
        })
    }

    /// Shares a new library (replacing the old one) and tells the network.
    pub fn share(&self, library: Library) {
        let library = Arc::new(library);
        self.library.set(library.clone());
        let _ = self.tx.send(ToDriver::Share(library));
    }

    /// The node's counters and its view of its network.
    ///
    /// # Errors
    /// [`NodeError::Stopped`].
    pub async fn stats(&self) -> Result<NodeStats, NodeError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(ToDriver::Stats(reply))
            .map_err(|_| NodeError::Stopped)?;
        answer.await.map_err(|_| NodeError::Stopped)
    }

    /// Leaves the network politely, then stops the node.
    ///
    /// # Errors
    /// [`NodeError::Stopped`] if it had already stopped.
    pub async fn leave(&self) -> Result<(), NodeError> {
        let left = self.call(Call::Leave).await.map(|_| ());
        self.crash();
        left
    }

    /// Stops the node at once: every socket closes, as if its machine died.
    pub fn crash(&self) {
        self.cancel.cancel();
    }

    /// Waits until the node has stopped.
    pub async fn stopped(&self) {
        self.cancel.cancelled().await;
    }
}

fn unreachable_event<T>(event: Event) -> Result<T, NodeError> {
    // The driver routes each event to the call with the same request id, and every call kind
    // is answered by exactly one event kind; anything else is a core bug, reported not panicked.
    Err(NodeError::Transfer(format!(
        "unexpected answer from the node: {event:?}"
    )))
}
