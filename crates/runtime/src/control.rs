//! The control server: JSON lines on a local TCP port, one request and one reply per line
//! (`p2plab_peer_protocol::control`). It turns each request into a [`NodeHandle`] call.

use std::io;
use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::{Framed, LinesCodec};

use p2plab_peer_protocol::control::{ControlReply, ControlRequest, MAX_LINE_LEN};
use p2plab_peer_protocol::Library;

use crate::handle::NodeHandle;

/// Starts a control server for `node` on `addr`; returns the address it listens on.
///
/// # Errors
/// If `addr` cannot be bound.
pub async fn serve(node: &NodeHandle, addr: SocketAddr) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let session_node = node.clone();
    crate::listen::accept_until_stopped(listener, node, move |stream, _| {
        tokio::spawn(session(stream, session_node.clone()));
    });
    Ok(local)
}

async fn session(stream: TcpStream, node: NodeHandle) {
    let mut lines = Framed::new(stream, LinesCodec::new_with_max_length(MAX_LINE_LEN));
    while let Some(Ok(line)) = lines.next().await {
        let reply = match serde_json::from_str::<ControlRequest>(&line) {
            Ok(req) => execute(&node, req).await,
            Err(e) => ControlReply::Error {
                message: format!("bad request: {e}"),
            },
        };
        let Ok(text) = serde_json::to_string(&reply) else {
            return;
        };
        if lines.send(text).await.is_err() {
            return;
        }
    }
}

/// Carries out one request.
pub async fn execute(node: &NodeHandle, req: ControlRequest) -> ControlReply {
    let error = |e: &dyn std::fmt::Display| ControlReply::Error {
        message: e.to_string(),
    };
    match req {
        ControlRequest::Search { query } => match node.search(&query).await {
            Ok(hits) => ControlReply::Hits { hits },
            Err(e) => error(&e),
        },
        ControlRequest::Get { name, out } => match node.get(&name, &out).await {
            Ok(f) => ControlReply::Downloaded {
                name,
                bytes: f.bytes,
                from: f.from,
            },
            Err(e) => error(&e),
        },
        ControlRequest::Share { dir } => match Library::from_dir(&dir) {
            Ok(library) => {
                node.share(library);
                ControlReply::Done
            }
            Err(e) => error(&format!("cannot share {}: {e}", dir.display())),
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
    }
}
