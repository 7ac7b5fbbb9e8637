//! Dynamic querying: an ultrapeer floods a search a step at a time and stops once enough
//! results came back, as LimeWire and gtk-gnutella did from 2003 on (Fisk, "Gnutella
//! Dynamic Query Protocol v0.1"; gtk-gnutella's `dq.c`).
//!
//! A 0.4 flood treats every search alike: a Query for "mp3" goes as far as one for a
//! rare recording, and brings back thousands of hits nobody reads. A dynamic query finds
//! out how common the file is before it decides how far to go:
//!
//! 1. **Probe.** The Query goes to the matching leaves (by their QRP tables, as every Query
//!    does) and to [`PROBE_LINKS`] ultrapeer links at once, with TTL [`PROBE_TTL`], and
//!    the ultrapeer waits `hop_wait` per hop of that TTL for QueryHits.
//! 2. **Widen.** While fewer than the target came back — [`LEAF_RESULTS`] for a leaf's
//!    search, [`OWN_RESULTS`] for its own — it sends the Query over *one* more ultrapeer
//!    link, with the TTL the results so far call for, and waits again, `hop_wait` per hop
//!    of that TTL. The TTL (Fisk §2.5.2.1): the results so far per ultrapeer reached give
//!    how many more ultrapeers must be reached; shared among the links left, that is each
//!    link's share, and the TTL is the highest whose [`horizon`] through that link stays
//!    within the share — rounding down, because one TTL more multiplies the reach by the
//!    degree. No result yet gives the highest TTL allowed. Once the unprobed links are
//!    used, the probed ones that said `X-Ext-Probes` are queried again when the TTL called
//!    for is above their probe's, as gtk-gnutella re-queries probed links: a servent with
//!    three links would otherwise never search further than its probe.
//! 3. **Stop** ([`Stop`]) once enough results came back, every link has had the Query as
//!    deep as it is called for, the theoretical horizon passed [`MAX_HORIZON`], the
//!    searcher is gone or said stop, or the next step would outlive [`MAX_LIFETIME_HOPS`]
//!    waits.
//!
//! Every send carries the same descriptor ID, so a servent reached by two steps answers
//! once. Further on, the ultrapeers flood each copy as they flood any Query, and pass a
//! copy on again, unanswered, only if it comes with more TTL left than the one they saw
//! first (`X-Ext-Probes`, `flood.rs`): a wider step gets past the servents the probe
//! reached, and a step costs little more than the servents it adds. Only the searcher's
//! own ultrapeer queries dynamically.
//!
//! **Counting results.** For its own search the ultrapeer counts the distinct hits the
//! search kept. For a leaf's, it counts the results it routed back to the leaf (its own
//! answers included) until the leaf says how many it kept: a leaf's *Query Status
//! Response* (`BEAR/12`, [`QueryStatus`]) then stands for the results, plus what was
//! routed since, as gtk-gnutella counts. A leaf with several ultrapeers reports each its
//! share, so together they stop at about three times [`LEAF_RESULTS`]. A status of
//! `0xFFFF` stops the query at once: p2plab's leaf sends it when its search closes.
//!
//! **The leaf's side.** A leaf whose search went to ultrapeers that said
//! `X-Dynamic-Querying` sends each of them a Query Status Response whenever its kept hits
//! grow its share, and the stop when the search's window closes.
//!
//! Sans-IO as the rest of the servent: each query's next step is a deadline
//! ([`Dynamic::next_deadline`]) that [`Servent::poll_timeout`](p2plab_peer_protocol::Node::poll_timeout)
//! reports and the `Timeout` input runs.

use std::collections::{BTreeMap, VecDeque};

use p2plab_peer_protocol::{keywords, ConnId, Instant, Outbox};
use rand::seq::SliceRandom;
use tracing::debug;

use super::Servent;
use crate::config::{Role, MAX_LEAVES};
use crate::descriptor::{Descriptor, Payload};
use crate::guid::Guid;
use crate::message::query_status::{QueryStatus, VENDOR_MESSAGE};
use crate::message::Query;

