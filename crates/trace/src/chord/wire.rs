//! Chord frames laid out field by field, for [`crate::hexdump`].
//!
//! ```text
//! length u32 BE | type u8 | request id u64 BE | body (per type)
//! ```

use p2plab_chord::{Frame, Message, NodeRef};
use p2plab_peer_protocol::{MessageKind, WireMessage};

use crate::hexdump::{ascii, Field, Fields};

/// The fields of a Chord frame.
pub fn fields(bytes: &[u8]) -> Vec<Field> {
    let mut f = Fields::new();
    let Ok((frame, used)) = Frame::decode(bytes) else {
        return f.finish();
    };
    let msg = &frame.msg;
    f.add(
        4,
        format!(
            "length {}, u32 big-endian: bytes after this field",
            used - 4
        ),
    );
    f.add(
        1,
        format!("type {:#04x} = {}", msg.type_byte(), msg.kind().name()),
    );
    f.add(
        8,
        format!(
            "request id {}, u64 BE: the answer repeats it",
            frame.request
        ),
    );
    match msg {
        Message::FindSuccessor { target } => {
            f.add(
                20,
                format!(
                    "target id {} (20 bytes; only the low m bits used)",
                    target.low_u64()
                ),
            );
        }
        Message::SuccessorIs { node } | Message::Notify { node } => node_fields(&mut f, node),
        Message::CloserNodes { nodes } => {
            f.add(1, format!("{} node references follow", nodes.len()));
            nodes.iter().for_each(|n| node_fields(&mut f, n));
        }
        Message::Get { key, query } => {
            f.add(20, format!("key {}", key.low_u64()));
            f.add(2, format!("query length {}, u16 BE", query.len()));
            f.add(query.len(), format!("query {query:?}"));
        }
        Message::Values { records } => {
            f.add(2, format!("{} records follow, u16 BE", records.len()));
            for r in records {
                f.add(7, format!("holder {} (family 4, IPv4, port BE)", r.holder));
                f.add(4, format!("file index {}", r.index));
                f.add(8, format!("size {} bytes", r.size));
                let at = f.offset() + 1;
                let name = ascii(bytes.get(at..at + r.name.len()).unwrap_or_default());
                f.add(1 + r.name.len(), format!("name {name:?} (u8 length first)"));
            }
        }
        Message::RouteRecursive {
            origin,
            target,
            hops,
        } => {
            node_fields(&mut f, origin);
            f.add(
                20,
                format!(
                    "target id {} (20 bytes; only the low m bits used)",
                    target.low_u64()
                ),
            );
            f.add(
                1,
                format!("hops {hops}: nodes that passed the lookup on so far"),
            );
        }
        Message::RecursiveFound { node, hops } => {
            node_fields(&mut f, node);
            f.add(1, format!("hops {hops}: nodes that handled the lookup"));
        }
        _ => {}
    }
    f.finish()
}

fn node_fields(f: &mut Fields, node: &NodeRef) {
    f.add(20, format!("node id {}", node.id.low_u64()));
    let len = if node.addr.is_ipv4() { 7 } else { 19 };
    f.add(
        len,
        format!("node address {} (family, IP, port BE)", node.addr),
    );
}
