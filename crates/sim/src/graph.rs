//! Overlay graphs for flooding experiments: random and power-law (Barabási–Albert).
//!
//! How far a Gnutella flood reaches, and what it costs, depends on the shape of the overlay
//! as much as on the TTL. Two shapes of the same mean degree bracket what was measured:
//!
//! - **Random** ([`Graph::random`]): servent `i` links to a few uniformly chosen earlier
//!   servents (the overlay the Gnutella tests build, [`random_overlay`]); degrees stay close
//!   to the mean.
//! - **Power-law** ([`Graph::barabasi_albert`]): each new servent links to `m` existing ones
//!   chosen with probability proportional to their degree (*preferential attachment*), which
//!   grows hubs: the degree distribution follows P(k) ~ k⁻³. Ripeanu et al. found the 2000
//!   Gnutella network close to a power law.
//!
//! [`Graph::balls`] gives the BFS ball sizes around a servent — how many servents lie within
//! 1, 2, … hops: the most a flood of that TTL could reach.

use std::collections::{BTreeSet, VecDeque};

use p2plab_gnutella::topology::random_overlay;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Which kind of overlay to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GraphKind {
    /// Each servent links to `links` uniformly chosen earlier ones.
    Random {
        /// Links per new servent; the mean degree is about twice this.
        links: usize,
    },
    /// Barabási–Albert preferential attachment, `m` links per new servent.
    BarabasiAlbert {
        /// Links per new servent; the mean degree is about `2m`.
        m: usize,
    },
}

/// An undirected graph as adjacency sets (sorted, so every walk over it is reproducible).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    adj: Vec<BTreeSet<usize>>,
}

impl Graph {
    /// A graph of `kind` on `n` servents, seeded.
    pub fn build(kind: GraphKind, n: usize, seed: u64) -> Self {
        match kind {
            GraphKind::Random { links } => Graph::random(n, links, seed),
            GraphKind::BarabasiAlbert { m } => Graph::barabasi_albert(n, m, seed),
        }
    }

    /// Servent `i > 0` links to `links` distinct earlier servents, uniformly.
    pub fn random(n: usize, links: usize, seed: u64) -> Self {
        Graph {
            adj: random_overlay(n, links, seed),
        }
    }

    /// Barabási–Albert: the first `m + 1` servents form a clique; each later one links to `m`
    /// distinct earlier servents, each chosen with probability proportional to its degree.
    ///
    /// Implementation notes: `ends` lists every edge's two endpoints, so a uniform draw from
    /// it picks a servent with probability degree / (2 · edges) — preferential attachment in
    /// O(1) per draw, the method of Batagelj and Brandes (2005).
    pub fn barabasi_albert(n: usize, m: usize, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut adj = vec![BTreeSet::new(); n];
        let mut ends: Vec<usize> = Vec::with_capacity(2 * m * n);
        let core = (m + 1).min(n);
        for i in 0..core {
            for j in 0..i {
                link(&mut adj, &mut ends, i, j);
            }
        }
        for i in core..n {
            let mut chosen = BTreeSet::new();
            while chosen.len() < m {
                chosen.insert(ends[rng.random_range(0..ends.len())]);
            }
            for j in chosen {
                link(&mut adj, &mut ends, i, j);
            }
        }
        Graph { adj }
    }

    /// Number of servents.
    pub fn len(&self) -> usize {
        self.adj.len()
    }

    /// True for the empty graph.
    pub fn is_empty(&self) -> bool {
        self.adj.is_empty()
    }

    /// The neighbours of `v`.
    pub fn neighbours(&self, v: usize) -> &BTreeSet<usize> {
        &self.adj[v]
    }

    /// Number of undirected edges.
    pub fn edges(&self) -> usize {
        self.adj.iter().map(BTreeSet::len).sum::<usize>() / 2
    }

    /// The mean degree, 2 · edges / servents.
    pub fn mean_degree(&self) -> f64 {
        2.0 * self.edges() as f64 / self.len().max(1) as f64
    }

    /// The largest degree.
    pub fn max_degree(&self) -> usize {
        self.adj.iter().map(BTreeSet::len).max().unwrap_or(0)
    }