/// The probe's TTL: 2, Fisk's "simple approach" (§2.5.1). TTL 1 would reach only the
/// probed neighbours themselves, too few to tell a common file from a rare one; TTL 3 on a
/// few links already reaches hundreds of ultrapeers, the cost the probe is there to avoid
/// for popular files.
pub const PROBE_TTL: u8 = 2;

/// Ultrapeer links the probe goes to at once: 3, Fisk's and gtk-gnutella's
/// (`DQ_PROBE_UP`). One link's neighbourhood is too small a sample; more would spend on
/// the probe what the steps are meant to save.
pub const PROBE_LINKS: usize = 3;

/// Results an ultrapeer gathers for one of its leaves: 50, Fisk's §2.5.3.1. A leaf keeps
/// about three ultrapeers, each searching for it, and 150 results in all give enough
/// sources to download from.
pub const LEAF_RESULTS: u32 = 50;

/// Results an ultrapeer gathers for its own user: 150, Fisk's "maximum of 150 total
/// results for a given query", since no other ultrapeer searches beside it.
pub const OWN_RESULTS: u32 = 150;

/// The highest TTL a step sends: 5, gtk-gnutella's `DQ_MAX_TTL`. On a degree-8 overlay one
/// link at TTL 5 reaches some thousand ultrapeers, past which the 0.4 flood's TTL 7 only
/// multiplies duplicates; a link's own `X-Max-TTL` may lower it further.
pub const MAX_DYNAMIC_TTL: u8 = 5;

/// The theoretical horizon (ultrapeers reached, by [`horizon`]) past which a query stops:
/// Fisk's 300,000 (§2.5.2.4), far above any overlay p2plab builds, so it stops a query
/// whose links' degrees say the whole network has been asked.
pub const MAX_HORIZON: f64 = 300_000.0;

/// How much of what the tree count says each hop past the first reaches: 0.8, the value of
/// gtk-gnutella's `DQ_FUZZY_FACTOR` (which weighs the whole count by it per hop). Cycles and duplicates make a real flood reach less than a tree,
/// and an estimate too large would make the next TTL too small, never too large.
pub const HORIZON_FUZZ: f64 = 0.8;

/// The longest a dynamic query lives, in `hop_wait`s: 75, which at Fisk's 2.4 s per hop is
/// the three minutes he suggests as a safeguard (§2.5.2.4). A step that would end later is
/// not sent.
pub const MAX_LIFETIME_HOPS: u32 = 75;

/// Dynamic queries one searcher — a leaf, or the ultrapeer's own user — may have running
/// at once: a user runs a few searches side by side, and one leaf may not take the room
/// of the ultrapeer's other leaves. A leaf's Query past it is dropped (`dq_busy`).
pub const MAX_DYNAMIC_PER_SEARCHER: usize = 8;

/// Dynamic queries an ultrapeer runs at once: every leaf slot ([`MAX_LEAVES`]) and its own
/// user at [`MAX_DYNAMIC_PER_SEARCHER`] each. A leaf that left and came back under a new
/// connection holds its old queries' room until their next step sees it gone.
pub const MAX_DYNAMIC_QUERIES: usize = (MAX_LEAVES + 1) * MAX_DYNAMIC_PER_SEARCHER;

/// The stopped dynamic queries an ultrapeer remembers ([`Servent::dynamic_outcomes`]): a
/// few phases' worth of its own and its leaves' searches, for a report to read.
pub const MAX_OUTCOMES: usize = 256;

/// The ultrapeers a Query sent with `ttl` over a link to a servent of `degree` reaches, by
/// Fisk's tree count Σ (degree − 1)^i for i < ttl, each hop past the first weighed by
/// [`HORIZON_FUZZ`].
pub fn horizon(degree: u32, ttl: u8) -> f64 {
    let branching = f64::from(degree.saturating_sub(1));
    (0..i32::from(ttl))
        .map(|i| (branching * HORIZON_FUZZ).powi(i))
        .sum()
}

