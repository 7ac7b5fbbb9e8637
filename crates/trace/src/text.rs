//! The terminal rendering of a trace: the setup, every message with the reason it was sent,
//! the hits, and what to take away.
//!
//! ```text
//!   0 →  10 ms  s29 → s4    Query ttl=3 hops=0 "four seasons"
//!               s29 starts the flood: one copy to each of its 2 neighbours; s4 hop 1: ...
//! ```

use std::fmt::Write as _;

use crate::harness::describe_counts;
use crate::model::{Role, Trace};

/// The whole trace as text.
pub fn render(trace: &Trace) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", trace.title);
    for line in &trace.setup {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(
        out,
        "\n{} searches for {:?}; every message the search caused, in order of arrival:\n",
        trace.label(trace.origin),
        trace.query
    );
    for m in &trace.messages {
        let mark = match m.role {
            Role::Ask => "",
            Role::Answer => "  <-",
            Role::Duplicate => "  (dup)",
        };
        let _ = writeln!(
            out,
            "{:>4} →{:>4} ms  {:>5} → {:<5}  {}{mark}",
            m.sent.as_millis(),
            m.delivered.as_millis(),
            trace.label(m.from),
            trace.label(m.to),
            m.summary
        );
        let _ = writeln!(out, "{:>19}{}", "", m.why);
    }
    let _ = writeln!(out, "\nHits ({}):", trace.hits.len());
    for h in &trace.hits {
        let _ = writeln!(out, "  {}  {} bytes  {}", h.name, h.size, h.holder);
    }
    if !trace.background.is_empty() {
        let _ = writeln!(
            out,
            "\nOther traffic meanwhile (not explained): {}.",
            describe_counts(&trace.background)
        );
    }
    let _ = writeln!(out);
    for line in &trace.summary {
        let _ = writeln!(out, "{line}");
    }
    out
}
