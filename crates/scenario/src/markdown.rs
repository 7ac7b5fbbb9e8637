//! `report.md`: the side-by-side tables a person reads, and the terminal prints.
//!
//! One table of queries (one row per node count, phase and network), one of background
//! traffic (phases without queries), one of start-up.
//!
//! No traffic column mixes causes: a query's cost is the messages searches caused
//! (`search msgs/query`), shown beside what upkeep cost each node meanwhile
//! (`upkeep msgs/node/s`); see [`crate::stats`].

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::report::{PhaseReport, Report};
use crate::spec::Network;

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

/// What each outcome column of the Queries table means; found, false not found, stale,
/// not ready, errors, unfindable, empty and wrong add up to the queries.
const OUTCOMES_LEGEND: &str = "\nEach query lands in one outcome; the outcome columns \
    (found to absent) add up to the queries. *findable*: a live holder shares the file; \
    *false not found*: findable, no hit; *stale*: findable, hits naming only dead or wrong \
    peers; *not ready*: the network said it cannot answer yet; *errors*: the search failed; \
    *unfindable*: every holder was down; *absent*: a file that exists nowhere, answered \
    rightly empty or with wrong hits. Latency counts only searches that got an answer.\n";

/// What the cost columns count.
const COST_LEGEND: &str = "\n*search msgs/query*: the messages the searches themselves \
    caused (the flood and its hits, the lookup's hops and the index fetch, the server round \
    trip), per query; *upkeep msgs/node/s*: everything else the nodes sent to keep the \
    network up (pings, stabilize, fix_fingers, re-publication), per live node per second; \
    *hops*: overlay hops of found queries.\n";

/// "277/288 (96.2%)": found queries of the findable ones, and the share.
fn found_of_findable(p: &PhaseReport) -> String {
    format!("{}/{} ({})", p.found, p.findable, pct(p.success_rate))
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
        out.push_str(
            "Simulated: every phase's seconds and every latency are virtual time, and downloads \
             travel the virtual network too (loss spares them).\n\n",
        );
    }
    out.push_str(&preamble(report));
    out.push_str(&headline(report));
    out.push_str("\n<details><summary>Every table: outcomes, cost, timing, overlay, background traffic, start-up</summary>\n\n");
    out.push_str(&every_table(report));
    out.push_str("\n</details>\n");
    out.push_str(&placement(report));
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

/// "Where each node ran": per network and host, the nodes a roster placed there (nothing
/// when the runner started every node itself).
fn placement(report: &Report) -> String {
    if report.placement.is_empty() {
        return String::new();
    }
    let mut hosts: BTreeMap<(Network, std::net::IpAddr), Vec<&str>> = BTreeMap::new();
    for p in &report.placement {
        hosts
            .entry((p.network, p.listen.ip()))
            .or_default()
            .push(&p.node);
    }
    let mut out = String::from(
        "\n## Where each node ran\n\nEvery node ran on a seat of the roster, driven through \
         its control port; each listened on its host's address.\n\n\
         | network | host | nodes | which |\n|---|---|---|---|\n",
    );
    for ((network, host), nodes) in &hosts {
        let _ = writeln!(
            out,
            "| {network} | {host} | {} | {} |",
            nodes.len(),
            nodes.join(", ")
        );
    }
    out
}

/// The few columns a reader compares first, one row per query phase and network; the full
/// tables follow, folded.
fn headline(report: &Report) -> String {
    let mut out = String::from("## Headline\n\n");
    out.push_str("| N | phase | network | found/findable | search msgs/query | upkeep msgs/node/s | hops | p50 ms |\n");
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    each_phase(report, |n, net, p| {
        if p.queries == 0 {
            return;
        }
        let mark = p.latency_ms.map_or("", |_| crate::machine::mark(p));
        let _ = writeln!(
            out,
            "| {n} | {} | {net} | {} | {} | {} | {} | {}{mark} |",
            p.label,
            found_of_findable(p),
            num(p.search_messages_per_query, 1),
            num(p.upkeep_messages_per_node_s, 2),
            num(p.mean_hops, 2),
            num(p.latency_ms.map(|l| l.p50), 2),
        );
    });
    out
}

/// The tables alone, under the line that says how far to trust them (what `p2plab compare`
/// prints).
pub fn tables(report: &Report) -> String {
    preamble(report) + &every_table(report)
}

/// Every table, outcomes first.
fn every_table(report: &Report) -> String {
    [outcomes_table, cost_table, traffic_tables]
        .iter()
        .map(|table| table(report))
        .collect()
}

