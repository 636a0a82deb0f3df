//! Key metrics against cluster size: one line per algorithm (mean over runs) with a shaded
//! p10–p90 band, from `summary.csv`.

use super::{
    Axis, ChartError, Figure, Figures, SweepData, algorithm_color, de, draw_legend, legend_line,
    marker, titled, xy_chart,
};
use plotters::coord::Shift;
use plotters::prelude::*;

/// A metric chart: runs.csv column, file stem, title, y-axis description, percent axis.
pub struct MetricSpec {
    pub column: &'static str,
    pub stem: &'static str,
    pub title: &'static str,
    pub y_desc: &'static str,
    pub percent: bool,
}

/// The key metrics charted against cluster size (stems are the chart file names).
pub const METRICS: &[MetricSpec] = &[
    MetricSpec {
        column: "messages_per_election",
        stem: "messages-per-election-vs-nodes",
        title: "Messages per election",
        y_desc: "messages sent per election",
        percent: false,
    },
    MetricSpec {
        column: "election_ms_p50",
        stem: "election-time-vs-nodes",
        title: "Election time (median per run)",
        y_desc: "election time (ms)",
        percent: false,
    },
    MetricSpec {
        column: "failover_ms_mean",
        stem: "failover-vs-nodes",
        title: "Failover time after leader loss",
        y_desc: "time without leader (ms)",
        percent: false,
    },
    MetricSpec {
        column: "split_brain_ms",
        stem: "split-brain-time-vs-nodes",
        title: "Split-brain time per run",
        y_desc: "time with 2+ leaders (ms)",
        percent: false,
    },
    MetricSpec {
        column: "availability",
        stem: "availability-vs-nodes",
        title: "Availability",
        y_desc: "time with an elected leader",
        percent: true,
    },
    MetricSpec {
        column: "events",
        stem: "events-vs-nodes",
        title: "Simulation events per run",
        y_desc: "events (kernel work)",
        percent: false,
    },
];

struct Line {
    label: String,
    color: RGBColor,
    marker: usize,
    /// (nodes, mean, p10, p90)
    points: Vec<(f64, f64, Option<f64>, Option<f64>)>,
}

struct LineFigure {
    title: String,
    subtitle: String,
    x: Axis,
    y: Axis,
    y_desc: String,
    lines: Vec<Line>,
    legend: SeriesLabelPosition,
    /// Printed across the plot (e.g. when every value is zero).
    note: Option<String>,
}

/// Add one figure per key metric that summary.csv has, when there are two or more sizes.
pub(super) fn figures(data: &SweepData, out: &mut Figures) -> Result<(), ChartError> {
    let sizes = data.sizes();
    if sizes.len() < 2 {
        return Ok(());
    }
    for spec in METRICS {
        if data.summary.col(&format!("{}_mean", spec.column)).is_none() {
            continue;
        }
        let mut lines = Vec::new();
        for (i, (label, points)) in data.series().into_iter().enumerate() {
            let mut pts = Vec::new();
            for p in points {
                let (Some(n), Some(mean)) = (p.nodes, data.stat(p, spec.column, "mean")?) else {
                    continue;
                };
                pts.push((
                    n,
                    mean,
                    data.stat(p, spec.column, "p10")?,
                    data.stat(p, spec.column, "p90")?,
                ));
            }
            if !pts.is_empty() {
                let alg = points_alg(&label);
                // The algorithm's colour, unless another series of it already has it (a
                // swept parameter splits one algorithm into several lines).
                let mut color = algorithm_color(alg, i);
                if lines.iter().any(|l: &Line| l.color == color) {
                    color = super::PALETTE[..7]
                        .iter()
                        .copied()
                        .find(|c| !lines.iter().any(|l| l.color == *c))
                        .unwrap_or(super::PALETTE[i % 7]);
                }
                lines.push(Line {
                    color,
                    marker: i,
                    label,
                    points: pts,
                });
            }
        }
        if lines.is_empty() {
            continue;
        }
        let x = if sizes[sizes.len() - 1] / sizes[0] > 8.0 {
            let mut a = Axis::log(sizes[0] / 1.15, sizes[sizes.len() - 1] * 1.15);
            a.ticks = sizes.clone();
            a
        } else {
            let mut a = Axis::linear(0.0, sizes[sizes.len() - 1] * 1.05);
            a.ticks = sizes.clone();
            a
        };
        let all: Vec<f64> = lines
            .iter()
            .flat_map(|l| {
                l.points
                    .iter()
                    .flat_map(|(_, m, lo, hi)| [Some(*m), *lo, *hi])
                    .flatten()
            })
            .collect();
        let all_zero = all.iter().all(|v| *v == 0.0);
        let y = if all_zero {
            Axis::linear(0.0, 1.0)
        } else if spec.percent {
            let lo = all.iter().copied().fold(1.0, f64::min);
            let lo = if lo > 0.9 {
                ((lo * 100.0).floor() - 1.0).max(0.0) / 100.0
            } else {
                0.0
            };
            let mut a = Axis::linear(lo, 1.0);
            a.hi = 1.0 + (1.0 - lo) * 0.04;
            a.percent = true;
            a
        } else {
            Axis::fit(&all, 30.0)
        };
        let log_note = match (x.log, y.log) {
            (true, true) => "; log-log axes",
            (true, false) => "; log x axis",
            (false, true) => "; log y axis",
            _ => "",
        };
        let legend = emptiest_corner(&x, &y, &lines);
        out.push((
            spec.stem.to_string(),
            Box::new(LineFigure {
                title: format!("{} vs cluster size{}", spec.title, data.scenario_suffix()),
                subtitle: format!("line: mean over runs; band: p10–p90 of runs{log_note}"),
                x,
                y,
                y_desc: spec.y_desc.to_string(),
                note: all_zero
                    .then(|| "none observed: zero for every algorithm and size".to_string()),
                legend,
                lines,
            }),
        ));
    }
    Ok(())
}

