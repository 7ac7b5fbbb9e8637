//! The Gnutella overlay as the servents really have it, read from their `stats` (each
//! servent's neighbours, by listen address), and its shape: degrees, components, diameter
//! and mean shortest path.
//!
//! On real sockets this measures the overlay the servents built, not the one the plan drew
//! (a dial can fail, a full servent refuses, a servent short of neighbours dials more); in
//! the simulator it reads the same lists from the cores.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::SocketAddr;

use p2plab_peer_protocol::control::NodeStats;
use p2plab_sim::graph::Graph;
use serde::{Deserialize, Serialize};

/// The most servents whose shortest paths to all others are measured: beyond it, that many
/// evenly spaced sources stand for all (a breadth-first search per source; 1,000 of them on
/// 10,000 servents stay well under a second), and the diameter is the longest path found.
pub const MAX_PATH_SOURCES: usize = 1_000;

/// What the servents' `stats` tell about the overlay, by servent listen address.
#[derive(Debug, Clone, Default)]
pub struct Reported {
    /// Each servent's neighbours.
    pub neighbours: BTreeMap<SocketAddr, Vec<SocketAddr>>,
    /// Each servent's lately closed searches, by query text: their descriptor IDs and the
    /// QueryHits that came after their window.
    pub closed: BTreeMap<SocketAddr, HashMap<String, Closed>>,
    /// The descriptor IDs of the floods any servent saw shadowed (a duplicate with more TTL
    /// than its first copy).
    pub shadowed: HashSet<String>,
}

/// A servent's lately closed searches of one query text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Closed {
    /// Their Query descriptor IDs.
    pub guids: Vec<String>,
    /// QueryHits that came after their windows, together.
    pub late_hits: u32,
}

impl Reported {
    /// Reads the Gnutella servents among `stats` (others are skipped).
    pub fn from_stats(stats: &[NodeStats]) -> Self {
        let mut r = Reported::default();
        for s in stats.iter().filter(|s| s.kind == "gnutella") {
            if let Some(ns) = s.state.get("neighbours") {
                let ns = serde_json::from_value(ns.clone()).unwrap_or_default();
                r.neighbours.insert(s.addr, ns);
            }
            if let Some(closed) = s.state.get("closed_searches") {
                let searches: Vec<(String, String, u32)> =
                    serde_json::from_value(closed.clone()).unwrap_or_default();
                let by_query = r.closed.entry(s.addr).or_default();
                for (query, guid, late_hits) in searches {
                    let c = by_query.entry(query).or_default();
                    c.guids.push(guid);
                    c.late_hits = c.late_hits.saturating_add(late_hits);
                }
            }
            if let Some(shadowed) = s.state.get("shadowed") {
                let guids: Vec<String> =
                    serde_json::from_value(shadowed.clone()).unwrap_or_default();
                r.shadowed.extend(guids);
            }
        }
        r
    }

    /// The overlay between `peers` (listen addresses by peer index, `None` while down), by
    /// peer index; a neighbour that is no live peer is left out.
    pub fn graph(&self, peers: &[Option<SocketAddr>]) -> Graph {
        let index: HashMap<SocketAddr, usize> = peers
            .iter()
            .enumerate()
            .filter_map(|(i, a)| a.map(|a| (a, i)))
            .collect();
        let adj = peers
            .iter()
            .map(|a| {
                let ns = a.and_then(|a| self.neighbours.get(&a));
                let ns = ns.into_iter().flatten().filter_map(|n| index.get(n));
                ns.copied().collect::<BTreeSet<usize>>()
            })
            .collect();
        Graph::from_adjacency(adj)
    }

    /// The searcher's lately closed searches for `query`.
    fn closed(&self, searcher: SocketAddr, query: &str) -> Option<&Closed> {
        self.closed.get(&searcher)?.get(query)
    }

    /// QueryHits that came late for `query`, asked from the servent at `searcher`.
    pub fn late(&self, searcher: SocketAddr, query: &str) -> u32 {
        self.closed(searcher, query).map_or(0, |c| c.late_hits)
    }

    /// True if a flood of `query` from `searcher` was shadowed somewhere on its way.
    pub fn shadowed(&self, searcher: SocketAddr, query: &str) -> bool {
        self.closed(searcher, query)
            .is_some_and(|c| c.guids.iter().any(|g| self.shadowed.contains(g)))
    }
}

