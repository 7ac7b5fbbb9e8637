//! How a Chord node is set up, and the one home of every setting's default and valid
//! range: the command line and the scenario file both read the constants below and check
//! what they were given with [`ChordConfig::validate`].
//!
//! A lone node started by hand (`p2plab chord node`) gets the plain defaults; a node in a
//! scenario's cluster gets the `CLUSTER_*` values where the two differ, each saying why.

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::Duration;

use p2plab_peer_protocol::settings::{check_range, PERIODS};
use p2plab_peer_protocol::{Library, SettingError};

use crate::{M, MAX_DIALLED, MAX_SUCCESSORS};

/// r: successor-list length. The paper asks for r = Ω(log N); 8 keeps a ring of a few
/// thousand nodes connected when a fifth of them fail at once (0.2^8 ≈ 3·10⁻⁶ per node).
pub const DEFAULT_SUCCESSORS: usize = 8;

/// Copies of each index entry: successor(key) and the next two nodes.
pub const DEFAULT_REPLICAS: usize = 3;

/// Period of `stabilize` of a lone node. The paper's churn experiments stabilise every
/// ~30 s; a second suits loopback rings that should settle while a person watches.
pub const STABILIZE_EVERY: Duration = Duration::from_secs(1);

/// Period of `fix_fingers` of a lone node (one finger per call).
pub const FIX_FINGERS_EVERY: Duration = Duration::from_millis(500);

/// Period of `stabilize` in a cluster. A scenario waits until its ring of a hundred or more
/// nodes, joining in batches, is exact before it measures anything; at a quarter of a
/// lone node's period that takes seconds, not minutes.
pub const CLUSTER_STABILIZE_EVERY: Duration = Duration::from_millis(250);

/// Period of `fix_fingers` in a cluster: ten fingers a second, so a freshly formed ring's
/// lookups take their O(log N) hops within seconds instead of walking successors.
pub const CLUSTER_FIX_FINGERS_EVERY: Duration = Duration::from_millis(100);

/// Period of `check_predecessor`.
pub const CHECK_PREDECESSOR_EVERY: Duration = Duration::from_secs(2);

/// Period of re-publishing our files and re-replicating what we own.
pub const REPUBLISH_EVERY: Duration = Duration::from_secs(60);

/// Lifetime of a stored entry: three re-publishing periods, so one lost update is harmless.
pub const ENTRY_TTL: Duration = Duration::from_secs(180);

/// Wait for a reply before a peer counts as failed.
pub const RPC_TIMEOUT: Duration = Duration::from_secs(2);

/// Valid identifier bits m: one bit makes the smallest ring of the paper's teaching
/// examples, [`M`] is all of SHA-1's output and there is no more to take.
pub const ID_BITS: RangeInclusive<u32> = 1..=M;

/// Valid successor-list lengths r: at least the successor itself, at most what one message
/// carries ([`MAX_SUCCESSORS`]).
pub const SUCCESSORS: RangeInclusive<usize> = 1..=MAX_SUCCESSORS;

/// Valid replica counts: at least the owner's copy. The other copies go to the next
/// `replicas - 1` nodes of the successor list, so there can be at most one more than its
/// longest length ([`ChordConfig::validate`] also holds them to the configured one).
pub const REPLICAS: RangeInclusive<usize> = 1..=MAX_SUCCESSORS + 1;

/// Who drives a lookup from hop to hop (ToN §IV-C).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Routing {
    /// The requester asks every hop itself: each hop is a request and a reply, a dead hop
    /// costs one timeout and the lookup moves to the next-best node. The default.
    #[default]
    Iterative,
    /// Each hop forwards the request; the last one answers the requester directly. About
    /// half the messages, but a lost hop is only noticed by the requester's overall
    /// timeout, after which the lookup is redone iteratively.
    Recursive,
}

/// Which rules choose a lookup's next hop and what a dead hop costs.
///
/// The papers' simulator (SIGCOMM 2001 §6) routes by the fingers alone — Fig. 4's
/// `closest_preceding_finger` — and "does not retry queries: if a query is forwarded to a
/// node that is down, the query simply fails" (§6.5). p2plab also consults its successor
/// list and goes round a dead hop. The choice lives where the pseudocode is, in
/// [`ChordNode::closest_preceding_nodes`](crate::ChordNode::closest_preceding_nodes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LookupRules {
    /// Fingers and successor list are both candidates, several are offered, and a dead
    /// hop is skipped for the next-best one. The default.
    #[default]
    P2plab,
    /// Fingers only (and finger 1, the successor), one next hop per answer, so a dead hop
    /// fails the lookup: the papers' simulator, for reproducing its figures.
    Paper,
}

