//! Charts drawn from a sweep's CSV files only (`DIR/runs.csv`, `DIR/summary.csv`), never by
//! re-running anything: `electsim chart DIR` and `electsim sweep` call [`chart_dir`].
//!
//! Every chart is written twice, as `DIR/charts/<name>.png` (plotters' bitmap backend into
//! a buffer, encoded with the `png` crate) and `DIR/charts/<name>.svg`, both atomically and
//! byte-identical on every run: no timestamps, fonts compiled in (see [`super::font`]), fixed
//! float formatting, inputs taken in file order and grouped with ordered maps.
//!
//! Kinds (each drawn only when its columns are present; see `docs/charts.md`):
//! Planning: every sweep point (every `summary.csv` row) is drawn in some chart, as a series
//! (legend entry), a facet (a panel per parameter combination), an x-axis position or inside
//! an aggregate; a chart that must leave points out says so in its subtitle and on stderr
//! ([`chart_coverage`] lists what each chart draws).
//!
//! Budget: a chart's cost must not grow with the sweep. A line chart draws at most
//! [`MAX_SERIES`] series (more become one envelope per algorithm: band min–max, line median of
//! the series' means), a CDF panel at most [`MAX_CDF_CURVES`] curves (more become the pooled
//! CDF with a band between the lowest and highest point CDF), a bar panel at most
//! [`MAX_BARS_PER_PANEL`] bars (more become one median bar with min–max whiskers per size).
//!
//! * `<metric>-vs-nodes` (or `-vs-<key>` for another numeric x axis, see [`ChartOptions`]): a
//!   key metric against the x key, one line per series — the algorithm plus every other swept
//!   key — (the mean over runs, with markers) and a shaded p10–p90 band, from `summary.csv`;
//!   an axis is logarithmic when its values span more than a decade and a half.
//! * `election-time-cdf`: from `elections.csv`, the CDF of every election's time (as in the
//!   Raft paper), one curve per sweep point; one panel per algorithm when there are more than
//!   12 points.
//! * `election-cdf` (or `election-cdf-<algorithm>` when there are many sweep points): the
//!   CDF over runs of each run's *mean* election time, one curve per sweep point.
//! * `split-brain`, `stability`: per algorithm, bars grouped by cluster size (mean over
//!   runs, whiskers at the 95% confidence interval of the mean), one row of panels per
//!   parameter combination (at most 12).
//! * `messages-by-kind`: all traffic per election by message kind, stacked, one panel per
//!   algorithm and parameter combination, one bar per cluster size (all sent messages of
//!   that kind / elections).
//! * `tradeoff-<y>-vs-<x>` (only on request, `--tradeoff X,Y`, see [`tradeoff_chart`]): one
//!   metric's mean against another's, one curve per algorithm and `--curve` keys, its points
//!   joined in the order of the remaining swept key and labelled with its value.
//! * [`loglog_chart`] (not from a sweep directory): any (series, x, y) points on log–log
//!   axes, e.g. `electsim scale`'s peak RSS and CPU time against cluster size.
//! * `figure16`: for the Raft Figure 16 scenario, the paper's two-panel CDF of the time
//!   without leader after a leader crash, per election-timeout range.

mod bars;
mod cdf;
mod fig16;
mod line;
mod loglog;
pub mod table;
mod tradeoff;

use super::font;
use crate::fsutil::write_atomic;
pub use bars::MAX_BARS_PER_PANEL;
pub use cdf::{AGGREGATE_GRID, MAX_CDF_CURVES};
pub use fig16::{RangeSamples, samples as fig16_samples, timeout_range};
pub use line::{MAX_SERIES, MAX_X_TICKS};
pub use loglog::{LogLogSpec, XySeries, loglog_chart};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::element::ComposedElement;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
pub use table::{Row, Table};
pub use tradeoff::{
    MAX_POINT_LABELS, TradeoffCurve, TradeoffOptions, TradeoffPoint, tradeoff_chart,
    tradeoff_curves, tradeoff_stem,
};

/// Why charts could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// A missing or unreadable input (exit code 2).
    #[error("{}: {message}", path.display())]
    Input {
        /// The input file or directory.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A malformed CSV file (exit code 2).
    #[error("{}:{line}: {message}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// Writing a chart failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The chart file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// Drawing failed (a plotting-library error).
    #[error("cannot draw {}: {message}", path.display())]
    Draw {
        /// The chart file.
        path: PathBuf,
        /// The plotting library's message.
        message: String,
    },
}

