//! The live source: a scenario on real sockets, its counters streamed to the page as they
//! come — and [`Shown`], what the page draws of a run, which a replay folds from its log
//! too ([`super::replay`]).
//!
//! The run tells its events ([`p2plab_scenario::live`]) to one task here, which folds them
//! into [`Shown`]: what the page draws, small and bounded. Each page that watches gets the
//! whole of it as a server-sent event, now and at every change. A page that is slow to read
//! simply skips to the newest: a [`watch`] channel keeps only the last value, so no page can
//! hold the run up, and a page opened late (or reloaded) still shows everything so far.
//!
//! The run waits for the first page to open its event stream, so nobody misses its start.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{self, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use p2plab_scenario::live::{Event, Stamped};
use p2plab_scenario::report::PhaseReport;
use p2plab_scenario::spec::Network;
use serde::Serialize;
use tokio::sync::{broadcast, watch, Notify, OwnedSemaphorePermit, Semaphore};

use super::world::WorldShown;

/// Pages that may watch at once. One person opens one or two; each costs a task and a copy
/// of [`Shown`] per change, so a few suffice, and a runaway script cannot open thousands.
pub const MAX_STREAMS: usize = 8;

/// Joins, leaves and crashes the page lists, the newest first: a screenful. A start step
/// alone joins every peer, so the rest are only counted ([`NetworkShown`]).
pub const RECENT: usize = 40;

/// The page: its markup, with the player's style (the same colours and type) and its own
/// script.
const PAGE: &str = include_str!("live.html");
/// What the page does: listens to the event stream (or replays a log) and draws the
/// counters.
const SCRIPT: &str = include_str!("live.js");

/// Where the page's pictures come from: its script reads it from the page's `<body>`.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    /// A run on real sockets, streamed as it goes (`/events`).
    Live,
    /// A recorded log, replayed step by step (`/shown`, `/node`).
    Replay,
}

/// What the page shows of the run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Shown {
    /// The scenario's name.
    pub title: String,
    /// Whether the run has begun (it waits for the first page).
    pub started: bool,
    /// Whether it is over; [`Shown::outcome`] then says how it ended.
    pub done: bool,
    /// The report's folder, once written; or why the run failed.
    pub outcome: Option<String>,
    /// One entry per network, in the scenario's order.
    pub networks: Vec<NetworkShown>,
    /// The newest joins, leaves and crashes, at most [`RECENT`].
    pub recent: VecDeque<String>,
    /// Events the page's source fell too far behind to hear (see
    /// [`p2plab_scenario::live::BACKLOG`]), or that the log left out past its bound.
    pub lost: u64,
    /// Events shown so far.
    pub step: usize,
    /// A replay: the events in its log (the timeline's end); 0 for a live run.
    pub steps: usize,
    /// When the newest event shown happened, µs of the run's clock (virtual on the
    /// simulator).
    pub at_us: u64,
}

/// One network.
#[derive(Debug, Clone, Serialize)]
pub struct NetworkShown {
    /// Which network.
    pub network: Network,
    /// Nodes up now (Napster's index server among them).
    pub up: u64,
    /// Nodes that joined, left politely and crashed so far.
    pub joined: u64,
    /// See [`NetworkShown::joined`].
    pub left: u64,
    /// See [`NetworkShown::joined`].
    pub crashed: u64,
    /// Each phase played so far.
    pub phases: Vec<Counters>,
    /// All of them together.
    pub overall: Counters,
    /// Nodes up at each phase's end, with its instant (µs): the network's size over time.
    pub history: Vec<(u64, u64)>,
    /// The newest snapshot of its nodes (a simulated run only).
    pub world: Option<WorldShown>,
}

/// The counters of a phase, or of several added up. The page divides (success = found /
/// findable, messages per query = search messages / queries, hops = hop sum / found with
/// hops), so a sum of phases is their field-wise sum.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counters {
    /// The phase's label (`overall` for the sum).
    pub label: String,
    /// Peers per network in its run.
    pub nodes: usize,
    /// Queries asked.
    pub queries: u64,
    /// Of those, for a file some live peer held.
    pub findable: u64,
    /// Of those, found.
    pub found: u64,
    /// Messages the searches caused.
    pub search_messages: u64,
    /// Messages the network sent for its own upkeep.
    pub upkeep_messages: u64,
    /// All messages.
    pub messages: u64,
    /// Overlay hops summed over the found queries that report hops...
    pub hops: f64,
    /// ...and how many those were.
    pub hop_queries: u64,
    /// The busiest node's share of all messages, and which node it was.
    pub busiest_share: Option<f64>,
    /// See [`Counters::busiest_share`].
    pub busiest_node: String,
    /// Peers up at the phase's end.
    pub live_peers: usize,
}