/// The TTL of the next step (Fisk §2.5.2.1): `results` of `wanted` came back from a
/// theoretical `reached` ultrapeers, and `links` (this one included) have not had the
/// Query. The highest TTL up to `max_ttl` whose [`horizon`] through a link of `degree`
/// stays within the link's share of the ultrapeers still to reach; 1 at least, `max_ttl`
/// while nothing came back.
pub fn next_ttl(
    results: u32,
    wanted: u32,
    reached: f64,
    links: usize,
    degree: u32,
    max_ttl: u8,
) -> u8 {
    let max_ttl = max_ttl.max(1);
    if results == 0 {
        return max_ttl;
    }
    let per_ultrapeer = f64::from(results) / reached.max(1.0);
    let still_to_reach = f64::from(wanted.saturating_sub(results)) / per_ultrapeer;
    let share = still_to_reach / links.max(1) as f64;
    (1..=max_ttl)
        .rev()
        .find(|&ttl| horizon(degree, ttl) <= share)
        .unwrap_or(1)
}

/// Who a dynamic query searches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Searcher {
    /// The ultrapeer's own user.
    Own,
    /// The leaf on this connection.
    Leaf(ConnId),
}

/// Why a dynamic query stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The target number of results came back.
    Enough,
    /// Every ultrapeer link had the Query.
    LinksUsed,
    /// The theoretical horizon passed [`MAX_HORIZON`].
    Horizon,
    /// The next step would have outlived [`MAX_LIFETIME_HOPS`] waits.
    Lifetime,
    /// The leaf it searched for is gone.
    SearcherGone,
    /// The leaf said stop (a Query Status Response of `0xFFFF`).
    Told,
}

/// What a dynamic query did, once it stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct DynamicOutcome {
    /// The Query's descriptor ID.
    pub guid: Guid,
    /// True when it searched for a leaf, false for the ultrapeer's own user.
    pub for_leaf: bool,
    /// The TTL of each send over an ultrapeer link, in order: the probe's first, a probed
    /// link queried again counted again.
    pub ttls: Vec<u8>,
    /// The results it counted when it stopped.
    pub results: u32,
    /// The ultrapeers it reached in theory ([`horizon`] summed over its links).
    pub horizon: f64,
    /// Why it stopped.
    pub stop: Stop,
}

/// One dynamic query under way.
#[derive(Debug)]
struct DynamicQuery {
    searcher: Searcher,
    /// The Query as it leaves here (hops counted); each step sets its TTL.
    query: Descriptor,
    /// Results wanted: [`LEAF_RESULTS`] or [`OWN_RESULTS`].
    wanted: u32,
    /// Ultrapeer links still to query, in the order they will be (shuffled at start), each
    /// with the TTL it already had (0: none yet). A probed link that takes deeper copies
    /// (`X-Ext-Probes`) waits at the back, to be queried again with a higher TTL.
    links: VecDeque<(ConnId, u8)>,
    /// The TTL sent on each link so far.
    ttls: Vec<u8>,
    /// Ultrapeers reached in theory.
    horizon: f64,
    /// Results counted: routed back to the leaf, or kept by our own search.
    results: u32,
    /// The leaf's last reported share, and the results routed since it came.
    reported: Option<(u32, u32)>,
    /// When the next step is due.
    next_step: Instant,
    /// No step may end after this.
    ends: Instant,
}

impl DynamicQuery {
    /// The results the stopping rule counts: the leaf's word once it spoke, and what was
    /// routed since.
    fn counted(&self) -> u32 {
        self.reported
            .map_or(self.results, |(share, since)| share.saturating_add(since))
    }
}

/// An ultrapeer's dynamic queries, by their Query's descriptor ID, and the last ones that
/// stopped.
#[derive(Debug, Default)]
pub(super) struct Dynamic {
    queries: BTreeMap<Guid, DynamicQuery>,
    outcomes: VecDeque<DynamicOutcome>,
}