impl ChartError {
    /// True for problems with the inputs (as opposed to writing or drawing).
    pub fn is_input(&self) -> bool {
        matches!(self, ChartError::Input { .. } | ChartError::Csv { .. })
    }
}

/// What `electsim chart` may be asked to vary.
#[derive(Clone, Debug, Default)]
pub struct ChartOptions {
    /// The swept numeric key on the x axis of the line charts (`nodes`, `network.loss`, ...);
    /// default: `nodes` if swept, else the first numeric axis.
    pub x: Option<String>,
    /// Draw line charts of this metric only (any `summary.csv` metric, e.g. `split_brain_ms`).
    pub metric: Option<String>,
}

/// What one chart draws: its file stem, the sweep points (`point` ids) it draws, and what it
/// leaves out (also said in its subtitle and on stderr).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coverage {
    /// File stem of the chart (`charts/<stem>.png` and `.svg`).
    pub stem: String,
    /// `point` ids of the sweep points drawn.
    pub points: Vec<String>,
    /// What was left out and why, if anything.
    pub omitted: Option<String>,
}

/// Draw every chart the CSV files in `dir` support into `dir/charts/`; returns the written
/// files (PNG and SVG), sorted.
pub fn chart_dir(dir: &Path) -> Result<Vec<PathBuf>, ChartError> {
    chart_dir_with(dir, &ChartOptions::default())
}

/// The sweep data of `dir` (its `runs.csv` and `summary.csv`).
fn load_dir(dir: &Path) -> Result<SweepData, ChartError> {
    let runs = Table::read(&dir.join("runs.csv"))?;
    let summary = Table::read(&dir.join("summary.csv"))?;
    let mut data = SweepData::new(runs, summary)?;
    let elections = dir.join("elections.csv");
    if elections.is_file() {
        data.elections = Some(Table::read(&elections)?);
    }
    Ok(data)
}

/// Which sweep points each chart of `dir` draws (without drawing): the planner's contract is
/// that every `summary.csv` row appears in some chart, and any chart that leaves points out
/// says so.
pub fn chart_coverage(dir: &Path, opts: &ChartOptions) -> Result<Vec<Coverage>, ChartError> {
    let data = load_dir(dir)?;
    Ok(figures(&data, opts)?
        .into_iter()
        .map(|(stem, f)| Coverage {
            stem,
            points: f.points(),
            omitted: f.omitted(),
        })
        .collect())
}

/// [`chart_dir`] with options (`electsim chart DIR --x KEY --metric NAME`).
pub fn chart_dir_with(dir: &Path, opts: &ChartOptions) -> Result<Vec<PathBuf>, ChartError> {
    if !dir.is_dir() {
        return Err(ChartError::Input {
            path: dir.to_path_buf(),
            message:
                "not a directory (expected a sweep output directory with runs.csv and summary.csv)"
                    .into(),
        });
    }
    chart_dir_into(dir, &dir.join("charts"), opts)
}

/// [`chart_dir_with`] drawing into `out_dir` instead of `dir/charts/` (a staging directory).
pub fn chart_dir_into(
    dir: &Path,
    out_dir: &Path,
    opts: &ChartOptions,
) -> Result<Vec<PathBuf>, ChartError> {
    let data = load_dir(dir)?;
    let figures = figures(&data, opts)?;
    let out_dir = out_dir.to_path_buf();
    std::fs::create_dir_all(&out_dir).map_err(|source| ChartError::Io {
        path: out_dir.clone(),
        source,
    })?;
    let mut written = Vec::new();
    for (stem, fig) in &figures {
        if let Some(o) = fig.omitted() {
            eprintln!("electsim: chart {stem}: {o}");
        }
        written.extend(render(&out_dir, stem, fig.as_ref())?);
    }
    written.sort();
    Ok(written)
}

/// The chart file stems [`chart_dir`] would write for `dir` (without drawing).
pub fn chart_names(dir: &Path) -> Result<Vec<String>, ChartError> {
    let data = load_dir(dir)?;
    let figures = figures(&data, &ChartOptions::default())?;
    Ok(figures.into_iter().map(|(s, _)| s).collect())
}

/// Figures with their file stems, in drawing order.
pub(crate) type Figures = Vec<(String, Box<dyn FigureDyn>)>;

