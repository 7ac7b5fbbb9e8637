//! How busy the machine was during a phase of a real-socket run, and whether that makes
//! the phase's latencies a measure of the machine rather than of the protocol.
//!
//! Real nodes on two cores share them with the runner, the other networks and anything
//! else the machine runs. When the cores are full, a message waits for a core before it is
//! read, and a timer fires late: a search that takes 0.6 ms on a quiet machine takes a
//! second on a loaded one, and Chord, whose maintenance timers are the busiest, looks
//! the slowest for it. Two measurements tell: how late a timer of the runner's own
//! runtime wakes (see [`crate::sockets::probe`]), and how much of the CPU was in use, by
//! everyone and by this process with its children. A phase over either
//! threshold is **saturated**: its latencies are marked and the report says why.
//!
//! The simulator never is: its time is virtual and its latencies follow the scenario's
//! model.

use serde::{Deserialize, Serialize};

use crate::report::{PhaseReport, Report};

/// Timer lateness at the 99th percentile above which a phase is saturated, milliseconds.
/// tokio's timers tick by the millisecond, so a quiet machine wakes within 1–2 ms;
/// loopback searches take well under a millisecond to a few milliseconds, so once one
/// wake in a hundred is 5 ms late the queue for a core is as long as the searches
/// themselves, and their latency is mostly that wait.
pub const LATE_P99_LIMIT_MS: f64 = 5.0;

/// Share of the whole machine's CPU time in use above which a phase is saturated: with
/// under 5% idle, every wake-up waits for a core, however small the run itself is.
pub const BUSY_LIMIT: f64 = 0.95;

/// What the probe saw over one phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct MachineLoad {
    /// How late the probe's timer woke: median, milliseconds.
    pub late_p50_ms: f64,
    /// 99th percentile, milliseconds.
    pub late_p99_ms: f64,
    /// Latest, milliseconds.
    pub late_max_ms: f64,
    /// Wake-ups measured.
    pub wakes: u64,
    /// Share of the machine's CPU time (all cores) in use, from `/proc/stat`; absent off
    /// Linux.
    pub cpu_busy: Option<f64>,
    /// Share of it used by this process and the children it has reaped (all cores'
    /// time counts; 1.0 is every core), from `/proc/self/stat`; absent off Linux.
    pub cpu_own: Option<f64>,
    /// Whether the phase's latencies measure the machine: over [`LATE_P99_LIMIT_MS`] or
    /// [`BUSY_LIMIT`].
    pub saturated: bool,
}

impl MachineLoad {
    /// Decides [`MachineLoad::saturated`] from the measurements.
    pub fn judge(mut self) -> MachineLoad {
        self.saturated =
            self.late_p99_ms > LATE_P99_LIMIT_MS || self.cpu_busy.is_some_and(|b| b > BUSY_LIMIT);
        self
    }
}

/// The CPU counters of one moment, in the kernel's clock ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTimes {
    /// All cores' time, busy or idle.
    total: u64,
    /// Of it, idle or waiting for I/O.
    idle: u64,
    /// This process's user and system time, and that of its reaped children.
    own: u64,
}

impl CpuTimes {
    /// The counters now, from `/proc`; `None` off Linux.
    pub fn now() -> Option<CpuTimes> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let own = std::fs::read_to_string("/proc/self/stat").ok()?;
        CpuTimes::parse(&stat, &own)
    }

    /// The counters from the texts of `/proc/stat` and `/proc/<pid>/stat`.
    fn parse(stat: &str, own: &str) -> Option<CpuTimes> {
        // "cpu  user nice system idle iowait irq softirq steal guest guest_nice"; guest
        // time is already inside user, so the first eight fields are the whole.
        let cpu = stat.lines().find(|l| l.starts_with("cpu "))?;
        let f: Vec<u64> = cpu
            .split_whitespace()
            .skip(1)
            .take(8)
            .map(str::parse)
            .collect::<Result<_, _>>()
            .ok()?;
        // The command name in brackets may hold spaces; fields count from after it.
        // utime, stime, cutime, cstime are fields 14–17, the 12th–15th after the name.
        let after = own.get(own.rfind(')')? + 1..)?;
        let p: Vec<u64> = after
            .split_whitespace()
            .skip(11)
            .take(4)
            .map(str::parse)
            .collect::<Result<_, _>>()
            .ok()?;
        (f.len() >= 5 && p.len() == 4).then(|| CpuTimes {
            total: f.iter().sum(),
            idle: f[3] + f[4],
            own: p.iter().sum(),
        })
    }

    /// Shares of the machine busy, and used by this process, from `self` to `later`.
    pub fn shares(self, later: CpuTimes) -> Option<(f64, f64)> {
        let total = later.total.checked_sub(self.total).filter(|&t| t > 0)? as f64;
        let idle = later.idle.saturating_sub(self.idle) as f64;
        let own = later.own.saturating_sub(self.own) as f64;
        Some((
            (1.0 - idle / total).clamp(0.0, 1.0),
            (own / total).clamp(0.0, 1.0),
        ))
    }
}

