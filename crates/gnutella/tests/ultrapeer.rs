//! A servent as a 0.6 ultrapeer (`Role::Ultrapeer`): the headers it answers with; the two
//! kinds of link it counts apart — ultrapeers up to its degree, leaves up to [`MAX_LEAVES`]
//! — each refused in gtk-gnutella's words when full; and query routing, on the bench and on
//! the in-memory network: a Query floods among ultrapeers and reaches only the leaves whose
//! tables hold every word of it.

mod common;

use std::time::Duration;

use common::bench::{closed, descriptors, ping, sent_bytes, Bench};
use common::{one_file, quiet_config, search, LINK};
use p2plab_gnutella::qrp::{Compressor, QrpMessage, RouteTable, QRP_TYPE, TABLE_BITS};
use p2plab_gnutella::{Descriptor, Guid, Payload, Query, Role, Servent, MAX_LEAVES};
use p2plab_netsim::{Latency, TestNet};
use p2plab_peer_protocol::{ConnId, Library, Node, WireMessage};

/// An ultrapeer on the bench, keeping at most `degree` ultrapeer links.
fn ultrapeer(degree: usize) -> Bench {
    Bench::new(|c| {
        c.role = Role::Ultrapeer;
        c.max_peers = degree;
        c.max_ttl = 5;
    })
}

/// A peer connects, saying it is an ultrapeer or not, and confirms a `200` plainly: the
/// servent's answer, and whether it closed the connection.
fn join(b: &mut Bench, ultrapeer: bool) -> (String, bool) {
    let (_, answer, closed) = join_as(b, ultrapeer);
    (answer, closed)
}

/// [`join`], with the connection.
fn join_as(b: &mut Bench, ultrapeer: bool) -> (ConnId, String, bool) {
    let conn = b.accept();
    let hello = format!(
        "GNUTELLA CONNECT/0.6\r\nUser-Agent: t/1\r\nX-Ultrapeer: {}\r\n\r\n",
        if ultrapeer { "True" } else { "False" }
    );
    let mut effects = b.recv(conn, hello.as_bytes());
    let answer = String::from_utf8(sent_bytes(&effects, conn)).expect("text");
    if answer.starts_with("GNUTELLA/0.6 200") {
        effects.extend(b.recv(conn, b"GNUTELLA/0.6 200 OK\r\n\r\n"));
    }
    (conn, answer, closed(&effects, conn))
}

#[test]
fn an_ultrapeer_answers_with_its_role_degree_and_ttl_ceiling() {
    let mut b = ultrapeer(8);
    let (answer, _) = join(&mut b, false);
    assert!(answer.starts_with("GNUTELLA/0.6 200 OK\r\n"), "{answer}");
    assert!(
        answer.ends_with(
            "X-Ultrapeer: True\r\nX-Query-Routing: 0.1\r\nX-Degree: 8\r\nX-Max-TTL: 5\r\n\
             X-Dynamic-Querying: 0.1\r\nX-Ext-Probes: 0.1\r\n\r\n"
        ),
        "{answer}"
    );
    assert_eq!(b.servent.neighbour_count(), 1);
}

#[test]
fn ultrapeer_links_are_refused_past_the_degree_and_leaves_past_max_leaves() {
    let mut b = ultrapeer(2);
    for _ in 0..2 {
        assert!(join(&mut b, true).0.starts_with("GNUTELLA/0.6 200"));
    }
    let (guidance, closed) = join(&mut b, true);
    assert!(
        guidance.contains("\r\nX-Ultrapeer-Needed: False\r\n"),
        "{guidance}"
    );
    assert!(closed, "an ultrapeer that declines leaf guidance is closed");
    assert_eq!(b.servent.neighbour_count(), 2);
    for _ in 0..MAX_LEAVES {
        assert!(
            join(&mut b, false).0.starts_with("GNUTELLA/0.6 200"),
            "the ultrapeer slots being full takes no leaf slot"
        );
    }
    assert_eq!(b.servent.neighbour_count(), 2 + MAX_LEAVES);
    assert_eq!(
        join(&mut b, false),
        (
            format!("GNUTELLA/0.6 503 Too many leaf connections ({MAX_LEAVES} max)\r\n\r\n"),
            true
        )
    );
    assert_eq!(b.servent.neighbour_count(), 2 + MAX_LEAVES);
    assert_eq!(
        join(&mut b, true),
        (
            "GNUTELLA/0.6 503 Too many ultra connections (2 max)\r\n\r\n".to_owned(),
            true
        ),
        "no leaf slot left to guide it to"
    );
}

