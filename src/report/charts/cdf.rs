//! Empirical CDFs over runs: election time per sweep point (and the shared drawing code the
//! Figure 16 chart uses).

use super::{
    Axis, ChartError, Figure, Figures, PALETTE, Point, SweepData, algorithm_color, de, titled,
    xy_chart,
};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Most curves on one CDF chart before it is split per algorithm.
const MAX_CURVES: usize = 8;

/// Most curves one CDF panel draws one by one (the line charts' budget, for the same
/// reasons: 56 colour/dash combinations, a legend about twice the plot's height). Past it
/// the panel draws the pooled CDF of all its runs with a band from the lowest to the highest
/// of the points' own CDFs.
pub const MAX_CDF_CURVES: usize = 48;

/// X positions at which an aggregate CDF and its band are evaluated (about one per 2 px of
/// the plot), so its cost does not grow with the number of runs.
pub const AGGREGATE_GRID: usize = 400;

/// The aggregate drawn in place of more than [`MAX_CDF_CURVES`] curves.
pub(crate) struct Aggregate {
    pub label: String,
    pub color: RGBColor,
    /// (x in drawing coordinates, pooled CDF, lowest, highest point CDF), x ascending.
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// Evaluate at `xs` (data values, ascending) the CDF of all `curves`' samples pooled and the
/// lowest and highest of the curves' own CDFs: (pooled, min, max) per x. A curve's CDF at x
/// is the fraction of its samples <= x; curves without samples do not count.
pub(crate) fn pooled_band(curves: &[Vec<f64>], xs: &[f64]) -> Vec<(f64, f64, f64)> {
    let mut lo = vec![f64::INFINITY; xs.len()];
    let mut hi = vec![f64::NEG_INFINITY; xs.len()];
    let mut pooled = vec![0usize; xs.len()];
    let mut total = 0usize;
    for c in curves.iter().filter(|c| !c.is_empty()) {
        debug_assert!(c.is_sorted_by(|a, b| a <= b));
        let mut k = 0;
        for (g, x) in xs.iter().enumerate() {
            while k < c.len() && c[k] <= *x {
                k += 1;
            }
            let f = k as f64 / c.len() as f64;
            lo[g] = lo[g].min(f);
            hi[g] = hi[g].max(f);
            pooled[g] += k;
        }
        total += c.len();
    }
    (0..xs.len())
        .map(|g| {
            if total == 0 {
                (0.0, 0.0, 0.0)
            } else {
                (pooled[g] as f64 / total as f64, lo[g], hi[g])
            }
        })
        .collect()
}

/// One CDF curve: sorted finite samples plus the number of censored (infinite) samples.
pub(crate) struct Curve {
    pub label: String,
    pub color: RGBColor,
    pub dashed: bool,
    pub samples: Vec<f64>,
    pub censored: usize,
}

impl Curve {
    pub fn new(label: String, color: RGBColor, mut samples: Vec<f64>, censored: usize) -> Curve {
        samples.sort_by(f64::total_cmp);
        Curve {
            label,
            color,
            dashed: false,
            samples,
            censored,
        }
    }

