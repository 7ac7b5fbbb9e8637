//! Starting nodes: bind the listener, build the core with the address it must advertise,
//! and hand both to a driver.
//!
//! A [`Launcher`] starts nodes on a [`Fabric`] — the network they see, which the scenario
//! runner cuts, heals and slows. The free functions start a node on an open fabric of its
//! own (what `p2plab nodes` runs; its control port can still change that fabric).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::net::TcpListener;

use p2plab_chord::{ChordConfig, ChordNode};
use p2plab_gnutella::{Servent, ServentConfig};
use p2plab_napster::{Peer, PeerConfig, Server, ServerConfig};
use p2plab_peer_protocol::{Library, Node};

use crate::driver::{self, DriverSpec};
use crate::fabric::Fabric;
use crate::handle::{NodeHandle, SharedLibrary};
use crate::listen::{self, Serves};

/// Binds `listen`, builds the core from the bound address and the library, and runs both.
/// With nothing to serve (a firewalled peer), the listener only names the node, and closes.
async fn start<N: Node + Send + 'static>(
    fabric: &Fabric,
    listen: SocketAddr,
    library: Library,
    kind: &'static str,
    serves: Option<Serves>,
    build: impl FnOnce(SocketAddr, Arc<Library>) -> N,
    describe: fn(&N) -> serde_json::Value,
) -> io::Result<NodeHandle> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let library = SharedLibrary::new(library);
    let core = build(addr, library.get());
    let node = driver::spawn(
        core,
        DriverSpec {
            kind,
            addr,
            library,
            describe,
            fabric: fabric.clone(),
        },
    );
    if let Some(serves) = serves {
        listen::spawn(listener, node.clone(), serves);
    }
    Ok(node)
}

/// Whether a Napster peer can be connected to.
#[derive(Debug, Clone, Copy)]
enum Reach {
    /// It listens on its data port.
    Listening,
    /// It announces data port 0 and pushes.
    Firewalled,
}

/// Starts nodes that all see one [`Fabric`].
#[derive(Clone, Debug, Default)]
pub struct Launcher {
    fabric: Fabric,
}

impl Launcher {
    /// A launcher whose nodes see `fabric` (clones of one fabric are the same network).
    pub fn new(fabric: Fabric) -> Self {
        Launcher { fabric }
    }

    /// The fabric its nodes see.
    pub fn fabric(&self) -> &Fabric {
        &self.fabric
    }

    /// Starts a Napster index server listening on `listen`. Its
    /// [`ServerConfig::clock_origin_unix`] is set to now, when its clock starts.
    ///
    /// # Errors
    /// If the address cannot be bound.
    pub async fn napster_server(
        &self,
        listen: SocketAddr,
        config: ServerConfig,
    ) -> io::Result<NodeHandle> {
        let describe = |server: &Server| {
            serde_json::json!({
                "users": server.user_count(),
                "files": server.file_count(),
                "connections": server.connection_count(),
            })
        };
        // The driver's clock starts as the core is built: now is its origin.
        let origin = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let build = move |_, _| {
            Server::new(ServerConfig {
                clock_origin_unix: origin,
                ..config
            })
        };
        start(
            &self.fabric,
            listen,
            Library::empty(),
            "napster-server",
            Some(Serves::Core),
            build,
            describe,
        )
        .await
    }

    /// Starts a Napster peer: it logs in to `server` and serves its files on a data port bound
    /// at `data_listen`.
    ///
    /// # Errors
    /// If the data port cannot be bound.
    pub async fn napster_peer(
        &self,
        server: SocketAddr,
        data_listen: SocketAddr,
        nick: &str,
        library: Library,
    ) -> io::Result<NodeHandle> {
        self.napster_peer_serving(server, data_listen, nick, library, Reach::Listening)
            .await
    }

    /// Starts a firewalled Napster peer (napster.txt §4.2): it logs in to `server` with data
    /// port 0 and accepts no connections, so its files go out by push, to downloaders the
    /// server names in 501s. `address` only names the node (in `stats`, and to the fabric):
    /// it is bound to find a free one, then closed. Such a peer can still download from a
    /// peer that is not firewalled.
    ///
    /// # Errors
    /// If `address` cannot be bound.
    pub async fn napster_firewalled_peer(
        &self,
        server: SocketAddr,
        address: SocketAddr,
        nick: &str,
        library: Library,
    ) -> io::Result<NodeHandle> {
        self.napster_peer_serving(server, address, nick, library, Reach::Firewalled)
            .await
    }

    async fn napster_peer_serving(
        &self,
        server: SocketAddr,
        data_listen: SocketAddr,
        nick: &str,
        library: Library,
        reach: Reach,
    ) -> io::Result<NodeHandle> {
        let describe =
            |peer: &Peer| serde_json::json!({ "nick": peer.nick(), "online": peer.is_online() });
        let build = |addr: SocketAddr, library| {
            let port = match reach {
                Reach::Listening => addr.port(),
                Reach::Firewalled => 0,
            };
            Peer::new(PeerConfig::new(server, nick, port, library))
        };
        let serves = match reach {
            Reach::Listening => Some(Serves::NapsterData),
            Reach::Firewalled => None,
        };
        start(
            &self.fabric,
            data_listen,
            library,
            "napster-peer",
            serves,
            build,
            describe,
        )
        .await
    }

