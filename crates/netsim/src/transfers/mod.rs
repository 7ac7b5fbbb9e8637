//! Downloads across the virtual network: the transfer cores of `p2plab-peer-protocol`, one
//! [`Downloader`] at the fetching node and one [`Uploader`] at the holder, with their bytes
//! carried by the same latency model as every message.
//!
//! A download is a connection of its own beside the nodes' protocol links, as on real
//! sockets: its bytes never reach the protocol cores, which only hear the transfer notices
//! a real driver gives them ([`Command::Transfer`]: Napster tells its server). Its latency
//! draws come from a stream of their own, so starting a download leaves the timing of every
//! protocol message — and a run without downloads its digest — as it was.
//!
//! ## The model
//!
//! - The dial takes one latency to reach the holder and one back, like any connection. It
//!   is refused if the holder is down or across a partition.
//! - Each write lands after a fresh latency, never before an earlier one on the same side
//!   (TCP keeps order). Every write of the uploader is acknowledged one latency after it
//!   landed, and at most [`WINDOW`] bytes may be unacknowledged: a file takes about one
//!   round trip per window, as TCP without window scaling and with no bandwidth limit.
//! - The connection breaks when either end crashes or a partition parts them; the side
//!   still up hears `Closed` at its next arrival (or stalls, if nothing is on its way).
//!   Lost messages ([`TestNet::set_loss`]) do not touch transfers.
//! - Upload slots are always granted: the simulator models no busy holder.
//!
//! The holder serves its [`Node::library`]; a node without one shares nothing, and every
//! request to it is refused as unshared. A Napster push (a firewalled holder connecting
//! out) is not modelled: such a download never reaches a holder.

use std::collections::{BTreeMap, HashMap};

use p2plab_peer_protocol::transfer::{
    Dialect, DownloadError, DownloadStep, Downloader, UploadStep, Uploader,
};
use p2plab_peer_protocol::{Command, Download, Input, Instant, Library, Node, TransferNotice};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{NodeIdx, TestNet};
use p2plab_peer_protocol::latency::Sampler;

/// The most bytes an uploader may have sent and not yet seen acknowledged: 64 KiB, TCP's
/// largest window without the window-scale option.
pub const WINDOW: usize = 64 * 1024;

/// Names one download of a [`TestNet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DownloadId(pub u64);

/// A download that has ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishedDownload {
    /// The download, as [`TestNet::start_download`] named it.
    pub id: DownloadId,
    /// When it ended, in virtual time.
    pub at: Instant,
    /// The file's bytes, or why the download failed.
    pub result: Result<Vec<u8>, DownloadError>,
}

/// Something that reaches one end of a download's connection.
#[derive(Debug)]
enum Arrival {
    /// The dial reaches the holder.
    Dial,
    /// The holder's answer to the dial reaches the downloader.
    Connected,
    /// Bytes reach the holder.
    AtHolder(Vec<u8>),
    /// Bytes reach the downloader.
    AtDownloader(Vec<u8>),
    /// The downloader's acknowledgement of this many bytes reaches the holder.
    Acked(usize),
    /// The holder has closed (or refused the dial), after its last bytes.
    HolderClosed,
    /// The downloader has closed, after its last bytes.
    DownloaderClosed,
    /// A deadline of either core.
    Wake,
}

/// Which end of a download's connection an arrival is for.
#[derive(Debug, Clone, Copy)]
enum Toward {
    Holder,
    Downloader,
}

/// What stepping a download's cores asks the network for.
#[derive(Default)]
struct Effects {
    /// Things to put on the wire.
    sends: Vec<(Toward, Arrival)>,
    /// Notices for the holder's core.
    notices: Vec<TransferNotice>,
    /// The download's outcome, when it ended now.
    done: Option<Result<u64, DownloadError>>,
}

/// One download under way.
struct Running {
    from: NodeIdx,
    from_life: u32,
    /// The node serving the download, if one was found at its address.
    holder: Option<NodeIdx>,
    holder_life: u32,
    dialect: Dialect,
    down: Downloader,
    /// The holder's core, once the dial reached it.
    up: Option<Uploader>,
    /// Whether the holder's core closed the connection.
    up_closed: bool,
    file: Vec<u8>,
    /// When the last byte each way lands: later ones may not overtake it.
    last_to_holder: Instant,
    last_to_downloader: Instant,
    /// The uploader's bytes not yet acknowledged.
    unacked: usize,
    /// The deadline last put on the agenda.
    armed: Option<Instant>,
}

