//! Ping (`0x00`): "who is out there?"
//!
//! ```text
//! payload: normally empty (length 0); optional extension bytes are allowed and forwarded.
//! ```
//!
//! Every servent answers a Ping with a Pong carrying its own address, and forwards it to its
//! other neighbours. A TTL-1 Ping reaches only the neighbour ("direct"), TTL 2 also the
//! neighbour's neighbours ("browsing").

/// A Ping payload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ping {
    /// Extension bytes (GGEP in later servents), kept as they came.
    pub extra: Vec<u8>,
}

impl Ping {
    /// Decodes a Ping payload. Any bytes are a valid Ping.
    pub fn decode(payload: &[u8]) -> Self {
        Ping {
            extra: payload.to_vec(),
        }
    }

    /// Appends the payload to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.extra);
    }

    /// Payload length in bytes.
    pub fn len(&self) -> usize {
        self.extra.len()
    }

    /// True for the classic empty Ping.
    pub fn is_empty(&self) -> bool {
        self.extra.is_empty()
    }
}
