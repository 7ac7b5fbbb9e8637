//! Runs p2plab's protocol cores over real TCP with tokio.
