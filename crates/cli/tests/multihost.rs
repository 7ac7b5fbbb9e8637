//! The three networks across emulated hosts: `scripts/multihost.sh` builds network
//! namespaces on a private bridge, starts 10+ nodes of each network spread over them, and
//! checks searches, downloads, joins and a host's crash through the `p2plab` client. It
//! needs root and iproute2; without them this test says why and passes without running.

use std::path::Path;
use std::process::Command;

/// The seconds the script may take before it gives up (and cleans up) by itself.
const TIMEOUT_SECS: &str = "420";

/// Why the script cannot run here, if it cannot.
fn missing() -> Option<String> {
    let uid = Command::new("id").arg("-u").output();
    match uid {
        Ok(out) if String::from_utf8_lossy(&out.stdout).trim() == "0" => {}
        Ok(_) => return Some("not root: network namespaces need it".to_owned()),
        Err(e) => return Some(format!("cannot run `id -u`: {e}")),
    }
    match Command::new("ip").arg("-V").output() {
        Ok(out) if out.status.success() => None,
        _ => Some("no `ip` (iproute2) on this machine".to_owned()),
    }
}

#[test]
fn searches_downloads_joins_and_a_crash_across_namespaces() {
    if let Some(why) = missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/multihost.sh");
    let out = Command::new("bash")
        .arg(&script)
        .env("P2PLAB_BIN", env!("CARGO_BIN_EXE_p2plab"))
        .env("MULTIHOST_TIMEOUT", TIMEOUT_SECS)
        .env("MULTIHOST_HOSTS", "3")
        .env("MULTIHOST_PER_HOST", "4")
        .env("MULTIHOST_NET", "10.77.0")
        .output()
        .expect("bash runs the script");
    let text = String::from_utf8_lossy(&out.stdout);
    print!("{text}");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the script failed: {}", out.status);
    for line in [
        "ok: host 0's nodes listen on 0.0.0.0 and advertise 10.77.0.1",
        "ok: napster: all 12 peers logged in",
        "ok: napster: a search from host 1 finds host 2's file",
        "ok: napster: downloads across hosts give identical bytes",
        "ok: gnutella: a search from host 1 finds host 0's file at its advertised address",
        "ok: gnutella: downloads across hosts give identical bytes",
        "ok: chord: all 12 nodes joined one ring across 3 hosts",
        "ok: chord: a search from host 2 finds host 0's file at its advertised address",
        "ok: chord: downloads across hosts give identical bytes",
        "ok: a servent advertising 127.0.0.1 refused a peer from host 2",
        "ok: chord: the 8 survivors mended their ring",
        "ok: gnutella: survivors still find and download each other's files",
        "ok: napster: host 2's files are gone from the index, 8 peers remain",
        "multihost: all checks passed",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(line)),
            "no line starting {line:?}"
        );
    }
    // Every address a hit or a download named is a namespace's: none is 0.0.0.0 or
    // loopback.
    for hit in text
        .lines()
        .filter(|l| l.contains("finds") || l.contains("bytes from"))
    {
        assert!(
            !hit.contains("0.0.0.0") && !hit.contains("127.0.0.1"),
            "{hit}"
        );
    }
}
