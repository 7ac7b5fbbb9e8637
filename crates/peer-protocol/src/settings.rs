//! Checking a node's settings against their valid ranges.
//!
//! Each protocol crate's `config` module is the one home of its settings: every default and
//! every valid range is a named constant there, and `validate()` on the config checks them
//! all. The command line and the scenario file both read those constants and call that
//! `validate()`, so the three can never disagree. This module holds what the three protocol
//! crates share: the error, the range check, and the bounds on a timer's period.

use std::fmt::Debug;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::time::Duration;

/// A setting out of its valid range, or out of step with another setting.
///
/// Fields are named as the config struct names them (`max_peers`); a front end that calls
/// them something else (`--max-peers`, `settings.gnutella.max_peers`) renames them with
/// [`SettingError::describe`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    /// A value outside its range.
    #[error("{field} must be {range}, not {got}")]
    OutOfRange {
        /// The config field.
        field: &'static str,
        /// What it may be, e.g. `1..=7`.
        range: String,
        /// What it was.
        got: String,
    },
    /// A value that must keep a relation to another setting's.
    #[error("{field} must be {relation} {other} ({bound}), not {got}")]
    Beyond {
        /// The config field.
        field: &'static str,
        /// How it must relate to `other`, e.g. `at least`.
        relation: &'static str,
        /// The config field it is measured against.
        other: &'static str,
        /// That field's value.
        bound: String,
        /// What it was.
        got: String,
    },
}

impl SettingError {
    /// The config field that is wrong.
    pub fn field(&self) -> &'static str {
        match self {
            SettingError::OutOfRange { field, .. } | SettingError::Beyond { field, .. } => field,
        }
    }

    /// The field and what is wrong with it, every field named by `name` (a front end's
    /// name for a config field): `("--ttl", "must be 1..=7, not 9")`.
    pub fn describe(&self, name: impl Fn(&str) -> String) -> (String, String) {
        match self {
            SettingError::OutOfRange { field, range, got } => {
                (name(field), format!("must be {range}, not {got}"))
            }
            SettingError::Beyond {
                field,
                relation,
                other,
                bound,
                got,
            } => (
                name(field),
                format!("must be {relation} {} ({bound}), not {got}", name(other)),
            ),
        }
    }
}

/// The bounds of every period and waiting time a node is configured with (a ping interval,
/// a search window, a stabilize period). At least a millisecond: a zero period re-arms its
/// timer at the instant it fires, and the node spins without time passing. At most a day:
/// longer than any run, and far from the overflow of `Instant + Duration`, which panics.
pub const PERIODS: RangeInclusive<Duration> =
    Duration::from_millis(1)..=Duration::from_secs(24 * 60 * 60);

/// The address a config is built with only to be checked: `validate()` looks at the
/// settings, never at the address.
pub const CHECK_ADDR: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

/// A period in whole milliseconds, as command-line flags and scenario files write them
/// (saturating: no period in [`PERIODS`] comes near the limit).
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// `Ok` when `value` lies in `range`; otherwise an error naming `field` and the range.
///
/// # Errors
/// [`SettingError`] with the range as written in Rust (`1..=7`, `1ms..=86400s`).
pub fn check_range<T: PartialOrd + Debug>(
    field: &'static str,
    value: T,
    range: &RangeInclusive<T>,
) -> Result<(), SettingError> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(SettingError::OutOfRange {
            field,
            range: format!("{range:?}"),
            got: format!("{value:?}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_in_range_passes_and_one_outside_is_named_with_the_range() {
        assert_eq!(check_range("ttl", 7u8, &(1..=7)), Ok(()));
        let err = check_range("ttl", 0u8, &(1..=7)).unwrap_err();
        assert_eq!(err.to_string(), "ttl must be 1..=7, not 0");
        assert_eq!(err.field(), "ttl");
    }

    #[test]
    fn describe_renames_every_field_it_names() {
        let err = SettingError::Beyond {
            field: "max_peers",
            relation: "at least",
            other: "min_peers",
            bound: "4".into(),
            got: "2".into(),
        };
        assert_eq!(
            err.to_string(),
            "max_peers must be at least min_peers (4), not 2"
        );
        let flag = |f: &str| format!("--{}", f.replace('_', "-"));
        assert_eq!(
            err.describe(flag),
            (
                "--max-peers".to_owned(),
                "must be at least --min-peers (4), not 2".to_owned()
            )
        );
    }

    #[test]
    fn periods_refuse_zero_and_spell_their_bounds() {
        let err = check_range("ping_interval", Duration::ZERO, &PERIODS).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ping_interval must be 1ms..=86400s, not 0ns"
        );
        assert!(check_range("p", Duration::from_millis(1), &PERIODS).is_ok());
        assert!(check_range("p", Duration::from_secs(86_401), &PERIODS).is_err());
    }
}