    fn total(&self) -> usize {
        self.samples.len() + self.censored
    }
}

/// A published value drawn over the curves for comparison (an open circle and a label).
pub(crate) struct Mark {
    pub x: f64,
    /// Cumulative fraction; `None` for a mean, drawn as a triangle on the x axis.
    pub y: Option<f64>,
    pub label: String,
    pub color: RGBColor,
}

/// One CDF panel.
pub(crate) struct CdfPanel {
    pub title: String,
    pub subtitle: String,
    pub x: Axis,
    pub x_desc: String,
    /// What one step of the CDF is ("runs", "elections").
    pub y_desc: &'static str,
    pub curves: Vec<Curve>,
    pub marks: Vec<Mark>,
    /// Drawn in place of curves over [`MAX_CDF_CURVES`] (then `curves` is empty).
    pub aggregate: Option<Aggregate>,
}

impl CdfPanel {
    pub fn draw<'d, DB: DrawingBackend + 'd>(
        &self,
        area: &'d DrawingArea<DB, Shift>,
    ) -> Result<(), String> {
        let body = titled(area, &self.title, &self.subtitle)?;
        let (w, _) = body.dim_in_pixel();
        // Legend beside the plot: CDF curves fill every corner of the plot area.
        let chars = self
            .curves
            .iter()
            .map(|c| c.label.chars().count())
            .chain(self.aggregate.iter().map(|a| a.label.chars().count()))
            .max()
            .unwrap_or(0) as u32;
        let legend_w = (chars * 8 + 56).clamp(LEGEND_WIDTH, w / 2);
        let (body, side) = body.split_horizontally(w.saturating_sub(legend_w));
        let mut y = Axis::linear(0.0, 1.0);
        y.ticks = vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0];
        y.hi = 1.02;
        y.percent = true;
        let mut chart = xy_chart(
            &body,
            &self.x,
            &y,
            &self.x_desc,
            &format!("cumulative percent of {}", self.y_desc),
        )?;
        let x = &self.x;
        for c in &self.curves {
            let n = c.total();
            if n == 0 {
                continue;
            }
            // Step function: at each sample the CDF jumps by 1/n.
            let mut pts = Vec::with_capacity(c.samples.len() * 2 + 1);
            let mut prev = 0.0;
            for (i, v) in c.samples.iter().enumerate() {
                let xv = x.t(v.max(x.lo));
                pts.push((xv, prev));
                prev = (i + 1) as f64 / n as f64;
                pts.push((xv, prev));
            }
            // Complete curves run flat to the right edge; a curve with censored runs stops at
            // its last sample (what happens after the run end is unknown).
            if let Some(&(last_x, last_y)) = pts.last()
                && c.censored == 0
            {
                pts.push((x.t(x.hi).max(last_x), last_y));
            }
            let style = c.color.stroke_width(2);
            if c.dashed {
                chart
                    .draw_series(DashedLineSeries::new(pts, 8, 5, style))
                    .map_err(de)?;
            } else {
                chart.draw_series(LineSeries::new(pts, style)).map_err(de)?;
            }
        }
        if let Some(a) = &self.aggregate {
            let mut poly: Vec<(f64, f64)> = a.points.iter().map(|p| (p.0, p.2)).collect();
            poly.extend(a.points.iter().rev().map(|p| (p.0, p.3)));
            chart
                .draw_series(std::iter::once(Polygon::new(
                    poly,
                    a.color.mix(0.3).filled(),
                )))
                .map_err(de)?;
            chart
                .draw_series(LineSeries::new(
                    a.points.iter().map(|p| (p.0, p.1)),
                    a.color.stroke_width(2),
                ))
                .map_err(de)?;
        }
        let label_font = TextStyle::from((super::font::FAMILY, 13).into_font());
        for m in &self.marks {
            let at = (x.t(m.x.clamp(x.lo, x.hi)), m.y.unwrap_or(0.0));
            let style = m.color.stroke_width(2);
            let text = label_font.clone().color(&m.color);
            let shape = EmptyElement::at(at)
                + Text::new(
                    m.label.clone(),
                    (9, if m.y.is_some() { 2 } else { -22 }),
                    text,
                );
            if m.y.is_some() {
                chart
                    .draw_series(std::iter::once(shape + Circle::new((0, 0), 6, style)))
                    .map_err(de)?;
            } else {
                chart
                    .draw_series(std::iter::once(
                        shape + TriangleMarker::new((0, -6), 7, style.filled()),
                    ))
                    .map_err(de)?;
            }
        }
        if let Some(a) = &self.aggregate {
            let text = TextStyle::from((super::font::FAMILY, 15).into_font()).color(&BLACK);
            side.draw(&Rectangle::new(
                [(8, 26), (36, 38)],
                a.color.mix(0.3).filled(),
            ))
            .map_err(de)?;
            side.draw(&PathElement::new(
                vec![(8, 32), (36, 32)],
                a.color.stroke_width(3),
            ))
            .map_err(de)?;
            side.draw_text(&a.label, &text, (44, 24)).map_err(de)?;
        }
        side_legend(&side, &self.curves, !self.marks.is_empty())
    }
}

/// Narrowest legend column beside a CDF plot (it widens to fit its labels, up to half the
/// figure).
const LEGEND_WIDTH: u32 = 230;

