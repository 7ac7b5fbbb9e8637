//! The step-through player: one HTML file that replays a trace in the browser.
//!
//! The page holds everything it needs — its markup, [`STYLE`], [`SCRIPT`] and the trace as
//! JSON — so it works from `file://`, offline, with nothing fetched. The script draws the
//! network where the SVG picture puts it ([`svg::layout`]) and replays the messages one by
//! one: the current one as an arrow between its two nodes, the nodes reached so far marked,
//! every message's reason and annotated bytes (the same dump `p2plab trace --hex` prints) a
//! click away.
//!
//! The JSON is [`Data`]; its messages are exactly [`Trace::messages`], in order. Each may
//! carry a `hop`, taken from the trace's figure: for a Gnutella Query, the hop at which its
//! receiver first got the Query; for a Chord `find_successor` or `route_recursive`, which jump
//! of the lookup it is.

use p2plab_chord::Routing;
use serde::Serialize;

use crate::hexdump;
use crate::model::{Figure, Role, Trace, TracedMessage};
use crate::svg::{self, Point};

/// The page around the data, a template whose four slots — `{{title}}`, `{{style}}`,
/// `{{script}}` and `{{data}}` — [`render`] fills with the trace's title, [`STYLE`], [`SCRIPT`] and
/// the JSON of [`Data`].
const PAGE: &str = include_str!("player.html");
/// How the page looks.
pub const STYLE: &str = include_str!("player.css");
/// What the page does: draws the network and replays the messages.
pub const SCRIPT: &str = include_str!("player.js");

/// Everything the player shows, as the page embeds it.
#[derive(Debug, Serialize)]
pub struct Data<'a> {
    /// `napster`, `gnutella` or `chord`: which marks the page draws.
    pub network: String,
    /// The run's one-line name.
    pub title: &'a str,
    /// The searcher's node index.
    pub origin: usize,
    /// The canvas, the nodes' centres and the guide circles, as the SVG picture has them.
    pub layout: LayoutData,
    /// Every node, by index.
    pub nodes: Vec<NodeData<'a>>,
    /// Lines drawn faintly under everything: Napster's spokes, Gnutella's overlay links.
    pub links: Vec<(usize, usize)>,
    /// Chord: the nodes the searcher's fingers name, drawn as dashed chords from it.
    pub fingers: Vec<usize>,
    /// Chord: the key, where it lies on the ring, and its label.
    pub key: Option<KeyData>,
    /// Chord: `iterative` (the searcher asks each hop) or `recursive` (each hop passes the
    /// lookup on).
    pub routing: Option<&'static str>,
    /// The search's messages, in order of arrival.
    pub messages: Vec<MessageData<'a>>,
    /// Messages the network sent meanwhile for its own upkeep (not replayed).
    pub upkeep: u64,
    /// What to take away, as the text trace ends.
    pub summary: &'a [String],
}

/// The layout as the page needs it.
#[derive(Debug, Serialize)]
pub struct LayoutData {
    /// Canvas width.
    pub width: u32,
    /// Canvas height.
    pub height: u32,
    /// The guide circles' centre.
    pub centre: Point,
    /// A node disc's radius.
    pub node_radius: f64,
    /// Guide circles: radius and label.
    pub guides: Vec<(f64, String)>,
}

/// One node.
#[derive(Debug, Serialize)]
pub struct NodeData<'a> {
    /// Its short name.
    pub label: &'a str,
    /// Its centre.
    pub x: f64,
    /// Its centre.
    pub y: f64,
    /// Whether it holds a match (Napster and Gnutella holders, Chord's key owner).
    pub holder: bool,
}

/// The Chord key's mark.
#[derive(Debug, Serialize)]
pub struct KeyData {
    /// Where it lies on the ring.
    pub at: Point,
    /// Where its label goes: outside the ring, as in the SVG picture.
    pub label_at: Point,
    /// `key 123 = "four"`.
    pub label: String,
}

/// One message.
#[derive(Debug, Serialize)]
pub struct MessageData<'a> {
    /// Sent, in ms since the search command.
    pub sent: u128,
    /// Delivered, in ms since the search command.
    pub delivered: u128,
    /// Sender index.
    pub from: usize,
    /// Receiver index.
    pub to: usize,
    /// The kind, as the metrics name it.
    pub kind: &'a str,
    /// What it says, in short.
    pub summary: &'a str,
    /// Why it was sent.
    pub why: &'a str,
    /// `ask`, `answer` or `duplicate`.
    pub role: &'static str,
    /// Its bytes in hex, two digits a byte.
    pub hex: String,
    /// Its bytes as `p2plab trace --hex` dumps them, field by field.
    pub dump: String,
    /// The hop it belongs to, when the figure counts hops.
    pub hop: Option<u32>,
}

/// The player page of `trace`.
pub fn render(trace: &Trace) -> String {
    let data = serde_json::to_string(&data(trace)).expect("the player data is plain JSON");
    // Inside <script> only "</" could end the element early; "<\/" is the same JSON string.
    let data = data.replace("</", "<\\/");
    PAGE.replace("{{title}}", &svg::escape(&trace.title))
        .replace("{{style}}", STYLE)
        .replace("{{script}}", SCRIPT)
        .replace("{{data}}", &data)
}

