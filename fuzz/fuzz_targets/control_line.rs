//! Control-port request lines: `control::parse_line`, as the runtime's control server reads
//! each line of a session, checked against a fixed token.
//!
//! Checks that nothing shaped like an HTTP request is ever obeyed, and that an obeyed request,
//! written out again with `RequestLine::encode`, reads back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use p2plab_peer_protocol::control::{parse_line, ControlToken, LineError, RequestLine};

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let token = ControlToken::from_random_bytes([0x5a; 32]);
    match parse_line(line, &token) {
        Ok(req) => {
            assert!(!line.trim_start().starts_with("POST "), "obeyed an HTTP request");
            let again = RequestLine::encode(&token, &req);
            assert_eq!(parse_line(again.trim_end(), &token), Ok(req));
        }
        Err(LineError::LooksLikeHttp | LineError::Malformed(_) | LineError::BadToken) => {}
    }
});
