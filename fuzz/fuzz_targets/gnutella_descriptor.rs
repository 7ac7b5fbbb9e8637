//! Gnutella 0.4 descriptors: `Descriptor::decode`, the 23-byte header and then the payload
//! its type names (Ping, Pong, Push, Query, QueryHit, or an extension read whole).
//!
//! The encoding is canonical, so checks that a descriptor that decodes re-encodes to exactly
//! the bytes it was decoded from, and that `encoded_len` counts them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use p2plab_gnutella::Descriptor;
use p2plab_peer_protocol::WireMessage;

fuzz_target!(|data: &[u8]| {
    let Ok((descriptor, used)) = Descriptor::decode(data) else {
        return;
    };
    assert_eq!(descriptor.encoded_len(), used);
    assert_eq!(descriptor.to_bytes(), &data[..used]);
});
