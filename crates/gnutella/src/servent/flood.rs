//! The routing rules of section 4 of the 0.4 spec, one handler per descriptor type.
//!
//! - Ping and Query: drop if the neighbour has spent its budget for the window
//!   ([`MAX_PINGS_PER_WINDOW`], [`MAX_QUERIES_PER_WINDOW`]), or if seen before (rule 6);
//!   remember where they came from; answer locally whatever the TTL; forward to every
//!   *other* neighbour with TTL − 1 and Hops + 1, unless the TTL is then 0 (rules 4 and 5)
//!   or the neighbour has used up its share of the other links for the window
//!   ([`MAX_QUERIES_FORWARDED_PER_WINDOW`]).
//! - Pong and QueryHit: send back along the remembered path only, or drop if there is none
//!   (rules 1 and 2). A Pong saying "firewalled" (port or IP 0) is not forwarded.
//! - Push: send towards the servent ID's QueryHits, or drop (rule 3).
//! - Bye: the neighbour is leaving; close the connection, as the Bye spec asks of its receiver.
//!   Other extension descriptors are read whole and dropped.
//!
//! - As an ultrapeer (0.6): Pings go to the ultrapeer links only; a Query goes to them as
//!   above and, by query routing, to the leaves whose tables match it, even on its last hop
//!   ([`Servent::route_query`]). A leaf's own Query (hops 0) is not flooded but queried
//!   for dynamically (`dynamic.rs`), the results routed back to the leaf counted; a
//!   vendor message (`0x31`) may be a leaf's Query Status Response about such a search.
//!   A Query seen before that comes with more TTL left than its first copy is passed on
//!   again, unanswered ([`Servent::passes_deeper`]), so a dynamic query's wider steps get
//!   past the servents its probe reached.
//!
//! Before any of this, TTL + Hops above `max_ttl` is lowered to fit (a TTL may be lowered,
//! never raised), and TTL 0 with Hops 0 — an impossible descriptor — is dropped.
//!
//! [`MAX_PINGS_PER_WINDOW`]: crate::MAX_PINGS_PER_WINDOW
//! [`MAX_QUERIES_PER_WINDOW`]: crate::MAX_QUERIES_PER_WINDOW
//! [`MAX_QUERIES_FORWARDED_PER_WINDOW`]: crate::MAX_QUERIES_FORWARDED_PER_WINDOW

use p2plab_peer_protocol::{keywords, ConnId, Instant, Outbox};
use tracing::{debug, trace};

use super::{dynamic, Servent};
use crate::config::Role;
use crate::descriptor::{Descriptor, Payload};
use crate::header::{PayloadType, BYE};
use crate::message::query_status::VENDOR_MESSAGE;
use crate::message::{Pong, Push, Query, QueryHit};
use crate::qrp::QRP_TYPE;
use crate::routing::{Route, Seen};

impl Servent {
    pub(super) fn on_descriptor(
        &mut self,
        now: Instant,
        from: ConnId,
        d: Descriptor,
        out: &mut Outbox,
    ) {
        if d.ttl == 0 && d.hops == 0 {
            self.metrics.record_drop("malformed");
            return;
        }
        let d = self.clamp_ttl(d);
        match &d.payload {
            Payload::Ping(_) => self.on_ping(now, from, &d, out),
            Payload::Pong(pong) => self.on_pong(now, from, &d, pong, out),
            Payload::Query(query) => self.on_query(now, from, &d, query, out),
            Payload::QueryHit(hit) => self.on_query_hit(now, from, &d, hit, out),
            Payload::Push(push) => self.on_push(now, from, &d, push, out),
            Payload::Extension { code: BYE, .. } => {
                self.drop_conn(now, from, "bye received", out);
            }
            Payload::Extension {
                code: QRP_TYPE,
                data,
            } => self.on_route_table(from, data),
            Payload::Extension {
                code: VENDOR_MESSAGE,
                data,
            } => self.on_vendor_message(from, d.guid, data, out),
            Payload::Extension { code, .. } => {
                trace!(code, "ignoring an extension descriptor");
                self.metrics.record_drop("ignored");
            }
        }
    }

