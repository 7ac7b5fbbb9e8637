//! The control server: JSON lines on a loopback TCP port, one request and one reply per line
//! (`p2plab_peer_protocol::control`), obeyed only when they carry the node's token. It turns
//! each request into a [`NodeHandle`] call; [`serve_with`] serves the same sessions for
//! anything else that obeys requests (a seat, which starts the nodes it is sent).
//!
//! - [`token`] — the token file the owner's clients read the token from.
//! - [`client`] — [`ControlClient`], how the CLI and the scenario runner ask a node.
//!
//! What bounds a session: lines of at most [`MAX_LINE_LEN`] bytes, [`MAX_SESSIONS`] at once,
//! [`IDLE_TIMEOUT`] between requests, [`WRITE_TIMEOUT`] for each reply; the first line
//! that is not the owner's request ends it.

pub mod client;
pub mod token;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::codec::{Framed, LinesCodec};
use tokio_util::sync::CancellationToken;
use tracing::debug;

use p2plab_peer_protocol::control::{
    parse_line, ControlReply, ControlRequest, ControlToken, LineError, IDLE_TIMEOUT, MAX_LINE_LEN,
    MAX_SESSIONS,
};
use p2plab_peer_protocol::{Library, SearchError};

pub use client::ControlClient;
pub use token::TokenFile;

use crate::handle::{NodeError, NodeHandle};
use crate::limits::WRITE_TIMEOUT;

/// Who may reach a control port, and where its token goes.
#[derive(Debug, Clone)]
pub struct ControlOptions {
    /// Serve on an address other than loopback (other machines can then try it; they still
    /// need the token). Off unless the owner asks.
    pub allow_remote: bool,
    /// The folder for the token file (see [`token::control_dir`]).
    pub dir: PathBuf,
    /// How long a session may wait between requests: [`IDLE_TIMEOUT`] unless a test needs
    /// it shorter.
    pub idle: Duration,
    /// The token to obey, when the owner gives one (a Kubernetes Secret shared with the
    /// runner); `None` draws a fresh one, the usual case.
    pub token: Option<ControlToken>,
}

impl ControlOptions {
    /// Loopback only, the token file in `dir`, idle sessions closed after [`IDLE_TIMEOUT`].
    pub fn new(dir: PathBuf) -> Self {
        ControlOptions {
            allow_remote: false,
            dir,
            idle: IDLE_TIMEOUT,
            token: None,
        }
    }
}

/// A control port being served; dropping it removes the token file (the port itself closes
/// when its node stops).
#[derive(Debug)]
pub struct ControlServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Where its token is.
    pub token_file: TokenFile,
}

/// What a control port obeys: a running node, or a seat that starts nodes.
pub trait Obey: Send + Sync + 'static {
    /// Carries out one request and says how it went.
    fn obey(&self, req: ControlRequest) -> impl Future<Output = ControlReply> + Send;
}

/// A running node obeys through [`execute`].
struct NodeObeys(NodeHandle);

impl Obey for NodeObeys {
    async fn obey(&self, req: ControlRequest) -> ControlReply {
        execute(&self.0, req).await
    }
}

/// Starts a control server for `node` on `addr` and writes its token file; it closes when
/// the node stops.
///
/// # Errors
/// If `addr` is not loopback and `options.allow_remote` is off, if it cannot be bound, or if
/// the token file cannot be written privately.
pub async fn serve(
    node: &NodeHandle,
    addr: SocketAddr,
    options: &ControlOptions,
) -> io::Result<ControlServer> {
    let obeys = Arc::new(NodeObeys(node.clone()));
    serve_with(obeys, node.cancel_token(), addr, options).await
}

/// Starts a control server for anything that obeys on `addr` and writes its token file; it
/// closes when `stop` is cancelled.
///
/// # Errors
/// As [`serve`].
pub async fn serve_with<O: Obey>(
    obeys: Arc<O>,
    stop: CancellationToken,
    addr: SocketAddr,
    options: &ControlOptions,
) -> io::Result<ControlServer> {
    if !addr.ip().is_loopback() && !options.allow_remote {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "the control port {addr} would be reachable from other machines; use a \
                 127.0.0.1 address, or pass --control-allow-remote (requests still need the token)"
            ),
        ));
    }
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let token = match &options.token {
        Some(given) => given.clone(),
        None => token::generate()?,
    };
    let token_file = TokenFile::write(&options.dir, local, &token)?;
    let places = Arc::new(Semaphore::new(MAX_SESSIONS));
    let idle = options.idle;
    crate::listen::accept_until(listener, stop, move |stream, remote| {
        let Ok(place) = places.clone().try_acquire_owned() else {
            debug!(%remote, "control session refused: {MAX_SESSIONS} already open");
            return;
        };
        let (obeys, token) = (obeys.clone(), token.clone());
        tokio::spawn(async move {
            session(stream, &*obeys, &token, idle).await;
            drop(place);
        });
    });
    Ok(ControlServer {
        addr: local,
        token_file,
    })
}

