//! [`ControlClient`]: one request, one reply, with the owner's token.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use p2plab_peer_protocol::control::{
    ControlReply, ControlRequest, ControlToken, RequestLine, MAX_REPLY_LEN,
};

use super::token;

/// A node's control port and the token it obeys.
#[derive(Debug, Clone)]
pub struct ControlClient {
    addr: SocketAddr,
    token: ControlToken,
}

impl ControlClient {
    /// The client of the control port at `addr`, with the token its node left in `dir`
    /// (or given in `$P2PLAB_CONTROL_TOKEN`).
    ///
    /// # Errors
    /// A sentence naming the token file that could not be read.
    pub fn find(addr: SocketAddr, dir: &Path) -> Result<Self, String> {
        Ok(ControlClient {
            addr,
            token: token::find(dir, addr)?,
        })
    }

    /// The client of the control port at `addr`, obeying `token` (given by its owner: a
    /// roster's token, a shared secret).
    pub fn new(addr: SocketAddr, token: ControlToken) -> Self {
        ControlClient { addr, token }
    }

    /// The control port's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sends `req` on a fresh connection and reads the reply, all within `timeout`.
    ///
    /// # Errors
    /// A sentence: no node there, no answer in time, or an unreadable reply.
    pub async fn ask(
        &self,
        req: &ControlRequest,
        timeout: Duration,
    ) -> Result<ControlReply, String> {
        let addr = self.addr;
        let exchange = async {
            let stream = TcpStream::connect(addr)
                .await
                .map_err(|e| format!("no node answers on control port {addr}: {e}"))?;
            let (rd, mut wr) = stream.into_split();
            wr.write_all(RequestLine::encode(&self.token, req).as_bytes())
                .await
                .map_err(|e| format!("control port {addr}: {e}"))?;
            let mut reply = String::new();
            BufReader::new(rd.take(MAX_REPLY_LEN))
                .read_line(&mut reply)
                .await
                .map_err(|e| format!("control port {addr}: {e}"))?;
            if reply.is_empty() {
                return Err(format!(
                    "the node at {addr} closed the control connection without answering"
                ));
            }
            serde_json::from_str(&reply).map_err(|e| format!("unreadable reply from {addr}: {e}"))
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or_else(|_| Err(format!("no answer from {addr} within {timeout:?}")))
    }
}
