//! A progress bar for long simulations: simulated time, events delivered, events per second.
//!
//! A run of 100,000 Chord nodes takes minutes of wall time for hours of simulated time; the
//! bar shows how far the simulated clock is and how fast the engine goes. It is drawn on
//! standard error only when that is a terminal, so logs and piped output stay clean.
//!
//! Experiments either call [`Progress::tick`] now and then (every few thousand events is
//! plenty: the bar redraws at most [`REDRAWS_PER_SECOND`] times a second), or hand the whole
//! run to [`drive`], which advances a [`TestNet`] in slices and ticks between them.
//! [`Progress::finish`] returns the run's [`RunStats`], measured on the wall clock, for the
//! experiment to report.

use std::time::{Duration, Instant as WallInstant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use p2plab_netsim::TestNet;
use p2plab_peer_protocol::{Instant, Node};
use serde::{Deserialize, Serialize};

/// How often the bar may redraw: often enough to look alive, rarely enough to cost nothing.
pub const REDRAWS_PER_SECOND: u8 = 10;

/// [`drive`] advances the network in this many slices of simulated time, ticking after each.
const SLICES: u32 = 500;

/// What a finished run measured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RunStats {
    /// Inputs the engine delivered to cores (messages, timers, connection changes).
    pub events: u64,
    /// Simulated time covered.
    pub simulated: Duration,
    /// Wall-clock time it took.
    pub wall: Duration,
}

impl RunStats {
    /// Adds another run's work to this one's.
    pub fn add(&mut self, other: RunStats) {
        self.events += other.events;
        self.simulated += other.simulated;
        self.wall += other.wall;
    }

    /// Events delivered per wall-clock second.
    pub fn events_per_second(&self) -> f64 {
        self.events as f64 / self.wall.as_secs_f64().max(f64::MIN_POSITIVE)
    }
}

/// A progress bar over simulated time. See the [module docs](self).
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    /// Simulated time at which the bar started.
    from: Instant,
    /// Engine event count at which the bar started.
    first_events: u64,
    started: WallInstant,
    last: (Instant, u64),
}

impl Progress {
    /// A bar labelled `label` that fills as simulated time goes from `from` to `until`.
    pub fn new(label: &str, from: Instant, until: Instant, events: u64) -> Self {
        let target = ProgressDrawTarget::stderr_with_hz(REDRAWS_PER_SECOND);
        let span_ms = until.saturating_since(from).as_millis();
        let bar =
            ProgressBar::with_draw_target(Some(u64::try_from(span_ms).unwrap_or(u64::MAX)), target);
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(label.to_owned());
        Progress {
            bar,
            from,
            first_events: events,
            started: WallInstant::now(),
            last: (from, events),
        }
    }

    /// Tells the bar the simulated clock reads `now` and the engine has delivered `events`.
    pub fn tick(&mut self, now: Instant, events: u64) {
        self.last = (now, events);
        if self.bar.is_hidden() {
            return;
        }
        let stats = self.stats();
        self.bar
            .set_position(u64::try_from(stats.simulated.as_millis()).unwrap_or(u64::MAX));
        self.bar.set_message(format!(
            "sim {:.1} s, {} events, {:.2} M events/s",
            stats.simulated.as_secs_f64(),
            stats.events,
            stats.events_per_second() / 1e6
        ));
    }

    /// What the run measured up to the last tick.
    pub fn stats(&self) -> RunStats {
        let (now, events) = self.last;
        RunStats {
            events: events - self.first_events,
            simulated: now.saturating_since(self.from),
            wall: self.started.elapsed(),
        }
    }

    /// Clears the bar and returns what the run measured.
    pub fn finish(self) -> RunStats {
        self.bar.finish_and_clear();
        self.stats()
    }
}

/// Runs `net` until simulated time `until`, showing a bar labelled `label`.
pub fn drive<N: Node>(net: &mut TestNet<N>, until: Instant, label: &str) -> RunStats {
    let from = net.now();
    let mut progress = Progress::new(label, from, until, net.events());
    let span = until.saturating_since(from);
    for slice in 1..=SLICES {
        net.run_until(from + span * slice / SLICES);
        progress.tick(net.now(), net.events());
    }
    progress.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_count_from_the_start_of_the_bar() {
        let start = Instant::ZERO + Duration::from_secs(10);
        let mut progress = Progress::new("test", start, start + Duration::from_secs(60), 1_000);
        progress.tick(start + Duration::from_secs(30), 4_000);
        let stats = progress.finish();
        assert_eq!(stats.events, 3_000);
        assert_eq!(stats.simulated, Duration::from_secs(30));
        assert!(stats.events_per_second() > 0.0);
    }
}
