//! Trade-off charts (`electsim chart DIR... --tradeoff X,Y`): one metric against another, one
//! curve per group of sweep points (the algorithm plus the `--curve` keys, per directory),
//! its points (x = mean of X over runs, y = mean of Y) joined in the order of the remaining
//! swept key (a detector's threshold) and labelled with its value. From `summary.csv` only.

use super::line::{Line, side_legend};
use super::{
    Axis, ChartError, Figure, Table, algorithm_color, algorithm_rank, axis_number, de,
    draw_polyline, param_name, render, short_value, titled, xy_chart,
};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Most point labels a trade-off chart writes (beyond, markers only, and the subtitle says so):
/// 900 x 520 px hold about this many short labels before they overlap into a smear.
pub const MAX_POINT_LABELS: usize = 120;

/// What a trade-off chart plots.
#[derive(Clone, Debug, Default)]
pub struct TradeoffOptions {
    /// Metric on the x axis (`<name>_mean` must be a `summary.csv` column), e.g. `detect_ms_mean`.
    pub x_metric: String,
    /// Metric on the y axis, e.g. `unnecessary_elections`.
    pub y_metric: String,
    /// Swept keys that, with the algorithm and the directory, make a curve. Default: every
    /// swept key but the one with the most distinct values (the last such column on a tie).
    pub curve: Option<Vec<String>>,
}

/// One point of a trade-off curve.
#[derive(Clone, Debug, PartialEq)]
pub struct TradeoffPoint {
    /// The `point` id in its `summary.csv`.
    pub point: String,
    /// The value(s) of the key(s) the curve runs along, as drawn beside the marker.
    pub label: String,
    /// Mean of the x metric over runs.
    pub x: f64,
    /// Mean of the y metric over runs.
    pub y: f64,
}

/// One curve: a legend label and its points in the order of the key it runs along.
#[derive(Clone, Debug, PartialEq)]
pub struct TradeoffCurve {
    /// Legend label: (scenario, when several directories,) algorithm and `--curve` key values.
    pub label: String,
    /// The algorithm of its points.
    pub algorithm: String,
    /// Points in ascending order of the key the curve runs along.
    pub points: Vec<TradeoffPoint>,
}

fn input(path: &Path, message: String) -> ChartError {
    ChartError::Input {
        path: path.to_path_buf(),
        message,
    }
}

/// Order of a swept value: numbers and durations (ms) by value, ranges by (low, high),
/// anything else after them as text.
/// The sort key of a swept value (see [`order_key`]).
type OrderKey = (u8, f64, f64, String);

/// A curve being built: directory index, (algorithm rank, algorithm), curve key values, the
/// curve, and its points with their sort keys.
type Building = (
    usize,
    (usize, String),
    Vec<String>,
    TradeoffCurve,
    Vec<(Vec<OrderKey>, TradeoffPoint)>,
);

fn order_key(v: &str) -> OrderKey {
    if let Some(x) = axis_number(v) {
        return (0, x, x, String::new());
    }
    if let Some((lo, hi)) = super::fig16::timeout_range(v) {
        return (0, lo, hi, String::new());
    }
    (1, 0.0, 0.0, v.to_string())
}