impl Running {
    /// Hands an arrival on the open connection to the core it is for.
    fn arrive(&mut self, now: Instant, arrival: Arrival, library: &Library, fx: &mut Effects) {
        match arrival {
            Arrival::Dial => {
                self.up = Some(Uploader::new(self.dialect, now));
                fx.sends.push((Toward::Downloader, Arrival::Connected));
            }
            Arrival::Connected => self.down.handle_connected(now),
            Arrival::AtHolder(bytes) => {
                if let Some(up) = &mut self.up {
                    up.handle_received(now, &bytes, library);
                }
            }
            Arrival::AtDownloader(bytes) => {
                self.down.handle_received(now, &bytes);
                fx.sends.push((Toward::Holder, Arrival::Acked(bytes.len())));
            }
            Arrival::Acked(len) => self.unacked = self.unacked.saturating_sub(len),
            Arrival::HolderClosed => self.down.handle_closed(),
            Arrival::DownloaderClosed => self.lose_uploader(),
            Arrival::Wake => {
                if self.armed == Some(now) {
                    self.armed = None;
                }
                self.down.handle_timeout(now);
                if let Some(up) = &mut self.up {
                    up.handle_timeout(now);
                }
            }
        }
    }

    /// The connection broke (or was refused): both cores hear it.
    fn lose_connection(&mut self) {
        self.down.handle_closed();
        self.lose_uploader();
    }

    fn lose_uploader(&mut self) {
        if let Some(up) = &mut self.up {
            up.handle_closed();
        }
    }

    /// Carries out what both cores ask for. The uploader is held back while a window of
    /// its bytes is unacknowledged, as a full socket buffer holds back a real one.
    fn pump(&mut self, now: Instant, library: &Library, fx: &mut Effects) {
        while let Some(up) = self.up.as_mut().filter(|_| self.unacked < WINDOW) {
            let Some(step) = up.poll_output() else { break };
            match step {
                UploadStep::Write(bytes) => {
                    self.unacked += bytes.len();
                    fx.sends
                        .push((Toward::Downloader, Arrival::AtDownloader(bytes)));
                }
                UploadStep::Read { file, offset, len } => {
                    up.handle_chunk(now, file.read_at(offset, len), library);
                }
                UploadStep::Claim => up.handle_slot(now, true, library),
                UploadStep::Notice(notice) => fx.notices.push(notice),
                UploadStep::Close => {
                    self.up_closed = true;
                    fx.sends.push((Toward::Downloader, Arrival::HolderClosed));
                }
            }
        }
        while let Some(step) = self.down.poll_output() {
            match step {
                DownloadStep::Write(bytes) => {
                    fx.sends.push((Toward::Holder, Arrival::AtHolder(bytes)));
                }
                DownloadStep::Deliver { bytes, .. } => self.file.extend_from_slice(&bytes),
                DownloadStep::Done(result) => {
                    fx.sends.push((Toward::Holder, Arrival::DownloaderClosed));
                    fx.done = Some(result);
                }
            }
        }
    }

    /// The earliest deadline of either core.
    fn deadline(&self) -> Option<Instant> {
        let up = self.up.as_ref().and_then(Uploader::poll_timeout);
        match (self.down.poll_timeout(), up) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Over once the download has ended and the holder has let go too.
    fn is_over(&self) -> bool {
        self.down.is_done() && (self.up.is_none() || self.up_closed)
    }
}

/// The arrivals of every download, in time order.
struct Wire {
    /// The latency draws of transfers, a stream apart from the protocol messages'.
    rng: ChaCha8Rng,
    /// Arrivals by time, then by the order they were scheduled in.
    agenda: BTreeMap<(Instant, u64), (DownloadId, Arrival)>,
    scheduled: u64,
}

impl Wire {
    fn schedule(&mut self, at: Instant, id: DownloadId, arrival: Arrival) {
        self.scheduled += 1;
        self.agenda.insert((at, self.scheduled), (id, arrival));
    }

    /// Puts `arrival` on the wire at `now`: it lands after a fresh latency, and not before
    /// what went earlier the same way (`last`).
    fn send(
        &mut self,
        latency: &Sampler,
        now: Instant,
        last: &mut Instant,
        id: DownloadId,
        arrival: Arrival,
    ) {
        let fresh = now
            .as_micros()
            .saturating_add(latency.sample(&mut self.rng));
        let at = Instant::from_micros(fresh).max(*last);
        *last = at;
        self.schedule(at, id, arrival);
    }
}

/// Every download of a network, and what is on its way for them.
pub(super) struct Transfers {
    wire: Wire,
    next_id: u64,
    running: HashMap<DownloadId, Running>,
    finished: Vec<FinishedDownload>,
}

impl Transfers {
    /// No downloads; latency draws from a stream of `seed` of their own.
    pub(super) fn new(seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(1);
        Transfers {
            wire: Wire {
                rng,
                agenda: BTreeMap::new(),
                scheduled: 0,
            },
            next_id: 0,
            running: HashMap::new(),
            finished: Vec::new(),
        }
    }

