//! The peer's requests in flight to the server, oldest first.
//!
//! Searches and locates are matched to their replies differently, because the replies say
//! different things:
//!
//! - 201 and 202 carry nothing that names their search. The server answers searches in the
//!   order it was asked, so results and the end of results belong to the oldest search. A
//!   search that times out is answered at once but stays in the queue, marked expired,
//!   until its late 202 arrives and is thrown away — otherwise that 202 would end the next
//!   search.
//! - 204, 206 and 609 name the holder and the file, and arrive in no set order: the server
//!   answers a 203 only once the holder accepted (607/608), so one slow holder's 204 may
//!   come after a quick holder's. A locate's reply is the oldest waiting locate of that
//!   nick and file. A locate that times out is answered and forgotten at once; its late
//!   reply matches nothing and is dropped, never taken for another request's answer.
//! - A 404 carries only text: it concerns the oldest request of either kind.
//!
//! At most [`MAX_REQUESTS_IN_FLIGHT`] requests wait at once, counting expired searches
//! still owed a 202; beyond it a new request is refused at once.

use std::collections::VecDeque;

use p2plab_peer_protocol::{Download, Event, Hit, Instant, RequestId, SearchError};

use crate::message::NickFile;
use crate::MAX_REQUESTS_IN_FLIGHT;

/// One request in flight.
#[derive(Debug)]
struct Request {
    id: RequestId,
    started: Instant,
    deadline: Instant,
    /// Answered already (by a timeout); the 202 is to be dropped. Only searches stay
    /// once expired.
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
    /// Where does this holder serve this file?
    Locate(NickFile),
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
    /// Waits for a search's results.
    ///
    /// # Errors
    /// [`SearchError::Refused`] if [`MAX_REQUESTS_IN_FLIGHT`] requests wait already.
    pub fn push_search(
        &mut self,
        id: RequestId,
        now: Instant,
        deadline: Instant,
    ) -> Result<(), SearchError> {
        let kind = Kind::Search {
            hits: Vec::new(),
            error: None,
        };
        self.push(id, now, deadline, kind)
    }

    /// Waits for the answer about `holder`'s file.
    ///
    /// # Errors
    /// [`SearchError::Refused`] if [`MAX_REQUESTS_IN_FLIGHT`] requests wait already.
    pub fn push_locate(
        &mut self,
        id: RequestId,
        now: Instant,
        deadline: Instant,
        holder: NickFile,
    ) -> Result<(), SearchError> {
        self.push(id, now, deadline, Kind::Locate(holder))
    }

    fn push(
        &mut self,
        id: RequestId,
        started: Instant,
        deadline: Instant,
        kind: Kind,
    ) -> Result<(), SearchError> {
        if self.queue.len() >= MAX_REQUESTS_IN_FLIGHT {
            return Err(SearchError::Refused(format!(
                "{MAX_REQUESTS_IN_FLIGHT} requests already wait for the index server"
            )));
        }
        self.queue.push_back(Request {
            id,
            started,
            deadline,
            expired: false,
            kind,
        });
        Ok(())
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

    /// A 204, 206 or 609 about `about`: the oldest locate waiting for that nick (in any
    /// case, as servers compare nicks) and that file is answered. `None` if no locate
    /// waits for it: the reply is late or was never asked for.
    pub fn on_locate_reply(
        &mut self,
        about: &NickFile,
        result: Result<Download, SearchError>,
    ) -> Option<Event> {
        let i = self.queue.iter().position(|r| match &r.kind {
            Kind::Locate(nf) => nf.nick.eq_ignore_ascii_case(&about.nick) && nf.name == about.name,
            Kind::Search { .. } => false,
        })?;
        let req = self.queue.remove(i)?;
        Some(Event::Located {
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
        let req = self.queue.pop_front()?;
        Some(failure(&req, SearchError::Refused(text)))
    }

    /// Answers every request whose deadline has passed with a timeout; expired locates
    /// are forgotten, expired searches wait for their 202.
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
        self.queue
            .retain(|r| !(r.expired && matches!(r.kind, Kind::Locate(_))));
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
        Kind::Locate(_) => Event::Located {
            request: req.id,
            result: Err(why),
        },
    }
}