    /// Lowers the TTL so that TTL + Hops does not exceed `max_ttl`.
    fn clamp_ttl(&self, mut d: Descriptor) -> Descriptor {
        if u16::from(d.ttl) + u16::from(d.hops) > u16::from(self.config.max_ttl) {
            d.ttl = self.config.max_ttl.saturating_sub(d.hops);
        }
        d
    }

    /// The TTL of a Pong or QueryHit answering `request`: the links the request crossed
    /// ([`Descriptor::links_crossed`]), as the spec asks, within `max_ttl`. Each servent on
    /// the way back takes one off before it forwards, so the answer reaches the requester
    /// with TTL 1 and goes no further; a direct neighbour's answer starts at 1.
    pub(super) fn reply_ttl(&self, request: &Descriptor) -> u8 {
        let links = u8::try_from(request.links_crossed()).unwrap_or(u8::MAX);
        links.min(self.config.max_ttl.max(1))
    }

    /// Remembers a Ping or Query's way back and the TTL it came with; false (and counted)
    /// if it is a duplicate. A duplicate Query with more TTL left than the first copy is
    /// counted apart too, as *shadowed* (see [`Seen`]).
    fn first_sighting(&mut self, now: Instant, from: ConnId, d: &Descriptor) -> bool {
        let key = (d.payload.code(), d.guid);
        let seen = Seen {
            route: Route::Conn(from),
            ttl: d.ttl,
        };
        if self.routes.insert_new(now, key, seen) {
            return true;
        }
        self.metrics.record_drop("duplicate");
        let first_ttl = self.routes.get(now, &key).map_or(u8::MAX, |s| s.ttl);
        if matches!(d.payload, Payload::Query(_)) && d.ttl > first_ttl {
            self.shadowed_queries += 1;
            self.shadowed.note(d.guid);
        }
        false
    }

    fn on_ping(&mut self, now: Instant, from: ConnId, d: &Descriptor, out: &mut Outbox) {
        if !self.conns.get_mut(&from).is_some_and(|c| c.allow_ping(now)) {
            self.metrics.record_drop("ping_rate");
            return;
        }
        if !self.first_sighting(now, from, d) {
            return;
        }
        let pong = Descriptor::new(d.guid, self.reply_ttl(d), Payload::Pong(self.own_pong()));
        self.send(from, &pong, out);
        self.flood(from, d, out);
    }

    fn on_pong(
        &mut self,
        now: Instant,
        from: ConnId,
        d: &Descriptor,
        pong: &Pong,
        out: &mut Outbox,
    ) {
        if let Some(addr) = pong.addr().filter(|a| *a != self.config.advertise) {
            self.host_cache.add(addr);
            if d.hops == 0 {
                if let Some(c) = self.conns.get_mut(&from) {
                    c.learn_listen_addr(addr);
                }
                self.drop_duplicate_link(now, from, out);
            }
        }
        match self
            .routes
            .get(now, &(PayloadType::Ping.code(), d.guid))
            .map(|s| s.route)
        {
            Some(Route::Local) => {}
            Some(Route::Conn(_)) if pong.addr().is_none() => self.metrics.record_drop("firewalled"),
            Some(Route::Conn(back)) => self.route_back(back, d, out),
            None => self.metrics.record_drop("unroutable"),
        }
    }

