//! The timeline on its own, without any cluster: a scripted engine that answers every call
//! at once and every search after a fixed delay, from the plan itself, so each assertion
//! is about what the timeline decides and counts.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use p2plab_peer_protocol::{Hit, Holder, Instant, Query};

use super::*;
use crate::ready::{Census, Condition, Problems};
use crate::spec::parse;

/// How long every scripted search takes.
const SEARCH: Duration = Duration::from_millis(300);

fn scenario(timeline: &str, concurrency: usize, download_share: f64) -> Arc<Scenario> {
    let text = format!(
        r#"{{
          "name": "scripted", "networks": ["gnutella"], "nodes": 10, "seed": 3,
          "files": {{ "count": 20, "copies": 2, "min_size": 10, "max_size": 20 }},
          "workload": {{ "rate": 10, "zipf": 0.5, "missing_share": 0.2,
                         "download_share": {download_share}, "concurrency": {concurrency} }},
          "timeline": [{timeline}]
        }}"#
    );
    Arc::new(parse(&text).unwrap_or_else(|e| panic!("{e}")))
}

/// What the scripted engine saw.
#[derive(Debug, Default)]
struct Log {
    started: Vec<usize>,
    stopped: Vec<usize>,
    cuts: Vec<Vec<Vec<usize>>>,
    asked: usize,
    most_in_flight: usize,
    fetched: usize,
    stepped: Vec<usize>,
}

/// A network that is ready at once, answers each search after [`SEARCH`] with every live
/// holder of the file the query names, and delivers every download intact.
struct Scripted {
    plan: Arc<Plan>,
    now: Instant,
    addrs: Vec<Option<SocketAddr>>,
    pending: Vec<(Instant, Ticket, Vec<Hit>)>,
    log: Log,
    /// Fail this peer's start.
    refuse: Option<usize>,
}

impl Scripted {
    fn new(plan: Arc<Plan>) -> Self {
        let n = plan.peers();
        Scripted {
            plan,
            now: Instant::ZERO,
            addrs: vec![None; n],
            pending: Vec::new(),
            log: Log::default(),
            refuse: None,
        }
    }

    fn hits(&self, text: &str) -> Vec<Hit> {
        let query = Query::parse(text);
        let mut hits = Vec::new();
        for f in self.plan.files.iter().filter(|f| query.matches(&f.name)) {
            for &h in &f.holders {
                if let Some(addr) = self.addrs[h] {
                    hits.push(Hit {
                        name: f.name.clone(),
                        size: f.size,
                        holder: Holder::Http { addr, index: 0 },
                        hops: Some(1),
                        arrived: None,
                    });
                }
            }
        }
        hits
    }

    fn play(&mut self, t: &mut Timeline) -> NetworkReport {
        loop {
            let now = self.now;
            let (due, later) = self.pending.drain(..).partition(|(at, ..)| *at <= now);
            self.pending = later;
            for (at, ticket, hits) in due {
                t.reply(
                    now,
                    Reply::Answer {
                        ticket,
                        at,
                        result: Ok(hits),
                    },
                );
            }
            match t.poll(now) {
                Poll::Act(action) => {
                    if let Some(reply) = self.act(action) {
                        t.reply(now, reply);
                    }
                }
                Poll::Wait { until, early } => {
                    let next = self.pending.iter().map(|p| p.0).min();
                    self.now = match next {
                        Some(at) if early && at < until => at,
                        _ => until,
                    };
                }
                Poll::Stepped(k) => self.log.stepped.push(k),
                Poll::Done(report) => return *report,
            }
        }
    }

    fn act(&mut self, action: Action) -> Option<Reply> {
        Some(match action {
            Action::Start { who, .. } => {
                let result = match who {
                    Who::Peer(i) if self.refuse == Some(i) => Err("refused".to_owned()),
                    Who::Peer(i) => {
                        let addr = SocketAddr::from(([10, 0, 0, 1], 1000 + i as u16));
                        self.addrs[i] = Some(addr);
                        self.log.started.push(i);
                        Ok(addr)
                    }
                    Who::Server => Ok(SocketAddr::from(([10, 0, 0, 2], 8888))),
                };
                Reply::Started { who, result }
            }
            Action::Stop { peer, .. } => {
                self.addrs[peer] = None;
                self.log.stopped.push(peer);
                Reply::Stopped {
                    who: Who::Peer(peer),
                }
            }
            Action::KillServer => Reply::Stopped { who: Who::Server },
            Action::Cut { sides } => {
                self.log.cuts.push(sides);
                Reply::Done
            }
            Action::Heal => Reply::Done,
            Action::Census => Reply::Census(Census {
                condition: Condition::Gnutella {
                    alone: 0,
                    silent: 0,
                },
                problems: Problems::default(),
            }),
            Action::Snapshot { .. } => Reply::Snapshot {
                snapshot: Snapshot::default(),
                memory_kib: None,
            },
            Action::Ask { ticket, text, .. } => {
                self.log.asked += 1;
                let hits = self.hits(&text);
                self.pending.push((self.now + SEARCH, ticket, hits));
                self.log.most_in_flight = self.log.most_in_flight.max(self.pending.len());
                return None;
            }
            Action::Fetch { ticket, hit, .. } => {
                self.log.fetched += 1;
                let file = self.plan.files.iter().position(|f| f.name == hit.name);
                let result = file
                    .map(|f| self.plan.content(f).map_err(|e| e.to_string()))
                    .unwrap_or_else(|| Err("no such file".to_owned()));
                Reply::Fetched { ticket, result }
            }
        })
    }
}

