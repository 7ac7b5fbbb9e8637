//! What dialling each address has taught the servent: which handshake to speak to it, and
//! how long to leave it alone after it turned a dial away.
//!
//! A servent dials with the 0.6 handshake. A peer that refuses it — closes without a word or
//! answers anything but `200` — may be a 0.4 servent, so the next dial to it speaks 0.4; a
//! 0.4 handshake that then succeeds marks the address as 0.4 for good, and one that fails
//! too sends the next dial back to 0.6 (a busy 0.6 servent refuses both).
//!
//! Every refusal — a close before any answer, or a 4xx/5xx — also backs the address off:
//! [`DIAL_RETRY`] after the first, doubling each time up to [`MAX_DIAL_BACKOFF`], or longer
//! if the peer sent a `Retry-After` (at most [`MAX_RETRY_AFTER`]). Servents ban what dials
//! them too fast (gtk-gnutella: `429 Banned for 5m` after three dials two seconds apart), so
//! a refused dial must not come back at the servent's steady retry rate. A handshake that
//! succeeds forgets the failures.
//!
//! The memory is bounded ([`MAX_DIAL_MEMORY`] addresses); when it is full, the address whose
//! back-off ends first goes.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use p2plab_peer_protocol::Instant;

use crate::{DIAL_RETRY, MAX_DIAL_BACKOFF, MAX_DIAL_MEMORY, MAX_RETRY_AFTER};

/// The handshake a dial speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `GNUTELLA CONNECT/0.6`, three blocks.
    V06,
    /// `GNUTELLA CONNECT/0.4`, for a peer that refused 0.6.
    V04,
}

/// What one address taught us.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Speak 0.4 to it next time.
    legacy: bool,
    /// Refusals since its last successful handshake.
    refusals: u32,
    /// No dial before this.
    not_before: Instant,
}

/// Per address: the handshake to speak and the back-off, for at most [`MAX_DIAL_MEMORY`]
/// addresses.
#[derive(Debug, Default)]
pub struct DialMemory {
    entries: BTreeMap<SocketAddr, Entry>,
}

impl DialMemory {
    /// The handshake to speak to `addr`: 0.6 unless it refused 0.6 and not yet 0.4.
    pub fn version(&self, addr: SocketAddr) -> Version {
        match self.entries.get(&addr) {
            Some(e) if e.legacy => Version::V04,
            _ => Version::V06,
        }
    }

    /// Whether `addr` may be dialled at `now`: not while it is backed off.
    pub fn may_dial(&self, addr: SocketAddr, now: Instant) -> bool {
        self.entries.get(&addr).is_none_or(|e| e.not_before <= now)
    }

    /// `addr` refused a dial that spoke `version` (closed without answering, or answered
    /// with a refusal, asking to wait `retry_after` if it said).
    pub fn refused(
        &mut self,
        now: Instant,
        addr: SocketAddr,
        version: Version,
        retry_after: Option<Duration>,
    ) {
        let asked = retry_after.map_or(Duration::ZERO, |d| d.min(MAX_RETRY_AFTER));
        self.back_off(now, addr, asked).legacy = version == Version::V06;
    }

    /// `addr` could not be reached at all: nothing listens there (yet), or no route. The
    /// dial waits as after a refusal, but no handshake was heard, so none is to blame: the
    /// next dial speaks the same version (a servent started a moment before its peer is
    /// not taken for a 0.4 one).
    pub fn unreachable(&mut self, now: Instant, addr: SocketAddr) {
        self.back_off(now, addr, Duration::ZERO);
    }

    /// Counts one more failed dial of `addr` and waits before the next (at least `asked`).
    fn back_off(&mut self, now: Instant, addr: SocketAddr, asked: Duration) -> &mut Entry {
        if !self.entries.contains_key(&addr) && self.entries.len() >= MAX_DIAL_MEMORY {
            self.evict();
        }
        let entry = self.entries.entry(addr).or_insert(Entry {
            legacy: false,
            refusals: 0,
            not_before: now,
        });
        entry.refusals = entry.refusals.saturating_add(1);
        entry.not_before = now + backoff(entry.refusals).max(asked);
        entry
    }

