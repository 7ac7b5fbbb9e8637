//! The clock a core is handed: [`Instant`]s since its driver (or its transfer, or its
//! scenario run) began, and back.
//!
//! Cores never read a clock; whatever pumps them keeps one of these and converts both ways:
//! `now` for each input, and the core's deadline into a tokio instant to sleep to. It reads
//! tokio's clock, so tests that pause tokio's time move it too.

use std::future::Future;
use std::time::Duration;

use p2plab_peer_protocol::Instant;

/// A clock whose zero is when it was started.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    epoch: tokio::time::Instant,
}

impl Clock {
    /// A clock whose zero is now.
    pub fn start() -> Self {
        Clock {
            epoch: tokio::time::Instant::now(),
        }
    }

    /// Now, on this clock.
    pub fn now(&self) -> Instant {
        let elapsed = self.epoch.elapsed().as_micros();
        Instant::from_micros(u64::try_from(elapsed).unwrap_or(u64::MAX))
    }

    /// The tokio instant `t` (on this clock) is.
    pub fn at(&self, t: Instant) -> tokio::time::Instant {
        self.epoch + Duration::from_micros(t.as_micros())
    }

    /// Runs `step` until it ends or `deadline` (on this clock) passes: `None` then.
    pub(crate) async fn until<F: Future>(
        &self,
        deadline: Option<Instant>,
        step: F,
    ) -> Option<F::Output> {
        let Some(deadline) = deadline else {
            return Some(step.await);
        };
        tokio::time::timeout_at(self.at(deadline), step).await.ok()
    }
}
