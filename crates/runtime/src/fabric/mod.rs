//! [`Fabric`]: what the network between nodes does — which nodes can reach which, and how
//! long a message takes on top of loopback — applied by the driver on real sockets, where
//! netem and network namespaces are not available.
//!
//! - `sides` — [`Sides`], a cut: which side each listen address is on.
//! - `delay` — [`Delays`], one node's draws of the latency model.
//!
//! ## Who enforces what
//!
//! A connection is checked by the node that dialled it, because the dialler knows the
//! address it dialled — the remote's listen address — while the accepting node sees only an
//! ephemeral port. So during a cut a node refuses its own dials across it (its core hears
//! the failure a refused TCP connect gives) and closes its own outgoing connections across
//! it (its core hears `Closed`; the remote sees the TCP connection close and tells its core
//! the same). Every node enforces its own side, so one shared fabric (nodes in one process)
//! and one fabric per process (child nodes, set through their control ports) behave alike.
//!
//! Latency is added by the sender: each message a node's core sends is held back by a
//! fresh draw of the model before it is written, behind every message queued before it on
//! the same connection (TCP delivers in order). Held bytes count against the connection's
//! send budget ([`MAX_QUEUED_BYTES`](crate::limits::MAX_QUEUED_BYTES)), and no draw holds a
//! message longer than [`MAX_LATENCY`](crate::limits::MAX_LATENCY).

mod delay;
mod sides;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::watch;

use p2plab_peer_protocol::Latency;

pub(crate) use delay::Delays;
use sides::Sides;

/// What the network between nodes does: which listen addresses may reach which, and how
/// long a message takes on top of loopback. Cheap to clone (shared inside).
///
/// Every clone is the same fabric: a change through any of them reaches every node started
/// on it at once, including connections already open.
#[derive(Clone, Debug, Default)]
pub struct Fabric(Arc<watch::Sender<Settings>>);

/// A fabric's state; drivers watch it change.
#[derive(Debug, Default)]
pub(crate) struct Settings {
    /// The cut, while there is one.
    cut: Option<Sides>,
    /// The latency model and its seed, when messages are delayed.
    latency: Option<(Latency, u64)>,
}

impl Fabric {
    /// A fabric that lets everything through at once (what every node has by default).
    pub fn open() -> Fabric {
        Fabric::default()
    }

    /// Cuts the network: `sides[k]` are the listen addresses of side k; any address not
    /// listed (a node started during the cut, Napster's index server) is on side 0.
    /// An address listed on two sides is on the first.
    pub fn cut(&self, sides: &[Vec<SocketAddr>]) {
        let cut = Sides::new(sides);
        self.0.send_modify(|s| s.cut = Some(cut));
    }

    /// Ends the cut; the protocols reconnect by themselves, as after any failure.
    pub fn heal(&self) {
        self.0.send_modify(|s| s.cut = None);
    }

    /// Adds `latency` (None = none) to every message a node sends, drawn per message from a
    /// ChaCha RNG seeded with `seed` (per node: seed ^ hash of the node's address).
    pub fn set_latency(&self, latency: Option<Latency>, seed: u64) {
        self.0
            .send_modify(|s| s.latency = latency.map(|l| (l, seed)));
    }

    /// True if a node listening on `from` may dial `to`.
    pub(crate) fn allows(&self, from: SocketAddr, to: SocketAddr) -> bool {
        self.0.borrow().allows(from, to)
    }

    /// The node at `me`'s view of this fabric.
    pub(crate) fn view(&self, me: SocketAddr) -> FabricView {
        let rx = self.0.subscribe();
        let delays = Delays::new(rx.borrow().latency, me);
        FabricView { rx, me, delays }
    }
}

impl Settings {
    fn allows(&self, from: SocketAddr, to: SocketAddr) -> bool {
        self.cut.as_ref().is_none_or(|cut| cut.same_side(from, to))
    }
}

/// One node's view of its [`Fabric`]: what its driver checks dials against, and where it
/// draws its messages' delays from.
#[derive(Debug)]
pub(crate) struct FabricView {
    rx: watch::Receiver<Settings>,
    /// The node's listen address: its side, and its RNG's seed.
    me: SocketAddr,
    delays: Delays,
}

impl FabricView {
    /// Waits until the fabric changes, then takes the change in (a new latency model restarts
    /// the draws from its seed). Never returns if nobody can change it any more.
    pub(crate) async fn changed(&mut self) {
        if self.rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
        let latency = self.rx.borrow_and_update().latency;
        if latency != self.delays.settings() {
            self.delays = Delays::new(latency, self.me);
        }
    }

    /// True if this node may dial `to`.
    pub(crate) fn allows(&self, to: SocketAddr) -> bool {
        self.rx.borrow().allows(self.me, to)
    }

    /// When the next message sent should be written: `None` for at once.
    pub(crate) fn release_time(&mut self) -> Option<tokio::time::Instant> {
        self.delays.draw().map(|d| tokio::time::Instant::now() + d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn an_open_fabric_lets_everyone_reach_everyone() {
        let fabric = Fabric::open();
        assert!(fabric.allows(addr(1), addr(2)));
    }

    #[test]
    fn a_cut_separates_its_sides_until_it_heals() {
        let fabric = Fabric::open();
        fabric.cut(&[vec![addr(1), addr(2)], vec![addr(3)]]);
        assert!(fabric.allows(addr(1), addr(2)));
        assert!(!fabric.allows(addr(1), addr(3)));
        assert!(!fabric.allows(addr(3), addr(2)));
        fabric.heal();
        assert!(fabric.allows(addr(1), addr(3)));
    }

    #[test]
    fn a_change_through_one_clone_is_seen_by_every_node() {
        let fabric = Fabric::open();
        let view = fabric.view(addr(1));
        fabric.clone().cut(&[vec![], vec![addr(1)]]);
        assert!(!view.allows(addr(2)));
        assert!(fabric.view(addr(2)).allows(addr(9)), "unlisted: side 0");
    }

    #[tokio::test]
    async fn a_view_hears_of_changes_and_picks_up_the_latency() {
        let fabric = Fabric::open();
        let mut view = fabric.view(addr(1));
        assert_eq!(view.release_time(), None);
        let ms = std::time::Duration::from_millis(5);
        fabric.set_latency(Some(Latency::Constant(ms)), 7);
        view.changed().await;
        let before = tokio::time::Instant::now();
        let release = view.release_time().expect("a delay");
        assert!(release >= before + ms);
        fabric.set_latency(None, 7);
        view.changed().await;
        assert_eq!(view.release_time(), None);
    }
}