impl Dynamic {
    /// When the earliest step is due.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.queries.values().map(|q| q.next_step).min()
    }

    /// True while `searcher` may start one more dynamic query.
    fn has_room(&self, searcher: Searcher) -> bool {
        let theirs = self
            .queries
            .values()
            .filter(|q| q.searcher == searcher)
            .count();
        self.queries.len() < MAX_DYNAMIC_QUERIES && theirs < MAX_DYNAMIC_PER_SEARCHER
    }

    /// Counts `n` results for query `guid`, if one runs and searches for `searcher`.
    fn count(&mut self, guid: Guid, searcher: Searcher, n: usize) {
        let Some(q) = self
            .queries
            .get_mut(&guid)
            .filter(|q| q.searcher == searcher)
        else {
            return;
        };
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        q.results = q.results.saturating_add(n);
        if let Some((_, since)) = &mut q.reported {
            *since = since.saturating_add(n);
        }
    }

    /// Forgets every query, as a servent that leaves does.
    pub(super) fn clear(&mut self) {
        self.queries.clear();
    }

    /// Ends query `guid` for `stop`, remembering what it did; who it searched for.
    fn end(&mut self, guid: Guid, stop: Stop) -> Option<Searcher> {
        let q = self.queries.remove(&guid)?;
        debug!(?guid, ?stop, ttls = ?q.ttls, results = q.counted(), "dynamic query stopped");
        if self.outcomes.len() >= MAX_OUTCOMES {
            self.outcomes.pop_front();
        }
        let results = q.counted();
        self.outcomes.push_back(DynamicOutcome {
            guid,
            for_leaf: matches!(q.searcher, Searcher::Leaf(_)),
            ttls: q.ttls,
            results,
            horizon: q.horizon,
            stop,
        });
        Some(q.searcher)
    }
}

impl Servent {
    /// The dynamic queries that stopped lately (at most [`MAX_OUTCOMES`]), oldest first.
    pub fn dynamic_outcomes(&self) -> impl Iterator<Item = &DynamicOutcome> {
        self.dynamic.outcomes.iter()
    }

    /// True when one more dynamic query for our own user fits.
    pub(super) fn dynamic_has_room(&self) -> bool {
        self.dynamic.has_room(Searcher::Own)
    }

    /// Starts a dynamic query of `d` for `searcher` (our own user: `d` as we built it; a
    /// leaf: `d` as it arrived, with `answered` results our library already sent back):
    /// the matching leaves at once, then the probe. False, and nothing sent, if the
    /// searcher has no room left ([`MAX_DYNAMIC_PER_SEARCHER`], [`MAX_DYNAMIC_QUERIES`]).
    pub(super) fn start_dynamic(
        &mut self,
        now: Instant,
        searcher: Searcher,
        d: &Descriptor,
        query: &Query,
        answered: usize,
        out: &mut Outbox,
    ) -> bool {
        if !self.dynamic.has_room(searcher) {
            return false;
        }
        let (from, next, wanted) = match searcher {
            Searcher::Own => (None, d.clone(), OWN_RESULTS),
            Searcher::Leaf(leaf) => (Some(leaf), d.forwarded(), LEAF_RESULTS),
        };
        let words = keywords::Query::parse(&query.text());
        self.route_to_leaves(from, &next, &words, out);
        let mut links: Vec<(ConnId, u8)> = self
            .conns
            .iter()
            .filter(|(id, c)| Some(**id) != from && c.is_ultrapeer())
            .map(|(id, _)| (*id, 0))
            .collect();
        links.shuffle(&mut self.rng);
        let lifetime = self.config.hop_wait * MAX_LIFETIME_HOPS;
        let mut q = DynamicQuery {
            searcher,
            query: next,
            wanted,
            links: links.into(),
            ttls: Vec::new(),
            horizon: 0.0,
            results: u32::try_from(answered).unwrap_or(u32::MAX),
            reported: None,
            next_step: now,
            ends: now + lifetime,
        };
        for _ in 0..PROBE_LINKS.min(q.links.len()) {
            let Some((link, _)) = q.links.pop_front() else {
                break;
            };
            let ttl = PROBE_TTL.min(self.link_max_ttl(link));
            self.send_step(&mut q, link, 0, ttl, out);
            if self.conns.get(&link).is_some_and(|c| c.ext_probes) {
                q.links.push_back((link, ttl));
            }
        }
        // With no ultrapeer link, the wait is for the leaves' answers: one hop.
        let waited = q.ttls.iter().copied().max().unwrap_or(1);
        q.next_step = now + self.config.hop_wait * u32::from(waited);
        self.dynamic.queries.insert(d.guid, q);
        true
    }

    /// Runs the steps that are due by `now`.
    pub(super) fn dynamic_due(&mut self, now: Instant, out: &mut Outbox) {
        let due: Vec<Guid> = self
            .dynamic
            .queries
            .iter()
            .filter(|(_, q)| q.next_step <= now)
            .map(|(g, _)| *g)
            .collect();
        for guid in due {
            self.dynamic_step(now, guid, out);
        }
    }

