//! One connection's life: dial or accept, text handshake, descriptors, close.
//!
//! ```text
//! dialled:   Dialling --Connected / send CONNECT/0.6--> Sent06 --200 / send 200-------> Open
//!                        (the CONNECT carries the headers of our role: `handshake::Stance`)
//!            Dialling --Connected / send CONNECT/0.4--> Sent04 --"GNUTELLA OK"-------> Open
//!                        (0.4 only to a peer that refused 0.6: `dial_memory`)
//! accepted:  AwaitConnect --CONNECT/0.4 / send OK--------------------------------> Open
//!            AwaitConnect --CONNECT/0.6 / send 0.6 200--> AwaitClientOk --200-----> Open
//! ```
//!
//! Who may open: a flooding servent or a leaf takes any peer while it has fewer neighbours
//! than its cap ([`ServentConfig::peer_cap`]). An ultrapeer counts two kinds of link apart: a
//! peer that says `X-Ultrapeer: True` takes one of its `max_peers` ultrapeer links, any other
//! (a leaf, a flooding servent, a 0.4 servent) one of its [`MAX_LEAVES`] leaf links; when the
//! kind asked for is full it answers `503 Too many ultra connections (8 max)` or `503 Too
//! many leaf connections (30 max)`, as gtk-gnutella does, and a 0.4 peer is closed without a
//! word (0.4 has no refusal). An ultrapeer asking for a full ultrapeer slot while a leaf
//! slot is free gets *leaf guidance* instead: a `200` with `X-Ultrapeer-Needed: False`; it
//! stays only if its closing block says `X-Ultrapeer: False`. A link holds its slot from
//! our `200` on, so peers answered at once cannot overfill a kind.
//!
//! In the 0.6 handshake, a side that offered `Accept-Encoding: deflate` is answered with
//! `Content-Encoding: deflate`, and from the end of the handshake on that direction is
//! compressed (`compress.rs`): the peer's bytes after the block that ends its handshake are
//! inflated before they are read, and ours are deflated and flushed after every input.
//!
//! Anything unexpected — bytes that do not begin with `GNUTELLA`, a refusal, a handshake that
//! does not finish within `handshake_timeout`, a descriptor stream that loses sync — closes
//! that connection and nothing else. A dialled peer that closes before it answers, answers
//! with a refusal or stays silent past the timeout has refused the dial: the address is
//! backed off, and one that refused 0.6 is dialled with 0.4 next.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

use p2plab_peer_protocol::{
    CloseReason, CodecError, ConnId, Failure, FrameReader, Instant, Outbox, WireMessage,
};
use tracing::debug;

use super::Servent;
use crate::budget::WindowCount;
use crate::compress::Link;
use crate::config::{Role, MAX_LEAVES};
use crate::descriptor::Descriptor;
use crate::dial_memory::Version;
use crate::handshake::{self, Block, Greeting, Slot, Stance, CONNECT_04, OK_04, REFUSE_06};
use crate::header::Header;
use crate::kind::Kind;
use crate::qrp::TableReceiver;
use crate::{
    HEADER_LEN, MAX_HANDSHAKE_LEN, MAX_PAYLOAD, MAX_PENDING_HANDSHAKES, MAX_PINGS_PER_WINDOW,
    MAX_QUERIES_FORWARDED_PER_WINDOW, MAX_QUERIES_PER_WINDOW, PING_WINDOW, QUERY_WINDOW,
};

/// What an ultrapeer (or any servent) makes of a peer asking to open a link.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Admission {
    /// Room for it, as what it says it is.
    Open,
    /// An ultrapeer with no ultrapeer link to spare but room for a leaf: leaf guidance.
    Guide,
    /// No room: the 0.6 refusal to send it.
    Refuse(Vec<u8>),
}

