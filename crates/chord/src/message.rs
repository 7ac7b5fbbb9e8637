//! Chord's RPCs on the wire: one frame per message, length-prefixed, big-endian.
//!
//! The paper defines algorithms, not bytes; this is p2plab's own compact encoding. Every
//! frame has the same 13-byte head:
//!
//! ```text
//! offset  size  field
//!      0     4  length of the rest of the frame (u32, big-endian), 9 ..= MAX_FRAME - 4
//!      4     1  type: requests and one-way messages 0x01..0x08, responses have the high bit set
//!      5     8  request id (u64): a response repeats its request's; one-way messages send 0
//!     13     …  body, laid out per type below (field types in [`crate::wire`])
//! ```
//!
//! Because [`MAX_FRAME`] is below 2^24 the first byte of every frame is `0x00`, so a Chord
//! connection can never begin with the bytes `GET ` that the runtime routes to its HTTP
//! file server.
//!
//! Each variant's doc shows its type byte and body. Every count is bounded by a named
//! constant ([`MAX_SUCCESSORS`], [`MAX_RECORDS`], [`MAX_QUERY_LEN`]); a frame that breaks a
//! bound, or has bytes left over after its last field, does not decode.

use p2plab_peer_protocol::{ByteReader, CodecError, WireMessage};

use crate::id::{Id, ID_BYTES};
use crate::kind::Kind;
use crate::node_ref::NodeRef;
use crate::record::Record;
use crate::wire::{node_len, put_id, put_node, put_nodes, ChordFields};
use crate::{MAX_FRAME, MAX_QUERY_LEN, MAX_RECORDS, MAX_SUCCESSORS};

/// Bytes before the body: length (4), type (1), request id (8).
pub const HEAD_LEN: usize = 13;

/// A frame: the request id and the message it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Ties a response to its request; 0 for one-way messages.
    pub request: u64,
    /// The message.
    pub msg: Message,
}

