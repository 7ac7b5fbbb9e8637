//! [`Servent`]: a Gnutella servent as a sans-IO state machine, in one of three roles
//! ([`Role`](crate::config::Role)): the 0.4 flooding servent, a 0.6 leaf, a 0.6 ultrapeer.
//!
//! The servent is driven through [`Node::handle`] and never touches a socket or a clock:
//!
//! - [`Input::Start`] dials the bootstrap servents and arms the ping timer;
//! - [`Input::Accepted`] / [`Input::Connected`] begin a handshake (`connection.rs`);
//! - [`Input::Received`] feeds a connection's handshake, then its descriptors (`flood.rs`);
//! - [`Input::Closed`] forgets a neighbour and dials a replacement if too few are left
//!   (`overlay.rs`); when none of the servents dialled answered, it says why
//!   (`reach.rs`, [`Node::problem`]);
//! - [`Input::Timeout`] closes stalled handshakes, takes dynamic queries' next steps
//!   (`dynamic.rs`), ends searches (`search.rs`), pings, dials;
//! - [`Input::Command`] searches, locates, shares or leaves.
//!
//! `now` must never go backwards. After each input the driver drains the outbox and asks
//! [`Node::poll_timeout`] when to call again; calling early does nothing.

mod connection;
mod dynamic;
mod flood;
mod overlay;
mod reach;
mod route_table;
mod search;
mod shadowed;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use p2plab_peer_protocol::{
    Command, ConnId, Event, Input, Instant, Library, Metrics, Node, Outbox, Problem, Reach,
    RequestId, TimerKind, TimerTable,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::config::ServentConfig;
use crate::dial_memory::DialMemory;
use crate::guid::Guid;
use crate::host_cache::HostCache;
use crate::routing::{ExpiringMap, Seen};
use crate::{HOST_CACHE_SIZE, ROUTE_EXPIRY, ROUTE_TABLE_CAPACITY};

use connection::{handshake_under_way, Conn, Handshakes};
use dynamic::Dynamic;
pub use dynamic::{
    horizon, next_ttl, DynamicOutcome, Stop, HORIZON_FUZZ, LEAF_RESULTS, MAX_DYNAMIC_PER_SEARCHER,
    MAX_DYNAMIC_QUERIES, MAX_DYNAMIC_TTL, MAX_HORIZON, MAX_LIFETIME_HOPS, MAX_OUTCOMES,
    OWN_RESULTS, PROBE_LINKS, PROBE_TTL,
};
pub use search::LateHits;
use search::{Closed, Search};
use shadowed::Shadowed;

/// The servent's rounds, each a slot of its [`TimerTable`].
#[derive(Clone, Copy, Debug)]
enum Timer {
    /// Pinging every neighbour, to keep the host cache full (`overlay.rs`).
    Ping,
    /// Dialling replacements while too few connections are open (`overlay.rs`).
    Dial,
}

impl TimerKind for Timer {
    const COUNT: usize = 2;

