//! Query routing tables (`qrp`) on the servent's links, both ways.
//!
//! - As a leaf, the servent sends each neighbour its table when the link opens, and again to
//!   every neighbour when its library changes: a RESET, then the PATCH sequence, each a
//!   `0x30` descriptor with hops 0 and TTL 1 (never forwarded).
//! - From a neighbour, it reads the table within the bounds of [`TableReceiver`] and keeps it
//!   ([`Servent::route_table_from`]). An ultrapeer routes Queries to its leaves by these
//!   tables (`flood.rs`); a flooding servent keeps them but floods every Query as 0.4 does.
//!   A message that breaks the rules is dropped with the sender's table (counted as `qrp`):
//!   the sender gets no Query routed by table until it sends a whole new one; the link
//!   stays.

use std::net::SocketAddr;

use p2plab_peer_protocol::{ConnId, Outbox};
use tracing::debug;

use super::Servent;
use crate::config::Role;
use crate::descriptor::{Descriptor, Payload};
use crate::guid::Guid;
use crate::qrp::{Compressor, QrpMessage, RouteTable, QRP_TYPE};

impl Servent {
    /// Sends `conn` our table from scratch.
    pub(super) fn send_route_table(&mut self, conn: ConnId, out: &mut Outbox) {
        let table = RouteTable::for_library(&self.config.library);
        for message in table.messages(Compressor::Zlib) {
            let payload = Payload::Extension {
                code: QRP_TYPE,
                data: message.to_bytes(),
            };
            let d = Descriptor::new(Guid::random(&mut self.rng), 1, payload);
            self.send(conn, &d, out);
        }
    }

    /// The library changed: as a leaf, every neighbour gets the new table.
    pub(super) fn library_changed(&mut self, out: &mut Outbox) {
        if self.config.role == Role::Leaf {
            for conn in self.open_conns() {
                self.send_route_table(conn, out);
            }
        }
    }

    /// A QRP message from `from`.
    pub(super) fn on_route_table(&mut self, from: ConnId, data: &[u8]) {
        let Some(c) = self.conns.get_mut(&from) else {
            return;
        };
        if let Err(why) = QrpMessage::decode(data).and_then(|m| c.table.handle(m)) {
            debug!(%from, %why, "qrp message dropped");
            self.metrics.record_drop("qrp");
        }
    }

    /// The last whole table the neighbour at `peer` sent, if it sent one.
    pub fn route_table_from(&self, peer: SocketAddr) -> Option<&RouteTable> {
        self.conns
            .values()
            .filter(|c| c.is_open() && c.peer_addr() == Some(peer))
            .find_map(|c| c.table.table())
    }
}
