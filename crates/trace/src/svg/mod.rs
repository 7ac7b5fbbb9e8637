//! The pictures: SVG written as text, one module per network.
//!
//! - [`star`] — Napster: the server in the middle, every peer on a spoke; the search and its
//!   answers on the searcher's spoke, the holders marked.
//! - [`flood`] — Gnutella: servents on rings by the hop at which the Query first reached
//!   them; first copies, dropped duplicates and the QueryHits' way back.
//! - [`ring`] — Chord: the identifier circle with every node at its id, the key, the
//!   searcher's fingers, and the lookup's jumps numbered in order.
//!
//! [`Canvas`] holds the few SVG shapes they need; colours are named constants so the three
//! pictures speak one visual language: blue asks, green answers, red is wasted, orange holds.

pub mod flood;
pub mod ring;
pub mod star;

use std::fmt::Write as _;

use crate::model::{Figure, Trace};

/// Questions: a search, a Query copy, a lookup step.
pub const ASK: &str = "#1f77b4";
/// Answers on their way back.
pub const ANSWER: &str = "#2ca02c";
/// Work wasted: duplicate copies.
pub const WASTE: &str = "#d62728";
/// Nodes that hold a matching file.
pub const HOLDER: &str = "#ff7f0e";
/// Structure in the background: links, rings, guides.
pub const FAINT: &str = "#cccccc";
/// Text.
pub const INK: &str = "#222222";

/// The picture of a trace.
pub fn render(trace: &Trace) -> String {
    match &trace.figure {
        Figure::Star(star) => star::draw(trace, star),
        Figure::Flood(flood) => flood::draw(trace, flood),
        Figure::Ring(ring) => ring::draw(trace, ring),
    }
}

/// A point.
pub type Point = (f64, f64);

/// Where a trace's picture puts the network: the canvas, and every node's centre. The SVG
/// drawings and the HTML player both place nodes from here, so the two pictures agree.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Canvas width.
    pub width: u32,
    /// Canvas height.
    pub height: u32,
    /// The middle of the picture: the server, the searcher, the ring's centre.
    pub centre: Point,
    /// Every node's centre, by node index.
    pub nodes: Vec<Point>,
    /// The radius of a node's disc.
    pub node_radius: f64,
    /// Guide circles around `centre`, by radius: Gnutella's hop rings, Chord's circle.
    pub guides: Vec<f64>,
}

/// The layout of a trace's picture.
pub fn layout(trace: &Trace) -> Layout {
    match &trace.figure {
        Figure::Star(star) => star::layout(trace, star),
        Figure::Flood(flood) => flood::layout(flood),
        Figure::Ring(ring) => ring::layout(ring),
    }
}

/// The smallest disc a node is drawn as, however crowded its circle: still a dot to see.
pub const MIN_NODE_RADIUS: f64 = 2.0;

/// The radius of the discs of `count` nodes round a circle of `radius`: `largest`, unless
/// neighbours would overlap (a disc takes at most 2/5 of the arc between two nodes), but
/// never below [`MIN_NODE_RADIUS`]. A network of a thousand nodes stays a picture of dots
/// rather than one blot.
pub fn disc_radius(largest: f64, count: usize, radius: f64) -> f64 {
    let arc = std::f64::consts::TAU * radius / count.max(1) as f64;
    (arc / 2.5).clamp(MIN_NODE_RADIUS, largest)
}

/// An SVG document being drawn.
#[derive(Debug)]
pub struct Canvas {
    width: u32,
    height: u32,
    body: String,
}