impl Counters {
    fn of(nodes: usize, p: &PhaseReport) -> Counters {
        let hop_queries = if p.mean_hops.is_some() { p.found } else { 0 };
        Counters {
            label: p.label.clone(),
            nodes,
            queries: p.queries,
            findable: p.findable,
            found: p.found,
            search_messages: p.search_messages,
            upkeep_messages: p.upkeep_messages,
            messages: p.messages,
            hops: p.mean_hops.unwrap_or(0.0) * hop_queries as f64,
            hop_queries,
            busiest_share: p.busiest_share,
            busiest_node: p.busiest_node.clone(),
            live_peers: p.live_peers,
        }
    }

    /// Adds `p` in: sums, and the busier of the two busiest nodes.
    fn add(&mut self, p: &Counters) {
        self.nodes = p.nodes;
        self.queries += p.queries;
        self.findable += p.findable;
        self.found += p.found;
        self.search_messages += p.search_messages;
        self.upkeep_messages += p.upkeep_messages;
        self.messages += p.messages;
        self.hops += p.hops;
        self.hop_queries += p.hop_queries;
        self.live_peers = p.live_peers;
        if p.busiest_share > self.busiest_share {
            self.busiest_share = p.busiest_share;
            self.busiest_node.clone_from(&p.busiest_node);
        }
    }
}

impl Shown {
    /// Nothing yet of `title`'s run over `networks`.
    pub fn new(title: &str, networks: &[Network]) -> Self {
        let network = |&network| NetworkShown {
            network,
            up: 0,
            joined: 0,
            left: 0,
            crashed: 0,
            phases: Vec::new(),
            overall: Counters {
                label: "overall".to_owned(),
                ..Counters::default()
            },
            history: Vec::new(),
            world: None,
        };
        Shown {
            title: title.to_owned(),
            networks: networks.iter().map(network).collect(),
            ..Shown::default()
        }
    }

    /// What `stamped` changes.
    pub fn apply(&mut self, stamped: &Stamped) {
        let (at_us, event) = (stamped.at_us, &stamped.event);
        self.step += 1;
        self.at_us = self.at_us.max(at_us);
        let line = match event {
            Event::Joined { network, node } => Some(format!("{network}: {node} joined")),
            Event::Left {
                network,
                node,
                crashed,
            } => {
                let how = if *crashed { "crashed" } else { "left" };
                Some(format!("{network}: {node} {how}"))
            }
            Event::Phase { .. } | Event::World(_) | Event::Done => None,
        };
        if let Some(line) = line {
            if self.recent.len() == RECENT {
                self.recent.pop_back();
            }
            self.recent.push_front(line);
        }
        let network = match event {
            Event::Phase { network, .. }
            | Event::Joined { network, .. }
            | Event::Left { network, .. } => *network,
            Event::World(world) => world.network,
            Event::Done => {
                self.done = true;
                return;
            }
        };
        let Some(shown) = self.networks.iter_mut().find(|n| n.network == network) else {
            return;
        };
        match event {
            Event::Phase { nodes, report, .. } => {
                let counters = Counters::of(*nodes, report);
                shown.overall.add(&counters);
                shown.phases.push(counters);
                shown.history.push((at_us, shown.up));
            }
            Event::World(world) => shown.world = Some(WorldShown::of(at_us, world)),
            Event::Joined { .. } => {
                shown.joined += 1;
                shown.up += 1;
            }
            Event::Left { crashed, .. } => {
                if *crashed {
                    shown.crashed += 1;
                } else {
                    shown.left += 1;
                }
                shown.up = shown.up.saturating_sub(1);
            }
            Event::Done => {}
        }
    }
}

/// The live source's shared part: what the page shows, who watches, and the signal that
/// starts the run.
#[derive(Debug)]
pub struct Live {
    shown: watch::Sender<Shown>,
    streams: Arc<Semaphore>,
    /// Signalled when a page opens its event stream; the run waits for it.
    pub watched: Notify,
}

impl Live {
    /// Nothing shown yet of `title`'s run over `networks`.
    pub fn new(title: &str, networks: &[Network]) -> Self {
        Live {
            shown: watch::Sender::new(Shown::new(title, networks)),
            streams: Arc::new(Semaphore::new(MAX_STREAMS)),
            watched: Notify::new(),
        }
    }