#[test]
fn an_ultrapeer_that_takes_leaf_guidance_is_kept_as_a_leaf() {
    let mut b = ultrapeer(1);
    let (up, ..) = join_as(&mut b, true);
    let conn = b.accept();
    let hello = b"GNUTELLA CONNECT/0.6\r\nUser-Agent: t/1\r\nX-Ultrapeer: True\r\n\r\n";
    let answer = String::from_utf8(sent_bytes(&b.recv(conn, hello), conn)).expect("text");
    assert!(answer.contains("\r\nX-Ultrapeer-Needed: False\r\n"));
    let effects = b.recv(conn, b"GNUTELLA/0.6 200 OK\r\nX-Ultrapeer: False\r\n\r\n");
    assert!(!closed(&effects, conn));
    assert_eq!(b.servent.neighbour_count(), 2);
    let effects = b.recv(up, &ping(4, 3));
    assert!(
        descriptors(&effects, conn).is_empty(),
        "a leaf now: the ultrapeer floods it no Ping"
    );
}

#[test]
fn a_flooding_servent_refuses_past_its_cap_in_one_pool() {
    let mut b = Bench::new(|c| c.max_peers = 1);
    assert!(join(&mut b, false).0.starts_with("GNUTELLA/0.6 200"));
    let (refusal, closed) = join(&mut b, true);
    assert_eq!(refusal, "GNUTELLA/0.6 503 Too many connections\r\n\r\n");
    assert!(closed);
}

/// The QRP descriptors (hops 0, TTL 1) carrying `messages`, as one run of bytes.
fn qrp_bytes(messages: &[QrpMessage]) -> Vec<u8> {
    messages
        .iter()
        .flat_map(|m| {
            let payload = Payload::Extension {
                code: QRP_TYPE,
                data: m.to_bytes(),
            };
            Descriptor::new(Guid([5; 16]), 1, payload).to_bytes()
        })
        .collect()
}

/// The table a leaf holding a file named after `word` would send, as it sends it.
fn table_of(word: &str) -> Vec<u8> {
    let mut table = RouteTable::new(TABLE_BITS);
    table.insert(word);
    qrp_bytes(&table.messages(Compressor::Zlib))
}

/// The Queries among the descriptors sent to `conn`, as (TTL, hops).
fn queries_to(effects: &[p2plab_peer_protocol::Effect], conn: ConnId) -> Vec<(u8, u8)> {
    descriptors(effects, conn)
        .iter()
        .filter(|d| matches!(d.payload, Payload::Query(_)))
        .map(|d| (d.ttl, d.hops))
        .collect()
}

#[test]
fn a_query_goes_to_the_leaves_whose_table_matches_and_a_broken_table_gets_none() {
    let mut b = ultrapeer(8);
    let (up, ..) = join_as(&mut b, true);
    let (other_up, ..) = join_as(&mut b, true);
    let (matching, ..) = join_as(&mut b, false);
    let (other_word, ..) = join_as(&mut b, false);
    let (broken, ..) = join_as(&mut b, false);
    let (silent, ..) = join_as(&mut b, false);
    b.recv(matching, &table_of("zebra"));
    b.recv(other_word, &table_of("yak"));
    b.recv(broken, &table_of("zebra"));
    // Its next table: 16 slots hold 8 bytes of 4-bit deltas, and the PATCH brings 9.
    let oversized = qrp_bytes(&[
        QrpMessage::Reset {
            table_length: 16,
            infinity: 7,
        },
        QrpMessage::Patch(p2plab_gnutella::qrp::Patch {
            seq_no: 1,
            seq_size: 1,
            compressor: Compressor::None,
            entry_bits: 4,
            data: vec![0xF0; 9],
        }),
    ]);
    assert!(!closed(&b.recv(broken, &oversized), broken));
    assert_eq!(b.servent.metrics().dropped["qrp"], 1);
    let query = |guid, ttl| {
        Descriptor::new(Guid([guid; 16]), ttl, Payload::Query(Query::new("Zebra"))).to_bytes()
    };
    let effects = b.recv(up, &query(1, 3));
    assert_eq!(queries_to(&effects, other_up), [(2, 1)], "flooded on");
    assert_eq!(
        queries_to(&effects, matching),
        [(1, 1)],
        "a last hop to a leaf"
    );
    for spared in [up, other_word, broken, silent] {
        assert!(queries_to(&effects, spared).is_empty());
    }
    // The Query's last hop among ultrapeers: none goes further, the matching leaf still gets it.
    let effects = b.recv(up, &query(2, 1));
    assert!(queries_to(&effects, other_up).is_empty());
    assert_eq!(queries_to(&effects, matching), [(1, 1)]);
    assert_eq!(
        descriptors(&b.recv(broken, &ping(3, 1)), broken).len(),
        1,
        "the leaf with the broken table is still served: a Pong"
    );
}

/// Servent `i` plays `nodes[i].0`, dials the earlier servents `nodes[i].1`, shares one
/// file named `nodes[i].2` (none if empty) and keeps at most `degree` ultrapeer links (or
/// neighbours); handshakes and tables settle before return.
fn overlay(nodes: &[(Role, &[usize], &str)], degree: usize) -> TestNet<Servent> {
    let mut net = TestNet::new(Latency::Constant(LINK), 7);
    for (i, (role, dials, file)) in nodes.iter().enumerate() {
        let library = if file.is_empty() {
            Library::default()
        } else {
            one_file(file)
        };
        let mut config = quiet_config(i, 4, library);
        config.role = *role;
        config.max_peers = degree;
        config.bootstrap = dials
            .iter()
            .map(|&j| TestNet::<Servent>::addr_for(j))
            .collect();
        net.add(Servent::new(config));
    }
    net.run_for(Duration::from_secs(1));
    net
}