/// The legend column: one entry per curve, with the count of censored runs under it.
fn side_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    curves: &[Curve],
    marks: bool,
) -> Result<(), String> {
    let text = TextStyle::from((super::font::FAMILY, 15).into_font()).color(&BLACK);
    let note = TextStyle::from((super::font::FAMILY, 13).into_font()).color(&RGBColor(90, 90, 90));
    let mut y = 24;
    for c in curves {
        if c.dashed {
            for x in [8, 20] {
                area.draw(&PathElement::new(
                    vec![(x, y + 8), (x + 8, y + 8)],
                    c.color.stroke_width(3),
                ))
                .map_err(de)?;
            }
        } else {
            area.draw(&PathElement::new(
                vec![(8, y + 8), (36, y + 8)],
                c.color.stroke_width(3),
            ))
            .map_err(de)?;
        }
        area.draw_text(&c.label, &text, (44, y)).map_err(de)?;
        y += 22;
        if c.censored > 0 {
            area.draw_text(
                &format!("{} of {} runs never elected", c.censored, c.total()),
                &note,
                (44, y - 2),
            )
            .map_err(de)?;
            y += 20;
        }
    }
    if marks {
        area.draw(&Circle::new((22, y + 8), 6, BLACK.stroke_width(2)))
            .map_err(de)?;
        area.draw_text("value quoted by the paper", &text, (44, y))
            .map_err(de)?;
        area.draw_text("(triangle: a mean)", &note, (44, y + 20))
            .map_err(de)?;
    }
    Ok(())
}

/// A figure of CDF panels stacked vertically.
pub(crate) struct CdfFigure {
    pub panels: Vec<CdfPanel>,
    /// Point ids drawn, and what was left out.
    pub drawn: Vec<String>,
    pub omitted: Option<String>,
    pub width: u32,
    pub panel_height: u32,
}

impl Figure for CdfFigure {
    fn points(&self) -> Vec<String> {
        self.drawn.clone()
    }

    fn omitted(&self) -> Option<String> {
        self.omitted.clone()
    }

    fn size(&self) -> (u32, u32) {
        (
            self.width,
            self.panel_height * self.panels.len().max(1) as u32,
        )
    }

    fn draw<'d, DB: DrawingBackend + 'd>(
        &self,
        root: &'d DrawingArea<DB, Shift>,
    ) -> Result<(), String> {
        let areas = root.split_evenly((self.panels.len().max(1), 1));
        for (p, a) in self.panels.iter().zip(areas.iter()) {
            p.draw(a)?;
        }
        Ok(())
    }
}

/// X axis for a set of curves: log when the samples span more than a decade and a half.
pub(crate) fn x_axis(curves: &[Curve]) -> Axis {
    let all: Vec<f64> = curves
        .iter()
        .flat_map(|c| c.samples.iter().copied())
        .filter(|v| *v > 0.0)
        .collect();
    let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if all.is_empty() {
        return Axis::linear(0.0, 1.0);
    }
    if hi / lo > 30.0 {
        Axis::log(lo / 1.2, hi * 1.2)
    } else {
        let pad = ((hi - lo) * 0.05).max(hi * 0.01);
        Axis::linear((lo - pad).max(0.0), hi + pad)
    }
}

/// Election-time CDFs: each run's mean election time is one sample of its sweep point.
pub(super) fn figures(data: &SweepData, out: &mut Figures) -> Result<(), ChartError> {
    if data.runs.col("election_ms_mean").is_none() {
        return Ok(());
    }
    let groups: Vec<(String, Vec<&Point>)> = if data.points.len() <= MAX_CURVES {
        vec![(String::new(), data.points.iter().collect())]
    } else {
        data.algorithms()
            .into_iter()
            .map(|a| {
                let ps: Vec<&Point> = data.points.iter().filter(|p| p.algorithm == a).collect();
                (a, ps)
            })
            .collect()
    };
    for (alg, points) in groups {
        if points.len() > MAX_CDF_CURVES {
            aggregate_figure(data, &alg, &points, out)?;
            continue;
        }
        let mut curves = Vec::new();
        let mut drawn = Vec::new();
        let single_alg = !alg.is_empty() || data.algorithms().len() == 1;
        for (i, p) in points.iter().enumerate() {
            let samples = data.run_values(p, "election_ms_mean")?;
            if samples.is_empty() {
                continue;
            }
            let sizes_vary = points.iter().any(|q| q.nodes != p.nodes);
            let (label, color, dashed) = if single_alg {
                // Within one algorithm: name the point by what varies (size, parameters).
                let mut parts: Vec<String> = p
                    .params
                    .iter()
                    .map(|(k, v)| {
                        if super::timeout_range(v).is_some() {
                            super::short_value(v)
                        } else {
                            format!("{k}={}", super::short_value(v))
                        }
                    })
                    .collect();
                if let (Some(n), true) = (p.nodes, sizes_vary || parts.is_empty()) {
                    parts.push(format!("n={}", super::fmt_num(n)));
                }
                // Seven colours (yellow is too faint for a line), then the same dashed.
                (parts.join(" "), PALETTE[i % 7], i >= 7)
            } else {
                (p.label(), algorithm_color(&p.algorithm, i), false)
            };
            let label = if label.is_empty() { p.label() } else { label };
            drawn.push(p.id.clone());
            let mut curve = Curve::new(label, color, samples, 0);
            curve.dashed = dashed;
            curves.push(curve);
        }
        if curves.is_empty() {
            continue;
        }
        let x = x_axis(&curves);
        let stem = if alg.is_empty() {
            "election-cdf".to_string()
        } else {
            format!("election-cdf-{alg}")
        };
        let who = if alg.is_empty() {
            String::new()
        } else {
            format!(" ({alg})")
        };
        out.push((
            stem,
            Box::new(CdfFigure {
                panels: vec![CdfPanel {
                    title: format!("Election time CDF{who}{}", data.scenario_suffix()),
                    subtitle: format!(
                        "one curve per sweep point; one sample per run (its mean election time){}",
                        if x.log { "; log x axis" } else { "" }
                    ),
                    x,
                    x_desc: "election time (ms)".into(),
                    y_desc: "runs",
                    curves,
                    marks: Vec::new(),
                    aggregate: None,
                }],
                drawn,
                omitted: None,
                width: 1000,
                panel_height: 580,
            }),
        ));
    }
    Ok(())
}

