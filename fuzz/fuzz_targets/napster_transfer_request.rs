//! The uploader's side of a Napster data-port transfer: `transfer::parse_request` reading
//! `GET<nick> "<name>" <offset>` from raw bytes.
//!
//! Checks that a request it accepts round-trips: the downloader's two writes for the same
//! nick, name and offset (`transfer::request`) parse back to the same request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use p2plab_napster::transfer::{parse_request, request};

fuzz_target!(|data: &[u8]| {
    let Ok(Some((req, used))) = parse_request(data) else {
        return;
    };
    assert_eq!(used, data.len());
    let (get, line) = request(&req.nick, &req.name, req.offset);
    let wire = [get, line].concat();
    assert_eq!(parse_request(&wire), Ok(Some((req, wire.len()))));
});
