//! What an experiment writes: `table.md`, `table.json` and `plot.svg`.
//!
//! Every experiment produces one [`Report`]: a table whose columns hold our measurements
//! and, beside them, the paper's published values; and a plot whose series are ours and
//! the paper's. Writing is the same for all four.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

/// Size of every plot, in pixels.
const PLOT_SIZE: (u32, u32) = (720, 440);

/// One experiment's results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The experiment's heading.
    pub title: String,
    /// Where in the paper the published values come from, and how the run was set up.
    pub notes: Vec<String>,
    /// Column headings.
    pub columns: Vec<String>,
    /// Rows of cells, already formatted.
    pub rows: Vec<Vec<String>>,
    /// The plot.
    pub plot: Plot,
}

/// A line plot of several series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plot {
    /// The x axis's label.
    pub x_label: String,
    /// The y axis's label.
    pub y_label: String,
    /// Draw x on a log2 scale (ring sizes).
    pub log2_x: bool,
    /// The lines.
    pub series: Vec<Series>,
}

/// One line of a plot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Its legend.
    pub name: String,
    /// True for values published in the paper (drawn dashed), false for ours.
    pub paper: bool,
    /// (x, y) points.
    pub points: Vec<(f64, f64)>,
}

impl Report {
    /// The table as Markdown, notes below it.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "| {} |", self.columns.join(" | "));
        let _ = writeln!(md, "|{}", "---|".repeat(self.columns.len()));
        for row in &self.rows {
            let _ = writeln!(md, "| {} |", row.join(" | "));
        }
        if !self.notes.is_empty() {
            md.push('\n');
            for note in &self.notes {
                let _ = writeln!(md, "- {note}");
            }
        }
        md
    }

    /// Writes `table.md`, `table.json` and `plot.svg` into `dir` (created if needed).
    ///
    /// # Errors
    /// When a file cannot be written or the plot cannot be drawn.
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::write(dir.join("table.md"), self.markdown())?;
        std::fs::write(dir.join("table.json"), serde_json::to_string_pretty(self)?)?;
        let svg = dir.join("plot.svg");
        self.plot
            .draw(&svg, &self.title)
            .map_err(|e| anyhow::anyhow!("drawing {}: {e}", svg.display()))
    }
}

/// Colours of our series, in order; the paper's series are drawn black and dashed.
const PALETTE: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
];

impl Plot {
    /// Bounds of all points, with a little room above.
    fn bounds(&self) -> (f64, f64, f64) {
        let xs = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0));
        let (lo, hi) = xs.fold((f64::MAX, f64::MIN), |(lo, hi), x| (lo.min(x), hi.max(x)));
        let ys = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1));
        let top = ys.fold(0.0_f64, f64::max) * 1.1;
        (lo, hi.max(lo + 1e-9), top.max(1e-9))
    }

    /// Draws the plot as SVG into `path`.
    fn draw(&self, path: &Path, title: &str) -> Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::new(path, PLOT_SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let (x0, x1, top) = self.bounds();
        let (x0, x1) = if self.log2_x {
            (x0.log2(), x1.log2())
        } else {
            (x0, x1)
        };
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(x0..x1, 0.0..top)?;
        let log2 = self.log2_x;
        chart
            .configure_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&|x| {
                if log2 {
                    format!("2^{x:.0}")
                } else {
                    format!("{x}")
                }
            })
            .draw()?;
        for (i, s) in self.series.iter().enumerate() {
            let colour = if s.paper {
                BLACK
            } else {
                PALETTE[i % PALETTE.len()]
            };
            let points: Vec<(f64, f64)> = s
                .points
                .iter()
                .map(|&(x, y)| (if log2 { x.log2() } else { x }, y))
                .collect();
            let style = colour.stroke_width(2);
            let drawn = if s.paper {
                chart.draw_series(DashedLineSeries::new(points.clone(), 6, 4, style))
            } else {
                chart.draw_series(LineSeries::new(points.clone(), style))
            };
            drawn?
                .label(s.name.as_str())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], style));
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
        root.present()?;
        Ok(())
    }
}
