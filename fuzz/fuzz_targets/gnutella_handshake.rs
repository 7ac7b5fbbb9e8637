//! The Gnutella text handshake: `handshake::read_block` on raw bytes, then what the servent
//! asks of a block (its greeting, its headers, the listening address).
//!
//! Checks that a block is found where it ends: reading just its bytes gives the same block,
//! and one byte fewer is still incomplete.
#![no_main]

use libfuzzer_sys::fuzz_target;
use p2plab_gnutella::handshake::read_block;

fuzz_target!(|data: &[u8]| {
    let Ok(Some((block, used))) = read_block(data) else {
        return;
    };
    let _ = (
        block.greeting(),
        block.listen_addr(),
        block.header("User-Agent"),
    );
    assert!(used <= data.len());
    assert_eq!(read_block(&data[..used]), Ok(Some((block, used))));
    assert_eq!(read_block(&data[..used - 1]), Ok(None));
});