fn order_cmp(a: &[OrderKey], b: &[OrderKey]) -> std::cmp::Ordering {
    for (x, y) in a.iter().zip(b) {
        let o =
            x.0.cmp(&y.0)
                .then(x.1.total_cmp(&y.1))
                .then(x.2.total_cmp(&y.2))
                .then(x.3.cmp(&y.3));
        if o.is_ne() {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// The curves of a trade-off chart over the `summary.csv` of each directory, validating
/// the metrics and keys first (an unknown one is an input error naming the valid ones).
pub fn tradeoff_curves(
    dirs: &[PathBuf],
    opts: &TradeoffOptions,
) -> Result<Vec<TradeoffCurve>, ChartError> {
    let mut tables = Vec::new();
    for d in dirs {
        if !d.is_dir() {
            return Err(input(
                d,
                "not a directory (expected a sweep output directory with summary.csv)".into(),
            ));
        }
        tables.push(Table::read(&d.join("summary.csv"))?);
    }
    // Validate everything before computing anything.
    for t in &tables {
        for m in [&opts.x_metric, &opts.y_metric] {
            if m.is_empty() || t.col(&format!("{m}_mean")).is_none() {
                let known: Vec<&str> = t
                    .headers
                    .iter()
                    .filter_map(|h| h.strip_suffix("_mean"))
                    .collect();
                return Err(input(
                    &t.path,
                    format!(
                        "--tradeoff: no metric `{m}` (no column `{m}_mean`); valid metrics: {}",
                        known.join(", ")
                    ),
                ));
            }
        }
    }
    if let Some(want) = &opts.curve {
        let mut valid: Vec<String> = Vec::new();
        for t in &tables {
            for (_, h) in t.columns_with_prefix("param_") {
                valid.push(h["param_".len()..].to_string());
            }
            if t.col("nodes").is_some() {
                valid.push("nodes".into());
            }
        }
        valid.retain(|v| v != "algorithm");
        valid.sort();
        valid.dedup();
        for k in want {
            let name = param_name(k);
            if name != "algorithm" && !valid.contains(&name) {
                return Err(input(
                    &tables[0].path,
                    format!(
                        "--curve {k}: not a swept key of {}; valid: {}",
                        if tables.len() > 1 {
                            "any DIR"
                        } else {
                            "this DIR"
                        },
                        if valid.is_empty() {
                            "none (nothing is swept)".to_string()
                        } else {
                            valid.join(", ")
                        }
                    ),
                ));
            }
        }
    }
    let several = tables.len() > 1;
    let mut curves: Vec<Building> = Vec::new();
    for (di, t) in tables.iter().enumerate() {
        let c_point = t.require("point")?;
        let c_alg = t.require("algorithm")?;
        // Swept keys: the param_* columns (algorithm and nodes only when they vary).
        let mut keys: Vec<(usize, String)> = t.columns_with_prefix("param_");
        keys.retain(|(_, h)| h != "param_algorithm" && h != "param_nodes");
        let mut keys: Vec<(usize, String)> = keys
            .into_iter()
            .map(|(c, h)| (c, h["param_".len()..].to_string()))
            .collect();
        if let Some(c) = t.col("nodes") {
            let mut v: Vec<&str> = t.rows.iter().map(|r| t.text(r, c)).collect();
            v.sort();
            v.dedup();
            if v.len() > 1 {
                keys.push((c, "nodes".into()));
            }
        }
        let distinct = |c: usize| {
            let mut v: Vec<&str> = t.rows.iter().map(|r| t.text(r, c)).collect();
            v.sort();
            v.dedup();
            v.len()
        };
        let curve_keys: Vec<(usize, String)> = match &opts.curve {
            Some(want) => {
                let want: Vec<String> = want.iter().map(|k| param_name(k)).collect();
                keys.iter()
                    .filter(|(_, n)| want.contains(n))
                    .cloned()
                    .collect()
            }
            None => {
                let along = keys
                    .iter()
                    .enumerate()
                    .max_by(|a, b| distinct(a.1.0).cmp(&distinct(b.1.0)).then(a.0.cmp(&b.0)))
                    .map(|(i, _)| i);
                keys.iter()
                    .enumerate()
                    .filter(|(i, _)| Some(*i) != along)
                    .map(|(_, k)| k.clone())
                    .collect()
            }
        };
        let along: Vec<(usize, String)> = keys
            .iter()
            .filter(|k| !curve_keys.contains(k))
            .cloned()
            .collect();
        if along.is_empty() {
            return Err(input(
                &t.path,
                format!(
                    "--curve: no swept key left to run the curves along (swept: {})",
                    keys.iter()
                        .map(|(_, n)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let (cx, cy) = (
            t.col(&format!("{}_mean", opts.x_metric)),
            t.col(&format!("{}_mean", opts.y_metric)),
        );
        let scenario = t
            .col("scenario")
            .and_then(|c| t.rows.first().map(|r| t.text(r, c).to_string()))
            .unwrap_or_default();
        let mut index: BTreeMap<(usize, String, Vec<String>), usize> = BTreeMap::new();
        for row in &t.rows {
            let (Some(x), Some(y)) = (t.num(row, cx.unwrap_or(0))?, t.num(row, cy.unwrap_or(0))?)
            else {
                continue;
            };
            let alg = t.text(row, c_alg).to_string();
            let cv: Vec<String> = curve_keys
                .iter()
                .map(|(c, _)| t.text(row, *c).to_string())
                .collect();
            let key = (algorithm_rank(&alg), alg.clone(), cv.clone());
            let i = *index.entry(key).or_insert_with(|| {
                let mut label = if several {
                    format!("{scenario}: {alg}")
                } else {
                    alg.clone()
                };
                for ((_, n), v) in curve_keys.iter().zip(&cv) {
                    label.push_str(&format!(" {n}={}", short_value(v)));
                }
                curves.push((
                    di,
                    (algorithm_rank(&alg), alg.clone()),
                    cv.clone(),
                    TradeoffCurve {
                        label,
                        algorithm: alg.clone(),
                        points: Vec::new(),
                    },
                    Vec::new(),
                ));
                curves.len() - 1
            });
            let along_vals: Vec<String> = along
                .iter()
                .map(|(c, _)| t.text(row, *c).to_string())
                .collect();
            let label = along_vals
                .iter()
                .map(|v| short_value(v))
                .collect::<Vec<_>>()
                .join(" ");
            curves[i].4.push((
                along_vals.iter().map(|v| order_key(v)).collect::<Vec<_>>(),
                TradeoffPoint {
                    point: t.text(row, c_point).to_string(),
                    label,
                    x,
                    y,
                },
            ));
        }
    }
    // Directory order, then algorithms in the canonical order, then curve values as read.
    let mut order: Vec<usize> = (0..curves.len()).collect();
    order.sort_by(|&a, &b| {
        let (ca, cb) = (&curves[a], &curves[b]);
        ca.0.cmp(&cb.0).then(ca.1.cmp(&cb.1)).then(a.cmp(&b))
    });
    let mut out = Vec::new();
    for i in order {
        let (_, _, _, mut c, mut pts) = curves[i].clone();
        pts.sort_by(|a, b| order_cmp(&a.0, &b.0));
        c.points = pts.into_iter().map(|(_, p)| p).collect();
        out.push(c);
    }
    Ok(out)
}

/// An axis for these values: log when the positive ones span more than 30x (zeros, if any,
/// then sit on the axis floor: the second value says so), else [`Axis::fit`].
fn fit_axis(values: &[f64]) -> (Axis, bool) {
    let pos: Vec<f64> = values.iter().copied().filter(|v| *v > 0.0).collect();
    let lo = pos.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = pos.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !pos.is_empty() && hi / lo > 30.0 {
        let floored = values.iter().any(|v| *v <= 0.0);
        return (Axis::log(lo / 1.25, hi * 1.25), floored);
    }
    (Axis::fit(values, 30.0), false)
}

struct TradeoffFigure {
    title: String,
    subtitle: String,
    x: Axis,
    y: Axis,
    x_desc: String,
    y_desc: String,
    lines: Vec<Line>,
    labels: Vec<Vec<String>>,
    drawn: Vec<String>,
    omitted: Option<String>,
}

impl Figure for TradeoffFigure {
    fn points(&self) -> Vec<String> {
        self.drawn.clone()
    }

    fn omitted(&self) -> Option<String> {
        self.omitted.clone()
    }

    fn size(&self) -> (u32, u32) {
        super::line::size_with_legend(&self.lines)
    }

    fn draw<'d, DB: DrawingBackend + 'd>(
        &self,
        root: &'d DrawingArea<DB, Shift>,
    ) -> Result<(), String> {
        let body = titled(root, &self.title, &self.subtitle)?;
        let (body, side) = super::line::plot_beside_legend(&body);
        let mut chart = xy_chart(&body, &self.x, &self.y, &self.x_desc, &self.y_desc)?;
        let (x, y) = (&self.x, &self.y);
        let text =
            TextStyle::from((super::font::FAMILY, 13).into_font()).color(&RGBColor(60, 60, 60));
        for (l, labels) in self.lines.iter().zip(&self.labels) {
            let pts: Vec<(f64, f64)> = l
                .points
                .iter()
                .map(|(a, b, _, _)| (x.t(*a), y.t(*b)))
                .collect();
            draw_polyline(&mut chart, &pts, l.color, l.dashed, Some(l.marker))?;
            chart
                .draw_series(pts.iter().zip(labels).map(|(p, s)| {
                    EmptyElement::at(*p) + Text::new(s.clone(), (7, -16), text.clone())
                }))
                .map_err(de)?;
        }
        side_legend(&side, &self.lines)
    }
}

/// Draw the trade-off chart of `dirs` into `out_dir` as `tradeoff-<y>-vs-<x>.{png,svg}`
/// (atomically; nothing is written when an input is bad); returns the written files.
pub fn tradeoff_chart(
    dirs: &[PathBuf],
    opts: &TradeoffOptions,
    out_dir: &Path,
) -> Result<Vec<PathBuf>, ChartError> {
    let curves = tradeoff_curves(dirs, opts)?;
    let total = curves.len();
    let kept: Vec<&TradeoffCurve> = curves.iter().take(super::MAX_SERIES).collect();
    let npoints: usize = kept.iter().map(|c| c.points.len()).sum();
    let mut notes = Vec::new();
    if total > kept.len() {
        notes.push(format!(
            "{} curves over the budget of {} not drawn",
            total - kept.len(),
            super::MAX_SERIES
        ));
    }
    let with_labels = npoints <= MAX_POINT_LABELS;
    if !with_labels {
        notes.push(format!(
            "{npoints} points: labels left out (over {MAX_POINT_LABELS})"
        ));
    }
    let mut per_alg: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &kept {
        *per_alg.entry(c.algorithm.as_str()).or_default() += 1;
    }
    let mut lines = Vec::new();
    let mut labels = Vec::new();
    let mut drawn = Vec::new();
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for (i, c) in kept.iter().enumerate() {
        let (color, dashed) = if per_alg[c.algorithm.as_str()] == 1 {
            (algorithm_color(&c.algorithm, i), false)
        } else {
            (super::PALETTE[i % 7], (i / 7) % 2 == 1)
        };
        lines.push(Line {
            label: c.label.clone(),
            alg: c.algorithm.clone(),
            color,
            marker: i,
            dashed,
            points: c.points.iter().map(|p| (p.x, p.y, None, None)).collect(),
            envelope: None,
        });
        labels.push(if with_labels {
            c.points.iter().map(|p| p.label.clone()).collect()
        } else {
            Vec::new()
        });
        for p in &c.points {
            drawn.push(p.point.clone());
            xs.push(p.x);
            ys.push(p.y);
        }
    }
    let scenarios: Vec<String> = dirs
        .iter()
        .filter_map(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let (x, x_floor) = fit_axis(&xs);
    let (y, y_floor) = fit_axis(&ys);
    if x_floor || y_floor {
        for l in &mut lines {
            for p in &mut l.points {
                p.0 = p.0.max(x.lo);
                p.1 = p.1.max(y.lo);
            }
        }
        notes.push("log axis: zeros drawn on its lowest line".to_string());
    }
    let mut subtitle = "points: mean over runs of each sweep point, joined in order of the swept key, labelled with its value".to_string();
    for n in &notes {
        subtitle.push_str("; ");
        subtitle.push_str(n);
    }
    let fig = TradeoffFigure {
        title: format!(
            "{} vs {} ({})",
            opts.y_metric,
            opts.x_metric,
            scenarios.join(", ")
        ),
        subtitle,
        x,
        y,
        x_desc: format!("{} (mean over runs)", opts.x_metric),
        y_desc: format!("{} (mean over runs)", opts.y_metric),
        lines,
        labels,
        drawn,
        omitted: (!notes.is_empty()).then(|| notes.join("; ")),
    };
    std::fs::create_dir_all(out_dir).map_err(|source| ChartError::Io {
        path: out_dir.to_path_buf(),
        source,
    })?;
    if let Some(o) = fig.omitted() {
        eprintln!("electsim: trade-off chart: {o}");
    }
    render(out_dir, &tradeoff_stem(opts), &fig)
}

/// The file stem of a trade-off chart: `tradeoff-<y>-vs-<x>`.
pub fn tradeoff_stem(opts: &TradeoffOptions) -> String {
    format!(
        "tradeoff-{}-vs-{}",
        opts.y_metric.replace('_', "-"),
        opts.x_metric.replace('_', "-")
    )
}
