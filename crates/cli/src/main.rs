//! The `p2plab` command.

fn main() {}
