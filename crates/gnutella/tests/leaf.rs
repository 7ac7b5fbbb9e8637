//! A servent as a 0.6 leaf (`Role::Leaf`), on the in-memory network: the leaf
//! handshake, deflate both ways, the query routing table it sends, and that a leaf answers
//! but never forwards.

mod common;

use std::time::Duration;

use common::bench::{closed, descriptors, ping, sent_bytes, Bench};
use common::{one_file, quiet_config, search, LINK};
use p2plab_gnutella::compress::{Deflater, Inflater};
use p2plab_gnutella::handshake::{connect_06, Stance};
use p2plab_gnutella::qrp::{QrpMessage, RouteTable, QRP_TYPE};
use p2plab_gnutella::{Descriptor, Payload, Role, Servent};
use p2plab_netsim::{Latency, TestNet, Transmission};
use p2plab_peer_protocol::{Library, Node, WireMessage};

const A: usize = 0;
const B: usize = 1;
const LEAF: usize = 2;

fn library(i: usize) -> Library {
    one_file(
        [
            "Bach Goldberg Variations.flac",
            "Mozart Requiem.ogg",
            "Daft Punk One More Time.mp3",
        ][i],
    )
}

/// `A — LEAF — B`: servents A and B each hold one link, to the leaf, which dialled both.
fn leaf_between_two() -> (TestNet<Servent>, Vec<Transmission>) {
    let mut net = TestNet::new(Latency::Constant(LINK), 7);
    net.record();
    for i in [A, B, LEAF] {
        // Added in index order: the leaf last, so both servents are up when it dials.
        let mut config = quiet_config(i, 4, library(i));
        if i == LEAF {
            config.role = Role::Leaf;
            config.bootstrap = vec![
                TestNet::<Servent>::addr_for(A),
                TestNet::<Servent>::addr_for(B),
            ];
        }
        net.add_at(TestNet::<Servent>::addr_for(i), Servent::new(config));
    }
    net.run_for(Duration::from_secs(1));
    let trace = net.take_trace();
    (net, trace)
}

/// What `from` sent `to`, one chunk per send, in order.
fn chunks(trace: &[Transmission], from: usize, to: usize) -> Vec<&[u8]> {
    trace
        .iter()
        .filter(|t| t.from == from && t.to == to)
        .map(|t| t.bytes.as_slice())
        .collect()
}

/// The descriptors in a run of plain bytes.
fn descriptors_in(mut plain: &[u8]) -> Vec<Descriptor> {
    let mut out = Vec::new();
    while !plain.is_empty() {
        let (d, used) = Descriptor::decode(plain).expect("whole descriptors");
        out.push(d);
        plain = &plain[used..];
    }
    out
}

fn inflate(compressed: &[&[u8]]) -> Vec<u8> {
    let mut z = flate2::Decompress::new(true);
    let mut plain = Vec::with_capacity(1 << 20);
    for chunk in compressed {
        z.decompress_vec(chunk, &mut plain, flate2::FlushDecompress::Sync)
            .expect("a zlib stream");
    }
    plain
}

#[test]
fn the_leaf_dials_06_and_both_directions_deflate() {
    let (net, trace) = leaf_between_two();
    assert_eq!(net.node(LEAF).neighbour_count(), 2);
    let up = chunks(&trace, LEAF, A);
    assert_eq!(
        up[0],
        connect_06(TestNet::<Servent>::addr_for(LEAF), Stance::Leaf).as_slice()
    );
    let down = chunks(&trace, A, LEAF);
    let reply = String::from_utf8_lossy(down[0]);
    assert!(reply.starts_with("GNUTELLA/0.6 200 OK\r\n"), "{reply}");
    assert!(reply.contains("Accept-Encoding: deflate\r\nContent-Encoding: deflate\r\n"));
    assert_eq!(
        up[1],
        b"GNUTELLA/0.6 200 OK\r\nContent-Encoding: deflate\r\n\r\n"
    );
    assert_eq!(up[2][..2], [0x78, 0x9C], "then a zlib stream");
    assert_eq!(down[1][..2], [0x78, 0x9C], "both ways");
    let sent = descriptors_in(&inflate(&up[2..]));
    let qrp: Vec<&Descriptor> = sent
        .iter()
        .filter(|d| d.payload.code() == QRP_TYPE)
        .collect();
    assert!(
        qrp.iter().all(|d| (d.ttl, d.hops) == (1, 0)),
        "never forwarded"
    );
    let Payload::Extension { data, .. } = &qrp[0].payload else {
        panic!("qrp is an extension descriptor")
    };
    assert_eq!(
        QrpMessage::decode(data),
        Ok(QrpMessage::Reset {
            table_length: 16_384,
            infinity: 7
        })
    );
    assert!(
        descriptors_in(&inflate(&down[1..]))
            .iter()
            .any(|d| d.payload.code() == 0x01),
        "a Pong came back"
    );
}

