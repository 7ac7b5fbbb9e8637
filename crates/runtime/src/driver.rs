//! The tokio driver: runs one sans-IO core over real sockets and timers.
//!
//! The loop is the one every driver of p2plab runs (see `p2plab_peer_protocol::node`):
//! take one input, hand it to the core with `now`, carry out every effect in the outbox,
//! then wait for the next input or for the core's deadline, whichever comes first.
//! Everything that happens to the node reaches the loop as a [`ToDriver`] message on one
//! channel, so the core is only ever touched by this one task.
//!
//! The driver also keeps the node from telling a peer an address that leads nowhere
//! (`p2plab_peer_protocol::advertise`): a node that advertises a loopback address would
//! say it in every Pong, QueryHit, node reference or login it sends, and none of the
//! driver's business is which bytes those are. So a connection to or from a peer off
//! loopback is refused as a whole, before the core sees it: an accepted one is dropped
//! unread, and a dial fails at once with [`CloseReason::LoopbackOnly`], which the core
//! reports as the reason it cannot reach that peer (and `stats` shows). The first refusal
//! logs a warning that names the fix; later ones only a debug line, since a Gnutella
//! servent may meet many such peers.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info_span, warn, Instrument};

use p2plab_peer_protocol::advertise::may_tell;
use p2plab_peer_protocol::control::NodeStats;
use p2plab_peer_protocol::{
    CloseReason, Command, ConnId, ConnIds, Effect, Effects, Event, Hit, Input, Instant, Library,
    Node, Outbox, Question, RequestId, TransferNotice,
};

use crate::clock::Clock;
use crate::close::close_reason;
use crate::connection::SendQueue;
use crate::fabric::{Fabric, FabricView};
use crate::handle::{NodeHandle, SharedLibrary};
use crate::limits::{CONNECT_TIMEOUT, MAX_CONNECTIONS, MAX_INBOX_CHUNKS, MAX_PUSHES};
use crate::upload;

/// A request from a handle that expects an answering [`Event`].
#[derive(Debug)]
pub(crate) enum Call {
    Search(String),
    Locate(Hit),
    Ask(Question),
    Leave,
}

/// Everything that can happen to a node, as its driver loop receives it.
///
/// Connection tasks send `Received` and `Closed` through the bounded inbox (so a fast
/// sender waits for the node); everything else comes through the handle's channel.
pub(crate) enum ToDriver {
    Accepted {
        stream: TcpStream,
        remote: SocketAddr,
        /// Bytes the listener already read to tell what the connection is.
        first: Vec<u8>,
    },
    Connected {
        conn: ConnId,
        stream: TcpStream,
    },
    ConnectFailed {
        conn: ConnId,
        reason: CloseReason,
    },
    Received {
        conn: ConnId,
        bytes: Vec<u8>,
    },
    Closed {
        conn: ConnId,
        reason: CloseReason,
    },
    Call {
        call: Call,
        reply: oneshot::Sender<Event>,
    },
    Share(Arc<Library>),
    Notice(TransferNotice),
    Stats(oneshot::Sender<NodeStats>),
}

/// What the driver needs besides the core.
pub(crate) struct DriverSpec<N> {
    /// `napster-server`, `napster-peer`, `gnutella`, `chord`.
    pub kind: &'static str,
    /// The node's advertised address.
    pub addr: SocketAddr,
    /// What the node shares (read by the upload servers, replaced by `share`).
    pub library: SharedLibrary,
    /// The node's own account of its state, for `stats`.
    pub describe: fn(&N) -> serde_json::Value,
    /// The network between this node and the others.
    pub fabric: Fabric,
    /// The IP this node's dials leave from, for a node whose peer learns its address
    /// from the connection rather than from a message (a Napster peer: its server
    /// records the connection's IP); `None` lets the kernel choose.
    pub dial_from: Option<IpAddr>,
}