/// Every figure the data supports, with its file stem, in drawing order.
fn figures(data: &SweepData, opts: &ChartOptions) -> Result<Figures, ChartError> {
    let mut figures: Figures = Vec::new();
    line::figures(data, opts, &mut figures)?;
    cdf::figures(data, &mut figures)?;
    cdf::per_election(data, &mut figures)?;
    bars::split_brain(data, &mut figures)?;
    bars::stability(data, &mut figures)?;
    bars::messages_by_kind(data, &mut figures)?;
    fig16::figures(data, &mut figures)?;
    Ok(figures)
}

// ---------------------------------------------------------------------------------------
// The data model: sweep points from summary.csv, their runs from runs.csv.

/// One sweep point.
#[derive(Clone, Debug)]
pub struct Point {
    /// The `point` cell (sweep point index as written).
    pub id: String,
    /// The `algorithm` cell.
    pub algorithm: String,
    /// The `nodes` cell, when it is a number.
    pub nodes: Option<f64>,
    /// `param_*` columns other than algorithm and nodes: (name without `param_`, value).
    pub params: Vec<(String, String)>,
    /// Index of the point's row in `summary.csv`, if it has one.
    pub summary_row: Option<usize>,
    /// Indices of its rows in `runs.csv`.
    pub run_rows: Vec<usize>,
}

impl Point {
    /// The point's name: its `[[variant]]` name in a sweep of variants, else its algorithm.
    pub fn name(&self) -> String {
        match self.value("variant") {
            Some(v) if !v.is_empty() => v,
            _ => self.algorithm.clone(),
        }
    }

    /// Series key: the name plus any non-size parameters that apply to the point.
    pub fn series_label(&self) -> String {
        let rest = self.params_label_except(&["variant"]);
        if rest.is_empty() {
            self.name()
        } else {
            format!("{} {rest}", self.name())
        }
    }

