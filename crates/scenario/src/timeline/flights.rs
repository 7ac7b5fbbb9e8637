//! Searches and downloads in flight, and what each search is judged against.
//!
//! A search is judged against the world as it was when it was asked (its [`Truth`]): a
//! holder that dies while the search runs still counted as up, one that was down does not.
//! During a cut each side has its own truth, in which only that side's peers are up: a
//! holder across the cut is as good as down.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

use std::sync::Arc;
use std::time::Duration;

use p2plab_peer_protocol::{Hit, Holder, Instant, CALL_TIMEOUT};

use super::action::Ticket;
use crate::hit_times::HitTimes;
use crate::misses::Miss;
use crate::plan::{Plan, PlannedQuery};
use crate::workload::{verdict, Answer, Failure, Outcome, Tally};

/// What a search ended with when its peer stopped under it (a real node's handle says so).
pub const STOPPED: &str = "the node has stopped";

/// Who was up, and who each listen address is: what a search's answer is judged against.
#[derive(Debug, Default)]
pub struct Truth {
    /// For each peer, whether it was up.
    pub alive: Vec<bool>,
    /// Live peers by listen address (Gnutella and Chord hits name holders so).
    pub holders: HashMap<SocketAddr, usize>,
}

impl Truth {
    /// Which peer a hit names: by listen address, or by Napster nick.
    fn holder_of(&self, holder: &Holder) -> Option<usize> {
        match holder {
            Holder::Http { addr, .. } => self.holders.get(addr).copied(),
            Holder::Napster { nick, .. } => crate::node_spec::peer_of_nick(nick),
        }
    }

    /// Peer `i`'s listen address, if it was up.
    fn addr_of(&self, i: usize) -> Option<SocketAddr> {
        self.holders.iter().find(|(_, &p)| p == i).map(|(a, _)| *a)
    }
}

/// A search on its way.
#[derive(Debug)]
struct Search {
    query: PlannedQuery,
    peer: usize,
    asked: Instant,
    truth: Arc<Truth>,
}

impl Search {
    /// This search as a false "not found".
    fn miss(&self, plan: &Plan) -> Miss {
        let alive = self.truth.alive.clone();
        let holders = self.query.file.map(|f| plan.files[f].holders.clone());
        let holders = holders.unwrap_or_default();
        Miss {
            origin: self.peer,
            searcher: self.truth.addr_of(self.peer),
            query: self.query.text.clone(),
            holders: holders.into_iter().filter(|&h| alive[h]).collect(),
            alive,
        }
    }
}

/// A download on its way: the file it should bring.
#[derive(Debug)]
struct Download {
    file: usize,
    peer: usize,
}

/// A file a search found, to download once the phase's traffic is read.
#[derive(Debug, Clone)]
pub struct Found {
    /// The peer that searched (and will download).
    pub peer: usize,
    /// The plan's file.
    pub file: usize,
    /// The hit that names a live holder.
    pub hit: Hit,
}

/// Every search and download in flight, and the tally of those that ended this phase.
#[derive(Debug, Default)]
pub struct Flights {
    searches: BTreeMap<Ticket, Search>,
    downloads: BTreeMap<Ticket, Download>,
    next: u64,
    /// The phase's verdicts so far.
    pub tally: Tally,
    /// When the phase's answered searches got their hits.
    pub hit_times: HitTimes,
    /// The phase's false "not found"s, whose causes are told at its end.
    pub misses: Vec<Miss>,
    /// Found files the plan wants downloaded, in the order they were found.
    pub to_fetch: Vec<Found>,
}

impl Flights {
    fn ticket(&mut self) -> Ticket {
        self.next += 1;
        Ticket(self.next)
    }

    /// Searches in flight.
    pub fn searching(&self) -> usize {
        self.searches.len()
    }

    /// Downloads in flight.
    pub fn fetching(&self) -> usize {
        self.downloads.len()
    }

