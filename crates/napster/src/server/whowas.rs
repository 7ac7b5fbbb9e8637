//! The users who left, and when: what a whois (603) of someone offline is answered with
//! (605 whowas).
//!
//! OpenNap answers whowas from its database of registered nicks; p2plab registers nobody,
//! so the server remembers each user as it leaves instead, at most
//! [`MAX_WHOWAS`](crate::MAX_WHOWAS) of them. Past the cap the one that left longest ago is
//! forgotten. Departures come in time order, so a queue holds them oldest first; a nick
//! that leaves again moves to the back (its older place in the queue is skipped once it
//! reaches the front, and such stale places are swept out once they make the queue twice
//! the cap).

use std::collections::{HashMap, VecDeque};

use p2plab_peer_protocol::Instant;

/// The remembered departures.
#[derive(Debug)]
pub(super) struct Whowas {
    max: usize,
    /// When each remembered nick left.
    left: HashMap<String, Instant>,
    /// Departures oldest first; an entry whose instant is not the nick's in `left` is an
    /// older departure of a nick that left again.
    order: VecDeque<(Instant, String)>,
}

impl Whowas {
    pub(super) fn new(max: usize) -> Self {
        Whowas {
            max,
            left: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// `nick` left at `at`, which is no earlier than any departure before it.
    pub(super) fn record(&mut self, nick: &str, at: Instant) {
        self.left.insert(nick.to_owned(), at);
        self.order.push_back((at, nick.to_owned()));
        while self.left.len() > self.max {
            let Some((when, oldest)) = self.order.pop_front() else {
                break;
            };
            if self.left.get(&oldest) == Some(&when) {
                self.left.remove(&oldest);
            }
        }
        if self.order.len() > 2 * self.max {
            let left = &self.left;
            self.order
                .retain(|(when, nick)| left.get(nick) == Some(when));
        }
    }

    /// When `nick` last left, if it is remembered.
    pub(super) fn last_seen(&self, nick: &str) -> Option<Instant> {
        self.left.get(nick).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_departure_is_forgotten_first_and_leaving_again_renews_a_nick() {
        let at = Instant::from_micros;
        let mut w = Whowas::new(2);
        w.record("a", at(1));
        w.record("b", at(2));
        w.record("a", at(3));
        w.record("c", at(4));
        assert_eq!(w.last_seen("b"), None, "b left longest ago");
        assert_eq!(w.last_seen("a"), Some(at(3)), "a's second departure counts");
        assert_eq!(w.last_seen("c"), Some(at(4)));
        for i in 5..50 {
            w.record("a", at(i));
        }
        assert!(w.order.len() <= 4, "stale places do not pile up");
        assert_eq!(w.last_seen("a"), Some(at(49)));
        assert_eq!(
            w.last_seen("c"),
            Some(at(4)),
            "sweeping keeps what is current"
        );
    }
}
