//! Chord frames: `message::Frame::decode`, the 13-byte head and every message body, with
//! the node references, addresses, records and texts of `wire`.
//!
//! The encoding is canonical, so checks that a frame that decodes re-encodes to exactly the
//! bytes it was decoded from, and that `encoded_len` counts them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use p2plab_chord::Frame;
use p2plab_peer_protocol::WireMessage;

fuzz_target!(|data: &[u8]| {
    let Ok((frame, used)) = Frame::decode(data) else {
        return;
    };
    assert_eq!(frame.encoded_len(), used);
    assert_eq!(frame.to_bytes(), &data[..used]);
});