/// What each search found: every query in one outcome.
fn outcomes_table(report: &Report) -> String {
    let mut out = String::new();
    out.push_str("## Queries: what each search found\n\n");
    out.push_str("| N | phase | network | queries | found/findable | false not found | stale | not ready | errors | unfindable | absent: empty/wrong |\n");
    out.push_str("|---|---|---|---|---|---|---|---|---|---|---|\n");
    each_phase(report, |n, net, p| {
        if p.queries == 0 {
            return;
        }
        let o = &p.outcomes;
        let _ = writeln!(
            out,
            "| {n} | {} | {net} | {} | {} | {} | {} | {} | {} | {} | {}/{} |",
            p.label,
            p.queries,
            found_of_findable(p),
            o.false_not_found,
            o.stale,
            o.not_ready,
            o.errors,
            o.unfindable,
            o.rightly_empty,
            o.wrong_hits,
        );
    });
    out.push_str(OUTCOMES_LEGEND);
    out
}

/// What the searches cost and how fast they were, with the saturation warning and the
/// tables of hit timing and of the Gnutella overlay.
fn cost_table(report: &Report) -> String {
    let mut out = String::new();
    out.push_str("\n## Queries: what they cost, and how fast\n\n");
    out.push_str("| N | phase | network | live | search msgs/query | search bytes/query | upkeep msgs/node/s | hops | p50 ms | p95 ms | p99 ms | downloads ok | busiest share |\n");
    out.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    each_phase(report, |n, net, p| {
        if p.queries == 0 {
            return;
        }
        let lat = |f: fn(&crate::report::Latency) -> f64| {
            let mark = p.latency_ms.map_or("", |_| crate::machine::mark(p));
            num(p.latency_ms.as_ref().map(f), 2) + mark
        };
        let _ = writeln!(
            out,
            "| {n} | {} | {net} | {} | {} | {} | {} | {} | {} | {} | {} | {}/{} | {} |",
            p.label,
            p.live_peers,
            num(p.search_messages_per_query, 1),
            num(p.search_bytes_per_query, 0),
            num(p.upkeep_messages_per_node_s, 2),
            num(p.mean_hops, 2),
            lat(|l| l.p50),
            lat(|l| l.p95),
            lat(|l| l.p99),
            p.downloads_ok,
            p.downloads,
            pct(p.busiest_share),
        );
    });
    out.push_str(COST_LEGEND);
    if let Some(warning) = crate::machine::warning(report) {
        let _ = write!(out, "\n{warning}");
    }
    out.push_str(&crate::search_tables::timing(report));
    out.push_str(&crate::search_tables::gnutella(report));
    out
}

/// Background traffic and start-up.
fn traffic_tables(report: &Report) -> String {
    let mut out = String::new();
    out.push_str("\n## Background traffic (phases without queries)\n\n");
    out.push_str(
        "| N | phase | network | live | seconds | messages | upkeep msgs/node/s | upkeep bytes/node/s | busiest share | mostly |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|---|---|---|\n");
    each_phase(report, |n, net, p| {
        if p.queries > 0 {
            return;
        }
        let _ = writeln!(
            out,
            "| {n} | {} ({}) | {net} | {} | {:.1} | {} | {} | {} | {} | {} |",
            p.label,
            p.kind,
            p.live_peers,
            p.seconds,
            p.messages,
            num(p.upkeep_messages_per_node_s, 2),
            num(p.upkeep_bytes_per_node_s, 0),
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
    out.push_str(&footer(report));
    out
}

/// The lines above the tables: the latency model, and that the tables are one seed.
fn preamble(report: &Report) -> String {
    let seed = report.scenario.seed;
    let spread = report.spread.as_ref().map_or_else(String::new, |s| {
        format!(
            " Intervals over {} seeds are in the seed spread.",
            s.seeds.len()
        )
    });
    format!(
        "Latency model: {}. One seed ({seed}): every figure of these tables is one run.{spread}\n\n",
        report.latency_model()
    )
}

/// The lines below the tables: the seed spread and the scaling sweep, if the run has them,
/// and the legend.
fn footer(report: &Report) -> String {
    let mut out = String::new();
    let sim = format!("simulator: {}", Report::sim_model(&report.scenario));
    if let Some(spread) = &report.spread {
        let title = format!("Seed spread ({sim})");
        let _ = write!(out, "\n{}", spread.table(&title));
    }
    if let Some(scaling) = &report.scaling {
        let title = format!("Scaling ({sim})");
        let _ = write!(out, "\n{}", scaling.table(&title));
    }
    let _ = write!(out, "\n{}", legend(report));
    out
}

/// What the columns the outcome and cost legends leave out mean.
fn legend(report: &Report) -> String {
    format!(
        "Legend. p50/p95/p99 ms: latency of answered searches, from the query until the \
         searcher had its answer ({}). downloads ok: downloads whose bytes matched, of those \
         tried. busiest share: the busiest node's share of all messages sent or received.\n",
        report.latency_model()
    )
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