/// Serves one session until its client leaves, idles for `idle`, or sends a line that is
/// not the owner's request.
async fn session(stream: TcpStream, obeys: &impl Obey, token: &ControlToken, idle: Duration) {
    let mut lines = Framed::new(stream, LinesCodec::new_with_max_length(MAX_LINE_LEN));
    loop {
        let line = match tokio::time::timeout(idle, lines.next()).await {
            Ok(Some(Ok(line))) => line,
            // Closed, too long, not UTF-8, or idle: hang up.
            _ => return,
        };
        let (reply, go_on) = match parse_line(&line, token) {
            Ok(req) => (obeys.obey(req).await, true),
            Err(LineError::LooksLikeHttp) => {
                debug!("control session ended: an HTTP request");
                return;
            }
            Err(e) => (
                ControlReply::Error {
                    message: e.to_string(),
                },
                false,
            ),
        };
        let Ok(text) = serde_json::to_string(&reply) else {
            return;
        };
        match tokio::time::timeout(WRITE_TIMEOUT, lines.send(text)).await {
            Ok(Ok(())) if go_on => {}
            _ => return,
        }
    }
}

/// The library of the folder `dir`, built on a blocking thread: building reads every file
/// once for its hashes, which may take seconds that no async task should wait on.
async fn library_of(dir: PathBuf) -> Result<Library, String> {
    let shown = dir.display().to_string();
    let built = tokio::task::spawn_blocking(move || Library::from_dir(&dir))
        .await
        .map_err(io::Error::other)
        .and_then(|built| built);
    built.map_err(|e| format!("cannot share {shown}: {e}"))
}

/// Carries out one request.
pub async fn execute(node: &NodeHandle, req: ControlRequest) -> ControlReply {
    let error = |e: &dyn std::fmt::Display| ControlReply::Error {
        message: e.to_string(),
    };
    match req {
        ControlRequest::Search { query } => match node.search(&query).await {
            Ok(hits) => ControlReply::Hits { hits },
            Err(NodeError::Search(SearchError::NotReady(why))) => {
                ControlReply::NotReady { message: why }
            }
            Err(e) => error(&e),
        },
        ControlRequest::Get {
            name,
            out,
            overwrite,
        } => match node.get(&name, &out, overwrite).await {
            Ok(f) => ControlReply::Downloaded {
                name,
                bytes: f.bytes,
                from: f.from,
            },
            Err(e) => error(&e),
        },
        ControlRequest::Fetch {
            hit,
            out,
            overwrite,
        } => {
            let name = hit.name.clone();
            match node.fetch(hit, &out, overwrite).await {
                Ok(f) => ControlReply::Downloaded {
                    name,
                    bytes: f.bytes,
                    from: f.from,
                },
                Err(e) => error(&e),
            }
        }
        ControlRequest::Share { dir } => match library_of(dir).await {
            Ok(library) => {
                node.share(library);
                ControlReply::Done
            }
            Err(e) => error(&e),
        },
        ControlRequest::Ask { question } => match node.ask(question).await {
            Ok(answer) => ControlReply::Answer { answer },
            Err(e) => error(&e),
        },
        ControlRequest::Stats => match node.stats().await {
            Ok(stats) => ControlReply::Stats(Box::new(stats)),
            Err(e) => error(&e),
        },
        ControlRequest::Leave => match node.leave().await {
            Ok(()) => ControlReply::Done,
            Err(e) => error(&e),
        },
        ControlRequest::Crash => {
            node.crash();
            ControlReply::Done
        }
        ControlRequest::Start { .. } | ControlRequest::FetchBytes { .. } => error(&format!(
            "this {} node is no seat: only a seat (`p2plab seat`) starts nodes and sends \
             downloads back",
            node.kind()
        )),
        ControlRequest::Fabric { cut, latency, seed } => {
            let fabric = node.fabric();
            match cut {
                Some(sides) => fabric.cut(&sides),
                None => fabric.heal(),
            }
            fabric.set_latency(latency, seed);
            ControlReply::Done
        }
    }
}