    /// When the next search in flight has waited as long as a real node's handle waits
    /// ([`CALL_TIMEOUT`]) and fails.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.searches.values().map(|s| s.asked + CALL_TIMEOUT).min()
    }

    /// Records a search about to be asked; returns its ticket.
    pub fn ask(
        &mut self,
        query: PlannedQuery,
        peer: usize,
        now: Instant,
        truth: Arc<Truth>,
    ) -> Ticket {
        let ticket = self.ticket();
        let search = Search {
            query,
            peer,
            asked: now,
            truth,
        };
        self.searches.insert(ticket, search);
        ticket
    }

    /// Records a download about to start; returns its ticket.
    pub fn fetch(&mut self, found: &Found) -> Ticket {
        let ticket = self.ticket();
        let download = Download {
            file: found.file,
            peer: found.peer,
        };
        self.downloads.insert(ticket, download);
        ticket
    }

    /// A search ended at `at`: judges it against the plan and its truth.
    pub fn answer(&mut self, plan: &Plan, ticket: Ticket, at: Instant, result: Answer) {
        let Some(s) = self.searches.remove(&ticket) else {
            // Already ended: its peer stopped, or it timed out.
            return;
        };
        let holder_of = |h: &Holder| s.truth.holder_of(h);
        let v = verdict(plan, &s.query, &s.truth.alive, holder_of, &result);
        let latency = result.is_ok().then(|| at.saturating_since(s.asked));
        self.tally.add(v, latency);
        if let (Ok(hits), Some(latency)) = (&result, latency) {
            self.hit_times.add(hits, latency);
        }
        if v.outcome == Outcome::FalseNotFound {
            self.misses.push(s.miss(plan));
        }
        if let (Outcome::Found, Some(file), true, Ok(hits)) =
            (v.outcome, s.query.file, s.query.download, &result)
        {
            let valid = hits.iter().find(|h| {
                h.name == plan.files[file].name
                    && holder_of(&h.holder).is_some_and(|i| {
                        plan.files[file].holders.contains(&i) && s.truth.alive.get(i) == Some(&true)
                    })
            });
            if let Some(hit) = valid {
                self.to_fetch.push(Found {
                    peer: s.peer,
                    file,
                    hit: hit.clone(),
                });
            }
        }
    }

    /// A download ended: counts it, and whether its bytes are the file's.
    pub fn fetched(&mut self, plan: &Plan, ticket: Ticket, result: Result<Vec<u8>, String>) {
        let Some(d) = self.downloads.remove(&ticket) else {
            return;
        };
        self.tally.downloads += 1;
        let ok = match result {
            Ok(bytes) => plan.content(d.file).is_ok_and(|want| want == bytes),
            Err(e) => {
                tracing::debug!(file = %plan.files[d.file].name, "download failed: {e}");
                false
            }
        };
        self.tally.downloads_ok += u64::from(ok);
    }

    /// Ends every search and download at `peer` (it stopped under them).
    pub fn stopped(&mut self, plan: &Plan, peer: usize, now: Instant) {
        let searches: Vec<Ticket> = self
            .searches
            .iter()
            .filter(|(_, s)| s.peer == peer)
            .map(|(t, _)| *t)
            .collect();
        for t in searches {
            self.answer(plan, t, now, Err(Failure::Failed(STOPPED.to_owned())));
        }
        let downloads: Vec<Ticket> = self
            .downloads
            .iter()
            .filter(|(_, d)| d.peer == peer)
            .map(|(t, _)| *t)
            .collect();
        for t in downloads {
            self.fetched(plan, t, Err(STOPPED.to_owned()));
        }
    }

    /// Fails every search that has waited [`CALL_TIMEOUT`] by `now`.
    pub fn expire(&mut self, plan: &Plan, now: Instant) {
        let late: Vec<Ticket> = self
            .searches
            .iter()
            .filter(|(_, s)| s.asked + CALL_TIMEOUT <= now)
            .map(|(t, _)| *t)
            .collect();
        for t in late {
            let why = format!("no answer within {}", seconds(CALL_TIMEOUT));
            self.answer(plan, t, now, Err(Failure::Failed(why)));
        }
    }

    /// Takes the phase's tally, leaving an empty one for the next phase.
    pub fn take_tally(&mut self) -> Tally {
        std::mem::take(&mut self.tally)
    }

    /// Takes the phase's hit times, leaving empty ones for the next phase.
    pub fn take_hit_times(&mut self) -> HitTimes {
        std::mem::take(&mut self.hit_times)
    }

    /// Takes the phase's false "not found"s.
    pub fn take_misses(&mut self) -> Vec<Miss> {
        std::mem::take(&mut self.misses)
    }
}

fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::FilesSpec;

    fn plan() -> Plan {
        let files = FilesSpec {
            count: 4,
            copies: 1,
            min_size: 10,
            max_size: 10,
        };
        Plan::new(1, 4, &files)
    }

    fn query(file: usize) -> PlannedQuery {
        PlannedQuery {
            text: crate::plan::query_text(file),
            file: Some(file),
            origin: 0,
            download: false,
        }
    }

    #[test]
    fn only_searches_that_got_an_answer_count_in_the_latency() {
        let plan = plan();
        let mut flights = Flights::default();
        let t0 = Instant::ZERO;
        // Every holder down: unfindable, whether the search fails or answers.
        let down = Arc::new(Truth {
            alive: vec![false; 4],
            holders: HashMap::new(),
        });
        let failed = flights.ask(query(0), 0, t0, down.clone());
        let answered = flights.ask(query(1), 0, t0, down);
        let at = t0 + Duration::from_millis(5);
        flights.answer(
            &plan,
            failed,
            at,
            Err(Failure::Failed("not connected".into())),
        );
        flights.answer(&plan, answered, at, Ok(Vec::new()));
        let tally = flights.take_tally();
        assert_eq!((tally.queries, tally.outcomes.unfindable), (2, 2));
        assert_eq!(tally.latency.len(), 1, "the failed search has no latency");
        assert!(
            tally.latency.equivalent(tally.latency.max(), 5_000),
            "5 ms, to 3 digits"
        );
    }

    #[test]
    fn a_search_ends_once_whatever_comes_after() {
        let plan = plan();
        let mut flights = Flights::default();
        let up = Arc::new(Truth {
            alive: vec![true; 4],
            holders: HashMap::new(),
        });
        let ticket = flights.ask(query(2), 3, Instant::ZERO, up);
        flights.stopped(&plan, 3, Instant::ZERO + Duration::from_millis(1));
        // The stopped node's own late answer is not counted again.
        let late = Instant::ZERO + Duration::from_millis(2);
        flights.answer(&plan, ticket, late, Ok(Vec::new()));
        let tally = flights.take_tally();
        assert_eq!(
            (tally.queries, tally.outcomes.errors, tally.findable),
            (1, 1, 1)
        );
        assert!(tally.latency.is_empty());
    }
}
