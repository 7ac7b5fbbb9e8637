//! The clock a transfer core is handed: [`Instant`]s since the transfer began, and back.
//!
//! Transfer cores never read a clock; the loops that pump them keep one of these and convert
//! both ways: `now` for each input, and the core's deadline into a tokio instant to sleep to.
//! It reads tokio's clock, so tests that pause tokio's time move it too.

use std::future::Future;
use std::time::Duration;

use p2plab_peer_protocol::Instant;

/// A transfer's clock, started when the transfer began.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    epoch: tokio::time::Instant,
}

impl Clock {
    /// A clock whose zero is now.
    pub(crate) fn start() -> Self {
        Clock {
            epoch: tokio::time::Instant::now(),
        }
    }

    /// Now, on this clock.
    pub(crate) fn now(&self) -> Instant {
        let elapsed = self.epoch.elapsed().as_micros();
        Instant::from_micros(u64::try_from(elapsed).unwrap_or(u64::MAX))
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
        let at = self.epoch + Duration::from_micros(deadline.as_micros());
        tokio::time::timeout_at(at, step).await.ok()
    }
}
