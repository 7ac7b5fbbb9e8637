//! # p2plab-gnutella
//!
//! A Gnutella 0.4 servent as a sans-IO core: it speaks the wire format of the Gnutella
//! Protocol Specification v0.4 byte for byte, floods Pings and Queries through an unstructured
//! overlay, and routes Pongs, QueryHits and Pushes back along the reverse path.
//!
//! Gnutella has no server and no structure. Every servent keeps a handful of TCP connections to
//! other servents (its *neighbours*). A search is a Query descriptor sent to every neighbour;
//! each one answers from its own files and passes the Query on to *its* neighbours, one hop
//! further, until the descriptor's TTL runs out. Answers (QueryHits) do not flood: each servent
//! remembers which connection a Query came in on and sends the answer back that way only. The
//! price of needing no structure is the flood itself — a Query with TTL 7 on a graph of degree 4
//! may reach thousands of servents, and a file just beyond the TTL horizon is never found.
//!
//! ## Layout
//!
//! - [`guid`] — the 16-byte descriptor and servent identifiers.
//! - `budget` — events counted per window of time: each connection's Ping and Query budgets.
//! - [`header`] — the 23-byte descriptor header.
//! - [`message`] — one module per payload: [`Ping`], [`Pong`], [`Query`], [`QueryHit`], [`Push`];
//!   and the vendor message of dynamic querying, the Query Status Response.
//! - [`descriptor`] — header + payload, the [`WireMessage`] the servent reads and writes.
//! - [`kind`] — [`Kind`], what the metrics count: each descriptor type, and handshakes.
//! - [`handshake`] — the text handshake: `GNUTELLA CONNECT/0.6` dialled (0.4 as a fallback),
//!   both accepted; each role (flooding, leaf, ultrapeer) says its own headers.
//! - [`qrp`] — the Query Routing Protocol: the hash, the table a leaf sends, RESET and PATCH.
//! - [`routing`] — the seen table and the reverse-path tables, bounded and expiring.
//! - [`host_cache`] — addresses of servents learned from Pongs, for (re)connecting.
//! - `dial_memory` — per address dialled: 0.6 or 0.4, and the back-off after a refusal.
//! - [`compress`] — deflate on a link, each batch flushed, inflating within a bound.
//! - [`config`] — [`ServentConfig`], what the runtime chooses, with every setting's
//!   default and valid range.
//! - [`servent`] — [`Servent`], the core implementing [`Node`]; as an ultrapeer it searches
//!   by dynamic querying (probe, then one link more per step until enough results).
//!
//! Downloads are not in this crate: a QueryHit names the holder's HTTP address and the file's
//! index, and the shared HTTP transfer (`GET /get/<index>/<name>`) fetches it. The runtime sniffs
//! each incoming connection and hands only those that begin with `GNUTELLA` to the servent.
//!
//! [`WireMessage`]: p2plab_peer_protocol::WireMessage
//! [`Node`]: p2plab_peer_protocol::Node

use std::time::Duration;

mod budget;
pub mod compress;
pub mod config;
pub mod descriptor;
mod dial_memory;
pub mod guid;
pub mod handshake;
pub mod header;
pub mod host_cache;
pub mod kind;
pub mod message;
pub mod qrp;
pub mod routing;
pub mod servent;
pub mod topology;

pub use config::{Role, ServentConfig, DEFAULT_TTL, MAX_LEAVES, MAX_TTL, MAX_ULTRAPEERS};
pub use descriptor::{Descriptor, Payload};
pub use guid::Guid;
pub use header::{Header, PayloadType};
pub use kind::Kind;
pub use message::{HitRecord, Ping, Pong, Push, Query, QueryHit, SpeedField};
pub use servent::{DynamicOutcome, LateHits, Servent, Stop};

/// Length of the descriptor header: 16 (GUID) + 1 (type) + 1 (TTL) + 1 (Hops) + 4 (length).
pub const HEADER_LEN: usize = 23;