    /// The value of a swept key at this point: `algorithm`, `nodes`, or a parameter named as
    /// in its `param_*` column (`network_loss`) or as in the scenario (`network.loss`).
    pub fn value(&self, key: &str) -> Option<String> {
        let key = param_name(key);
        match key.as_str() {
            "algorithm" => Some(self.algorithm.clone()),
            "nodes" => self.nodes.map(fmt_exact),
            _ => self
                .params
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone()),
        }
    }

    /// `k=v` for every parameter except `skip` and the per-algorithm axes that do not apply
    /// to the point (empty cells): a facet or series label, empty if none.
    pub fn params_label(&self, skip: &str) -> String {
        self.params_label_except(&[skip])
    }

    /// [`Point::params_label`] without any of the keys `skip`.
    pub fn params_label_except(&self, skip: &[&str]) -> String {
        let skip: Vec<String> = skip.iter().map(|k| param_name(k)).collect();
        self.params
            .iter()
            .filter(|(k, v)| !skip.contains(k) && !v.is_empty())
            .map(|(k, v)| format!("{k}={}", short_value(v)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Label of the point itself (series label plus the size).
    pub fn label(&self) -> String {
        match self.nodes {
            Some(n) => format!("{} n={}", self.series_label(), fmt_num(n)),
            None => self.series_label(),
        }
    }
}

/// The CSV files of one sweep directory, grouped by sweep point.
pub struct SweepData {
    /// `runs.csv`: one row per run.
    pub runs: Table,
    /// `summary.csv`: one row per sweep point.
    pub summary: Table,
    /// `elections.csv`, when the sweep wrote one (one row per election).
    pub elections: Option<Table>,
    /// Scenario name (the `scenario` column), for titles.
    pub scenario: String,
    /// Points in `point` order (numeric when the ids are numbers).
    pub points: Vec<Point>,
}

impl SweepData {
    /// Group the rows of `runs` and `summary` by sweep point; a missing required column is
    /// an error.
    pub fn new(runs: Table, summary: Table) -> Result<SweepData, ChartError> {
        let mut points: BTreeMap<(u64, String), Point> = BTreeMap::new();
        for (t, is_summary) in [(&summary, true), (&runs, false)] {
            let c_point = t.require("point")?;
            let c_alg = t.require("algorithm")?;
            let c_nodes = t.require("nodes")?;
            let params: Vec<(usize, String)> = t
                .columns_with_prefix("param_")
                .into_iter()
                .filter(|(_, h)| h != "param_algorithm" && h != "param_nodes")
                .collect();
            for (i, row) in t.rows.iter().enumerate() {
                let id = t.text(row, c_point).to_string();
                let order = id.parse::<u64>().unwrap_or(u64::MAX);
                let nodes = t.num(row, c_nodes)?;
                let p = points.entry((order, id.clone())).or_insert_with(|| Point {
                    id: id.clone(),
                    algorithm: t.text(row, c_alg).to_string(),
                    nodes,
                    params: params
                        .iter()
                        .map(|(c, h)| {
                            (h["param_".len()..].to_string(), t.text(row, *c).to_string())
                        })
                        .collect(),
                    summary_row: None,
                    run_rows: Vec::new(),
                });
                if is_summary {
                    if p.summary_row.is_some() {
                        return Err(ChartError::Csv {
                            path: t.path.clone(),
                            line: row.line,
                            message: format!("sweep point `{id}` appears twice"),
                        });
                    }
                    p.summary_row = Some(i);
                } else {
                    p.run_rows.push(i);
                }
            }
        }
        let scenario = summary
            .col("scenario")
            .and_then(|c| summary.rows.first().map(|r| summary.text(r, c).to_string()))
            .or_else(|| {
                runs.col("scenario")
                    .and_then(|c| runs.rows.first().map(|r| runs.text(r, c).to_string()))
            })
            .unwrap_or_default();
        Ok(SweepData {
            runs,
            summary,
            elections: None,
            scenario,
            points: points.into_values().collect(),
        })
    }

    /// A summary statistic of a point (`<metric>_<stat>`), if present.
    pub fn stat(&self, p: &Point, metric: &str, stat: &str) -> Result<Option<f64>, ChartError> {
        match p.summary_row {
            Some(i) => self
                .summary
                .num_by(&self.summary.rows[i], &format!("{metric}_{stat}")),
            None => Ok(None),
        }
    }

    /// [`SweepData::stat`] by column index (from `summary.col`), for loops over many points:
    /// looking a name up among ~530 headers per cell dominated 100 000-point charts.
    pub fn stat_at(&self, p: &Point, col: Option<usize>) -> Result<Option<f64>, ChartError> {
        match (p.summary_row, col) {
            (Some(i), Some(c)) => self.summary.num(&self.summary.rows[i], c),
            _ => Ok(None),
        }
    }

    /// The values of a runs.csv column over a point's runs (missing cells skipped).
    pub fn run_values(&self, p: &Point, col: &str) -> Result<Vec<f64>, ChartError> {
        let Some(c) = self.runs.col(col) else {
            return Ok(Vec::new());
        };
        let mut v = Vec::new();
        for &i in &p.run_rows {
            if let Some(x) = self.runs.num(&self.runs.rows[i], c)? {
                v.push(x);
            }
        }
        Ok(v)
    }

    /// Series (label, points in order) grouping the points by [`Point::series_label`], with
    /// algorithms in the canonical order.
    pub fn series(&self) -> Vec<(String, Vec<&Point>)> {
        let mut m: BTreeMap<(usize, String), Vec<&Point>> = BTreeMap::new();
        for p in &self.points {
            m.entry((algorithm_rank(&p.algorithm), p.series_label()))
                .or_default()
                .push(p);
        }
        m.into_iter()
            .map(|((_, l), mut ps)| {
                ps.sort_by(|a, b| a.nodes.unwrap_or(0.0).total_cmp(&b.nodes.unwrap_or(0.0)));
                (l, ps)
            })
            .collect()
    }

    /// The swept keys whose values are all numbers and take two or more values, in the order a
    /// line chart prefers them as its x axis: `nodes` first, then the `param_*` columns.
    pub fn numeric_axes(&self) -> Vec<String> {
        let mut keys = Vec::new();
        if self.sizes().len() >= 2 {
            keys.push("nodes".to_string());
        }
        if let Some(p) = self.points.first() {
            for (k, _) in &p.params {
                // Points where a per-algorithm axis does not apply (empty cell) are not on it.
                let vals: Option<Vec<f64>> = self
                    .points
                    .iter()
                    .filter(|q| q.value(k).is_some_and(|v| !v.is_empty()))
                    .map(|q| q.value(k).and_then(|v| axis_number(&v)))
                    .collect();
                if let Some(mut v) = vals {
                    v.sort_by(f64::total_cmp);
                    v.dedup();
                    if v.len() >= 2 {
                        keys.push(k.clone());
                    }
                }
            }
        }
        keys
    }

    /// The distinct parameter labels (everything but algorithm and size), in point order:
    /// the facets of a chart whose x axis is the algorithm and whose bars are the sizes.
    pub fn facets(&self) -> Vec<String> {
        // A set beside the list: a 100 000-point sweep can have as many facets, and a linear
        // `contains` made this quadratic.
        let mut seen = std::collections::BTreeSet::new();
        let mut v: Vec<String> = Vec::new();
        for p in &self.points {
            let l = p.params_label("");
            if seen.insert(l.clone()) {
                v.push(l);
            }
        }
        v
    }

    /// Distinct cluster sizes, ascending.
    pub fn sizes(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self.points.iter().filter_map(|p| p.nodes).collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        v
    }

    /// Algorithms in canonical order.
    pub fn algorithms(&self) -> Vec<String> {
        let mut v: Vec<String> = self.points.iter().map(|p| p.algorithm.clone()).collect();
        v.sort_by(|a, b| algorithm_rank(a).cmp(&algorithm_rank(b)).then(a.cmp(b)));
        v.dedup();
        v
    }

    /// Title suffix naming the scenario.
    pub fn scenario_suffix(&self) -> String {
        if self.scenario.is_empty() {
            String::new()
        } else {
            format!(" — {}", self.scenario)
        }
    }
}

/// Canonical algorithm order (the README's).
pub const ALGORITHMS: [&str; 7] = [
    "bully",
    "ring",
    "raft",
    "raft-rs",
    "zookeeper",
    "etcd",
    "k8s",
];

pub(crate) fn algorithm_rank(a: &str) -> usize {
    ALGORITHMS
        .iter()
        .position(|x| *x == a)
        .unwrap_or(ALGORITHMS.len())
}

/// Okabe–Ito colour-blind-safe palette, ordered for contrast on white (yellow last).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
    RGBColor(240, 228, 66),  // yellow
];

/// Fixed colour per algorithm, so a reader learns them once across all charts.
pub fn algorithm_color(a: &str, fallback: usize) -> RGBColor {
    match a {
        "bully" => PALETTE[1],
        // Black, not orange: orange sat too close to Bully's vermillion.
        "ring" => PALETTE[6],
        "raft" => PALETTE[0],
        "zookeeper" => PALETTE[2],
        "etcd" => PALETTE[3],
        "k8s" => PALETTE[5],
        "raft-rs" => PALETTE[4],
        _ => PALETTE[fallback % PALETTE.len()],
    }
}

/// A parameter value for a legend: timeout ranges compacted ("150-300ms"), never truncated
/// (a truncated value can make two series read the same).
pub fn short_value(v: &str) -> String {
    if let Some((lo, hi)) = fig16::timeout_range(v) {
        return format!("{}-{}ms", fmt_num(lo), fmt_num(hi));
    }
    v.trim().to_string()
}

/// A swept key as its `param_*` column names it: `network.loss` -> `network_loss`.
pub fn param_name(key: &str) -> String {
    key.trim()
        .trim_start_matches("param_")
        .replace(['.', '-'], "_")
}

/// A number in full (no `k`/`M` suffix, no rounding beyond float noise): 65 -> "65",
/// 0.05 -> "0.05".
pub fn fmt_exact(v: f64) -> String {
    let s = format!("{:.6}", v);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A sequential blue ramp for `k` ordered values (cluster sizes): light to dark, distinct
/// from the algorithm colours, so a size reads as "more" rather than as another algorithm.
pub fn ramp_color(i: usize, k: usize) -> RGBColor {
    let (lo, hi) = ((158.0, 202.0, 225.0), (8.0, 48.0, 107.0));
    let f = if k <= 1 {
        1.0
    } else {
        i as f64 / (k - 1) as f64
    };
    let mix = |a: f64, b: f64| (a + (b - a) * f).round() as u8;
    RGBColor(mix(lo.0, hi.0), mix(lo.1, hi.1), mix(lo.2, hi.2))
}

// ---------------------------------------------------------------------------------------
// Number formatting and axes.

/// Compact fixed formatting: 1500 -> "1.5k", 20000 -> "20k", 0.25 -> "0.25", 3 -> "3".
pub fn fmt_num(v: f64) -> String {
    let a = v.abs();
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if a >= 1e6 {
        format!("{}M", trim(format!("{:.2}", v / 1e6)))
    } else if a >= 1e3 {
        format!("{}k", trim(format!("{:.2}", v / 1e3)))
    } else if a >= 100.0 || a == 0.0 {
        trim(format!("{v:.0}"))
    } else if a >= 1.0 {
        trim(format!("{v:.2}"))
    } else {
        trim(format!("{v:.3}"))
    }
}

/// A value axis: linear or log10, with its range and tick positions (in data units).
#[derive(Clone, Debug)]
pub struct Axis {
    /// Log10 scale instead of linear.
    pub log: bool,
    /// Lower end of the range, in data units.
    pub lo: f64,
    /// Upper end of the range, in data units.
    pub hi: f64,
    /// Tick positions, in data units.
    pub ticks: Vec<f64>,
    /// Tick label override: `%` multiplies by 100 and appends "%".
    pub percent: bool,
    /// Category names: when non-empty, tick `i` is labelled `names[i]`.
    pub names: Vec<String>,
}

impl Axis {
    /// Linear axis over `[lo, hi]` with "nice" ticks.
    pub fn linear(lo: f64, hi: f64) -> Axis {
        let (lo, hi) = if hi > lo { (lo, hi) } else { (lo, lo + 1.0) };
        let raw = (hi - lo) / 5.0;
        let mag = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 2.5, 5.0, 10.0]
            .iter()
            .map(|m| m * mag)
            .find(|s| *s >= raw)
            .unwrap_or(10.0 * mag);
        let mut ticks = Vec::new();
        let mut k = (lo / step).ceil();
        while k * step <= hi + step * 1e-9 {
            ticks.push(k * step);
            k += 1.0;
        }
        Axis {
            log: false,
            lo,
            hi,
            ticks,
            percent: false,
            names: Vec::new(),
        }
    }

    /// Log axis over `[lo, hi]` (both > 0): ticks at decades, plus 2 and 5 when it spans
    /// fewer than three decades.
    pub fn log(lo: f64, hi: f64) -> Axis {
        let (lo, hi) = if hi > lo { (lo, hi) } else { (lo, lo * 10.0) };
        let decades = (hi / lo).log10();
        let mults: &[f64] = if decades < 3.0 {
            &[1.0, 2.0, 5.0]
        } else {
            &[1.0]
        };
        let mut ticks = Vec::new();
        let mut d = lo.log10().floor() as i32;
        while 10f64.powi(d) <= hi {
            for m in mults {
                let t = m * 10f64.powi(d);
                if t >= lo * (1.0 - 1e-9) && t <= hi * (1.0 + 1e-9) {
                    ticks.push(t);
                }
            }
            d += 1;
        }
        Axis {
            log: true,
            lo,
            hi,
            ticks,
            percent: false,
            names: Vec::new(),
        }
    }

    /// An axis fitted to data: log when all values are positive and span more than
    /// `log_ratio` (max/min), else linear from `min(0, lo)` with 8% headroom.
    pub fn fit(values: &[f64], log_ratio: f64) -> Axis {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if finite.is_empty() {
            return Axis::linear(0.0, 1.0);
        }
        if lo > 0.0 && hi / lo > log_ratio {
            return Axis::log(lo / 1.25, hi * 1.25);
        }
        let lo0 = lo.min(0.0);
        let span = if hi > lo0 { hi - lo0 } else { 1.0 };
        Axis::linear(lo0, hi + span * 0.08)
    }

    /// Data value -> drawing coordinate.
    pub fn t(&self, v: f64) -> f64 {
        if self.log {
            v.max(self.lo * 1e-3).log10()
        } else {
            v
        }
    }

    /// The plotters coordinate (drawing coordinates) with our ticks as key points.
    pub fn range(&self) -> Scale {
        Scale {
            lo: self.t(self.lo),
            hi: self.t(self.hi),
            ticks: self.ticks.iter().map(|v| self.t(*v)).collect(),
        }
    }

    /// A categorical axis: categories `0..names.len()` centred at `i + 0.5`.
    pub fn categories(names: Vec<String>) -> Axis {
        let ticks = (0..names.len()).map(|i| i as f64 + 0.5).collect();
        Axis {
            log: false,
            lo: 0.0,
            hi: names.len().max(1) as f64,
            ticks,
            percent: false,
            names,
        }
    }

    /// Label of a tick given in drawing coordinates.
    pub fn label(&self, c: f64) -> String {
        if !self.names.is_empty() {
            let i = self
                .ticks
                .iter()
                .position(|t| (self.t(*t) - c).abs() < 1e-6)
                .unwrap_or(usize::MAX);
            return self.names.get(i).cloned().unwrap_or_default();
        }
        let v = if self.log { 10f64.powf(c) } else { c };
        // Snap to the nearest tick to undo float noise.
        let v = self
            .ticks
            .iter()
            .copied()
            .find(|t| (t - v).abs() <= 1e-6 * t.abs().max(1e-12))
            .unwrap_or(v);
        if self.percent {
            format!("{}%", fmt_num(v * 100.0))
        } else {
            fmt_num(v)
        }
    }
}

// ---------------------------------------------------------------------------------------
// Drawing infrastructure.

/// A linear coordinate over drawing units whose mesh lines and labels sit exactly at the
/// given ticks (plotters' own f64 ranges choose their own ticks).
#[derive(Clone, Debug)]
pub struct Scale {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ranged for Scale {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let len = f64::from(limit.1 - limit.0);
        if self.hi == self.lo {
            return limit.0 + (len / 2.0) as i32;
        }
        let f = (v - self.lo) / (self.hi - self.lo);
        limit.0 + (len * f + 1e-3).floor() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

pub(crate) type Chart2d<'a, DB> = ChartContext<'a, DB, Cartesian2d<Scale, Scale>>;

/// A figure that can be drawn on any plotters backend.
pub(crate) trait Figure {
    fn size(&self) -> (u32, u32);
    /// The sweep points (`point` ids) this figure draws.
    fn points(&self) -> Vec<String> {
        Vec::new()
    }
    /// What this figure leaves out, if anything (also in its subtitle).
    fn omitted(&self) -> Option<String> {
        None
    }
    fn draw<'d, DB: DrawingBackend + 'd>(
        &self,
        root: &'d DrawingArea<DB, Shift>,
    ) -> Result<(), String>;
}

/// Object-safe wrapper: one method per backend we use.
pub(crate) trait FigureDyn {
    fn size(&self) -> (u32, u32);
    fn points(&self) -> Vec<String>;
    fn omitted(&self) -> Option<String>;
    fn draw_bitmap(&self, root: &DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), String>;
    fn draw_svg(&self, root: &DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), String>;
}

impl<F: Figure> FigureDyn for F {
    fn size(&self) -> (u32, u32) {
        Figure::size(self)
    }
    fn points(&self) -> Vec<String> {
        Figure::points(self)
    }
    fn omitted(&self) -> Option<String> {
        Figure::omitted(self)
    }
    fn draw_bitmap(&self, root: &DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), String> {
        self.draw(root)
    }
    fn draw_svg(&self, root: &DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), String> {
        self.draw(root)
    }
}

/// Map any plotters error to text.
pub(crate) fn de<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Draw `fig` to `dir/stem.png` and `dir/stem.svg`.
pub(crate) fn render(
    dir: &Path,
    stem: &str,
    fig: &dyn FigureDyn,
) -> Result<Vec<PathBuf>, ChartError> {
    let png_path = dir.join(format!("{stem}.png"));
    let svg_path = dir.join(format!("{stem}.svg"));
    let draw_err = |path: &Path| {
        let path = path.to_path_buf();
        move |message: String| ChartError::Draw { path, message }
    };
    font::ensure_registered().map_err(draw_err(&png_path))?;
    let (w, h) = fig.size();
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(de).map_err(draw_err(&png_path))?;
        fig.draw_bitmap(&root).map_err(draw_err(&png_path))?;
        root.present().map_err(de).map_err(draw_err(&png_path))?;
    }
    let png = font::encode_png(&rgb, w, h).map_err(draw_err(&png_path))?;
    write_atomic(&png_path, &png).map_err(|source| ChartError::Io {
        path: png_path.clone(),
        source,
    })?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(de).map_err(draw_err(&svg_path))?;
        fig.draw_svg(&root).map_err(draw_err(&svg_path))?;
        root.present().map_err(de).map_err(draw_err(&svg_path))?;
    }
    let svg = crate::outputs::mark_svg(svg);
    write_atomic(&svg_path, svg.as_bytes()).map_err(|source| ChartError::Io {
        path: svg_path.clone(),
        source,
    })?;
    Ok(vec![png_path, svg_path])
}

/// Draw a title and a smaller subtitle, returning the area below them.
pub(crate) fn titled<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> Result<DrawingArea<DB, Shift>, String> {
    let (w, _) = area.dim_in_pixel();
    let has_sub = !subtitle.is_empty();
    let top = if has_sub { 62 } else { 40 };
    let (head, body) = area.split_vertically(top);
    let center = |size: i32| (w as i32 / 2, size);
    let title_style = TextStyle::from((font::FAMILY, 22, FontStyle::Bold).into_font())
        .color(&BLACK)
        .pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Center,
            plotters::style::text_anchor::VPos::Top,
        ));
    head.draw_text(title, &title_style, center(8)).map_err(de)?;
    if has_sub {
        let sub_style = TextStyle::from((font::FAMILY, 15).into_font())
            .color(&RGBColor(70, 70, 70))
            .pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Center,
                plotters::style::text_anchor::VPos::Top,
            ));
        head.draw_text(subtitle, &sub_style, center(37))
            .map_err(de)?;
    }
    Ok(body)
}

