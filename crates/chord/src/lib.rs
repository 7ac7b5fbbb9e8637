//! p2plab's chord node (see the crate's issue).
