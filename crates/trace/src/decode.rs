//! From recorded byte chunks back to messages.
//!
//! The in-memory network records every chunk a node wrote, with its ends and times
//! ([`Transmission`]). TCP is a stream, so a chunk may in principle hold several messages or
//! part of one; the decoder therefore keeps one reassembly buffer per direction (sender,
//! receiver) and cuts messages out of it with the protocol's own [`WireMessage::decode`] — the
//! same code the receiving node runs. A message is dated by the chunk that completed it.
//!
//! Bytes that do not decode (a Gnutella handshake, garbage) are counted and skipped: the
//! direction's buffer is dropped and decoding starts again with the next chunk.

use std::collections::HashMap;
use std::time::Duration;

use p2plab_netsim::{NodeIdx, Transmission};
use p2plab_peer_protocol::{CodecError, Instant, WireMessage};

use crate::model::{Role, TracedMessage};
use crate::MAX_PENDING_BYTES;

/// One decoded message and where it travelled.
#[derive(Debug, Clone)]
pub struct Decoded<M> {
    /// The message.
    pub msg: M,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Sender.
    pub from: NodeIdx,
    /// Receiver.
    pub to: NodeIdx,
    /// When the chunk that completed it was written.
    pub sent: Instant,
    /// When that chunk arrived.
    pub delivered: Instant,
}

impl<M> Decoded<M> {
    /// This message as the trace shows it: its ends, its times counted from `origin`, its
    /// bytes, and what the network's tracer says of it.
    pub fn traced(
        &self,
        origin: Instant,
        kind: &'static str,
        (summary, why, role): (String, String, Role),
    ) -> TracedMessage {
        let (sent, delivered) = self.times_since(origin);
        TracedMessage {
            sent,
            delivered,
            from: self.from,
            to: self.to,
            kind,
            summary,
            why,
            role,
            bytes: self.bytes.clone(),
        }
    }

    /// Sent and delivered times, counted from `origin`.
    pub fn times_since(&self, origin: Instant) -> (Duration, Duration) {
        (
            self.sent.saturating_since(origin),
            self.delivered.saturating_since(origin),
        )
    }
}

/// Every message in `chunks`, in delivery order, and the number of bytes that did not decode.
pub fn decode_all<M: WireMessage>(chunks: &[Transmission]) -> (Vec<Decoded<M>>, usize) {
    let mut buffers: HashMap<(NodeIdx, NodeIdx), Vec<u8>> = HashMap::new();
    let mut out = Vec::new();
    let mut skipped = 0;
    for chunk in chunks {
        let buf = buffers.entry((chunk.from, chunk.to)).or_default();
        buf.extend_from_slice(&chunk.bytes);
        loop {
            match M::decode(buf) {
                Ok((msg, used)) => {
                    out.push(Decoded {
                        msg,
                        bytes: buf.drain(..used).collect(),
                        from: chunk.from,
                        to: chunk.to,
                        sent: chunk.sent,
                        delivered: chunk.delivered,
                    });
                }
                Err(CodecError::Incomplete) if buf.len() <= MAX_PENDING_BYTES => break,
                Err(_) => {
                    skipped += buf.len();
                    buf.clear();
                    break;
                }
            }
            if buf.is_empty() {
                break;
            }
        }
    }
    (out, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use p2plab_napster::Message;

    fn chunk(from: NodeIdx, to: NodeIdx, bytes: &[u8]) -> Transmission {
        Transmission {
            sent: Instant::ZERO,
            delivered: Instant::from_micros(10),
            from,
            to,
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn splits_and_joins_messages_per_direction() {
        // 202 (end of search) is `00 00 ca 00`; two in one chunk, one split over two chunks
        // with a chunk of the other direction in between.
        let end = [0x00, 0x00, 0xca, 0x00];
        let mut two = end.to_vec();
        two.extend_from_slice(&end);
        let chunks = [
            chunk(0, 1, &two),
            chunk(0, 1, &end[..1]),
            chunk(1, 0, &end),
            chunk(0, 1, &end[1..]),
        ];
        let (msgs, skipped) = decode_all::<Message>(&chunks);
        let ends: Vec<_> = msgs.iter().map(|d| (d.from, d.to, d.msg.clone())).collect();
        assert_eq!(
            ends,
            [
                (0, 1, Message::SearchEnd),
                (0, 1, Message::SearchEnd),
                (1, 0, Message::SearchEnd),
                (0, 1, Message::SearchEnd),
            ]
        );
        assert_eq!(skipped, 0);
        assert_eq!(msgs[3].bytes, end);
    }

    #[test]
    fn garbage_is_counted_and_skipped() {
        // A Napster frame is `len type data`; type 0xffff is unknown to p2plab.
        let chunks = [
            chunk(0, 1, &[0x01, 0x00, 0xff, 0xff, b'x']),
            chunk(0, 1, &[0, 0, 0xca, 0]),
        ];
        let (msgs, skipped) = decode_all::<Message>(&chunks);
        assert_eq!(skipped, 5);
        assert_eq!(msgs.len(), 1);
    }
}