const U0: usize = 0;
const U1: usize = 1;

/// Two linked ultrapeers, two leaves each: the searcher and the "Requiem" leaf under U0,
/// the "Goldberg" and "Punk" leaves under U1; every servent playing `leaf` or `ultrapeer`.
fn two_ultrapeers(ultrapeer: Role, leaf: Role) -> TestNet<Servent> {
    overlay(
        &[
            (ultrapeer, &[], ""),
            (ultrapeer, &[U0], ""),
            (leaf, &[U0], ""),
            (leaf, &[U0], "Mozart Requiem.ogg"),
            (leaf, &[U1], "Bach Goldberg Variations.flac"),
            (leaf, &[U1], "Daft Punk One More Time.mp3"),
        ],
        8,
    )
}
const SEARCHER: usize = 2;
const REQUIEM: usize = 3;
const GOLDBERG: usize = 4;
const PUNK: usize = 5;

#[test]
fn a_leaf_whose_table_lacks_a_word_never_sees_the_query() {
    let mut net = two_ultrapeers(Role::Ultrapeer, Role::Leaf);
    assert_eq!(net.node(U0).neighbour_count(), 3);
    let hits = search(&mut net, SEARCHER, "goldberg").expect("search");
    let names: Vec<&str> = hits.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(
        names,
        ["Bach Goldberg Variations.flac"],
        "through both ultrapeers"
    );
    assert_eq!(
        hits[0].hops,
        Some(3),
        "three links: the searcher's ultrapeer, the other, its leaf"
    );
    let handled: Vec<u64> = (0..net.len())
        .map(|i| net.node(i).queries_handled())
        .collect();
    assert_eq!(
        handled,
        [1, 1, 0, 0, 1, 0],
        "U0, U1 and the Goldberg leaf only"
    );
    let hits = search(&mut net, GOLDBERG, "requiem").expect("search");
    assert_eq!(hits.len(), 1);
    assert_eq!(net.node(PUNK).queries_handled(), 0);
    assert_eq!(net.node(REQUIEM).queries_handled(), 1);
}

#[test]
fn the_same_overlay_of_flooding_servents_sends_every_servent_the_query() {
    let mut net = two_ultrapeers(Role::Flooding, Role::Flooding);
    assert_eq!(
        search(&mut net, SEARCHER, "goldberg")
            .expect("search")
            .len(),
        1
    );
    let handled: Vec<u64> = (0..net.len())
        .map(|i| net.node(i).queries_handled())
        .collect();
    assert_eq!(handled, [1, 1, 0, 1, 1, 1], "everyone but the searcher");
}

#[test]
fn a_leaf_between_two_ultrapeers_is_no_bridge() {
    // U0 and U1 are not linked; the only path between them is the leaf that dialled both.
    let bridge = 2;
    let mut net = overlay(
        &[
            (Role::Ultrapeer, &[], ""),
            (Role::Ultrapeer, &[], ""),
            (Role::Leaf, &[U0, U1], "Goldberg Variations, a copy.mp3"),
            (Role::Leaf, &[U0], ""),
            (Role::Leaf, &[U1], "Bach Goldberg Variations.flac"),
        ],
        8,
    );
    assert_eq!(net.node(bridge).neighbour_count(), 2);
    let hits = search(&mut net, 3, "goldberg").expect("search");
    let names: Vec<&str> = hits.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(
        names,
        ["Goldberg Variations, a copy.mp3"],
        "the bridge answers"
    );
    assert_eq!(net.node(bridge).queries_handled(), 1);
    assert!(
        !net.node(bridge).metrics().sent.contains_key("query"),
        "but passes nothing on"
    );
    assert_eq!(
        (
            net.node(U1).queries_handled(),
            net.node(4).queries_handled()
        ),
        (0, 0)
    );
}

#[test]
fn an_ultrapeer_joining_a_full_ultrapeer_is_guided_to_become_its_leaf() {
    let mut net = overlay(
        &[
            (Role::Ultrapeer, &[], ""),
            (Role::Ultrapeer, &[U0], ""),
            (Role::Ultrapeer, &[U0], "Bach Goldberg Variations.flac"),
        ],
        1,
    );
    let guided = 2;
    assert_eq!(
        net.node(guided).config().role,
        Role::Leaf,
        "it took the guidance"
    );
    assert_eq!(net.node(U0).neighbour_count(), 2);
    assert!(net
        .node(U0)
        .route_table_from(TestNet::<Servent>::addr_for(guided))
        .is_some_and(|t| t.contains("goldberg")));
    assert_eq!(search(&mut net, U1, "goldberg").expect("search").len(), 1);
}
