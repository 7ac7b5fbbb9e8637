//! Starting nodes: bind the listener, build the core with the address it must advertise,
//! and hand both to a driver.
//!
//! Every function takes where to listen as a [`Listen`] (a bare `SocketAddr` is one that
//! advertises itself): the one rule of `p2plab_peer_protocol::advertise` decides, for
//! every kind of node alike, the address its core puts in what it sends, and refuses to
//! start a node that would advertise no address its peers can reach.
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
use p2plab_peer_protocol::{Library, Listen, Node};

use crate::driver::{self, DriverSpec};
use crate::fabric::Fabric;
use crate::handle::{NodeHandle, SharedLibrary};
use crate::listen::{self, Serves};

/// What kind of node [`start`] starts, and what its listener and dials do.
struct Role {
    /// `napster-server`, `napster-peer`, `gnutella`, `chord`.
    kind: &'static str,
    /// What the listener serves; `None` (a firewalled peer): it only names the node.
    serves: Option<Serves>,
    /// Whether the node's dials leave from its advertised IP: for a node whose address a
    /// peer learns from the connection (a Napster peer's server records the IP it logged in
    /// from), so the address it records is the one the node advertises.
    dials_from_advertised: bool,
}

/// Checks what `listen` would advertise (see [`p2plab_peer_protocol::advertise`]), binds
/// it, builds the core with the advertised address and the library, and runs both.
///
/// # Errors
/// `InvalidInput` naming the flag when the node would have no address its peers can reach;
/// the bind's error.
async fn start<N: Node + Send + 'static>(
    fabric: &Fabric,
    listen: Listen,
    library: Library,
    role: Role,
    build: impl FnOnce(SocketAddr, Arc<Library>) -> N,
    describe: fn(&N) -> serde_json::Value,
) -> io::Result<NodeHandle> {
    let refused = |e| io::Error::new(io::ErrorKind::InvalidInput, e);
    listen.check().map_err(refused)?;
    let listener = TcpListener::bind(listen.addr).await?;
    let addr = listen.advertised(listener.local_addr()?).map_err(refused)?;
    let library = SharedLibrary::new(library);
    let core = build(addr, library.get());
    let node = driver::spawn(
        core,
        DriverSpec {
            kind: role.kind,
            addr,
            library,
            describe,
            fabric: fabric.clone(),
            dial_from: role.dials_from_advertised.then_some(addr.ip()),
        },
    );
    if let Some(serves) = role.serves {
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
        listen: impl Into<Listen>,
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
        let role = Role {
            kind: "napster-server",
            serves: Some(Serves::Core),
            dials_from_advertised: false,
        };
        let listen = listen.into();
        start(
            &self.fabric,
            listen,
            Library::empty(),
            role,
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
        data_listen: impl Into<Listen>,
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
        address: impl Into<Listen>,
        nick: &str,
        library: Library,
    ) -> io::Result<NodeHandle> {
        self.napster_peer_serving(server, address, nick, library, Reach::Firewalled)
            .await
    }

    async fn napster_peer_serving(
        &self,
        server: SocketAddr,
        data_listen: impl Into<Listen>,
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
        let role = Role {
            kind: "napster-peer",
            serves: match reach {
                Reach::Listening => Some(Serves::NapsterData),
                Reach::Firewalled => None,
            },
            // The server records the IP of the connection a peer logs in on (as OpenNap
            // does) and gives it out as the peer's address: it must be the advertised one.
            dials_from_advertised: true,
        };
        start(
            &self.fabric,
            data_listen.into(),
            library,
            role,
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
        listen: impl Into<Listen>,
        library: Library,
        configure: impl FnOnce(&mut ServentConfig),
    ) -> io::Result<NodeHandle> {
        let build = |addr, library| {
            let mut config = ServentConfig::new(addr, library);
            configure(&mut config);
            Servent::new(config)
        };
        let role = Role {
            kind: "gnutella",
            serves: Some(Serves::CoreAndHttp),
            dials_from_advertised: false,
        };
        start(
            &self.fabric,
            listen.into(),
            library,
            role,
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
        listen: impl Into<Listen>,
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
        let role = Role {
            kind: "chord",
            serves: Some(Serves::CoreAndHttp),
            dials_from_advertised: false,
        };
        start(&self.fabric, listen.into(), library, role, build, describe).await
    }
}

/// [`Launcher::napster_server`] on an open fabric of its own.
///
/// # Errors
/// If the address cannot be bound.
pub async fn napster_server(
    listen: impl Into<Listen>,
    config: ServerConfig,
) -> io::Result<NodeHandle> {
    Launcher::default().napster_server(listen, config).await
}

/// [`Launcher::napster_peer`] on an open fabric of its own.
///
/// # Errors
/// If the data port cannot be bound.
pub async fn napster_peer(
    server: SocketAddr,
    data_listen: impl Into<Listen>,
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
    address: impl Into<Listen>,
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
    listen: impl Into<Listen>,
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
    listen: impl Into<Listen>,
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