#[test]
fn each_neighbour_gets_the_leafs_table_and_a_new_one_when_it_shares_more() {
    let (mut net, _) = leaf_between_two();
    let leaf = TestNet::<Servent>::addr_for(LEAF);
    let want = RouteTable::for_library(&library(LEAF));
    for servent in [A, B] {
        assert_eq!(net.node(servent).route_table_from(leaf), Some(&want));
    }
    let more = Library::synthetic(
        [
            ("Daft Punk One More Time.mp3", 1_000),
            ("Aphex Twin Xtal.flac", 2_000),
        ],
        1,
    );
    net.command(
        LEAF,
        p2plab_peer_protocol::Command::Share {
            library: more.clone().into(),
        },
    );
    net.run_for(Duration::from_millis(100));
    let want = RouteTable::for_library(&more);
    assert!(want.contains("xtal"));
    assert_eq!(net.node(A).route_table_from(leaf), Some(&want));
}

#[test]
fn a_leaf_answers_and_searches_but_forwards_nothing() {
    let (mut net, _) = leaf_between_two();
    let names = |hits: Vec<p2plab_peer_protocol::Hit>| -> Vec<String> {
        hits.into_iter().map(|h| h.name).collect()
    };
    assert_eq!(
        names(search(&mut net, LEAF, "goldberg").expect("search")),
        ["Bach Goldberg Variations.flac"]
    );
    assert_eq!(
        names(search(&mut net, LEAF, "requiem").expect("search")),
        ["Mozart Requiem.ogg"]
    );
    assert_eq!(
        names(search(&mut net, A, "punk").expect("search")),
        ["Daft Punk One More Time.mp3"]
    );
    assert!(
        search(&mut net, A, "requiem").expect("search").is_empty(),
        "B is two hops away through the leaf, which passes no Query on"
    );
}

fn qrp(seq: &[u8]) -> Vec<u8> {
    let payload = Payload::Extension {
        code: QRP_TYPE,
        data: seq.to_vec(),
    };
    Descriptor::new(p2plab_gnutella::Guid([9; 16]), 1, payload).to_bytes()
}

#[test]
fn a_bad_table_costs_its_message_not_the_link() {
    let mut b = Bench::new(|_| {});
    let conn = b.neighbour();
    let patch_first = qrp(&[0x01, 1, 1, 0x00, 4, 0xA0]);
    let not_a_power_of_two = qrp(&[0x00, 0xE8, 0x03, 0, 0, 7]);
    let bomb_reset = qrp(&[0x00, 0x00, 0x04, 0, 0, 7]);
    let mut bomb = vec![0x01, 1, 1, 0x01, 4];
    bomb.extend(Deflater::default().deflate(&[0; 64 * 1024]));
    for bytes in [patch_first, not_a_power_of_two, bomb_reset, qrp(&bomb)] {
        assert!(!closed(&b.recv(conn, &bytes), conn));
    }
    assert_eq!(b.servent.metrics().dropped["qrp"], 3);
    let effects = b.recv(conn, &ping(3, 1));
    assert_eq!(descriptors(&effects, conn).len(), 1, "still served");
}

#[test]
fn a_compressed_stream_that_breaks_closes_its_link_only() {
    let mut b = Bench::new(|_| {});
    let good = b.neighbour();
    let conn = b.accept();
    let hello = b"GNUTELLA CONNECT/0.6\r\nUser-Agent: t/1\r\nAccept-Encoding: deflate\r\n\r\n";
    let reply = String::from_utf8(sent_bytes(&b.recv(conn, hello), conn)).expect("text");
    assert!(
        reply.contains("\r\nContent-Encoding: deflate\r\n"),
        "{reply}"
    );
    // The client's 200 and, right behind it, its first compressed bytes: a Ping.
    let mut tx = Deflater::default();
    let mut bytes = b"GNUTELLA/0.6 200 OK\r\nContent-Encoding: deflate\r\n\r\n".to_vec();
    bytes.extend(tx.deflate(&ping(1, 1)));
    let effects = b.recv(conn, &bytes);
    let mut rx = Inflater::default();
    let plain = rx
        .inflate(&sent_bytes(&effects, conn))
        .expect("our side deflates");
    let codes: Vec<u8> = descriptors_in(&plain)
        .iter()
        .map(|d| d.payload.code())
        .collect();
    assert_eq!(codes, [0x00, 0x01], "our Ping, then the Pong to theirs");
    let effects = b.recv(conn, b"GNUTELLA plain bytes on a deflated link");
    assert!(closed(&effects, conn));
    assert_eq!(b.servent.neighbour_count(), 1, "the other neighbour stays");
    assert!(!closed(&b.recv(good, &ping(2, 1)), good));
}
