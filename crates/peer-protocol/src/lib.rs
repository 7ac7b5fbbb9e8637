//! # p2plab-peer-protocol
//!
//! What Napster, Gnutella and Chord nodes have in common, so that each protocol crate holds
//! only what makes it different.
//!
//! ## Layout
//!
//! - [`node`] — the sans-IO contract: [`Input`]s in, effects out, [`Node::poll_timeout`].
//! - [`advertise`] — the address a node tells its peers ([`Listen`]): the one it listens on,
//!   or `--advertise` when it listens on every interface; never loopback to a peer off it.
//! - `outbox` — the effects a core asks for (send, connect, close, report), and the
//!   per-node [`ConnIds`] the driver names connections from.
//! - [`time`] — the [`Instant`] a core is handed; cores never read a clock.
//! - [`timer`] — the [`TimerTable`] a core keeps its named deadlines in, one slot per kind.
//! - `codec` — the [`WireMessage`] trait, [`CodecError`], and the [`FrameReader`] that
//!   reassembles a TCP stream into messages.
//! - `reader` — the [`ByteReader`] every binary decoder walks a message with, in either
//!   byte order.
//! - [`library`] — the files a peer shares, from a folder or synthetic.
//! - [`metadata`] — what a shared file tells about itself: Napster's md5, `urn:sha1:`, and an
//!   MP3's bit rate, sample rate and play length.
//! - [`keywords`] — the one keyword matcher every search uses.
//! - `metrics` — messages and bytes by [`MessageKind`], lookup hops and latency.
//! - [`latency`] — [`Latency`], how long a message takes: the model the simulator and the
//!   runtime's fabric both draw from, per message, with a seeded RNG.
//! - [`settings`] — [`SettingError`] and the range check every config's `validate()` uses.
//! - [`transfer`] — file transfers: the HTTP download every Gnutella and Chord peer serves,
//!   Napster's data-port exchange, and the upload and download cores that speak both.
//! - [`control`] — JSON lines on a local port: how people and the runner drive nodes.
//! - [`reach`] — why a connection ended ([`CloseReason`]) and the [`Problem`] a node reports
//!   while it cannot reach its server or bootstrap.

pub mod advertise;
mod codec;
pub mod control;
pub mod keywords;
pub mod latency;
pub mod library;
pub mod metadata;
mod metrics;
pub mod node;
mod outbox;
pub mod reach;
mod reader;
pub mod settings;
pub mod time;
pub mod timer;
pub mod transfer;

pub use advertise::Listen;
pub use codec::{CodecError, FrameReader, WireMessage};
pub use keywords::Query;
pub use latency::Latency;
pub use library::{Library, SharedFile};
pub use metadata::{Audio, FileMeta};
pub use metrics::{Cause, MessageKind, Metrics, Tally, Traffic};
pub use node::{
    Answer, Command, ConnId, Download, Event, Hit, Holder, Input, Node, Question, RequestId,
    SearchError, TransferNotice, UserInfo, CALL_TIMEOUT,
};
pub use outbox::{ConnIds, Effect, Effects, Outbox};
pub use reach::{CloseReason, Failure, Problem, Reach};
pub use reader::ByteReader;
pub use settings::SettingError;
pub use time::Instant;
pub use timer::{TimerKind, TimerTable};
