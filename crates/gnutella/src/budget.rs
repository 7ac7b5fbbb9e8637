//! The counter behind each connection's Ping and Query budgets: events counted per fixed
//! window ([`FixedWindow`]), those past the limit refused.

use std::time::Duration;

use p2plab_peer_protocol::time::FixedWindow;
use p2plab_peer_protocol::Instant;

/// Events counted in the current window, the refused ones included.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct WindowCount(FixedWindow<u32>);

impl WindowCount {
    /// Counts one event at `now`, opening a new window if `window` has passed since the
    /// current one opened. True while the window has seen at most `limit` events.
    pub(crate) fn admit(&mut self, now: Instant, window: Duration, limit: u32) -> bool {
        let count = self.0.at(now, window);
        *count = count.saturating_add(1);
        *count <= limit
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