/// Escapes text for XML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Canvas {
    /// An empty white canvas.
    pub fn new(width: u32, height: u32) -> Self {
        Canvas {
            width,
            height,
            body: String::new(),
        }
    }

    /// A straight line; `dash` like `"4 3"`; an arrowhead at `to` when `arrow`.
    pub fn line(
        &mut self,
        from: Point,
        to: Point,
        colour: &str,
        width: f64,
        dash: Option<&str>,
        arrow: bool,
    ) {
        let _ = writeln!(
            self.body,
            r#"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="{width}"{}{}/>"#,
            from.0,
            from.1,
            to.0,
            to.1,
            dash_attr(dash),
            arrow_attr(colour, arrow)
        );
    }

    /// A quadratic curve from `from` to `to` bending towards `control`.
    pub fn curve(
        &mut self,
        from: Point,
        control: Point,
        to: Point,
        colour: &str,
        width: f64,
        dash: Option<&str>,
    ) {
        let _ = writeln!(
            self.body,
            r#"<path d="M {:.1} {:.1} Q {:.1} {:.1} {:.1} {:.1}" fill="none" stroke="{colour}" stroke-width="{width}"{}{}/>"#,
            from.0,
            from.1,
            control.0,
            control.1,
            to.0,
            to.1,
            dash_attr(dash),
            arrow_attr(colour, true)
        );
    }

    /// A circle.
    pub fn circle(&mut self, c: Point, r: f64, fill: &str, stroke: &str, dash: Option<&str>) {
        let _ = writeln!(
            self.body,
            r#"<circle cx="{:.1}" cy="{:.1}" r="{r:.1}" fill="{fill}" stroke="{stroke}" stroke-width="1.2"{}/>"#,
            c.0,
            c.1,
            dash_attr(dash)
        );
    }

    /// The picture's title and, under it, one line saying how to read it.
    pub fn heading(&mut self, title: &str, how_to_read: &str) {
        self.text((20.0, 30.0), 16, "start", INK, title);
        self.text((20.0, 52.0), 12, "start", INK, how_to_read);
    }

    /// Text; `anchor` is `start`, `middle` or `end`.
    pub fn text(&mut self, at: Point, size: u32, anchor: &str, colour: &str, text: &str) {
        let _ = writeln!(
            self.body,
            r#"<text x="{:.1}" y="{:.1}" font-size="{size}" text-anchor="{anchor}" fill="{colour}">{}</text>"#,
            at.0,
            at.1,
            escape(text)
        );
    }

    /// A small legend: one coloured swatch and its meaning per line, from `at` down.
    pub fn legend(&mut self, at: Point, items: &[(&str, &str)]) {
        for (i, (colour, meaning)) in items.iter().enumerate() {
            let y = at.1 + 18.0 * i as f64;
            self.line(
                (at.0, y - 4.0),
                (at.0 + 22.0, y - 4.0),
                colour,
                3.0,
                None,
                false,
            );
            self.text((at.0 + 30.0, y), 12, "start", INK, meaning);
        }
    }

    /// The finished document.
    pub fn finish(self) -> String {
        let mut defs = String::new();
        for (name, colour) in [
            ("ask", ASK),
            ("answer", ANSWER),
            ("waste", WASTE),
            ("holder", HOLDER),
            ("faint", FAINT),
        ] {
            let _ = writeln!(
                defs,
                r#"<marker id="arrow-{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="{colour}"/></marker>"#
            );
        }
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\">\n<defs>\n{defs}</defs>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{}</svg>\n",
            self.body,
            w = self.width,
            h = self.height
        )
    }
}

fn dash_attr(dash: Option<&str>) -> String {
    dash.map(|d| format!(r#" stroke-dasharray="{d}""#))
        .unwrap_or_default()
}

fn arrow_attr(colour: &str, arrow: bool) -> String {
    let name = match colour {
        ASK => "ask",
        ANSWER => "answer",
        WASTE => "waste",
        HOLDER => "holder",
        _ => "faint",
    };
    if arrow {
        format!(r#" marker-end="url(#arrow-{name})""#)
    } else {
        String::new()
    }
}

/// Text anchor for a label outside a circle around `centre`: left of it ends at the point,
/// right of it starts there, above and below it is centred.
pub fn side_anchor(centre: Point, at: Point) -> &'static str {
    if at.0 > centre.0 + 20.0 {
        "start"
    } else if at.0 < centre.0 - 20.0 {
        "end"
    } else {
        "middle"
    }
}

/// A number in a small white disc: marks the steps of a path.
pub fn step_mark(c: &mut Canvas, at: Point, n: usize, colour: &str) {
    c.circle(at, 9.0, "white", colour, None);
    c.text((at.0, at.1 + 4.0), 11, "middle", colour, &n.to_string());
}

/// `to` moved `by` towards `from`: where an arrow ends at a node's rim.
pub fn pull_back(from: Point, to: Point, by: f64) -> Point {
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let len = (dx * dx + dy * dy).sqrt().max(1e-9);
    (to.0 - dx / len * by, to.1 - dy / len * by)
}

/// The segment `from → to` shifted sideways by `by`, so two opposite arrows do not overlap.
pub fn offset(from: Point, to: Point, by: f64) -> (Point, Point) {
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let len = (dx * dx + dy * dy).sqrt().max(1e-9);
    let (nx, ny) = (-dy / len * by, dx / len * by);
    ((from.0 + nx, from.1 + ny), (to.0 + nx, to.1 + ny))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_closes_the_document() {
        let mut c = Canvas::new(10, 10);
        c.text((1.0, 2.0), 9, "start", INK, "a<b & \"c\"");
        let svg = c.finish();
        assert!(svg.contains(">a&lt;b &amp; &quot;c&quot;</text>"));
        assert!(svg.starts_with("<svg"));
        assert!(svg.ends_with("</svg>\n"));
    }

    #[test]
    fn arrows_stop_at_the_rim() {
        let p = pull_back((0.0, 0.0), (10.0, 0.0), 3.0);
        assert!((p.0 - 7.0).abs() < 1e-9 && p.1.abs() < 1e-9);
        let (a, b) = offset((0.0, 0.0), (10.0, 0.0), 2.0);
        assert_eq!((a.1, b.1), (2.0, 2.0));
    }
}
