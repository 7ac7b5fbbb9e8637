//! The peer's requests in flight to the server, oldest first.
//!
//! The server answers in the order it was asked, and 201/202/204/206 carry no request id.
//! So replies are matched by order: results and the end of results belong to the oldest
//! search, a download ack or error to the oldest locate, and a 404 to the oldest request of
//! either kind. A request that times out is answered at once but stays in the queue,
//! marked expired, until its late reply arrives and is thrown away — otherwise that reply
//! would be taken for the answer to the next request.

use std::collections::VecDeque;

use p2plab_peer_protocol::{Download, Event, Hit, Instant, RequestId, SearchError};

/// One request in flight.
#[derive(Debug)]
struct Request {
    id: RequestId,
    started: Instant,
    deadline: Instant,
    /// Answered already (by a timeout); the reply is to be dropped.
    expired: bool,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Search {
        hits: Vec<Hit>,
        /// A 404 that arrived while the search was the oldest request.
        error: Option<String>,
    },
    Locate,
}

/// A finished search, for the peer to report and record.
#[derive(Debug)]
pub(super) struct SearchDone {
    pub id: RequestId,
    pub started: Instant,
    pub result: Result<Vec<Hit>, SearchError>,
}

/// The requests in flight.
#[derive(Debug, Default)]
pub(super) struct Pending {
    queue: VecDeque<Request>,
}

impl Pending {
    pub fn push_search(&mut self, id: RequestId, now: Instant, deadline: Instant) {
        self.push(
            id,
            now,
            deadline,
            Kind::Search {
                hits: Vec::new(),
                error: None,
            },
        );
    }

    pub fn push_locate(&mut self, id: RequestId, now: Instant, deadline: Instant) {
        self.push(id, now, deadline, Kind::Locate);
    }

    fn push(&mut self, id: RequestId, started: Instant, deadline: Instant, kind: Kind) {
        self.queue.push_back(Request {
            id,
            started,
            deadline,
            expired: false,
            kind,
        });
    }

    fn oldest_search(&mut self) -> Option<usize> {
        self.queue
            .iter()
            .position(|r| matches!(r.kind, Kind::Search { .. }))
    }

    /// A 201: one more hit for the oldest search. False if no search is waiting.
    pub fn on_result(&mut self, hit: Hit) -> bool {
        let Some(i) = self.oldest_search() else {
            return false;
        };
        if let Kind::Search { hits, .. } = &mut self.queue[i].kind {
            hits.push(hit);
        }
        true
    }

    /// A 202: the oldest search is over. `None` if there was none or it had expired.
    pub fn on_search_end(&mut self) -> Option<SearchDone> {
        let i = self.oldest_search()?;
        let req = self.queue.remove(i)?;
        let Kind::Search { hits, error } = req.kind else {
            return None;
        };
        if req.expired {
            return None;
        }
        let result = match error {
            Some(text) if hits.is_empty() => Err(SearchError::Refused(text)),
            _ => Ok(hits),
        };
        Some(SearchDone {
            id: req.id,
            started: req.started,
            result,
        })
    }

    /// A 204 or 206: the oldest locate is answered.
    pub fn on_locate_reply(&mut self, result: Result<Download, SearchError>) -> Option<Event> {
        let i = self
            .queue
            .iter()
            .position(|r| matches!(r.kind, Kind::Locate))?;
        let req = self.queue.remove(i)?;
        (!req.expired).then_some(Event::Located {
            request: req.id,
            result,
        })
    }

    /// A 404: it concerns the oldest request. A locate fails now; a search keeps the text
    /// and ends at its 202.
    pub fn on_error(&mut self, text: String) -> Option<Event> {
        let front = self.queue.front_mut()?;
        if let Kind::Search { error, .. } = &mut front.kind {
            *error = Some(text);
            return None;
        }
        self.on_locate_reply(Err(SearchError::Refused(text)))
    }

    /// Answers every request whose deadline has passed with a timeout.
    pub fn expire(&mut self, now: Instant, timeout_ms: u64) -> Vec<Event> {
        let mut events = Vec::new();
        for req in self
            .queue
            .iter_mut()
            .filter(|r| !r.expired && r.deadline <= now)
        {
            req.expired = true;
            events.push(failure(req, SearchError::Timeout(timeout_ms)));
        }
        events
    }

    /// The connection is gone: every request fails with `why`, and none is waited for.
    pub fn fail_all(&mut self, why: &SearchError) -> Vec<Event> {
        self.queue
            .drain(..)
            .filter(|r| !r.expired)
            .map(|r| failure(&r, why.clone()))
            .collect()
    }

    /// The earliest deadline of a request still unanswered.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.queue
            .iter()
            .filter(|r| !r.expired)
            .map(|r| r.deadline)
            .min()
    }
}

fn failure(req: &Request, why: SearchError) -> Event {
    match req.kind {
        Kind::Search { .. } => Event::SearchDone {
            request: req.id,
            result: Err(why),
        },
        Kind::Locate => Event::Located {
            request: req.id,
            result: Err(why),
        },
    }
}