    fn on_query(
        &mut self,
        now: Instant,
        from: ConnId,
        d: &Descriptor,
        query: &Query,
        out: &mut Outbox,
    ) {
        if !self
            .conns
            .get_mut(&from)
            .is_some_and(|c| c.allow_query(now))
        {
            self.metrics.record_drop("query_rate");
            return;
        }
        // A leaf's own Query is never a deeper copy: seen before, it is a duplicate (the
        // leaf asked another of its ultrapeers too, which queries for it already).
        let deeper = self.config.role == Role::Ultrapeer && !self.is_leaf_search(from, d);
        if deeper && self.passes_deeper(now, from, d, out) {
            return;
        }
        if !self.first_sighting(now, from, d) {
            return;
        }
        self.queries_handled += 1;
        let answered = self.answer_query(from, d, query, out);
        if self.is_leaf_search(from, d) {
            let searcher = dynamic::Searcher::Leaf(from);
            if !self.start_dynamic(now, searcher, d, query, answered, out) {
                self.metrics.record_drop("dq_busy");
            }
            return;
        }
        if self.over_forward_share(now, from, d) {
            return;
        }
        self.flood(from, d, out);
    }

    /// True (and the drop counted) when passing `d` on would take its link past its share of
    /// forwards. A Query whose TTL runs out here spends none of that share.
    fn over_forward_share(&mut self, now: Instant, from: ConnId, d: &Descriptor) -> bool {
        let over = d.ttl > 1
            && !self
                .conns
                .get_mut(&from)
                .is_some_and(|c| c.allow_forward(now));
        if over {
            self.metrics.record_drop("forward_rate");
        }
        over
    }

    /// As an ultrapeer, a Query seen before that comes with more TTL left than its first
    /// copy (a later, wider step of a dynamic query, or a flood that came the long way
    /// first) goes on over the ultrapeer links with that TTL: the `X-Ext-Probes`
    /// behaviour of LimeWire's ultrapeers, without which a dynamic query's wider step would
    /// stop wherever its probe had been. It is not answered again (the first copy was,
    /// and the leaves had it), and each servent passes a Query on at most once per TTL it
    /// rises to. Answers go back the way this copy came from now on: the QueryHits of the
    /// servents it reaches carry a TTL for the path it took. True if `d` was such a copy
    /// and is dealt with.
    fn passes_deeper(
        &mut self,
        now: Instant,
        from: ConnId,
        d: &Descriptor,
        out: &mut Outbox,
    ) -> bool {
        let key = (d.payload.code(), d.guid);
        let Some(seen) = self.routes.get(now, &key) else {
            return false;
        };
        if d.ttl <= seen.ttl {
            return false;
        }
        let deeper = Seen {
            route: Route::Conn(from),
            ttl: d.ttl,
        };
        self.routes.put(now, key, deeper);
        if !self.over_forward_share(now, from, d) {
            self.send_to_ultrapeers(Some(from), &d.forwarded(), out);
        }
        true
    }

    fn on_query_hit(
        &mut self,
        now: Instant,
        from: ConnId,
        d: &Descriptor,
        hit: &QueryHit,
        out: &mut Outbox,
    ) {
        self.push_routes.put(now, hit.servent_id, from);
        match self
            .routes
            .get(now, &(PayloadType::Query.code(), d.guid))
            .map(|s| s.route)
        {
            Some(Route::Local) => self.collect_hits(now, d, hit, out),
            Some(Route::Conn(back)) => {
                self.count_routed_results(d.guid, back, hit.results.len());
                self.route_back(back, d, out);
            }
            None => self.metrics.record_drop("unroutable"),
        }
    }

    fn on_push(
        &mut self,
        now: Instant,
        from: ConnId,
        d: &Descriptor,
        push: &Push,
        out: &mut Outbox,
    ) {
        if !self.first_sighting(now, from, d) {
            return;
        }
        if push.servent_id == self.servent_id {
            // The upload itself (`GIV`) belongs to the HTTP transfer outside this core.
            debug!(index = push.index, ip = %push.ip, port = push.port, "push addressed to us");
            return;
        }
        match self.push_routes.get(now, &push.servent_id).copied() {
            Some(back) => self.route_back(back, d, out),
            None => self.metrics.record_drop("unroutable"),
        }
    }

