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
//! Both have a capped form ([`Graph::random_capped`], [`Graph::barabasi_albert_capped`]), for servents that refuse links past `max_peers`, as every Gnutella client did:
//! the scenario runner builds its overlays so.
//!
//! [`Graph::flood_reach`] gives the BFS ball sizes around a servent — how many servents lie
//! within 1, 2, … hops: the most a flood of that TTL could reach. [`Graph::paths`] measures
//! a graph's diameter and mean shortest path.

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

    /// The graph with these neighbour sets, made symmetric: `u` and `v` are linked if either
    /// lists the other (a flood crosses a connection both ways, whichever end knows the
    /// other's address).
    pub fn from_adjacency(mut adj: Vec<BTreeSet<usize>>) -> Self {
        let n = adj.len();
        for u in 0..n {
            let ns: Vec<usize> = adj[u]
                .iter()
                .copied()
                .filter(|&v| v < n && v != u)
                .collect();
            adj[u] = ns.iter().copied().collect();
            for v in ns {
                adj[v].insert(u);
            }
        }
        Graph { adj }
    }

    /// An Erdős–Rényi-like graph of servents that refuse links past `cap`: each servent in
    /// turn links to `links` distinct servents drawn uniformly from *all* others that still
    /// have room (not only earlier ones, which would fill the first servents and string the
    /// last into a band). A servent's degree is its own `links` plus about as many that
    /// others made to it (binomial), cut at `cap`.
    ///
    /// Implementation notes: a draw that hits itself, a neighbour or a full servent is
    /// redrawn, at most [`MAX_DRAWS_PER_LINK`] times per link; a servent that finds no room
    /// by then (nearly every servent full) keeps fewer links.
    pub fn random_capped(n: usize, links: usize, cap: usize, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut adj = vec![BTreeSet::new(); n];
        let mut ends = Vec::new();
        for i in 0..n {
            let mut made = 0;
            let mut draws = 0;
            while made < links && adj[i].len() < cap && draws < MAX_DRAWS_PER_LINK * links {
                draws += 1;
                let j = rng.random_range(0..n);
                if j != i && adj[j].len() < cap && !adj[i].contains(&j) {
                    link(&mut adj, &mut ends, i, j);
                    made += 1;
                }
            }
        }
        Graph { adj }
    }

    /// Servent `i > 0` links to `links` distinct earlier servents, uniformly.
    pub fn random(n: usize, links: usize, seed: u64) -> Self {
        Graph {
            adj: random_overlay(n, links, seed),
        }
    }

    /// Barabási–Albert with no cap on degrees ([`Graph::barabasi_albert_capped`]).
    pub fn barabasi_albert(n: usize, m: usize, seed: u64) -> Self {
        Graph::barabasi_albert_capped(n, m, usize::MAX, seed)
    }

    /// Barabási–Albert: the first `m + 1` servents form a clique; each later one links to `m`
    /// distinct earlier servents, each chosen with probability proportional to its degree,
    /// among those with fewer than `cap` links ([`Graph::barabasi_albert`]: no cap, the pure model).
    ///
    /// Implementation notes: `ends` lists every edge's two endpoints, so a uniform draw from
    /// it picks a servent with probability degree / (2 · edges) — preferential attachment in
    /// O(1) per draw, the method of Batagelj and Brandes (2005). A draw of a full servent is
    /// redrawn, at most [`MAX_DRAWS_PER_LINK`] times per link (uncapped, a draw is only ever
    /// redrawn for a duplicate, and that bound is never reached).
    pub fn barabasi_albert_capped(n: usize, m: usize, cap: usize, seed: u64) -> Self {
        let m = m.min(cap);
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
            let mut draws = 0;
            while chosen.len() < m && draws < MAX_DRAWS_PER_LINK * m {
                draws += 1;
                let j = ends[rng.random_range(0..ends.len())];
                if adj[j].len() < cap {
                    chosen.insert(j);
                }
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
        self.distances_through(src, |_| true)
    }

    /// Hop distances from `src` along paths through servents that `keep` (the others are
    /// as good as absent: down, or across a cut).
    pub fn distances_through(&self, src: usize, keep: impl Fn(usize) -> bool) -> Vec<u32> {
        let mut dist = vec![u32::MAX; self.len()];
        dist[src] = 0;
        let mut queue = VecDeque::from([src]);
        while let Some(u) = queue.pop_front() {
            for &v in &self.adj[u] {
                if dist[v] == u32::MAX && keep(v) {
                    dist[v] = dist[u] + 1;
                    queue.push_back(v);
                }
            }
        }
        dist
    }

    /// Each servent's component, numbered from 0 in order of each component's lowest servent.
    pub fn components(&self) -> Vec<usize> {
        let mut label = vec![usize::MAX; self.len()];
        let mut next = 0;
        for src in 0..self.len() {
            if label[src] != usize::MAX {
                continue;
            }
            for (v, d) in self.distances(src).into_iter().enumerate() {
                if d != u32::MAX {
                    label[v] = next;
                }
            }
            next += 1;
        }
        label
    }

    /// Shortest paths from each of `sources` to every servent it can reach: the longest
    /// (the diameter, when the sources are all servents of one component) and the mean.
    pub fn paths(&self, sources: impl IntoIterator<Item = usize>) -> Paths {
        let mut p = Paths::default();
        let mut sum = 0u64;
        for src in sources {
            for d in self.distances(src) {
                if d != u32::MAX && d > 0 {
                    p.longest = p.longest.max(d);
                    p.pairs += 1;
                    sum += u64::from(d);
                }
            }
        }
        p.mean = (p.pairs > 0).then(|| sum as f64 / p.pairs as f64);
        p
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

/// The most draws a capped generator makes per link it wants, before it gives up on that
/// servent: enough that a servent with any room left is found (the chance of missing one
/// servent in `n` with room in 1,000 draws is (1 − 1/n)^1000), few enough to end.
pub const MAX_DRAWS_PER_LINK: usize = 1_000;

/// Shortest paths from some sources ([`Graph::paths`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Paths {
    /// The longest shortest path found, in hops.
    pub longest: u32,
    /// The mean shortest path over the (source, reachable servent) pairs; `None` if none.
    pub mean: Option<f64>,
    /// Those pairs.
    pub pairs: u64,
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
    fn capped_graphs_respect_the_cap_and_the_random_one_has_no_band() {
        let (n, links, cap) = (1_000, 4, 8);
        for g in [
            Graph::random_capped(n, links, cap, 3),
            Graph::barabasi_albert_capped(n, links, cap, 3),
        ] {
            assert!(g.max_degree() <= cap, "max degree {}", g.max_degree());
            for (v, ns) in g.adj.iter().enumerate() {
                assert!(ns.iter().all(|u| g.adj[*u].contains(&v)), "symmetric");
            }
        }
        // Links to any servent with room: the far side stays a few hops away (ln 1000 /
        // ln 7 ≈ 3.5), unlike a band of width ~cap, whose diameter grows as n / cap.
        let random = Graph::random_capped(n, links, cap, 3);
        let paths = random.paths(0..n);
        assert_eq!(paths.pairs, (n * (n - 1)) as u64, "connected");
        assert!(paths.longest <= 7, "diameter {}", paths.longest);
        assert!(random.mean_degree() > 7.0, "mean {}", random.mean_degree());
    }

    #[test]
    fn paths_measure_a_line_and_ignore_what_is_out_of_reach() {
        let g = Graph::from_adjacency(vec![
            BTreeSet::from([1]),
            BTreeSet::from([2]),
            BTreeSet::new(),
            BTreeSet::new(),
        ]);
        assert_eq!(g.neighbours(2), &BTreeSet::from([1]), "made symmetric");
        let p = g.paths(0..4);
        // Pairs 0-1, 1-2 (1 hop) and 0-2 (2 hops), each from both ends; 3 is alone.
        assert_eq!((p.longest, p.pairs), (2, 6));
        assert_eq!(p.mean, Some(8.0 / 6.0));
        assert_eq!(g.components(), [0, 0, 0, 1]);
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
