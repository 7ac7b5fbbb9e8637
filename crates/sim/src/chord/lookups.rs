//! Publishing names in a simulated ring and looking them up through the protocol.
//!
//! A lookup here is what a user of the ring does: [`Command::Search`] for a published name
//! at some node. The core routes to successor(SHA-1(name)) with its iterative
//! `find_successor`, asks that node for the records under the key, and reports
//! [`Event::SearchDone`] with hits that carry the hops the routing took. A lookup
//! **succeeds** when a hit names the publisher as holder — the records were found at the
//! node the ring routed to, so that node was the key's owner (or a replica of it).
//!
//! Every published name is one lower-case word (`k<seed>x<i>`), so its exact-name key and
//! its keyword key are the same and each record is stored once per copy.
//!
//! When a lookup fails, the driver asks the true ring (the sorted live ids) whether the key
//! still had its record at its true owner. If not, the key was **lost** — every copy died
//! with its nodes — and no routing could have found it; if so, routing itself failed.
//! The paper's failure experiment counts both; its churn experiment counts only the second.
//!
//! A lookup asks only for names whose publisher is alive at that moment ([`askable`]): a
//! publisher that crashed or left has its entries withdrawn by design, so asking for its
//! names would measure that choice, not the ring.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use p2plab_chord::{Id, NodeRef};
use p2plab_netsim::NodeIdx;
use p2plab_peer_protocol::{Command, Event, Hit, Holder, Library, Query, RequestId};
use rand::seq::IndexedRandom;
use serde::{Deserialize, Serialize};

use super::ring::{true_successor, SimRing};
use super::stats::Summary;

/// Size of every published file: the simulator never downloads, so any size does.
const FILE_SIZE: u64 = 1;

/// How often the driver checks for answers while it waits for a batch.
const POLL_EVERY: Duration = Duration::from_millis(100);

/// The longest a batch of lookups may take in virtual time: far beyond the core's RPC
/// timeouts times the most hops a lookup may ask, so only a lost answer waits this long.
const BATCH_LIMIT: Duration = Duration::from_secs(300);

/// One published name and who shares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    /// The file name: a single word.
    pub name: String,
    /// successor(key) owns its record.
    pub key: Id,
    /// The publisher, who appears as holder in every hit.
    pub holder: SocketAddr,
}

/// Shares `count` names among random live nodes and runs the network until every record
/// reached its owner (or `limit` of virtual time passed). Returns the names.
pub fn publish(ring: &mut SimRing, count: usize, limit: Duration) -> Vec<Published> {
    let live: Vec<NodeIdx> = ring.net.alive().collect();
    let mut by_holder: BTreeMap<NodeIdx, Vec<String>> = BTreeMap::new();
    let tag = ring.net.len();
    for i in 0..count {
        let Some(&holder) = live.choose(&mut ring.rng) else {
            break;
        };
        by_holder
            .entry(holder)
            .or_default()
            .push(format!("k{tag}x{i}"));
    }
    let bits = p2plab_chord::M;
    let mut published = Vec::with_capacity(count);
    for (holder, names) in by_holder {
        let addr = ring.net.addr(holder);
        published.extend(names.iter().map(|name| Published {
            name: name.clone(),
            key: Id::of_key(name, bits),
            holder: addr,
        }));
        let specs = names.into_iter().map(|n| (n, FILE_SIZE));
        let library = Arc::new(Library::synthetic(specs, holder as u64));
        ring.net.command(holder, Command::Share { library });
    }
    let deadline = ring.now() + limit;
    while ring.now() < deadline && !all_stored(ring, &published) {
        ring.advance(ring.params.stabilize());
    }
    published
}

/// True when every name's record is at each of its holders: its true owner and, with `r`
/// replicas, the next `r - 1` nodes — so that a failure right after publication loses only
/// the names whose every holder died, as the paper's count of lost keys assumes.
fn all_stored(ring: &SimRing, published: &[Published]) -> bool {
    let members = ring.members();
    let holders = ring.params.replicas.clamp(1, members.len().max(1));
    published
        .iter()
        .all(|p| (0..holders).all(|k| stored_at(ring, &members, p, k)))
}

/// True when successor(`p.key`) on the true ring `members` holds `p`'s record.
fn stored_at_owner(ring: &SimRing, members: &[NodeRef], p: &Published) -> bool {
    stored_at(ring, members, p, 0)
}

