//! What the server tells a user who logs in, after the ack (3), as OpenNap's login.c does:
//! the message of the day (621, one line each) and the server's statistics (214). A
//! client may ask for either again (an empty 621, an empty 214).
//!
//! ```text
//! type 621, S   VERSION p2plab 0.1.0
//! type 621, S   Welcome to p2plab's Napster index server.
//! type 621, S   3 users online, sharing 1042 files (2 GB).
//! type 214, S   3 1042 2                  <users> <files> <gigabytes, rounded down>
//! ```
//!
//! OpenNap starts its motd with `VERSION opennap 0.36` so that clients can tell which
//! server they are on; p2plab names itself the same way. The counts are the server's own,
//! at the moment the motd is sent.

use p2plab_peer_protocol::{ConnId, Outbox};

use super::Server;
use crate::message::Message;

/// The first line of the motd: the server's name and version, as OpenNap writes its own.
pub const MOTD_VERSION: &str = concat!("VERSION p2plab ", env!("CARGO_PKG_VERSION"));

/// The motd's greeting line.
pub const MOTD_BANNER: &str = "Welcome to p2plab's Napster index server.";

impl Server {
    /// The server's size, as 214 reports it: users online, files indexed, gigabytes
    /// shared (rounded down).
    fn counts(&self) -> (u64, u64, u64) {
        (
            self.nicks.len() as u64,
            self.index.len() as u64,
            self.index.total_bytes() >> 30,
        )
    }

    /// 621: the motd, one line a message.
    pub(super) fn motd(&mut self, conn: ConnId, out: &mut Outbox) {
        let (users, files, gigabytes) = self.counts();
        let lines = [
            MOTD_VERSION.to_owned(),
            MOTD_BANNER.to_owned(),
            format!("{users} users online, sharing {files} files ({gigabytes} GB)."),
        ];
        for line in lines {
            self.send(conn, &Message::Motd(line), out);
        }
    }

    /// 214: users, files and gigabytes shared.
    pub(super) fn stats(&mut self, conn: ConnId, out: &mut Outbox) {
        let (users, files, gigabytes) = self.counts();
        let stats = Message::Stats {
            users,
            files,
            gigabytes,
        };
        self.send(conn, &stats, out);
    }
}
