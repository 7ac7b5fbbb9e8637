//! The tables of `report.md` that show how searches behaved, beside the Queries table:
//! when hits came (all networks), and for Gnutella the overlay's shape and why each false
//! "not found" happened.

use std::fmt::Write;

use crate::markdown::{each_phase, num};
use crate::report::Report;

/// The "Hit timing" table: one row per query phase.
pub fn timing(report: &Report) -> String {
    let mut out = String::from(
        "\n## Hit timing\n\n\
         *latency* (Queries table) is the time until the searcher had its answer; a Gnutella \
         searcher waits out its search window, so its latency is the window. *first hit* and \
         *last hit* are when the answer's first and last new hit arrived, from the query's \
         start, over searches that returned hits (one-message answers: both = latency).\n\n\
         | N | phase | network | first hit p50 ms | first hit p95 ms | last hit p50 ms | last hit p95 ms | window ms |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    each_phase(report, |n, net, p| {
        let Some(t) = p.hit_timing else {
            return;
        };
        let _ = writeln!(
            out,
            "| {n} | {} | {net} | {} | {} | {} | {} | {} |",
            p.label,
            num(Some(t.first_ms.p50), 2),
            num(Some(t.first_ms.p95), 2),
            num(Some(t.last_ms.p50), 2),
            num(Some(t.last_ms.p95), 2),
            t.window_ms
                .map_or_else(|| "–".to_owned(), |w| w.to_string()),
        );
    });
    out
}

/// The "Gnutella overlay and false not found" table: one row per Gnutella query phase.
pub fn gnutella(report: &Report) -> String {
    let basis = if report.mode == crate::sim::MODE {
        "exact for the overlay at the phase's start and who was up at each query"
    } else {
        "as far as can be known from the neighbour lists the servents gave at the phase's \
         start and the late hits they counted at its end"
    };
    let mut out = format!(
        "\n## Gnutella overlay and false not found\n\n\
         The overlay as the servents' neighbour lists gave it at each query phase's start: \
         degrees (min / median / mean / max), components, diameter and mean shortest path \
         (hops). Each false not found by cause ({basis}): a hit came *after the window*; \
         no path to a live holder (*other component*); the nearest live holder *beyond the \
         horizon* (more hops than the TTL; hops: count); a holder within the TTL and the \
         flood *shadowed* on its way (a servent met it first by a longer path, with less TTL \
         left, and dropped the copy that came by a shorter one); or *lost* on the way.\n\n\
         | N | phase | servents | degree | components | diameter | mean path | false not found | after window | other component | beyond horizon | shadowed | lost |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    );
    each_phase(report, |n, _, p| {
        let (Some(o), Some(m)) = (&p.overlay, &p.miss_causes) else {
            return;
        };
        let hops: Vec<String> = m
            .beyond_horizon_hops
            .iter()
            .map(|(h, c)| format!("{h}: {c}"))
            .collect();
        let beyond = if hops.is_empty() {
            m.beyond_horizon.to_string()
        } else {
            format!("{} ({})", m.beyond_horizon, hops.join(", "))
        };
        let _ = writeln!(
            out,
            "| {n} | {} | {} | {} / {} / {:.2} / {} | {} | {}{} | {} | {} | {} | {} | {} | {} | {} |",
            p.label,
            o.servents,
            o.degree_min,
            o.degree_median,
            o.degree_mean,
            o.degree_max,
            o.components,
            o.diameter,
            if o.sampled { " (sampled)" } else { "" },
            num(o.mean_path, 2),
            m.total(),
            m.after_window,
            m.other_component,
            beyond,
            m.shadowed,
            m.lost,
        );
    });
    out
}