/// True when the `k`-th node from successor(`p.key`) on the true ring `members` (0: the
/// owner) holds `p`'s record.
fn stored_at(ring: &SimRing, members: &[NodeRef], p: &Published, k: usize) -> bool {
    if members.is_empty() {
        return false;
    }
    let owner = true_successor(members, p.key);
    let first = members
        .iter()
        .position(|m| m.addr == owner.addr)
        .unwrap_or(0);
    let holder = members[(first + k) % members.len()];
    let Some(idx) = ring.net.idx_of(holder.addr) else {
        return false;
    };
    let query = Query::parse(&p.name);
    ring.net
        .node(idx)
        .stored_records(p.key, &query, ring.now())
        .iter()
        .any(|r| r.holder == p.holder)
}

/// The names a lookup may ask for at one moment, split from those it may not.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Askable {
    /// The names whose publisher is alive.
    pub names: Vec<Published>,
    /// How many names were left out because their publisher is dead. Its entries are
    /// withdrawn by design — its file can no longer be fetched, and p2plab drops a dead
    /// holder's entries within seconds — so every lookup of them would read as a lost
    /// name whatever the owner and its replicas did.
    pub withdrawn: usize,
}

/// Splits `published` by whether each name's publisher is alive on `ring` now. Every
/// lookup the drivers here issue draws its name from the first part, so none asks for a
/// name whose publisher is dead when it is asked.
pub fn askable(ring: &SimRing, published: &[Published]) -> Askable {
    let (names, dead): (Vec<Published>, Vec<Published>) =
        published.iter().cloned().partition(|p| {
            ring.net
                .idx_of(p.holder)
                .is_some_and(|i| ring.net.is_alive(i))
        });
    Askable {
        names,
        withdrawn: dead.len(),
    }
}

/// What became of the lookups a [`Lookups`] driver issued.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LookupStats {
    /// Lookups answered (lookups whose origin crashed first are not counted).
    pub answered: u64,
    /// Answered with the publisher among the hits.
    pub succeeded: u64,
    /// Failed although the key's true owner held its record: routing went wrong.
    pub routing_failures: u64,
    /// Failed because no live owner held the record any more: the key was lost.
    pub lost: u64,
    /// Lookups whose origin crashed before the answer.
    pub abandoned: u64,
    /// Hops of each successful lookup.
    pub hops: Vec<u32>,
    /// Published names left out of the last draw because their publisher was dead
    /// ([`Askable::withdrawn`]). Publishers never come back, so this is every name left
    /// out over the run.
    pub withdrawn: u64,
}

impl LookupStats {
    /// Failed lookups of every kind, as a fraction of those answered.
    pub fn failed_fraction(&self) -> f64 {
        fraction(self.routing_failures + self.lost, self.answered)
    }

    /// Lookups failed by routing alone, as a fraction of those answered.
    pub fn routing_failed_fraction(&self) -> f64 {
        fraction(self.routing_failures, self.answered)
    }

    /// Mean, 1st and 99th percentile of the successful lookups' hops.
    pub fn hop_summary(&self) -> Summary {
        Summary::of(self.hops.iter().map(|&h| f64::from(h)))
    }
}

