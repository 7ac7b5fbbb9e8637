//! The replay source: a recorded run ([`Log`]) shown step by step, at any speed, forwards or
//! backwards.
//!
//! The page asks for step `k` (`/shown?step=k`) and gets back what the live page would have
//! shown after the log's first `k` events: the log folded by the very code that folds a
//! live run's events ([`Shown::apply`]), so the two sources cannot disagree on a counter.
//! Zooming into a node (`/node?network=..&place=..&step=k`) reads its links from the
//! newest snapshot of its network at step `k` (the first one, before any).

use std::io::{BufReader, BufWriter};
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use axum::extract::State;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use p2plab_scenario::live::{Event, Log, Stamped, World};
use p2plab_scenario::spec::Network;
use serde::Serialize;

use super::guard::query_param;
use super::live::Shown;
use super::world::Neighbourhood;

/// A log to replay.
#[derive(Debug)]
pub struct Replay {
    log: Log,
}

/// The step a request asks for (`?step=k`: events shown, 0 before the first, the log's
/// length after the last); 0 when it names none.
fn step(uri: &Uri) -> usize {
    query_param(uri, "step")
        .and_then(|k| k.parse().ok())
        .unwrap_or(0)
}

/// `value` as a JSON answer.
fn json(value: &impl Serialize) -> Response {
    match serde_json::to_string(value) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

impl Replay {
    /// A replay of `log`.
    pub fn new(log: Log) -> Self {
        Replay { log }
    }

    /// The log in `file`, held to [`p2plab_scenario::live::MAX_LOG_ENTRIES`] as a recording
    /// is, whoever wrote it.
    pub fn read(file: &Path) -> anyhow::Result<Self> {
        let reader =
            std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
        let read: Log = serde_json::from_reader(BufReader::new(reader))
            .with_context(|| format!("{} is not a p2plab view log", file.display()))?;
        let mut log = Log::new(&read.title, &read.networks, read.seed);
        log.dropped = read.dropped;
        read.events.into_iter().for_each(|e| log.push(e));
        Ok(Replay::new(log))
    }

    /// Writes the log into `file` as JSON.
    pub fn write(&self, file: &Path) -> anyhow::Result<()> {
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let out = std::fs::File::create(file)
            .with_context(|| format!("cannot write {}", file.display()))?;
        serde_json::to_writer(BufWriter::new(out), &self.log)?;
        Ok(())
    }

    /// What the page shows after the first `step` events.
    pub fn shown(&self, step: usize) -> Shown {
        let events = &self.log.events;
        let mut shown = Shown::new(&self.log.title, &self.log.networks);
        shown.started = true;
        shown.steps = events.len();
        shown.lost = self.log.dropped;
        events[..step.min(events.len())]
            .iter()
            .for_each(|e| shown.apply(e));
        if shown.done {
            shown.outcome = Some("replayed to the log's end".to_owned());
        }
        shown
    }

    /// `network`'s snapshot at `step`: the newest before it, else the first; with its
    /// instant.
    fn world(&self, network: Network, step: usize) -> Option<(u64, &World)> {
        fn of(e: &Stamped, network: Network) -> Option<(u64, &World)> {
            match &e.event {
                Event::World(w) if w.network == network => Some((e.at_us, &**w)),
                _ => None,
            }
        }
        let of = |e| of(e, network);
        let events = &self.log.events;
        let before = events[..step.min(events.len())].iter().rev().find_map(of);
        before.or_else(|| events.iter().find_map(of))
    }
}

/// `GET /shown?step=k`: what the page shows at step `k`.
pub async fn shown(State(replay): State<Arc<Replay>>, uri: Uri) -> Response {
    json(&replay.shown(step(&uri)))
}

/// `GET /node?network=..&place=..&step=k`: node `place`'s neighbourhood in `network` at
/// step `k`; 404 when the log has no snapshot of that network or no such node.
pub async fn node(State(replay): State<Arc<Replay>>, uri: Uri) -> Response {
    let network =
        query_param(&uri, "network").and_then(|n| serde_json::from_value::<Network>(n.into()).ok());
    let place = query_param(&uri, "place").and_then(|p| p.parse().ok());
    let hood = network.zip(place).and_then(|(network, place)| {
        let (at_us, world) = replay.world(network, step(&uri))?;
        Neighbourhood::of(at_us, world, place)
    });
    match hood {
        Some(hood) => json(&hood),
        None => (StatusCode::NOT_FOUND, "no such node in the log's snapshots").into_response(),
    }
}
