//! Control-port request lines: `serde_json::from_str::<ControlRequest>` on a line of text,
//! as the runtime's control server reads each one.
//!
//! Checks that an accepted request round-trips through its own JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use p2plab_peer_protocol::control::ControlRequest;

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(req) = serde_json::from_str::<ControlRequest>(line) else {
        return;
    };
    let json = serde_json::to_string(&req).expect("a request serialises");
    assert_eq!(
        serde_json::from_str::<ControlRequest>(&json).ok(),
        Some(req)
    );
});
