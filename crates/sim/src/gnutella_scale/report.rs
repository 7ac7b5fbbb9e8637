//! The Gnutella-at-scale tables as Markdown and JSON, and their plots as SVG.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use plotters::prelude::*;

use super::ScaleTable;
use crate::graph::GraphKind;

/// Plot size, pixels: wide enough for a legend beside seven TTLs.
const PLOT_SIZE: (u32, u32) = (760, 480);

/// One line colour per table, in the order the tables come.
const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

pub(crate) fn graph_name(kind: GraphKind) -> String {
    match kind {
        GraphKind::Random { links } => format!("random ({links} links per new servent)"),
        GraphKind::BarabasiAlbert { m } => format!("Barabási–Albert (m = {m})"),
    }
}

fn short_name(t: &ScaleTable) -> String {
    let kind = match t.params.graph {
        GraphKind::Random { .. } => "random",
        GraphKind::BarabasiAlbert { .. } => "BA",
    };
    format!("{kind}, N = {}", t.params.nodes)
}

/// The tables in Markdown: one section per overlay.
pub fn markdown(tables: &[ScaleTable]) -> String {
    let mut md = String::new();
    for t in tables {
        let p = &t.params;
        let _ = writeln!(
            md,
            "### {} servents, {} graph\n\n{} edges, mean degree {:.2}, largest degree {}; \
             the servents' connections vs the plan: {} missing, {} extra. {} queries per TTL, \
             seed {}. Engine: {} events in {:.1} s wall ({:.2} M events/s), {} bytes of engine \
             state per servent.\n",
            p.nodes,
            graph_name(p.graph),
            t.edges,
            t.mean_degree,
            t.max_degree,
            t.overlay.missing,
            t.overlay.extra,
            p.queries,
            p.seed,
            t.run.events,
            t.run.wall.as_secs_f64(),
            t.run.events_per_second() / 1e6,
            t.engine_bytes_per_node,
        );
        md.push_str(
            "| TTL | reach | BFS ball | tree count (mean degree, no cycles) | Query msgs | expected Query msgs | QueryHit msgs | msgs per query | found |\n\
             |---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for r in &t.rows {
            let _ = writeln!(
                md,
                "| {} | {:.1} | {:.1} | {:.0} | {:.1} | {:.1} | {:.2} | {:.1} | {:.0}% |",
                r.ttl,
                r.reach,
                r.ball,
                r.bound,
                r.query_msgs,
                r.query_msgs_expected,
                r.hit_msgs,
                r.query_msgs + r.hit_msgs,
                100.0 * r.found
            );
        }
        md.push('\n');
    }
    md
}

/// Writes `table.md`, `table.json`, `reach.svg` and `messages.svg` into `dir`.
///
/// # Errors
/// When the directory or a file cannot be written.
pub fn write_outputs(tables: &[ScaleTable], dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(dir.join("table.md"), markdown(tables))?;
    std::fs::write(
        dir.join("table.json"),
        serde_json::to_string_pretty(tables)?,
    )?;
    let reach = dir.join("reach.svg");
    plot(
        tables,
        &reach,
        "Servents a Query reaches, by TTL",
        "servents reached",
        |r| r.reach,
        |r| r.ball,
    )
    .map_err(|e| anyhow::anyhow!("drawing {}: {e}", reach.display()))?;
    let messages = dir.join("messages.svg");
    plot(
        tables,
        &messages,
        "Messages per query (Query + QueryHit), by TTL",
        "messages",
        |r| r.query_msgs + r.hit_msgs,
        |r| r.query_msgs_expected,
    )
    .map_err(|e| anyhow::anyhow!("drawing {}: {e}", messages.display()))
}

type Measure = fn(&super::TtlRow) -> f64;

/// One log-scale plot: per table, the measured line and the graph's own prediction as
/// crosses; the tree count at the mean degree (what a flood would reach if the graph had
/// no cycles and every servent that degree) in black.
fn plot(
    tables: &[ScaleTable],
    path: &Path,
    title: &str,
    y_label: &str,
    measured: Measure,
    predicted: Measure,
) -> Result<(), Box<dyn std::error::Error>> {
    let ttl_max = tables
        .iter()
        .flat_map(|t| &t.rows)
        .map(|r| r.ttl)
        .max()
        .unwrap_or(1);
    let y_max = tables
        .iter()
        .flat_map(|t| &t.rows)
        .map(|r| measured(r).max(predicted(r)).max(r.bound))
        .fold(10.0, f64::max);
    let root = SVGBackend::new(path, PLOT_SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(1u32..u32::from(ttl_max), (1.0..y_max * 2.0).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("TTL")
        .y_desc(y_label)
        .draw()?;
    for (t, colour) in tables.iter().zip(COLOURS.iter().cycle()) {
        let line = t
            .rows
            .iter()
            .map(|r| (u32::from(r.ttl), measured(r).max(1.0)));
        chart
            .draw_series(LineSeries::new(line, colour.stroke_width(2)))?
            .label(short_name(t))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(2)));
        let crosses = t
            .rows
            .iter()
            .map(|r| Cross::new((u32::from(r.ttl), predicted(r).max(1.0)), 5, colour));
        chart.draw_series(crosses)?;
    }
    if let Some(t) = tables.first() {
        let bound = t.rows.iter().map(|r| (u32::from(r.ttl), r.bound));
        chart
            .draw_series(LineSeries::new(bound, BLACK.stroke_width(1)))?
            .label(format!("tree count, d = {:.1}", t.mean_degree))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLACK));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    root.present()?;
    Ok(())
}
