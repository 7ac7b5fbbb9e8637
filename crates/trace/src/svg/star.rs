//! The Napster star: the index server in the middle, every peer on a spoke.
//!
//! The searcher's spoke carries the whole search: one 200 in (blue) and the 201s and the
//! 202 out (green). The holders (orange) are on spokes that stay quiet — the server answers
//! for them from the index they filled when they logged in.

use std::f64::consts::TAU;

use super::{
    offset, pull_back, side_anchor, Canvas, Layout, Point, ANSWER, ASK, FAINT, HOLDER, INK,
};
use crate::model::{Star, Trace};

const SIZE: u32 = 720;
const CENTRE: Point = (360.0, 380.0);
const RADIUS: f64 = 260.0;
const NODE: f64 = 14.0;

/// The server in the middle, the peers evenly round it in the order they logged in.
pub fn layout(trace: &Trace, star: &Star) -> Layout {
    let mut nodes = vec![CENTRE; trace.labels.len()];
    for (k, &p) in star.peers.iter().enumerate() {
        let a = TAU * k as f64 / star.peers.len() as f64;
        if let Some(at) = nodes.get_mut(p) {
            *at = (CENTRE.0 + RADIUS * a.sin(), CENTRE.1 - RADIUS * a.cos());
        }
    }
    Layout {
        width: SIZE,
        height: SIZE + 40,
        centre: CENTRE,
        nodes,
        node_radius: NODE,
        guides: Vec::new(),
    }
}

/// Draws the star.
pub fn draw(trace: &Trace, star: &Star) -> String {
    let layout = layout(trace, star);
    let mut c = Canvas::new(layout.width, layout.height);
    c.heading(
        &trace.title,
        "every search is one round trip to the central index",
    );
    let place = |k: usize| -> Point { layout.nodes[star.peers[k]] };
    for (k, &p) in star.peers.iter().enumerate() {
        let at = place(k);
        let dash = star.holders.contains(&p).then_some("5 4");
        let colour = if dash.is_some() { HOLDER } else { FAINT };
        c.line(CENTRE, at, colour, 1.5, dash, false);
    }
    if let Some(k) = star.peers.iter().position(|&p| p == trace.origin) {
        let at = place(k);
        let (a, b) = offset(at, CENTRE, 7.0);
        c.line(
            pull_back(b, a, NODE),
            pull_back(a, b, 30.0),
            ASK,
            3.0,
            None,
            true,
        );
        let (a, b) = offset(CENTRE, at, 7.0);
        c.line(
            pull_back(b, a, 30.0),
            pull_back(a, b, NODE),
            ANSWER,
            3.0,
            None,
            true,
        );
        let mid = ((at.0 + CENTRE.0) / 2.0 + 12.0, (at.1 + CENTRE.1) / 2.0);
        c.text(
            mid,
            12,
            "start",
            INK,
            &format!("200 out, {} × 201 + 202 back", star.results),
        );
    }
    c.circle(CENTRE, 28.0, "#333333", INK, None);
    c.text((CENTRE.0, CENTRE.1 + 4.0), 12, "middle", "white", "server");
    for (k, &p) in star.peers.iter().enumerate() {
        let at = place(k);
        let fill = if p == trace.origin {
            ASK
        } else if star.holders.contains(&p) {
            HOLDER
        } else {
            "white"
        };
        c.circle(at, NODE, fill, INK, None);
        let out = pull_back(CENTRE, at, -(NODE + 8.0));
        c.text(
            (out.0, out.1 + 4.0),
            12,
            side_anchor(CENTRE, out),
            INK,
            trace.label(p),
        );
    }
    c.legend(
        (20.0, f64::from(SIZE) - 20.0),
        &[
            (ASK, "the searcher and its 200 search"),
            (ANSWER, "201 results and 202 end, from the index"),
            (HOLDER, "holders: indexed at login, not asked"),
        ],
    );
    c.finish()
}
