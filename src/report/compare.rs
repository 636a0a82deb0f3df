//! `electsim compare DIR --baseline KEY=VALUE`: paired differences between sweep points.
//!
//! Replication `r` of every sweep point runs with the same seed, so two points differ only in
//! their parameters, not in their faults or network draws. The baseline is one or more
//! `KEY=VALUE` pairs, or a variant name (`variant=NAME`). For each point (among those the
//! `--where KEY=VALUE` filters keep) that is not a baseline point, its partner is the baseline
//! point with every other swept key equal; per metric, the difference `point − partner` is
//! taken run by run (same replication, same seed) and summarised as a mean with a 95%
//! Student-t confidence interval. Values are compared as values: `0.05` = `5e-2`, and a table
//! in any key order. Reads `DIR/runs.csv` only; writes `DIR/compare-<KEY>-<VALUE>.csv` and
//! `.md` and returns a terminal table.

use crate::report::charts::{ChartError, Point, SweepData, Table, fmt_exact, param_name};
use crate::sweep::summary::t975;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The metrics compared by default (those `runs.csv` has).
pub const DEFAULT_METRICS: &[&str] = &[
    "elections",
    "election_ms_mean",
    "failover_ms_mean",
    "election_messages",
    "messages_sent",
    "split_brain_incidents",
    "split_brain_ms",
    "leader_changes",
    "unnecessary_elections",
    "availability",
];

/// Why a comparison could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// Bad input: a missing or malformed runs.csv, an unknown key, value or metric, unpaired
    /// seeds (exit code 2).
    #[error("{0}")]
    Input(String),
    /// Writing the output failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The output file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
}

impl From<ChartError> for CompareError {
    fn from(e: ChartError) -> Self {
        CompareError::Input(e.to_string())
    }
}

/// One paired difference: a point against its baseline partner, for one metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Diff {
    /// `point` id of the compared point.
    pub point: String,
    /// The point's label (algorithm, parameters, size), for people.
    pub label: String,
    /// `point` id of its baseline partner.
    pub baseline_point: String,
    /// The `runs.csv` metric column compared.
    pub metric: String,
    /// Replications where both runs have a value.
    pub pairs: usize,
    /// Mean of the metric over the paired runs of the baseline.
    pub baseline_mean: Option<f64>,
    /// Mean of the metric over the paired runs of the point.
    pub point_mean: Option<f64>,
    /// Mean of the per-replication differences `point − baseline`.
    pub diff_mean: Option<f64>,
    /// Sample standard deviation of those differences (needs two pairs).
    pub diff_sd: Option<f64>,
    /// Lower bound of the 95% Student-t interval of `diff_mean`.
    pub ci95_lo: Option<f64>,
    /// Upper bound of the 95% Student-t interval of `diff_mean`.
    pub ci95_hi: Option<f64>,
}

impl Diff {
    /// The interval excludes zero.
    pub fn significant(&self) -> bool {
        matches!((self.ci95_lo, self.ci95_hi), (Some(l), Some(h)) if l > 0.0 || h < 0.0)
    }
}

/// What `compare` wrote and the table to print.
pub struct Comparison {
    /// Every paired difference, in output order.
    pub diffs: Vec<Diff>,
    /// The CSV and Markdown files written.
    pub files: Vec<PathBuf>,
    /// The terminal table.
    pub table: String,
}

/// Mean, sample sd and 95% t interval of paired differences (sd and interval need two).
pub fn paired_stats(d: &[f64]) -> (Option<f64>, Option<f64>, Option<(f64, f64)>) {
    if d.is_empty() {
        return (None, None, None);
    }
    let n = d.len() as f64;
    let mean = d.iter().sum::<f64>() / n;
    if d.len() < 2 {
        return (Some(mean), None, None);
    }
    let sd = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let half = t975(d.len() as u64 - 1) * sd / n.sqrt();
    (Some(mean), Some(sd), Some((mean - half, mean + half)))
}

/// A `KEY=VALUE` of `--baseline` or `--where`, the key in its `param_*` form.
pub(crate) fn pair(
    flag: &str,
    text: &str,
    variants: bool,
) -> Result<(String, String), CompareError> {
    match text.split_once('=') {
        Some((k, v)) => Ok((param_name(k), v.trim().to_string())),
        None if variants && flag == "--baseline" => Ok(("variant".into(), text.trim().into())),
        None => Err(CompareError::Input(format!(
            "{flag} {text}: expected KEY=VALUE, e.g. {flag} raft.pre_vote=false{}",
            if flag == "--baseline" {
                " (or a variant name, in a sweep of [[variant]]s)"
            } else {
                ""
            }
        ))),
    }
}