/// Where a connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// We dialled; TCP is not up yet.
    Dialling,
    /// We sent `GNUTELLA CONNECT/0.6` and wait for the server's status.
    Sent06,
    /// We sent `GNUTELLA CONNECT/0.4` and wait for `GNUTELLA OK`.
    Sent04,
    /// A peer connected to us; we wait for its `GNUTELLA CONNECT`.
    AwaitConnect,
    /// We answered a 0.6 `CONNECT` and wait for the client's `200 OK`.
    AwaitClientOk,
    /// Handshake done: descriptors flow.
    Open,
}

/// One connection's state.
#[derive(Debug)]
pub(super) struct Conn {
    phase: Phase,
    /// The address we dialled (outgoing connections only).
    dialled: Option<SocketAddr>,
    /// The handshake we speak to it, when we dialled (unused for accepted connections,
    /// whose peer chooses).
    version: Version,
    /// The neighbour's listening address, once it told us.
    listen: Option<SocketAddr>,
    /// The neighbour said `X-Ultrapeer: True` in its handshake: to an ultrapeer, a link in
    /// the flood rather than a leaf it shields.
    ultrapeer: bool,
    /// We gave the neighbour leaf guidance and wait for its closing block to take it.
    guided: bool,
    /// What the neighbour's handshake said for dynamic querying: its ultrapeer links
    /// (`X-Degree`), the highest TTL it takes on a fresh Query (`X-Max-TTL`), and whether it
    /// queries dynamically (`X-Dynamic-Querying`), so reads Query Status Responses; and
    /// whether it passes on a Query it saw if a copy comes deeper (`X-Ext-Probes`).
    pub(super) degree: Option<u32>,
    pub(super) max_ttl: Option<u8>,
    pub(super) dynamic: bool,
    pub(super) ext_probes: bool,
    reader: FrameReader,
    /// Plain or deflated, each way, as the handshake settled it.
    link: Link,
    /// The query routing table the neighbour sends us, if it is a leaf.
    pub(super) table: TableReceiver,
    /// Pings from this neighbour in the current [`PING_WINDOW`].
    pings: WindowCount,
    /// Queries from this neighbour in the current [`QUERY_WINDOW`].
    queries: WindowCount,
    /// Queries from this neighbour passed on in the current [`QUERY_WINDOW`].
    forwards: WindowCount,
}

impl Conn {
    fn new(phase: Phase, dialled: Option<SocketAddr>, version: Version) -> Self {
        Conn {
            phase,
            dialled,
            version,
            listen: None,
            ultrapeer: false,
            guided: false,
            degree: None,
            max_ttl: None,
            dynamic: false,
            ext_probes: false,
            reader: FrameReader::new(MAX_HANDSHAKE_LEN.max(HEADER_LEN + MAX_PAYLOAD)),
            link: Link::default(),
            table: TableReceiver::default(),
            pings: WindowCount::default(),
            queries: WindowCount::default(),
            forwards: WindowCount::default(),
        }
    }

    /// True once the handshake is done.
    pub(super) fn is_open(&self) -> bool {
        self.phase == Phase::Open
    }

    /// True once open, or accepted and waiting for the client's closing block: the
    /// connection holds a slot of its kind.
    fn holds_slot(&self) -> bool {
        matches!(self.phase, Phase::Open | Phase::AwaitClientOk)
    }

    /// True once the handshake is done with a peer that said it is an ultrapeer.
    pub(super) fn is_ultrapeer(&self) -> bool {
        self.is_open() && self.ultrapeer
    }

    /// True once the handshake is done with a peer that did not say it is an ultrapeer.
    pub(super) fn is_leaf(&self) -> bool {
        self.is_open() && !self.ultrapeer
    }

    /// The address we dialled and the handshake we spoke, while we wait for its answer.
    fn awaiting_answer(&self) -> Option<(SocketAddr, Version)> {
        match self.phase {
            Phase::Sent06 | Phase::Sent04 => self.dialled.map(|addr| (addr, self.version)),
            _ => None,
        }
    }

