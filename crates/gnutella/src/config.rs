//! What the runtime chooses for a servent, and the one home of every setting's default
//! and valid range: the command line and the scenario file both read the constants below
//! and check what they were given with [`ServentConfig::validate`].
//!
//! Two kinds of default: a lone servent started by hand (`p2plab gnutella node`) gets the
//! `DEFAULT_*` values, close to the classic 0.4 servents; a servent in a scenario's cluster,
//! one of a hundred or more on one machine, gets the `CLUSTER_*` values where the two differ,
//! each saying why.

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::Duration;

use p2plab_peer_protocol::settings::{check_range, PERIODS};
use p2plab_peer_protocol::{Library, SettingError};

/// The TTL a servent gives the descriptors it starts. The spec calls 7 the usual value, and
/// `TTL(i) + Hops(i) = TTL(0)` means no descriptor should ever carry more.
pub const DEFAULT_TTL: u8 = 7;

/// The default ceiling on TTL + Hops: a descriptor arriving above it has its TTL lowered (never
/// raised) so that TTL + Hops equals it. The spec requires accepting 1..=7.
pub const MAX_TTL: u8 = 7;

/// The TTLs a servent may give the Queries and Pings it starts, and its ceiling
/// `max_ttl`: at least one hop, or a descriptor reaches nobody; at most the spec's 7
/// ([`MAX_TTL`]), which servents lower larger TTLs to anyway.
pub const TTL: RangeInclusive<u8> = 1..=MAX_TTL;

/// The Query TTL of a servent in a cluster. A hundred servents of mean degree about six are
/// all within four hops, so a larger TTL finds nothing more and only multiplies the
/// duplicate Queries every servent drops.
pub const CLUSTER_TTL: u8 = 4;

/// The Ping TTL of a servent in a cluster. Classic 0.4 servents pinged with TTL 7, and those
/// floods were most of Gnutella's traffic; among hundreds of servents two hops find enough
/// addresses and keep the background traffic a scenario measures local.
pub const CLUSTER_PING_TTL: u8 = 2;

/// The most neighbours a servent keeps, lone or in a cluster: room above the fewest for the
/// servents that dial it. The Query budgets are sized for it
/// ([`MAX_QUERIES_PER_WINDOW`](crate::MAX_QUERIES_PER_WINDOW)).
pub const DEFAULT_MAX_PEERS: usize = 8;

/// The fewest neighbours a lone servent keeps before it dials from its host cache: a
/// handful, as 0.4 servents kept, so one lost neighbour does not cut it off.
pub const DEFAULT_MIN_PEERS: usize = 4;

/// The fewest neighbours of a servent in a cluster, which is also how many earlier servents
/// each new one dials at start: each servent then ends with about twice as many links (its
/// own dials and the later servents' dials), a mean degree of six within
/// [`DEFAULT_MAX_PEERS`].
pub const CLUSTER_MIN_PEERS: usize = 3;

/// The most neighbours a servent may be told to keep. Every neighbour gets a copy of every
/// Query flooded through the servent and holds a connection with its buffers; real 0.4
/// servents kept 4 to 8, and this is far above any useful degree while it keeps one
/// servent's fan-out bounded.
pub const MAX_NEIGHBOURS: usize = 256;

/// Valid `max_peers`: at least one neighbour, or the servent refuses everyone.
pub const MAX_PEERS: RangeInclusive<usize> = 1..=MAX_NEIGHBOURS;

/// Valid `min_peers`: 0 never dials from the host cache (only the bootstrap list); it may not
/// exceed `max_peers` either ([`ServentConfig::validate`]).
pub const MIN_PEERS: RangeInclusive<usize> = 0..=MAX_NEIGHBOURS;

/// The most ultrapeers a leaf keeps: gtk-gnutella's default (`max_ultrapeers`, at most 5
/// there). A leaf's searches go out through each of them, so a few give it reach and
/// spares, and more would only multiply the Queries it sends.
pub const MAX_ULTRAPEERS: usize = 4;