/// Check that `key` is swept and some point has `value`.
pub(crate) fn check_pair(
    data: &SweepData,
    keys: &[String],
    flag: &str,
    (key, value): &(String, String),
) -> Result<(), CompareError> {
    if !keys.contains(key) {
        return Err(CompareError::Input(format!(
            "{flag} {key}={value}: `{key}` is not a swept key of {}; swept: {}",
            data.runs.path.display(),
            keys.join(", ")
        )));
    }
    if !data
        .points
        .iter()
        .any(|p| p.value(key).is_some_and(|v| same(&v, value)))
    {
        let mut vals: Vec<String> = data.points.iter().filter_map(|p| p.value(key)).collect();
        vals.sort();
        vals.dedup();
        return Err(CompareError::Input(format!(
            "{flag} {key}={value}: no point has {key} = {value}; its values: {}",
            vals.join(", ")
        )));
    }
    Ok(())
}

/// Compare every point of `dir` kept by `wheres` against its partner among the `baselines`
/// points; `metrics` empty means [`DEFAULT_METRICS`].
pub fn compare_dir(
    dir: &Path,
    baselines: &[String],
    wheres: &[String],
    metrics: &[String],
) -> Result<Comparison, CompareError> {
    let runs = Table::read(&dir.join("runs.csv"))?;
    let empty = Table {
        path: dir.join("summary.csv"),
        headers: runs.headers.clone(),
        rows: Vec::new(),
    };
    let data = SweepData::new(runs, empty)?;
    let runs = &data.runs;
    let keys = swept_keys(&data);
    let variants = keys.iter().any(|k| k == "variant");
    if baselines.is_empty() {
        return Err(CompareError::Input(
            "--baseline: give at least one KEY=VALUE (or a variant name)".into(),
        ));
    }
    let base: Vec<(String, String)> = baselines
        .iter()
        .map(|b| pair("--baseline", b, variants))
        .collect::<Result<_, _>>()?;
    let filters: Vec<(String, String)> = wheres
        .iter()
        .map(|w| pair("--where", w, variants))
        .collect::<Result<_, _>>()?;
    for p in &base {
        check_pair(&data, &keys, "--baseline", p)?;
    }
    for p in &filters {
        check_pair(&data, &keys, "--where", p)?;
    }
    let matches = |p: &Point, pairs: &[(String, String)]| {
        pairs
            .iter()
            .all(|(k, v)| p.value(k).is_some_and(|x| same(&x, v)))
    };
    let kept: Vec<&Point> = data
        .points
        .iter()
        .filter(|p| matches(p, &filters))
        .collect();
    let is_base = |p: &Point| matches(p, &base);
    if !kept.iter().any(|p| is_base(p)) {
        return Err(CompareError::Input(format!(
            "--baseline {}: no point kept by --where {} is a baseline point",
            baselines.join(" --baseline "),
            wheres.join(" --where ")
        )));
    }
    let metrics: Vec<String> = if metrics.is_empty() {
        DEFAULT_METRICS
            .iter()
            .filter(|m| runs.col(m).is_some())
            .map(|m| m.to_string())
            .collect()
    } else {
        for m in metrics {
            if runs.col(m).is_none() {
                return Err(CompareError::Input(format!(
                    "--metric {m}: no such column in {}; e.g. {}",
                    runs.path.display(),
                    DEFAULT_METRICS.join(", ")
                )));
            }
        }
        metrics.to_vec()
    };
    let c_rep = runs.col("replication").ok_or_else(|| {
        CompareError::Input(format!("{}: no `replication` column", runs.path.display()))
    })?;
    let c_seed = runs.col("seed");
    // A variant fixes the algorithm: pairing variants ignores the algorithm column.
    let others: Vec<&String> = keys
        .iter()
        .filter(|k| !base.iter().any(|(b, _)| b == *k))
        .filter(|k| !(*k == "algorithm" && base.iter().any(|(b, _)| b == "variant")))
        .collect();
    let mut diffs = Vec::new();
    for p in kept.iter().filter(|p| !is_base(p)) {
        let partner = kept
            .iter()
            .find(|b| is_base(b) && others.iter().all(|k| b.value(k) == p.value(k)));
        let Some(b) = partner else { continue };
        // Runs by replication, with their seeds checked.
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        for &i in &p.run_rows {
            let r = runs.text(&runs.rows[i], c_rep);
            let Some(&j) = b
                .run_rows
                .iter()
                .find(|&&j| runs.text(&runs.rows[j], c_rep) == r)
            else {
                continue;
            };
            if let Some(cs) = c_seed {
                let (s1, s2) = (runs.text(&runs.rows[i], cs), runs.text(&runs.rows[j], cs));
                if s1 != s2 {
                    return Err(CompareError::Input(format!(
                        "{}:{}: replication {r} of point {} has seed {s1}, but of point {} (line {}) seed {s2}: compare needs paired seeds (one sweep, same replications)",
                        runs.path.display(),
                        runs.rows[i].line,
                        p.id,
                        b.id,
                        runs.rows[j].line
                    )));
                }
            }
            pairs.push((i, j));
        }
        for m in &metrics {
            let c = runs.col(m).expect("checked");
            let (mut d, mut xs, mut ys) = (Vec::new(), Vec::new(), Vec::new());
            for &(i, j) in &pairs {
                if let (Some(x), Some(y)) =
                    (runs.num(&runs.rows[i], c)?, runs.num(&runs.rows[j], c)?)
                {
                    d.push(x - y);
                    xs.push(x);
                    ys.push(y);
                }
            }
            let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
            let (dm, sd, ci) = paired_stats(&d);
            diffs.push(Diff {
                point: p.id.clone(),
                label: p.label(),
                baseline_point: b.id.clone(),
                metric: m.clone(),
                pairs: d.len(),
                baseline_mean: mean(&ys),
                point_mean: mean(&xs),
                diff_mean: dm,
                diff_sd: sd,
                ci95_lo: ci.map(|c| c.0),
                ci95_hi: ci.map(|c| c.1),
            });
        }
    }
    if diffs.is_empty() {
        return Err(CompareError::Input(format!(
            "--baseline {}: no point has a partner (same values of {}) to compare with",
            baselines.join(" --baseline "),
            others
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let stem = file_stem(&base, &filters);
    let csv_path = dir.join(format!("{stem}.csv"));
    let md_path = dir.join(format!("{stem}.md"));
    let text = |pairs: &[(String, String)]| {
        pairs
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut title = text(&base);
    if !filters.is_empty() {
        title.push_str(&format!(" (where {})", text(&filters)));
    }
    let name = |p: &Path| {
        p.file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    };
    let (csv_name, md_name) = (name(&csv_path), name(&md_path));
    let (csv, md) = (to_csv(&title, &diffs), to_markdown(&title, &diffs));
    crate::outputs::write_set(
        dir,
        &stem,
        &[(&csv_name, csv.as_bytes()), (&md_name, md.as_bytes())],
    )
    .map_err(|e| match e {
        crate::outputs::SetError::Foreign(_) => CompareError::Input(e.to_string()),
        crate::outputs::SetError::Io(path, source) => CompareError::Io { path, source },
    })?;
    Ok(Comparison {
        table: to_table(&title, &diffs),
        diffs,
        files: vec![csv_path, md_path],
    })
}

/// Swept keys: algorithm, nodes (when present) and every parameter.
pub(crate) fn swept_keys(data: &SweepData) -> Vec<String> {
    let mut keys = vec!["algorithm".to_string()];
    if data.points.iter().any(|p| p.nodes.is_some()) {
        keys.push("nodes".into());
    }
    if let Some(p) = data.points.first() {
        keys.extend(p.params.iter().map(|(k, _)| k.clone()));
    }
    keys
}

/// Same value: equal as numbers, else as TOML values (a table in any key order), else as
/// text ignoring spaces.
pub(crate) fn same(a: &str, b: &str) -> bool {
    use crate::scenario::parse_value;
    match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => {
            parse_value(a.trim()) == parse_value(b.trim())
                || a.replace(' ', "") == b.replace(' ', "")
        }
    }
}

/// `compare-KEY-VALUE[-KEY-VALUE...][-where-KEY-VALUE...]`: each value as its words
/// (`{ check_quorum = false }` -> `check_quorum_false`), so the name reads as the command.
pub fn file_stem(base: &[(String, String)], filters: &[(String, String)]) -> String {
    let word = |s: &str| {
        let mut out = String::new();
        for c in s.chars() {
            if c.is_ascii_alphanumeric() || "._+-".contains(c) {
                out.push(c);
            } else if !out.ends_with('_') {
                out.push('_');
            }
        }
        out.trim_matches('_').to_string()
    };
    let pairs = |ps: &[(String, String)]| {
        ps.iter()
            .map(|(k, v)| format!("{}-{}", word(k), word(v)))
            .collect::<Vec<_>>()
            .join("-")
    };
    let mut stem = format!("compare-{}", pairs(base));
    if !filters.is_empty() {
        stem.push_str(&format!("-where-{}", pairs(filters)));
    }
    stem
}

fn cell(v: Option<f64>) -> String {
    v.map(|x| {
        let s = format!("{x:.6}");
        let s = s.trim_end_matches('0').trim_end_matches('.').to_string();
        if s == "-0" { "0".to_string() } else { s }
    })
    .unwrap_or_default()
}

fn to_csv(baseline: &str, diffs: &[Diff]) -> String {
    let mut s = String::from(
        "baseline,point,label,baseline_point,metric,pairs,baseline_mean,point_mean,diff_mean,diff_sd,diff_ci95_lo,diff_ci95_hi,significant\n",
    );
    for d in diffs {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{},{},{}",
            quote(baseline),
            d.point,
            quote(&d.label),
            d.baseline_point,
            d.metric,
            d.pairs,
            cell(d.baseline_mean),
            cell(d.point_mean),
            cell(d.diff_mean),
            cell(d.diff_sd),
            cell(d.ci95_lo),
            cell(d.ci95_hi),
            d.significant()
        );
    }
    s
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A difference as "+1.5 [0.2, 2.8]" (three significant places via the charts' formatter).
fn diff_text(d: &Diff) -> String {
    match (d.diff_mean, d.ci95_lo, d.ci95_hi) {
        (Some(m), Some(l), Some(h)) => format!(
            "{}{} [{}, {}]{}",
            if m >= 0.0 { "+" } else { "" },
            short(m),
            short(l),
            short(h),
            if d.significant() { " *" } else { "" }
        ),
        (Some(m), _, _) => format!("{}{} (one pair)", if m >= 0.0 { "+" } else { "" }, short(m)),
        _ => "no pairs".into(),
    }
}

pub(crate) fn short(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    let digits = if a >= 100.0 {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        3
    };
    fmt_exact((v * 10f64.powi(digits)).round() / 10f64.powi(digits))
}

fn to_markdown(baseline: &str, diffs: &[Diff]) -> String {
    let mut s = format!(
        "# Paired differences against {baseline}\n\n\
         Each cell: mean over replications of (point − baseline point), same replication and seed, \
         with its 95% Student-t confidence interval; * marks an interval that excludes zero. \
         Generated by `electsim compare`.\n\n| Point | Baseline point | Metric | Pairs | Baseline mean | Point mean | Difference [95% CI] |\n|---|---|---|---|---|---|---|\n"
    );
    for d in diffs {
        let _ = writeln!(
            s,
            "| {} ({}) | {} | {} | {} | {} | {} | {} |",
            d.label,
            d.point,
            d.baseline_point,
            d.metric,
            d.pairs,
            d.baseline_mean.map_or("—".into(), short),
            d.point_mean.map_or("—".into(), short),
            diff_text(d)
        );
    }
    s
}

fn to_table(baseline: &str, diffs: &[Diff]) -> String {
    let rows: Vec<[String; 4]> = diffs
        .iter()
        .map(|d| {
            [
                format!("{} ({})", d.label, d.point),
                d.metric.clone(),
                d.pairs.to_string(),
                diff_text(d),
            ]
        })
        .collect();
    let head = ["point", "metric", "pairs", "point − baseline [95% CI]"];
    let mut w = head.map(|h| h.chars().count());
    for r in &rows {
        for (k, c) in r.iter().enumerate() {
            w[k] = w[k].max(c.chars().count());
        }
    }
    let line = |r: &[String; 4]| {
        let mut s = String::new();
        for (k, c) in r.iter().enumerate() {
            let pad = w[k] - c.chars().count();
            s.push_str(c);
            if k + 1 < r.len() {
                s.push_str(&" ".repeat(pad + 2));
            }
        }
        s.push('\n');
        s
    };
    let mut s = format!("paired differences against {baseline} (* = 95% CI excludes 0)\n");
    s.push_str(&line(&head.map(String::from)));
    for r in &rows {
        s.push_str(&line(r));
    }
    s
}