/// The shape of the overlay among the live servents, at the start of a query phase.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OverlayShape {
    /// Live servents measured.
    pub servents: usize,
    /// Fewest neighbours of a live servent.
    pub degree_min: usize,
    /// Median neighbours.
    pub degree_median: f64,
    /// Mean neighbours.
    pub degree_mean: f64,
    /// Most neighbours.
    pub degree_max: usize,
    /// Servents by number of neighbours.
    pub degree_histogram: BTreeMap<usize, usize>,
    /// Connected components among the live servents (1: everyone can reach everyone).
    pub components: usize,
    /// The longest shortest path between two servents that can reach each other, hops.
    pub diameter: u32,
    /// The mean shortest path over such pairs, hops.
    pub mean_path: Option<f64>,
    /// Whether paths were measured from a sample of [`MAX_PATH_SOURCES`] servents (then
    /// the diameter is the longest path found).
    pub sampled: bool,
}

impl OverlayShape {
    /// Measures `graph` among the servents `live`.
    pub fn measure(graph: &Graph, live: &[usize]) -> Self {
        let mut degrees: Vec<usize> = live.iter().map(|&v| graph.neighbours(v).len()).collect();
        degrees.sort_unstable();
        let mut histogram = BTreeMap::new();
        for &d in &degrees {
            *histogram.entry(d).or_default() += 1;
        }
        let labels = graph.components();
        let components: BTreeSet<usize> = live.iter().map(|&v| labels[v]).collect();
        let step = live.len().div_ceil(MAX_PATH_SOURCES).max(1);
        let paths = graph.paths(live.iter().copied().step_by(step));
        OverlayShape {
            servents: live.len(),
            degree_min: degrees.first().copied().unwrap_or(0),
            degree_median: median(&degrees),
            degree_mean: degrees.iter().sum::<usize>() as f64 / degrees.len().max(1) as f64,
            degree_max: degrees.last().copied().unwrap_or(0),
            degree_histogram: histogram,
            components: components.len(),
            diameter: paths.longest,
            mean_path: paths.mean,
            sampled: step > 1,
        }
    }
}

fn median(sorted: &[usize]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2] as f64,
        n => (sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(i: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 7000 + i))
    }

    fn stats(i: u16, neighbours: &[u16]) -> NodeStats {
        let ns: Vec<SocketAddr> = neighbours.iter().map(|&n| addr(n)).collect();
        NodeStats {
            kind: "gnutella".into(),
            addr: addr(i),
            files: 0,
            metrics: Default::default(),
            state: serde_json::json!({
                "neighbours": ns,
                "closed_searches": [["abc", format!("G{i}"), 2], ["def", format!("H{i}"), 0]],
                // 0 and 1 each shadowed the next one's flood.
                "shadowed": if i < 2 { vec![format!("H{}", i + 1)] } else { vec![] },
            }),
            problem: None,
        }
    }

    #[test]
    fn the_shape_comes_from_the_neighbour_lists_either_end_gave() {
        // 0 - 1 - 2 as 0 and 1 tell it (2 has not learnt 1's address yet), 3 alone, and 4
        // down although 2 still lists it.
        let all = [
            stats(0, &[1]),
            stats(1, &[0, 2]),
            stats(2, &[4]),
            stats(3, &[]),
        ];
        let reported = Reported::from_stats(&all);
        let peers = [
            Some(addr(0)),
            Some(addr(1)),
            Some(addr(2)),
            Some(addr(3)),
            None,
        ];
        let graph = reported.graph(&peers);
        let shape = OverlayShape::measure(&graph, &[0, 1, 2, 3]);
        assert_eq!(
            shape.degree_histogram,
            BTreeMap::from([(0, 1), (1, 2), (2, 1)])
        );
        assert_eq!((shape.degree_min, shape.degree_max), (0, 2));
        assert_eq!((shape.degree_median, shape.degree_mean), (1.0, 1.0));
        assert_eq!((shape.components, shape.diameter), (2, 2));
        assert_eq!(shape.mean_path, Some(8.0 / 6.0));
        assert_eq!(reported.late(addr(1), "abc"), 2);
        assert_eq!(reported.late(addr(1), "other"), 0);
        // 0 shadowed 1's flood of "def", 1 shadowed 2's; 3's was shadowed by nobody, and
        // no flood of "abc" was.
        assert!(reported.shadowed(addr(1), "def") && reported.shadowed(addr(2), "def"));
        assert!(!reported.shadowed(addr(3), "def") && !reported.shadowed(addr(1), "abc"));
    }
}
