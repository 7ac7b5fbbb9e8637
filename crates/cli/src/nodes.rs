//! Subcommands that start a node and keep it running until Ctrl-C (or a `crash`/`leave`
//! through its control port).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;

use p2plab_peer_protocol::Library;
use p2plab_runtime::{control, launch, NodeHandle};

/// `p2plab napster ...`
#[derive(Debug, Subcommand)]
pub enum NapsterCmd {
    /// The central index server (OpenNap protocol).
    Server {
        /// Where clients connect (OpenNap's usual port is 8888).
        #[arg(long, default_value = "127.0.0.1:8888")]
        listen: SocketAddr,
        /// Control port for `p2plab stats`.
        #[arg(long)]
        control: Option<SocketAddr>,
    },
    /// A peer: logs in to the server, shares a folder, serves downloads on its data port.
    Peer {
        /// The index server's address.
        #[arg(long)]
        server: SocketAddr,
        /// The folder to share (its plain files).
        #[arg(long)]
        share: PathBuf,
        /// The data port other peers download from (Napster's usual one is 6699).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Control port for `p2plab search`, `get`, `stats`.
        #[arg(long, default_value = "127.0.0.1:0")]
        control: SocketAddr,
        /// The nick to log in with (default: derived from the data port).
        #[arg(long)]
        nick: Option<String>,
    },
}

fn share(dir: &Path) -> anyhow::Result<Library> {
    Library::from_dir(dir).with_context(|| format!("cannot share folder {}", dir.display()))
}

/// Runs a Napster server or peer until it stops.
pub async fn napster(cmd: NapsterCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        NapsterCmd::Server { listen, control } => {
            let node = launch::napster_server(listen, Default::default())
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            run_until_stopped(node, control).await
        }
        NapsterCmd::Peer {
            server,
            share: dir,
            listen,
            control,
            nick,
        } => {
            let library = share(&dir)?;
            let nick = nick.unwrap_or_else(|| format!("peer{}", std::process::id()));
            let node = launch::napster_peer(server, listen, &nick, library)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            run_until_stopped(node, Some(control)).await
        }
    }
}

/// Prints where the node listens, serves its control port, and waits for Ctrl-C or a stop.
async fn run_until_stopped(
    node: NodeHandle,
    control: Option<SocketAddr>,
) -> anyhow::Result<ExitCode> {
    println!("{} listening on {}", node.kind(), node.addr());
    if let Some(addr) = control {
        let bound = control::serve(&node, addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        println!("control port {bound}");
    }
    tokio::select! {
        _ = tokio::signal::ctrl_c() => node.crash(),
        _ = node.stopped() => {}
    }
    Ok(ExitCode::SUCCESS)
}