    /// Forwards a Ping or Query to every open neighbour except `from` (rules 4 and 5); as an
    /// ultrapeer, Pings to its ultrapeer links only, Queries by [`Servent::route_query`].
    fn flood(&mut self, from: ConnId, d: &Descriptor, out: &mut Outbox) {
        if let (Role::Ultrapeer, Payload::Query(query)) = (self.config.role, &d.payload) {
            return self.route_query(Some(from), &d.forwarded(), query, out);
        }
        if d.ttl <= 1 {
            self.metrics.record_drop("ttl");
            return;
        }
        if self.config.role == Role::Leaf {
            // A leaf answers what reaches it and passes nothing on: its ultrapeer floods.
            return;
        }
        let ultrapeer = self.config.role == Role::Ultrapeer;
        let targets: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(id, c)| **id != from && c.is_open() && !(ultrapeer && c.is_leaf()))
            .map(|(id, _)| *id)
            .collect();
        let forwarded = d.forwarded();
        for conn in targets {
            self.send(conn, &forwarded, out);
        }
    }

    /// An ultrapeer sends Query `next` (TTL and Hops as it leaves here) on, except back to
    /// `from`: to every ultrapeer link while TTL is left, as a 0.4 servent floods; and to
    /// each leaf whose query routing table has the slot of every query word, whatever TTL
    /// is left. A leaf that sent no table, or a broken one, gets nothing.
    ///
    /// A leaf's copy carries TTL 1: it reaches the leaf and goes no further (a leaf passes
    /// nothing on, and must not be made a bridge), and a Query whose TTL runs out here still
    /// reaches the leaves, this last hop being where QRP spares them the flood. Leaves
    /// spared are counted as `qrp_spared`.
    pub(super) fn route_query(
        &mut self,
        from: Option<ConnId>,
        next: &Descriptor,
        query: &Query,
        out: &mut Outbox,
    ) {
        let words = keywords::Query::parse(&query.text());
        self.send_to_ultrapeers(from, next, out);
        self.route_to_leaves(from, next, &words, out);
    }

    /// Sends Query `next` to every ultrapeer link but `from`, unless its TTL ran out.
    fn send_to_ultrapeers(&mut self, from: Option<ConnId>, next: &Descriptor, out: &mut Outbox) {
        if next.ttl == 0 {
            self.metrics.record_drop("ttl");
            return;
        }
        let ultrapeers: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(id, c)| Some(**id) != from && c.is_ultrapeer())
            .map(|(id, _)| *id)
            .collect();
        for conn in ultrapeers {
            self.send(conn, next, out);
        }
    }

    /// Sends Query `next` with TTL 1 to each leaf but `from` whose query routing table has
    /// the slot of every one of `words`; the others are counted as `qrp_spared`.
    pub(super) fn route_to_leaves(
        &mut self,
        from: Option<ConnId>,
        next: &Descriptor,
        words: &keywords::Query,
        out: &mut Outbox,
    ) {
        let mut leaves = Vec::new();
        let mut spared = 0;
        for (id, c) in self.conns.iter().filter(|(id, _)| Some(**id) != from) {
            if !c.is_leaf() {
                continue;
            }
            if c.table.table().is_some_and(|t| t.may_match(words)) {
                leaves.push(*id);
            } else {
                spared += 1;
            }
        }
        for _ in 0..spared {
            self.metrics.record_drop("qrp_spared");
        }
        let last_hop = Descriptor {
            ttl: 1,
            ..next.clone()
        };
        for conn in leaves {
            self.send(conn, &last_hop, out);
        }
    }

    /// Sends an answer one step back along its path, if the path and the TTL allow.
    fn route_back(&mut self, back: ConnId, d: &Descriptor, out: &mut Outbox) {
        if !self.conns.get(&back).is_some_and(|c| c.is_open()) {
            self.metrics.record_drop("unroutable");
        } else if d.ttl <= 1 {
            self.metrics.record_drop("ttl");
        } else {
            self.send(back, &d.forwarded(), out);
        }
    }
}
