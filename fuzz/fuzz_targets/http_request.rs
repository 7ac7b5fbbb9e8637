//! HTTP download requests, as every Gnutella and Chord peer's file server reads them:
//! `transfer::parse_request` on raw bytes.
//!
//! Checks that an accepted head is found where it ends (its bytes alone parse the same),
//! and that the request round-trips: `encode_request` for the same index, name and start
//! parses back to them, with the keep-alive it asks for.
#![no_main]

use libfuzzer_sys::fuzz_target;
use p2plab_peer_protocol::transfer::{encode_request, parse_request, GetRequest};

fuzz_target!(|data: &[u8]| {
    let Ok(Some((req, used))) = parse_request(data) else {
        return;
    };
    assert_eq!(parse_request(&data[..used]), Ok(Some((req.clone(), used))));
    let wire = encode_request(req.index, &req.name, req.start);
    let again = GetRequest {
        keep_alive: true,
        ..req
    };
    assert_eq!(parse_request(&wire), Ok(Some((again, wire.len()))));
});