/// The largest payload accepted. The spec only calls 2 GB "excessive"; Wireshark treats any
/// length over 4096 as "not a message" and Bergner's thesis says messages should not exceed 4 kB. A
/// larger announced length means the stream cannot be trusted, and the connection is dropped.
pub const MAX_PAYLOAD: usize = 4096;

/// The most result records one QueryHit carries. The count field is one byte (at most 255);
/// smaller QueryHits keep within the spec's advice to stay near 2 kB.
pub const MAX_HITS_PER_QUERYHIT: usize = 32;

/// How many descriptor IDs the seen table (and each reverse-path table) remembers. A Query
/// flood touches each servent once per search, so this covers thousands of searches in flight.
pub const ROUTE_TABLE_CAPACITY: usize = 16_384;

/// How long a descriptor ID is remembered, for duplicate detection and for routing answers
/// back. Answers arrive within seconds; a late one after this is dropped as unroutable.
pub const ROUTE_EXPIRY: Duration = Duration::from_secs(120);

/// How many servent addresses the host cache keeps; the oldest are forgotten first.
pub const HOST_CACHE_SIZE: usize = 256;

/// The longest text handshake accepted (all header lines together). A peer that talks longer
/// without a blank line is not doing a Gnutella handshake.
pub const MAX_HANDSHAKE_LEN: usize = 4096;

/// Connections still in their handshake that a servent tolerates beyond `max_peers`, so a
/// burst of half-open connections cannot grow its memory without bound.
pub const MAX_PENDING_HANDSHAKES: usize = 16;

/// Pings accepted per connection within one [`PING_WINDOW`]; more are dropped. Every Ping
/// costs a Pong and a flood, so a neighbour that pings too often is throttled.
pub const MAX_PINGS_PER_WINDOW: u32 = 64;

/// The window over which [`MAX_PINGS_PER_WINDOW`] is counted.
pub const PING_WINDOW: Duration = Duration::from_secs(1);

/// Queries accepted per connection within one [`QUERY_WINDOW`]; more are dropped — neither
/// answered nor passed on — and counted as `query_rate`.
///
/// Every Query costs a search of the library, a copy to every other neighbour, and a slot
/// in the seen table ([`ROUTE_TABLE_CAPACITY`]) that all links share, oldest out first.
/// Without a budget, one neighbour sending Queries as fast as its link allows pushes the
/// others' searches out of that table before their QueryHits come back, and they find
/// nothing.
///
/// Sizing: it must hold everything an honest neighbour *passes on*, which is the shares of
/// up to 7 of its own neighbours (the default `max_peers` is 8) plus its own searches:
/// 8 × [`MAX_QUERIES_FORWARDED_PER_WINDOW`]. A flooding neighbour alone then adds at most
/// 2,000 + 64 (its Pings) new IDs a second to the seen table, so an entry lives 16,384 /
/// 2,064 ≈ 7.9 s — longer than the default 3 s search window: the other searches' QueryHits
/// still find their way back.
pub const MAX_QUERIES_PER_WINDOW: u32 = 8 * MAX_QUERIES_FORWARDED_PER_WINDOW;

/// Of the Queries accepted from one connection within one [`QUERY_WINDOW`], how many are
/// passed on. The rest are answered but go no further, as if their TTL ran out here, and
/// are counted as `forward_rate`.
///
/// This is the fairness between links. A servent forwards each link's Queries on every
/// other link, so without a share one flooding neighbour would fill every link out of its
/// servent and use up the next servents' budgets for that link, and the searches of the
/// servent's other neighbours would be dropped there. With the share, each neighbour gets
/// the same room on each outgoing link, and the next servent accepts all of it (see
/// [`MAX_QUERIES_PER_WINDOW`]), so a flood cut at the first servent it reaches costs the
/// others' searches nothing there. Further on, the flood's share travels with the honest
/// Queries of the same link: a servent there answers them all but passes on at most this
/// many of them a window.
///
/// Sizing: a Query crosses a link at most once each way (rule 6), so a link carries at most
/// the whole network's search rate. The busiest scenario file asks 50 queries a second, the
/// scenario tests at most 60 per phase, and the simulator's Gnutella experiments send one
/// search at a time: 250 is five times the most any of them puts in one window.
pub const MAX_QUERIES_FORWARDED_PER_WINDOW: u32 = 250;