/// `election-cdf-<alg>` for more sweep points than [`MAX_CDF_CURVES`]: the pooled CDF of
/// every run's mean election time and the band between the lowest and highest per-point
/// CDF, evaluated at [`AGGREGATE_GRID`] positions; every point is inside the aggregate.
fn aggregate_figure(
    data: &SweepData,
    alg: &str,
    points: &[&Point],
    out: &mut Figures,
) -> Result<(), ChartError> {
    let mut per_point: Vec<Vec<f64>> = Vec::new();
    let mut drawn = Vec::new();
    for p in points {
        let mut samples = data.run_values(p, "election_ms_mean")?;
        if samples.is_empty() {
            continue;
        }
        samples.sort_by(f64::total_cmp);
        drawn.push(p.id.clone());
        per_point.push(samples);
    }
    if per_point.is_empty() {
        return Ok(());
    }
    let (lo, hi) = per_point
        .iter()
        .flatten()
        .filter(|v| **v > 0.0)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    // The x axis `x_axis` would fit to these samples, from their range alone.
    let x = if lo > hi {
        Axis::linear(0.0, 1.0)
    } else if hi / lo > 30.0 {
        Axis::log(lo / 1.2, hi * 1.2)
    } else {
        let pad = ((hi - lo) * 0.05).max(hi * 0.01);
        Axis::linear((lo - pad).max(0.0), hi + pad)
    };
    let (c0, c1) = (x.t(x.lo), x.t(x.hi));
    let grid: Vec<f64> = (0..AGGREGATE_GRID)
        .map(|g| c0 + (c1 - c0) * g as f64 / (AGGREGATE_GRID - 1) as f64)
        .collect();
    let values: Vec<f64> = grid
        .iter()
        .map(|c| if x.log { 10f64.powf(*c) } else { *c })
        .collect();
    let band = pooled_band(&per_point, &values);
    let runs: usize = per_point.iter().map(Vec::len).sum();
    let n = per_point.len();
    let who = if alg.is_empty() {
        String::new()
    } else {
        format!(" ({alg})")
    };
    let stem = if alg.is_empty() {
        "election-cdf".to_string()
    } else {
        format!("election-cdf-{alg}")
    };
    out.push((
        stem,
        Box::new(CdfFigure {
            panels: vec![CdfPanel {
                title: format!("Election time CDF{who}{}", data.scenario_suffix()),
                subtitle: format!(
                    "{n} sweep points, over the budget of {MAX_CDF_CURVES} curves: line: the CDF of all {runs} runs pooled; band: lowest to highest of the points' own CDFs{}",
                    if x.log { "; log x axis" } else { "" }
                ),
                x,
                x_desc: "election time (ms)".into(),
                y_desc: "runs",
                curves: Vec::new(),
                marks: Vec::new(),
                aggregate: Some(Aggregate {
                    label: format!("{n} sweep points (pooled, band)"),
                    color: algorithm_color(alg, 0),
                    points: grid
                        .iter()
                        .zip(band)
                        .map(|(c, (f, lo, hi))| (*c, f, lo, hi))
                        .collect(),
                }),
            }],
            drawn,
            omitted: None,
            width: 1000,
            panel_height: 580,
        }),
    ));
    Ok(())
}

/// Most curves in one per-election CDF panel.
const MAX_ELECTION_CURVES: usize = 12;

