//! SVG charts of a report, drawn with `plotters`: for each measure, one group of bars per
//! node count and phase, one bar per network.
//!
//! A measure in a unit other than percent whose bars span a decade or more is drawn on a
//! logarithmic axis, so Napster's few messages stay visible beside a flood's thousands. The
//! legend sits in its own row under the chart, where it covers no bar.

use std::path::{Path, PathBuf};

use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

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

/// Bars whose largest value is at least this many times the smallest go on a log axis:
/// on a linear one, the smaller would be a sliver.
const LOG_SPREAD: f64 = 10.0;

/// The chart's height, and the strip under it that holds the group names and the legend.
const HEIGHT: u32 = 440;
const LEGEND_ROW: u32 = 28;

/// The value axis: its range, and whether it is logarithmic.
struct Axis {
    low: f64,
    high: f64,
    log: bool,
}

impl Axis {
    fn for_values(m: &Measure, series: &[Series]) -> Axis {
        let values = || series.iter().flat_map(|(_, v)| v.iter().flatten().copied());
        let high = values().fold(0.0f64, f64::max);
        let low = values().filter(|&v| v > 0.0).fold(f64::INFINITY, f64::min);
        if m.unit != "%" && low.is_finite() && high / low >= LOG_SPREAD {
            // Whole decades around the data, so every bar starts on a labelled line.
            let low = 10f64.powf(low.log10().floor());
            let high = 10f64.powf(high.log10().ceil());
            return Axis {
                low,
                high,
                log: true,
            };
        }
        let high = if high > 0.0 { high * 1.1 } else { 1.0 };
        Axis {
            low: 0.0,
            high,
            log: false,
        }
    }
}

fn bars<'a>(
    path: &'a Path,
    m: &Measure,
    groups: &[String],
    series: &[Series],
) -> Result<(), Box<dyn std::error::Error + 'a>> {
    let width = (160 * groups.len() as u32).clamp(640, 2400);
    let root = SVGBackend::new(path, (width, HEIGHT + LEGEND_ROW)).into_drawing_area();
    root.fill(&WHITE)?;
    let (plot, legend) = root.split_vertically(HEIGHT);
    let axis = Axis::for_values(m, series);
    let unit = if axis.log {
        format!("{} (log scale)", m.unit)
    } else {
        m.unit.to_owned()
    };
    let mut builder = ChartBuilder::on(&plot);
    builder
        .caption(m.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70);
    let x = 0f64..groups.len() as f64;
    if axis.log {
        let chart = builder.build_cartesian_2d(x, (axis.low..axis.high).log_scale())?;
        draw_bars(chart, &unit, axis.low, groups, series, &plot)?;
    } else {
        let chart = builder.build_cartesian_2d(x, axis.low..axis.high)?;
        draw_bars(chart, &unit, axis.low, groups, series, &plot)?;
    }
    draw_legend(&legend, series)?;
    root.present()?;
    Ok(())
}

/// The bars, from the axis' floor up, and each group's name under its bars.
fn draw_bars<'a, Y>(
    mut chart: ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, Y>>,
    unit: &str,
    floor: f64,
    groups: &[String],
    series: &[Series],
    area: &DrawingArea<SVGBackend<'a>, plotters::coord::Shift>,
) -> Result<(), Box<dyn std::error::Error + 'a>>
where
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .disable_x_mesh()
        .disable_x_axis()
        .y_desc(unit)
        .draw()?;
    let width_each = 0.8 / series.len().max(1) as f64;
    for (k, (net, values)) in series.iter().enumerate() {
        let style = colour(*net).filled();
        let rects = values.iter().enumerate().filter_map(move |(g, v)| {
            let x0 = g as f64 + 0.1 + k as f64 * width_each;
            v.filter(|&v| v > floor)
                .map(|v| Rectangle::new([(x0, floor), (x0 + width_each * 0.9, v)], style))
        });
        chart.draw_series(rects)?;
    }
    for (g, name) in groups.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(g as f64 + 0.5, floor));
        let style = TextStyle::from(("sans-serif", 13)).pos(Pos::new(HPos::Center, VPos::Top));
        area.draw(&Text::new(name.clone(), (px, py + 8), style))?;
    }
    Ok(())
}

/// One swatch and name per network, in a row of their own.
fn draw_legend<'a>(
    area: &DrawingArea<SVGBackend<'a>, plotters::coord::Shift>,
    series: &[Series],
) -> Result<(), Box<dyn std::error::Error + 'a>> {
    const ENTRY: i32 = 120;
    let (width, _) = area.dim_in_pixel();
    let start = (width as i32 - ENTRY * series.len() as i32) / 2;
    for (k, (net, _)) in series.iter().enumerate() {
        let x = start + ENTRY * k as i32;
        area.draw(&Rectangle::new(
            [(x, 8), (x + 14, 22)],
            colour(*net).filled(),
        ))?;
        let style = TextStyle::from(("sans-serif", 14)).pos(Pos::new(HPos::Left, VPos::Center));
        area.draw(&Text::new(net.name(), (x + 20, 15), style))?;
    }
    Ok(())
}
