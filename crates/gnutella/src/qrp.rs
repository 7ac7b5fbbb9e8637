//! The Query Routing Protocol (QRP 0.1): how a leaf tells its ultrapeer which Queries are
//! worth sending it.
//!
//! A 0.4 servent floods every Query to every neighbour. An ultrapeer with hundreds of leaves
//! cannot: instead, each leaf sends it a *query routing table* — a bit per slot of a large
//! hash table, set where a word of one of the leaf's file names hashes. When a Query comes,
//! the ultrapeer hashes each of its words the same way and passes the Query to a leaf only if
//! the leaf's table has those slots set. The table names no file and no word (only slots),
//! may say "yes" wrongly when two words share a slot, but never says "no" wrongly: a leaf
//! that sent no table, or a wrong one, simply gets no Queries. gtk-gnutella routes to a leaf
//! *only* through its table.
//!
//! The table travels in descriptors of type `0x30` (hops 0, TTL 1: never forwarded), one
//! RESET then a sequence of PATCHes:
//!
//! ```text
//! RESET   | 0x00 | table length: slots, u32 LE | infinity (1) |
//! PATCH   | 0x01 | seq no (1) | seq size (1) | compressor (1) | entry bits (1) | data ... |
//! ```
//!
//! RESET empties the table: every slot holds `infinity`, "no file this side". The PATCH data
//! is one delta per slot, `entry bits` wide (4 here: two slots a byte, the lower-numbered slot
//! in the high nibble); the whole run of deltas is compressed once (compressor `0x1`, zlib)
//! or not (`0x0`), and the result is cut into `seq size` messages numbered from 1. A
//! negative delta marks a slot present, a positive one clears it, 0 leaves it. QRP 0.1
//! meant the values as hop counts; what the ultrapeer uses today is only present or not.
//!
//! # The hash
//!
//! Every implementation must agree on it ([`hash`]): the word's characters, low byte of each
//! UTF-16 unit, XORed into a 32-bit number four bytes at a time (little-endian), times
//! `0x4F1BBCDC`, keeping the top `bits` bits.
//!
//! # Which words
//!
//! This servent matches a Query when every query word is a whole word of a file's name
//! ([`p2plab_peer_protocol::keywords`]). Its table holds exactly those words, lower-cased: an
//! ultrapeer then routes to it every Query it can answer and few that it cannot. The QRP
//! draft also hashes shortened words ("plurals"); this servent would not match those, so
//! they would only bring Queries it must ignore.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use p2plab_peer_protocol::keywords::{words, Query};
use p2plab_peer_protocol::Library;
use thiserror::Error;

/// The descriptor type of QRP messages.
pub const QRP_TYPE: u8 = 0x30;

/// The variant byte of a RESET.
pub const RESET: u8 = 0x00;

/// The variant byte of a PATCH.
pub const PATCH: u8 = 0x01;

/// The size of the table this servent sends, as a power of two: 2^14 = 16,384 slots, the
/// size gtk-gnutella's own leaves start at (its `MIN_TABLE_BITS`). A library of a few
/// thousand words fills under a tenth of it, so false "yes" answers stay rare.
pub const TABLE_BITS: u32 = 14;

/// The "no file here" value a RESET fills the table with. QRP 0.1 counts it in hops; 7, the
/// usual TTL, is the value LimeWire and the draft use.
pub const INFINITY: u8 = 7;

/// Bits per slot in the PATCHes this servent sends: 4, two slots a byte, which every
/// servent reads (1-bit patches need a vendor feature first).
pub const ENTRY_BITS: u8 = 4;

/// The most patch data one PATCH message carries. gtk-gnutella sends 512 bytes at a time;
/// 2,048 keeps the whole message well under [`MAX_PAYLOAD`](crate::MAX_PAYLOAD).
pub const MAX_PATCH_CHUNK: usize = 2048;

