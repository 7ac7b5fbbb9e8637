//! The Gnutella flood wave: servents on rings by the hop at which the Query first reached
//! them, the searcher in the middle.
//!
//! Grey lines are the overlay. Blue arrows are the first copy each servent got (together they
//! form the tree the flood grew); dashed red arrows are duplicates, dropped on arrival; green
//! arrows are QueryHits retracing the tree. Servents beyond the TTL sit on the outer, dashed
//! ring: the flood never reached them.

use std::collections::BTreeMap;
use std::f64::consts::TAU;

use p2plab_netsim::NodeIdx;

use super::{
    disc_radius, offset, pull_back, Canvas, Layout, Point, ANSWER, ASK, FAINT, HOLDER, INK, WASTE,
};
use crate::model::{Flood, Trace};

const SIZE: u32 = 820;
const CENTRE: Point = (410.0, 440.0);
const OUTER: f64 = 340.0;
const NODE: f64 = 9.0;

/// The rings: hop h holds the servents first reached at hop h; the last ring (if any) the
/// servents never reached.
fn rings(flood: &Flood) -> Vec<Vec<NodeIdx>> {
    let deepest = flood.hop.iter().flatten().max().copied().unwrap_or(0) as usize;
    let mut rings = vec![Vec::new(); deepest + 1];
    let mut unreached = Vec::new();
    for (i, h) in flood.hop.iter().enumerate() {
        match h {
            Some(h) => rings[*h as usize].push(i),
            None => unreached.push(i),
        }
    }
    if !unreached.is_empty() {
        rings.push(unreached);
    }
    rings
}

/// How many servents hang below each one in the flood's tree (itself included).
fn subtree_sizes(flood: &Flood) -> Vec<usize> {
    let mut size = vec![1usize; flood.hop.len()];
    let mut by_depth: Vec<NodeIdx> = (0..flood.hop.len())
        .filter(|&n| flood.hop[n].is_some())
        .collect();
    by_depth.sort_by_key(|&n| std::cmp::Reverse(flood.hop[n]));
    for n in by_depth {
        if let Some(p) = flood.parent[n] {
            size[p] += size[n];
        }
    }
    size
}

/// The distance between two rings.
fn ring_step(rings: &[Vec<NodeIdx>]) -> f64 {
    OUTER / (rings.len().max(2) - 1) as f64
}

/// The servents placed by [`radial_tree`], and a guide circle for every ring but the
/// searcher's.
pub fn layout(flood: &Flood) -> Layout {
    let place = radial_tree(flood);
    let rings = rings(flood);
    let step = ring_step(&rings);
    Layout {
        width: SIZE,
        height: SIZE + 60,
        centre: CENTRE,
        nodes: (0..flood.hop.len())
            .map(|n| place.get(&n).copied().unwrap_or(CENTRE))
            .collect(),
        node_radius: rings
            .iter()
            .enumerate()
            .skip(1)
            .map(|(r, ring)| disc_radius(NODE, ring.len(), step * r as f64))
            .fold(NODE, f64::min),
        guides: (1..rings.len()).map(|r| step * r as f64).collect(),
    }
}

/// A radial tree: each servent gets a wedge of the circle in proportion to the servents the
/// flood reached through it, and sits in the middle of its wedge on the ring of its hop; so
/// the tree's branches never cross. Servents never reached share the outer ring, evenly
/// spaced.
fn radial_tree(flood: &Flood) -> BTreeMap<NodeIdx, Point> {
    let rings = rings(flood);
    let step = ring_step(&rings);
    let size = subtree_sizes(flood);
    let mut wedge: BTreeMap<NodeIdx, (f64, f64)> = BTreeMap::new();
    let mut place = BTreeMap::new();
    for (r, ring) in rings.iter().enumerate() {
        let reached = flood.hop[ring[0]].is_some();
        let mut cursor: BTreeMap<NodeIdx, f64> = BTreeMap::new();
        for (k, &n) in ring.iter().enumerate() {
            let (lo, hi) = match (reached, flood.parent[n]) {
                (true, Some(p)) => {
                    let (plo, phi) = wedge[&p];
                    let start = *cursor.entry(p).or_insert(plo);
                    let share = (phi - plo) * size[n] as f64 / (size[p] - 1).max(1) as f64;
                    cursor.insert(p, start + share);
                    (start, start + share)
                }
                (true, None) => (0.0, TAU),
                (false, _) => {
                    let a = TAU * k as f64 / ring.len() as f64;
                    (a, a)
                }
            };
            wedge.insert(n, (lo, hi));
            let a = (lo + hi) / 2.0;
            let radius = step * r as f64;
            place.insert(
                n,
                (CENTRE.0 + radius * a.sin(), CENTRE.1 - radius * a.cos()),
            );
        }
    }
    place
}

/// Draws the flood.
pub fn draw(trace: &Trace, flood: &Flood) -> String {
    let layout = layout(flood);
    let mut c = Canvas::new(layout.width, layout.height);
    c.heading(
        &trace.title,
        "rings: the hop at which each servent first got the Query",
    );
    let at = |n: NodeIdx| layout.nodes[n];
    let node = layout.node_radius;
    guides(&mut c, flood, &layout.guides);
    for &(a, b) in &flood.edges {
        c.line(at(a), at(b), FAINT, 1.0, None, false);
    }
    for &(from, to, _, dup) in &flood.copies {
        let (colour, width, dash) = if dup {
            (WASTE, 1.0, Some("3 3"))
        } else {
            (ASK, 2.0, None)
        };
        c.line(
            pull_back(at(to), at(from), node),
            pull_back(at(from), at(to), node + 1.0),
            colour,
            width,
            dash,
            true,
        );
    }
    for &(from, to) in &flood.hit_links {
        let (a, b) = offset(at(from), at(to), 4.0);
        c.line(
            pull_back(b, a, node),
            pull_back(a, b, node + 1.0),
            ANSWER,
            2.5,
            None,
            true,
        );
    }
    for (i, h) in flood.hop.iter().enumerate() {
        let fill = if i == trace.origin {
            ASK
        } else if flood.holders.contains(&i) {
            HOLDER
        } else if h.is_some() {
            "#dbe9f6"
        } else {
            "white"
        };
        c.circle(at(i), node, fill, INK, h.is_none().then_some("2 2"));
        let p = at(i);
        c.text((p.0, p.1 - node - 3.0), 10, "middle", INK, trace.label(i));
    }
    c.legend(
        (20.0, f64::from(SIZE) + 0.0),
        &[
            (ASK, "first copy of the Query (the flood's tree)"),
            (WASTE, "duplicate copy: dropped"),
            (ANSWER, "QueryHit, back along the Query's path"),
            (HOLDER, "servent holding a match"),
        ],
    );
    c.finish()
}

fn guides(c: &mut Canvas, flood: &Flood, radii: &[f64]) {
    let rings = rings(flood);
    for ((r, ring), &radius) in rings.iter().enumerate().skip(1).zip(radii) {
        c.circle(CENTRE, radius, "none", FAINT, Some("6 4"));
        c.text(
            (CENTRE.0 + 3.0, CENTRE.1 - radius - 3.0),
            10,
            "start",
            "#999999",
            &r.to_string(),
        );
        let label = if flood.hop[ring[0]].is_none() {
            format!("beyond TTL {}: {} never reached", flood.ttl, ring.len())
        } else {
            format!("hop {r}: {} servents", ring.len())
        };
        c.text(
            (f64::from(SIZE) - 20.0, 30.0 + 16.0 * r as f64),
            12,
            "end",
            INK,
            &label,
        );
    }
}
