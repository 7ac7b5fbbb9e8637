use super::*;
use p2plab_peer_protocol::keywords::Query;

/// The known answers of the QRP hash, from the draft and gtk-gnutella's self-test.
#[test]
fn the_hash_gives_the_known_answers() {
    let ascii = [
        ("", 13, 0),
        ("eb", 13, 6791),
        ("ebc", 13, 7082),
        ("ebck", 13, 6698),
        ("ebckl", 13, 3179),
        ("ebcklm", 13, 3235),
        ("ebcklme", 13, 6438),
        ("ebcklmen", 13, 1062),
        ("ebcklmenq", 13, 3527),
        ("", 16, 0),
        ("n", 16, 65003),
        ("nd", 16, 54193),
        ("ndf", 16, 4953),
        ("ndfl", 16, 58201),
        ("ndfla", 16, 34830),
        ("ndflal", 16, 36910),
        ("ndflale", 16, 34586),
        ("ndflalem", 16, 37658),
        ("ndflaleme", 16, 45559),
        ("ol2j34lj", 10, 318),
        ("asdfas23", 10, 503),
        ("9um3o34fd", 10, 758),
        ("a234d", 10, 281),
        ("a3f", 10, 767),
        ("3nja9", 10, 581),
        ("2459345938032343", 10, 146),
        ("7777a88a8a8a8", 10, 342),
        ("asdfjklkj3k", 10, 861),
        ("adfk32l", 10, 1011),
        ("zzzzzzzzzzz", 10, 944),
    ];
    for (word, bits, want) in ascii {
        assert_eq!(hash(word, bits), want, "hash({word:?}, {bits})");
    }
    // Beyond ASCII: the low byte of each UTF-16 unit, a surrogate pair as two units.
    let wide = [
        ("\u{30a2}\u{30cb}\u{30e1}", 46), // a-ni-me
        ("\u{30e9}", 0),                  // ra
        ("\u{58f0}\u{512a}", 731),        // voice actor
        ("\u{10400}", 316),               // DESERET CAPITAL LETTER LONG I
        ("\u{10428}", 658),               // DESERET SMALL LETTER LONG I
        ("\u{1}(", 658),                  // the same low bytes as the line above
    ];
    for (word, want) in wide {
        assert_eq!(hash(word, 10), want, "hash({word:?}, 10)");
    }
    assert_ne!(hash("fail", 16), 37458);
}

#[test]
fn a_reset_is_variant_length_infinity() {
    let reset = QrpMessage::Reset {
        table_length: 1 << TABLE_BITS,
        infinity: INFINITY,
    };
    assert_eq!(reset.to_bytes(), [0x00, 0x00, 0x40, 0x00, 0x00, 0x07]);
    assert_eq!(QrpMessage::decode(&reset.to_bytes()), Ok(reset));
}

/// Eight slots: "ebckl" hashes to slot 3 and "ebc" to slot 6 (their 13-bit hashes, 3179
/// and 7082, shifted down by 10), each marked 1 − 7 = −6, nibble 0xA, high nibble first.
#[test]
fn a_patch_carries_one_signed_nibble_per_slot() {
    let mut table = RouteTable::new(3);
    table.insert("EBCKL");
    table.insert("ebc");
    let messages = table.messages(Compressor::None);
    let bytes: Vec<Vec<u8>> = messages.iter().map(QrpMessage::to_bytes).collect();
    assert_eq!(
        bytes,
        [
            vec![0x00, 0x08, 0x00, 0x00, 0x00, 0x07],
            vec![0x01, 0x01, 0x01, 0x00, 0x04, 0x00, 0x0A, 0x00, 0xA0],
        ]
    );
}

fn library() -> Library {
    Library::synthetic(
        [
            ("Daft Punk - One More Time.mp3", 10),
            ("Bach - Goldberg Variations.flac", 20),
        ],
        1,
    )
}

