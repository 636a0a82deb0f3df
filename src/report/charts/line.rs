//! Key metrics against a swept numeric key (cluster size by default, or any numeric axis such
//! as `network.loss`): one line per series — the algorithm plus every other swept key — with
//! the mean over runs and a shaded p10–p90 band, from `summary.csv`.

use super::{
    Axis, ChartError, ChartOptions, Figure, Figures, Point, SweepData, algorithm_color, de,
    fmt_num, marker, titled, xy_chart,
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
        title: "Messages sent while leaderless, per election",
        y_desc: "messages sent while leaderless / elections",
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
        column: "leader_changes",
        stem: "leader-changes-vs-nodes",
        title: "Leader changes per run",
        y_desc: "leader changes per run",
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
    dashed: bool,
    /// (x, mean, p10, p90)
    points: Vec<(f64, f64, Option<f64>, Option<f64>)>,
}

struct LineFigure {
    title: String,
    subtitle: String,
    x: Axis,
    y: Axis,
    x_desc: String,
    y_desc: String,
    lines: Vec<Line>,
    /// Printed across the plot (e.g. when every value is zero).
    note: Option<String>,
    drawn: Vec<String>,
}

/// A metric to chart, owned: one of [`METRICS`] or one named on the command line.
struct Spec {
    column: String,
    stem: String,
    title: String,
    y_desc: String,
    percent: bool,
}

impl Spec {
    fn known(m: &MetricSpec) -> Spec {
        Spec {
            column: m.column.into(),
            stem: m.stem.into(),
            title: m.title.into(),
            y_desc: m.y_desc.into(),
            percent: m.percent,
        }
    }

    /// A known metric, or a plain one named after its column.
    fn named(metric: &str) -> Spec {
        match METRICS.iter().find(|m| m.column == metric) {
            Some(m) => Spec::known(m),
            None => Spec {
                column: metric.into(),
                stem: format!("{}-vs-nodes", metric.replace('_', "-")),
                title: metric.into(),
                y_desc: metric.into(),
                percent: metric == "availability",
            },
        }
    }
}

/// The x-axis key of the line charts: the requested one (which must be a swept numeric key),
/// else `nodes` if swept, else the first numeric axis; `None` when nothing numeric is swept.
pub(super) fn x_key(data: &SweepData, opts: &ChartOptions) -> Result<Option<String>, ChartError> {
    let axes = data.numeric_axes();
    match &opts.x {
        Some(x) => {
            let want = super::param_name(x);
            match axes.iter().find(|a| **a == want) {
                Some(a) => Ok(Some(a.clone())),
                None => Err(ChartError::Input {
                    path: data.summary.path.clone(),
                    message: format!(
                        "--x {x}: not a swept numeric key with two or more values here; valid: {}",
                        if axes.is_empty() {
                            "none (sweep a numeric key such as nodes or network.loss)".to_string()
                        } else {
                            axes.join(", ")
                        }
                    ),
                }),
            }
        }
        None => Ok(axes.into_iter().next()),
    }
}

