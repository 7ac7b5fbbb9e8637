//! SVG charts of a report, drawn with `plotters`: for each measure, one group of bars per
//! node count and phase, one bar per network.

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use crate::report::{PhaseReport, Report};
use crate::spec::Network;

/// One measure to chart: file name, title, axis label, and how to read it off a phase.
struct Measure {
    file: &'static str,
    title: &'static str,
    unit: &'static str,
    read: fn(&PhaseReport) -> Option<f64>,
}

const MEASURES: [Measure; 6] = [
    Measure {
        file: "success-rate.svg",
        title: "Success rate (found a live holder)",
        unit: "%",
        read: |p| p.success_rate.map(|r| r * 100.0),
    },
    Measure {
        file: "search-messages-per-query.svg",
        title: "Messages one search caused (flood, lookup, index round trip)",
        unit: "messages",
        read: |p| p.search_messages_per_query,
    },
    Measure {
        file: "upkeep-per-node-s.svg",
        title: "Upkeep messages per node per second, during query phases",
        unit: "messages / node / s",
        read: |p| p.upkeep_messages_per_node_s,
    },
    Measure {
        file: "latency-p50.svg",
        title: "Search latency, median",
        unit: "ms",
        read: |p| p.latency_ms.map(|l| l.p50),
    },
    Measure {
        file: "latency-p95.svg",
        title: "Search latency, 95th percentile",
        unit: "ms",
        read: |p| p.latency_ms.map(|l| l.p95),
    },
    Measure {
        file: "load-share.svg",
        title: "Busiest node's share of all messages",
        unit: "%",
        read: |p| p.busiest_share.map(|s| s * 100.0),
    },
];

fn colour(n: Network) -> RGBColor {
    match n {
        Network::Napster => RGBColor(214, 96, 77),
        Network::Gnutella => RGBColor(77, 146, 33),
        Network::Chord => RGBColor(33, 102, 172),
    }
}

/// One network's values, one per group (`None` where it has no value).
type Series = (Network, Vec<Option<f64>>);

/// Groups (x axis) and one series of values per network, for phases that asked queries.
fn table(report: &Report, read: fn(&PhaseReport) -> Option<f64>) -> (Vec<String>, Vec<Series>) {
    let mut groups = Vec::new();
    let mut series: Vec<Series> = report
        .scenario
        .networks
        .iter()
        .map(|&n| (n, Vec::new()))
        .collect();
    let sweep = report.runs.len() > 1;
    for run in &report.runs {
        let Some(first) = run.networks.first() else {
            continue;
        };
        for (i, phase) in first.phases.iter().enumerate() {
            if run
                .networks
                .iter()
                .all(|n| n.phases.get(i).is_none_or(|p| p.queries == 0))
            {
                continue;
            }
            groups.push(if sweep {
                format!("N={} {}", run.nodes, phase.label)
            } else {
                phase.label.clone()
            });
            for (net, values) in &mut series {
                let v = run
                    .networks
                    .iter()
                    .find(|n| n.network == *net)
                    .and_then(|n| n.phases.get(i))
                    .and_then(read);
                values.push(v);
            }
        }
    }
    (groups, series)
}

/// Draws every chart into `dir`; returns the files written.
///
/// # Errors
/// If a file cannot be written.
pub fn draw_all(report: &Report, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for m in &MEASURES {
        let (groups, series) = table(report, m.read);
        if groups.is_empty() {
            continue;
        }
        let path = dir.join(m.file);
        bars(&path, m, &groups, &series).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

fn bars(
    path: &Path,
    m: &Measure,
    groups: &[String],
    series: &[Series],
) -> Result<(), Box<dyn std::error::Error>> {
    let width = (160 * groups.len() as u32).clamp(640, 2400);
    let root = SVGBackend::new(path, (width, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let top = series
        .iter()
        .flat_map(|(_, v)| v.iter().flatten())
        .fold(0.0f64, |a, &b| a.max(b));
    let top = if top > 0.0 { top * 1.15 } else { 1.0 };
    let mut chart = ChartBuilder::on(&root)
        .caption(m.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..groups.len() as f64, 0f64..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .disable_x_axis()
        .y_desc(m.unit)
        .draw()?;
    let width_each = 0.8 / series.len().max(1) as f64;
    for (k, (net, values)) in series.iter().enumerate() {
        let style = colour(*net).filled();
        let rects = values.iter().enumerate().filter_map(move |(g, v)| {
            let x0 = g as f64 + 0.1 + k as f64 * width_each;
            v.map(|v| Rectangle::new([(x0, 0.0), (x0 + width_each * 0.9, v)], style))
        });
        chart
            .draw_series(rects)?
            .label(net.name())
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour(*net).filled())
            });
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()?;
    for (g, name) in groups.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(g as f64 + 0.5, 0.0));
        let style =
            TextStyle::from(("sans-serif", 13)).pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Center,
                plotters::style::text_anchor::VPos::Top,
            ));
        root.draw(&Text::new(name.clone(), (px, py + 8), style))?;
    }
    root.present()?;
    Ok(())
}
