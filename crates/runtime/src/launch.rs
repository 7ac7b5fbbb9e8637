//! Starting nodes: bind the listeners, build the core with the addresses it must advertise,
//! and hand both to a driver.

use std::io;
use std::net::SocketAddr;

use tokio::net::TcpListener;

use p2plab_chord::{ChordConfig, ChordNode};
use p2plab_gnutella::{Servent, ServentConfig};
use p2plab_napster::{PeerConfig, Server, ServerConfig};
use p2plab_peer_protocol::Library;

use crate::driver::{self, DriverSpec};
use crate::handle::{NodeHandle, SharedLibrary};
use crate::listen::{self, Serves};

/// Starts a Napster index server listening on `listen`.
///
/// # Errors
/// If the address cannot be bound.
pub async fn napster_server(listen: SocketAddr, config: ServerConfig) -> io::Result<NodeHandle> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let spec = DriverSpec {
        kind: "napster-server",
        addr,
        library: SharedLibrary::default(),
        describe: |server: &Server| {
            serde_json::json!({
                "users": server.user_count(),
                "files": server.file_count(),
                "connections": server.connection_count(),
            })
        },
    };
    let node = driver::spawn(Server::new(config), spec);
    listen::spawn(listener, node.clone(), Serves::Core);
    Ok(node)
}

/// Starts a Napster peer: it logs in to `server` and serves its files on a data port bound
/// at `data_listen`.
///
/// # Errors
/// If the data port cannot be bound.
pub async fn napster_peer(
    server: SocketAddr,
    data_listen: SocketAddr,
    nick: &str,
    library: Library,
) -> io::Result<NodeHandle> {
    let listener = TcpListener::bind(data_listen).await?;
    let addr = listener.local_addr()?;
    let shared = SharedLibrary::new(library);
    let config = PeerConfig::new(server, nick, addr.port(), shared.get());
    let spec = DriverSpec {
        kind: "napster-peer",
        addr,
        library: shared,
        describe: |peer: &p2plab_napster::Peer| serde_json::json!({ "nick": peer.nick(), "online": peer.is_online() }),
    };
    let node = driver::spawn(p2plab_napster::Peer::new(config), spec);
    listen::spawn(listener, node.clone(), Serves::NapsterData);
    Ok(node)
}

/// Starts a Gnutella 0.4 servent on `listen`, which also serves HTTP downloads.
/// `configure` adjusts the defaults (bootstrap peers, TTL, neighbour bounds, seed).
///
/// # Errors
/// If the address cannot be bound.
pub async fn gnutella_servent(
    listen: SocketAddr,
    library: Library,
    configure: impl FnOnce(&mut ServentConfig),
) -> io::Result<NodeHandle> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let shared = SharedLibrary::new(library);
    let mut config = ServentConfig::new(addr, shared.get());
    configure(&mut config);
    let spec = DriverSpec {
        kind: "gnutella",
        addr,
        library: shared,
        describe: |servent: &Servent| {
            serde_json::json!({
                "servent_id": servent.servent_id().to_string(),
                "neighbours": servent.neighbours(),
                "host_cache": servent.host_cache_len(),
                "queries_handled": servent.queries_handled(),
            })
        },
    };
    let node = driver::spawn(Servent::new(config), spec);
    listen::spawn(listener, node.clone(), Serves::CoreAndHttp);
    Ok(node)
}

/// Starts a Chord node on `listen`, which also serves HTTP downloads. `configure` adjusts
/// the defaults (the node to join through, successors, replicas, periods, seed).
///
/// # Errors
/// If the address cannot be bound.
pub async fn chord_node(
    listen: SocketAddr,
    library: Library,
    configure: impl FnOnce(&mut ChordConfig),
) -> io::Result<NodeHandle> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let shared = SharedLibrary::new(library);
    let mut config = ChordConfig::new(addr, None, shared.get());
    configure(&mut config);
    let spec = DriverSpec {
        kind: "chord",
        addr,
        library: shared,
        describe: |node: &ChordNode| serde_json::to_value(node.ring_view()).unwrap_or_default(),
    };
    let node = driver::spawn(ChordNode::new(config), spec);
    listen::spawn(listener, node.clone(), Serves::CoreAndHttp);
    Ok(node)
}
