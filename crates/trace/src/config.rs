//! What a trace runs: the network, its size, the seed, and the search.

use std::fmt;
use std::str::FromStr;

pub use p2plab_chord::Routing;

use crate::model::TraceError;
use crate::MAX_NODES;

/// The three networks p2plab compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// A central index server and its peers.
    Napster,
    /// Gnutella 0.4 servents on a random overlay.
    Gnutella,
    /// Chord nodes on a ring.
    Chord,
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Network::Napster => "napster",
            Network::Gnutella => "gnutella",
            Network::Chord => "chord",
        })
    }
}

impl FromStr for Network {
    type Err = TraceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "napster" => Ok(Network::Napster),
            "gnutella" => Ok(Network::Gnutella),
            "chord" => Ok(Network::Chord),
            other => Err(TraceError::Config(format!("unknown network {other:?}"))),
        }
    }
}

/// The default search: two words, so the keyword rule (every word must match) shows.
pub const DEFAULT_QUERY: &str = "four seasons";

/// How a trace is set up. [`TraceConfig::new`] gives the defaults the book uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceConfig {
    /// Which network to build.
    pub network: Network,
    /// Peers (Napster: besides the server), servents or ring nodes.
    pub nodes: usize,
    /// Seeds the overlay, the libraries and every node's random numbers.
    pub seed: u64,
    /// Gnutella: the Query's TTL, how many hops the flood may travel.
    pub ttl: u8,
    /// Gnutella: each servent dials this many earlier ones, so the mean degree is about twice
    /// this.
    pub degree: usize,
    /// Chord: m, the bits of an identifier. Small rings read well in pictures.
    pub id_bits: u32,
    /// Chord: r, the successor-list length.
    pub successors: usize,
    /// Chord: whether the searcher asks every hop itself (iterative) or each hop passes the
    /// lookup on to the next (recursive).
    pub routing: Routing,
    /// The keywords searched for.
    pub query: String,
}

impl TraceConfig {
    /// The defaults: 12 Napster peers, 30 servents with TTL 7 and mean degree about 4, or 24
    /// Chord nodes on a 10-bit ring with 3 successors and iterative lookups; seed 1; the query
    /// "four seasons".
    pub fn new(network: Network) -> Self {
        TraceConfig {
            network,
            nodes: match network {
                Network::Napster => 12,
                Network::Gnutella => 30,
                Network::Chord => 24,
            },
            seed: 1,
            ttl: p2plab_gnutella::DEFAULT_TTL,
            degree: 2,
            id_bits: 10,
            successors: 3,
            routing: Routing::Iterative,
            query: DEFAULT_QUERY.to_owned(),
        }
    }

    /// Checks the numbers are ones a trace can run.
    ///
    /// # Errors
    /// [`TraceError::Config`] naming the field out of range. The identifier bits are Chord's
    /// alone: a Gnutella or Napster trace of any size ignores them.
    pub fn check(&self) -> Result<(), TraceError> {
        let bad = |why: String| Err(TraceError::Config(why));
        if !(2..=MAX_NODES).contains(&self.nodes) {
            return bad(format!("--nodes must be 2..={MAX_NODES}"));
        }
        if !(1..=p2plab_gnutella::MAX_TTL).contains(&self.ttl) {
            return bad(format!("--ttl must be 1..={}", p2plab_gnutella::MAX_TTL));
        }
        if self.degree == 0 {
            return bad("--degree must be at least 1".into());
        }
        let chord = self.network == Network::Chord;
        if chord
            && (!(4..=32).contains(&self.id_bits) || (1u64 << self.id_bits) < 4 * self.nodes as u64)
        {
            return bad("--id-bits must be 4..=32 and give at least 4 ids per node".into());
        }
        if self.successors == 0 {
            return bad("--successors must be at least 1".into());
        }
        if p2plab_peer_protocol::Query::parse(&self.query).is_empty() {
            return bad("--query needs at least one word".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thousand_nodes_pass_and_the_id_bits_bind_chord_alone() {
        for network in [Network::Napster, Network::Gnutella] {
            let mut config = TraceConfig::new(network);
            config.nodes = MAX_NODES;
            assert_eq!(config.check(), Ok(()), "{network}");
            config.nodes = MAX_NODES + 1;
            assert!(config.check().is_err(), "{network}");
        }
        let mut chord = TraceConfig::new(Network::Chord);
        chord.nodes = 1_000;
        let err = chord
            .check()
            .expect_err("10 bits hold 1,024 ids, not 4 per node");
        assert!(err.to_string().contains("--id-bits"), "{err}");
        chord.id_bits = 12;
        assert_eq!(chord.check(), Ok(()));
    }
}
