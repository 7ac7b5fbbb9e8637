//! p2plab's gnutella node (see the crate's issue).