struct Driver<N> {
    core: N,
    effects: Effects,
    /// The node's connection ids: drawn here for accepted connections, lent with the outbox
    /// for dialled ones.
    conn_ids: ConnIds,
    /// The instants the core is handed.
    clock: Clock,
    conns: HashMap<ConnId, SendQueue>,
    dialing: HashSet<ConnId>,
    /// Where each connection this node dialled goes (while it is dialling or open): the
    /// fabric's cut is checked against these.
    dialled: HashMap<ConnId, SocketAddr>,
    fabric: FabricView,
    /// Connections closed for overflowing their send queue, to report once the core's
    /// current effects are carried out.
    overflowed: Vec<ConnId>,
    calls: HashMap<RequestId, oneshot::Sender<Event>>,
    next_request: u64,
    tasks: JoinSet<()>,
    /// Whether the warning about a refused peer off loopback was logged already.
    warned_loopback: bool,
    /// The pushes under way (a firewalled Napster peer's uploads), at most [`MAX_PUSHES`].
    pushes: Arc<Semaphore>,
    /// The node's own handle, which its pushes serve the library through.
    node: NodeHandle,
    tx: mpsc::UnboundedSender<ToDriver>,
    inbox: mpsc::Sender<ToDriver>,
    spec: DriverSpec<N>,
}

/// Starts the driver task for `core`; returns the handle and the sender that listeners use.
pub(crate) fn spawn<N: Node + Send + 'static>(core: N, spec: DriverSpec<N>) -> NodeHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    let (inbox, inbox_rx) = mpsc::channel(MAX_INBOX_CHUNKS);
    let cancel = CancellationToken::new();
    let handle = NodeHandle::new(
        tx.clone(),
        spec.addr,
        spec.kind,
        spec.library.clone(),
        spec.fabric.clone(),
        cancel.clone(),
    );
    let span = info_span!("node", kind = spec.kind, addr = %spec.addr);
    let fabric = spec.fabric.view(spec.addr);
    let driver = Driver {
        core,
        effects: Effects::new(),
        conn_ids: ConnIds::new(),
        clock: Clock::start(),
        conns: HashMap::new(),
        dialing: HashSet::new(),
        dialled: HashMap::new(),
        fabric,
        overflowed: Vec::new(),
        calls: HashMap::new(),
        next_request: 0,
        tasks: JoinSet::new(),
        warned_loopback: false,
        pushes: Arc::new(Semaphore::new(MAX_PUSHES)),
        node: handle.clone(),
        tx,
        inbox,
        spec,
    };
    tokio::spawn(driver.run(rx, inbox_rx, cancel).instrument(span));
    handle
}

impl<N: Node> Driver<N> {
    fn now(&self) -> Instant {
        self.clock.now()
    }

