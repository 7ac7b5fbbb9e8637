//! Keeping the overlay together: bootstrap, Pings that fill the host cache, and dialling a
//! replacement whenever fewer than `min_peers` neighbours are left.
//!
//! A servent starts by dialling its bootstrap list. Each new neighbour is pinged at once, and
//! all neighbours every `ping_interval`; the Pongs that come back — from the neighbour itself
//! (hops 0) and from servents further out — fill the host cache. When a neighbour dies, the
//! servent dials the freshest cached addresses it is not connected to, and keeps trying every
//! [`DIAL_RETRY`] until it has `min_peers` again. Addresses that fail are forgotten; one that
//! refused a handshake is left alone for a back-off that doubles with each refusal.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use p2plab_peer_protocol::time::random_phase;
use p2plab_peer_protocol::{ConnId, Instant, Outbox};

use super::connection::Conn;
use super::{Servent, Timer};
use crate::config::Role;
use crate::descriptor::{Descriptor, Payload};
use crate::guid::Guid;
use crate::header::PayloadType;
use crate::message::{Ping, Pong};
use crate::routing::Seen;
use crate::DIAL_RETRY;

impl Servent {
    pub(super) fn start(&mut self, now: Instant, out: &mut Outbox) {
        for addr in self.config.bootstrap.iter().rev() {
            self.host_cache.add(*addr);
        }
        let bootstrap = self.config.bootstrap.clone();
        for addr in bootstrap {
            if self.conns.len() < self.config.max_peers && self.dialable(now, addr) {
                self.dial(now, addr, out);
                self.last_dial = Some(now);
            }
        }
        // The first round comes at a random point of the first interval, so that servents
        // started together do not ping in step.
        let first = random_phase(&mut self.rng, self.config.ping_interval);
        self.timers.set(Timer::Ping, now + first);
        self.maintain(now, out);
    }

    /// Dials replacements if fewer than `min_peers` connections are open or opening.
    ///
    /// At most one round of dials per [`DIAL_RETRY`]: a dial that fails soon after a round waits
    /// for the next one instead of hammering the next address (or a dead bootstrap servent).
    pub(super) fn maintain(&mut self, now: Instant, out: &mut Outbox) {
        let links = self.dialling_links();
        if self.left || links >= self.config.min_peers {
            self.timers.stop(Timer::Dial);
            return;
        }
        if let Some(next) = self.last_dial.map(|t| t + DIAL_RETRY).filter(|t| *t > now) {
            self.timers.set(Timer::Dial, next);
            return;
        }
        let want = self.config.min_peers - links;
        let mut picks = self.host_cache.pick(want, |a| self.dialable(now, a));
        if picks.is_empty() {
            picks = self
                .config
                .bootstrap
                .iter()
                .copied()
                .filter(|a| self.dialable(now, *a))
                .take(want)
                .collect();
        }
        for addr in picks {
            self.dial(now, addr, out);
        }
        self.last_dial = Some(now);
        self.timers.set(Timer::Dial, now + DIAL_RETRY);
    }

    /// The connections open or opening that count against `min_peers`: all of them, but an
    /// ultrapeer's leaves, which come to it and link it to no other ultrapeer.
    fn dialling_links(&self) -> usize {
        let leaves = match self.config.role {
            Role::Ultrapeer => self.conns.values().filter(|c| c.is_leaf()).count(),
            Role::Flooding | Role::Leaf => 0,
        };
        self.conns.len() - leaves
    }

    /// Not ourselves, not someone we are already connected or connecting to, and not an
    /// address backed off after refusing a handshake.
    fn dialable(&self, now: Instant, addr: SocketAddr) -> bool {
        addr != self.config.advertise
            && self.conns.values().all(|c| c.peer_addr() != Some(addr))
            && self.dial_memory.may_dial(addr, now)
    }

    /// Closes one of two connections to the same servent, once its address shows they are.
    ///
    /// Two servents that dial each other at the same moment end up linked twice, which wastes
    /// a slot at both and doubles every flood between them. Both ends keep the link dialled by
    /// the servent with the smaller address, so they close the same one.
    pub(super) fn drop_duplicate_link(&mut self, now: Instant, conn: ConnId, out: &mut Outbox) {
        let Some(addr) = self.conns.get(&conn).and_then(Conn::peer_addr) else {
            return;
        };
        let twin = self
            .conns
            .iter()
            .find(|(id, c)| **id != conn && c.is_open() && c.peer_addr() == Some(addr))
            .map(|(id, _)| *id);
        let Some(twin) = twin else {
            return;
        };
        let keep_ours = self.config.advertise < addr;
        let victim = [conn, twin]
            .into_iter()
            .find(|id| {
                self.conns
                    .get(id)
                    .is_some_and(|c| c.is_outbound() != keep_ours)
            })
            .unwrap_or(conn.max(twin));
        self.drop_conn(now, victim, "duplicate link", out);
    }

    /// Pings every neighbour with one new Ping.
    pub(super) fn ping_all(&mut self, now: Instant, out: &mut Outbox) {
        let open = self.open_conns();
        if !open.is_empty() {
            self.ping(now, &open, out);
        }
    }

    /// Sends one new Ping (TTL `ping_ttl`) to `conns`; its Pongs will come back to us.
    pub(super) fn ping(&mut self, now: Instant, conns: &[ConnId], out: &mut Outbox) {
        let guid = Guid::random(&mut self.rng);
        self.routes
            .put(now, (PayloadType::Ping.code(), guid), Seen::local());
        let ping = Descriptor::new(guid, self.config.ping_ttl, Payload::Ping(Ping::default()));
        for conn in conns {
            self.send(*conn, &ping, out);
        }
    }

    /// Our Pong: where we listen and what we share.
    pub(super) fn own_pong(&self) -> Pong {
        let (ip, port) = self.advertised_v4();
        let library = &self.config.library;
        Pong {
            port,
            ip,
            files: u32::try_from(library.len()).unwrap_or(u32::MAX),
            kbytes: u32::try_from(library.total_bytes() / 1024).unwrap_or(u32::MAX),
            extra: Vec::new(),
        }
    }

    /// Our advertised address as the wire format can carry it (IPv4 only).
    pub(super) fn advertised_v4(&self) -> (Ipv4Addr, u16) {
        let ip = match self.config.advertise.ip() {
            IpAddr::V4(v4) => v4,
            IpAddr::V6(v6) => v6.to_ipv4_mapped().unwrap_or(Ipv4Addr::UNSPECIFIED),
        };
        (ip, self.config.advertise.port())
    }
}