    /// One step of query `guid`: stop, or widen by one link.
    fn dynamic_step(&mut self, now: Instant, guid: Guid, out: &mut Outbox) {
        let Some(mut q) = self.dynamic.queries.remove(&guid) else {
            return;
        };
        let stop = self.widen(now, &mut q, out);
        self.dynamic.queries.insert(guid, q);
        if let Some(stop) = stop {
            self.end_dynamic(guid, stop, out);
        }
    }

    /// Sends `q` over its next open link, or says why it stops.
    fn widen(&mut self, now: Instant, q: &mut DynamicQuery, out: &mut Outbox) -> Option<Stop> {
        if let Searcher::Leaf(leaf) = q.searcher {
            if !self.conns.get(&leaf).is_some_and(|c| c.is_open()) {
                return Some(Stop::SearcherGone);
            }
        }
        if q.counted() >= q.wanted {
            return Some(Stop::Enough);
        }
        if q.horizon >= MAX_HORIZON {
            return Some(Stop::Horizon);
        }
        // The next open link whose TTL now would be higher than the one it already had.
        let (link, had, ttl) = loop {
            let Some((link, had)) = q.links.pop_front() else {
                return Some(Stop::LinksUsed);
            };
            if !self.conns.get(&link).is_some_and(|c| c.is_ultrapeer()) {
                continue;
            }
            let ttl = next_ttl(
                q.counted(),
                q.wanted,
                q.horizon,
                q.links.len() + 1,
                self.link_degree(link),
                self.link_max_ttl(link),
            );
            if ttl > had {
                break (link, had, ttl);
            }
        };
        let ends = now + self.config.hop_wait * u32::from(ttl);
        if ends > q.ends {
            return Some(Stop::Lifetime);
        }
        self.send_step(q, link, had, ttl, out);
        q.next_step = ends;
        None
    }

    /// Sends `q` over `link` with `ttl`, adding what it reaches beyond the TTL the link
    /// `had` to the horizon.
    fn send_step(
        &mut self,
        q: &mut DynamicQuery,
        link: ConnId,
        had: u8,
        ttl: u8,
        out: &mut Outbox,
    ) {
        let step = Descriptor {
            ttl,
            ..q.query.clone()
        };
        self.send(link, &step, out);
        q.ttls.push(ttl);
        let degree = self.link_degree(link);
        q.horizon += horizon(degree, ttl) - horizon(degree, had);
    }

    /// Stops query `guid`: our own search reports now.
    fn end_dynamic(&mut self, guid: Guid, stop: Stop, out: &mut Outbox) {
        if self.dynamic.end(guid, stop) == Some(Searcher::Own) {
            self.finish_search(guid, out);
        }
    }

    /// The degree a link's servent said (`X-Degree`); one that did not say is taken to keep
    /// as many ultrapeer links as we do.
    fn link_degree(&self, link: ConnId) -> u32 {
        self.conns
            .get(&link)
            .and_then(|c| c.degree)
            .unwrap_or_else(|| u32::try_from(self.config.max_peers).unwrap_or(u32::MAX))
    }

    /// The highest TTL a step over `link` may carry: [`MAX_DYNAMIC_TTL`], our own
    /// `max_ttl`, and the link's `X-Max-TTL`.
    fn link_max_ttl(&self, link: ConnId) -> u8 {
        let theirs = self.conns.get(&link).and_then(|c| c.max_ttl);
        MAX_DYNAMIC_TTL
            .min(self.config.max_ttl)
            .min(theirs.unwrap_or(u8::MAX))
            .max(1)
    }

    /// Counts results for query `guid`: `n` kept by our own search.
    pub(super) fn count_own_results(&mut self, guid: Guid, n: usize) {
        self.dynamic.count(guid, Searcher::Own, n);
    }

    /// Counts results for query `guid`: `n` routed back to the leaf on `to`.
    pub(super) fn count_routed_results(&mut self, guid: Guid, to: ConnId, n: usize) {
        self.dynamic.count(guid, Searcher::Leaf(to), n);
    }