    /// Hop distances from `src` (`u32::MAX`: unreachable).
    pub fn distances(&self, src: usize) -> Vec<u32> {
        let mut dist = vec![u32::MAX; self.len()];
        dist[src] = 0;
        let mut queue = VecDeque::from([src]);
        while let Some(u) = queue.pop_front() {
            for &v in &self.adj[u] {
                if dist[v] == u32::MAX {
                    dist[v] = dist[u] + 1;
                    queue.push_back(v);
                }
            }
        }
        dist
    }

    /// What a flood from `src` can do at every TTL up to `max`, from one breadth-first search.
    pub fn flood_reach(&self, src: usize, max: u32) -> FloodReach {
        let max = max as usize;
        let mut balls = vec![0; max + 1];
        let mut messages = vec![0; max + 1];
        for (v, d) in self.distances(src).into_iter().enumerate() {
            let d = d as usize;
            if (1..=max).contains(&d) {
                balls[d] += 1;
            }
            // v passes the Query on when it is closer than the TTL: at TTLs d + 1 and up.
            if d < max {
                messages[d + 1] += (self.adj[v].len() - usize::from(v != src)) as u64;
            }
        }
        for r in 1..=max {
            balls[r] += balls[r - 1];
            messages[r] += messages[r - 1];
        }
        FloodReach { balls, messages }
    }
}

/// A flood's reach from one source, by TTL (index 0 is TTL 0: nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FloodReach {
    /// `balls[r]` = servents other than the source within `r` hops of it.
    pub balls: Vec<usize>,
    /// `messages[t]` = the Query messages a flood of TTL `t` sends when every first copy
    /// comes along a shortest path: the source sends to all its neighbours, and every other
    /// servent closer than `t` hops passes the Query to all neighbours but the one it came
    /// from.
    pub messages: Vec<u64>,
}

fn link(adj: &mut [BTreeSet<usize>], ends: &mut Vec<usize>, a: usize, b: usize) {
    adj[a].insert(b);
    adj[b].insert(a);
    ends.extend([a, b]);
}

/// The flood bound of PROTOCOLS.md §5: on a graph where every servent has degree `d`, a
/// flood of TTL `t` reaches at most d · Σ_{i=1..t} (d−1)^(i−1) servents (4,372 for d = 4,
/// t = 7), and sends at least that many messages. A real degree is not uniform; given the
/// mean degree, this is the tree a flood would fill if the graph had no cycles.
pub fn flood_bound(d: f64, t: u32) -> f64 {
    (1..=t).map(|i| d * (d - 1.0).powi(i as i32 - 1)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flood_bound_matches_protocols_md() {
        assert_eq!(flood_bound(4.0, 7), 4_372.0);
        assert_eq!(flood_bound(4.0, 1), 4.0);
    }

    #[test]
    fn barabasi_albert_has_m_links_per_servent_and_grows_hubs() {
        let (n, m) = (10_000, 2);
        let g = Graph::barabasi_albert(n, m, 1);
        assert_eq!(
            g.edges(),
            3 + (n - 3) * m,
            "a triangle, then m links per servent"
        );
        assert!(g.adj.iter().all(|s| s.len() >= m));
        for (v, ns) in g.adj.iter().enumerate() {
            assert!(ns.iter().all(|u| g.adj[*u].contains(&v)), "symmetric");
        }
        // Preferential attachment grows hubs of degree ~ m·√n; a uniform graph does not.
        let random = Graph::random(n, m, 1);
        assert!(g.max_degree() > 100, "BA hub of degree {}", g.max_degree());
        assert!(
            random.max_degree() < 40,
            "random max {}",
            random.max_degree()
        );
    }

    #[test]
    fn reach_counts_servents_and_messages_for_each_ttl() {
        // A path 0 - 1 - 2 - 3.
        let g = Graph {
            adj: vec![
                BTreeSet::from([1]),
                BTreeSet::from([0, 2]),
                BTreeSet::from([1, 3]),
                BTreeSet::from([2]),
            ],
        };
        assert_eq!(g.flood_reach(0, 4).balls, [0, 1, 2, 3, 3]);
        let from_1 = g.flood_reach(1, 2);
        assert_eq!(from_1.balls, [0, 2, 3]);
        // From 1: TTL 1 is its own 2 sends; at TTL 2, 0 sends none and 2 sends one (to 3).
        assert_eq!(from_1.messages, [0, 2, 3]);
        // From an end of the path every servent passes it on along the line.
        assert_eq!(g.flood_reach(0, 4).messages, [0, 1, 2, 3, 3]);
    }
}
