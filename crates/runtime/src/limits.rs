//! Every limit the driver puts on what reaches it from the network, each with its reason.
//!
//! The protocol cores bound what they keep (message sizes, tables, TTLs); these bound what
//! the sockets cost: connections, bytes waiting to be sent, time a peer may keep a slot
//! without doing its part. A peer that breaks one is disconnected, and the core hears of it
//! as [`Input::Closed`](p2plab_peer_protocol::Input::Closed) — as of any closed link.

use std::time::Duration;

/// The most connections one node's core holds at once; more are refused at accept. It sits
/// under the usual 1,024 open files a process may have, with room for the listeners,
/// uploads and the control port, so a node never runs out of descriptors for its own links.
pub const MAX_CONNECTIONS: usize = 1024;

/// How long a dial may take before it counts as failed.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Bytes that may wait in one connection's send queue, beyond what the kernel's socket
/// buffer already holds. A peer that reads so slowly that this fills is disconnected (as
/// gtk-gnutella drops a link whose queue overflows): 256 KiB is a thousand QueryHits or
/// fifty full Napster result lists — no healthy link on loopback comes near it — and
/// bounds the memory of [`MAX_CONNECTIONS`] stalled peers at 256 MiB.
pub const MAX_QUEUED_BYTES: usize = 256 * 1024;

/// How long one write may make no progress before its peer is disconnected: a peer must
/// take at least one message (or one upload chunk) in this time.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(20);

/// Chunks read from sockets that may wait for the node's loop, over all its connections.
/// When they are all taken, connections stop reading and TCP slows their senders down, so
/// a peer that sends faster than the node can handle costs at most this many chunks of
/// memory (16 KiB each: 4 MiB), and every connection gets its turn.
pub const MAX_INBOX_CHUNKS: usize = 256;

/// New connections that have not yet said what they are (the first bytes, and for HTTP the
/// whole request head; for a Napster data port the request line). When more arrive, the
/// oldest still silent is closed: a legitimate client identifies itself at once, so a crowd
/// of silent or dripping connections only ever pushes out its own members.
pub const MAX_UNIDENTIFIED: usize = 64;

/// The longest a new connection may take to identify itself — in all, not per byte, so a
/// client that sends one byte every few seconds is closed all the same.
pub const IDENTIFY_TIMEOUT: Duration = Duration::from_secs(10);

/// Uploads served at once (HTTP and Napster's data port). More requests get
/// `503 Service Unavailable` (HTTP, as Gnutella servents answer when their slots are full)
/// or Napster's error text.
pub const MAX_UPLOADS: usize = 32;

/// The longest the fabric holds one message back ([`crate::fabric::Fabric::set_latency`]).
/// A long-tailed model (log-normal with a large `sigma`) now and then draws minutes; the
/// message would hold its connection's send budget, and delay everything queued behind it,
/// past every core's timeouts. 10 s is 250 times a 40 ms wide-area median — at `sigma` 1, one
/// draw in fifty million goes further — so the cap changes a model only in a tail no
/// scenario measures.
pub const MAX_LATENCY: Duration = Duration::from_secs(10);

/// Pushes a firewalled Napster peer makes at once (501: connect out to a downloader and
/// send it a file); a 501 beyond them is dropped. A push is an upload that cannot be
/// refused with a busy text (the downloader would take it for the file's bytes), so it is
/// bounded before it dials, by the same count as the uploads a data port serves.
pub const MAX_PUSHES: usize = MAX_UPLOADS;

/// Firewalled Napster downloads that may wait at once for their holder to connect; a
/// download beyond them fails at once. Each waits at most
/// [`PUSH_TIMEOUT`](p2plab_peer_protocol::transfer::PUSH_TIMEOUT); a user asks for a few
/// files at a time, and the table is searched on every push that arrives, so it is kept
/// to as many as the connections a data port lets identify themselves.
pub const MAX_PUSH_WAITS: usize = MAX_UNIDENTIFIED;
