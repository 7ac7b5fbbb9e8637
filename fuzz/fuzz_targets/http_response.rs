//! HTTP response heads, as a downloader reads them: `transfer::parse_response_head` on raw
//! bytes, including the legacy `HTTP 200 OK` status line.
//!
//! Checks that an accepted head is found where it ends: it used no more than it was given,
//! and its bytes alone parse to the same head.
#![no_main]

use libfuzzer_sys::fuzz_target;
use p2plab_peer_protocol::transfer::parse_response_head;

fuzz_target!(|data: &[u8]| {
    let Ok(Some((head, used))) = parse_response_head(data) else {
        return;
    };
    assert!(used <= data.len());
    assert_eq!(parse_response_head(&data[..used]), Ok(Some((head, used))));
});
