//! How much memory a process uses, from Linux's `/proc`: the one measurement of the machine
//! both engines report beside the network's own numbers.

use std::path::Path;

/// The resident and peak memory of process `pid` (or `"self"`), in KiB, from
/// `/proc/<pid>/status`; `None` where there is no such file.
pub fn memory_kib(pid: &str) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(Path::new("/proc").join(pid).join("status")).ok()?;
    let field = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}
