//! The hex dumps show real bytes, and their labels agree with the layouts of PROTOCOLS.md.

use p2plab_chord::Kind as ChordKind;
use p2plab_gnutella::Kind as GnutellaKind;
use p2plab_napster::Kind as NapsterKind;
use p2plab_peer_protocol::MessageKind;
use p2plab_trace::hexdump::render;
use p2plab_trace::{chord, gnutella, napster, run, Network, TraceConfig};

fn first(network: Network, kind: impl MessageKind) -> Vec<u8> {
    let trace = run(&TraceConfig::new(network)).expect("trace");
    trace
        .find(kind.name())
        .expect("a message of that kind")
        .2
        .to_vec()
}

#[test]
fn a_napster_search_is_length_type_text() {
    let bytes = first(Network::Napster, NapsterKind::Search);
    let len = u16::from_le_bytes([bytes[0], bytes[1]]) as usize;
    assert_eq!(len, bytes.len() - 4);
    assert_eq!(bytes[2..4], [0xc8, 0x00], "type 200, little-endian");
    assert!(bytes[4..].starts_with(b"FILENAME CONTAINS \"four seasons\""));
    let dump = render(&bytes, &napster::fields(&bytes));
    assert!(dump.contains("0002    c8 00"), "{dump}");
    assert!(dump.contains("type 200"));
}

#[test]
fn a_napster_login_is_in_the_recording() {
    let bytes = first(Network::Napster, NapsterKind::Login);
    assert_eq!(bytes[2..4], [0x02, 0x00]);
    assert!(bytes[4..].starts_with(b"peer"));
}

#[test]
fn a_gnutella_query_header_and_payload() {
    let bytes = first(Network::Gnutella, GnutellaKind::Query);
    assert_eq!(bytes[16], 0x80, "payload type Query");
    assert_eq!(
        (bytes[17], bytes[18]),
        (7, 0),
        "TTL 7, hops 0 from the searcher"
    );
    let len = u32::from_le_bytes([bytes[19], bytes[20], bytes[21], bytes[22]]) as usize;
    assert_eq!(len, bytes.len() - 23);
    assert_eq!(
        &bytes[23..25],
        &[0x80, 0],
        "query flags: bit 15 alone, big-endian"
    );
    assert_eq!(&bytes[25..], b"four seasons\0");
    let dump = render(&bytes, &gnutella::fields(&bytes));
    assert!(!dump.contains("(unlabelled)"), "{dump}");
    assert!(dump.contains("0017    80 00"), "{dump}");
    assert!(
        dump.contains("query flags 0x8000, u16 big-endian"),
        "{dump}"
    );
}

#[test]
fn a_gnutella_query_hit_ends_with_the_servent_id() {
    let bytes = first(Network::Gnutella, GnutellaKind::QueryHit);
    assert_eq!(bytes[16], 0x81);
    let dump = render(&bytes, &gnutella::fields(&bytes));
    assert!(!dump.contains("(unlabelled)"), "{dump}");
    assert!(dump.contains("servent ID"));
    assert!(dump.contains("IP 10.0.0."), "{dump}");
}

#[test]
fn a_chord_find_successor_is_head_and_target() {
    let bytes = first(Network::Chord, ChordKind::FindSuccessor);
    assert_eq!(
        bytes[..5],
        [0, 0, 0, 29, 0x01],
        "9 + 20 bytes follow; type 0x01"
    );
    assert_eq!(bytes.len(), 33);
    let dump = render(&bytes, &chord::fields(&bytes));
    assert!(!dump.contains("(unlabelled)"), "{dump}");
    let values = first(Network::Chord, ChordKind::Values);
    assert_eq!(values[4], 0x86);
    let dump = render(&values, &chord::fields(&values));
    assert!(!dump.contains("(unlabelled)"), "{dump}");
}

#[test]
fn a_chord_recursive_hand_on_and_its_answer_are_labelled_to_the_last_byte() {
    let mut config = TraceConfig::new(Network::Chord);
    config.routing = p2plab_trace::config::Routing::Recursive;
    let trace = run(&config).expect("trace");
    for (kind, type_byte, len) in [
        // head 13, origin (id 20, IPv4 address 7), target 20, hops 1
        (ChordKind::RouteRecursive, 0x08, 13 + 27 + 20 + 1),
        // head 13, successor(key) (27), hops 1
        (ChordKind::RecursiveFound, 0x88, 13 + 27 + 1),
    ] {
        let (_, _, bytes) = trace.find(kind.name()).expect("a message of that kind");
        assert_eq!((bytes[4], bytes.len()), (type_byte, len), "{}", kind.name());
        let dump = render(bytes, &chord::fields(bytes));
        assert!(!dump.contains("(unlabelled)"), "{dump}");
        assert!(dump.contains("hops "), "{dump}");
    }
}