/// Every Chord message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// `0x01` — one step of `find_successor(target)` (ToN Fig. 5), asked of the node the
    /// lookup has reached. Body: `target: Id`.
    /// Answered by [`Message::SuccessorIs`] or [`Message::CloserNodes`].
    FindSuccessor {
        /// The identifier whose successor is wanted.
        target: Id,
    },
    /// `0x81` — "target ∈ (me, my successor]: the answer is this node". Body: `node: NodeRef`.
    SuccessorIs {
        /// successor(target).
        node: NodeRef,
    },
    /// `0x82` — "ask one of these": the replier's `closest_preceding_node(target)` and the
    /// next-best preceding nodes, best first. Body: `nodes: List<NodeRef>` (≤ [`MAX_SUCCESSORS`]).
    CloserNodes {
        /// Nodes in (replier, target), closest to the target first.
        nodes: Vec<NodeRef>,
    },
    /// `0x02` — stabilize's question to the successor: "who is your predecessor, and who
    /// are your successors?" Empty body. Answered by [`Message::Neighbours`].
    GetPredecessor,
    /// `0x83` — the answer to [`Message::GetPredecessor`].
    /// Body: `predecessor: Option<NodeRef>`, `successors: List<NodeRef>` (≤ [`MAX_SUCCESSORS`]).
    Neighbours {
        /// The replier's predecessor, if it knows one.
        predecessor: Option<NodeRef>,
        /// The replier's successor list.
        successors: Vec<NodeRef>,
    },
    /// `0x03` — one-way: "I think I might be your predecessor" (ToN Fig. 6 `notify`).
    /// Body: `node: NodeRef`.
    Notify {
        /// The sender.
        node: NodeRef,
    },
    /// `0x04` — are you alive? Empty body; answered by [`Message::Pong`].
    Ping,
    /// `0x84` — alive. Empty body.
    Pong,
    /// `0x05` — one-way: keep these records under `key`. A primary copy also forwards them
    /// to the receiver's next `replicas - 1` successors as replicas; a primary copy of a
    /// key outside the receiver's `(predecessor, receiver]` goes on to its predecessor
    /// instead (see the index notes in `node::index`). A replica is kept only by a node
    /// among the first `replicas` from the key, and neither kind past the store's limits.
    /// Body: `key: Id`, `replica: u8` (0 primary, 1 replica), `records: u16 count` then
    /// that many `Record`s (≤ [`MAX_RECORDS`]).
    Store {
        /// The key the records are filed under.
        key: Id,
        /// False for the owner's copy (to be replicated), true for a replica.
        replica: bool,
        /// The records.
        records: Vec<Record>,
    },
    /// `0x06` — the records under `key` whose names match `query`.
    /// Body: `key: Id`, `query: Text` (≤ [`MAX_QUERY_LEN`] bytes). Answered by [`Message::Values`].
    Get {
        /// The key to read.
        key: Id,
        /// The searcher's whole query, so the owner returns only matching names.
        query: String,
    },
    /// `0x86` — the answer to [`Message::Get`].
    /// Body: `records: u16 count` then that many `Record`s (≤ [`MAX_RECORDS`]).
    Values {
        /// Matching records.
        records: Vec<Record>,
    },
    /// `0x07` — one-way, sent by a node leaving voluntarily to both neighbours: "route
    /// around me". Body: `node: NodeRef` (the one leaving), `predecessor: Option<NodeRef>`,
    /// `successors: List<NodeRef>` (≤ [`MAX_SUCCESSORS`]).
    Leaving {
        /// The departing node.
        node: NodeRef,
        /// Its predecessor: the successor's new predecessor.
        predecessor: Option<NodeRef>,
        /// Its successor list: the predecessor's new successors.
        successors: Vec<NodeRef>,
    },
    /// `0x08` — one-way, recursive routing: "find successor(target) for `origin`, and tell
    /// it directly". Forwarded hop by hop; the request id is the origin's.
    /// Body: `origin: NodeRef`, `target: Id`, `hops: u8` (hops taken so far).
    RouteRecursive {
        /// The node that started the lookup and waits for the answer.
        origin: NodeRef,
        /// The identifier whose successor is wanted.
        target: Id,
        /// Hops so far.
        hops: u8,
    },
    /// `0x88` — the end of a recursive lookup, sent by the last node straight to the origin.
    /// Body: `node: NodeRef` (successor(target)), `hops: u8`.
    RecursiveFound {
        /// successor(target).
        node: NodeRef,
        /// Hops the lookup took.
        hops: u8,
    },
}

impl Message {
    /// The type byte.
    pub fn type_byte(&self) -> u8 {
        match self {
            Message::FindSuccessor { .. } => 0x01,
            Message::SuccessorIs { .. } => 0x81,
            Message::CloserNodes { .. } => 0x82,
            Message::GetPredecessor => 0x02,
            Message::Neighbours { .. } => 0x83,
            Message::Notify { .. } => 0x03,
            Message::Ping => 0x04,
            Message::Pong => 0x84,
            Message::Store { .. } => 0x05,
            Message::Get { .. } => 0x06,
            Message::Values { .. } => 0x86,
            Message::Leaving { .. } => 0x07,
            Message::RouteRecursive { .. } => 0x08,
            Message::RecursiveFound { .. } => 0x88,
        }
    }

    /// True for messages that answer a request.
    pub fn is_response(&self) -> bool {
        self.type_byte() & 0x80 != 0
    }

    /// The message's kind, as metrics count it.
    pub fn kind(&self) -> Kind {
        match self {
            Message::FindSuccessor { .. } => Kind::FindSuccessor,
            Message::SuccessorIs { .. } => Kind::SuccessorIs,
            Message::CloserNodes { .. } => Kind::CloserNodes,
            Message::GetPredecessor => Kind::GetPredecessor,
            Message::Neighbours { .. } => Kind::Neighbours,
            Message::Notify { .. } => Kind::Notify,
            Message::Ping => Kind::Ping,
            Message::Pong => Kind::Pong,
            Message::Store { .. } => Kind::Store,
            Message::Get { .. } => Kind::Get,
            Message::Values { .. } => Kind::Values,
            Message::Leaving { .. } => Kind::Leaving,
            Message::RouteRecursive { .. } => Kind::RouteRecursive,
            Message::RecursiveFound { .. } => Kind::RecursiveFound,
        }
    }

