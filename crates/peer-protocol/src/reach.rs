//! Why a node cannot get into its network: how a connection ended, and the problem a node
//! reports while it cannot reach its index server, its bootstrap servents or its bootstrap
//! node.
//!
//! A driver knows how a connection ended — the dial was refused, nothing answered, the peer
//! closed it — and says so in [`Input::Closed`](crate::node::Input::Closed) as a
//! [`CloseReason`]. A core knows what the address it dialled was *for*. Together they make a
//! [`Problem`]: "cannot reach index server 127.0.0.1:8888: connection refused; retrying in
//! 2 s". The core keeps it in a [`Reach`], which logs a warning when the problem begins or
//! changes (not once per retry), an info line when it clears, and lends the problem to the
//! node's `stats` meanwhile ([`Node::problem`](crate::node::Node::problem)).
//!
//! Reporting changes nothing a node does: the same inputs give the same effects whether
//! or not anyone reads the problem.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::time::Instant;

/// How many failed addresses a problem names: a Gnutella servent may be given a long
/// bootstrap list, and a stats reply or a log line with hundreds of them says no more
/// than "none of them answered". The count of addresses tried is kept beside.
pub const MAX_ATTEMPTS_NAMED: usize = 8;

/// Why a connection ended or never came up, as the driver saw it.
///
/// The same situations give the same reason on real sockets and in the simulator: a dial
/// to an address where nothing listens (or to a crashed node) is [`Refused`]; a dial or a
/// link across a partition, or one that stopped carrying bytes, is [`TimedOut`]; a peer
/// that closed is [`PeerClosed`].
///
/// [`Refused`]: CloseReason::Refused
/// [`TimedOut`]: CloseReason::TimedOut
/// [`PeerClosed`]: CloseReason::PeerClosed
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// Nothing listens at the address: the dial was refused.
    Refused,
    /// Nothing answered in time: a dial, a write, or a link across a partition or a path
    /// that kept losing packets.
    TimedOut,
    /// The peer's side reset the connection.
    Reset,
    /// The peer closed the connection in good order.
    PeerClosed,
    /// No route to the address's host or network.
    Unreachable,
    /// The peer stopped reading and this node's send queue for it filled: the driver hung
    /// up.
    Stalled,
    /// The driver refused it before any byte went out: this node advertises a loopback
    /// address, and the peer is off loopback, so it would be told an address that leads
    /// back to its own machine (see [`crate::advertise::may_tell`]). Only real sockets
    /// give it: the simulator's nodes all advertise addresses they can be reached at.
    LoopbackOnly,
    /// Any other I/O error.
    Other,
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CloseReason::Refused => "connection refused",
            CloseReason::TimedOut => "timed out",
            CloseReason::Reset => "connection reset",
            CloseReason::PeerClosed => "closed by the peer",
            CloseReason::Unreachable => "no route to host",
            CloseReason::Stalled => "hung up: the peer stopped reading",
            CloseReason::LoopbackOnly => {
                "refused: this node advertises a loopback address, which that peer cannot reach"
            }
            CloseReason::Other => "connection failed",
        })
    }
}

/// Why one address did not let the node in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// The connection failed or ended, for the driver's reason.
    Closed(CloseReason),
    /// The connection came up but the peer never finished the exchange that lets the
    /// node in (a handshake, a login, a join's answer) within this many milliseconds.
    NoAnswer(u64),
    /// The peer answered in a way this node cannot use (for instance a Chord ring of
    /// another id width); the text says how.
    Incompatible(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Closed(reason) => reason.fmt(f),
            Failure::NoAnswer(ms) => write!(f, "no answer within {ms} ms"),
            Failure::Incompatible(why) => f.write_str(why),
        }
    }
}

/// One address tried, and why it failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// The address dialled.
    pub addr: SocketAddr,
    /// Why it did not let the node in.
    pub failure: Failure,
}

/// A node cannot reach the server or bootstrap it needs, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// What the node tried to reach: "index server", "bootstrap servent", "bootstrap node".
    pub what: String,
    /// The addresses tried, each with its failure (at most [`MAX_ATTEMPTS_NAMED`]).
    pub tried: Vec<Attempt>,
    /// How many addresses were tried, named or not.
    pub tried_count: usize,
    /// When the problem began, on the node's clock.
    pub since: Instant,
    /// How long the node waits before it tries again; `None` if it will not by itself.
    #[serde(default, with = "opt_millis")]
    pub retry_in: Option<Duration>,
}

impl Problem {
    /// The problem of one address: `what` at `addr` failed for `failure`.
    pub fn one(what: &str, addr: SocketAddr, failure: Failure, now: Instant) -> Self {
        Problem::many(what, vec![Attempt { addr, failure }], now)
    }

    /// The problem of several addresses, none of which let the node in; only the first
    /// [`MAX_ATTEMPTS_NAMED`] are kept by name.
    pub fn many(what: &str, mut tried: Vec<Attempt>, now: Instant) -> Self {
        let tried_count = tried.len();
        tried.truncate(MAX_ATTEMPTS_NAMED);
        Problem {
            what: what.to_owned(),
            tried,
            tried_count,
            since: now,
            retry_in: None,
        }
    }

    /// The same problem, with the node's next try `after` from now.
    #[must_use]
    pub fn retrying_in(mut self, after: Option<Duration>) -> Self {
        self.retry_in = after;
        self
    }

