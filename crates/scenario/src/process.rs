//! Nodes as child processes: `p2plab napster server|peer`, `p2plab gnutella node`,
//! `p2plab chord node`, each with `--control`, each sharing a folder the runner fills with
//! the plan's synthetic files.
//!
//! Every child is spawned with `kill_on_drop`, and lives inside a [`Peer`] that the cluster
//! owns: when the run ends, fails or is interrupted (the CLI drops the run on Ctrl-C), the
//! clusters are dropped and every child is killed with them.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};
use tokio::sync::Mutex;

use p2plab_peer_protocol::Library;
use p2plab_runtime::control::{token, ControlClient};

use crate::peer::{address_after, Peer, RemoteNode, STARTUP_TIMEOUT};

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

    /// Starts `p2plab <args>` and waits for it to report its addresses.
    ///
    /// # Errors
    /// If it cannot start or reports no address in time.
    pub async fn spawn(&self, args: &[String]) -> anyhow::Result<Peer> {
        let mut child = Command::new(&self.exe)
            .args(args)
            .env(token::DIR_ENV, self.control_dir())
            .env_remove(token::TOKEN_ENV)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", self.exe.display()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdout from child"))?;
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
            child: Mutex::new(child),
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

/// `--flag value` pairs as strings.
pub fn args<const N: usize>(pairs: [(&str, String); N]) -> Vec<String> {
    pairs
        .into_iter()
        .flat_map(|(k, v)| [k.to_owned(), v])
        .collect()
}

/// The resident and peak memory of a process, in KiB, from `/proc/<pid>/status`.
pub fn memory_kib(pid: &str) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(Path::new("/proc").join(pid).join("status")).ok()?;
    let field = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}
