//! The probe: a task on the runner's own runtime that sleeps [`PERIOD`] again and again
//! and records how late it wakes, and the CPU counters at each phase's ends.
//!
//! Its timer is served by the same runtime and the same cores as every node of an
//! in-process run, so when it wakes late, so do the nodes' timers and reads: a search
//! then waits for a core as much as for the network. [`Probe::window`] closes one phase's
//! measurements and opens the next; [`crate::machine`] judges them.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::machine::{CpuTimes, MachineLoad};

/// How long the probe sleeps between wakes: a hundred wakes a second samples even a
/// one-second phase a hundred times, and costs the run nothing it would notice.
pub const PERIOD: Duration = Duration::from_millis(10);

/// The latest wake recorded, microseconds: one a minute late is saturation beyond doubt,
/// and later ones count as a minute.
const MAX_LATE_US: u64 = 60_000_000;

/// The probe; it stops when dropped.
pub struct Probe {
    window: Arc<Mutex<Window>>,
    task: JoinHandle<()>,
}

/// One phase's measurements so far.
struct Window {
    /// How late each wake was, microseconds.
    late: Histogram<u64>,
    /// The CPU counters when the window opened.
    cpu: Option<CpuTimes>,
}

impl Window {
    fn open() -> Window {
        Window {
            late: Histogram::new_with_bounds(1, MAX_LATE_US, 2)
                .unwrap_or_else(|e| unreachable!("constant bounds are valid: {e}")),
            cpu: CpuTimes::now(),
        }
    }
}

impl Probe {
    /// Starts the probe on the current tokio runtime.
    pub fn start() -> Probe {
        let window = Arc::new(Mutex::new(Window::open()));
        let shared = window.clone();
        let task = tokio::spawn(async move {
            loop {
                let asleep = Instant::now();
                tokio::time::sleep(PERIOD).await;
                let late = asleep.elapsed().saturating_sub(PERIOD).as_micros() as u64;
                let mut w = shared.lock().unwrap_or_else(PoisonError::into_inner);
                w.late.saturating_record(late.max(1));
            }
        });
        Probe { window, task }
    }

    /// What the probe saw since the last call (or its start), judged; a new window opens.
    pub fn window(&self) -> MachineLoad {
        let mut guard = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        let w = std::mem::replace(&mut *guard, Window::open());
        let shares = w.cpu.zip(guard.cpu).and_then(|(a, b)| a.shares(b));
        let ms = |us: u64| us as f64 / 1e3;
        MachineLoad {
            late_p50_ms: ms(w.late.value_at_quantile(0.50)),
            late_p99_ms: ms(w.late.value_at_quantile(0.99)),
            late_max_ms: ms(w.late.max()),
            wakes: w.late.len(),
            cpu_busy: shares.map(|s| s.0),
            cpu_own: shares.map(|s| s.1),
            saturated: false,
        }
        .judge()
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{PhaseReport, Report};

    /// How long the test keeps every core busy.
    const STARVE: Duration = Duration::from_millis(200);
    /// The most threads it spins, whatever the machine.
    const MAX_SPINNERS: usize = 8;

    /// Keeps this thread and one more per other core busy for [`STARVE`].
    fn spin_every_core() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let spin = || {
            let until = std::time::Instant::now() + STARVE;
            while std::time::Instant::now() < until {
                std::hint::spin_loop();
            }
        };
        std::thread::scope(|s| {
            for _ in 1..cores.min(MAX_SPINNERS) {
                s.spawn(spin);
            }
            spin();
        });
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_starved_probe_reports_late_timers_and_the_report_says_so() {
        let probe = Probe::start();
        tokio::time::sleep(PERIOD * 3).await;
        // The runtime's only thread spins with the others: the probe cannot wake until it
        // is done, so its next wake is at least STARVE - PERIOD late.
        spin_every_core();
        tokio::time::sleep(PERIOD * 3).await;
        let load = probe.window();
        let floor = (STARVE - PERIOD).as_secs_f64() * 1e3;
        assert!(load.late_max_ms >= floor * 0.99, "{load:?}");
        assert!(load.saturated, "{load:?}");
        if cfg!(target_os = "linux") {
            assert!(load.cpu_busy.is_some_and(|b| b > 0.5), "{load:?}");
        }
        let phase = PhaseReport {
            latency_ms: Some(crate::report::Latency {
                p50: 1.0,
                p95: 2.0,
                p99: 3.0,
                max: 4.0,
            }),
            queries: 1,
            machine: Some(load),
            ..PhaseReport::default()
        };
        let report = Report::for_test(1, crate::spec::Network::Chord, vec![phase]);
        let md = crate::markdown::tables(&report);
        assert!(md.contains("| 1.00 ⚠ |"), "{md}");
        assert!(md.contains("⚠ Saturated: timers fired up to"), "{md}");
    }
}