fn fraction(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// A lookup in flight.
#[derive(Clone, Debug)]
struct Pending {
    origin: NodeIdx,
    target: Published,
}

/// Issues searches at nodes of a ring and collects their answers as they come.
#[derive(Debug, Default)]
pub struct Lookups {
    next: u64,
    pending: BTreeMap<RequestId, Pending>,
    /// What became of the lookups answered so far.
    pub stats: LookupStats,
}

impl Lookups {
    /// A driver with nothing in flight.
    pub fn new() -> Self {
        Self::default()
    }

    /// Lookups issued and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// Starts a search for `target` at `origin`, now.
    pub fn issue(&mut self, ring: &mut SimRing, origin: NodeIdx, target: &Published) {
        self.next += 1;
        let request = RequestId(self.next);
        self.pending.insert(
            request,
            Pending {
                origin,
                target: target.clone(),
            },
        );
        let query = target.name.clone();
        ring.net.command(origin, Command::Search { request, query });
    }

    /// Starts a search at a random live node for a random name of `published` whose
    /// publisher is alive now ([`askable`]).
    pub fn issue_random(&mut self, ring: &mut SimRing, published: &[Published]) {
        let ask = askable(ring, published);
        self.stats.withdrawn = ask.withdrawn as u64;
        let (Some(origin), Some(target)) = (ring.random_live(), ask.names.choose(&mut ring.rng))
        else {
            return;
        };
        let target = target.clone();
        self.issue(ring, origin, &target);
    }

    /// Takes every answer that arrived and classifies it.
    pub fn collect(&mut self, ring: &mut SimRing) {
        let origins: BTreeSet<NodeIdx> = self.pending.values().map(|p| p.origin).collect();
        for origin in origins {
            if !ring.net.is_alive(origin) {
                let before = self.pending.len();
                self.pending.retain(|_, p| p.origin != origin);
                self.stats.abandoned += (before - self.pending.len()) as u64;
                continue;
            }
            for event in ring.net.take_events(origin) {
                if let Event::SearchDone { request, result } = event {
                    if let Some(p) = self.pending.remove(&request) {
                        let hops = result.ok().and_then(|hits| hop_to(&hits, &p.target));
                        self.resolve(ring, &p, hops);
                    }
                }
            }
        }
    }

    fn resolve(&mut self, ring: &SimRing, p: &Pending, hops: Option<u32>) {
        self.stats.answered += 1;
        match hops {
            Some(h) => {
                self.stats.succeeded += 1;
                self.stats.hops.push(h);
            }
            None if stored_at_owner(ring, &ring.members(), &p.target) => {
                self.stats.routing_failures += 1;
            }
            None => self.stats.lost += 1,
        }
    }

    /// Runs the network until every lookup in flight is answered (or a generous limit
    /// passed; what is still unanswered then counts as a routing failure).
    pub fn drain(&mut self, ring: &mut SimRing) {
        let deadline = ring.now() + BATCH_LIMIT;
        while !self.pending.is_empty() && ring.now() < deadline {
            ring.advance(POLL_EVERY);
            self.collect(ring);
        }
        self.stats.answered += self.pending.len() as u64;
        self.stats.routing_failures += self.pending.len() as u64;
        self.pending.clear();
    }
}

/// The hops of the hit that names `target`'s publisher, if any.
fn hop_to(hits: &[Hit], target: &Published) -> Option<u32> {
    hits.iter()
        .find(|h| {
            h.name == target.name
                && matches!(h.holder, Holder::Http { addr, .. } if addr == target.holder)
        })
        .map(|h| h.hops.unwrap_or(0))
}

/// Runs `count` lookups from random live nodes of random published names whose publisher
/// is alive ([`askable`]), `batch` at a time, each batch drained before the next is issued.
pub fn run_batches(
    ring: &mut SimRing,
    published: &[Published],
    count: usize,
    batch: usize,
) -> LookupStats {
    let mut lookups = Lookups::new();
    let mut issued = 0;
    while issued < count {
        let n = batch.max(1).min(count - issued);
        // Nobody joins or fails while a batch is issued: the live set is read once per
        // batch, not once per lookup (on 10^5 nodes that is the difference between a
        // second and an hour).
        let live: Vec<NodeIdx> = ring.net.alive().collect();
        let ask = askable(ring, published);
        lookups.stats.withdrawn = ask.withdrawn as u64;
        for _ in 0..n {
            let (Some(&origin), Some(target)) =
                (live.choose(&mut ring.rng), ask.names.choose(&mut ring.rng))
            else {
                break;
            };
            lookups.issue(ring, origin, &target.clone());
        }
        issued += n;
        lookups.drain(ring);
    }
    lookups.stats
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chord::RingParams;

    /// Nodes in the test ring: enough that a crash now and then leaves most publishers up.
    const NODES: usize = 16;

    #[test]
    fn no_lookup_asks_for_a_name_whose_publisher_is_dead_when_it_is_asked() {
        let (mut ring, _) = SimRing::build(RingParams::default(), 11, NODES).expect("settles");
        let published = publish(&mut ring, 60, Duration::from_secs(30));
        let mut lookups = Lookups::new();
        let mut crashed = BTreeSet::new();
        for round in 0..NODES / 2 {
            // A node fails between two lookups, as under churn.
            if let Some(victim) = ring.random_live() {
                crashed.insert(ring.net.addr(victim));
                ring.net.crash(victim);
            }
            let before: BTreeSet<RequestId> = lookups.pending.keys().copied().collect();
            lookups.issue_random(&mut ring, &published);
            let asked: Vec<&Pending> = lookups
                .pending
                .iter()
                .filter(|(r, _)| !before.contains(r))
                .map(|(_, p)| p)
                .collect();
            assert_eq!(asked.len(), 1, "round {round}: one lookup issued");
            assert!(
                !crashed.contains(&asked[0].target.holder),
                "round {round}: asked for {:?}, whose publisher is dead",
                asked[0].target
            );
            let dead = published
                .iter()
                .filter(|p| crashed.contains(&p.holder))
                .count();
            assert_eq!(lookups.stats.withdrawn, dead as u64, "round {round}");
        }
        assert!(
            lookups.stats.withdrawn > 0,
            "half the ring crashed, and with it some publishers"
        );
    }
}
