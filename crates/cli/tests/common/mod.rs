//! What the command-line tests share: running the real binary on a command line.

use std::process::{Command, Stdio};

/// `Err(clap's message)` if the binary refuses the command line. `P2PLAB_CHECK_ARGS` makes
/// it parse the line and check the node settings there, then stop, so nothing is started,
/// bound or written.
pub fn parses(args: &[String]) -> Result<(), String> {
    let out = Command::new(env!("CARGO_BIN_EXE_p2plab"))
        .args(args)
        .env("P2PLAB_CHECK_ARGS", "1")
        .stdin(Stdio::null())
        .output()
        .expect("the p2plab binary runs");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}
