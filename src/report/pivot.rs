//! `electsim summary DIR`: `summary.csv` as a table to read in a terminal — one row per
//! sweep point (labelled by variant or algorithm, parameters and size), one column per
//! metric, each cell the mean over runs with its 95% confidence interval. Reads
//! `DIR/summary.csv` only and writes nothing.

use crate::report::charts::{Point, SweepData, Table};
use crate::report::compare::{CompareError, check_pair, pair, same, short};
use std::fmt::Write as _;
use std::path::Path;

/// The metrics shown by default (those `summary.csv` has).
pub const DEFAULT_METRICS: &[&str] = &[
    "elections",
    "failover_ms_mean",
    "election_messages",
    "split_brain_ms",
    "availability",
];

/// How `summary` prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum PivotFormat {
    /// Aligned columns, `mean [lo, hi]` per cell.
    #[default]
    Table,
    /// `point,label` then `M_mean,M_ci95_lo,M_ci95_hi` per metric, full precision.
    Csv,
    /// A Markdown table, `mean [lo, hi]` per cell.
    Md,
}

/// The pivot of `dir/summary.csv`: the points `wheres` keep, the `metrics` (default
/// [`DEFAULT_METRICS`]) as columns.
pub fn pivot(
    dir: &Path,
    metrics: &[String],
    wheres: &[String],
    format: PivotFormat,
) -> Result<String, CompareError> {
    let summary = Table::read(&dir.join("summary.csv"))?;
    let empty = Table {
        path: dir.join("runs.csv"),
        headers: summary.headers.clone(),
        rows: Vec::new(),
    };
    let data = SweepData::new(empty, summary)?;
    let t = &data.summary;
    let metrics: Vec<String> = if metrics.is_empty() {
        DEFAULT_METRICS
            .iter()
            .filter(|m| t.col(&format!("{m}_mean")).is_some())
            .map(|m| m.to_string())
            .collect()
    } else {
        for m in metrics {
            if t.col(&format!("{m}_mean")).is_none() {
                let known: Vec<&str> = t
                    .headers
                    .iter()
                    .filter_map(|h| h.strip_suffix("_mean"))
                    .collect();
                return Err(CompareError::Input(format!(
                    "--metric {m}: {} has no column `{m}_mean`; metrics: {}",
                    t.path.display(),
                    known.join(", ")
                )));
            }
        }
        metrics.to_vec()
    };
    let keys = super::compare::swept_keys(&data);
    let variants = keys.iter().any(|k| k == "variant");
    let filters: Vec<(String, String)> = wheres
        .iter()
        .map(|w| pair("--where", w, variants))
        .collect::<Result<_, _>>()?;
    for f in &filters {
        check_pair(&data, &keys, "--where", f)?;
    }
    let kept: Vec<&Point> = data
        .points
        .iter()
        .filter(|p| p.summary_row.is_some())
        .filter(|p| {
            filters
                .iter()
                .all(|(k, v)| p.value(k).is_some_and(|x| same(&x, v)))
        })
        .collect();
    // Per point and metric: (mean, ci95_lo, ci95_hi).
    let mut cells: Vec<Vec<[Option<f64>; 3]>> = Vec::new();
    for p in &kept {
        let row = &t.rows[p.summary_row.expect("kept")];
        let mut v = Vec::new();
        for m in &metrics {
            let get = |s: &str| t.num_by(row, &format!("{m}_{s}"));
            v.push([get("mean")?, get("ci95_lo")?, get("ci95_hi")?]);
        }
        cells.push(v);
    }
    let labels: Vec<String> = kept.iter().map(|p| p.label()).collect();
    Ok(match format {
        PivotFormat::Csv => csv(&kept, &labels, &metrics, &cells),
        PivotFormat::Table | PivotFormat::Md => {
            let rows: Vec<Vec<String>> = kept
                .iter()
                .zip(&labels)
                .zip(&cells)
                .map(|((p, l), c)| {
                    std::iter::once(format!("{l} ({})", p.id))
                        .chain(c.iter().map(cell))
                        .collect()
                })
                .collect();
            let head: Vec<String> = std::iter::once("point".to_string())
                .chain(metrics.iter().cloned())
                .collect();
            if format == PivotFormat::Md {
                markdown(&head, &rows)
            } else {
                aligned(&head, &rows)
            }
        }
    })
}

/// `mean [lo, hi]`, `mean` alone without an interval, `—` without a value.
fn cell(c: &[Option<f64>; 3]) -> String {
    match c {
        [Some(m), Some(l), Some(h)] => format!("{} [{}, {}]", short(*m), short(*l), short(*h)),
        [Some(m), _, _] => short(*m),
        _ => "—".into(),
    }
}

fn csv(
    points: &[&Point],
    labels: &[String],
    metrics: &[String],
    cells: &[Vec<[Option<f64>; 3]>],
) -> String {
    let mut s = String::from("point,label");
    for m in metrics {
        let _ = write!(s, ",{m}_mean,{m}_ci95_lo,{m}_ci95_hi");
    }
    s.push('\n');
    let num = |v: Option<f64>| v.map_or_else(String::new, crate::report::charts::fmt_exact);
    for ((p, l), c) in points.iter().zip(labels).zip(cells) {
        let label = if l.contains([',', '"']) {
            format!("\"{}\"", l.replace('"', "\"\""))
        } else {
            l.clone()
        };
        let _ = write!(s, "{},{label}", p.id);
        for [m, lo, hi] in c {
            let _ = write!(s, ",{},{},{}", num(*m), num(*lo), num(*hi));
        }
        s.push('\n');
    }
    s
}

fn markdown(head: &[String], rows: &[Vec<String>]) -> String {
    let mut s = format!("| {} |\n|{}\n", head.join(" | "), "---|".repeat(head.len()));
    for r in rows {
        let _ = writeln!(s, "| {} |", r.join(" | "));
    }
    s
}

fn aligned(head: &[String], rows: &[Vec<String>]) -> String {
    let mut w: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (k, c) in r.iter().enumerate() {
            w[k] = w[k].max(c.chars().count());
        }
    }
    let line = |r: &[String]| {
        let mut s = String::new();
        for (k, c) in r.iter().enumerate() {
            s.push_str(c);
            if k + 1 < r.len() {
                s.push_str(&" ".repeat(w[k] - c.chars().count() + 2));
            }
        }
        s.push('\n');
        s
    };
    let mut s = String::from("mean over runs [95% CI of the mean]\n");
    s.push_str(&line(head));
    for r in rows {
        s.push_str(&line(r));
    }
    s
}
