//! The Chord ring: the identifier circle, 0 at the top, ids growing clockwise.
//!
//! Every node sits at its id. The key is the orange diamond. Faint orange chords are the
//! searcher's fingers. The lookup's blue arrows are numbered in order, each labelled with the
//! table entry that named its target (`finger[i]` or `successor[k]`), and drawn as the run
//! routed it (ToN §IV-C):
//!
//! - *iterative* (the default): the searcher itself asks every node on the way, and each
//!   answer names the next node to ask. So the blue arrows all leave the searcher, and a thin
//!   green answer comes back from each.
//! - *recursive*: each node passes the lookup on to the next, so the blue arrows form a chain
//!   from the searcher to the key's predecessor, and one green answer comes back from its end.
//!
//! The dashed green arrow is the `get` to the key's owner.

use std::f64::consts::TAU;

use super::{
    disc_radius, side_anchor, step_mark, Canvas, Layout, Point, ANSWER, ASK, FAINT, HOLDER, INK,
};
use p2plab_chord::Routing;

use crate::model::{RingFigure, Trace};

const SIZE: u32 = 800;
const CENTRE: Point = (400.0, 430.0);
const RADIUS: f64 = 300.0;
const NODE: f64 = 7.0;

/// Where identifier `id` of an m-bit ring lies on a circle of `radius`.
pub fn point(id: u64, bits: u32, radius: f64) -> Point {
    let a = TAU * id as f64 / (1u64 << bits) as f64;
    (CENTRE.0 + radius * a.sin(), CENTRE.1 - radius * a.cos())
}

/// Every node at its identifier on the one circle.
pub fn layout(ring: &RingFigure) -> Layout {
    Layout {
        width: SIZE,
        height: SIZE + 60,
        centre: CENTRE,
        nodes: ring
            .nodes
            .iter()
            .map(|n| point(n.id, ring.bits, RADIUS))
            .collect(),
        node_radius: disc_radius(NODE, ring.nodes.len(), RADIUS),
        guides: vec![RADIUS],
    }
}

/// How far outside the ring the key's label sits.
pub const KEY_LABEL_OUT: f64 = 40.0;

/// How far a request's curve bows from the straight chord towards the centre.
const ASK_BOW: f64 = 0.35;
/// How far an answer's curve bows: less than its request's, so the pair reads as two arrows.
const ANSWER_BOW: f64 = 0.15;

/// A curve from `a` to `b` bowing by `bow` towards the centre, so chords stay inside the
/// ring. Returns the curve's middle point.
fn chord_curve(
    c: &mut Canvas,
    (a, b): (Point, Point),
    bow: f64,
    colour: &str,
    width: f64,
    dash: Option<&str>,
) -> Point {
    let mid = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
    let control = (
        mid.0 + (CENTRE.0 - mid.0) * bow,
        mid.1 + (CENTRE.1 - mid.1) * bow,
    );
    c.curve(a, control, b, colour, width, dash);
    ((mid.0 + control.0) / 2.0, (mid.1 + control.1) / 2.0)
}

