//! Why a socket ended, in the words a core understands: the one place that maps
//! [`std::io::ErrorKind`] onto [`CloseReason`].
//!
//! The simulator gives the same reasons for the same situations (see `p2plab-netsim`), so a
//! core reports a refused server or a timed-out link the same way on both engines.

use std::io::{self, ErrorKind};

use p2plab_peer_protocol::CloseReason;

/// The reason a dial, a read or a write failed with `err`.
pub(crate) fn close_reason(err: &io::Error) -> CloseReason {
    match err.kind() {
        ErrorKind::ConnectionRefused => CloseReason::Refused,
        ErrorKind::TimedOut | ErrorKind::WouldBlock => CloseReason::TimedOut,
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe => {
            CloseReason::Reset
        }
        ErrorKind::UnexpectedEof => CloseReason::PeerClosed,
        ErrorKind::HostUnreachable
        | ErrorKind::NetworkUnreachable
        | ErrorKind::NetworkDown
        | ErrorKind::AddrNotAvailable => CloseReason::Unreachable,
        _ => CloseReason::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_errors_map_onto_the_reasons_a_core_tells_apart() {
        let reason = |kind| close_reason(&io::Error::from(kind));
        assert_eq!(reason(ErrorKind::ConnectionRefused), CloseReason::Refused);
        assert_eq!(reason(ErrorKind::TimedOut), CloseReason::TimedOut);
        assert_eq!(reason(ErrorKind::ConnectionReset), CloseReason::Reset);
        assert_eq!(reason(ErrorKind::BrokenPipe), CloseReason::Reset);
        assert_eq!(reason(ErrorKind::HostUnreachable), CloseReason::Unreachable);
        assert_eq!(reason(ErrorKind::PermissionDenied), CloseReason::Other);
    }
}