/// The largest table accepted from a leaf, as a power of two: 2^21 slots, gtk-gnutella's own
/// ceiling. One such table costs 256 KiB (a bit a slot), per connection.
pub const MAX_TABLE_BITS: u32 = 21;

/// The QRP hash of `word` (already lower-case) into a table of `2^bits` slots.
///
/// `bits` above 32 is taken as 32, and 0 maps every word to slot 0.
pub fn hash(word: &str, bits: u32) -> u32 {
    let mut x: u32 = 0;
    let mut shift = 0;
    for unit in word.encode_utf16() {
        x ^= u32::from(unit & 0xff) << shift;
        shift = (shift + 8) & 24;
    }
    x.wrapping_mul(0x4F1B_BCDC)
        .checked_shr(32 - bits.min(32))
        .unwrap_or(0)
}

/// Why a QRP message was refused. The message is dropped and the sender's table with it
/// ([`TableReceiver::handle`]); the link stays up.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QrpError {
    /// Fewer bytes than the variant's fixed fields.
    #[error("qrp message truncated")]
    Truncated,
    /// A variant byte other than RESET or PATCH.
    #[error("unknown qrp variant {0:#x}")]
    UnknownVariant(u8),
    /// A compressor other than none or zlib.
    #[error("unknown qrp compressor {0:#x}")]
    UnknownCompressor(u8),
    /// A table length that is not a power of two, or above [`MAX_TABLE_BITS`].
    #[error("qrp table of {0} slots refused")]
    TableLength(u32),
    /// Infinity 0: no value could mean "absent".
    #[error("qrp infinity 0")]
    Infinity,
    /// Entry bits other than 1, 2, 4 or 8.
    #[error("qrp entry bits {0}")]
    EntryBits(u8),
    /// A PATCH before any RESET, out of sequence, or changing its sequence's settings.
    #[error("qrp patch out of sequence")]
    Sequence,
    /// The patch data does not inflate, or holds more entries than the table has slots.
    #[error("qrp patch data: {0}")]
    Data(&'static str),
}

/// How a PATCH's data is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compressor {
    /// `0x0`: raw deltas.
    None,
    /// `0x1`: one zlib stream across the whole sequence.
    Zlib,
}

impl Compressor {
    fn code(self) -> u8 {
        match self {
            Compressor::None => 0x0,
            Compressor::Zlib => 0x1,
        }
    }
}

/// One QRP message, the payload of a `0x30` descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QrpMessage {
    /// Empty the table: `table_length` slots, every one `infinity`.
    Reset {
        /// Slots in the table, a power of two.
        table_length: u32,
        /// The value meaning "nothing here".
        infinity: u8,
    },
    /// One piece of the deltas that fill the table.
    Patch(Patch),
}

/// One PATCH message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    /// This message's place in its sequence, from 1.
    pub seq_no: u8,
    /// How many messages the sequence has.
    pub seq_size: u8,
    /// How the sequence's data is compressed.
    pub compressor: Compressor,
    /// Bits per slot in the (uncompressed) data.
    pub entry_bits: u8,
    /// This message's share of the (compressed) data.
    pub data: Vec<u8>,
}

