//! Why a Gnutella query came back empty although a live holder existed: each false
//! "not found" gets exactly one cause.
//!
//! - **after the window**: a QueryHit for it came, but after the search window closed (the
//!   searcher counted it late);
//! - **another component**: no path led from the searcher to any live holder;
//! - **beyond the horizon**: the nearest live holder was more hops away than the TTL (the
//!   distances seen are kept);
//! - **shadowed**: a live holder was within reach, no hit came, and a copy of this very
//!   flood was shadowed on its way: a servent met it first by a longer path, with less TTL
//!   left, and dropped the copy that came by a shorter one (rule 6 of the spec drops every
//!   duplicate), so the flood stopped short of hops the TTL allowed;
//! - **lost**: a live holder was within reach and no hit came, and nothing was shadowed —
//!   the Query or its QueryHit was dropped on the way (a full queue, a peer that died, a
//!   connection cut).
//!
//! Paths are walked on the overlay the servents reported at the phase's start
//! ([`crate::overlay`]), through the peers that were up (and on the searcher's side of a
//! cut) when the query was asked. In the simulator that is what the flood met, unless the
//! overlay changed during the phase (churn); on real sockets it is as far as can be known
//! from the neighbour lists and late-hit counts the servents gave.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use p2plab_sim::graph::Graph;
use serde::{Deserialize, Serialize};

use crate::overlay::Reported;

/// A false "not found", kept until the phase's end, when its cause can be told.
#[derive(Debug, Clone)]
pub struct Miss {
    /// The peer that searched.
    pub origin: usize,
    /// Its listen address, which its late-hit counts go by.
    pub searcher: Option<SocketAddr>,
    /// The query's text.
    pub query: String,
    /// The file's holders that were up when it was asked.
    pub holders: Vec<usize>,
    /// Who was up (and on the searcher's side) when it was asked, by peer.
    pub alive: Vec<bool>,
}

/// The cause of one false "not found" (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// A QueryHit came after the window.
    AfterWindow,
    /// No path to any live holder.
    OtherComponent,
    /// The nearest live holder was `hops` away, more than the TTL.
    BeyondHorizon {
        /// Its distance.
        hops: u32,
    },
    /// A live holder within the TTL, no hit, and a copy of the flood was shadowed.
    Shadowed,
    /// A live holder within the TTL, no hit, and nothing shadowed.
    Lost,
}

impl Miss {
    /// Its cause, on `graph` (by peer index) with Queries of `ttl`, given what the servents
    /// reported of late hits at the phase's end.
    pub fn cause(&self, graph: &Graph, ttl: u8, reported: &Reported) -> Cause {
        let late = self.searcher.map_or(0, |a| reported.late(a, &self.query));
        if late > 0 {
            return Cause::AfterWindow;
        }
        let up = |v: usize| self.alive.get(v).copied().unwrap_or(false);
        let nearest = (self.origin < graph.len())
            .then(|| graph.distances_through(self.origin, up))
            .and_then(|d| self.holders.iter().filter_map(|&h| d.get(h).copied()).min())
            .unwrap_or(u32::MAX);
        match nearest {
            u32::MAX => Cause::OtherComponent,
            hops if hops > u32::from(ttl) => Cause::BeyondHorizon { hops },
            _ if self
                .searcher
                .is_some_and(|a| reported.shadowed(a, &self.query)) =>
            {
                Cause::Shadowed
            }
            _ => Cause::Lost,
        }
    }
}

/// A phase's false "not found"s by cause.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissCauses {
    /// A hit came, after the window.
    pub after_window: u64,
    /// No path to a live holder.
    pub other_component: u64,
    /// The nearest live holder beyond the TTL.
    pub beyond_horizon: u64,
    /// Of those, how many had their nearest live holder how many hops away.
    pub beyond_horizon_hops: BTreeMap<u32, u64>,
    /// A holder within reach, no hit, the flood shadowed on its way.
    #[serde(default)]
    pub shadowed: u64,
    /// A holder within reach, no hit, nothing shadowed.
    pub lost: u64,
}