/// The algorithm part of a series label.
fn points_alg(label: &str) -> &str {
    label.split(' ').next().unwrap_or(label)
}

impl Figure for LineFigure {
    fn size(&self) -> (u32, u32) {
        (900, 580)
    }

    fn draw<'d, DB: DrawingBackend + 'd>(
        &self,
        root: &'d DrawingArea<DB, Shift>,
    ) -> Result<(), String> {
        let body = titled(root, &self.title, &self.subtitle)?;
        let mut chart = xy_chart(
            &body,
            &self.x,
            &self.y,
            "cluster size (nodes)",
            &self.y_desc,
        )?;
        let (x, y) = (&self.x, &self.y);
        for l in &self.lines {
            let band: Vec<(f64, f64, f64)> = l
                .points
                .iter()
                .filter_map(|(n, _, lo, hi)| Some((x.t(*n), y.t((*lo)?), y.t((*hi)?))))
                .collect();
            if band.len() >= 2 {
                let mut poly: Vec<(f64, f64)> = band.iter().map(|(n, lo, _)| (*n, *lo)).collect();
                poly.extend(band.iter().rev().map(|(n, _, hi)| (*n, *hi)));
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        poly,
                        l.color.mix(0.15).filled(),
                    )))
                    .map_err(de)?;
            }
        }
        for l in &self.lines {
            let pts: Vec<(f64, f64)> = l
                .points
                .iter()
                .map(|(n, m, _, _)| (x.t(*n), y.t(*m)))
                .collect();
            let color = l.color;
            chart
                .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                .map_err(de)?
                .label(l.label.clone())
                .legend(legend_line(Some(l.marker), color));
            chart
                .draw_series(pts.into_iter().map(|p| marker(l.marker, p, color)))
                .map_err(de)?;
        }
        if let Some(note) = &self.note {
            let style = TextStyle::from((super::font::FAMILY, 18).into_font())
                .color(&RGBColor(90, 90, 90))
                .pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Center,
                ));
            let mid = (x.t(x.lo) + x.t(x.hi)) / 2.0;
            chart
                .draw_series(std::iter::once(Text::new(note.clone(), (mid, 0.5), style)))
                .map_err(de)?;
        }
        draw_legend(&mut chart, self.legend.clone())
    }
}

/// The plot corner whose legend-sized box covers the fewest data points (lines, markers and
/// band edges), so the legend hides as little as possible. Ties prefer upper left, upper
/// right, lower right, lower left.
fn emptiest_corner(x: &Axis, y: &Axis, lines: &[Line]) -> SeriesLabelPosition {
    // Legend box as a fraction of the plot: ~8 px per character plus the swatch, 20 px per row
    // (the plot area is about 780 x 440 px).
    let chars = lines
        .iter()
        .map(|l| l.label.chars().count())
        .max()
        .unwrap_or(0);
    let w = ((chars as f64 * 8.0 + 70.0) / 780.0).min(0.9);
    let h = ((lines.len() as f64 * 20.0 + 30.0) / 440.0).min(0.9);
    let norm = |a: &Axis, v: f64| (a.t(v) - a.t(a.lo)) / (a.t(a.hi) - a.t(a.lo));
    let mut pts: Vec<(f64, f64)> = Vec::new();
    for l in lines {
        for (i, (n, m, lo, hi)) in l.points.iter().enumerate() {
            let nx = norm(x, *n);
            for v in [Some(*m), *lo, *hi].into_iter().flatten() {
                pts.push((nx, norm(y, v)));
            }
            // Sample the segment to the next point too: lines cross corners between markers.
            if let Some((n2, m2, _, _)) = l.points.get(i + 1) {
                let (x2, y1, y2) = (norm(x, *n2), norm(y, *m), norm(y, *m2));
                for k in 1..10 {
                    let f = f64::from(k) / 10.0;
                    pts.push((nx + (x2 - nx) * f, y1 + (y2 - y1) * f));
                }
            }
        }
    }
    let corners = [
        (SeriesLabelPosition::UpperLeft, 0.0, 1.0 - h),
        (SeriesLabelPosition::UpperRight, 1.0 - w, 1.0 - h),
        (SeriesLabelPosition::LowerRight, 1.0 - w, 0.0),
        (SeriesLabelPosition::LowerLeft, 0.0, 0.0),
    ];
    let mut best = (usize::MAX, SeriesLabelPosition::UpperLeft);
    for (pos, x0, y0) in corners {
        let hits = pts
            .iter()
            .filter(|(px, py)| *px >= x0 && *px <= x0 + w && *py >= y0 && *py <= y0 + h)
            .count();
        if hits < best.0 {
            best = (hits, pos);
        }
    }
    best.1
}