    fn index(self) -> usize {
        self as usize
    }
}

/// A Gnutella servent, flooding, leaf or ultrapeer as its [`ServentConfig`] says. Build it
/// with [`Servent::new`], drive it through [`Node`].
#[derive(Debug)]
pub struct Servent {
    config: ServentConfig,
    rng: ChaCha8Rng,
    /// Our servent ID, sent in every QueryHit so Pushes can find us.
    servent_id: Guid,
    /// Every connection, from dial or accept to close, in id order (runs are reproducible).
    conns: BTreeMap<ConnId, Conn>,
    /// When each handshake under way times out.
    handshakes: Handshakes,
    host_cache: HostCache,
    /// Per address dialled: the handshake to speak, and the back-off after refusals.
    dial_memory: DialMemory,
    /// Seen (payload type, descriptor ID) → where answers go, and the first copy's TTL:
    /// routing rules 1, 2 and 6.
    routes: ExpiringMap<(u8, Guid), Seen>,
    /// Servent ID → the connection its QueryHits came from: routing rule 3.
    push_routes: ExpiringMap<Guid, ConnId>,
    /// Our searches still collecting QueryHits, by their Query's descriptor ID.
    searches: BTreeMap<Guid, Search>,
    /// Our searches whose window has closed, and the QueryHits that came late for them.
    closed: Closed,
    timers: TimerTable<Timer, { Timer::COUNT }>,
    /// When the servent last dialled a round of would-be neighbours.
    last_dial: Option<Instant>,
    /// Set by [`Command::Leave`]: the servent closes everything and stays quiet.
    left: bool,
    /// The dials of this round that did not answer (`reach.rs`).
    unanswered: reach::Unanswered,
    /// Why the overlay cannot be reached, while it cannot.
    reach: Reach,
    metrics: Metrics,
    queries_handled: u64,
    /// Duplicate Queries that came with more TTL left than their first copy.
    shadowed_queries: u64,
    /// The floods those duplicates belonged to, lately.
    shadowed: Shadowed,
    /// As an ultrapeer, the searches it widens a step at a time (`dynamic.rs`).
    dynamic: Dynamic,
}

impl Servent {
    /// The connections whose handshake is done, in id order.
    pub(super) fn open_conns(&self) -> Vec<ConnId> {
        self.conns
            .iter()
            .filter(|(_, c)| c.is_open())
            .map(|(id, _)| *id)
            .collect()
    }

    /// A servent that will connect when it gets [`Input::Start`].
    pub fn new(config: ServentConfig) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let servent_id = Guid::random(&mut rng);
        let handshakes = Handshakes::new(config.handshake_timeout);
        Servent {
            config,
            rng,
            servent_id,
            conns: BTreeMap::new(),
            handshakes,
            host_cache: HostCache::new(HOST_CACHE_SIZE),
            dial_memory: DialMemory::default(),
            routes: ExpiringMap::new(ROUTE_TABLE_CAPACITY, ROUTE_EXPIRY),
            push_routes: ExpiringMap::new(ROUTE_TABLE_CAPACITY, ROUTE_EXPIRY),
            searches: BTreeMap::new(),
            closed: Closed::default(),
            timers: TimerTable::new(),
            last_dial: None,
            left: false,
            unanswered: reach::Unanswered::default(),
            reach: Reach::default(),
            metrics: Metrics::default(),
            queries_handled: 0,
            shadowed_queries: 0,
            shadowed: Shadowed::default(),
            dynamic: Dynamic::default(),
        }
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &ServentConfig {
        &self.config
    }

    /// Our servent ID, as QueryHits carry it.
    pub fn servent_id(&self) -> Guid {
        self.servent_id
    }

    /// The listening addresses of the neighbours (handshake done) whose address is known:
    /// the address we dialled, or the one a neighbour gave in its `Listen-IP` header or its
    /// own (hops 0) Pong.
    pub fn neighbours(&self) -> Vec<SocketAddr> {
        self.conns
            .values()
            .filter(|c| c.is_open())
            .filter_map(Conn::peer_addr)
            .collect()
    }

    /// The searches that closed lately (at most [`MAX_CLOSED_SEARCHES`]), oldest first, each
    /// with the QueryHits that came after its window.
    ///
    /// [`MAX_CLOSED_SEARCHES`]: crate::MAX_CLOSED_SEARCHES
    pub fn late_hits(&self) -> impl Iterator<Item = &LateHits> {
        self.closed.iter()
    }

    /// Number of neighbours (connections whose handshake is done).
    pub fn neighbour_count(&self) -> usize {
        self.conns.values().filter(|c| c.is_open()).count()
    }

    /// Number of addresses in the host cache.
    pub fn host_cache_len(&self) -> usize {
        self.host_cache.len()
    }

    /// Distinct Queries from other servents this one has handled (answered and passed on):
    /// each flood counts once here, however many copies of it arrived.
    pub fn queries_handled(&self) -> u64 {
        self.queries_handled
    }

    /// Duplicate Queries that arrived with more TTL left than the copy seen first: each one
    /// a flood that reached this servent by a longer path before a shorter one, and went on
    /// from here with less reach than the shorter path gave (duplicate shadowing). Dropped
    /// all the same, as rule 6 says; counted so that a miss can be told from a loss.
    pub fn shadowed_queries(&self) -> u64 {
        self.shadowed_queries
    }

