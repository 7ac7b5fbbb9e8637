//! What the runtime chooses for a servent.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use p2plab_peer_protocol::Library;

use crate::{DEFAULT_TTL, MAX_TTL};

/// A servent's configuration. [`ServentConfig::new`] gives sensible defaults.
#[derive(Debug, Clone)]
pub struct ServentConfig {
    /// Our own listening address: put in Pongs (where to connect for Gnutella) and in QueryHits
    /// (where to download over HTTP — the runtime serves both on this port and sniffs which is
    /// which). Only IPv4 fits the wire format; an IPv6 address is advertised as 0.0.0.0.
    pub advertise: SocketAddr,
    /// Servents to connect to at start (at most `max_peers` of them). They also seed the host
    /// cache, and are dialled again if the cache runs dry.
    pub bootstrap: Vec<SocketAddr>,
    /// The files this servent shares and answers Queries from.
    pub library: Arc<Library>,
    /// TTL of the Queries this servent starts: how many hops a search floods.
    pub ttl: u8,
    /// Ceiling on TTL + Hops of arriving descriptors; larger TTLs are lowered to fit.
    pub max_ttl: u8,
    /// TTL of the Pings this servent starts. Classic 0.4 servents used 7, and their Ping/Pong
    /// floods were most of Gnutella's traffic; 1 or 2 keeps discovery local.
    pub ping_ttl: u8,
    /// Below this many neighbours the servent dials addresses from its host cache.
    pub min_peers: usize,
    /// Above this many neighbours it refuses incoming connections.
    pub max_peers: usize,
    /// How often it pings all neighbours, to keep the host cache fresh.
    pub ping_interval: Duration,
    /// How long a search collects QueryHits before it reports what it found.
    pub search_window: Duration,
    /// A connection whose handshake has not finished by then is closed.
    pub handshake_timeout: Duration,
    /// Seeds the servent's RNG (descriptor IDs, servent ID): same seed, same run.
    pub seed: u64,
    /// The speed this servent claims in QueryHits, kbit/s; Queries asking more get no answer.
    pub speed_kbps: u32,
}

impl ServentConfig {
    /// Defaults: TTL 7 for Queries and Pings, 4 to 8 neighbours, a ping every 30 s, searches
    /// that collect for 3 s, a 5 s handshake timeout, no bootstrap list.
    pub fn new(advertise: SocketAddr, library: Arc<Library>) -> Self {
        ServentConfig {
            advertise,
            bootstrap: Vec::new(),
            library,
            ttl: DEFAULT_TTL,
            max_ttl: MAX_TTL,
            ping_ttl: DEFAULT_TTL,
            min_peers: 4,
            max_peers: 8,
            ping_interval: Duration::from_secs(30),
            search_window: Duration::from_secs(3),
            handshake_timeout: Duration::from_secs(5),
            seed: seed_from(advertise),
            speed_kbps: 1_000,
        }
    }
}

/// A seed that differs between servents on different addresses.
fn seed_from(addr: SocketAddr) -> u64 {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(v4) => u64::from(u32::from(v4)),
        std::net::IpAddr::V6(v6) => u128::from(v6) as u64,
    };
    (ip << 16) | u64::from(addr.port())
}
