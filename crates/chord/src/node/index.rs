//! The file index on the ring.
//!
//! Every shared file is filed under `SHA-1(normalize_name(name))` and under `SHA-1(word)`
//! for each of its keywords ([`keywords::words`]). The holder looks up each key's owner,
//! successor(key), and sends it the records in a primary `store`; the owner keeps them and
//! copies them as replicas to its next `replicas - 1` successors.
//!
//! A search looks up the key of its query's first word and sends the owner a `get` with the
//! whole query; the owner returns the records whose names match every word
//! ([`Query::matches`]) — the same rule Napster's server and Gnutella's servents apply.
//!
//! # Implementation notes
//!
//! - A holder runs at most [`MAX_PUBLISHING`] publish lookups at once; its other keys wait
//!   in `to_publish`, first in first out, and start as earlier ones end. A re-publication
//!   refreshes the records of keys still waiting and queues the others once, so a slow
//!   ring never piles up old rounds and never starves a key.
//! - Holders re-publish every `republish_every`; copies expire `entry_ttl` after they were
//!   last stored, so a departed holder's records fade away.
//! - Owners re-replicate the keys they own on the same period, so replicas lost with a
//!   failed node come back; a replica is stored with a fresh expiry, so a departed holder's
//!   records may outlive it by up to two TTLs.
//! - When a new predecessor joins between us and the old one, the keys in
//!   `(old predecessor, new]` move to it (with no old predecessor, every key outside
//!   `(new, us]`); a leaving node sends its keys to its successor.
//! - Publications and hand-overs are *primary* copies; replication sends *replicas*. A
//!   primary copy of a key outside the receiver's `(predecessor, node]` goes on to its
//!   predecessor: while nodes join, a lookup can end at a key's old successor after a
//!   newer node took the key over, and without this the entry would wait there, unfindable,
//!   for the next re-publication.
//! - A replica is kept only by a node among the first `replicas` from its key, as far as
//!   the node can tell ([`ChordNode::replica_refusal`]); the owner refuses replicas of its
//!   own keys, so a search never reads a record that only a replica brought.
//! - Whatever is kept stays within the store's limits ([`crate::store`]) and the quota of
//!   the connection it came on ([`crate::quota`]); only what was kept is replicated on.
//!   Every refusal is counted in the metrics' `dropped` tally, by reason.

use std::collections::BTreeMap;

use p2plab_peer_protocol::keywords::{normalize_name, words};
use p2plab_peer_protocol::{ConnId, Event, Instant, Outbox, Query, RequestId, SearchError};

use super::{ChordNode, Goal, Purpose, SearchRun};
use crate::id::Id;
use crate::message::Message;
use crate::node_ref::NodeRef;
use crate::record::Record;
use crate::store::{Put, Role};
use crate::{MAX_PUBLISHING, MAX_QUERY_LEN, MAX_RECORDS};

impl ChordNode {
    /// The keys and records our library publishes.
    fn our_entries(&self) -> BTreeMap<Id, Vec<Record>> {
        let bits = self.ring.bits();
        let mut entries: BTreeMap<Id, Vec<Record>> = BTreeMap::new();
        for file in self.library.files() {
            let record = Record::of(file, self.me.addr);
            let name_key = Id::of_key(&normalize_name(&file.name), bits);
            let word_keys = words(&file.name).into_iter().map(|w| Id::of_key(&w, bits));
            for key in std::iter::once(name_key).chain(word_keys) {
                let list = entries.entry(key).or_default();
                if !list.contains(&record) {
                    list.push(record.clone());
                }
            }
        }
        entries
    }

    /// Looks up the owner of every key of our library and stores our records there, at
    /// most [`MAX_PUBLISHING`] keys at a time. Keys still waiting from the last round keep
    /// their place in the queue (with fresh records); the others join at its end, so a
    /// round that comes before the last one finished cannot starve the queue's tail.
    pub(super) fn publish_all(&mut self, now: Instant, out: &mut Outbox) {
        let mut entries = self.our_entries();
        self.to_publish
            .retain_mut(|(key, records)| match entries.remove(key) {
                Some(fresh) => {
                    *records = fresh;
                    true
                }
                None => false,
            });
        let running: Vec<Id> = self.publishing().collect();
        self.to_publish.extend(
            entries
                .into_iter()
                .filter(|(key, _)| !running.contains(key)),
        );
        self.publish_next(now, out);
    }

