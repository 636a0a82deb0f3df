//! Key metrics against a swept numeric key (cluster size by default, or any numeric axis such
//! as `network.loss`): one line per series — the algorithm plus every other swept key — with
//! the mean over runs and a shaded p10–p90 band, from `summary.csv`.

use super::{
    Axis, ChartError, ChartOptions, Figure, Figures, Point, SweepData, algorithm_color, de,
    draw_polyline, fmt_num, titled, xy_chart,
};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;

/// Most series a line chart draws one by one. Beyond it the algorithms with the most series
/// are drawn as envelopes until the chart fits. 48 because 7 colours x 2 dash styles x 4
/// markers give 56 combinations a reader can still tell apart, and 48 legend rows (22 px
/// each) are about twice the plot's height; more lines are a solid smear that costs time
/// and memory in proportion to the sweep.
pub const MAX_SERIES: usize = 48;

/// Most distinct x values that each get a tick and a marker on every line; beyond it the
/// axis gets round ticks and the lines no markers (900 px hold about 24 tick labels).
pub const MAX_X_TICKS: usize = 24;

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

pub(crate) struct Line {
    pub(crate) label: String,
    /// The algorithm of the series (the envelope's, for an aggregate).
    pub(crate) alg: String,
    pub(crate) color: RGBColor,
    pub(crate) marker: usize,
    pub(crate) dashed: bool,
    /// (x, mean, p10, p90); for an envelope (x, median, min, max) across its series' means.
    pub(crate) points: Vec<(f64, f64, Option<f64>, Option<f64>)>,
    /// For an envelope: how many series it stands for.
    pub(crate) envelope: Option<usize>,
}

/// Per distinct x (ascending): (x, median, min, max) of the series' values at that x — the
/// envelope that replaces series over [`MAX_SERIES`]. A series without a value at some x
/// simply does not count there.
pub(crate) fn envelope(series: &[Vec<(f64, f64)>]) -> Vec<(f64, f64, f64, f64)> {
    let mut all: Vec<(f64, f64)> = series.iter().flatten().copied().collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    all.chunk_by(|a, b| a.0 == b.0)
        .map(|ys| {
            let k = ys.len();
            let median = if k % 2 == 1 {
                ys[k / 2].1
            } else {
                (ys[k / 2 - 1].1 + ys[k / 2].1) / 2.0
            };
            (ys[0].0, median, ys[0].1, ys[k - 1].1)
        })
        .collect()
}