/// The data the page embeds.
pub fn data(trace: &Trace) -> Data<'_> {
    let layout = svg::layout(trace);
    let holders = holders(trace);
    let nodes = trace
        .labels
        .iter()
        .zip(&layout.nodes)
        .enumerate()
        .map(|(i, (label, &(x, y)))| NodeData {
            label,
            x,
            y,
            holder: holders.contains(&i),
        })
        .collect();
    let hops = hops(trace);
    Data {
        network: trace.network.to_string(),
        title: &trace.title,
        origin: trace.origin,
        layout: LayoutData {
            width: layout.width,
            height: layout.height,
            centre: layout.centre,
            node_radius: layout.node_radius,
            guides: guide_labels(trace, &layout.guides),
        },
        nodes,
        links: links(trace),
        fingers: fingers(trace),
        key: key(trace, &layout),
        routing: routing(trace),
        messages: trace
            .messages
            .iter()
            .zip(hops)
            .map(|(m, hop)| message(trace, m, hop))
            .collect(),
        upkeep: trace.background.values().sum(),
        summary: &trace.summary,
    }
}

fn message<'a>(trace: &Trace, m: &'a TracedMessage, hop: Option<u32>) -> MessageData<'a> {
    MessageData {
        sent: m.sent.as_millis(),
        delivered: m.delivered.as_millis(),
        from: m.from,
        to: m.to,
        kind: m.kind,
        summary: &m.summary,
        why: &m.why,
        role: match m.role {
            Role::Ask => "ask",
            Role::Answer => "answer",
            Role::Duplicate => "duplicate",
        },
        hex: m.bytes.iter().map(|b| format!("{b:02x}")).collect(),
        dump: hexdump::render(&m.bytes, &crate::fields(trace.network, &m.bytes)),
        hop,
    }
}

/// The hop of every message, from the figure. The Gnutella tracer records one copy per Query
/// message and the Chord tracer one jump per `find_successor` (iterative) or `route_recursive`
/// (recursive), all in message order, so the n-th such message is the n-th copy or jump.
fn hops(trace: &Trace) -> Vec<Option<u32>> {
    let (kinds, mut counted): (&[&str], Box<dyn Iterator<Item = u32> + '_>) = match &trace.figure {
        Figure::Flood(f) => (&["query"], Box::new(f.copies.iter().map(|c| c.2))),
        Figure::Ring(r) => (
            &["find_successor", "route_recursive"],
            Box::new(1..=r.jumps.len() as u32),
        ),
        Figure::Star(_) => (&[], Box::new(std::iter::empty())),
    };
    trace
        .messages
        .iter()
        .map(|m| {
            if kinds.contains(&m.kind) {
                counted.next()
            } else {
                None
            }
        })
        .collect()
}

/// Chord: how the lookup was routed, as the page names it.
fn routing(trace: &Trace) -> Option<&'static str> {
    let Figure::Ring(ring) = &trace.figure else {
        return None;
    };
    Some(match ring.routing {
        Routing::Iterative => "iterative",
        Routing::Recursive => "recursive",
    })
}

fn holders(trace: &Trace) -> Vec<usize> {
    match &trace.figure {
        Figure::Star(s) => s.holders.clone(),
        Figure::Flood(f) => f.holders.clone(),
        Figure::Ring(r) => r.owner.into_iter().collect(),
    }
}

fn links(trace: &Trace) -> Vec<(usize, usize)> {
    match &trace.figure {
        Figure::Star(s) => s.peers.iter().map(|&p| (s.server, p)).collect(),
        Figure::Flood(f) => f.edges.clone(),
        Figure::Ring(_) => Vec::new(),
    }
}

fn fingers(trace: &Trace) -> Vec<usize> {
    let Figure::Ring(ring) = &trace.figure else {
        return Vec::new();
    };
    let Some(origin) = ring.nodes.get(trace.origin) else {
        return Vec::new();
    };
    let mut out: Vec<usize> = origin
        .fingers
        .iter()
        .flatten()
        .filter(|&&id| id != origin.id)
        .filter_map(|&id| ring.nodes.iter().position(|n| n.id == id))
        .collect();
    out.dedup();
    out
}

fn key(trace: &Trace, layout: &svg::Layout) -> Option<KeyData> {
    let (Figure::Ring(ring), Some(&radius)) = (&trace.figure, layout.guides.first()) else {
        return None;
    };
    Some(KeyData {
        at: svg::ring::point(ring.key, ring.bits, radius),
        label_at: svg::ring::point(ring.key, ring.bits, radius + svg::ring::KEY_LABEL_OUT),
        label: format!("key {} = \"{}\"", ring.key, ring.key_word),
    })
}

/// A label for each guide circle: Gnutella's rings are hops, the last one perhaps the
/// servents beyond the TTL; Chord's one circle is the identifier space.
fn guide_labels(trace: &Trace, radii: &[f64]) -> Vec<(f64, String)> {
    let label = |ring: usize| match &trace.figure {
        Figure::Flood(f) => {
            let deepest = f.hop.iter().flatten().max().copied().unwrap_or(0) as usize;
            if ring > deepest {
                format!("beyond TTL {}", f.ttl)
            } else {
                format!("hop {ring}")
            }
        }
        Figure::Ring(r) => format!("ids 0..{}", (1u64 << r.bits) - 1),
        Figure::Star(_) => String::new(),
    };
    radii
        .iter()
        .enumerate()
        .map(|(k, &r)| (r, label(k + 1)))
        .collect()
}

#[cfg(test)]
mod tests;
