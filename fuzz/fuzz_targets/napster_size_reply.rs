//! The downloader's side of a Napster data-port transfer: `transfer::parse_size_reply`
//! reading the uploader's answer (a size, or an error text, then file bytes).
//!
//! The first 8 input bytes are the size the search reported (u64 LE), the rest is the
//! answer. Checks that an accepted size is the expected one and that the bytes it used are
//! exactly its decimal digits, never more.
#![no_main]

use libfuzzer_sys::fuzz_target;
use p2plab_napster::transfer::parse_size_reply;

fuzz_target!(|data: &[u8]| {
    let Some((expected, reply)) = data.split_first_chunk::<8>() else {
        return;
    };
    let expected = u64::from_le_bytes(*expected);
    if let Ok(Some((size, used))) = parse_size_reply(reply, expected) {
        assert_eq!(size, expected);
        assert_eq!(&reply[..used], expected.to_string().as_bytes());
    }
});