    /// When the next arrival is due, if any.
    pub(super) fn next_time(&self) -> Option<Instant> {
        self.wire.agenda.keys().next().map(|(t, _)| *t)
    }
}

impl<N: Node> TestNet<N> {
    /// Starts downloading the `size`-byte file `download` names to node `from`, now. The
    /// holder is the node listening at the download's address (for HTTP) or on its host
    /// (a Napster data port is a second port of the holder). The outcome appears in
    /// [`TestNet::take_finished_downloads`], at the virtual instant it ended.
    pub fn start_download(&mut self, from: NodeIdx, download: &Download, size: u64) -> DownloadId {
        let id = DownloadId(self.transfers.next_id);
        self.transfers.next_id += 1;
        let (holder, dialect) = match download {
            Download::Http { addr, .. } => (self.idx_of(*addr), Dialect::Http),
            Download::Napster { addr, .. } => {
                let on_host = (0..self.slots.len()).find(|&i| self.slots[i].addr.ip() == addr.ip());
                (on_host, Dialect::Napster)
            }
            // The simulator carries no pushes: a firewalled holder is never reached, and the
            // download stalls out as one whose holder never connects.
            Download::NapsterPush { .. } => (None, Dialect::Napster),
        };
        let mut running = Running {
            from,
            from_life: self.hosts[from].life,
            holder,
            holder_life: holder.map_or(0, |h| self.hosts[h].life),
            dialect,
            down: Downloader::new(self.now, download, size, 0),
            up: None,
            up_closed: false,
            file: Vec::new(),
            last_to_holder: self.now,
            last_to_downloader: self.now,
            unacked: 0,
            armed: None,
        };
        let wire = &mut self.transfers.wire;
        wire.send(
            &self.latency,
            self.now,
            &mut running.last_to_holder,
            id,
            Arrival::Dial,
        );
        self.transfers.running.insert(id, running);
        self.notify(from, TransferNotice::DownloadStarted);
        self.pump_transfer(id, None);
        id
    }

    /// Takes the downloads that ended since the last call, in the order they ended.
    pub fn take_finished_downloads(&mut self) -> Vec<FinishedDownload> {
        std::mem::take(&mut self.transfers.finished)
    }

    /// True when a download has ended and waits in [`TestNet::take_finished_downloads`]:
    /// what a [`TestNet::run_until_cond`] that waits for one checks.
    pub fn has_finished_downloads(&self) -> bool {
        !self.transfers.finished.is_empty()
    }

    /// Delivers the earliest transfer arrival, then carries out what it led to.
    pub(super) fn transfer_step(&mut self) {
        let Some((_, (id, arrival))) = self.transfers.wire.agenda.pop_first() else {
            return;
        };
        if self.transfers.running.contains_key(&id) {
            self.pump_transfer(id, Some(arrival));
        }
    }

    /// Hands `arrival` (if any) to download `id`, then pumps its cores and puts what they
    /// asked for on the wire; a download that is over is dropped.
    fn pump_transfer(&mut self, id: DownloadId, arrival: Option<Arrival>) {
        let now = self.now;
        let link_up = self.transfer_link_up(id);
        let Some(t) = self.transfers.running.get_mut(&id) else {
            return;
        };
        let empty = Library::empty();
        let library = t
            .holder
            .and_then(|h| self.slots[h].node.library())
            .unwrap_or(&empty);
        let mut fx = Effects::default();
        match arrival {
            None => {}
            Some(arrival @ Arrival::Wake) => t.arrive(now, arrival, library, &mut fx),
            Some(Arrival::Dial) if !link_up => {
                fx.sends.push((Toward::Downloader, Arrival::HolderClosed));
            }
            Some(_) if !link_up => t.lose_connection(),
            Some(arrival) => t.arrive(now, arrival, library, &mut fx),
        }
        t.pump(now, library, &mut fx);
        for (toward, arrival) in fx.sends {
            let last = match toward {
                Toward::Holder => &mut t.last_to_holder,
                Toward::Downloader => &mut t.last_to_downloader,
            };
            self.transfers
                .wire
                .send(&self.latency, now, last, id, arrival);
        }
        let deadline = t.deadline();
        if deadline != t.armed {
            t.armed = deadline;
            if let Some(at) = deadline {
                self.transfers.wire.schedule(at.max(now), id, Arrival::Wake);
            }
        }
        let (from, holder, over) = (t.from, t.holder, t.is_over());
        let ended = fx.done.is_some();
        if let Some(result) = fx.done {
            let file = std::mem::take(&mut t.file);
            let result = result.map(|_| file);
            self.transfers.finished.push(FinishedDownload {
                id,
                at: now,
                result,
            });
        }
        if over {
            self.transfers.running.remove(&id);
        }
        if let Some(holder) = holder {
            for notice in fx.notices {
                self.notify(holder, notice);
            }
        }
        if ended {
            self.notify(from, TransferNotice::DownloadFinished);
        }
    }

    /// Whether both ends are still the nodes that opened the connection, on one side.
    fn transfer_link_up(&self, id: DownloadId) -> bool {
        let Some(t) = self.transfers.running.get(&id) else {
            return false;
        };
        let from = &self.hosts[t.from];
        t.holder.map(|h| &self.hosts[h]).is_some_and(|holder| {
            from.alive
                && from.life == t.from_life
                && holder.alive
                && holder.life == t.holder_life
                && from.group == holder.group
        })
    }

    /// Tells a node's core of a transfer, as a real driver does.
    fn notify(&mut self, idx: NodeIdx, notice: TransferNotice) {
        self.input(idx, Input::Command(Command::Transfer(notice)));
    }
}

#[cfg(test)]
mod tests;
