//! A server's and a peer's settings are checked against their ranges by `validate()`,
//! which names the field and the range.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use p2plab_napster::{PeerConfig, ServerConfig};

fn peer() -> PeerConfig {
    PeerConfig::new(
        SocketAddr::from(([10, 0, 0, 1], 8888)),
        "ann",
        6699,
        Arc::default(),
    )
}

#[test]
fn the_defaults_are_valid() {
    assert_eq!(ServerConfig::default().validate(), Ok(()));
    assert_eq!(peer().validate(), Ok(()));
}

#[test]
fn a_link_type_past_t3_is_refused_with_its_range() {
    let config = PeerConfig {
        link_type: 11,
        ..peer()
    };
    let err = config.validate().unwrap_err();
    assert_eq!(err.to_string(), "link_type must be 0..=10, not 11");
}

#[test]
fn a_zero_reconnect_period_is_refused() {
    let config = PeerConfig {
        reconnect_every: Duration::ZERO,
        ..peer()
    };
    assert_eq!(config.validate().unwrap_err().field(), "reconnect_every");
}

#[test]
fn more_results_than_napster_txt_allows_are_refused() {
    let config = ServerConfig {
        max_results: 101,
        ..ServerConfig::default()
    };
    let err = config.validate().unwrap_err();
    assert_eq!(err.to_string(), "max_results must be 1..=100, not 101");
}

#[test]
fn one_address_may_not_hold_more_waiting_logins_than_all_together() {
    let defaults = ServerConfig::default();
    let config = ServerConfig {
        max_pending_per_address: defaults.max_pending_logins + 1,
        ..defaults
    };
    assert_eq!(
        config.validate().unwrap_err().field(),
        "max_pending_per_address"
    );
}