/// The line under the tables when a phase was saturated, or nothing.
pub fn warning(report: &Report) -> Option<String> {
    let saturated: Vec<MachineLoad> = report
        .runs
        .iter()
        .flat_map(|r| &r.networks)
        .flat_map(|n| &n.phases)
        .filter_map(|p| p.machine.filter(|m| m.saturated))
        .collect();
    let late = saturated.iter().map(|m| m.late_max_ms).reduce(f64::max)?;
    let most = |f: fn(&MachineLoad) -> Option<f64>| saturated.iter().filter_map(f).reduce(f64::max);
    let busy = most(|m| m.cpu_busy).map_or_else(String::new, |b| {
        let own = most(|m| m.cpu_own).map_or_else(String::new, |o| {
            format!(", this run's own share at most {:.0}%", o * 100.0)
        });
        format!(" and the CPU was up to {:.0}% busy{own}", b * 100.0)
    });
    Some(format!(
        "⚠ Saturated: timers fired up to {late:.0} ms late{busy}: latencies in the phases \
         marked ⚠ measure the machine, not the protocol (thresholds: p99 lateness over \
         {LATE_P99_LIMIT_MS} ms or the CPU over {:.0}% busy).\n",
        BUSY_LIMIT * 100.0
    ))
}

/// The mark beside a latency of phase `p`: "⚠" if it was saturated.
pub fn mark(p: &PhaseReport) -> &'static str {
    if p.machine.is_some_and(|m| m.saturated) {
        " ⚠"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturation_is_late_timers_or_a_full_cpu() {
        let quiet = MachineLoad {
            late_p99_ms: 1.2,
            cpu_busy: Some(0.6),
            ..MachineLoad::default()
        };
        assert!(!quiet.judge().saturated);
        let late = MachineLoad {
            late_p99_ms: 40.0,
            ..quiet
        };
        assert!(late.judge().saturated);
        let full = MachineLoad {
            cpu_busy: Some(0.99),
            ..quiet
        };
        assert!(full.judge().saturated);
        // Off Linux there is no CPU figure: lateness alone decides.
        let blind = MachineLoad {
            cpu_busy: None,
            ..quiet
        };
        assert!(!blind.judge().saturated);
    }

    #[test]
    fn cpu_shares_come_from_proc() {
        let stat = |user: u64, idle: u64| {
            format!("cpu  {user} 0 0 {idle} 0 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n")
        };
        // pid (name with spaces) state ppid ... utime stime cutime cstime.
        let own = |t: u64| format!("42 (p2p lab) R 1 1 1 0 -1 0 0 0 0 0 {t} 0 0 0 20 0");
        let before = CpuTimes::parse(&stat(100, 100), &own(10)).unwrap();
        let after = CpuTimes::parse(&stat(250, 150), &own(70)).unwrap();
        // 200 ticks passed, 50 idle: 75% busy; this process used 60 of them.
        assert_eq!(before.shares(after), Some((0.75, 0.3)));
        assert_eq!(before.shares(before), None);
        assert_eq!(CpuTimes::parse("cpu  x", &own(1)), None);
    }

    #[test]
    fn a_saturated_phase_is_marked_and_explained() {
        let load = MachineLoad {
            late_max_ms: 180.0,
            late_p99_ms: 150.0,
            cpu_busy: Some(1.0),
            cpu_own: Some(0.2),
            ..MachineLoad::default()
        };
        let phase = PhaseReport {
            machine: Some(load.judge()),
            ..PhaseReport::default()
        };
        assert_eq!(mark(&phase), " ⚠");
        let report = Report::for_test(1, crate::spec::Network::Chord, vec![phase]);
        let line = warning(&report).unwrap();
        assert!(
            line.contains(
                "timers fired up to 180 ms late and the CPU was up to 100% busy, this run's own \
                 share at most 20%:"
            ),
            "{line}"
        );
        let quiet = Report::for_test(1, crate::spec::Network::Chord, vec![PhaseReport::default()]);
        assert_eq!(warning(&quiet), None);
        assert_eq!(mark(&quiet.runs[0].networks[0].phases[0]), "");
    }
}