impl MissCauses {
    /// The causes of `misses` (see [`Miss::cause`]).
    pub fn of(misses: &[Miss], graph: &Graph, ttl: u8, reported: &Reported) -> Self {
        let mut c = MissCauses::default();
        for m in misses {
            match m.cause(graph, ttl, reported) {
                Cause::AfterWindow => c.after_window += 1,
                Cause::OtherComponent => c.other_component += 1,
                Cause::BeyondHorizon { hops } => {
                    c.beyond_horizon += 1;
                    *c.beyond_horizon_hops.entry(hops).or_default() += 1;
                }
                Cause::Shadowed => c.shadowed += 1,
                Cause::Lost => c.lost += 1,
            }
        }
        c
    }

    /// All of them: the phase's false "not found"s.
    pub fn total(&self) -> u64 {
        self.after_window + self.other_component + self.beyond_horizon + self.shadowed + self.lost
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashMap};

    use super::*;
    use crate::overlay::Closed;

    /// A line 0 - 1 - 2 - 3 - 4, and 5 - 6 apart.
    fn graph() -> Graph {
        let edges = [(0, 1), (1, 2), (2, 3), (3, 4), (5, 6)];
        let mut adj = vec![BTreeSet::new(); 7];
        for (a, b) in edges {
            adj[a].insert(b);
        }
        Graph::from_adjacency(adj)
    }

    fn miss(holders: &[usize], alive: &[usize]) -> Miss {
        Miss {
            origin: 0,
            searcher: Some("127.0.0.1:9".parse().unwrap()),
            query: "q".into(),
            holders: holders.to_vec(),
            alive: (0..7).map(|i| alive.contains(&i)).collect(),
        }
    }

    #[test]
    fn each_miss_gets_the_one_cause_the_overlay_and_the_late_hits_give() {
        let g = graph();
        let none = Reported::default();
        let all = [0, 1, 2, 3, 4, 5, 6];
        assert_eq!(
            miss(&[4], &all).cause(&g, 3, &none),
            Cause::BeyondHorizon { hops: 4 }
        );
        assert_eq!(miss(&[4], &all).cause(&g, 4, &none), Cause::Lost);
        assert_eq!(miss(&[6], &all).cause(&g, 7, &none), Cause::OtherComponent);
        // The path runs through 2, which was down when the query was asked.
        let without_2 = [0, 1, 3, 4, 5, 6];
        assert_eq!(
            miss(&[4], &without_2).cause(&g, 7, &none),
            Cause::OtherComponent
        );
        let searcher = "127.0.0.1:9".parse().unwrap();
        let searched = |late_hits| {
            let closed = Closed {
                guids: vec!["G".into()],
                late_hits,
            };
            let mut r = Reported::default();
            r.closed
                .insert(searcher, HashMap::from([("q".to_owned(), closed)]));
            r
        };
        assert_eq!(
            miss(&[4], &all).cause(&g, 3, &searched(1)),
            Cause::AfterWindow
        );
        // Its flood was shadowed somewhere: within the TTL that is the cause, beyond it the
        // horizon still is.
        let mut shadowed = searched(0);
        shadowed.shadowed.insert("G".into());
        assert_eq!(miss(&[4], &all).cause(&g, 4, &shadowed), Cause::Shadowed);
        assert_eq!(
            miss(&[4], &all).cause(&g, 3, &shadowed),
            Cause::BeyondHorizon { hops: 4 }
        );
        let mut another = searched(0);
        another.shadowed.insert("another flood".into());
        assert_eq!(miss(&[4], &all).cause(&g, 4, &another), Cause::Lost);
        let misses = [miss(&[4], &all), miss(&[6], &all), miss(&[1, 4], &all)];
        let causes = MissCauses::of(&misses, &g, 3, &none);
        assert_eq!(
            (causes.beyond_horizon, causes.other_component, causes.lost),
            (1, 1, 1)
        );
        assert_eq!(causes.beyond_horizon_hops, BTreeMap::from([(4, 1)]));
        assert_eq!(causes.total(), 3);
        let causes = MissCauses::of(&misses, &g, 3, &shadowed);
        assert_eq!((causes.shadowed, causes.lost, causes.total()), (1, 0, 3));
    }
}