/// Draws the ring.
pub fn draw(trace: &Trace, ring: &RingFigure) -> String {
    let layout = layout(ring);
    let mut c = Canvas::new(layout.width, layout.height);
    c.heading(&trace.title, "0 at the top, ids grow clockwise");
    c.circle(CENTRE, RADIUS, "none", FAINT, None);
    let at = |i: usize| layout.nodes[i];
    let origin = &ring.nodes[trace.origin];
    let mut fingers: Vec<u64> = origin.fingers.iter().flatten().copied().collect();
    fingers.dedup();
    for f in fingers.iter().filter(|&&f| f != origin.id) {
        chord_curve(
            &mut c,
            (at(trace.origin), point(*f, ring.bits, RADIUS)),
            ASK_BOW,
            HOLDER,
            1.0,
            Some("4 3"),
        );
    }
    let recursive = ring.routing == Routing::Recursive;
    let mut marks = Vec::new();
    for jump in &ring.jumps {
        let sender = if recursive { jump.from } else { trace.origin };
        let asked = (at(sender), at(jump.to));
        marks.push(chord_curve(&mut c, asked, ASK_BOW, ASK, 2.5, None));
        if !recursive {
            chord_curve(&mut c, (asked.1, asked.0), ANSWER_BOW, ANSWER, 1.0, None);
        }
    }
    if let (true, Some(last)) = (recursive, ring.jumps.last()) {
        let answer = (at(last.to), at(trace.origin));
        chord_curve(&mut c, answer, ANSWER_BOW, ANSWER, 1.0, None);
    }
    if let Some(owner) = ring.owner {
        chord_curve(
            &mut c,
            (at(trace.origin), at(owner)),
            ASK_BOW,
            ANSWER,
            2.0,
            Some("7 3"),
        );
    }
    for (k, (mark, jump)) in marks.iter().zip(&ring.jumps).enumerate() {
        step_mark(&mut c, *mark, k + 1, ASK);
        let (from, to) = (trace.label(jump.from), trace.label(jump.to));
        let line = match (recursive, jump.from == trace.origin) {
            (true, true) => format!(
                "{}. {from} hands {to} the lookup: its own {}",
                k + 1,
                jump.via
            ),
            (true, false) => format!("{}. {from} passes it on to {to}: its {}", k + 1, jump.via),
            (false, true) => format!("{}. {from} asks {to}: its own {}", k + 1, jump.via),
            (false, false) => format!(
                "{}. {} asks {to}, named by {from}: its {}",
                k + 1,
                trace.label(trace.origin),
                jump.via
            ),
        };
        c.text(
            (f64::from(SIZE) - 20.0, 76.0 + 16.0 * k as f64),
            12,
            "end",
            ASK,
            &line,
        );
    }
    if let Some(owner) = ring.owner {
        let line = format!(
            "then get from {} = successor({})",
            trace.label(owner),
            ring.key
        );
        let y = 76.0 + 16.0 * ring.jumps.len() as f64;
        c.text((f64::from(SIZE) - 20.0, y), 12, "end", ANSWER, &line);
    }
    let key = point(ring.key, ring.bits, RADIUS);
    c.line(
        (key.0 - 8.0, key.1),
        (key.0, key.1 - 8.0),
        HOLDER,
        3.0,
        None,
        false,
    );
    c.line(
        (key.0, key.1 - 8.0),
        (key.0 + 8.0, key.1),
        HOLDER,
        3.0,
        None,
        false,
    );
    c.line(
        (key.0 + 8.0, key.1),
        (key.0, key.1 + 8.0),
        HOLDER,
        3.0,
        None,
        false,
    );
    c.line(
        (key.0, key.1 + 8.0),
        (key.0 - 8.0, key.1),
        HOLDER,
        3.0,
        None,
        false,
    );
    let key_label = point(ring.key, ring.bits, RADIUS + KEY_LABEL_OUT);
    c.text(
        key_label,
        12,
        "middle",
        HOLDER,
        &format!("key {} = \"{}\"", ring.key, ring.key_word),
    );
    for (i, n) in ring.nodes.iter().enumerate() {
        let fill = if i == trace.origin {
            ASK
        } else if Some(i) == ring.owner {
            ANSWER
        } else {
            "white"
        };
        c.circle(at(i), layout.node_radius, fill, INK, None);
        let l = point(n.id, ring.bits, RADIUS + 12.0);
        c.text(
            (l.0, l.1 + 4.0),
            10,
            side_anchor(CENTRE, l),
            INK,
            &n.id.to_string(),
        );
    }
    let (how, answers) = if recursive {
        (
            "recursive lookup: each node passes it on to the next, in order",
            "the last node's answer, straight to the searcher; dashed: get from successor(key)",
        )
    } else {
        (
            "iterative lookup: the searcher asks each node itself, in order",
            "answers (closer nodes, or the successor); dashed: get from successor(key)",
        )
    };
    c.legend(
        (20.0, f64::from(SIZE) + 0.0),
        &[
            (ASK, how),
            (ANSWER, answers),
            (HOLDER, "the searcher's fingers; the key"),
        ],
    );
    c.finish()
}