    /// True when the Query `d` from `from` is a leaf's own search, which an ultrapeer
    /// queries for dynamically.
    pub(super) fn is_leaf_search(&self, from: ConnId, d: &Descriptor) -> bool {
        self.config.role == Role::Ultrapeer
            && d.hops == 0
            && self.conns.get(&from).is_some_and(|c| c.is_leaf())
    }

    /// A vendor message from `from`: a Query Status Response about a query we run for that
    /// leaf counts its kept results, or stops it; any other vendor message is ignored, and
    /// a broken Query Status Response dropped.
    pub(super) fn on_vendor_message(
        &mut self,
        from: ConnId,
        guid: Guid,
        data: &[u8],
        out: &mut Outbox,
    ) {
        match QueryStatus::decode(data) {
            Ok(Some(status)) => self.on_query_status(from, guid, status, out),
            Ok(None) => self.metrics.record_drop("ignored"),
            Err(why) => {
                debug!(%from, why, "query status dropped");
                self.metrics.record_drop("malformed");
            }
        }
    }

    fn on_query_status(&mut self, from: ConnId, guid: Guid, status: QueryStatus, out: &mut Outbox) {
        // Only the leaf the query searches for may steer it, as gtk-gnutella checks.
        let Some(q) = self
            .dynamic
            .queries
            .get_mut(&guid)
            .filter(|q| q.searcher == Searcher::Leaf(from))
        else {
            self.metrics.record_drop("unroutable");
            return;
        };
        if status.is_stop() {
            self.end_dynamic(guid, Stop::Told, out);
        } else {
            q.reported = Some((u32::from(status.kept), 0));
        }
    }

    /// As a leaf: the ultrapeers a search of ours goes to that read Query Status Responses.
    pub(super) fn status_readers(&self) -> Vec<ConnId> {
        if self.config.role != Role::Leaf {
            return Vec::new();
        }
        self.conns
            .iter()
            .filter(|(_, c)| c.is_ultrapeer() && c.dynamic)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Sends `status` about our search `guid` to each of `readers` still open.
    pub(super) fn send_status(
        &mut self,
        guid: Guid,
        status: QueryStatus,
        readers: &[ConnId],
        out: &mut Outbox,
    ) {
        let payload = Payload::Extension {
            code: VENDOR_MESSAGE,
            data: status.to_bytes().to_vec(),
        };
        let d = Descriptor::new(guid, 1, payload);
        for &conn in readers {
            if self.conns.get(&conn).is_some_and(|c| c.is_open()) {
                self.send(conn, &d, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_horizon_is_the_tree_count_weighed_per_hop() {
        assert_eq!(horizon(8, 1), 1.0, "the neighbour itself");
        assert!((horizon(8, 2) - (1.0 + 7.0 * 0.8)).abs() < 1e-9);
        assert!((horizon(8, 3) - (1.0 + 5.6 + 5.6 * 5.6)).abs() < 1e-9);
        assert_eq!(
            horizon(1, 4),
            1.0,
            "a servent with no other link passes nothing on"
        );
    }

    #[test]
    fn the_next_ttl_follows_the_results_so_far() {
        // Nothing back yet: as far as allowed.
        assert_eq!(next_ttl(0, 150, 20.0, 5, 8, 5), 5);
        // 30 results from 20 ultrapeers: 120 more need 80 ultrapeers, 16 per link of 5;
        // TTL 2 reaches 6.6 through a degree-8 link, TTL 3 about 38: TTL 2.
        assert_eq!(next_ttl(30, 150, 20.0, 5, 8, 5), 2);
        // 3 results from 20: 147 more need 980, 196 per link; TTL 4 would reach 214.
        assert_eq!(next_ttl(3, 150, 20.0, 5, 8, 5), 3);
        // 1 result from 20: 596 per link, within TTL 4's 214 and short of TTL 5's 1,197;
        // and the link's ceiling holds.
        assert_eq!(next_ttl(1, 150, 20.0, 5, 8, 5), 4);
        assert_eq!(next_ttl(1, 150, 20.0, 5, 8, 3), 3);
        // Almost there: the lowest TTL.
        assert_eq!(next_ttl(149, 150, 20.0, 5, 8, 5), 1);
    }
}