    /// Learns what the neighbour's handshake `block` says for dynamic querying.
    fn learn_dynamic(&mut self, block: &Block) {
        self.degree = block.degree();
        self.max_ttl = block.max_ttl();
        self.dynamic = block.dynamic_querying();
        self.ext_probes = block.ext_probes();
    }

    /// True if we dialled it.
    pub(super) fn is_outbound(&self) -> bool {
        self.dialled.is_some()
    }

    /// The neighbour's listening address, if known.
    pub(super) fn peer_addr(&self) -> Option<SocketAddr> {
        self.listen.or(self.dialled)
    }

    /// Learns the neighbour's listening address, unless already known.
    pub(super) fn learn_listen_addr(&mut self, addr: SocketAddr) {
        self.listen.get_or_insert(addr);
    }

    /// Counts one Ping; false if this neighbour has used up its Pings for the window.
    pub(super) fn allow_ping(&mut self, now: Instant) -> bool {
        self.pings.admit(now, PING_WINDOW, MAX_PINGS_PER_WINDOW)
    }

    /// Counts one Query; false if this neighbour has used up its Queries for the window.
    pub(super) fn allow_query(&mut self, now: Instant) -> bool {
        self.queries
            .admit(now, QUERY_WINDOW, MAX_QUERIES_PER_WINDOW)
    }

    /// Counts one Query passed on; false if this neighbour has used up its share of the
    /// other links for the window.
    pub(super) fn allow_forward(&mut self, now: Instant) -> bool {
        self.forwards
            .admit(now, QUERY_WINDOW, MAX_QUERIES_FORWARDED_PER_WINDOW)
    }
}

/// The handshakes under way, oldest first, each with the time it must be done by.
///
/// Every handshake gets the same time, so deadlines come in the order handshakes start and
/// the front is always the next to expire: the servent's timer reads one entry instead of
/// walking its connections. A connection that opens or closes leaves its entry behind;
/// [`Handshakes::skip_finished`] drops such entries once they reach the front, and every
/// entry is gone by its deadline, so the queue holds at most the handshakes of one timeout.
#[derive(Debug)]
pub(super) struct Handshakes {
    timeout: Duration,
    queue: VecDeque<(Instant, ConnId)>,
}

impl Handshakes {
    pub(super) fn new(timeout: Duration) -> Self {
        Handshakes {
            timeout,
            queue: VecDeque::new(),
        }
    }

    fn start(&mut self, now: Instant, conn: ConnId) {
        self.queue.push_back((now + self.timeout, conn));
    }

    /// When the oldest handshake still under way times out.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.queue.front().map(|(deadline, _)| *deadline)
    }

    /// Takes the handshakes due by `now` that `under_way` says have not finished.
    pub(super) fn take_due(
        &mut self,
        now: Instant,
        under_way: impl Fn(ConnId) -> bool,
    ) -> Vec<ConnId> {
        let mut due = Vec::new();
        while let Some(&(deadline, conn)) = self.queue.front() {
            if deadline > now {
                break;
            }
            self.queue.pop_front();
            if under_way(conn) {
                due.push(conn);
            }
        }
        due
    }

    /// Drops front entries whose handshake has finished, so the front is the next deadline.
    pub(super) fn skip_finished(&mut self, under_way: impl Fn(ConnId) -> bool) {
        while self
            .queue
            .front()
            .is_some_and(|(_, conn)| !under_way(*conn))
        {
            self.queue.pop_front();
        }
    }
}

/// True while `conn` exists and its handshake is not done.
pub(super) fn handshake_under_way(conns: &BTreeMap<ConnId, Conn>, conn: ConnId) -> bool {
    conns.get(&conn).is_some_and(|c| !c.is_open())
}

impl Servent {
    /// Dials `addr` as a would-be neighbour, in the handshake it last accepted (0.6 unless
    /// it refused 0.6).
    pub(super) fn dial(&mut self, now: Instant, addr: SocketAddr, out: &mut Outbox) {
        let conn = out.connect(addr);
        let version = self.dial_memory.version(addr);
        self.conns
            .insert(conn, Conn::new(Phase::Dialling, Some(addr), version));
        self.handshakes.start(now, conn);
    }

