//! `report.md`: the side-by-side tables a person reads, and the terminal prints.
//!
//! One table of queries (one row per node count, phase and network), one of background
//! traffic (phases without queries), one of start-up.

use std::fmt::Write;

use crate::report::{PhaseReport, Report};

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

pub(crate) fn num(x: Option<f64>, digits: usize) -> String {
    x.map_or_else(|| "–".to_owned(), |v| format!("{v:.digits$}"))
}

/// The kinds that made most of a phase's messages, largest first, with their shares:
/// "store 41%, find_successor 22%, get_predecessor 12%".
fn top_kinds(p: &PhaseReport, n: usize) -> String {
    let total: u64 = p.messages_by_kind.values().sum();
    if total == 0 {
        return "–".to_owned();
    }
    let mut kinds: Vec<(&String, &u64)> = p.messages_by_kind.iter().collect();
    kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    kinds
        .iter()
        .take(n)
        .map(|(kind, count)| format!("{kind} {:.0}%", **count as f64 * 100.0 / total as f64))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The whole Markdown report.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let s = &report.scenario;
    let _ = writeln!(out, "# {}\n", s.name);
    if !s.description.is_empty() {
        let _ = writeln!(out, "{}\n", s.description);
    }
    let _ = writeln!(
        out,
        "Seed {}, {} files x {} copies, mode {}, p2plab {}, wall time {:.1} s.\n",
        s.seed, s.files.count, s.files.copies, report.mode, report.versions.p2plab, report.wall_s
    );
    if report.mode == crate::sim::MODE {
        let _ = writeln!(
            out,
            "Simulated: every phase's seconds and every latency are virtual time; one-way \
             latency {}, loss {}. Downloads travel the virtual network too (loss spares them).\n",
            s.sim_latency(),
            s.sim.loss
        );
    }
    out.push_str(&tables(report));
    if let Some(m) = report.runner_memory {
        let _ = writeln!(
            out,
            "\nRunner memory at the end: {} MiB resident, {} MiB peak.",
            m.rss_kib / 1024,
            m.peak_kib / 1024
        );
    }
    out
}

/// The tables alone (what `p2plab compare` prints).
pub fn tables(report: &Report) -> String {
    let mut out = String::new();
    out.push_str("## Queries\n\n");
    out.push_str("| N | phase | network | live | queries | success | false not found | stale | errors | wrong hits | downloads ok | p50 ms | p95 ms | p99 ms | msgs/query | bytes/query | hops | busiest share |\n");
    out.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    each_phase(report, |n, net, p| {
        if p.queries == 0 {
            return;
        }
        let lat = |f: fn(&crate::report::Latency) -> f64| num(p.latency_ms.as_ref().map(f), 2);
        let downloads = format!("{}/{}", p.downloads_ok, p.downloads);
        let _ = writeln!(
            out,
            "| {n} | {} | {net} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            p.label,
            p.live_peers,
            p.queries,
            pct(p.success_rate),
            p.false_not_found,
            p.stale,
            p.errors,
            p.wrong_hits,
            downloads,
            lat(|l| l.p50),
            lat(|l| l.p95),
            lat(|l| l.p99),
            num(p.messages_per_query, 1),
            num(p.bytes_per_query, 0),
            num(p.mean_hops, 2),
            pct(p.busiest_share),
        );
    });
    out.push_str(&crate::search_tables::timing(report));
    out.push_str(&crate::search_tables::gnutella(report));
    out.push_str("\n## Background traffic (phases without queries)\n\n");
    out.push_str(
        "| N | phase | network | live | seconds | messages | msgs/node/s | busiest share | mostly |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|---|---|\n");
    each_phase(report, |n, net, p| {
        if p.queries > 0 {
            return;
        }
        let _ = writeln!(
            out,
            "| {n} | {} ({}) | {net} | {} | {:.1} | {} | {} | {} | {} |",
            p.label,
            p.kind,
            p.live_peers,
            p.seconds,
            p.messages,
            num(p.messages_per_node_s, 2),
            pct(p.busiest_share),
            top_kinds(p, 3),
        );
    });
    out.push_str(
        "\n## Start-up\n\n| N | network | ready | seconds | memory MiB |\n|---|---|---|---|---|\n",
    );
    for run in &report.runs {
        for net in &run.networks {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.2} | {} |",
                run.nodes,
                net.network,
                match (&net.failure, net.ready, &net.not_ready) {
                    (Some(why), _, _) => format!("failed to start: {why}"),
                    (None, true, _) => "yes".to_owned(),
                    (None, false, Some(missing)) => format!("NO: {missing}"),
                    (None, false, None) => "NO".to_owned(),
                },
                net.startup_s,
                net.memory_kib
                    .map_or_else(|| "–".to_owned(), |k| format!("{:.1}", k as f64 / 1024.0)),
            );
        }
    }
    out
}

pub(crate) fn each_phase(report: &Report, mut f: impl FnMut(usize, &str, &PhaseReport)) {
    for run in &report.runs {
        let phases = run
            .networks
            .iter()
            .map(|n| n.phases.len())
            .max()
            .unwrap_or(0);
        for i in 0..phases {
            for net in &run.networks {
                if let Some(p) = net.phases.get(i) {
                    f(run.nodes, net.network.name(), p);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_background_table_names_the_largest_kinds_first() {
        let mut p = PhaseReport::default();
        assert_eq!(top_kinds(&p, 3), "–");
        p.messages_by_kind = [("notify", 10), ("store", 60), ("ping", 10), ("find", 20)]
            .into_iter()
            .map(|(k, n)| (k.to_owned(), n))
            .collect();
        assert_eq!(top_kinds(&p, 3), "store 60%, find 20%, notify 10%");
    }
}
