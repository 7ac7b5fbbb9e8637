//! A servent as a 0.6 ultrapeer (`Role::Ultrapeer`): the headers it answers with, and the
//! two kinds of link it counts apart — ultrapeers up to its degree, leaves up to
//! [`MAX_LEAVES`] — each refused in gtk-gnutella's words when full.

mod common;

use common::bench::{closed, sent_bytes, Bench};
use p2plab_gnutella::{Role, MAX_LEAVES};

/// An ultrapeer on the bench, keeping at most `degree` ultrapeer links.
fn ultrapeer(degree: usize) -> Bench {
    Bench::new(|c| {
        c.role = Role::Ultrapeer;
        c.max_peers = degree;
        c.max_ttl = 5;
    })
}

/// A peer connects, saying it is an ultrapeer or not, and confirms a `200`: the servent's
/// answer, and whether it closed the connection with it.
fn join(b: &mut Bench, ultrapeer: bool) -> (String, bool) {
    let conn = b.accept();
    let hello = format!(
        "GNUTELLA CONNECT/0.6\r\nUser-Agent: t/1\r\nX-Ultrapeer: {}\r\n\r\n",
        if ultrapeer { "True" } else { "False" }
    );
    let effects = b.recv(conn, hello.as_bytes());
    let answer = String::from_utf8(sent_bytes(&effects, conn)).expect("text");
    if answer.starts_with("GNUTELLA/0.6 200") {
        b.recv(conn, b"GNUTELLA/0.6 200 OK\r\n\r\n");
    }
    (answer, closed(&effects, conn))
}

#[test]
fn an_ultrapeer_answers_with_its_role_degree_and_ttl_ceiling() {
    let mut b = ultrapeer(8);
    let (answer, _) = join(&mut b, false);
    assert!(answer.starts_with("GNUTELLA/0.6 200 OK\r\n"), "{answer}");
    assert!(
        answer.ends_with(
            "X-Ultrapeer: True\r\nX-Query-Routing: 0.1\r\nX-Degree: 8\r\nX-Max-TTL: 5\r\n\r\n"
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
    assert_eq!(
        join(&mut b, true),
        (
            "GNUTELLA/0.6 503 Too many ultra connections (2 max)\r\n\r\n".to_owned(),
            true
        )
    );
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
}

#[test]
fn a_flooding_servent_refuses_past_its_cap_in_one_pool() {
    let mut b = Bench::new(|c| c.max_peers = 1);
    assert!(join(&mut b, false).0.starts_with("GNUTELLA/0.6 200"));
    let (refusal, closed) = join(&mut b, true);
    assert_eq!(refusal, "GNUTELLA/0.6 503 Too many connections\r\n\r\n");
    assert!(closed);
}