/// Add one figure per key metric (or the `--metric` one) against the x-axis key; every other
/// swept key (algorithm, size, parameters) splits the points into series, so every sweep point
/// is a marker on some line.
pub(super) fn figures(
    data: &SweepData,
    opts: &ChartOptions,
    out: &mut Figures,
) -> Result<(), ChartError> {
    let Some(xk) = x_key(data, opts)? else {
        return Ok(());
    };
    let specs: Vec<Spec> = match &opts.metric {
        Some(m) => {
            if data.summary.col(&format!("{m}_mean")).is_none() {
                let known: Vec<&str> = data
                    .summary
                    .headers
                    .iter()
                    .filter_map(|h| h.strip_suffix("_mean"))
                    .collect();
                return Err(ChartError::Input {
                    path: data.summary.path.clone(),
                    message: format!(
                        "--metric {m}: no column `{m}_mean`; valid metrics: {}",
                        known.join(", ")
                    ),
                });
            }
            vec![Spec::named(m)]
        }
        None => METRICS.iter().map(Spec::known).collect(),
    };
    let on_nodes = xk == "nodes";
    let sizes_vary = data.sizes().len() > 1;
    // Series: everything but the x key.
    let series_label = |p: &Point| {
        let mut s = p.algorithm.clone();
        if let (false, true, Some(n)) = (on_nodes, sizes_vary, p.nodes) {
            s.push_str(&format!(" n={}", fmt_num(n)));
        }
        let rest = p.params_label(&xk);
        if !rest.is_empty() {
            s.push(' ');
            s.push_str(&rest);
        }
        s
    };
    let mut groups: Vec<(String, Vec<(f64, &Point)>)> = Vec::new();
    for alg in data.algorithms() {
        for p in data.points.iter().filter(|p| p.algorithm == alg) {
            let Some(xv) = p.value(&xk).and_then(|v| super::axis_number(&v)) else {
                continue;
            };
            let l = series_label(p);
            match groups.iter_mut().find(|(g, _)| *g == l) {
                Some((_, v)) => v.push((xv, p)),
                None => groups.push((l, vec![(xv, p)])),
            }
        }
    }
    for (_, v) in &mut groups {
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let mut xs: Vec<f64> = groups
        .iter()
        .flat_map(|(_, v)| v.iter().map(|(x, _)| *x))
        .collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    if xs.len() < 2 {
        return Ok(());
    }
    // Duration values ("5s") are drawn in milliseconds.
    let x_is_duration = data.points.iter().any(|p| {
        p.value(&xk)
            .is_some_and(|v| v.trim().parse::<f64>().is_err() && super::axis_number(&v).is_some())
    });
    let per_alg = |alg: &str| groups.iter().filter(|(l, _)| points_alg(l) == alg).count();
    for spec in &specs {
        if data.summary.col(&format!("{}_mean", spec.column)).is_none() {
            continue;
        }
        let mut lines = Vec::new();
        let mut drawn = Vec::new();
        for (i, (label, points)) in groups.iter().enumerate() {
            let mut pts = Vec::new();
            for (xv, p) in points {
                let Some(mean) = data.stat(p, &spec.column, "mean")? else {
                    continue;
                };
                drawn.push(p.id.clone());
                pts.push((
                    *xv,
                    mean,
                    data.stat(p, &spec.column, "p10")?,
                    data.stat(p, &spec.column, "p90")?,
                ));
            }
            if pts.is_empty() {
                continue;
            }
            let alg = points_alg(label);
            // One palette keyed by series: the algorithm's colour when it has one line, else
            // seven distinct colours cycled, then the same dashed.
            let (color, dashed) = if per_alg(alg) == 1 {
                (algorithm_color(alg, i), false)
            } else {
                (super::PALETTE[i % 7], (i / 7) % 2 == 1)
            };
            lines.push(Line {
                color,
                marker: i,
                dashed,
                label: label.clone(),
                points: pts,
            });
        }
        if lines.is_empty() {
            continue;
        }
        let (lo, hi) = (xs[0], xs[xs.len() - 1]);
        let x = if lo > 0.0 && hi / lo > 8.0 {
            let mut a = Axis::log(lo / 1.15, hi * 1.15);
            a.ticks = xs.clone();
            a
        } else {
            let span = hi - lo.min(0.0);
            let mut a = Axis::linear(lo.min(0.0), hi + span * 0.05);
            a.ticks = xs.clone();
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
        let (stem, x_name, x_desc) = if on_nodes {
            (
                spec.stem.to_string(),
                "cluster size".to_string(),
                "cluster size (nodes)".to_string(),
            )
        } else {
            (
                format!(
                    "{}-vs-{}",
                    spec.stem.trim_end_matches("-vs-nodes"),
                    xk.replace('_', "-")
                ),
                xk.clone(),
                if x_is_duration {
                    format!("{xk} (ms)")
                } else {
                    xk.clone()
                },
            )
        };
        drawn.sort();
        drawn.dedup();
        out.push((
            stem,
            Box::new(LineFigure {
                title: format!("{} vs {x_name}{}", spec.title, data.scenario_suffix()),
                subtitle: format!("line: mean over runs; band: p10–p90 of runs{log_note}"),
                x,
                y,
                x_desc,
                y_desc: spec.y_desc.to_string(),
                note: all_zero.then(|| "none observed: zero at every point".to_string()),
                lines,
                drawn,
            }),
        ));
    }
    Ok(())
}

/// The algorithm part of a series label.
fn points_alg(label: &str) -> &str {
    label.split(' ').next().unwrap_or(label)
}

/// Width of the legend column for these labels (never truncated).
fn legend_width(lines: &[Line]) -> u32 {
    let chars = lines
        .iter()
        .map(|l| l.label.chars().count())
        .max()
        .unwrap_or(0) as u32;
    (chars * 9 + 60).max(160)
}

impl Figure for LineFigure {
    fn points(&self) -> Vec<String> {
        self.drawn.clone()
    }

    fn size(&self) -> (u32, u32) {
        let rows = self.lines.len() as u32 * 22 + 140;
        (900 + legend_width(&self.lines), rows.max(580))
    }

    fn draw<'d, DB: DrawingBackend + 'd>(
        &self,
        root: &'d DrawingArea<DB, Shift>,
    ) -> Result<(), String> {
        let body = titled(root, &self.title, &self.subtitle)?;
        // The legend beside the plot, so it never hides a line and is never cut short.
        let (body, side) = body.split_horizontally(900);
        let (_, h) = body.dim_in_pixel();
        let body = body.shrink((0, 0), (900, h.min(520)));
        let mut chart = xy_chart(&body, &self.x, &self.y, &self.x_desc, &self.y_desc)?;
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
            if l.dashed {
                chart
                    .draw_series(DashedLineSeries::new(
                        pts.clone(),
                        8,
                        5,
                        color.stroke_width(2),
                    ))
                    .map_err(de)?;
            } else {
                chart
                    .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                    .map_err(de)?;
            }
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
        side_legend(&side, &self.lines)
    }
}

/// The legend column: one line-and-marker entry per series, full labels.
fn side_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lines: &[Line],
) -> Result<(), String> {
    let text = TextStyle::from((super::font::FAMILY, 15).into_font()).color(&BLACK);
    let mut y = 16;
    for l in lines {
        let style = l.color.stroke_width(2);
        if l.dashed {
            for x in [4, 18] {
                area.draw(&PathElement::new(vec![(x, y + 8), (x + 9, y + 8)], style))
                    .map_err(de)?;
            }
        } else {
            area.draw(&PathElement::new(vec![(4, y + 8), (32, y + 8)], style))
                .map_err(de)?;
        }
        let shape: Vec<(i32, i32)> = super::marker_shape(l.marker)
            .into_iter()
            .map(|(a, b)| (a + 18, b + y + 8))
            .collect();
        area.draw(&Polygon::new(shape, l.color.filled()))
            .map_err(de)?;
        area.draw_text(&l.label, &text, (40, y)).map_err(de)?;
        y += 22;
    }
    Ok(())
}