    fn body_len(&self) -> usize {
        let nodes = |ns: &[NodeRef]| 1 + ns.iter().map(node_len).sum::<usize>();
        let opt = |n: &Option<NodeRef>| 1 + n.as_ref().map_or(0, node_len);
        let records = |rs: &[Record]| 2 + rs.iter().map(Record::encoded_len).sum::<usize>();
        match self {
            Message::FindSuccessor { .. } => ID_BYTES,
            Message::SuccessorIs { node } | Message::Notify { node } => node_len(node),
            Message::CloserNodes { nodes: ns } => nodes(ns),
            Message::GetPredecessor | Message::Ping | Message::Pong => 0,
            Message::Neighbours {
                predecessor,
                successors,
            } => opt(predecessor) + nodes(successors),
            Message::Store { records: rs, .. } => ID_BYTES + 1 + records(rs),
            Message::Get { query, .. } => ID_BYTES + 2 + query.len(),
            Message::Values { records: rs } => records(rs),
            Message::Leaving {
                node,
                predecessor,
                successors,
            } => node_len(node) + opt(predecessor) + nodes(successors),
            Message::RouteRecursive { origin, .. } => node_len(origin) + ID_BYTES + 1,
            Message::RecursiveFound { node, .. } => node_len(node) + 1,
        }
    }

    fn encode_body(&self, out: &mut Vec<u8>) {
        let records = |out: &mut Vec<u8>, rs: &[Record]| {
            out.extend_from_slice(&(rs.len() as u16).to_be_bytes());
            rs.iter().for_each(|r| r.encode(out));
        };
        match self {
            Message::FindSuccessor { target } => put_id(out, target),
            Message::SuccessorIs { node } | Message::Notify { node } => put_node(out, node),
            Message::CloserNodes { nodes } => put_nodes(out, nodes),
            Message::GetPredecessor | Message::Ping | Message::Pong => {}
            Message::Neighbours {
                predecessor,
                successors,
            } => {
                put_opt(out, predecessor);
                put_nodes(out, successors);
            }
            Message::Store {
                key,
                replica,
                records: rs,
            } => {
                put_id(out, key);
                out.push(u8::from(*replica));
                records(out, rs);
            }
            Message::Get { key, query } => {
                put_id(out, key);
                out.extend_from_slice(&(query.len() as u16).to_be_bytes());
                out.extend_from_slice(query.as_bytes());
            }
            Message::Values { records: rs } => records(out, rs),
            Message::Leaving {
                node,
                predecessor,
                successors,
            } => {
                put_node(out, node);
                put_opt(out, predecessor);
                put_nodes(out, successors);
            }
            Message::RouteRecursive {
                origin,
                target,
                hops,
            } => {
                put_node(out, origin);
                put_id(out, target);
                out.push(*hops);
            }
            Message::RecursiveFound { node, hops } => {
                put_node(out, node);
                out.push(*hops);
            }
        }
    }

    fn decode_body(kind: u8, r: &mut ByteReader<'_>) -> Result<Message, CodecError> {
        Ok(match kind {
            0x01 => Message::FindSuccessor { target: r.id()? },
            0x81 => Message::SuccessorIs { node: r.node()? },
            0x82 => Message::CloserNodes {
                nodes: r.nodes(MAX_SUCCESSORS)?,
            },
            0x02 => Message::GetPredecessor,
            0x83 => Message::Neighbours {
                predecessor: r.opt_node()?,
                successors: r.nodes(MAX_SUCCESSORS)?,
            },
            0x03 => Message::Notify { node: r.node()? },
            0x04 => Message::Ping,
            0x84 => Message::Pong,
            0x05 => Message::Store {
                key: r.id()?,
                replica: decode_flag(r)?,
                records: decode_records(r)?,
            },
            0x06 => Message::Get {
                key: r.id()?,
                query: decode_query(r)?,
            },
            0x86 => Message::Values {
                records: decode_records(r)?,
            },
            0x07 => Message::Leaving {
                node: r.node()?,
                predecessor: r.opt_node()?,
                successors: r.nodes(MAX_SUCCESSORS)?,
            },
            0x08 => Message::RouteRecursive {
                origin: r.node()?,
                target: r.id()?,
                hops: r.u8()?,
            },
            0x88 => Message::RecursiveFound {
                node: r.node()?,
                hops: r.u8()?,
            },
            t => return Err(CodecError::UnknownType(u32::from(t))),
        })
    }
}