impl QrpMessage {
    /// Appends the payload bytes to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            QrpMessage::Reset {
                table_length,
                infinity,
            } => {
                out.push(RESET);
                out.extend_from_slice(&table_length.to_le_bytes());
                out.push(*infinity);
            }
            QrpMessage::Patch(p) => {
                out.extend_from_slice(&[
                    PATCH,
                    p.seq_no,
                    p.seq_size,
                    p.compressor.code(),
                    p.entry_bits,
                ]);
                out.extend_from_slice(&p.data);
            }
        }
    }

    /// The payload bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Decodes a whole `0x30` payload.
    ///
    /// # Errors
    /// [`QrpError::Truncated`], [`QrpError::UnknownVariant`], [`QrpError::UnknownCompressor`].
    pub fn decode(data: &[u8]) -> Result<Self, QrpError> {
        match data {
            [RESET, l0, l1, l2, l3, infinity, ..] => Ok(QrpMessage::Reset {
                table_length: u32::from_le_bytes([*l0, *l1, *l2, *l3]),
                infinity: *infinity,
            }),
            [PATCH, seq_no, seq_size, compressor, entry_bits, rest @ ..] => {
                let compressor = match compressor {
                    0x0 => Compressor::None,
                    0x1 => Compressor::Zlib,
                    other => return Err(QrpError::UnknownCompressor(*other)),
                };
                Ok(QrpMessage::Patch(Patch {
                    seq_no: *seq_no,
                    seq_size: *seq_size,
                    compressor,
                    entry_bits: *entry_bits,
                    data: rest.to_vec(),
                }))
            }
            [RESET | PATCH, ..] | [] => Err(QrpError::Truncated),
            [other, ..] => Err(QrpError::UnknownVariant(*other)),
        }
    }
}

/// A query routing table: which of `2^bits` slots some word hashes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTable {
    bits: u32,
    /// One bit a slot, slot `i` at bit `i % 64` of word `i / 64`.
    present: Vec<u64>,
}

impl RouteTable {
    /// An empty table of `2^bits` slots; `bits` is held to 1..=[`MAX_TABLE_BITS`].
    pub fn new(bits: u32) -> Self {
        let bits = bits.clamp(1, MAX_TABLE_BITS);
        RouteTable {
            bits,
            present: vec![0; (1usize << bits).div_ceil(64)],
        }
    }

    /// The table this servent sends: every word of every shared file's name, in
    /// [`TABLE_BITS`] bits.
    pub fn for_library(library: &Library) -> Self {
        let mut table = RouteTable::new(TABLE_BITS);
        for file in library.files() {
            for word in words(&file.name) {
                table.insert(&word);
            }
        }
        table
    }

    /// Number of slots.
    pub fn slots(&self) -> usize {
        1 << self.bits
    }