    pub(super) fn accepted(&mut self, now: Instant, conn: ConnId, out: &mut Outbox) {
        if self.left || self.conns.len() >= self.config.peer_cap() + MAX_PENDING_HANDSHAKES {
            out.close(conn);
            return;
        }
        self.conns
            .insert(conn, Conn::new(Phase::AwaitConnect, None, Version::V06));
        self.handshakes.start(now, conn);
    }

    pub(super) fn connected(&mut self, now: Instant, conn: ConnId, out: &mut Outbox) {
        let hello = match self.conns.get_mut(&conn) {
            Some(c) if c.phase == Phase::Dialling && !self.left => match c.version {
                Version::V06 => {
                    c.phase = Phase::Sent06;
                    handshake::connect_06(self.config.advertise, self.stance())
                }
                Version::V04 => {
                    c.phase = Phase::Sent04;
                    CONNECT_04.to_vec()
                }
            },
            _ => return self.drop_conn(now, conn, "unexpected connect", out),
        };
        self.send_text(conn, &hello, out);
    }

    pub(super) fn received(&mut self, now: Instant, conn: ConnId, bytes: &[u8], out: &mut Outbox) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let mut input = bytes;
        if !c.is_open() {
            // The handshake is text, read from the buffer; descriptors sent right behind it
            // wait there too.
            c.reader.extend(std::mem::take(&mut input));
            self.advance_handshake(now, conn, out);
        }
        let Some(c) = self.conns.get_mut(&conn).filter(|c| c.is_open()) else {
            return;
        };
        match c.link.read(input) {
            Ok(plain) => self.read_descriptors(now, conn, &plain, out),
            Err(e) => {
                self.metrics.record_drop("malformed");
                self.drop_conn(now, conn, &e.to_string(), out);
            }
        }
    }

    /// Sends descriptor `d` on `conn` (compressed if the link is), counting it as sent.
    pub(super) fn send(&mut self, conn: ConnId, d: &Descriptor, out: &mut Outbox) {
        let bytes = d.to_bytes();
        self.metrics.record_sent_by_kind(d.kind(), bytes.len());
        match self.conns.get_mut(&conn) {
            Some(c) => c.link.send(conn, bytes, out),
            None => out.send(conn, bytes),
        }
    }

    /// Flushes every compressed link: what this input made the servent send goes out now.
    pub(super) fn flush_links(&mut self, out: &mut Outbox) {
        for (id, c) in &mut self.conns {
            c.link.flush(*id, out);
        }
    }

    /// The peer closed `conn` (or it never came up), for `reason`.
    pub(super) fn closed(
        &mut self,
        now: Instant,
        conn: ConnId,
        reason: CloseReason,
        out: &mut Outbox,
    ) {
        match reason {
            // Never connected: nothing listens there (yet); no handshake is to blame.
            CloseReason::Refused | CloseReason::Unreachable => self.note_unreachable(now, conn),
            // Closed before it answered our handshake: a refusal without a word.
            _ => self.note_refusal(now, conn, None),
        }
        if let Some(c) = self.conns.remove(&conn) {
            self.forget(now, c, Failure::Closed(reason), out);
        }
    }

    /// `conn`'s handshake did not finish in time. A peer we dialled that never answered has
    /// refused the dial.
    pub(super) fn handshake_timed_out(&mut self, now: Instant, conn: ConnId, out: &mut Outbox) {
        self.note_refusal(now, conn, None);
        let ms = u64::try_from(self.config.handshake_timeout.as_millis()).unwrap_or(u64::MAX);
        self.end_conn(now, conn, Failure::NoAnswer(ms), out);
    }

    /// Remembers that the address we dialled on `conn` could not be reached.
    fn note_unreachable(&mut self, now: Instant, conn: ConnId) {
        if let Some((addr, _)) = self.conns.get(&conn).and_then(Conn::awaiting_answer) {
            self.dial_memory.unreachable(now, addr);
        }
    }

    /// Remembers that the peer we dialled on `conn` refused the handshake we spoke.
    fn note_refusal(&mut self, now: Instant, conn: ConnId, retry_after: Option<Duration>) {
        if let Some((addr, version)) = self.conns.get(&conn).and_then(Conn::awaiting_answer) {
            self.dial_memory.refused(now, addr, version, retry_after);
        }
    }

    /// We close `conn`, for `why`.
    pub(super) fn drop_conn(&mut self, now: Instant, conn: ConnId, why: &str, out: &mut Outbox) {
        self.end_conn(now, conn, Failure::Incompatible(why.to_owned()), out);
    }

    /// We close `conn`: had we dialled it and was its handshake under way, `failure` is why
    /// its address did not answer.
    pub(super) fn end_conn(
        &mut self,
        now: Instant,
        conn: ConnId,
        failure: Failure,
        out: &mut Outbox,
    ) {
        out.close(conn);
        if let Some(c) = self.conns.remove(&conn) {
            debug!(%conn, %failure, "closing connection");
            self.forget(now, c, failure, out);
        }
    }

    /// After `c` is gone: a dialled address that never completed a handshake is dropped
    /// from the host cache (unless it just refused 0.6: it stays for the 0.4 dial that
    /// comes next) and noted as unanswered, for `failure`; then replacements are dialled,
    /// and if none is left to try, the servent says it cannot reach any.
    fn forget(&mut self, now: Instant, c: Conn, failure: Failure, out: &mut Outbox) {
        if let (false, Some(addr)) = (c.is_open(), c.dialled) {
            let falls_back =
                c.version == Version::V06 && self.dial_memory.version(addr) == Version::V04;
            if !falls_back {
                self.host_cache.remove(addr);
            }
            self.unanswered(addr, failure);
        }
        self.maintain(now, out);
        self.check_reach(now);
    }

    fn send_text(&mut self, conn: ConnId, text: &[u8], out: &mut Outbox) {
        self.metrics.record_out(Kind::Handshake, text.len());
        out.send(conn, text.to_vec());
    }

    /// What our handshake says of us.
    fn stance(&self) -> Stance {
        match self.config.role {
            Role::Flooding => Stance::Flooding,
            Role::Leaf => Stance::Leaf,
            Role::Ultrapeer => Stance::Ultrapeer {
                degree: self.config.max_peers,
                max_ttl: self.config.max_ttl,
            },
        }
    }

    /// Whether a peer that says it is an ultrapeer (`ultrapeer`) or not may open a link
    /// now, and as what.
    fn admit(&self, ultrapeer: bool) -> Admission {
        if self.config.role != Role::Ultrapeer {
            return if self.neighbour_count() < self.config.peer_cap() {
                Admission::Open
            } else {
                Admission::Refuse(REFUSE_06.to_vec())
            };
        }
        // Links we accepted count from our `200` on, so two peers answered at once cannot
        // both take the last slot.
        let held = |ultrapeer: bool| {
            self.conns
                .values()
                .filter(|c| c.holds_slot() && c.ultrapeer == ultrapeer)
                .count()
        };
        let (ultras, leaves) = (held(true), held(false));
        match (
            ultrapeer,
            ultras < self.config.max_peers,
            leaves < MAX_LEAVES,
        ) {
            (true, true, _) | (false, _, true) => Admission::Open,
            (true, false, true) => Admission::Guide,
            (true, false, false) => {
                Admission::Refuse(handshake::refuse_full(Slot::Ultra, self.config.max_peers))
            }
            (false, _, false) => Admission::Refuse(handshake::refuse_full(Slot::Leaf, MAX_LEAVES)),
        }
    }

    /// Our closing `200` to a 0.6 server that accepted us, settling deflate both ways: its
    /// bytes from now on are compressed if it said so, ours if it reads deflate. An
    /// ultrapeer with no neighbour yet takes the server's leaf guidance: it becomes a leaf,
    /// this server its ultrapeer. One with neighbours keeps its role (they count on it) and
    /// declines, and the server closes the link.
    fn confirm_06(&mut self, conn: ConnId, block: &Block, out: &mut Outbox) {
        self.inflate_if(conn, block.sends_deflate());
        let deflate = block.accepts_deflate();
        let as_leaf = self.config.role == Role::Ultrapeer
            && block.guides_to_leaf()
            && self.neighbour_count() == 0;
        if as_leaf {
            debug!(%conn, "taking leaf guidance: a leaf from now on");
            self.config.role = Role::Leaf;
        }
        self.send_text(conn, &handshake::client_ok_06(deflate, as_leaf), out);
        if let Some(c) = self.conns.get_mut(&conn).filter(|_| deflate) {
            c.link.deflate_from_now();
        }
    }

    /// The peer said `Content-Encoding: deflate`: the bytes after this block are compressed.
    fn inflate_if(&mut self, conn: ConnId, deflate: bool) {
        if let Some(c) = self.conns.get_mut(&conn).filter(|_| deflate) {
            c.link.inflate_from_now();
        }
    }

    /// Reads handshake blocks until the connection is open, closed, or out of bytes.
    fn advance_handshake(&mut self, now: Instant, conn: ConnId, out: &mut Outbox) {
        while let Some(c) = self.conns.get_mut(&conn).filter(|c| !c.is_open()) {
            match handshake::read_block(c.reader.buffered()) {
                Ok(None) => return,
                Ok(Some((block, used))) => {
                    c.reader.consume(used);
                    self.metrics.record_in(Kind::Handshake, used);
                    self.on_block(now, conn, &block, out);
                }
                Err(e) => {
                    self.metrics.record_drop("malformed");
                    return self.drop_conn(now, conn, &e.to_string(), out);
                }
            }
        }
    }

    fn on_block(&mut self, now: Instant, conn: ConnId, block: &Block, out: &mut Outbox) {
        let Some(phase) = self.conns.get(&conn).map(|c| c.phase) else {
            return;
        };
        if matches!(phase, Phase::Sent06 | Phase::Sent04) {
            return self.on_server_reply(now, conn, phase, block, out);
        }
        match (phase, block.greeting()) {
            (Phase::AwaitConnect, Greeting::Connect04) if self.admit(false) == Admission::Open => {
                self.send_text(conn, OK_04, out);
                self.open(now, conn, out);
            }
            (Phase::AwaitConnect, Greeting::Connect06) => match self.admit(block.is_ultrapeer()) {
                Admission::Open => self.answer_06(conn, block, false, out),
                Admission::Guide => self.answer_06(conn, block, true, out),
                Admission::Refuse(refusal) => {
                    self.send_text(conn, &refusal, out);
                    self.drop_conn(now, conn, "full", out);
                }
            },
            (Phase::AwaitClientOk, Greeting::Status06(200)) => {
                let Some(c) = self.conns.get_mut(&conn) else {
                    return;
                };
                if c.guided && !block.is_leaf() {
                    // gtk-gnutella too closes an ultrapeer that would not be guided.
                    return self.drop_conn(now, conn, "declined leaf guidance", out);
                }
                self.inflate_if(conn, block.sends_deflate());
                self.open(now, conn, out);
            }
            _ => self.drop_conn(now, conn, "handshake refused or unexpected", out),
        }
    }

    /// Accepts a 0.6 `CONNECT`: our `200` with the headers of our role, leaf guidance if
    /// `guide`, and deflate each way the client asked.
    fn answer_06(&mut self, conn: ConnId, block: &Block, guide: bool, out: &mut Outbox) {
        let deflate = block.accepts_deflate();
        let ok = handshake::ok_06(self.config.advertise, self.stance(), deflate, guide);
        self.send_text(conn, &ok, out);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.listen = block.listen_addr();
            // Guided, it takes a leaf slot from now on, or closes.
            c.ultrapeer = block.is_ultrapeer() && !guide;
            c.guided = guide;
            c.learn_dynamic(block);
            c.phase = Phase::AwaitClientOk;
            if deflate {
                c.link.deflate_from_now();
            }
        }
    }

    /// The answer of a servent we dialled: its acceptance, or a refusal that backs it off.
    fn on_server_reply(
        &mut self,
        now: Instant,
        conn: ConnId,
        phase: Phase,
        block: &Block,
        out: &mut Outbox,
    ) {
        let accepted = match (phase, block.greeting()) {
            (Phase::Sent06, Greeting::Status06(200)) => Some(Version::V06),
            // A legacy servent may echo our CONNECT instead of saying OK; the spec allows it.
            (Phase::Sent04, Greeting::Ok04 | Greeting::Connect04) => Some(Version::V04),
            _ => None,
        };
        let addr = self.conns.get(&conn).and_then(|c| c.dialled);
        match (accepted, addr) {
            (Some(version), Some(addr)) if self.admit(block.is_ultrapeer()) == Admission::Open => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.ultrapeer = block.is_ultrapeer();
                    c.learn_dynamic(block);
                }
                if version == Version::V06 {
                    self.confirm_06(conn, block, out);
                }
                self.dial_memory.succeeded(now, addr, version);
                self.open(now, conn, out);
            }
            // Accepted, but we filled up meanwhile: our choice, not a refusal.
            (Some(_), _) => self.drop_conn(now, conn, "full", out),
            (None, _) => {
                self.note_refusal(now, conn, block.retry_after());
                self.drop_conn(now, conn, "handshake refused", out);
            }
        }
    }

    /// The handshake is done: `conn` is a neighbour. Ping it to learn its address and more;
    /// as a leaf, send it our query routing table.
    fn open(&mut self, now: Instant, conn: ConnId, out: &mut Outbox) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.phase = Phase::Open;
        // Bytes that came right behind the handshake are already in the link's encoding.
        let behind = c.reader.buffered().to_vec();
        c.reader.consume(behind.len());
        match c.link.read(&behind) {
            Ok(plain) => c.reader.extend(&plain),
            Err(e) => return self.drop_conn(now, conn, &e.to_string(), out),
        }
        self.ping(now, &[conn], out);
        if self.config.role == Role::Leaf {
            self.send_route_table(conn, out);
        }
        self.drop_duplicate_link(now, conn, out);
    }

    /// Decodes every whole descriptor buffered on `conn` or in `input` (bytes that just
    /// arrived on it), and handles it.
    fn read_descriptors(&mut self, now: Instant, conn: ConnId, mut input: &[u8], out: &mut Outbox) {
        while let Some(c) = self.conns.get_mut(&conn) {
            match c.reader.decode_next(&mut input, decode_or_skip) {
                Ok(Some((Ok(d), used))) => {
                    self.metrics.record_in(d.kind(), used);
                    self.on_descriptor(now, conn, d, out);
                }
                Ok(Some((Err(why), used))) => {
                    debug!(%conn, why, "malformed descriptor dropped");
                    self.metrics.record_in(Kind::Malformed, used);
                    self.metrics.record_drop("malformed");
                }
                Ok(None) => return,
                // An absurd length or an unknown type: the stream cannot be trusted.
                Err(e) => {
                    self.metrics.record_drop("malformed");
                    return self.drop_conn(now, conn, &e.to_string(), out);
                }
            }
        }
    }
}

/// Decodes one descriptor; one whose header frames it but whose payload is bad comes out as
/// `Err(why)` with its length, to be skipped: the stream is still in step after it.
fn decode_or_skip(buf: &[u8]) -> Result<(Result<Descriptor, String>, usize), CodecError> {
    match Descriptor::decode(buf) {
        Ok((d, used)) => Ok((Ok(d), used)),
        Err(CodecError::Malformed(why)) => {
            let used = Header::decode(buf).map_or(buf.len(), |h| h.frame_len());
            Ok((Err(why), used))
        }
        Err(e) => Err(e),
    }
}