impl Message {
    /// Every node reference the message carries.
    pub fn node_refs(&self) -> Vec<NodeRef> {
        match self {
            Message::SuccessorIs { node }
            | Message::Notify { node }
            | Message::RecursiveFound { node, .. } => vec![*node],
            Message::RouteRecursive { origin, .. } => vec![*origin],
            Message::CloserNodes { nodes } => nodes.clone(),
            Message::Neighbours {
                predecessor,
                successors,
            } => predecessor.iter().chain(successors).copied().collect(),
            Message::Leaving {
                node,
                predecessor,
                successors,
            } => std::iter::once(node)
                .chain(predecessor)
                .chain(successors)
                .copied()
                .collect(),
            _ => Vec::new(),
        }
    }
}

fn put_opt(out: &mut Vec<u8>, node: &Option<NodeRef>) {
    match node {
        None => out.push(0),
        Some(n) => {
            out.push(1);
            put_node(out, n);
        }
    }
}

fn decode_flag(r: &mut ByteReader<'_>) -> Result<bool, CodecError> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        f => Err(CodecError::malformed(format!("flag {f}"))),
    }
}

fn decode_records(r: &mut ByteReader<'_>) -> Result<Vec<Record>, CodecError> {
    let n = usize::from(r.u16_be()?);
    if n > MAX_RECORDS {
        return Err(CodecError::malformed(format!(
            "{n} records, at most {MAX_RECORDS}"
        )));
    }
    (0..n).map(|_| Record::decode(r)).collect()
}

fn decode_query(r: &mut ByteReader<'_>) -> Result<String, CodecError> {
    let len = usize::from(r.u16_be()?);
    if len > MAX_QUERY_LEN {
        return Err(CodecError::malformed(format!(
            "query of {len} bytes, at most {MAX_QUERY_LEN}"
        )));
    }
    r.utf8(len)
}

impl WireMessage for Frame {
    fn decode(buf: &[u8]) -> Result<(Self, usize), CodecError> {
        let Some(len) = buf.get(..4) else {
            return Err(CodecError::Incomplete);
        };
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        if len + 4 > MAX_FRAME {
            return Err(CodecError::TooLarge {
                len: len + 4,
                max: MAX_FRAME,
            });
        }
        if len < HEAD_LEN - 4 {
            return Err(CodecError::malformed(format!("frame of {len} bytes")));
        }
        let Some(frame) = buf.get(4..4 + len) else {
            return Err(CodecError::Incomplete);
        };
        let mut r = ByteReader::new(frame, "chord frame");
        let kind = r.u8()?;
        let request = r.u64_be()?;
        let msg = Message::decode_body(kind, &mut r)?;
        r.finish()?;
        Ok((Frame { request, msg }, 4 + len))
    }

    fn encode(&self, out: &mut Vec<u8>) {
        let len = (self.encoded_len() - 4) as u32;
        out.extend_from_slice(&len.to_be_bytes());
        out.push(self.msg.type_byte());
        out.extend_from_slice(&self.request.to_be_bytes());
        self.msg.encode_body(out);
    }

    fn encoded_len(&self) -> usize {
        HEAD_LEN + self.msg.body_len()
    }

    type Kind = Kind;