    /// The descriptor IDs of the floods lately shadowed here, each once, oldest first (at
    /// most [`MAX_SHADOWED_REMEMBERED`]): matched against a searcher's closed searches
    /// ([`LateHits::guid`]), they tell which misses a shadowed copy may have caused.
    ///
    /// [`MAX_SHADOWED_REMEMBERED`]: crate::MAX_SHADOWED_REMEMBERED
    pub fn shadowed(&self) -> impl Iterator<Item = &Guid> {
        self.shadowed.iter()
    }

    fn command(&mut self, now: Instant, command: Command, out: &mut Outbox) {
        if self.left && command.answer_when_left(out) {
            return;
        }
        match command {
            Command::Search { request, query } => self.start_search(now, request, &query, out),
            Command::Locate { request, hit } => out.report(Event::Located {
                request,
                result: search::locate(hit),
            }),
            Command::Share { library } => {
                self.config.library = library;
                self.library_changed(out);
            }
            Command::Transfer(_) => {}
            Command::Leave { request } => self.leave(request, out),
            Command::Ask { request, question } => out.report(Event::Answered {
                request,
                result: Err(question.unsupported("Gnutella")),
            }),
        }
    }

    fn leave(&mut self, request: RequestId, out: &mut Outbox) {
        self.left = true;
        for conn in std::mem::take(&mut self.conns).into_keys() {
            out.close(conn);
        }
        let pending: Vec<Guid> = self.searches.keys().copied().collect();
        for guid in pending {
            self.finish_search(guid, out);
        }
        self.dynamic.clear();
        self.timers.stop_all();
        out.report(Event::Left { request });
    }

    fn timeout(&mut self, now: Instant, out: &mut Outbox) {
        let conns = &self.conns;
        let stalled = self
            .handshakes
            .take_due(now, |conn| handshake_under_way(conns, conn));
        for conn in stalled {
            self.handshake_timed_out(now, conn, out);
        }
        // Before the searches' deadlines: a dynamic query's last step reports its search.
        self.dynamic_due(now, out);
        let done: Vec<Guid> = self
            .searches
            .iter()
            .filter(|(_, s)| s.deadline <= now)
            .map(|(g, _)| *g)
            .collect();
        for guid in done {
            self.finish_search(guid, out);
        }
        if self.timers.is_expired(Timer::Ping, now) {
            self.ping_all(now, out);
            self.timers
                .set(Timer::Ping, now + self.config.ping_interval);
        }
        if self.timers.is_expired(Timer::Dial, now) {
            self.maintain(now, out);
        }
    }
}

impl Node for Servent {
    fn handle(&mut self, now: Instant, input: Input<'_>, out: &mut Outbox) {
        match input {
            Input::Start => self.start(now, out),
            Input::Accepted { conn, .. } => self.accepted(now, conn, out),
            Input::Connected { conn } => self.connected(now, conn, out),
            Input::Received { conn, bytes } => self.received(now, conn, bytes, out),
            Input::Closed { conn, reason } => self.closed(now, conn, reason, out),
            Input::Timeout => self.timeout(now, out),
            Input::Command(command) => self.command(now, command, out),
        }
        self.flush_links(out);
        let conns = &self.conns;
        self.handshakes
            .skip_finished(|conn| handshake_under_way(conns, conn));
        self.clear_reach();
    }

    /// The earliest of the servent's rounds and of the deadlines its handshakes, searches
    /// and dynamic queries keep with them, one each.
    fn poll_timeout(&self) -> Option<Instant> {
        let searches = self.searches.values().map(|s| s.deadline);
        let handshake = self.handshakes.next_deadline();
        let steps = self.dynamic.next_deadline();
        self.timers
            .next_timeout_with(handshake.into_iter().chain(steps).chain(searches))
    }

    fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    fn library(&self) -> Option<&Library> {
        Some(&self.config.library)
    }

    fn problem(&self) -> Option<&Problem> {
        self.reach.problem()
    }
}