/// The most leaves an ultrapeer keeps, beside its ultrapeer links: 30, what LimeWire's
/// ultrapeers took. Each leaf costs the ultrapeer its query routing table (up to 256 KiB,
/// [`MAX_TABLE_BITS`](crate::qrp::MAX_TABLE_BITS)) and a table lookup per Query; a leaf
/// past it is refused with `503 Too many leaf connections`.
pub const MAX_LEAVES: usize = 30;

/// The part a servent plays in the overlay, and so what its handshake says of it.
///
/// Gnutella 0.4 has one kind of servent: every one floods every Query to every neighbour.
/// Gnutella 0.6 splits the work. *Leaves* (most servents, on slow or firewalled links) hold a
/// few connections, each to an *ultrapeer*, send each a query routing table (`qrp`) and pass
/// nothing on. Ultrapeers flood Queries among themselves as 0.4 servents do, and shield their
/// leaves: a Query goes to a leaf only if the leaf's table says it may answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Role {
    /// A 0.4 servent, the flooding node of the comparison: it forwards every Query to every
    /// other neighbour. It dials in 0.6 (saying `X-Ultrapeer: False`) and speaks 0.4 to a
    /// peer that refuses that.
    #[default]
    Flooding,
    /// A 0.6 leaf: it dials with `X-Ultrapeer: False`, offers deflate, sends each neighbour
    /// its query routing table, forwards nothing, and keeps at most [`MAX_ULTRAPEERS`]
    /// neighbours.
    Leaf,
    /// A 0.6 ultrapeer: it says `X-Ultrapeer: True`, keeps up to `max_peers` links to other
    /// ultrapeers (its degree, announced as `X-Degree`) and up to [`MAX_LEAVES`] leaves,
    /// floods Queries over its ultrapeer links and passes each to the leaves whose tables
    /// match it. When its ultrapeer links are full it guides a dialling ultrapeer to join as
    /// a leaf (`X-Ultrapeer-Needed: False`); dialling with no neighbour yet and guided so,
    /// it becomes a leaf itself, and [`Servent::config`](crate::Servent::config) then says
    /// [`Role::Leaf`].
    Ultrapeer,
}

/// How often a servent pings its neighbours, to keep its host cache fresh: the interval of
/// the classic servents, for lone servents and clusters alike.
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(30);

/// How long a lone servent's search collects QueryHits: answers from servents across the
/// Internet took seconds to come back.
pub const DEFAULT_SEARCH_WINDOW: Duration = Duration::from_secs(3);

/// How long a search in a cluster collects QueryHits. Every servent is on one machine and
/// its answers are back within milliseconds; a shorter window frees the search's slot of the
/// scenario's concurrency sooner.
pub const CLUSTER_SEARCH_WINDOW: Duration = Duration::from_secs(1);

/// How long an ultrapeer's dynamic query waits for QueryHits, per hop of the TTL it sent
/// last, before it takes its next step (`servent/dynamic.rs`): 2.4 s, what Fisk's Dynamic
/// Query Protocol (LimeWire, 2003) measured per hop on the Internet and requires, so a
/// TTL-3 step waits 7.2 s. Shorter waits would judge a file rare before its hits are back
/// and send the next step with too high a TTL.
pub const DEFAULT_HOP_WAIT: Duration = Duration::from_millis(2_400);

/// How long a connection may take to finish its handshake: a few round trips of text, so a
/// connection still silent after this is not a servent.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// The speed a servent claims in its QueryHits, kbit/s: a broadband link, so Queries asking
/// for less get answered.
pub const DEFAULT_SPEED_KBPS: u32 = 1_000;

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
    /// As an ultrapeer, how long each step of a dynamic query waits per hop of its TTL for
    /// QueryHits ([`DEFAULT_HOP_WAIT`]): a round trip per hop on the links it runs over.
    pub hop_wait: Duration,
    /// Seeds the servent's RNG (descriptor IDs, servent ID): same seed, same run.
    pub seed: u64,
    /// The speed this servent claims in QueryHits, kbit/s; Queries asking more get no answer.
    pub speed_kbps: u32,
    /// Flooding 0.4 servent, 0.6 leaf or 0.6 ultrapeer ([`Role`]).
    pub role: Role,
}

