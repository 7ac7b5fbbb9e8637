//! Resume requests: a client with part of a file asks who shares the same file, known by
//! its md5 and size (215), and gets one 216 per holder, then 217.
//!
//! The index finds the files in one lookup of its md5-and-size map
//! ([`Index::with_hash`](crate::index::Index::with_hash)), never by a scan, and the
//! matches are capped as a search's results are. A size of 0 is refused as OpenNap refuses
//! it, with 404 `invalid file size` — and, unlike OpenNap, followed by the 217, so that a
//! client waiting for the end of its matches is not left waiting.

use p2plab_peer_protocol::{ConnId, Outbox};

use super::downloads::endpoint;
use super::Server;
use crate::message::{Message, ResumeMatch, ResumeRequest};

/// What OpenNap says to a resume request for a file of no bytes.
pub const INVALID_FILE_SIZE: &str = "invalid file size";

impl Server {
    /// 215: a 216 for each indexed file with that md5 and size, at most `max_results`,
    /// then 217.
    pub(super) fn resume(&mut self, conn: ConnId, req: &ResumeRequest, out: &mut Outbox) {
        if req.size == 0 {
            self.send(conn, &Message::NoSuch(INVALID_FILE_SIZE.into()), out);
            return self.send(conn, &Message::ResumeEnd, out);
        }
        let limit = self.config.max_results.min(crate::MAX_RESULTS);
        let matches: Vec<Message> = self
            .index
            .with_hash(&req.md5, req.size, limit)
            .into_iter()
            .filter_map(|(holder, file)| {
                let session = self.sessions.get(&holder)?;
                let user = session.user.as_ref()?;
                Some(Message::ResumeMatch(ResumeMatch {
                    holder: endpoint(user, session.ip, &file.name, &file.md5),
                    size: file.size,
                }))
            })
            .collect();
        for msg in &matches {
            self.send(conn, msg, out);
        }
        self.send(conn, &Message::ResumeEnd, out);
    }
}
