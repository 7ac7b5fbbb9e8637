//! What the server says to a logged-in client whose message it cannot act on: a 404, as
//! napster.txt has it ("general error messages to a client that is logged in"), worded as
//! OpenNap words it, and the connection stays open.
//!
//! ```text
//! 100 (empty)                    → 404 parameters are unparsable: file name is not quoted
//! 203 lefty                      → 404 parameters are unparsable: file name is not quoted
//! 200 FILENAME CONTAINS "x" COLOR → 404 invalid search request, 202
//! 215 b928…c7 many               → 404 parameters are unparsable: size is not a number, 217
//! 214 1 2 3                      → 404 parameters are unparsable: a stats request has no data
//! 9999 …                         → 404 Unknown command code 9999
//! ```
//!
//! A request that has an end marker (a search's 202, a resume's 217) gets it after the
//! 404, so that a client counting its answers stays in step. Only a frame that breaks the
//! framing itself (a length past [`MAX_DATA_LEN`](crate::MAX_DATA_LEN)) still drops the
//! connection: after it the stream cannot be read.
//!
//! Garbage costs the server work in proportion to its bytes, and no memory that outlives
//! them: a message is at most [`MAX_DATA_LEN`](crate::MAX_DATA_LEN) bytes, buffered one
//! at a time, and earns at most two replies — a 404 whose text is cut at
//! [`MAX_REASON_LEN`](crate::MAX_REASON_LEN) and an end marker (or, for a hotlist nick no
//! one can log in with, the 302 that gives the nick back). The replies can outweigh the
//! garbage — an empty 100, four bytes, earns a 404 of some fifty — but they go back to
//! the sender alone, and a sender that does not read them as fast fills its connection's
//! send queue and is closed by the driver (the runtime's `MAX_QUEUED_BYTES`).

use p2plab_peer_protocol::{ConnId, Outbox};

use super::Server;
use crate::message::Message;
use crate::{types, MAX_REASON_LEN};

/// OpenNap's answer to a message whose fields it cannot read; p2plab adds which field.
pub const UNPARSABLE: &str = "parameters are unparsable";

/// OpenNap's answer to a search whose syntax it does not know.
pub const INVALID_SEARCH: &str = "invalid search request";

/// Why a client's 214 with data is refused: napster.txt gives the client's 214 none.
pub const STATS_HAVE_NO_DATA: &str = "a stats request has no data";

impl Server {
    /// A 404 for a message of type `ty` whose data does not fit its layout (`why`), and
    /// the end marker of its request if it has one.
    pub(super) fn unparsable(&mut self, conn: ConnId, ty: u16, why: &str, out: &mut Outbox) {
        tracing::debug!(%conn, ty, why, "unparsable message");
        self.metrics.record_drop("unparsable");
        let (text, end) = match ty {
            types::SEARCH => (INVALID_SEARCH.to_owned(), Some(Message::SearchEnd)),
            types::RESUME_REQUEST => (format!("{UNPARSABLE}: {why}"), Some(Message::ResumeEnd)),
            types::STATS => (format!("{UNPARSABLE}: {STATS_HAVE_NO_DATA}"), None),
            _ => (format!("{UNPARSABLE}: {why}"), None),
        };
        self.send(conn, &Message::NoSuch(cut(text)), out);
        if let Some(end) = end {
            self.send(conn, &end, out);
        }
    }

    /// A 404 for a message type the server does not take from a client, as OpenNap
    /// answers one: a type p2plab does not speak, or one only a server sends.
    pub(super) fn unknown_command(&mut self, conn: ConnId, ty: u16, out: &mut Outbox) {
        tracing::debug!(%conn, ty, "a message type the server does not take");
        self.metrics.record_drop("unknown_type");
        let text = format!("Unknown command code {ty}");
        self.send(conn, &Message::NoSuch(text), out);
    }
}

/// `text`, cut to at most [`MAX_REASON_LEN`] bytes at a character boundary.
fn cut(mut text: String) -> String {
    if text.len() > MAX_REASON_LEN {
        let mut end = MAX_REASON_LEN;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_reasons_are_cut_at_a_character_boundary() {
        assert_eq!(cut("short".into()), "short");
        let long = "é".repeat(MAX_REASON_LEN);
        let cut = cut(long);
        assert_eq!(cut.len(), MAX_REASON_LEN);
        assert!(cut.chars().all(|c| c == 'é'));
        let odd = format!("a{}", "é".repeat(MAX_REASON_LEN));
        assert_eq!(super::cut(odd).len(), MAX_REASON_LEN - 1);
    }
}