    /// Starts a Gnutella 0.4 servent on `listen`, which also serves HTTP downloads.
    /// `configure` adjusts the defaults (bootstrap peers, TTL, neighbour bounds, seed).
    ///
    /// # Errors
    /// If the address cannot be bound.
    pub async fn gnutella_servent(
        &self,
        listen: SocketAddr,
        library: Library,
        configure: impl FnOnce(&mut ServentConfig),
    ) -> io::Result<NodeHandle> {
        let build = |addr, library| {
            let mut config = ServentConfig::new(addr, library);
            configure(&mut config);
            Servent::new(config)
        };
        start(
            &self.fabric,
            listen,
            library,
            "gnutella",
            Some(Serves::CoreAndHttp),
            build,
            describe_servent,
        )
        .await
    }

    /// Starts a Chord node on `listen`, which also serves HTTP downloads. `configure` adjusts
    /// the defaults (the node to join through, successors, replicas, periods, seed).
    ///
    /// # Errors
    /// If the address cannot be bound.
    pub async fn chord_node(
        &self,
        listen: SocketAddr,
        library: Library,
        configure: impl FnOnce(&mut ChordConfig),
    ) -> io::Result<NodeHandle> {
        let describe =
            |node: &ChordNode| serde_json::to_value(node.ring_view()).unwrap_or_default();
        let build = |addr, library| {
            let mut config = ChordConfig::new(addr, None, library);
            configure(&mut config);
            ChordNode::new(config)
        };
        start(
            &self.fabric,
            listen,
            library,
            "chord",
            Some(Serves::CoreAndHttp),
            build,
            describe,
        )
        .await
    }
}

/// [`Launcher::napster_server`] on an open fabric of its own.
///
/// # Errors
/// If the address cannot be bound.
pub async fn napster_server(listen: SocketAddr, config: ServerConfig) -> io::Result<NodeHandle> {
    Launcher::default().napster_server(listen, config).await
}

/// [`Launcher::napster_peer`] on an open fabric of its own.
///
/// # Errors
/// If the data port cannot be bound.
pub async fn napster_peer(
    server: SocketAddr,
    data_listen: SocketAddr,
    nick: &str,
    library: Library,
) -> io::Result<NodeHandle> {
    Launcher::default()
        .napster_peer(server, data_listen, nick, library)
        .await
}

/// [`Launcher::napster_firewalled_peer`] on an open fabric of its own.
///
/// # Errors
/// If `address` cannot be bound.
pub async fn napster_firewalled_peer(
    server: SocketAddr,
    address: SocketAddr,
    nick: &str,
    library: Library,
) -> io::Result<NodeHandle> {
    Launcher::default()
        .napster_firewalled_peer(server, address, nick, library)
        .await
}

/// [`Launcher::gnutella_servent`] on an open fabric of its own.
///
/// # Errors
/// If the address cannot be bound.
pub async fn gnutella_servent(
    listen: SocketAddr,
    library: Library,
    configure: impl FnOnce(&mut ServentConfig),
) -> io::Result<NodeHandle> {
    Launcher::default()
        .gnutella_servent(listen, library, configure)
        .await
}

/// [`Launcher::chord_node`] on an open fabric of its own.
///
/// # Errors
/// If the address cannot be bound.
pub async fn chord_node(
    listen: SocketAddr,
    library: Library,
    configure: impl FnOnce(&mut ChordConfig),
) -> io::Result<NodeHandle> {
    Launcher::default()
        .chord_node(listen, library, configure)
        .await
}

/// A servent's state as its `stats` reply gives it: its id, its neighbours' listen
/// addresses (what a report measures the real overlay from), the host cache's size, the
/// Queries it handled, the duplicate Queries that came with more TTL than their first copy
/// (`shadowed_queries`, and the descriptor IDs of their floods, `shadowed`), and its lately
/// closed searches (`closed_searches`: `[query, descriptor ID, QueryHits after the window]`
/// triples). The simulator reads servents through this too.
pub fn describe_servent(servent: &Servent) -> serde_json::Value {
    let closed: Vec<(&str, String, u32)> = servent
        .late_hits()
        .map(|l| (l.query.as_str(), l.guid().to_string(), l.hits))
        .collect();
    let shadowed: Vec<String> = servent.shadowed().map(ToString::to_string).collect();
    serde_json::json!({
        "servent_id": servent.servent_id().to_string(),
        "neighbours": servent.neighbours(),
        "host_cache": servent.host_cache_len(),
        "queries_handled": servent.queries_handled(),
        "shadowed_queries": servent.shadowed_queries(),
        "shadowed": shadowed,
        "closed_searches": closed,
    })
}
