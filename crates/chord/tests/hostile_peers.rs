//! Peers that lie or babble: forged ids, answers to questions never asked, garbage and
//! oversized frames. Each is dropped; the node keeps serving.

mod common;

use std::net::SocketAddr;

use common::*;
use p2plab_chord::{Frame, Id, Message, NodeRef};
use p2plab_peer_protocol::{Node, WireMessage};

fn frame(request: u64, msg: Message) -> Vec<u8> {
    Frame { request, msg }.to_bytes()
}

/// A converged ring of three, and the address of the node at index 0.
fn three() -> (Net, Vec<usize>) {
    let mut net = net(21);
    let ids = ring(&mut net, 3, |_| {});
    assert!(net.run_until_cond(secs(120), |n| ring_is_exact(n)));
    (net, ids)
}

fn dropped(net: &Net, idx: usize, why: &str) -> u64 {
    node(net, idx)
        .metrics()
        .dropped
        .get(why)
        .copied()
        .unwrap_or(0)
}

#[test]
fn forged_ids_and_unsolicited_answers_are_ignored_and_the_connection_still_serves() {
    let (mut net, ids) = three();
    let target = net.addr(ids[0]);
    let pred_before = node(&net, ids[0]).predecessor();
    let impostor_addr = Net::addr_for(50);
    // Claims an id just below the target's, which its address does not hash to.
    let forged = NodeRef {
        id: node(&net, ids[0])
            .ring()
            .add_pow2(node(&net, ids[0]).id(), 0),
        addr: impostor_addr,
    };
    let mut script = frame(0, Message::Notify { node: forged });
    script.extend(frame(
        12345,
        Message::SuccessorIs {
            node: NodeRef::at(impostor_addr, node(&net, ids[0]).ring()),
        },
    ));
    script.extend(frame(5, Message::Ping));
    let peer = net.add_at(
        impostor_addr,
        TestNode::Raw(Box::new(RawPeer::new(target, script))),
    );
    net.run_for(secs(3));

    assert_eq!(dropped(&net, ids[0], "forged_id"), 1);
    assert_eq!(dropped(&net, ids[0], "unsolicited_response"), 1);
    assert_eq!(node(&net, ids[0]).predecessor(), pred_before);
    assert_eq!(
        raw(&net, peer).received,
        [0, 0, 0, 9, 0x84, 0, 0, 0, 0, 0, 0, 0, 5],
        "pong"
    );
    assert!(!raw(&net, peer).closed);
    net.run_for(secs(10));
    assert!(ring_is_exact(&net));
}

fn assert_cut_off(script: Vec<u8>) {
    let (mut net, ids) = three();
    let target: SocketAddr = net.addr(ids[0]);
    let peer = net.add(TestNode::Raw(Box::new(RawPeer::new(target, script))));
    net.run_for(secs(3));
    assert!(raw(&net, peer).closed, "the connection is closed");
    assert!(raw(&net, peer).received.is_empty());
    assert_eq!(dropped(&net, ids[0], "malformed"), 1);
    net.run_for(secs(10));
    assert!(ring_is_exact(&net), "the node carries on");
}

#[test]
fn an_unknown_message_type_cuts_the_connection() {
    assert_cut_off(vec![0, 0, 0, 9, 0x7f, 0, 0, 0, 0, 0, 0, 0, 1]);
}

#[test]
fn an_oversized_frame_cuts_the_connection() {
    assert_cut_off(vec![0, 0xff, 0xff, 0xff, 0x04]);
}

#[test]
fn a_short_field_cuts_the_connection() {
    let mut bytes = frame(1, Message::FindSuccessor { target: Id::ZERO });
    bytes.truncate(bytes.len() - 3);
    bytes[3] -= 3;
    assert_cut_off(bytes);
}

#[test]
fn an_http_request_is_not_chord() {
    assert_cut_off(b"GET /get/0/a.mp3/ HTTP/1.0\r\n\r\n".to_vec());
}