    /// A handshake with `addr` speaking `version` succeeded: its failures are forgotten, and
    /// a 0.4 servent is remembered as one.
    pub fn succeeded(&mut self, now: Instant, addr: SocketAddr, version: Version) {
        match version {
            Version::V06 => {
                self.entries.remove(&addr);
            }
            Version::V04 => {
                if !self.entries.contains_key(&addr) && self.entries.len() >= MAX_DIAL_MEMORY {
                    self.evict();
                }
                let entry = Entry {
                    legacy: true,
                    refusals: 0,
                    not_before: now,
                };
                self.entries.insert(addr, entry);
            }
        }
    }

    /// Forgets the address whose back-off ends first (the smallest address among equals).
    fn evict(&mut self) {
        let first = self
            .entries
            .iter()
            .min_by_key(|(addr, e)| (e.not_before, **addr))
            .map(|(addr, _)| *addr);
        if let Some(addr) = first {
            self.entries.remove(&addr);
        }
    }
}

/// The wait after the `refusals`-th refusal in a row: [`DIAL_RETRY`], doubled each time,
/// at most [`MAX_DIAL_BACKOFF`].
pub fn backoff(refusals: u32) -> Duration {
    let doublings = refusals.saturating_sub(1).min(16);
    DIAL_RETRY
        .saturating_mul(1 << doublings)
        .min(MAX_DIAL_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(i: u8) -> SocketAddr {
        SocketAddr::from(([10, 0, 0, i], 6346))
    }

    #[test]
    fn refusals_double_the_wait_up_to_the_cap() {
        let waits: Vec<u64> = (1..=10).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(backoff(u32::MAX), MAX_DIAL_BACKOFF);
    }

    #[test]
    fn a_refused_06_falls_back_to_04_and_a_failed_04_goes_back_to_06() {
        let mut m = DialMemory::default();
        let t0 = Instant::ZERO;
        assert_eq!(m.version(addr(1)), Version::V06);
        m.refused(t0, addr(1), Version::V06, None);
        assert_eq!(m.version(addr(1)), Version::V04);
        assert!(!m.may_dial(addr(1), t0 + Duration::from_secs(1)));
        assert!(m.may_dial(addr(1), t0 + DIAL_RETRY));
        m.refused(t0 + DIAL_RETRY, addr(1), Version::V04, None);
        assert_eq!(m.version(addr(1)), Version::V06);
        assert!(!m.may_dial(addr(1), t0 + DIAL_RETRY * 2));
        m.succeeded(t0, addr(2), Version::V04);
        assert_eq!(m.version(addr(2)), Version::V04, "a 0.4 servent stays 0.4");
        m.succeeded(t0, addr(1), Version::V06);
        assert!(m.may_dial(addr(1), t0) && m.version(addr(1)) == Version::V06);
    }

    #[test]
    fn an_address_where_nothing_listens_is_waited_for_and_keeps_its_version() {
        let mut m = DialMemory::default();
        let t0 = Instant::ZERO;
        m.unreachable(t0, addr(1));
        assert_eq!(m.version(addr(1)), Version::V06, "no handshake was refused");
        assert!(!m.may_dial(addr(1), t0 + Duration::from_secs(1)));
        assert!(m.may_dial(addr(1), t0 + DIAL_RETRY));
        m.refused(t0, addr(2), Version::V06, None);
        m.unreachable(t0 + DIAL_RETRY, addr(2));
        assert_eq!(m.version(addr(2)), Version::V04, "a 0.4 fallback stays");
    }

    #[test]
    fn retry_after_is_honoured_within_its_bound() {
        let mut m = DialMemory::default();
        let t0 = Instant::ZERO;
        m.refused(t0, addr(1), Version::V06, Some(Duration::from_secs(120)));
        assert!(!m.may_dial(addr(1), t0 + Duration::from_secs(119)));
        assert!(m.may_dial(addr(1), t0 + Duration::from_secs(120)));
        m.refused(
            t0,
            addr(2),
            Version::V06,
            Some(Duration::from_secs(86_400 * 365)),
        );
        assert!(m.may_dial(addr(2), t0 + MAX_RETRY_AFTER));
    }

    #[test]
    fn the_memory_is_bounded() {
        let mut m = DialMemory::default();
        for i in 0..=MAX_DIAL_MEMORY {
            let a = SocketAddr::from(([10, 1, (i / 256) as u8, (i % 256) as u8], 6346));
            m.refused(Instant::ZERO, a, Version::V06, None);
        }
        assert_eq!(m.entries.len(), MAX_DIAL_MEMORY);
    }
}
