//! Nodes as child processes: `p2plab node --spec -`, each reading its [`ChildSpec`] (the
//! timeline's [`NodeSpec`](crate::node_spec::NodeSpec), its ports and its folder) as one
//! JSON document on its standard input, each sharing a folder the runner fills with the
//! plan's synthetic files.
//!
//! Every child is spawned with `kill_on_drop`, and lives inside a [`Peer`] that the cluster
//! owns: when the run ends, fails or is interrupted (the CLI drops the run on Ctrl-C), the
//! clusters are dropped and every child is killed with them.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};
use tokio::sync::Mutex;

use p2plab_peer_protocol::Library;
use p2plab_runtime::control::{token, ControlClient};

use super::peer::{address_after, Peer, RemoteNode, STARTUP_TIMEOUT};
use crate::node_spec::ChildSpec;

/// How to start child nodes: which binary, and where their shared folders go.
#[derive(Debug, Clone)]
pub struct ProcessLauncher {
    /// The `p2plab` binary.
    pub exe: PathBuf,
    /// A scratch folder for shared files.
    pub dir: PathBuf,
}

impl ProcessLauncher {
    /// Writes `library` into a folder named `name` (once) and returns it.
    ///
    /// # Errors
    /// I/O errors.
    pub fn share_folder(&self, name: &str, library: &Library) -> std::io::Result<PathBuf> {
        let dir = self.dir.join(name);
        if dir.exists() {
            return Ok(dir);
        }
        std::fs::create_dir_all(&dir)?;
        for file in library.files() {
            let mut f = std::fs::File::create(dir.join(&file.name))?;
            f.write_all(&file.read_all()?)?;
        }
        Ok(dir)
    }

    /// The private folder where children leave their control tokens.
    fn control_dir(&self) -> PathBuf {
        self.dir.join("control")
    }

    /// Starts `p2plab node --spec -` with `spec` on its standard input, and waits for it to
    /// report its addresses.
    ///
    /// # Errors
    /// If it cannot start or reports no address in time.
    pub async fn spawn(&self, spec: &ChildSpec) -> anyhow::Result<Peer> {
        let document = serde_json::to_vec(spec)?;
        let mut child = Command::new(&self.exe)
            .args(["node", "--spec", "-"])
            .env(token::DIR_ENV, self.control_dir())
            .env_remove(token::TOKEN_ENV)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", self.exe.display()))?;
        let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(fail(child, anyhow::anyhow!("no pipes to the child")).await);
        };
        // Dropping stdin closes it: the child reads the document to its end.
        if let Err(e) = stdin.write_all(&document).await {
            return Err(fail(child, e.into()).await);
        }
        drop(stdin);
        let found = tokio::time::timeout(STARTUP_TIMEOUT, read_addresses(stdout)).await;
        let (addr, control) = match found {
            Ok(Ok(pair)) => pair,
            Ok(Err(e)) => return Err(fail(child, e).await),
            Err(_) => return Err(fail(child, anyhow::anyhow!("no address reported")).await),
        };
        let control = match ControlClient::find(control, &self.control_dir()) {
            Ok(client) => client,
            Err(e) => return Err(fail(child, anyhow::anyhow!(e)).await),
        };
        Ok(Peer::Remote(Arc::new(RemoteNode {
            addr,
            control,
            pid: child.id(),
            child: Some(Mutex::new(child)),
        })))
    }
}

async fn fail(mut child: Child, e: anyhow::Error) -> anyhow::Error {
    let _ = child.kill().await;
    anyhow::anyhow!("{} {e}", "child node failed to start:")
}

/// Reads `... listening on ADDR` and `control port ADDR` from the child's output, then
/// keeps draining it in the background so the child never blocks on a full pipe.
async fn read_addresses(stdout: ChildStdout) -> anyhow::Result<(SocketAddr, SocketAddr)> {
    let mut lines = BufReader::new(stdout).lines();
    let (mut addr, mut control) = (None, None);
    while addr.is_none() || control.is_none() {
        let Some(line) = lines.next_line().await? else {
            anyhow::bail!("the child exited before reporting its addresses");
        };
        addr = addr.or_else(|| address_after(&line, "listening on"));
        control = control.or_else(|| address_after(&line, "control port"));
    }
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((addr.unwrap_or_else(any), control.unwrap_or_else(any)))
}

fn any() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}