/// A swept value as a position on a numeric axis: a number as written, or a duration
/// (`"5s"`, `"150ms"`) in milliseconds.
pub(crate) fn axis_number(v: &str) -> Option<f64> {
    let v = v.trim();
    v.parse::<f64>().ok().or_else(|| {
        crate::sim::SimDuration::parse(v)
            .ok()
            .map(|d| d.as_ms_f64())
    })
}

/// Build a chart with our standard look on `area`.
pub(crate) fn xy_chart<'a, DB: DrawingBackend + 'a>(
    area: &'a DrawingArea<DB, Shift>,
    x: &Axis,
    y: &Axis,
    x_desc: &str,
    y_desc: &str,
) -> Result<Chart2d<'a, DB>, String> {
    let mut chart = ChartBuilder::on(area)
        .margin_left(10)
        .margin_right(25)
        .margin_top(8)
        .margin_bottom(8)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(x.range(), y.range())
        .map_err(de)?;
    let xl = |c: &f64| x.label(*c);
    let yl = |c: &f64| y.label(*c);
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&xl)
        .y_label_formatter(&yl)
        .label_style((font::FAMILY, 15))
        .axis_desc_style((font::FAMILY, 17))
        .bold_line_style(RGBColor(225, 225, 225))
        .light_line_style(TRANSPARENT)
        .axis_style(RGBColor(90, 90, 90))
        .draw()
        .map_err(de)?;
    Ok(chart)
}

