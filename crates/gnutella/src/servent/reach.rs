//! Saying why a servent has no way into the overlay: none of the servents it dialled
//! finished a handshake.
//!
//! A dialled connection that ends before its handshake is done is an address that did not
//! answer, and why: the dial was refused or timed out, the servent closed on us, refused
//! the handshake, or never finished it. Once nothing is open or under way any more — every
//! dial of the round failed — the servent reports them all as one [`Problem`] ("cannot
//! reach any of 3 bootstrap servents: ..."), and dials again at the next round. The first
//! handshake that completes clears it.

use std::net::SocketAddr;

use p2plab_peer_protocol::reach::{Attempt, MAX_ATTEMPTS_NAMED};
use p2plab_peer_protocol::{Failure, Instant, Problem};

use super::{Servent, Timer};

/// The addresses of this round of dials that did not answer.
#[derive(Debug, Default)]
pub(super) struct Unanswered {
    /// The first [`MAX_ATTEMPTS_NAMED`] addresses, each with its latest failure.
    named: Vec<Attempt>,
    /// How many failures the round has seen, named or not.
    count: usize,
}

impl Servent {
    /// A connection dialled to `addr` ended before its handshake finished, for `failure`.
    pub(super) fn unanswered(&mut self, addr: SocketAddr, failure: Failure) {
        let round = &mut self.unanswered;
        if let Some(seen) = round.named.iter_mut().find(|a| a.addr == addr) {
            seen.failure = failure;
            return;
        }
        round.count += 1;
        if round.named.len() < MAX_ATTEMPTS_NAMED {
            round.named.push(Attempt { addr, failure });
        }
    }

    /// After a connection ended: when nothing is left open or under way and dials failed,
    /// none of the addresses answered — report them, and start a new round.
    pub(super) fn check_reach(&mut self, now: Instant) {
        if !self.conns.is_empty() || self.unanswered.count == 0 || self.left {
            return;
        }
        let round = std::mem::take(&mut self.unanswered);
        let all_bootstrap = round
            .named
            .iter()
            .all(|a| self.config.bootstrap.contains(&a.addr));
        let what = if all_bootstrap {
            "bootstrap servent"
        } else {
            "known servent"
        };
        let mut problem = Problem::many(what, round.named, now);
        problem.tried_count = round.count;
        let retry = self
            .timers
            .get(Timer::Dial)
            .map(|t| t.saturating_since(now));
        self.reach.fail(problem.retrying_in(retry));
    }

    /// After every input: a servent with a neighbour again has no problem.
    pub(super) fn clear_reach(&mut self) {
        if self.reach.problem().is_none() && self.unanswered.count == 0 {
            return;
        }
        let Some(addr) = self.neighbours().first().copied() else {
            return;
        };
        self.unanswered = Unanswered::default();
        self.reach
            .clear(format_args!("joined the Gnutella overlay via {addr}"));
    }
}