/// The window over which [`MAX_QUERIES_PER_WINDOW`] and [`MAX_QUERIES_FORWARDED_PER_WINDOW`]
/// are counted.
pub const QUERY_WINDOW: Duration = Duration::from_secs(1);

/// How long a servent with fewer than `min_peers` neighbours waits before dialling again,
/// and how long an address that refused a handshake is left alone the first time.
pub const DIAL_RETRY: Duration = Duration::from_secs(2);

/// The longest an address that keeps refusing handshakes is left alone between dials (the
/// wait doubles from [`DIAL_RETRY`] up to this). Five minutes is as long as gtk-gnutella
/// bans a servent that dials too often; waiting longer would only lose a peer that is back.
pub const MAX_DIAL_BACKOFF: Duration = Duration::from_secs(300);

/// The longest `Retry-After` of a refusing peer that is honoured as asked; a longer one is
/// cut to this, so a peer cannot make the servent forget it for good.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3_600);

/// How many addresses the servent remembers dialling (handshake version, back-off): the
/// host cache's size ([`HOST_CACHE_SIZE`]) plus as many again for addresses it dropped.
pub const MAX_DIAL_MEMORY: usize = 2 * HOST_CACHE_SIZE;

/// The closed searches a servent remembers, to count the QueryHits that come after their
/// window ([`Servent::late_hits`]): a few phases' worth of one servent's searches, so a
/// report can tell a "not found" the window caused; older ones are forgotten.
pub const MAX_CLOSED_SEARCHES: usize = 256;

/// The shadowed floods a servent remembers ([`Servent::shadowed`]): more than a phase's
/// worth of queries in the bundled scenarios (a few hundred each), so that a report at a
/// phase's end can tell which of its misses were shadowed; older ones are forgotten, and a
/// miss whose flood was forgotten is counted as lost, never wrongly as shadowed.
pub const MAX_SHADOWED_REMEMBERED: usize = 1_024;

/// The most distinct hits one search collects; the rest are ignored.
pub const MAX_HITS_PER_SEARCH: usize = 1_000;

/// The `User-Agent` sent in the 0.6 handshake.
pub const USER_AGENT: &str = concat!("p2plab-gnutella/", env!("CARGO_PKG_VERSION"));

#[cfg(test)]
mod tests {
    use super::*;

    /// The sizing arguments of the Query budgets, against the defaults they assume.
    #[test]
    fn the_query_budgets_fit_the_default_servent() {
        let addr = std::net::SocketAddr::from(([10, 0, 0, 1], 6346));
        let defaults = ServentConfig::new(addr, Default::default());
        let fan_in = u32::try_from(defaults.max_peers).unwrap_or(u32::MAX);
        assert!(
            fan_in * MAX_QUERIES_FORWARDED_PER_WINDOW <= MAX_QUERIES_PER_WINDOW,
            "what a neighbour passes on fits the budget for its link"
        );
        let ids_per_window = f64::from(MAX_QUERIES_PER_WINDOW + MAX_PINGS_PER_WINDOW);
        let entry_life = ROUTE_TABLE_CAPACITY as f64 / ids_per_window * QUERY_WINDOW.as_secs_f64();
        assert!(
            entry_life > defaults.search_window.as_secs_f64(),
            "one flooding neighbour cannot age a search out of the seen table"
        );
        assert_eq!(
            PING_WINDOW, QUERY_WINDOW,
            "Pings and Queries per the same window"
        );
    }
}