    /// The keys whose publish lookups are running.
    pub(super) fn publishing(&self) -> impl Iterator<Item = Id> + '_ {
        self.lookups.values().filter_map(|a| match &a.goal {
            Goal::Publish { key, .. } => Some(*key),
            _ => None,
        })
    }

    /// Starts publish lookups for waiting keys while fewer than [`MAX_PUBLISHING`] run.
    fn publish_next(&mut self, now: Instant, out: &mut Outbox) {
        let mut running = self.publishing().count();
        while running < MAX_PUBLISHING {
            let Some((key, records)) = self.to_publish.pop_front() else {
                return;
            };
            running += 1;
            self.start_lookup(now, key, Goal::Publish { key, records }, out);
        }
    }

    /// The periodic task: publish our files again, and copy the keys we own to our
    /// replica successors again.
    pub(super) fn republish(&mut self, now: Instant, out: &mut Outbox) {
        self.publish_all(now, out);
        let owned = self.store.select(now, |k| self.owns(k));
        for (key, records) in owned {
            self.replicate(now, key, &records, out);
        }
    }

    /// Sends `records` to `owner` as primary copies (or keeps them, if that is us).
    fn store_at(
        &mut self,
        now: Instant,
        owner: NodeRef,
        key: Id,
        records: Vec<Record>,
        out: &mut Outbox,
    ) {
        if owner.id == self.me.id {
            self.on_store(now, None, key, false, records, out);
        } else {
            self.send_records(now, owner, key, false, &records, out);
        }
    }

    /// Sends `records` in as many `store` frames as [`MAX_RECORDS`] requires.
    fn send_records(
        &mut self,
        now: Instant,
        to: NodeRef,
        key: Id,
        replica: bool,
        records: &[Record],
        out: &mut Outbox,
    ) {
        for chunk in records.chunks(MAX_RECORDS) {
            let msg = Message::Store {
                key,
                replica,
                records: chunk.to_vec(),
            };
            self.send_to(now, to.addr, 0, msg, out);
        }
    }

    /// Copies `records` to the next `replicas - 1` successors.
    fn replicate(&mut self, now: Instant, key: Id, records: &[Record], out: &mut Outbox) {
        let copies = self.config.replicas - 1;
        let targets: Vec<NodeRef> = self
            .successors
            .as_slice()
            .iter()
            .take(copies)
            .copied()
            .collect();
        for t in targets {
            self.send_records(now, t, key, true, records, out);
        }
    }

    /// True when `key` lies in `(predecessor, us]`, or we know no predecessor.
    fn owns(&self, key: Id) -> bool {
        let (me, ring) = (self.me.id, self.ring);
        self.predecessor
            .is_none_or(|p| ring.in_half_open(key, p.id, me))
    }

    /// A `store` arrived on `conn` (or, with none, we are the owner of our own records).
    ///
    /// A primary copy of a key we do not own goes on to our predecessor: the sender found
    /// us through a node that had not yet heard of a newer node between us, and that node
    /// — or one further back — is the owner now. Following predecessor pointers always
    /// ends at the node whose `(predecessor, node]` holds the key. A replica is kept only
    /// if it is ours to keep ([`ChordNode::replica_refusal`]).
    pub(super) fn on_store(
        &mut self,
        now: Instant,
        conn: Option<ConnId>,
        key: Id,
        replica: bool,
        records: Vec<Record>,
        out: &mut Outbox,
    ) {
        if replica {
            let sender = conn.and_then(|c| self.link_sender(c));
            if let Some(why) = self.replica_refusal(key, sender) {
                tracing::debug!(%key, ?sender, why, "replica refused");
                self.metrics.record_drop(why);
                return;
            }
        } else if let (false, Some(pred)) = (self.owns(key), self.predecessor) {
            self.send_records(now, pred, key, false, &records, out);
            return;
        }
        let role = if replica {
            Role::Replica
        } else {
            Role::Primary
        };
        let kept = self.keep(now, conn, key, role, records);
        if !replica && !kept.is_empty() {
            self.replicate(now, key, &kept, out);
        }
    }

    /// Stores what fits of `records` under `key`, within the store's limits and the
    /// quota of the connection they came on. Returns the records kept.
    fn keep(
        &mut self,
        now: Instant,
        conn: Option<ConnId>,
        key: Id,
        role: Role,
        records: Vec<Record>,
    ) -> Vec<Record> {
        let expires = now + self.config.entry_ttl;
        let mut kept = Vec::with_capacity(records.len());
        for r in records {
            let grows = !self.store.holds(key, &r);
            if grows && !self.quota_allows(conn, now, !self.store.holds_key(key)) {
                self.metrics.record_drop("link_quota");
                continue;
            }
            match self.store.put(now, key, r.clone(), expires, role) {
                Put::Added { new_key, evicted } => {
                    self.charge_quota(conn, new_key);
                    for _ in 0..evicted {
                        self.metrics.record_drop("evicted");
                    }
                    kept.push(r);
                }
                Put::Refreshed => kept.push(r),
                Put::KeyFull => self.metrics.record_drop("key_full"),
                Put::StoreFull => self.metrics.record_drop("store_full"),
            }
        }
        kept
    }

    /// Why a replica of `key` is not ours to keep, or `None` when it is. `sender` is the
    /// node the connection named itself as, if it did (see [`links`](super::links)).
    ///
    /// We keep a copy of a key when we are among the first `replicas` nodes from the key
    /// on: its successor (the owner) or one of the next `replicas - 1`. Counting from what
    /// we know — our predecessor and our successor list — a replica is refused when
    ///
    /// 1. the key lies in `(predecessor, us]`: we own it, and our copy is the primary one,
    ///    which searches read (a replica there would let anyone file any name under any
    ///    holder at the node searches ask);
    /// 2. the connection named a sender, and the key lies in `(sender, us]`: an owner sends
    ///    replicas of keys at or before it, never of keys between it and us;
    /// 3. we know `replicas` or more nodes in `[key, us)`: the key's owner and the nodes
    ///    after it, so we are at least the `replicas + 1`-th node from the key.
    ///
    /// The nodes we count exist, or did a moment ago, so rules 2 and 3 never refuse an
    /// honest replica while our successor list is right, and nodes we have not heard of
    /// only make us keep more. Rule 1 needs our predecessor to be current: a node that
    /// has just joined behind us owns part of what we take for our range. But it notifies
    /// us, on the connection its replicas will take, before it holds any key to replicate:
    /// its keys come from our hand-over, which that notification starts.
    ///
    /// A `store` names no sender, so a replica on a connection that never named one is
    /// judged by its key alone; the connection's [`Quota`](crate::quota::Quota) bounds
    /// what such a sender can add.
    fn replica_refusal(&self, key: Id, sender: Option<NodeRef>) -> Option<&'static str> {
        let (me, ring) = (self.me.id, self.ring);
        if self
            .predecessor
            .is_some_and(|p| ring.in_half_open(key, p.id, me))
        {
            return Some("replica_of_own_key");
        }
        if sender.is_some_and(|s| ring.in_half_open(key, s.id, me)) {
            return Some("replica_from_wrong_sender");
        }
        if self.known_from(key) >= self.config.replicas {
            return Some("replica_out_of_range");
        }
        None
    }

    /// How many nodes we know of in `[key, us)` clockwise: predecessor and successors.
    fn known_from(&self, key: Id) -> usize {
        let ring = self.ring;
        let reach = ring.distance(key, self.me.id);
        let succs = self.successors.as_slice();
        let pred = self.predecessor.filter(|p| !succs.contains(p));
        succs
            .iter()
            .chain(pred.as_ref())
            .filter(|n| ring.distance(key, n.id) < reach)
            .count()
    }

    /// Gives a new predecessor `n` the keys in `(old, n]`, as primary copies: `n` owns
    /// them now (or passes them further back, if a still newer node has taken them), and
    /// copies them to its replica successors. We keep ours as a replica.
    pub(super) fn hand_over(&mut self, now: Instant, old: Id, n: NodeRef, out: &mut Outbox) {
        let ring = self.ring;
        let moving = self.store.select(now, |k| ring.in_half_open(k, old, n.id));
        for (key, records) in moving {
            self.send_records(now, n, key, false, &records, out);
        }
    }

    /// Leaving: gives the successor every key we own, as primary copies so that it
    /// restores the replica count.
    pub(super) fn hand_over_all(&mut self, now: Instant, succ: NodeRef, out: &mut Outbox) {
        let owned = self.store.select(now, |k| self.owns(k));
        for (key, records) in owned {
            self.send_records(now, succ, key, false, &records, out);
        }
    }

    /// `Command::Search`: look up the first word's key, then ask its owner.
    pub(super) fn search(
        &mut self,
        now: Instant,
        request: RequestId,
        text: &str,
        out: &mut Outbox,
    ) {
        if let Some(why) = self.not_ready() {
            out.report(Event::SearchDone {
                request,
                result: Err(SearchError::NotReady(why)),
            });
            return;
        }
        let query = Query::parse(text);
        let Some(first) = query.words().first() else {
            out.report(Event::SearchDone {
                request,
                result: Ok(Vec::new()),
            });
            return;
        };
        let key = Id::of_key(first, self.ring.bits());
        let run = SearchRun {
            request,
            query,
            key,
            started: now,
            hops: 0,
        };
        self.start_lookup(now, key, Goal::Search(run), out);
    }

    /// The search's key has owner `owner`, found in `hops` hops: read the records there.
    fn search_owner_found(
        &mut self,
        now: Instant,
        mut run: SearchRun,
        owner: NodeRef,
        hops: u32,
        out: &mut Outbox,
    ) {
        run.hops = hops;
        if owner.id == self.me.id {
            let records = self.store.get(run.key, &run.query, now);
            if records.is_empty() && !self.owns_range_known() {
                let why = "this node owns the key but has no predecessor yet, so its \
                           records may still be at the node that held them before";
                return out.report(Event::SearchDone {
                    request: run.request,
                    result: Err(SearchError::NotReady(why.into())),
                });
            }
            return self.search_answered(now, run, records, out);
        }
        let query = query_text(&run.query);
        let msg = Message::Get {
            key: run.key,
            query,
        };
        self.request(now, owner, msg, Purpose::Get(run), out);
    }

    /// The owner answered a search: report the matching records as hits.
    pub(super) fn search_answered(
        &mut self,
        now: Instant,
        run: SearchRun,
        records: Vec<Record>,
        out: &mut Outbox,
    ) {
        let hits = records
            .iter()
            .filter(|r| run.query.matches(&r.name))
            .map(|r| r.to_hit(run.hops))
            .collect();
        self.metrics
            .record_lookup(run.hops, now.saturating_since(run.started));
        out.report(Event::SearchDone {
            request: run.request,
            result: Ok(hits),
        });
    }

    /// A lookup ended: act on its goal.
    pub(super) fn lookup_done(
        &mut self,
        now: Instant,
        goal: Goal,
        found: Option<(NodeRef, u32)>,
        out: &mut Outbox,
    ) {
        match (goal, found) {
            (Goal::Publish { key, records }, Some((owner, _))) => {
                self.store_at(now, owner, key, records, out);
                self.publish_next(now, out);
            }
            (Goal::Search(run), Some((owner, hops))) => {
                self.search_owner_found(now, run, owner, hops, out)
            }
            (Goal::Search(run), None) => out.report(Event::SearchDone {
                request: run.request,
                result: Err(SearchError::Timeout(
                    u64::try_from(self.config.rpc_timeout.as_millis()).unwrap_or(u64::MAX),
                )),
            }),
            (Goal::Publish { .. }, None) => {
                self.metrics.record_drop("publish_lookup_failed");
                self.publish_next(now, out);
            }
            (goal, found) => self.upkeep_lookup_done(now, &goal, found.map(|(n, _)| n), out),
        }
    }
}

/// The query's words, space-separated, cut to [`MAX_QUERY_LEN`] bytes at a word boundary.
fn query_text(query: &Query) -> String {
    let mut text = String::new();
    for w in query.words() {
        if text.len() + 1 + w.len() > MAX_QUERY_LEN {
            break;
        }
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(w);
    }
    text
}
