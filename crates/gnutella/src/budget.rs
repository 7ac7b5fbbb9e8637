//! Counting events in fixed windows of time: the counter behind each connection's Ping and
//! Query budgets.
//!
//! A window opens with the first event after the previous one has run its length, and
//! holds `limit` events; the rest of that window's events are refused. Fixed windows let a
//! neighbour send up to twice the limit across a window boundary — good enough for a
//! budget sized far above honest traffic, and it costs one instant and one count per
//! budget, which matters for a servent with many connections in a simulation of thousands.

use std::time::Duration;

use p2plab_peer_protocol::Instant;

/// Events counted in the current window.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct WindowCount {
    /// When the current window opened.
    start: Instant,
    /// Events seen in it, the refused ones included.
    count: u32,
}

impl WindowCount {
    /// Counts one event at `now`, opening a new window if `window` has passed since the
    /// current one opened. True while the window has seen at most `limit` events.
    pub(crate) fn admit(&mut self, now: Instant, window: Duration, limit: u32) -> bool {
        if now.saturating_since(self.start) >= window {
            *self = WindowCount {
                start: now,
                count: 0,
            };
        }
        self.count = self.count.saturating_add(1);
        self.count <= limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_holds_its_limit_and_the_next_starts_afresh() {
        let window = Duration::from_secs(1);
        let at = |ms| Instant::ZERO + Duration::from_millis(ms);
        let mut c = WindowCount::default();
        assert!(c.admit(at(0), window, 2));
        assert!(c.admit(at(500), window, 2));
        assert!(!c.admit(at(999), window, 2), "the third in one window");
        assert!(c.admit(at(1_000), window, 2), "a new window");
        assert!(c.admit(at(1_999), window, 2));
        assert!(!c.admit(at(1_999), window, 2));
    }
}
