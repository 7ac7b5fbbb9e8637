//! Starting a node on a roster's seat: one `start` request over the seat's control port,
//! carrying the timeline's [`NodeSpec`] and the plan's file names, then the node is driven
//! like a child process, through the same port.

use std::sync::Arc;

use p2plab_peer_protocol::control::{ControlReply, ControlRequest};

use super::peer::{Peer, RemoteNode, CONTROL_TIMEOUT};
use crate::hosts::SeatAt;
use crate::node_spec::NodeSpec;

/// Starts `spec` on `seat`, sharing `files` (names and sizes, their bytes drawn from
/// `content_seed`), and checks it advertises the address the roster gives.
///
/// # Errors
/// The seat's refusal, or a node that advertises another address, as a sentence.
pub async fn start(
    seat: &SeatAt,
    spec: &NodeSpec,
    files: Vec<(String, u64)>,
    content_seed: u64,
) -> Result<Peer, String> {
    let control = seat.control.addr();
    let node = serde_json::to_value(spec).map_err(|e| format!("cannot describe the node: {e}"))?;
    let request = ControlRequest::Start {
        node,
        files,
        content_seed,
    };
    let addr = match seat.control.ask(&request, CONTROL_TIMEOUT).await? {
        ControlReply::Started { addr } => addr,
        ControlReply::Error { message } => return Err(format!("seat {control}: {message}")),
        other => return Err(format!("seat {control}: unexpected reply {other:?}")),
    };
    let node = Peer::Remote(Arc::new(RemoteNode {
        addr,
        control: seat.control.clone(),
        pid: None,
        child: None,
    }));
    if addr != seat.listen {
        node.crash().await;
        return Err(format!(
            "the node on seat {control} advertises {addr}, and the roster says {}",
            seat.listen
        ));
    }
    Ok(node)
}
