//! What the page shows of a network's snapshot ([`World`]): every node, while there are few
//! enough to draw; past [`DRAW_LIMIT`], distributions instead (links per node, messages per
//! node) — and, at any size, one node's neighbourhood, read from the snapshot.

use p2plab_scenario::live::{NodeView, World};
use serde::Serialize;

/// The most nodes the page draws one by one. The trace player stays smooth at 1,000 nodes
/// (`scripts/view-fps.sh`); past that a picture of dots says less than a histogram, and
/// costs the browser more than it can redraw while a replay plays.
pub const DRAW_LIMIT: usize = 1_000;

/// Bars of a histogram: enough to show a distribution's shape, few enough to read.
pub const BINS: u64 = 20;

/// A snapshot as the page draws it.
#[derive(Debug, Clone, Serialize)]
pub struct WorldShown {
    /// When it was taken, µs of the run's (virtual) clock.
    pub at_us: u64,
    /// Nodes it holds, up or down.
    pub nodes: usize,
    /// Of those, up.
    pub up: usize,
    /// Every node, when there are at most [`DRAW_LIMIT`]; else none.
    pub dots: Option<Vec<Dot>>,
    /// How many nodes each live node links to.
    pub degree: Histogram,
    /// Messages each live node sent and received since it started.
    pub load: Histogram,
    /// The live node with the most messages: where zooming in starts.
    pub busiest: Option<usize>,
}

/// One node of a small network.
#[derive(Debug, Clone, Serialize)]
pub struct Dot {
    /// `server` or `peer N`.
    pub name: String,
    /// Whether it is up.
    pub up: bool,
    /// Distinct nodes it links to.
    pub degree: usize,
}

/// Counts of values in [`BINS`] equal bars from the least value to the greatest.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Histogram {
    /// The least value.
    pub min: u64,
    /// Each bar's width.
    pub width: u64,
    /// Values in each bar: bar `k` holds `min + k·width ..< min + (k+1)·width`.
    pub counts: Vec<u64>,
}

impl Histogram {
    /// The histogram of `values`.
    pub fn of(values: impl Iterator<Item = u64> + Clone) -> Histogram {
        let (Some(min), Some(max)) = (values.clone().min(), values.clone().max()) else {
            return Histogram::default();
        };
        let width = (max - min + 1).div_ceil(BINS).max(1);
        let bars = (max - min) / width + 1;
        let mut counts = vec![0; bars as usize];
        for v in values {
            counts[((v - min) / width) as usize] += 1;
        }
        Histogram { min, width, counts }
    }
}

impl WorldShown {
    /// What the page shows of `world`, taken at `at_us`.
    pub fn of(at_us: u64, world: &World) -> WorldShown {
        let live = || world.nodes.iter().filter(|n| n.up);
        let dots = (world.nodes.len() <= DRAW_LIMIT).then(|| {
            let dot = |n: &NodeView| Dot {
                name: n.name.clone(),
                up: n.up,
                degree: n.links.degree(),
            };
            world.nodes.iter().map(dot).collect()
        });
        let busiest = (0..world.nodes.len())
            .filter(|&i| world.nodes[i].up)
            .max_by_key(|&i| (world.nodes[i].messages, std::cmp::Reverse(i)));
        WorldShown {
            at_us,
            nodes: world.nodes.len(),
            up: live().count(),
            dots,
            degree: Histogram::of(live().map(|n| n.links.degree() as u64)),
            load: Histogram::of(live().map(|n| n.messages)),
            busiest,
        }
    }
}

/// One node and whom it links to, by role, as a snapshot has it: what the page draws when
/// the user zooms in.
#[derive(Debug, Clone, Serialize)]
pub struct Neighbourhood {
    /// Which network.
    pub network: String,
    /// When the snapshot was taken, µs of the run's clock.
    pub at_us: u64,
    /// The node itself.
    pub node: Member,
    /// Its links, one entry per role it has, in the protocol's order.
    pub roles: Vec<Role>,
}

/// A node of a neighbourhood.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    /// Its place in the snapshot: what the page asks for to zoom in on it.
    pub place: usize,
    /// `server` or `peer N`.
    pub name: String,
    /// Whether it is up (a pointer may still lead to a crashed node).
    pub up: bool,
    /// Messages it sent and received.
    pub messages: u64,
}

/// The nodes a node links to in one role.
#[derive(Debug, Clone, Serialize)]
pub struct Role {
    /// `predecessor`, `successor`, `finger`, `neighbour`, `server` or `user`.
    pub role: &'static str,
    /// Those nodes, in the protocol's order (nearest successor first, finger 1 first).
    pub nodes: Vec<Member>,
}

impl Neighbourhood {
    /// Node `place` of `world`, taken at `at_us`; `None` if it has no such node.
    pub fn of(at_us: u64, world: &World, place: usize) -> Option<Neighbourhood> {
        let member = |place: usize| {
            let n = world.nodes.get(place)?;
            Some(Member {
                place,
                name: n.name.clone(),
                up: n.up,
                messages: n.messages,
            })
        };
        let node = member(place)?;
        let links = &world.nodes[place].links;
        let roles = [
            ("predecessor", links.predecessor.iter().copied().collect()),
            ("successor", links.successors.clone()),
            ("finger", links.fingers.clone()),
            ("neighbour", links.neighbours.clone()),
            ("server", links.server.iter().copied().collect()),
            ("user", links.users.clone()),
        ];
        let roles = roles
            .into_iter()
            .filter(|(_, places): &(_, Vec<u32>)| !places.is_empty())
            .map(|(role, places)| Role {
                role,
                nodes: places.iter().filter_map(|&p| member(p as usize)).collect(),
            })
            .collect();
        Some(Neighbourhood {
            network: world.network.to_string(),
            at_us,
            node,
            roles,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_has_at_most_its_bars_and_counts_every_value() {
        let h = Histogram::of(0..1000u64);
        assert_eq!((h.min, h.width, h.counts.len()), (0, 50, BINS as usize));
        assert_eq!(h.counts.iter().sum::<u64>(), 1000);
        let one = Histogram::of([7u64, 7, 7].into_iter());
        assert_eq!((one.min, one.width, one.counts), (7, 1, vec![3]));
        let small = Histogram::of([2u64, 3, 3, 5].into_iter());
        assert_eq!(small.counts, vec![1, 2, 0, 1]);
        assert!(Histogram::of(std::iter::empty()).counts.is_empty());
    }
}