/// Election-time CDFs from `elections.csv`: every election is one sample of its sweep point.
pub(super) fn per_election(data: &SweepData, out: &mut Figures) -> Result<(), ChartError> {
    let Some(t) = &data.elections else {
        return Ok(());
    };
    let (Some(c_point), Some(c_ms)) = (t.col("point"), t.col("duration_ms")) else {
        return Ok(());
    };
    // Samples per point id, in file order.
    let mut by_point: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for row in &t.rows {
        if let Some(v) = t.num(row, c_ms)? {
            by_point
                .entry(t.text(row, c_point).to_string())
                .or_default()
                .push(v);
        }
    }
    let groups: Vec<(String, Vec<&Point>)> = if data.points.len() <= MAX_ELECTION_CURVES {
        vec![(String::new(), data.points.iter().collect())]
    } else {
        data.algorithms()
            .into_iter()
            .map(|a| {
                let ps: Vec<&Point> = data.points.iter().filter(|p| p.algorithm == a).collect();
                (a, ps)
            })
            .collect()
    };
    let mut panels = Vec::new();
    let mut drawn = Vec::new();
    let mut left_out = 0;
    for (alg, points) in &groups {
        let mut curves = Vec::new();
        for (i, p) in points.iter().enumerate() {
            let Some(samples) = by_point.get(&p.id) else {
                continue;
            };
            if curves.len() >= MAX_ELECTION_CURVES {
                left_out += 1;
                continue;
            }
            drawn.push(p.id.clone());
            let label = if alg.is_empty() {
                p.label()
            } else {
                let l = p.label();
                l.strip_prefix(&format!("{alg} ")).unwrap_or(&l).to_string()
            };
            let (color, dashed) = if alg.is_empty() && data.algorithms().len() == points.len() {
                (algorithm_color(&p.algorithm, i), false)
            } else {
                (PALETTE[i % 7], (i / 7) % 2 == 1)
            };
            let mut c = Curve::new(label, color, samples.clone(), 0);
            c.dashed = dashed;
            curves.push(c);
        }
        if curves.is_empty() {
            continue;
        }
        let x = x_axis(&curves);
        let n: usize = curves.iter().map(|c| c.samples.len()).sum();
        panels.push(CdfPanel {
            title: if alg.is_empty() {
                format!("Election time CDF, every election{}", data.scenario_suffix())
            } else {
                format!("Election time CDF, every election — {alg}")
            },
            subtitle: format!(
                "one curve per sweep point; one sample per election ({n} elections, from elections.csv){}",
                if x.log { "; log x axis" } else { "" }
            ),
            x,
            x_desc: "election time (ms)".into(),
            y_desc: "elections",
            curves,
            marks: Vec::new(),
            aggregate: None,
        });
    }
    if panels.is_empty() {
        return Ok(());
    }
    let omitted = (left_out > 0).then(|| {
        format!(
            "{left_out} sweep points not drawn (more than {MAX_ELECTION_CURVES} curves per panel); the line charts and bar charts show them"
        )
    });
    out.push((
        "election-time-cdf".into(),
        Box::new(CdfFigure {
            panels,
            drawn,
            omitted,
            width: 1100,
            panel_height: 520,
        }),
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::pooled_band;

    #[test]
    fn pooled_cdf_and_band_by_hand() {
        // Three points' samples; CDFs at x = 0, 1, 2, 3, 5:
        // [1, 2]: 0, .5, 1, 1, 1; [3]: 0, 0, 0, 1, 1; [2, 4]: 0, 0, .5, .5, 1.
        let curves = vec![vec![1.0, 2.0], vec![3.0], vec![2.0, 4.0]];
        let xs = [0.0, 1.0, 2.0, 3.0, 5.0];
        let got = pooled_band(&curves, &xs);
        let want = [
            (0.0, 0.0, 0.0),
            (0.2, 0.0, 0.5),
            (0.6, 0.0, 1.0),
            (0.8, 0.5, 1.0),
            (1.0, 1.0, 1.0),
        ];
        for (g, w) in got.iter().zip(want) {
            assert!(
                (g.0 - w.0).abs() < 1e-12 && g.1 == w.1 && g.2 == w.2,
                "{got:?}"
            );
        }
        // The band holds every point's own CDF, and the pooled one.
        for c in &curves {
            for (x, (pooled, lo, hi)) in xs.iter().zip(&got) {
                let f = c.iter().filter(|v| **v <= *x).count() as f64 / c.len() as f64;
                assert!(*lo <= f && f <= *hi, "x={x}: {f} outside [{lo}, {hi}]");
                assert!(*lo <= *pooled && *pooled <= *hi);
            }
        }
    }
}