/// Everything a [`ChordNode`](crate::ChordNode) needs to know at birth.
#[derive(Clone, Debug)]
pub struct ChordConfig {
    /// Our listen address. The node id is SHA-1 of its text (`ip:port`), cut to `id_bits`.
    /// Holders also serve HTTP downloads here.
    pub addr: SocketAddr,
    /// A node already in the ring to join through; `None` creates a new ring.
    pub join: Option<SocketAddr>,
    /// The files we share; their index entries are published in the ring.
    pub library: Arc<Library>,
    /// m: identifier bits, 1..=160. Small values make the paper's teaching rings.
    pub id_bits: u32,
    /// r: successor-list length (capped at [`MAX_SUCCESSORS`](crate::MAX_SUCCESSORS)).
    pub successors: usize,
    /// Copies of every index entry: at successor(key) and the next `replicas - 1` nodes.
    pub replicas: usize,
    /// Period of `stabilize` (and of the sweep of expired entries).
    pub stabilize_every: Duration,
    /// Period of `fix_fingers`; each call refreshes one finger.
    pub fix_fingers_every: Duration,
    /// Period of `check_predecessor`.
    pub check_predecessor_every: Duration,
    /// Period at which we re-publish our own files' entries and re-replicate the entries
    /// we own.
    pub republish_every: Duration,
    /// Also re-publish soon after joining — 2, 4, 8, ... stabilize periods apart, doubling
    /// up to `republish_every`. Entries published while the ring is still forming
    /// can reach a node that is not (or soon is not) their owner; this puts them right in
    /// seconds instead of one republish period. Off only to study replication alone.
    pub early_republish: bool,
    /// The most connections this node keeps dialled at once ([`crate::MAX_DIALLED`]).
    pub max_dialled: usize,
    /// How long a stored entry lives without being re-published.
    pub entry_ttl: Duration,
    /// How long to wait for a reply before a peer counts as failed.
    pub rpc_timeout: Duration,
    /// Iterative or recursive lookups.
    pub routing: Routing,
    /// p2plab's routing rules or the paper simulator's.
    pub lookup_rules: LookupRules,
    /// Seeds the node's random numbers (request ids, timer jitter).
    pub seed: u64,
}

impl ChordConfig {
    /// The defaults of [`crate`]'s constants: m = 160, iterative routing.
    pub fn new(addr: SocketAddr, join: Option<SocketAddr>, library: Arc<Library>) -> Self {
        ChordConfig {
            addr,
            join,
            library,
            id_bits: M,
            successors: DEFAULT_SUCCESSORS,
            replicas: DEFAULT_REPLICAS,
            stabilize_every: STABILIZE_EVERY,
            fix_fingers_every: FIX_FINGERS_EVERY,
            check_predecessor_every: CHECK_PREDECESSOR_EVERY,
            republish_every: REPUBLISH_EVERY,
            early_republish: true,
            max_dialled: MAX_DIALLED,
            entry_ttl: ENTRY_TTL,
            rpc_timeout: RPC_TIMEOUT,
            routing: Routing::Iterative,
            lookup_rules: LookupRules::P2plab,
            seed: 0,
        }
    }

    /// Checks every setting against its range above, and that the successor list is long
    /// enough to hold the replicas (`replicas <= successors + 1`): a copy with no successor to
    /// go to would never be made, and a ring waiting for `replicas` copies would never be whole.
    ///
    /// # Errors
    /// [`SettingError`] naming the first field out of range and the range it must be in.
    pub fn validate(&self) -> Result<(), SettingError> {
        check_range("id_bits", self.id_bits, &ID_BITS)?;
        check_range("successors", self.successors, &SUCCESSORS)?;
        check_range("replicas", self.replicas, &REPLICAS)?;
        if self.replicas > self.successors + 1 {
            return Err(SettingError::Beyond {
                field: "replicas",
                relation: "at most one more than",
                other: "successors",
                bound: self.successors.to_string(),
                got: self.replicas.to_string(),
            });
        }
        check_range("stabilize_every", self.stabilize_every, &PERIODS)?;
        check_range("fix_fingers_every", self.fix_fingers_every, &PERIODS)?;
        check_range(
            "check_predecessor_every",
            self.check_predecessor_every,
            &PERIODS,
        )?;
        check_range("republish_every", self.republish_every, &PERIODS)?;
        check_range("entry_ttl", self.entry_ttl, &PERIODS)?;
        check_range("rpc_timeout", self.rpc_timeout, &PERIODS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> ChordConfig {
        ChordConfig::new(
            SocketAddr::from(([10, 0, 0, 1], 7400)),
            None,
            Arc::default(),
        )
    }

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(defaults().validate(), Ok(()));
    }

    #[test]
    fn an_identifier_wider_than_sha1_is_refused_with_its_range() {
        let config = ChordConfig {
            id_bits: 161,
            ..defaults()
        };
        let err = config.validate().unwrap_err();
        assert_eq!(err.to_string(), "id_bits must be 1..=160, not 161");
    }

    #[test]
    fn more_replicas_than_the_successor_list_holds_are_refused() {
        let config = ChordConfig {
            successors: 2,
            replicas: 4,
            ..defaults()
        };
        let err = config.validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "replicas must be at most one more than successors (2), not 4"
        );
    }

    #[test]
    fn a_zero_period_is_refused() {
        let config = ChordConfig {
            fix_fingers_every: Duration::ZERO,
            ..defaults()
        };
        assert_eq!(config.validate().unwrap_err().field(), "fix_fingers_every");
    }
}