/// Marker outline (pixel offsets) for marker kind `kind`, cycled per series so lines differ
/// by more than colour: circle, triangle, square, diamond.
pub(crate) fn marker_shape(kind: usize) -> Vec<(i32, i32)> {
    match kind % 4 {
        0 => (0..12)
            .map(|i| {
                let a = f64::from(i) * std::f64::consts::PI / 6.0;
                (
                    (5.0 * a.cos()).round() as i32,
                    (5.0 * a.sin()).round() as i32,
                )
            })
            .collect(),
        1 => vec![(0, -6), (6, 4), (-6, 4)],
        2 => vec![(-4, -4), (4, -4), (4, 4), (-4, 4)],
        _ => vec![(0, -6), (6, 0), (0, 6), (-6, 0)],
    }
}

/// A marker at a data point.
pub(crate) fn marker<DB: DrawingBackend>(
    kind: usize,
    at: (f64, f64),
    color: RGBColor,
) -> MarkerElement<DB> {
    // (An empty path first: `EmptyElement + a + b` has a nameable type, `EmptyElement + a` has not.)
    EmptyElement::at(at)
        + PathElement::new(vec![], color.stroke_width(1))
        + Polygon::new(marker_shape(kind), color.filled())
}

/// A series' polyline (solid or dashed, 2 px) and, with `marker_kind`, a marker at every
/// point: how the line, trade-off and log-log charts draw each series.
pub(crate) fn draw_polyline<DB: DrawingBackend>(
    chart: &mut Chart2d<'_, DB>,
    pts: &[(f64, f64)],
    color: RGBColor,
    dashed: bool,
    marker_kind: Option<usize>,
) -> Result<(), String> {
    let style = color.stroke_width(2);
    if dashed {
        chart
            .draw_series(DashedLineSeries::new(pts.to_vec(), 8, 5, style))
            .map_err(de)?;
    } else {
        chart
            .draw_series(LineSeries::new(pts.to_vec(), style))
            .map_err(de)?;
    }
    if let Some(kind) = marker_kind {
        chart
            .draw_series(pts.iter().map(|p| marker(kind, *p, color)))
            .map_err(de)?;
    }
    Ok(())
}

/// A marker drawn at a data point, in pixel offsets.
pub(crate) type MarkerElement<DB> =
    ComposedElement<(f64, f64), DB, PathElement<(i32, i32)>, Polygon<(i32, i32)>>;
