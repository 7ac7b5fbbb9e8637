//! What a scenario run prints on stderr: the runner's progress, not a warning from every
//! node that lost its server because the scenario killed it on purpose. The report keeps
//! the nodes' problems; `RUST_LOG` brings their log lines back.

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The scenario that kills Napster's index server (and a fifth of the peers), run in the
/// simulator: every Napster peer then cannot reach its server.
const SCENARIO: &str = "single-point-of-failure.json";

/// A node's line when its server is gone.
const NODE_WARNING: &str = "cannot reach index server";

fn run_scenario(out: &Path, rust_log: Option<&str>) -> Output {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios")
        .join(SCENARIO);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_p2plab"));
    cmd.arg("run")
        .arg(&scenario)
        .arg("--sim")
        .arg("--out")
        .arg(out)
        .stdin(Stdio::null())
        .env_remove("RUST_LOG");
    if let Some(filter) = rust_log {
        cmd.env("RUST_LOG", filter);
    }
    let output = cmd.output().expect("the p2plab binary runs");
    assert!(
        output.status.success(),
        "p2plab run failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn a_run_keeps_the_nodes_quiet_unless_asked() {
    let dir = std::env::temp_dir().join(format!("p2plab-logs-{}", std::process::id()));
    let quiet = run_scenario(&dir.join("quiet"), None);
    let stderr = String::from_utf8_lossy(&quiet.stderr);
    assert!(
        !stderr.contains(NODE_WARNING),
        "node warnings reached stderr by default:\n{stderr}"
    );
    // The server's death is in the report all the same: after it, Napster found nothing.
    let report = std::fs::read_to_string(dir.join("quiet/report.md")).expect("report.md");
    assert!(
        report
            .lines()
            .any(|l| l.contains("| after the server died | napster |") && l.contains("| 0/")),
        "the report does not show Napster failing after its server died:\n{report}"
    );

    let loud = run_scenario(&dir.join("loud"), Some("info"));
    let stderr = String::from_utf8_lossy(&loud.stderr);
    assert!(
        stderr.contains(NODE_WARNING),
        "RUST_LOG=info did not bring the node lines back:\n{}",
        &stderr[..stderr.len().min(2000)]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