    /// Number of slots set.
    pub fn set_count(&self) -> usize {
        self.present.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Marks the slot of `word` (lower-cased first) present.
    pub fn insert(&mut self, word: &str) {
        let slot = hash(&word.to_lowercase(), self.bits) as usize;
        self.set(slot, true);
    }

    /// True when the slot of `word` (lower-cased first) is present.
    pub fn contains(&self, word: &str) -> bool {
        self.get(hash(&word.to_lowercase(), self.bits) as usize)
    }

    /// How an ultrapeer uses the table: pass `query` on only if every one of its words may
    /// be on the leaf's side.
    pub fn may_match(&self, query: &Query) -> bool {
        !query.is_empty() && query.words().iter().all(|w| self.contains(w))
    }

    fn get(&self, slot: usize) -> bool {
        self.present
            .get(slot / 64)
            .is_some_and(|w| w & (1 << (slot % 64)) != 0)
    }

    fn set(&mut self, slot: usize, on: bool) {
        if let Some(w) = self.present.get_mut(slot / 64) {
            let bit = 1 << (slot % 64);
            if on {
                *w |= bit;
            } else {
                *w &= !bit;
            }
        }
    }

    /// The deltas from an empty table (all [`INFINITY`]) to this one, [`ENTRY_BITS`] a slot:
    /// `1 - INFINITY` (present at one hop) where a slot is set, 0 elsewhere.
    fn deltas(&self) -> Vec<u8> {
        let present = (1 - i16::from(INFINITY)) as u8 & 0x0f;
        (0..self.slots())
            .step_by(2)
            .map(|i| {
                let nibble = |slot| if self.get(slot) { present } else { 0 };
                (nibble(i) << 4) | nibble(i + 1)
            })
            .collect()
    }

    /// The messages that send this table from scratch: a RESET, then the PATCH sequence,
    /// its data compressed by `compressor` and cut into pieces of [`MAX_PATCH_CHUNK`].
    pub fn messages(&self, compressor: Compressor) -> Vec<QrpMessage> {
        let deltas = self.deltas();
        let data = match compressor {
            Compressor::None => deltas,
            Compressor::Zlib => zlib(&deltas),
        };
        let chunk = MAX_PATCH_CHUNK.max(data.len().div_ceil(usize::from(u8::MAX)));
        let pieces: Vec<&[u8]> = data.chunks(chunk).collect();
        // At most 255 pieces: the chunk grows to make it so.
        let seq_size = u8::try_from(pieces.len()).unwrap_or(u8::MAX);
        let reset = QrpMessage::Reset {
            table_length: u32::try_from(self.slots()).unwrap_or(u32::MAX),
            infinity: INFINITY,
        };
        let patches = pieces.into_iter().zip(1..=seq_size).map(|(piece, seq_no)| {
            QrpMessage::Patch(Patch {
                seq_no,
                seq_size,
                compressor,
                entry_bits: ENTRY_BITS,
                data: piece.to_vec(),
            })
        });
        std::iter::once(reset).chain(patches).collect()
    }
}

/// `data` as one zlib stream.
fn zlib(data: &[u8]) -> Vec<u8> {
    let mut z = Compress::new(Compression::best(), true);
    let mut out = Vec::with_capacity(data.len() / 4 + 64);
    loop {
        let consumed = usize::try_from(z.total_in()).unwrap_or(data.len());
        match z.compress_vec(&data[consumed..], &mut out, FlushCompress::Finish) {
            Ok(Status::StreamEnd) => return out,
            // Out of room: grow and go on.
            Ok(_) => out.reserve(out.capacity().max(64)),
            // Compressing memory to memory cannot fail; send what there is.
            Err(_) => return out,
        }
    }
}

/// A table being received: the RESET's settings and the PATCH sequence so far.
#[derive(Debug)]
struct Incoming {
    table: RouteTable,
    /// The next PATCH's expected sequence number (from 1).
    next_seq: u8,
    /// The sequence's settings, fixed by its first PATCH.
    sequence: Option<(u8, Compressor, u8)>,
    inflater: Decompress,
    /// The next slot a delta applies to.
    slot: usize,
}

/// What a servent keeps of the table a neighbour sends it, read safely: every length is
/// checked against [`MAX_TABLE_BITS`] and the table's own size before anything is kept, and
/// compressed data is inflated only up to what the table can hold.
#[derive(Debug, Default)]
pub struct TableReceiver {
    incoming: Option<Incoming>,
    /// The last table received whole.
    complete: Option<RouteTable>,
}

impl TableReceiver {
    /// The last table received whole, if any.
    pub fn table(&self) -> Option<&RouteTable> {
        self.complete.as_ref()
    }

    /// Takes one QRP message. A RESET starts a new table; the last complete one stays in use
    /// until the PATCH sequence that follows it is whole, so a leaf updating its table is
    /// not cut off meanwhile.
    ///
    /// # Errors
    /// A [`QrpError`] for a message that breaks the rules. Both the table under way and the
    /// last complete one are dropped: what the sender's table now holds is unknown, and a
    /// stale one would send it Queries for files it no longer shares. An ultrapeer routes
    /// nothing to the sender until it sends a whole table again.
    pub fn handle(&mut self, msg: QrpMessage) -> Result<(), QrpError> {
        let result = match msg {
            QrpMessage::Reset {
                table_length,
                infinity,
            } => self.reset(table_length, infinity),
            QrpMessage::Patch(patch) => self.patch(&patch),
        };
        if result.is_err() {
            self.incoming = None;
            self.complete = None;
        }
        result
    }

    fn reset(&mut self, table_length: u32, infinity: u8) -> Result<(), QrpError> {
        if !table_length.is_power_of_two() || table_length > 1 << MAX_TABLE_BITS {
            return Err(QrpError::TableLength(table_length));
        }
        if infinity == 0 {
            return Err(QrpError::Infinity);
        }
        self.incoming = Some(Incoming {
            table: RouteTable::new(table_length.trailing_zeros()),
            next_seq: 1,
            sequence: None,
            inflater: Decompress::new(true),
            slot: 0,
        });
        Ok(())
    }