    fn kind(&self) -> Kind {
        self.msg.kind()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::{Ipv4Addr, SocketAddr};

    fn node(id: u64, last: u8) -> NodeRef {
        NodeRef {
            id: Id::from_u64(id),
            addr: SocketAddr::from((Ipv4Addr::new(10, 0, 0, last), 6346)),
        }
    }

    fn id_bytes(v: u8) -> Vec<u8> {
        let mut b = vec![0u8; 19];
        b.push(v);
        b
    }

    fn check(frame: Frame, bytes: &[u8]) {
        assert_eq!(frame.to_bytes(), bytes, "encoding of {frame:?}");
        assert_eq!(frame.encoded_len(), bytes.len());
        assert_eq!(Frame::decode(bytes), Ok((frame, bytes.len())));
    }

    #[test]
    fn ping_is_a_bare_head() {
        check(
            Frame {
                request: 1,
                msg: Message::Ping,
            },
            &[0, 0, 0, 9, 0x04, 0, 0, 0, 0, 0, 0, 0, 1],
        );
    }

    #[test]
    fn find_successor_carries_a_twenty_byte_id() {
        let mut bytes = vec![0, 0, 0, 29, 0x01, 1, 2, 3, 4, 5, 6, 7, 8];
        bytes.extend(id_bytes(54));
        check(
            Frame {
                request: 0x0102_0304_0506_0708,
                msg: Message::FindSuccessor {
                    target: Id::from_u64(54),
                },
            },
            &bytes,
        );
    }

    #[test]
    fn notify_carries_a_node_reference() {
        let mut bytes = vec![0, 0, 0, 36, 0x03, 0, 0, 0, 0, 0, 0, 0, 0];
        bytes.extend(id_bytes(56));
        bytes.extend([4, 10, 0, 0, 7, 0x18, 0xca]);
        check(
            Frame {
                request: 0,
                msg: Message::Notify { node: node(56, 7) },
            },
            &bytes,
        );
    }

    #[test]
    fn neighbours_with_no_predecessor_and_one_successor() {
        let mut bytes = vec![0, 0, 0, 38, 0x83, 0, 0, 0, 0, 0, 0, 0, 9];
        bytes.push(0); // no predecessor
        bytes.push(1); // one successor
        bytes.extend(id_bytes(14));
        bytes.extend([4, 10, 0, 0, 2, 0x18, 0xca]);
        check(
            Frame {
                request: 9,
                msg: Message::Neighbours {
                    predecessor: None,
                    successors: vec![node(14, 2)],
                },
            },
            &bytes,
        );
    }

    #[test]
    fn store_carries_records() {
        let mut bytes = vec![0, 0, 0, 57, 0x05, 0, 0, 0, 0, 0, 0, 0, 0];
        bytes.extend(id_bytes(5));
        bytes.push(1); // replica
        bytes.extend([0, 1]); // one record
        bytes.extend([4, 127, 0, 0, 1, 0x1f, 0x90]); // holder 127.0.0.1:8080
        bytes.extend([0, 0, 0, 2]); // index
        bytes.extend([0, 0, 0, 0, 0, 0, 0x03, 0xe8]); // size 1000
        bytes.push(5);
        bytes.extend(b"a.mp3");
        check(
            Frame {
                request: 0,
                msg: Message::Store {
                    key: Id::from_u64(5),
                    replica: true,
                    records: vec![Record {
                        name: "a.mp3".into(),
                        size: 1000,
                        holder: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
                        index: 2,
                    }],
                },
            },
            &bytes,
        );
    }

    #[test]
    fn get_carries_the_query_text() {
        let mut bytes = vec![0, 0, 0, 34, 0x06, 0, 0, 0, 0, 0, 0, 0, 3];
        bytes.extend(id_bytes(7));
        bytes.extend([0, 3]);
        bytes.extend(b"one");
        check(
            Frame {
                request: 3,
                msg: Message::Get {
                    key: Id::from_u64(7),
                    query: "one".into(),
                },
            },
            &bytes,
        );
    }

    #[test]
    fn partial_frames_wait_and_bad_frames_fail() {
        let ping = [0, 0, 0, 9, 0x04, 0, 0, 0, 0, 0, 0, 0, 1];
        for cut in 0..ping.len() {
            assert_eq!(Frame::decode(&ping[..cut]), Err(CodecError::Incomplete));
        }
        let mut unknown = ping;
        unknown[4] = 0x7f;
        assert_eq!(Frame::decode(&unknown), Err(CodecError::UnknownType(0x7f)));
        let huge = [0x00, 0xff, 0xff, 0xff, 0x04];
        assert!(matches!(
            Frame::decode(&huge),
            Err(CodecError::TooLarge { .. })
        ));
        let trailing = [0, 0, 0, 10, 0x04, 0, 0, 0, 0, 0, 0, 0, 1, 0xaa];
        assert!(matches!(
            Frame::decode(&trailing),
            Err(CodecError::Malformed(_))
        ));
        let short_head = [0, 0, 0, 2, 0x04, 0];
        assert!(matches!(
            Frame::decode(&short_head),
            Err(CodecError::Malformed(_))
        ));
        let mut too_many = vec![0, 0, 0, 10, 0x82, 0, 0, 0, 0, 0, 0, 0, 1];
        too_many.push(MAX_SUCCESSORS as u8 + 1);
        assert!(matches!(
            Frame::decode(&too_many),
            Err(CodecError::Malformed(_))
        ));
    }

    #[test]
    fn an_http_request_is_never_a_frame() {
        assert!(Frame::decode(b"GET /get/1/a.mp3/ HTTP/1.0\r\n\r\n").is_err());
    }

    fn arb_node() -> impl Strategy<Value = NodeRef> {
        (any::<[u8; 20]>(), any::<[u8; 4]>(), any::<u16>()).prop_map(|(id, ip, port)| NodeRef {
            id: Id::from_bytes(id),
            addr: SocketAddr::from((ip, port)),
        })
    }

    fn arb_record() -> impl Strategy<Value = Record> {
        (
            "[a-z0-9 ._-]{0,40}",
            any::<u64>(),
            any::<[u8; 16]>(),
            any::<u16>(),
            any::<u32>(),
        )
            .prop_map(|(name, size, ip, port, index)| Record {
                name,
                size,
                holder: SocketAddr::from((ip, port)),
                index,
            })
    }

    fn arb_message() -> impl Strategy<Value = Message> {
        let nodes = || prop::collection::vec(arb_node(), 0..=MAX_SUCCESSORS);
        let id = || any::<[u8; 20]>().prop_map(Id::from_bytes);
        prop_oneof![
            id().prop_map(|target| Message::FindSuccessor { target }),
            arb_node().prop_map(|node| Message::SuccessorIs { node }),
            nodes().prop_map(|nodes| Message::CloserNodes { nodes }),
            Just(Message::GetPredecessor),
            (prop::option::of(arb_node()), nodes()).prop_map(|(predecessor, successors)| {
                Message::Neighbours {
                    predecessor,
                    successors,
                }
            }),
            arb_node().prop_map(|node| Message::Notify { node }),
            Just(Message::Ping),
            Just(Message::Pong),
            (
                id(),
                any::<bool>(),
                prop::collection::vec(arb_record(), 0..8)
            )
                .prop_map(|(key, replica, records)| Message::Store {
                    key,
                    replica,
                    records
                }),
            (id(), "[a-z ]{0,60}").prop_map(|(key, query)| Message::Get { key, query }),
            prop::collection::vec(arb_record(), 0..8)
                .prop_map(|records| Message::Values { records }),
            (arb_node(), prop::option::of(arb_node()), nodes()).prop_map(
                |(node, predecessor, successors)| Message::Leaving {
                    node,
                    predecessor,
                    successors
                }
            ),
            (arb_node(), id(), any::<u8>()).prop_map(|(origin, target, hops)| {
                Message::RouteRecursive {
                    origin,
                    target,
                    hops,
                }
            }),
            (arb_node(), any::<u8>())
                .prop_map(|(node, hops)| Message::RecursiveFound { node, hops }),
        ]
    }

    proptest! {
        #[test]
        fn every_message_round_trips_and_starts_with_a_zero_byte(
            request: u64,
            msg in arb_message(),
        ) {
            let frame = Frame { request, msg };
            let bytes = frame.to_bytes();
            prop_assert_eq!(bytes.len(), frame.encoded_len());
            prop_assert_eq!(bytes[0], 0);
            prop_assert!(bytes.len() <= MAX_FRAME);
            prop_assert_eq!(Frame::decode(&bytes), Ok((frame, bytes.len())));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = Frame::decode(&bytes);
        }
    }
}
