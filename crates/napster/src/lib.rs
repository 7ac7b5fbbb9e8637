//! p2plab's napster node (see the crate's issue).