    async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<ToDriver>,
        mut inbox: mpsc::Receiver<ToDriver>,
        cancel: CancellationToken,
    ) {
        self.handle(Input::Start);
        loop {
            let deadline = self.core.poll_timeout().map(|t| self.clock.at(t));
            tokio::select! {
                _ = cancel.cancelled() => break,
                msg = rx.recv() => match msg {
                    Some(msg) => self.on_message(msg),
                    None => break,
                },
                // The driver holds an inbox sender itself, so this never ends.
                Some(msg) = inbox.recv() => self.on_message(msg),
                _ = sleep_until(deadline) => self.handle(Input::Timeout),
                () = self.fabric.changed() => self.close_cut_links(),
                Some(_) = self.tasks.join_next(), if !self.tasks.is_empty() => {}
            }
        }
        debug!("node stopped");
        // Dropping `self` aborts every connection task (the JoinSet) and drops every socket.
    }

    fn on_message(&mut self, msg: ToDriver) {
        match msg {
            ToDriver::Accepted {
                stream,
                remote,
                first,
            } => {
                if self.conns.len() >= MAX_CONNECTIONS {
                    debug!(%remote, "refused: connection limit");
                    return;
                }
                if !self.may_tell(remote) {
                    // Dropping the stream closes it before the core says anything.
                    return;
                }
                let conn = self.conn_ids.next_id();
                self.open(conn, stream);
                self.handle(Input::Accepted { conn, remote });
                if !first.is_empty() && self.conns.contains_key(&conn) {
                    self.handle(Input::Received {
                        conn,
                        bytes: &first,
                    });
                }
            }
            ToDriver::Connected { conn, stream } => {
                // A cut that began while this dial was under way refuses it now.
                let allowed = self
                    .dialled
                    .get(&conn)
                    .is_some_and(|a| self.fabric.allows(*a));
                if self.dialing.remove(&conn) {
                    if allowed {
                        self.open(conn, stream);
                        self.handle(Input::Connected { conn });
                    } else {
                        self.dialled.remove(&conn);
                        let reason = CloseReason::TimedOut;
                        self.handle(Input::Closed { conn, reason });
                    }
                }
            }
            ToDriver::ConnectFailed { conn, reason } => {
                if self.dialing.remove(&conn) {
                    self.dialled.remove(&conn);
                    self.handle(Input::Closed { conn, reason });
                }
            }
            ToDriver::Received { conn, bytes } => {
                if self.conns.contains_key(&conn) {
                    self.handle(Input::Received {
                        conn,
                        bytes: &bytes,
                    });
                }
            }
            ToDriver::Closed { conn, reason } => {
                self.dialled.remove(&conn);
                if self.conns.remove(&conn).is_some() {
                    self.handle(Input::Closed { conn, reason });
                }
            }
            ToDriver::Call { call, reply } => self.call(call, reply),
            ToDriver::Share(library) => self.handle(Input::Command(Command::Share { library })),
            ToDriver::Notice(notice) => self.handle(Input::Command(Command::Transfer(notice))),
            ToDriver::Stats(reply) => {
                let library = self.spec.library.get();
                let _ = reply.send(NodeStats {
                    kind: self.spec.kind.to_owned(),
                    addr: self.spec.addr,
                    files: library.len(),
                    metrics: self.core.metrics().clone(),
                    state: (self.spec.describe)(&self.core),
                    problem: self.core.problem().cloned(),
                });
            }
        }
    }

    fn call(&mut self, call: Call, reply: oneshot::Sender<Event>) {
        self.next_request += 1;
        let request = RequestId(self.next_request);
        self.calls.insert(request, reply);
        let command = match call {
            Call::Search(query) => Command::Search { request, query },
            Call::Locate(hit) => Command::Locate { request, hit },
            Call::Ask(question) => Command::Ask { request, question },
            Call::Leave => Command::Leave { request },
        };
        self.handle(Input::Command(command));
    }

    /// One input to the core, then every effect it asked for; then, as inputs of their own,
    /// the closes of any connections whose send queues overflowed.
    fn handle(&mut self, input: Input<'_>) {
        let now = self.now();
        let mut out = Outbox::new(&mut self.effects, &mut self.conn_ids);
        self.core.handle(now, input, &mut out);
        while let Some(effect) = self.effects.pop() {
            self.apply(effect);
        }
        while let Some(conn) = self.overflowed.pop() {
            self.dialled.remove(&conn);
            let reason = CloseReason::Stalled;
            self.handle(Input::Closed { conn, reason });
        }
    }

    fn apply(&mut self, effect: Effect) {
        match effect {
            Effect::Send { conn, bytes } => {
                let Some(queue) = self.conns.get(&conn) else {
                    return;
                };
                if queue.push(bytes, self.fabric.release_time()).is_err() {
                    debug!(
                        ?conn,
                        "disconnected: its send queue is full (the peer does not read)"
                    );
                    if let Some(queue) = self.conns.remove(&conn) {
                        queue.abort();
                    }
                    self.overflowed.push(conn);
                }
            }
            Effect::Connect { conn, addr } => {
                self.dialing.insert(conn);
                self.dialled.insert(conn, addr);
                let tx = self.tx.clone();
                if !self.may_tell(addr) {
                    let reason = CloseReason::LoopbackOnly;
                    let _ = tx.send(ToDriver::ConnectFailed { conn, reason });
                    return;
                }
                if !self.fabric.allows(addr) {
                    // Across a cut: the core hears that the dial failed, later, as it
                    // would from the socket; a partition drops the SYN, so it timed out.
                    let reason = CloseReason::TimedOut;
                    let _ = tx.send(ToDriver::ConnectFailed { conn, reason });
                    return;
                }
                let from = self.spec.dial_from;
                self.tasks.spawn(async move {
                    let outcome = tokio::time::timeout(CONNECT_TIMEOUT, dial(addr, from)).await;
                    let msg = match outcome {
                        Ok(Ok(stream)) => {
                            let _ = stream.set_nodelay(true);
                            ToDriver::Connected { conn, stream }
                        }
                        Ok(Err(e)) => ToDriver::ConnectFailed {
                            conn,
                            reason: close_reason(&e),
                        },
                        Err(_) => ToDriver::ConnectFailed {
                            conn,
                            reason: CloseReason::TimedOut,
                        },
                    };
                    let _ = tx.send(msg);
                });
            }
            Effect::Close { conn } => {
                self.dialing.remove(&conn);
                self.dialled.remove(&conn);
                // Dropping the sender lets the connection task flush and shut down.
                self.conns.remove(&conn);
            }
            Effect::Report(event) => self.report(event),
        }
    }

    /// After a change of the fabric: closes every open connection this node dialled to an
    /// address now across a cut, as a broken link closes, and tells the core.
    fn close_cut_links(&mut self) {
        let mut cut: Vec<ConnId> = self
            .dialled
            .iter()
            .filter(|(conn, addr)| self.conns.contains_key(conn) && !self.fabric.allows(**addr))
            .map(|(conn, _)| *conn)
            .collect();
        cut.sort_unstable();
        for conn in cut {
            debug!(?conn, "closed: the fabric cut it");
            self.dialled.remove(&conn);
            if let Some(queue) = self.conns.remove(&conn) {
                queue.abort();
            }
            let reason = CloseReason::TimedOut;
            self.handle(Input::Closed { conn, reason });
        }
    }

    /// Whether this node may tell its advertised address to `peer`; logs why not, the
    /// first time with the fix.
    fn may_tell(&mut self, peer: SocketAddr) -> bool {
        let advertised = self.spec.addr;
        if may_tell(advertised, peer.ip()) {
            return true;
        }
        if self.warned_loopback {
            debug!(%peer, "refused a peer off loopback");
        } else {
            self.warned_loopback = true;
            warn!(
                %peer,
                %advertised,
                "refused a peer off loopback: this node advertises a loopback address, which \
                 would lead that peer back to its own machine; listen on this host's address \
                 on its peers' network, or on every interface with --advertise IP"
            );
        }
        false
    }

    fn report(&mut self, event: Event) {
        let request = match event {
            Event::SearchDone { request, .. }
            | Event::Located { request, .. }
            | Event::Left { request }
            | Event::Answered { request, .. } => request,
            Event::PushUpload { to, my_nick, name } => return self.push(to, my_nick, name),
        };
        if let Some(reply) = self.calls.remove(&request) {
            let _ = reply.send(event);
        }
    }

    /// Starts pushing `name` to `to`, as the core asked: unless the fabric cuts the way
    /// there, or [`MAX_PUSHES`] are under way. The push ends with the node, as its
    /// connections do.
    fn push(&mut self, to: SocketAddr, my_nick: String, name: String) {
        if !self.fabric.allows(to) {
            debug!(%to, "no push across a cut");
            return;
        }
        let Ok(slot) = self.pushes.clone().try_acquire_owned() else {
            debug!(%to, "no push: {MAX_PUSHES} under way already");
            return;
        };
        let node = self.node.clone();
        self.tasks.spawn(async move {
            if let Err(e) = upload::push(node, to, my_nick, name, slot).await {
                debug!(%to, "push ended: {e}");
            }
        });
    }

    fn open(&mut self, conn: ConnId, stream: TcpStream) {
        let queue = SendQueue::open(conn, stream, self.inbox.clone(), &mut self.tasks);
        self.conns.insert(conn, queue);
    }
}

/// Dials `addr`, from `from` if given, of `addr`'s family, and this host's (an advertised
/// address that a router forwards to this host is not: then the kernel chooses, and the
/// router rewrites it on the way out as it should).
async fn dial(addr: SocketAddr, from: Option<IpAddr>) -> std::io::Result<TcpStream> {
    let Some(from) = from.filter(|f| f.is_ipv4() == addr.is_ipv4()) else {
        return TcpStream::connect(addr).await;
    };
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    match socket.bind(SocketAddr::new(from, 0)) {
        Ok(()) => socket.connect(addr).await,
        Err(e) if e.kind() == std::io::ErrorKind::AddrNotAvailable => {
            debug!(%from, "not this host's address: dialling from the kernel's choice");
            TcpStream::connect(addr).await
        }
        Err(e) => Err(e),
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}