impl ServentConfig {
    /// The defaults of a lone servent: [`DEFAULT_TTL`] for Queries and Pings,
    /// [`DEFAULT_MIN_PEERS`] to [`DEFAULT_MAX_PEERS`] neighbours, a ping every
    /// [`DEFAULT_PING_INTERVAL`], searches that collect for [`DEFAULT_SEARCH_WINDOW`], a
    /// [`DEFAULT_HANDSHAKE_TIMEOUT`], dynamic queries waiting [`DEFAULT_HOP_WAIT`] per hop,
    /// no bootstrap list.
    pub fn new(advertise: SocketAddr, library: Arc<Library>) -> Self {
        ServentConfig {
            advertise,
            bootstrap: Vec::new(),
            library,
            ttl: DEFAULT_TTL,
            max_ttl: MAX_TTL,
            ping_ttl: DEFAULT_TTL,
            min_peers: DEFAULT_MIN_PEERS,
            max_peers: DEFAULT_MAX_PEERS,
            ping_interval: DEFAULT_PING_INTERVAL,
            search_window: DEFAULT_SEARCH_WINDOW,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            hop_wait: DEFAULT_HOP_WAIT,
            seed: seed_from(advertise),
            speed_kbps: DEFAULT_SPEED_KBPS,
            role: Role::Flooding,
        }
    }

    /// The most neighbours it keeps: `max_peers`; for a leaf no more than
    /// [`MAX_ULTRAPEERS`]; for an ultrapeer `max_peers` ultrapeers and [`MAX_LEAVES`] leaves.
    pub fn peer_cap(&self) -> usize {
        match self.role {
            Role::Flooding => self.max_peers,
            Role::Leaf => self.max_peers.min(MAX_ULTRAPEERS),
            Role::Ultrapeer => self.max_peers + MAX_LEAVES,
        }
    }

    /// Checks every setting against its range above, and `min_peers <= max_peers`.
    ///
    /// # Errors
    /// [`SettingError`] naming the first field out of range and the range it must be in.
    pub fn validate(&self) -> Result<(), SettingError> {
        check_range("ttl", self.ttl, &TTL)?;
        check_range("max_ttl", self.max_ttl, &TTL)?;
        check_range("ping_ttl", self.ping_ttl, &TTL)?;
        check_range("max_peers", self.max_peers, &MAX_PEERS)?;
        check_range("min_peers", self.min_peers, &MIN_PEERS)?;
        if self.max_peers < self.min_peers {
            return Err(SettingError::Beyond {
                field: "max_peers",
                relation: "at least",
                other: "min_peers",
                bound: self.min_peers.to_string(),
                got: self.max_peers.to_string(),
            });
        }
        check_range("ping_interval", self.ping_interval, &PERIODS)?;
        check_range("search_window", self.search_window, &PERIODS)?;
        check_range("handshake_timeout", self.handshake_timeout, &PERIODS)?;
        check_range("hop_wait", self.hop_wait, &PERIODS)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> ServentConfig {
        ServentConfig::new(SocketAddr::from(([10, 0, 0, 1], 6346)), Arc::default())
    }

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(defaults().validate(), Ok(()));
    }

    #[test]
    fn a_ttl_past_the_spec_is_refused_with_its_range() {
        let config = ServentConfig {
            ping_ttl: 8,
            ..defaults()
        };
        let err = config.validate().unwrap_err();
        assert_eq!(err.to_string(), "ping_ttl must be 1..=7, not 8");
    }

    #[test]
    fn fewer_max_peers_than_min_peers_is_refused_as_max_peers() {
        let config = ServentConfig {
            max_peers: 2,
            ..defaults()
        };
        let err = config.validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "max_peers must be at least min_peers (4), not 2"
        );
    }

    #[test]
    fn a_zero_period_is_refused() {
        let config = ServentConfig {
            search_window: Duration::ZERO,
            ..defaults()
        };
        assert_eq!(config.validate().unwrap_err().field(), "search_window");
    }
}