#[test]
fn a_compressed_table_arrives_whole_and_routes_its_words() {
    let sent = RouteTable::for_library(&library());
    assert_eq!(sent.slots(), 16_384);
    let messages = sent.messages(Compressor::Zlib);
    let QrpMessage::Patch(first) = &messages[1] else {
        panic!("a patch follows the reset")
    };
    assert_eq!(
        first.data[..2],
        [0x78, 0xDA],
        "a zlib header, best compression"
    );
    let mut receiver = TableReceiver::default();
    for m in messages {
        let wire = QrpMessage::decode(&m.to_bytes()).expect("decodes");
        receiver.handle(wire).expect("accepted");
    }
    let got = receiver.table().expect("complete");
    assert_eq!(got, &sent);
    assert_eq!(got.set_count(), 10, "ten distinct words, no collisions");
    assert!(got.may_match(&Query::parse("PUNK time")));
    assert!(got.may_match(&Query::parse("goldberg")));
    assert!(!got.may_match(&Query::parse("punk mozart")));
    assert!(!got.may_match(&Query::parse("")));
}

#[test]
fn a_big_table_is_cut_into_a_numbered_sequence() {
    let table = RouteTable::for_library(&library());
    let messages = table.messages(Compressor::None);
    assert_eq!(
        messages.len(),
        1 + 4,
        "8,192 bytes of deltas in 2,048-byte pieces"
    );
    for (i, m) in messages[1..].iter().enumerate() {
        let QrpMessage::Patch(p) = m else {
            panic!("patches")
        };
        assert_eq!((p.seq_no, p.seq_size), (i as u8 + 1, 4));
        assert_eq!(p.data.len(), MAX_PATCH_CHUNK);
    }
    let mut receiver = TableReceiver::default();
    for m in messages {
        receiver.handle(m).expect("accepted");
    }
    assert_eq!(receiver.table(), Some(&table));
}

#[test]
fn bad_messages_are_refused_and_drop_the_table() {
    assert_eq!(QrpMessage::decode(&[]), Err(QrpError::Truncated));
    assert_eq!(QrpMessage::decode(&[0x00, 1, 0]), Err(QrpError::Truncated));
    assert_eq!(
        QrpMessage::decode(&[0x07]),
        Err(QrpError::UnknownVariant(7))
    );
    assert_eq!(
        QrpMessage::decode(&[0x01, 1, 1, 0x02, 4]),
        Err(QrpError::UnknownCompressor(2))
    );
    let mut r = TableReceiver::default();
    let reset = |table_length| QrpMessage::Reset {
        table_length,
        infinity: 7,
    };
    assert_eq!(r.handle(reset(1000)), Err(QrpError::TableLength(1000)));
    assert_eq!(
        r.handle(reset(1 << 22)),
        Err(QrpError::TableLength(1 << 22))
    );
    let patch = |seq_no, data: &[u8]| {
        QrpMessage::Patch(Patch {
            seq_no,
            seq_size: 2,
            compressor: Compressor::None,
            entry_bits: 4,
            data: data.to_vec(),
        })
    };
    assert_eq!(r.handle(patch(1, &[0xA0])), Err(QrpError::Sequence));
    r.handle(reset(8)).expect("reset");
    assert_eq!(r.handle(patch(2, &[0xA0])), Err(QrpError::Sequence));
    r.handle(reset(8)).expect("reset");
    r.handle(patch(1, &[0xA0, 0])).expect("first half");
    r.handle(patch(2, &[0, 0x0A])).expect("second half");
    let whole = r.table().cloned().expect("complete");
    r.handle(reset(8)).expect("reset");
    assert_eq!(r.table(), Some(&whole), "kept while its successor arrives");
    assert_eq!(
        r.handle(patch(1, &[0; 5])),
        Err(QrpError::Data("more entries than slots"))
    );
    assert_eq!(
        r.table(),
        None,
        "a broken update drops the table it was to replace"
    );
}

/// 64 KiB of zeros deflate to a few hundred bytes; a table of 1,024 slots holds 512 bytes
/// of 4-bit deltas, and the inflater stops there.
#[test]
fn a_zip_bomb_inflates_no_further_than_the_table() {
    let bomb = zlib(&vec![0; 64 * 1024]);
    assert!(bomb.len() < 512);
    let mut r = TableReceiver::default();
    r.handle(QrpMessage::Reset {
        table_length: 1024,
        infinity: 7,
    })
    .expect("reset");
    let patch = QrpMessage::Patch(Patch {
        seq_no: 1,
        seq_size: 1,
        compressor: Compressor::Zlib,
        entry_bits: 4,
        data: bomb,
    });
    assert_eq!(
        r.handle(patch),
        Err(QrpError::Data("more entries than slots"))
    );
    assert_eq!(r.table(), None);
}