fn run(s: &Arc<Scenario>, refuse: Option<usize>) -> (NetworkReport, Log) {
    let plan = Arc::new(Plan::new(s.seed, 10, &s.files));
    let mut t = Timeline::new(s.clone(), plan.clone(), Network::Gnutella);
    let mut engine = Scripted::new(plan);
    engine.refuse = refuse;
    let report = engine.play(&mut t);
    (report, engine.log)
}

const START: &str = r#"{ "start": { "label": "start", "settle_s": 1 } }"#;

#[test]
fn every_query_is_asked_judged_and_counted_once() {
    let s = scenario(
        &format!(r#"{START}, {{ "queries": {{ "label": "q", "count": 40 }} }}"#),
        64,
        0.0,
    );
    let (report, log) = run(&s, None);
    assert_eq!(log.started, (0..10).collect::<Vec<_>>());
    assert_eq!(log.stepped, [0, 1]);
    assert!(report.ready);
    let q = &report.phases[1];
    assert_eq!((q.queries, log.asked), (40, 40));
    assert_eq!(
        q.found, q.findable,
        "the scripted network always finds live holders"
    );
    assert_eq!(
        q.findable + q.missing + q.outcomes.unfindable,
        q.queries,
        "classes add up"
    );
    assert_eq!(q.outcomes.total(), q.queries, "outcomes add up");
    assert_eq!(q.outcomes.wrong_hits, 0);
    // 40 queries at 10 per second, the last answered 0.3 s after it was asked.
    assert!((q.seconds - 4.2).abs() < 1e-6, "{}", q.seconds);
    let latency = q.latency_ms.map(|l| l.max);
    assert!(
        latency.is_some_and(|ms| (ms - 300.0).abs() < 1.0),
        "{latency:?}"
    );
}

#[test]
fn no_more_searches_fly_than_the_workload_allows() {
    let s = scenario(
        &format!(r#"{START}, {{ "queries": {{ "label": "q", "count": 30 }} }}"#),
        2,
        0.0,
    );
    let (report, log) = run(&s, None);
    assert_eq!(log.most_in_flight, 2);
    assert_eq!(report.phases[1].queries, 30);
    // Two at a time, 0.3 s each: query 2k is asked at 0.3k s and 2k+1 at 0.3k + 0.1 s, so
    // the last (29) at 4.3 s and answered at 4.6 s — not the 3.2 s of 30 at 10 per second.
    assert!(
        (report.phases[1].seconds - 4.6).abs() < 1e-6,
        "{}",
        report.phases[1].seconds
    );
}

#[test]
fn a_kill_strikes_a_seeded_share_and_the_same_peers_every_time() {
    let steps = format!(r#"{START}, {{ "kill_peers": {{ "label": "k", "fraction": 0.3 }} }}"#);
    let s = scenario(&steps, 8, 0.0);
    let (report, log) = run(&s, None);
    assert_eq!(log.stopped.len(), 3);
    assert_eq!(report.phases[1].live_peers, 7);
    assert_eq!(
        run(&s, None).1.stopped,
        log.stopped,
        "the seed picks the victims"
    );
}

#[test]
fn churn_takes_peers_down_and_brings_them_back_with_fresh_starts() {
    let steps = format!(
        r#"{START}, {{ "churn": {{ "label": "c", "seconds": 5, "joins_per_s": 1, "leaves_per_s": 1, "crash": true }} }}"#
    );
    let s = scenario(&steps, 8, 0.0);
    let (report, log) = run(&s, None);
    // A leave and then a join at 1, 2, 3 and 4 s (the one due at 5 s is past the step):
    // 4 leaves, and 4 joins of the peers then down.
    assert_eq!(log.stopped.len(), 4);
    assert_eq!(log.started.len(), 10 + 4);
    assert_eq!(report.phases[1].live_peers, 10);
    assert_eq!(report.phases[1].queries, 50);
}

#[test]
fn a_cut_judges_each_query_on_its_own_side() {
    let steps =
        format!(r#"{START}, {{ "partition": {{ "label": "p", "groups": 2, "seconds": 4 }} }}"#);
    let s = scenario(&steps, 8, 0.0);
    let (report, log) = run(&s, None);
    assert_eq!(log.cuts.len(), 1);
    let sides = &log.cuts[0];
    assert_eq!(sides.iter().map(Vec::len).sum::<usize>(), 10);
    // The scripted network ignores the cut and finds holders on both sides; a holder
    // across the cut counts as down, so some hits are stale or queries unfindable.
    let p = &report.phases[1];
    assert_eq!(p.queries, 40);
    assert!(p.outcomes.stale + p.outcomes.unfindable > 0, "{p:?}");
}

#[test]
fn found_files_are_downloaded_after_the_phase_and_checked() {
    let s = scenario(
        &format!(r#"{START}, {{ "queries": {{ "label": "q", "count": 40 }} }}"#),
        64,
        1.0,
    );
    let (report, log) = run(&s, None);
    let q = &report.phases[1];
    assert_eq!(q.downloads, q.found, "every found file is fetched");
    assert_eq!(q.downloads_ok, q.downloads, "and every byte checks out");
    assert_eq!(log.fetched as u64, q.downloads);
}

#[test]
fn a_peer_that_cannot_start_ends_the_run_with_the_reason() {
    let s = scenario(
        &format!(r#"{START}, {{ "queries": {{ "label": "q", "count": 5 }} }}"#),
        8,
        0.0,
    );
    let (report, log) = run(&s, Some(4));
    assert_eq!(report.failure.as_deref(), Some("refused"));
    assert!(report.phases.is_empty() && !report.ready);
    assert_eq!(log.asked, 0);
}