    /// True when `other` is the same problem, whenever it began: same target, same
    /// addresses, same failures.
    fn same_as(&self, other: &Problem) -> bool {
        self.what == other.what
            && self.tried == other.tried
            && self.tried_count == other.tried_count
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.tried.as_slice() {
            [one] if self.tried_count == 1 => {
                write!(
                    f,
                    "cannot reach {} {}: {}",
                    self.what, one.addr, one.failure
                )?;
            }
            tried => {
                write!(
                    f,
                    "cannot reach any of {} {}s:",
                    self.tried_count, self.what
                )?;
                for (i, a) in tried.iter().enumerate() {
                    let sep = if i == 0 { " " } else { ", " };
                    write!(f, "{sep}{} {}", a.addr, a.failure)?;
                }
                if self.tried_count > tried.len() {
                    write!(f, ", and {} more", self.tried_count - tried.len())?;
                }
            }
        }
        match self.retry_in {
            Some(after) => write!(f, "; retrying in {}", seconds(after)),
            None => Ok(()),
        }
    }
}

/// `2 s`, `0.5 s`: a wait as a person reads it.
fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

/// A core's record of whether it can reach its way in: the current [`Problem`], if any.
///
/// [`Reach::fail`] with the same problem again (the next retry failed the same way) keeps
/// its start and logs nothing; a new or changed problem logs one warning; [`Reach::clear`]
/// logs how it ended, once.
#[derive(Debug, Default)]
pub struct Reach {
    problem: Option<Problem>,
}

impl Reach {
    /// The problem while it lasts.
    pub fn problem(&self) -> Option<&Problem> {
        self.problem.as_ref()
    }

    /// The node failed to get in: records `problem`, warning if it is new or different.
    pub fn fail(&mut self, problem: Problem) {
        match &mut self.problem {
            Some(old) if old.same_as(&problem) => old.retry_in = problem.retry_in,
            _ => {
                tracing::warn!("{problem}");
                self.problem = Some(problem);
            }
        }
    }

    /// The node got in: clears the problem, saying so (`how`: "logged in to the index
    /// server 10.0.0.1:8888") if there was one.
    pub fn clear(&mut self, how: impl fmt::Display) {
        if self.problem.take().is_some() {
            tracing::info!("{how}");
        }
    }
}

/// `Option<Duration>` as whole milliseconds in JSON (`retry_in: 2000`).
mod opt_millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn one_address_reads_as_one_sentence_with_its_retry() {
        let p = Problem::one(
            "index server",
            addr(1234),
            Failure::Closed(CloseReason::Refused),
            Instant::ZERO,
        )
        .retrying_in(Some(Duration::from_secs(2)));
        assert_eq!(
            p.to_string(),
            "cannot reach index server 127.0.0.1:1234: connection refused; retrying in 2 s"
        );
    }

    #[test]
    fn many_addresses_name_each_reason_and_count_the_rest() {
        let tried = (1..=10)
            .map(|port| Attempt {
                addr: addr(port),
                failure: Failure::Closed(if port == 2 {
                    CloseReason::TimedOut
                } else {
                    CloseReason::Refused
                }),
            })
            .collect();
        let p = Problem::many("bootstrap servent", tried, Instant::ZERO);
        assert_eq!(p.tried.len(), MAX_ATTEMPTS_NAMED);
        let text = p.to_string();
        assert!(
            text.starts_with(
                "cannot reach any of 10 bootstrap servents: 127.0.0.1:1 connection refused, \
                 127.0.0.1:2 timed out, 127.0.0.1:3"
            ),
            "{text}"
        );
        assert!(text.ends_with(", and 2 more"), "{text}");
    }

    #[test]
    fn the_same_failure_again_keeps_its_start_and_a_new_one_replaces_it() {
        let refused = |at| {
            Problem::one(
                "bootstrap node",
                addr(7000),
                Failure::Closed(CloseReason::Refused),
                Instant::from_micros(at),
            )
        };
        let mut reach = Reach::default();
        reach.fail(refused(1));
        reach.fail(refused(5).retrying_in(Some(Duration::from_secs(1))));
        let p = reach.problem().cloned();
        assert_eq!(p.as_ref().map(|p| p.since), Some(Instant::from_micros(1)));
        assert_eq!(p.and_then(|p| p.retry_in), Some(Duration::from_secs(1)));
        let other = Problem::one(
            "bootstrap node",
            addr(7000),
            Failure::NoAnswer(500),
            Instant::from_micros(9),
        );
        reach.fail(other.clone());
        assert_eq!(reach.problem(), Some(&other));
        reach.clear("joined");
        assert_eq!(reach.problem(), None);
    }

    #[test]
    fn a_problem_travels_as_json_with_its_wait_in_milliseconds() {
        let p = Problem::one(
            "index server",
            addr(1),
            Failure::Closed(CloseReason::Refused),
            Instant::from_micros(3),
        )
        .retrying_in(Some(Duration::from_millis(2500)));
        let json = serde_json::to_value(&p).unwrap_or_default();
        assert_eq!(json["retry_in"], 2500);
        assert_eq!(json["tried"][0]["failure"]["closed"], "refused");
        let back: Problem = serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, p);
    }
}