/// Keep at most `budget` lines: while over it, the algorithm with the most series (the first
/// in drawing order on a tie) is replaced by one envelope line at the place of its first
/// series. Returns the lines and how many series went into envelopes.
pub(crate) fn within_budget(lines: Vec<Line>, budget: usize) -> (Vec<Line>, usize) {
    if lines.len() <= budget {
        return (lines, 0);
    }
    let mut counts: Vec<(String, usize)> = Vec::new();
    for l in &lines {
        match counts.iter_mut().find(|(a, _)| *a == l.alg) {
            Some((_, c)) => *c += 1,
            None => counts.push((l.alg.clone(), 1)),
        }
    }
    let mut collapsed = vec![false; counts.len()];
    let mut total = lines.len();
    while total > budget {
        let Some(i) = (0..counts.len())
            .filter(|&i| !collapsed[i] && counts[i].1 > 1)
            .max_by(|&a, &b| counts[a].1.cmp(&counts[b].1).then(b.cmp(&a)))
        else {
            break;
        };
        collapsed[i] = true;
        total -= counts[i].1 - 1;
    }
    let mut out: Vec<Line> = Vec::new();
    let mut members: BTreeMap<usize, Vec<Vec<(f64, f64)>>> = BTreeMap::new();
    let mut aggregated = 0;
    for l in lines {
        let i = counts.iter().position(|(a, _)| *a == l.alg).unwrap_or(0);
        if !collapsed[i] {
            out.push(l);
            continue;
        }
        aggregated += 1;
        let means = l.points.iter().map(|(x, m, _, _)| (*x, *m)).collect();
        let slot = members.entry(i).or_default();
        if slot.is_empty() {
            out.push(Line {
                label: String::new(),
                color: super::algorithm_color(&l.alg, i),
                alg: l.alg,
                marker: 0,
                dashed: false,
                points: Vec::new(),
                envelope: Some(0),
            });
        }
        slot.push(means);
    }
    for l in &mut out {
        if l.envelope.is_none() {
            continue;
        }
        let i = counts.iter().position(|(a, _)| *a == l.alg).unwrap_or(0);
        let series = &members[&i];
        l.envelope = Some(series.len());
        l.label = format!("{} {} series (envelope)", l.alg, series.len());
        l.points = envelope(series)
            .into_iter()
            .map(|(x, med, lo, hi)| (x, med, Some(lo), Some(hi)))
            .collect();
    }
    (out, aggregated)
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
    /// Draw a marker at every point (only while the x values are few, see [`MAX_X_TICKS`]).
    markers: bool,
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
        let mut s = p.name();
        if let (false, true, Some(n)) = (on_nodes, sizes_vary, p.nodes) {
            s.push_str(&format!(" n={}", fmt_num(n)));
        }
        let rest = p.params_label_except(&[&xk, "variant"]);
        if !rest.is_empty() {
            s.push(' ');
            s.push_str(&rest);
        }
        s
    };
    let mut groups: Vec<(String, Vec<(f64, &Point)>)> = Vec::new();
    // Label -> index in `groups` (a linear search was quadratic in the series count).
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for alg in data.algorithms() {
        for p in data.points.iter().filter(|p| p.algorithm == alg) {
            let Some(xv) = p.value(&xk).and_then(|v| super::axis_number(&v)) else {
                continue;
            };
            let l = series_label(p);
            match index.get(&l) {
                Some(&i) => groups[i].1.push((xv, p)),
                None => {
                    index.insert(l.clone(), groups.len());
                    groups.push((l, vec![(xv, p)]));
                }
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
    let mut series_per_alg: BTreeMap<&str, usize> = BTreeMap::new();
    for (l, _) in &groups {
        *series_per_alg.entry(points_alg(l)).or_default() += 1;
    }
    let per_alg = |alg: &str| series_per_alg.get(alg).copied().unwrap_or(0);
    // Duration values ("5s") are drawn in milliseconds.
    let x_is_duration = data.points.iter().any(|p| {
        p.value(&xk)
            .is_some_and(|v| v.trim().parse::<f64>().is_err() && super::axis_number(&v).is_some())
    });
    for spec in &specs {
        let col = |stat: &str| data.summary.col(&format!("{}_{stat}", spec.column));
        let (c_mean, c_p10, c_p90) = (col("mean"), col("p10"), col("p90"));
        if c_mean.is_none() {
            continue;
        }
        let mut lines = Vec::new();
        let mut drawn = Vec::new();
        for (i, (label, points)) in groups.iter().enumerate() {
            let mut pts = Vec::new();
            for (xv, p) in points {
                let Some(mean) = data.stat_at(p, c_mean)? else {
                    continue;
                };
                drawn.push(p.id.clone());
                pts.push((*xv, mean, data.stat_at(p, c_p10)?, data.stat_at(p, c_p90)?));
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
                alg: alg.to_string(),
                points: pts,
                envelope: None,
            });
        }
        if lines.is_empty() {
            continue;
        }
        let (lines, aggregated) = within_budget(lines, MAX_SERIES);
        let (lo, hi) = (xs[0], xs[xs.len() - 1]);
        // Every measured x is a tick while they fit; past that, round ticks.
        let tick_each = xs.len() <= MAX_X_TICKS;
        let x = if lo > 0.0 && hi / lo > 8.0 {
            let mut a = Axis::log(lo / 1.15, hi * 1.15);
            if tick_each {
                a.ticks = xs.clone();
            }
            a
        } else {
            let span = hi - lo.min(0.0);
            let mut a = Axis::linear(lo.min(0.0), hi + span * 0.05);
            if tick_each {
                a.ticks = xs.clone();
            }
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
        let envelope_note = if aggregated > 0 {
            format!(
                "; {aggregated} series over the budget of {MAX_SERIES} lines drawn as envelopes (band: min–max, line: median of their means at each x)"
            )
        } else {
            String::new()
        };
        out.push((
            stem,
            Box::new(LineFigure {
                title: format!("{} vs {x_name}{}", spec.title, data.scenario_suffix()),
                subtitle: format!(
                    "line: mean over runs; band: p10–p90 of runs{log_note}{envelope_note}"
                ),
                markers: tick_each,
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

/// Image size of a chart with a side legend: a 900-px plot column plus the legend's width,
/// tall enough for one 22-px legend row per line.
pub(crate) fn size_with_legend(lines: &[Line]) -> (u32, u32) {
    let rows = lines.len() as u32 * 22 + 140;
    (900 + legend_width(lines), rows.max(580))
}

/// Split a titled chart body into the plot (900 px wide, at most 520 px tall) and the legend
/// column beside it, so the legend never hides a line and is never cut short.
pub(crate) fn plot_beside_legend<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
) -> (DrawingArea<DB, Shift>, DrawingArea<DB, Shift>) {
    let (body, side) = body.split_horizontally(900);
    let (_, h) = body.dim_in_pixel();
    (body.shrink((0, 0), (900, h.min(520))), side)
}

impl Figure for LineFigure {
    fn points(&self) -> Vec<String> {
        self.drawn.clone()
    }

    fn size(&self) -> (u32, u32) {
        size_with_legend(&self.lines)
    }

    fn draw<'d, DB: DrawingBackend + 'd>(
        &self,
        root: &'d DrawingArea<DB, Shift>,
    ) -> Result<(), String> {
        let body = titled(root, &self.title, &self.subtitle)?;
        let (body, side) = plot_beside_legend(&body);
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
                let alpha = if l.envelope.is_some() { 0.3 } else { 0.15 };
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        poly,
                        l.color.mix(alpha).filled(),
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
            let markers = (self.markers && l.envelope.is_none()).then_some(l.marker);
            draw_polyline(&mut chart, &pts, l.color, l.dashed, markers)?;
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
pub(crate) fn side_legend<DB: DrawingBackend>(
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
        if l.envelope.is_some() {
            // The band swatch behind the median line.
            area.draw(&Rectangle::new(
                [(4, y + 2), (32, y + 14)],
                l.color.mix(0.3).filled(),
            ))
            .map_err(de)?;
        } else {
            let shape: Vec<(i32, i32)> = super::marker_shape(l.marker)
                .into_iter()
                .map(|(a, b)| (a + 18, b + y + 8))
                .collect();
            area.draw(&Polygon::new(shape, l.color.filled()))
                .map_err(de)?;
        }
        area.draw_text(&l.label, &text, (40, y)).map_err(de)?;
        y += 22;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Line, envelope, within_budget};
    use plotters::style::RGBColor;

    fn line(alg: &str, label: &str, means: &[(f64, f64)]) -> Line {
        Line {
            label: label.into(),
            alg: alg.into(),
            color: RGBColor(0, 0, 0),
            marker: 0,
            dashed: false,
            points: means.iter().map(|(x, m)| (*x, *m, None, None)).collect(),
            envelope: None,
        }
    }

    #[test]
    fn three_series_over_a_budget_of_two_become_one_envelope_holding_them() {
        let a = [(1.0, 1.0), (2.0, 5.0), (3.0, 2.0)];
        let b = [(1.0, 2.0), (2.0, 3.0), (3.0, 4.0)];
        let c = [(1.0, 3.0), (2.0, 1.0), (3.0, 6.0), (4.0, 7.0)];
        let lines = vec![
            line("raft", "raft a", &a),
            line("raft", "raft b", &b),
            line("raft", "raft c", &c),
        ];
        let (out, aggregated) = within_budget(lines, 2);
        assert_eq!(aggregated, 3);
        assert_eq!(out.len(), 1);
        let e = &out[0];
        assert_eq!(e.label, "raft 3 series (envelope)");
        assert_eq!(e.envelope, Some(3));
        // (x, median, min, max) by hand.
        let want = [
            (1.0, 2.0, 1.0, 3.0),
            (2.0, 3.0, 1.0, 5.0),
            (3.0, 4.0, 2.0, 6.0),
            (4.0, 7.0, 7.0, 7.0),
        ];
        let got: Vec<(f64, f64, f64, f64)> = e
            .points
            .iter()
            .map(|(x, m, lo, hi)| (*x, *m, lo.unwrap(), hi.unwrap()))
            .collect();
        assert_eq!(got, want);
        // Every series value lies inside the band at its x.
        for s in [&a[..], &b[..], &c[..]] {
            for (x, v) in s {
                let (_, _, lo, hi) = got.iter().find(|p| p.0 == *x).unwrap();
                assert!(lo <= v && v <= hi, "x={x}: {v} outside [{lo}, {hi}]");
            }
        }
    }

    #[test]
    fn the_algorithm_with_most_series_is_aggregated_first_and_the_rest_stay_lines() {
        let p = [(1.0, 1.0), (2.0, 2.0)];
        let lines = vec![
            line("bully", "bully x", &p),
            line("raft", "raft a", &p),
            line("raft", "raft b", &p),
            line("raft", "raft c", &p),
        ];
        let (out, aggregated) = within_budget(lines, 3);
        assert_eq!(aggregated, 3);
        let labels: Vec<&str> = out.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["bully x", "raft 3 series (envelope)"]);
        // Within budget: untouched.
        let (out, aggregated) = within_budget(vec![line("raft", "raft a", &p)], 1);
        assert_eq!((out.len(), aggregated, out[0].envelope), (1, 0, None));
    }

    #[test]
    fn an_even_count_takes_the_mean_of_the_middle_two() {
        let e = envelope(&[vec![(0.0, 1.0)], vec![(0.0, 4.0)]]);
        assert_eq!(e, [(0.0, 2.5, 1.0, 4.0)]);
    }
}
