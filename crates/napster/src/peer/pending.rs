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
//! - Questions about a user (browse, whois, ping) are answered by messages that name that
//!   user: 212, 210 and 213 for a browse, 604 or 605 for a whois, 752 for a ping. Each
//!   goes to the oldest question of its kind about that nick. A question that times out is
//!   answered and forgotten at once, as a locate is.
//! - A 404 carries only text. The two that OpenNap sends in answer to a question are
//!   matched by their words: `ping failed, <nick> is not online` ends the oldest ping of
//!   that nick, and `User is not currently online.` (which names nobody) the oldest whois.
//!   Any other 404 concerns the oldest request of any kind.
//!
//! At most [`MAX_REQUESTS_IN_FLIGHT`] requests wait at once, counting expired searches
//! still owed a 202; beyond it a new request is refused at once.

use std::collections::VecDeque;

use std::net::Ipv4Addr;

use p2plab_peer_protocol::{
    Answer, Download, Event, Hit, Holder, Instant, Question, RequestId, SearchError,
};

use crate::message::{FileInfo, NickFile};
use crate::server::NO_SUCH_USER;
use crate::{MAX_BROWSE_RESULTS, MAX_REQUESTS_IN_FLIGHT};

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
    /// A question about a user, with what has come of its answer so far.
    Ask(Asked),
}

/// A question waiting for its answer.
#[derive(Debug)]
enum Asked {
    /// 211 sent: the 212s so far, and whether a 210 said the user is not online.
    Browse {
        nick: String,
        files: Vec<FileInfo>,
        offline: bool,
    },
    /// 603 sent.
    Whois { nick: String },
    /// 751 sent.
    Ping { nick: String },
}

impl Asked {
    fn new(question: &Question) -> Self {
        let nick = question.nick().to_owned();
        match question {
            Question::Browse { .. } => Asked::Browse {
                nick,
                files: Vec::new(),
                offline: false,
            },
            Question::Whois { .. } => Asked::Whois { nick },
            Question::Ping { .. } => Asked::Ping { nick },
        }
    }
}

/// Which kind of question a reply answers, to find the oldest of that kind about its nick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Topic {
    Browse,
    Whois,
    Ping,
}

impl Kind {
    /// The question of `topic` about `nick` (in any case, as servers compare nicks).
    fn asks(&self, topic: Topic, about: &str) -> bool {
        let (t, nick) = match self {
            Kind::Ask(Asked::Browse { nick, .. }) => (Topic::Browse, nick),
            Kind::Ask(Asked::Whois { nick }) => (Topic::Whois, nick),
            Kind::Ask(Asked::Ping { nick }) => (Topic::Ping, nick),
            Kind::Search { .. } | Kind::Locate(_) => return false,
        };
        t == topic && nick.eq_ignore_ascii_case(about)
    }
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

    /// Waits for the answer to `question`.
    ///
    /// # Errors
    /// [`SearchError::Refused`] if [`MAX_REQUESTS_IN_FLIGHT`] requests wait already.
    pub fn push_ask(
        &mut self,
        id: RequestId,
        now: Instant,
        deadline: Instant,
        question: &Question,
    ) -> Result<(), SearchError> {
        self.push(id, now, deadline, Kind::Ask(Asked::new(question)))
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
            Kind::Search { .. } | Kind::Ask(_) => false,
        })?;
        let req = self.queue.remove(i)?;
        Some(Event::Located {
            request: req.id,
            result,
        })
    }

    /// The oldest question of `topic` about `nick`.
    fn oldest_ask(&self, topic: Topic, nick: &str) -> Option<usize> {
        self.queue.iter().position(|r| r.kind.asks(topic, nick))
    }

    /// A 212: one more file for the oldest browse of `nick`, kept while it has fewer than
    /// [`MAX_BROWSE_RESULTS`]. False if no browse of `nick` waits.
    pub fn on_browse_entry(&mut self, nick: &str, file: FileInfo) -> bool {
        let Some(i) = self.oldest_ask(Topic::Browse, nick) else {
            return false;
        };
        if let Kind::Ask(Asked::Browse { files, .. }) = &mut self.queue[i].kind {
            if files.len() < MAX_BROWSE_RESULTS {
                files.push(file);
            }
        }
        true
    }

    /// A 210: if a browse of `nick` waits, the user is not online (its 213 follows). False
    /// if none waits: a hotlist's signoff, or late.
    pub fn on_signoff(&mut self, nick: &str) -> bool {
        let Some(i) = self.oldest_ask(Topic::Browse, nick) else {
            return false;
        };
        if let Kind::Ask(Asked::Browse { offline, .. }) = &mut self.queue[i].kind {
            *offline = true;
        }
        true
    }

    /// A 213: the oldest browse of `nick` is over. Its files become hits on the address
    /// the 213 gives (unknown, 0.0.0.0, if it gives none); after a 210 it fails.
    pub fn on_browse_end(&mut self, nick: &str, ip: Option<Ipv4Addr>) -> Option<Event> {
        let i = self.oldest_ask(Topic::Browse, nick)?;
        let req = self.queue.remove(i)?;
        let Kind::Ask(Asked::Browse {
            nick,
            files,
            offline,
        }) = req.kind
        else {
            return None;
        };
        let result = if offline {
            Err(SearchError::Refused(format!("{nick} is not online")))
        } else {
            let ip = ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
            let hits = files
                .into_iter()
                .map(|file| Hit {
                    name: file.name,
                    size: file.size,
                    holder: Holder::Napster {
                        nick: nick.clone(),
                        ip,
                    },
                    hops: Some(1),
                    arrived: None,
                })
                .collect();
            Ok(Answer::Files { hits })
        };
        Some(Event::Answered {
            request: req.id,
            result,
        })
    }

    /// A 604, 605 or 752 about `nick`: the oldest question of `topic` about it is
    /// answered with what `answer` makes of the time it was asked. `None` if none waits.
    pub fn on_answer(
        &mut self,
        topic: Topic,
        nick: &str,
        answer: impl FnOnce(Instant) -> Answer,
    ) -> Option<Event> {
        let i = self.oldest_ask(topic, nick)?;
        let req = self.queue.remove(i)?;
        Some(Event::Answered {
            request: req.id,
            result: Ok(answer(req.started)),
        })
    }

    /// A 404: a question's error (see the module docs) ends that question; any other
    /// concerns the oldest request. A locate or question fails now; a search keeps the
    /// text and ends at its 202.
    pub fn on_error(&mut self, text: String) -> Option<Event> {
        let asked = match text.strip_prefix("ping failed, ") {
            Some(rest) => rest
                .strip_suffix(" is not online")
                .and_then(|nick| self.oldest_ask(Topic::Ping, nick)),
            None if text == NO_SUCH_USER => self
                .queue
                .iter()
                .position(|r| matches!(r.kind, Kind::Ask(Asked::Whois { .. }))),
            None => None,
        };
        if let Some(i) = asked {
            let req = self.queue.remove(i)?;
            return Some(failure(&req, SearchError::Refused(text)));
        }
        let front = self.queue.front_mut()?;
        if let Kind::Search { error, .. } = &mut front.kind {
            *error = Some(text);
            return None;
        }
        let req = self.queue.pop_front()?;
        Some(failure(&req, SearchError::Refused(text)))
    }

    /// Answers every request whose deadline has passed with a timeout; expired locates
    /// and questions are forgotten, expired searches wait for their 202.
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
            .retain(|r| !r.expired || matches!(r.kind, Kind::Search { .. }));
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
        Kind::Ask(_) => Event::Answered {
            request: req.id,
            result: Err(why),
        },
    }
}