    /// Changes what the page shows.
    pub fn update(&self, change: impl FnOnce(&mut Shown)) {
        self.shown.send_modify(change);
    }

    /// Folds the run's events into what the page shows until the run drops its sender.
    pub async fn listen(&self, mut events: broadcast::Receiver<Stamped>) {
        loop {
            match events.recv().await {
                Ok(stamped) => self.update(|s| s.apply(&stamped)),
                Err(broadcast::error::RecvError::Lagged(n)) => self.update(|s| s.lost += n),
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}

/// `GET /`: the page, for the live source.
pub async fn page() -> Html<String> {
    page_for(Source::Live)
}

/// The page, for `source`.
pub fn page_for(source: Source) -> Html<String> {
    let source = match source {
        Source::Live => "live",
        Source::Replay => "replay",
    };
    Html(
        PAGE.replace("{{style}}", p2plab_trace::player::STYLE)
            .replace("{{source}}", source)
            .replace("{{script}}", SCRIPT),
    )
}

/// `GET /events`: what the page shows, now and at every change, as server-sent events;
/// 503 when [`MAX_STREAMS`] pages already watch.
pub async fn events(State(live): State<Arc<Live>>) -> Response {
    let Ok(permit) = Arc::clone(&live.streams).try_acquire_owned() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "too many pages are watching",
        )
            .into_response();
    };
    live.watched.notify_one();
    let shown = live.shown.subscribe();
    let stream = futures_util::stream::unfold((shown, permit, true), next_event);
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// The next event for one page: what is shown now (at once the first time, then after each
/// change). The permit lives as long as the stream, so a page that goes frees its place.
async fn next_event(
    (mut shown, permit, first): (watch::Receiver<Shown>, OwnedSemaphorePermit, bool),
) -> Option<(
    Result<sse::Event, Infallible>,
    (watch::Receiver<Shown>, OwnedSemaphorePermit, bool),
)> {
    if !first {
        shown.changed().await.ok()?;
    }
    let json = serde_json::to_string(&*shown.borrow_and_update()).ok()?;
    Some((Ok(sse::Event::default().data(json)), (shown, permit, false)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamped(event: Event) -> Stamped {
        Stamped { at_us: 0, event }
    }

    fn phase(label: &str, queries: u64, found: u64, share: f64) -> Stamped {
        stamped(Event::Phase {
            nodes: 4,
            network: Network::Chord,
            index: 1,
            report: Box::new(PhaseReport {
                label: label.to_owned(),
                queries,
                findable: queries,
                found,
                mean_hops: Some(2.0),
                search_messages: 10 * queries,
                busiest_share: Some(share),
                busiest_node: format!("node of {label}"),
                ..PhaseReport::default()
            }),
        })
    }

    #[test]
    fn the_overall_row_adds_the_phases_and_keeps_the_busiest_node() {
        let mut shown = Shown::new("t", &[Network::Chord]);
        shown.apply(&phase("a", 10, 9, 0.2));
        shown.apply(&phase("b", 30, 30, 0.1));
        let chord = &shown.networks[0];
        assert_eq!(chord.phases.len(), 2);
        let all = &chord.overall;
        assert_eq!((all.queries, all.found, all.search_messages), (40, 39, 400));
        assert_eq!((all.hops, all.hop_queries), (78.0, 39));
        assert_eq!(all.busiest_node, "node of a");
    }

    #[test]
    fn joins_and_crashes_are_counted_and_the_list_stays_short() {
        let mut shown = Shown::new("t", &[Network::Chord]);
        for i in 0..RECENT + 5 {
            shown.apply(&stamped(Event::Joined {
                network: Network::Chord,
                node: format!("peer {i}"),
            }));
        }
        shown.apply(&stamped(Event::Left {
            network: Network::Chord,
            node: "peer 3".to_owned(),
            crashed: true,
        }));
        let chord = &shown.networks[0];
        assert_eq!(
            (chord.joined, chord.crashed, chord.up),
            (RECENT as u64 + 5, 1, RECENT as u64 + 4)
        );
        assert_eq!(shown.recent.len(), RECENT);
        assert_eq!(shown.recent[0], "chord: peer 3 crashed");
        shown.apply(&stamped(Event::Done));
        assert!(shown.done);
        assert_eq!(shown.step, RECENT + 7);
    }
}