    fn patch(&mut self, patch: &Patch) -> Result<(), QrpError> {
        let incoming = self.incoming.as_mut().ok_or(QrpError::Sequence)?;
        if !matches!(patch.entry_bits, 1 | 2 | 4 | 8) {
            return Err(QrpError::EntryBits(patch.entry_bits));
        }
        let settings = (patch.seq_size, patch.compressor, patch.entry_bits);
        if patch.seq_no != incoming.next_seq
            || patch.seq_no > patch.seq_size
            || *incoming.sequence.get_or_insert(settings) != settings
        {
            return Err(QrpError::Sequence);
        }
        incoming.next_seq = incoming.next_seq.saturating_add(1);
        let plain = match patch.compressor {
            Compressor::None => patch.data.clone(),
            Compressor::Zlib => incoming.inflate(&patch.data)?,
        };
        incoming.apply(&plain)?;
        if patch.seq_no == patch.seq_size {
            let done = self.incoming.take().map(|i| i.table);
            self.complete = done;
        }
        Ok(())
    }
}

impl Incoming {
    /// Bytes of deltas the table still has room for.
    fn room(&self) -> usize {
        let bits = self.sequence.map_or(8, |(_, _, bits)| usize::from(bits));
        (self.table.slots() - self.slot) * bits / 8
    }

    /// Inflates one message's share of the zlib stream, refusing more output than the
    /// table has room for: a small message cannot grow into a large allocation.
    fn inflate(&mut self, data: &[u8]) -> Result<Vec<u8>, QrpError> {
        let room = self.room();
        // One byte past the room, to tell "exactly full" from "too much".
        let mut out = Vec::with_capacity(room.min(data.len() * 8 + 64) + 1);
        let start_in = self.inflater.total_in();
        loop {
            let used = usize::try_from(self.inflater.total_in() - start_in).unwrap_or(0);
            if out.len() == out.capacity() {
                if out.len() > room {
                    return Err(QrpError::Data("more entries than slots"));
                }
                out.reserve((room + 1 - out.len()).min(out.capacity().max(64)));
            }
            let before = (self.inflater.total_in(), out.len());
            let status = self
                .inflater
                .decompress_vec(&data[used..], &mut out, FlushDecompress::Sync)
                .map_err(|_| QrpError::Data("not a zlib stream"))?;
            let stuck = before == (self.inflater.total_in(), out.len());
            if status == Status::StreamEnd || stuck {
                break;
            }
        }
        if out.len() > room {
            return Err(QrpError::Data("more entries than slots"));
        }
        Ok(out)
    }

    /// Applies deltas to the table from the next slot on.
    fn apply(&mut self, plain: &[u8]) -> Result<(), QrpError> {
        if plain.len() > self.room() {
            return Err(QrpError::Data("more entries than slots"));
        }
        let bits = self.sequence.map_or(8, |(_, _, bits)| bits);
        let per_byte = 8 / bits;
        for &byte in plain {
            for k in 0..per_byte {
                let shift = 8 - bits * (k + 1);
                let raw = (byte >> shift) & (u8::MAX >> (8 - bits));
                self.apply_one(raw, bits);
            }
        }
        Ok(())
    }

    /// One slot's delta: for 1-bit entries a set bit flips the slot; wider entries are
    /// signed, negative marking the slot present and positive clearing it.
    fn apply_one(&mut self, raw: u8, bits: u8) {
        let slot = self.slot;
        self.slot += 1;
        if raw == 0 {
            return;
        }
        if bits == 1 {
            let was = self.table.get(slot);
            self.table.set(slot, !was);
        } else {
            let negative = raw & (1 << (bits - 1)) != 0;
            self.table.set(slot, negative);
        }
    }
}

#[cfg(test)]
mod tests;
