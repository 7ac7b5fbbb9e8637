//! Both ends of a Napster push (a firewalled holder connecting out): the downloader reading
//! `SEND<nick> "<name>" <size>` with `transfer::parse_push_header`, and the holder reading
//! the downloader's offset with `transfer::parse_offset`, from raw bytes.
//!
//! Checks that what each accepts round-trips: the holder's two writes for the same nick,
//! name and size (`transfer::push_header`), and the downloader's offset
//! (`transfer::offset_reply`), parse back to the same values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use p2plab_napster::transfer::{offset_reply, parse_offset, parse_push_header, push_header};

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((header, used))) = parse_push_header(data) {
        assert_eq!(used, data.len());
        let (send, line) = push_header(&header.nick, &header.name, header.size);
        let wire = [send, line].concat();
        assert_eq!(parse_push_header(&wire), Ok(Some((header, wire.len()))));
    }
    if let Ok(Some((offset, used))) = parse_offset(data) {
        assert_eq!(used, data.len());
        let wire = offset_reply(offset);
        assert_eq!(parse_offset(&wire), Ok(Some((offset, wire.len()))));
    }
});
