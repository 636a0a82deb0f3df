//! `results/MATRIX.md`: the seed document's comparison matrix, measured. It is written from
//! the sweep CSV files only (`results/<name>/summary.csv`, plus `runs.csv` for Figure 16),
//! deterministically: fixed float formatting, algorithms in a fixed order, no timestamps.
//!
//! # `scenarios/matrix.toml`
//!
//! The list of matrix scenarios, read by [`read_matrix_toml`]:
//!
//! ```toml
//! [[scenario]]
//! file = "cluster-size.toml"   # scenario file, relative to matrix.toml's directory
//! role = "sizes"               # what the matrix takes from it (below)
//! name = "cluster-size"        # optional: results/<name>/ (default: the file stem)
//! ```
//!
//! Roles (each at most once; a missing role leaves its cells "not measured"):
//! * `sizes` — algorithm × cluster-size sweep (leader crashes): election messages per crash
//!   failover at n=5 and n=65 and their growth class over all sizes (and the boot
//!   election's, apart; [`crate::report::growth`]); election time at n=5; crash failover
//!   time and hand-overs at n=5 when there is no `crash` scenario.
//! * `crash` — leader-crash sweep: failover time (at n=5, or its only size).
//! * `partition` — network partition: split-brain incidents and time.
//! * `lossy` — lossy links: leader changes and availability.
//! * `figure16` — the Raft paper's Figure 16 reproduction: a section with our percentiles
//!   beside the paper's.
//!
//! Every number links to the chart it is drawn in and to the `summary.csv` row it came from.

use crate::fsutil::write_atomic;
use crate::report::charts::{self, ALGORITHMS, ChartError, Point, SweepData, Table};
use crate::report::growth::{self, Class, Selection};
use crate::sim::cause::Cause;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What a matrix scenario contributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Algorithm × cluster-size sweep: message growth, election time at n=5.
    Sizes,
    /// Leader-crash sweep: failover time.
    Crash,
    /// Network partition: split-brain incidents and time.
    Partition,
    /// Lossy links: leader changes and availability.
    Lossy,
    /// The Raft paper's Figure 16 reproduction.
    Figure16,
    /// electsim's Raft beside tikv/raft-rs: not a sweep but a list of cases
    /// ([`crate::report::production`]), written as `AGREEMENT.md`.
    Production,
}

impl Role {
    /// The role's name in `matrix.toml`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Sizes => "sizes",
            Role::Crash => "crash",
            Role::Partition => "partition",
            Role::Lossy => "lossy",
            Role::Figure16 => "figure16",
            Role::Production => "production",
        }
    }
}

/// One matrix scenario: its results directory name (`results/<name>/`), its scenario file
/// and its role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatrixEntry {
    /// Results directory name (`results/<name>/`; default the file stem).
    pub name: String,
    /// The scenario file, resolved against `matrix.toml`'s directory.
    pub file: PathBuf,
    /// What the matrix takes from its results.
    pub role: Role,
}

/// Why the matrix could not be written.
#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    /// `matrix.toml` is missing or invalid (exit code 2).
    #[error("{}: {message}", path.display())]
    Config {
        /// The `matrix.toml` file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A results CSV is malformed (exit code 2).
    #[error(transparent)]
    Csv(#[from] ChartError),
    /// Writing MATRIX.md failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// `MATRIX.md`.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatrix {
    #[serde(default)]
    scenario: Vec<RawEntry>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    file: PathBuf,
    role: Role,
    name: Option<String>,
}

/// Read `scenarios/matrix.toml` (format in the module docs). Scenario paths are resolved
/// against the file's directory.
pub fn read_matrix_toml(path: &Path) -> Result<Vec<MatrixEntry>, MatrixError> {
    let err = |message: String| MatrixError::Config {
        path: path.to_path_buf(),
        message,
    };
    let text = crate::input::read_text(path, crate::input::Kind::Scenario).map_err(|e| {
        if let crate::input::InputError::Io { source, .. } = &e
            && source.kind() == std::io::ErrorKind::NotFound
        {
            err(format!(
                "file not found (a relative path is read from the current directory, {}); run `electsim matrix` from the electsim repository, or name the file: electsim matrix --matrix PATH/TO/scenarios/matrix.toml",
                std::env::current_dir()
                    .map(|d| d.display().to_string())
                    .unwrap_or_else(|_| "unknown".into())
            ))
        } else {
            err(e.to_string())
        }
    })?;
    let raw: RawMatrix =
        toml::from_str(&text).map_err(|e| err(e.to_string().trim_end().to_string()))?;
    let base = path.parent().unwrap_or(Path::new(""));
    let mut out: Vec<MatrixEntry> = Vec::new();
    for (i, e) in raw.scenario.into_iter().enumerate() {
        let name = match e.name {
            Some(n) => n,
            None => e
                .file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(err(format!(
                "scenario.{i}: `{name}` is not a usable results directory name"
            )));
        }
        if out.iter().any(|o| o.role == e.role) {
            return Err(err(format!(
                "scenario.{i}: role `{}` appears twice",
                e.role.name()
            )));
        }
        if out.iter().any(|o| o.name == name) {
            return Err(err(format!("scenario.{i}: name `{name}` appears twice")));
        }
        out.push(MatrixEntry {
            name,
            file: base.join(e.file),
            role: e.role,
        });
    }
    if out.is_empty() {
        return Err(err(
            "lists no [[scenario]] tables, so there is nothing to measure (MATRIX.md would say \"not measured\" everywhere); add entries such as `[[scenario]] file = \"cluster-size.toml\" role = \"sizes\"`, as scenarios/matrix.toml does".into(),
        ));
    }
    Ok(out)
}

/// A power-law fit `y = c·n^k` by least squares on (ln n, ln y).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fit {
    /// The exponent `k`: growth of `y` with `n`.
    pub exponent: f64,
    /// The coefficient `c`.
    pub coefficient: f64,
    /// Coefficient of determination of the log-log regression.
    pub r2: f64,
    /// Points the fit used (x > 0 and y > 0).
    pub points: usize,
}

/// Fit `y = c·x^k` over the points with x > 0 and y > 0; `None` with fewer than two
/// distinct x values.
pub fn fit_power(points: &[(f64, f64)]) -> Option<Fit> {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .filter(|(x, y)| *x > 0.0 && *y > 0.0)
        .map(|(x, y)| (x.ln(), y.ln()))
        .collect();
    let n = pts.len() as f64;
    if pts.len() < 2 {
        return None;
    }
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let syy: f64 = pts.iter().map(|p| (p.1 - my).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let k = sxy / sxx;
    let b = my - k * mx;
    let ss_res: f64 = pts.iter().map(|p| (p.1 - (b + k * p.0)).powi(2)).sum();
    let r2 = if syy > 0.0 { 1.0 - ss_res / syy } else { 1.0 };
    Some(Fit {
        exponent: k,
        coefficient: b.exp(),
        r2,
        points: pts.len(),
    })
}

/// Write `results/MATRIX.md` for these scenarios.
pub fn write_matrix(results: &Path, scenarios: &[MatrixEntry]) -> Result<(), MatrixError> {
    let text = render_matrix(results, scenarios)?;
    let path = results.join("MATRIX.md");
    write_atomic(&path, text.as_bytes()).map_err(|source| MatrixError::Io { path, source })
}

/// A loaded results directory.
struct Loaded {
    name: String,
    data: SweepData,
    /// The scenario file's own value of each swept parameter (`network_loss` -> `0.05`): the
    /// condition its description states, which the matrix cells prefer among the points.
    stated: Vec<(String, String)>,
}

/// Every leaf of a TOML table as (dotted key, value text); arrays are kept whole.
fn flatten(prefix: &str, v: &toml::Value, out: &mut Vec<(String, String)>) {
    match v {
        toml::Value::Table(t) => {
            for (k, x) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, x, out);
            }
        }
        toml::Value::String(x) => out.push((prefix.to_string(), x.clone())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// The scenario's own values of the swept parameters `params` (by `param_*` column name).
/// An unreadable scenario file states nothing (the matrix then takes the first point).
fn stated_values(file: &Path, params: &[String]) -> Vec<(String, String)> {
    let Some(v) = crate::input::read_text(file, crate::input::Kind::Scenario)
        .ok()
        .and_then(|t| toml::from_str::<toml::Value>(&t).ok())
    else {
        return Vec::new();
    };
    let mut flat = Vec::new();
    flatten("", &v, &mut flat);
    params
        .iter()
        .filter_map(|p| {
            flat.iter()
                .find(|(k, _)| !k.starts_with("sweep.") && charts::param_name(k) == *p)
                .map(|(_, v)| (p.clone(), v.clone()))
        })
        .collect()
}

/// Two parameter values are the same condition: equal as numbers, else equal ignoring spaces.
fn same_value(a: &str, b: &str) -> bool {
    match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.replace(' ', "") == b.replace(' ', ""),
    }
}

/// A point as the matrix names it: "point 7: n=5 network_loss=0.05".
fn point_name(p: &Point) -> String {
    let mut parts = Vec::new();
    if let Some(n) = p.nodes {
        parts.push(format!("n={}", charts::fmt_num(n)));
    }
    let rest = p.params_label("");
    if !rest.is_empty() {
        parts.push(rest);
    }
    format!("point {}: {}", p.id, parts.join(" "))
}

fn load(results: &Path, entry: Option<&MatrixEntry>) -> Result<Option<Loaded>, MatrixError> {
    let Some(e) = entry else { return Ok(None) };
    let dir = results.join(&e.name);
    let summary_path = dir.join("summary.csv");
    if !summary_path.is_file() {
        return Ok(None);
    }
    let summary = Table::read(&summary_path)?;
    let runs_path = dir.join("runs.csv");
    let runs = if runs_path.is_file() {
        Table::read(&runs_path)?
    } else {
        Table {
            path: runs_path,
            headers: summary.headers.clone(),
            rows: Vec::new(),
        }
    };
    let data = SweepData::new(runs, summary)?;
    let params: Vec<String> = data
        .points
        .first()
        .map(|p| p.params.iter().map(|(k, _)| k.clone()).collect())
        .unwrap_or_default();
    Ok(Some(Loaded {
        name: e.name.clone(),
        stated: stated_values(&e.file, &params),
        data,
    }))
}

/// Fixed formatting of a measured value.
fn num(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

const NOT_MEASURED: &str = "not measured";

/// A measured cell: the value linked to its chart, and its CSV row.
struct Cell {
    text: String,
    chart: Option<String>,
    /// The `summary.csv` link and the name of the sweep point it came from.
    csv: Option<(String, String)>,
}

impl Cell {
    fn none() -> Cell {
        Cell {
            text: NOT_MEASURED.into(),
            chart: None,
            csv: None,
        }
    }

    fn render(&self) -> String {
        let mut s = match &self.chart {
            Some(c) => format!("[{}]({c})", self.text),
            None => self.text.clone(),
        };
        if let Some((c, point)) = &self.csv {
            s.push_str(&format!(" <sup>[{point}]({c})</sup>"));
        }
        s
    }
}

impl Loaded {
    /// The points of `alg` at size `n` (or, with `n = None`, at 5 nodes if present, else at
    /// its first size), narrowed to the scenario's stated value of each swept parameter where
    /// a point has it.
    fn candidates(&self, alg: &str, n: Option<f64>) -> Vec<&Point> {
        let all: Vec<&Point> = self
            .data
            .points
            .iter()
            .filter(|p| p.algorithm == alg && p.summary_row.is_some())
            .collect();
        let n = n.or_else(|| {
            if all.iter().any(|p| p.nodes == Some(5.0)) {
                Some(5.0)
            } else {
                all.first().and_then(|p| p.nodes)
            }
        });
        let mut ps: Vec<&Point> = all.into_iter().filter(|p| p.nodes == n).collect();
        for (k, v) in &self.stated {
            let matching: Vec<&Point> = ps
                .iter()
                .copied()
                .filter(|p| p.value(k).is_some_and(|x| same_value(&x, v)))
                .collect();
            if !matching.is_empty() {
                ps = matching;
            }
        }
        ps
    }

    /// The point of `alg` at size `n`: the first of [`Loaded::candidates`].
    fn point(&self, alg: &str, n: Option<f64>) -> Option<&Point> {
        self.candidates(alg, n).into_iter().next()
    }

    /// The point of `alg` (at 5 nodes) with the most of `metric` (mean), then of `tie`: the
    /// worse case among points the scenario does not decide between (e.g. which side of a
    /// partition is the minority).
    fn worst_point(
        &self,
        alg: &str,
        metric: &str,
        tie: &str,
    ) -> Result<Option<&Point>, MatrixError> {
        let mut best: Option<(&Point, f64, f64)> = None;
        for p in self.candidates(alg, None) {
            let v = self
                .data
                .stat(p, metric, "mean")?
                .unwrap_or(f64::NEG_INFINITY);
            let t = self.data.stat(p, tie, "mean")?.unwrap_or(f64::NEG_INFINITY);
            if best.is_none_or(|(_, bv, bt)| v > bv || (v == bv && t > bt)) {
                best = Some((p, v, t));
            }
        }
        Ok(best.map(|(p, _, _)| p))
    }

    fn csv_link(&self, p: &Point) -> (String, String) {
        let line = p.summary_row.map_or(1, |i| self.data.summary.rows[i].line);
        (format!("{}/summary.csv#L{line}", self.name), point_name(p))
    }

    /// A cell from a summary statistic of a given point.
    fn cell_at(
        &self,
        p: Option<&Point>,
        col: &str,
        chart: &str,
        fmt: fn(f64) -> String,
    ) -> Result<Cell, MatrixError> {
        let Some(p) = p else {
            return Ok(Cell::none());
        };
        let i = p.summary_row.expect("filtered");
        let row = &self.data.summary.rows[i];
        match self.data.summary.num_by(row, col)? {
            Some(v) => Ok(Cell {
                text: fmt(v),
                chart: Some(self.chart_link(chart)),
                csv: Some(self.csv_link(p)),
            }),
            None => Ok(Cell::none()),
        }
    }

    /// `metric` per election at a point: its mean over runs / the mean elections per run
    /// (= its sum over runs / all elections in the runs).
    fn per_election(&self, p: &Point, metric: &str) -> Result<Option<f64>, MatrixError> {
        let m = self.data.stat(p, metric, "mean")?;
        let e = self.data.stat(p, "elections", "mean")?;
        Ok(match (m, e) {
            (Some(m), Some(e)) if e > 0.0 => Some(m / e),
            _ => None,
        })
    }

    /// Election messages per election of `cause` at a point: the messages of all its
    /// intervals over their number (`<cause>_election_messages_mean / <cause>_count_mean`).
    fn per_cause(&self, p: &Point, cause: Cause) -> Result<Option<f64>, MatrixError> {
        let m = self
            .data
            .stat(p, &format!("{}_election_messages", cause.name()), "mean")?;
        let c = self
            .data
            .stat(p, &format!("{}_count", cause.name()), "mean")?;
        Ok(match (m, c) {
            (Some(m), Some(c)) if c > 0.0 => Some(m / c),
            _ => None,
        })
    }

    /// The series (n, election messages per election of `cause`) of `alg` over all sizes.
    fn cause_series(&self, alg: &str, cause: Cause) -> Result<Vec<(f64, f64)>, MatrixError> {
        let mut pts = Vec::new();
        for p in self.data.points.iter().filter(|p| p.algorithm == alg) {
            if let (Some(n), Some(v)) = (p.nodes, self.per_cause(p, cause)?) {
                pts.push((n, v));
            }
        }
        Ok(pts)
    }

    /// A cell of election messages per election of `cause` at `alg`'s point of size `n`.
    fn per_cause_cell(&self, alg: &str, n: Option<f64>, cause: Cause) -> Result<Cell, MatrixError> {
        let Some(p) = self.point(alg, n) else {
            return Ok(Cell::none());
        };
        Ok(match self.per_cause(p, cause)? {
            Some(v) => Cell {
                text: num(v),
                chart: Some(self.chart_link("messages-by-kind")),
                csv: Some(self.csv_link(p)),
            },
            None => Cell::none(),
        })
    }

    /// A cell of `metric` per election at `alg`'s point of size `n`.
    fn per_election_cell(
        &self,
        alg: &str,
        n: Option<f64>,
        metric: &str,
    ) -> Result<Cell, MatrixError> {
        let Some(p) = self.point(alg, n) else {
            return Ok(Cell::none());
        };
        Ok(match self.per_election(p, metric)? {
            Some(v) => Cell {
                text: num(v),
                chart: Some(self.chart_link("messages-by-kind")),
                csv: Some(self.csv_link(p)),
            },
            None => Cell::none(),
        })
    }

    fn chart_link(&self, stem: &str) -> String {
        format!("{}/charts/{stem}.svg", self.name)
    }

    /// A cell from a summary statistic.
    fn cell(
        &self,
        alg: &str,
        n: Option<f64>,
        col: &str,
        chart: &str,
        fmt: fn(f64) -> String,
    ) -> Result<Cell, MatrixError> {
        self.cell_at(self.point(alg, n), col, chart, fmt)
    }

    fn election_cdf_stem(&self, alg: &str) -> String {
        if self.data.points.len() <= 8 {
            "election-cdf".into()
        } else {
            format!("election-cdf-{alg}")
        }
    }
}

fn pct(v: f64) -> String {
    format!("{:.2}%", v * 100.0)
}

/// The seed document's claims (SEED-leader-election.md §4), per algorithm:
/// (complexity, fault tolerance, message overhead, best for).
fn claim(alg: &str) -> Option<(&'static str, &'static str, &'static str, &'static str)> {
    match alg {
        "bully" => Some(("O(n²)", "Limited", "High", "Small clusters")),
        "ring" => Some(("O(n)", "Moderate", "Medium", "Ordered systems")),
        "raft" => Some(("O(n)", "High", "Low", "General purpose")),
        "zookeeper" => Some(("O(log n)", "High", "Low", "Large clusters")),
        _ => None,
    }
}

/// The MATRIX.md text.
pub fn render_matrix(results: &Path, scenarios: &[MatrixEntry]) -> Result<String, MatrixError> {
    let by_role = |r: Role| scenarios.iter().find(|e| e.role == r);
    let sizes = load(results, by_role(Role::Sizes))?;
    let crash = load(results, by_role(Role::Crash))?;
    let partition = load(results, by_role(Role::Partition))?;
    let lossy = load(results, by_role(Role::Lossy))?;
    let fig16 = load(results, by_role(Role::Figure16))?;

    // Algorithms: canonical order, those present anywhere (all five if none are).
    let mut algs: Vec<String> = Vec::new();
    for l in [&sizes, &crash, &partition, &lossy].into_iter().flatten() {
        for a in l.data.algorithms() {
            if !algs.contains(&a) {
                algs.push(a);
            }
        }
    }
    if algs.is_empty() {
        algs = ALGORITHMS.iter().map(|s| s.to_string()).collect();
    }
    algs.sort_by_key(|a| {
        (
            ALGORITHMS
                .iter()
                .position(|x| x == a)
                .unwrap_or(ALGORITHMS.len()),
            a.clone(),
        )
    });

    let mut s = String::new();
    let _ = writeln!(s, "# Comparison matrix, measured");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Generated by `electsim matrix` from the scenarios listed in `scenarios/matrix.toml`; do not edit. \
         Each number links to the chart it is drawn in; the <sup>point</sup> link beside it names the sweep point it came from and opens that `summary.csv` row."
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "Sources:");
    for e in scenarios {
        let marker = if e.role == Role::Production {
            "AGREEMENT.md"
        } else {
            "summary.csv"
        };
        let state = if results.join(&e.name).join(marker).is_file() {
            String::new()
        } else {
            format!(" — not measured (no {marker})")
        };
        let _ = writeln!(
            s,
            "- `{}` ({}): [`{}/`]({}/){}",
            e.role.name(),
            e.file.display(),
            e.name,
            e.name,
            state
        );
    }
    let _ = writeln!(s);

    // Messages and growth.
    let _ = writeln!(s, "## The matrix");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "| Algorithm | Seed claim | Election msgs/crash failover n=5 | Election msgs/crash failover n=65 | Class per failover (boot) | All traffic/election n=5 | Election p50 / p99 n=5 (ms) | Failover (ms) | Hand-overs/run (ms) | Split-brain incidents / time (ms), worse partition | Leader changes (lossy) | Availability (lossy) |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut fits: Vec<(String, Option<Classes>)> = Vec::new();
    let failover_src = crash.as_ref().or(sizes.as_ref());
    for a in &algs {
        let claim_text = claim(a).map_or("—".to_string(), |c| {
            format!("{}, {} overhead", c.0, c.2.to_lowercase())
        });
        let (m5, m65, fit_cell, traffic, e50, e99) = match &sizes {
            Some(l) => {
                let m5 = l.per_cause_cell(a, Some(5.0), Cause::LeaderCrash)?;
                let m65 = l.per_cause_cell(a, Some(65.0), Cause::LeaderCrash)?;
                let failover = l.cause_series(a, Cause::LeaderCrash)?;
                let classes = Classes {
                    failover: growth::select(&failover),
                    boot: growth::select(&l.cause_series(a, Cause::Boot)?),
                };
                let fit_cell = match classes.failover {
                    Some(f) => Cell {
                        text: format!(
                            "{} ({})",
                            f.best.class.big_o(),
                            classes.boot.map_or("—", |b| b.best.class.big_o())
                        ),
                        chart: Some(l.chart_link("messages-by-kind")),
                        csv: Some((
                            format!("{}/summary.csv", l.name),
                            format!("{} points: all sizes", failover.len()),
                        )),
                    },
                    None => Cell::none(),
                };
                fits.push((a.clone(), Some(classes)));
                let traffic = l.per_election_cell(a, Some(5.0), "messages_sent")?;
                let cdf = l.election_cdf_stem(a);
                let e50 = l.cell(a, Some(5.0), "election_ms_mean_p50", &cdf, num)?;
                let e99 = l.cell(a, Some(5.0), "election_ms_mean_p99", &cdf, num)?;
                (m5, m65, fit_cell, traffic, e50, e99)
            }
            None => {
                fits.push((a.clone(), None));
                (
                    Cell::none(),
                    Cell::none(),
                    Cell::none(),
                    Cell::none(),
                    Cell::none(),
                    Cell::none(),
                )
            }
        };
        let fo = match failover_src {
            Some(l) => l.cell(
                a,
                None,
                "leader_crash_ms_mean_mean",
                "failover-vs-nodes",
                num,
            )?,
            None => Cell::none(),
        };
        let (ho_n, ho_ms) = match failover_src {
            Some(l) => (
                l.cell(a, None, "hand_over_count_mean", "failover-vs-nodes", num)?,
                l.cell(a, None, "hand_over_ms_mean_mean", "failover-vs-nodes", num)?,
            ),
            None => (Cell::none(), Cell::none()),
        };
        let fo = match (&fo.chart, failover_src) {
            // A single-size crash sweep has no failover-vs-nodes chart: link its CDF.
            (Some(_), Some(l)) if l.data.sizes().len() < 2 => Cell {
                chart: Some(l.chart_link(&l.election_cdf_stem(a))),
                ..fo
            },
            _ => fo,
        };
        let (sbi, sbt) = match &partition {
            Some(l) => {
                let worst = l.worst_point(a, "split_brain_ms", "split_brain_incidents")?;
                (
                    l.cell_at(worst, "split_brain_incidents_mean", "split-brain", num)?,
                    l.cell_at(worst, "split_brain_ms_mean", "split-brain", num)?,
                )
            }
            None => (Cell::none(), Cell::none()),
        };
        let (lc, av) = match &lossy {
            Some(l) => (
                l.cell(a, None, "leader_changes_mean", "stability", num)?,
                l.cell(a, None, "availability_mean", "stability", pct)?,
            ),
            None => (Cell::none(), Cell::none()),
        };
        let pair = |x: &Cell, y: &Cell| {
            if x.text == NOT_MEASURED && y.text == NOT_MEASURED {
                NOT_MEASURED.to_string()
            } else if y.text == NOT_MEASURED {
                // A count of zero has no mean length.
                format!("{} / —", x.render())
            } else {
                format!("{} / {}", x.render(), y.render())
            }
        };
        let _ = writeln!(
            s,
            "| {a} | {claim_text} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            m5.render(),
            m65.render(),
            fit_cell.render(),
            traffic.render(),
            pair(&e50, &e99),
            fo.render(),
            pair(&ho_n, &ho_ms),
            pair(&sbi, &sbt),
            lc.render(),
            av.render()
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "Definitions (see the README's Metrics section):");
    let _ = writeln!(
        s,
        "- *Election msgs/election*: messages each protocol classes as election traffic (votes, campaigns, announcements, watch notifications; never heartbeats or keep-alives), summed over runs / elections summed over runs."
    );
    let _ = writeln!(
        s,
        "- *All traffic/election*: every message sent in the runs (heartbeats and keep-alives included) / elections in the runs, as drawn in `messages-by-kind`."
    );
    let _ = writeln!(
        s,
        "- Each <sup>point</sup> link names the sweep point the number came from and opens its `summary.csv` row. Where a scenario sweeps a parameter it also sets (e.g. `lossy`'s `network.loss`), the cells use the point at the scenario's own value{}; the split-brain cells use the worse of the partition choices (more split-brain time), named in the cell.",
        lossy
            .as_ref()
            .map(|l| l
                .stated
                .iter()
                .map(|(k, v)| format!(" (`{k}` = {v})"))
                .collect::<String>())
            .unwrap_or_default()
    );
    let _ = writeln!(
        s,
        "- *Election msgs/crash failover*: election messages sent while leaderless after a leader crash, over those failovers ([causes](../docs/causes.md)); the boot election (sessions and campaigns registering) is counted apart."
    );
    let _ = writeln!(
        s,
        "- *Class per failover (boot)*: of election msgs per crash failover against n, fitted as a + b·f(n) for f in 1, log n, n, n log n, n² over all measured sizes; scored by the leave-one-out error relative to the value (each size predicted from the others); the simplest class within 10 % of the best score wins. In brackets the same for the boot election's messages. Fits and runners-up are in the paragraphs below."
    );
    let _ = writeln!(
        s,
        "- *Election p50 / p99*: median and 99th percentile over runs of each run's mean election time."
    );
    let _ = writeln!(
        s,
        "- *Failover*: mean over runs of each run's mean time without leader after a leader crash (n=5). *Hand-overs*: intervals begun by a higher id or a new candidate taking over a live leader, per run, and their mean length; they are not failovers."
    );
    let _ = writeln!(
        s,
        "- *Split brain*: intervals with two or more live nodes in role leader, per run (mean); time is their total length."
    );
    let _ = writeln!(
        s,
        "- *Leader changes*, *availability*: per run (mean); availability is the fraction of time with an elected leader."
    );
    let _ = writeln!(s);

    // Per-algorithm paragraphs.
    let _ = writeln!(s, "## Measured against the textbook claims");
    let _ = writeln!(s);
    for a in &algs {
        let fit = fits.iter().find(|(x, _)| x == a).and_then(|(_, f)| *f);
        let _ = writeln!(s, "**{a}.** {}", paragraph(a, fit, partition.as_ref())?);
        let _ = writeln!(s);
    }

    if let Some(l) = &fig16 {
        figure16_section(&mut s, l)?;
    }
    Ok(s)
}

/// The growth classes of one algorithm's election messages ([`growth::select`]).
#[derive(Clone, Copy, Debug)]
struct Classes {
    /// Per crash failover.
    failover: Option<Selection>,
    /// The boot election.
    boot: Option<Selection>,
}

/// "O(n): 97 + 8·n, leave-one-out error 0.0 %; runner-up O(n log n), error 3.1 %".
fn describe(s: &Selection) -> String {
    let pct = |e: f64| format!("{:.1} %", e * 100.0);
    let mut t = format!(
        "{}: {}, leave-one-out error {}",
        s.best.class.big_o(),
        s.best.formula(),
        pct(s.best.loo_rmse)
    );
    if let Some(r) = s.runner_up {
        let _ = write!(
            t,
            "; runner-up {}, error {}",
            r.class.big_o(),
            pct(r.loo_rmse)
        );
    }
    t
}

/// The textbook comparison of one algorithm.
fn paragraph(
    alg: &str,
    classes: Option<Classes>,
    partition: Option<&Loaded>,
) -> Result<String, MatrixError> {
    let mut p = String::new();
    let claim_text = match alg {
        "bully" => {
            "The seed document claims O(n²) messages (Garcia-Molina: n−1 to ~n² per election, the worst case when the lowest id starts it)"
        }
        "ring" => {
            "The seed document claims O(n); Chang–Roberts averages n·H_n election messages plus n for the announcement, O(n log n), and its worst case is O(n²)"
        }
        "raft" => {
            "The seed document claims O(n): a round is one RequestVote and one response per peer, 2(n−1), times the number of rounds"
        }
        "zookeeper" => {
            "The seed document claims O(log n); with the ephemeral-sequential recipe only the successor of the failed node is notified, so O(1) per failover, plus O(n) session and node registration at boot"
        }
        "etcd" => {
            "Not in the seed document's table, so there is no claim to check; the lease/campaign recipe notifies only the next waiter, which suggests O(1) per failover"
        }
        "k8s" => {
            "Not in the seed document's table; with a Lease lock every candidate polls the Lease every retry period and a takeover is one conditional write, so O(1) writes per failover and O(n) reads per retry period"
        }
        _ => "No textbook claim",
    };
    p.push_str(claim_text);
    p.push_str(". ");
    let claimed = claim(alg).and_then(|c| Class::from_big_o(c.0));
    match classes.and_then(|c| c.failover.map(|f| (f, c.boot))) {
        Some((f, boot)) => {
            let _ = write!(
                p,
                "Measured, election messages per crash failover over {} sizes: {}",
                f.points,
                describe(&f)
            );
            match claimed {
                Some(c) if c == f.best.class => p.push_str(" — agrees with the claim."),
                Some(c) if f.best.class > c => {
                    let _ = write!(p, " — grows faster than the claimed {}.", c.big_o());
                }
                Some(c) => {
                    let _ = write!(p, " — grows slower than the claimed {}.", c.big_o());
                }
                None => p.push('.'),
            }
            if let Some(b) = boot {
                let _ = write!(p, " The boot election, apart: {}.", describe(&b));
            }
        }
        None => p.push_str("Message growth: not measured."),
    }
    if let Some(l) = partition
        && let Some(pt) = l.worst_point(alg, "split_brain_ms", "split_brain_incidents")?
    {
        let inc = l.data.stat(pt, "split_brain_incidents", "mean")?;
        let ms = l.data.stat(pt, "split_brain_ms", "mean")?;
        if let (Some(inc), Some(ms)) = (inc, ms) {
            let tol = claim(alg).map(|c| c.1);
            let _ = write!(
                p,
                " Under partition ({}): {} split-brain incidents and {} ms with two leaders per run",
                point_name(pt),
                num(inc),
                num(ms)
            );
            let same_term = l.data.stat(pt, "same_term_leaders", "mean")?.unwrap_or(0.0);
            match tol {
                // Less than a millisecond of overlap per run is a hand-over in flight.
                Some("High") if ms < 1.0 => p.push_str(
                    ", i.e. essentially none, consistent with the claimed high fault tolerance.",
                ),
                Some("High") if alg == "raft" && same_term == 0.0 => p.push_str(
                    ". These are stale beliefs, not two leaders of one term (same-term leaders: 0): without `check_quorum` a leader cut off in the minority keeps believing it leads until it hears a higher term, while the majority elects a successor. Safety (one leader per term) holds, as claimed; `raft.check_quorum = true` makes the stale leader step down after an election timeout.",
                ),
                Some("High") if inc > 0.0 => {
                    p.push_str(", which contradicts the claimed high fault tolerance.")
                }
                Some("High") => p.push_str(", consistent with the claimed high fault tolerance."),
                Some(t) if inc > 0.0 => {
                    let _ = write!(
                        p,
                        ", consistent with the claimed {} fault tolerance.",
                        t.to_lowercase()
                    );
                }
                Some(t) => {
                    let _ = write!(
                        p,
                        "; none observed, better than the claimed {} fault tolerance.",
                        t.to_lowercase()
                    );
                }
                None => p.push('.'),
            }
        }
    }
    Ok(p)
}

/// The paper's stated numbers (Ongaro & Ousterhout 2014, §9.3).
const PAPER: &[(&str, &str)] = &[
    ("150-150ms", "> 10 s (no randomness)"),
    ("150-155ms", "median 287 ms"),
    ("150-200ms", "worst 513 ms"),
    ("12-24ms", "mean 35 ms, max 152 ms"),
];

fn figure16_section(s: &mut String, l: &Loaded) -> Result<(), MatrixError> {
    let ranges = charts::fig16_samples(&l.data)?;
    let _ = writeln!(s, "## Raft paper Figure 16");
    let _ = writeln!(s);
    if ranges.is_empty() {
        let _ = writeln!(
            s,
            "Not measured (no election-timeout ranges in `{}/`).",
            l.name
        );
        let _ = writeln!(s);
        return Ok(());
    }
    let _ = writeln!(
        s,
        "Time without leader after a leader crash ([chart]({}), [csv]({}/runs.csv)); one sample per run. \
         Runs still leaderless at the end of the run are counted as censored (> the remaining run time).",
        l.chart_link("figure16"),
        l.name
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "| Timeout range | Runs | Leaderless at end | Mean (ms) | p50 (ms) | p90 (ms) | p99 (ms) | Max (ms) | Paper |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|");
    for r in &ranges {
        let label = format!("{}-{}ms", charts::fmt_num(r.lo), charts::fmt_num(r.hi));
        let total = r.samples.len() + r.censored;
        let v = &r.samples;
        let q = |x: f64| -> String {
            // Nearest rank over all runs, censored ones being +infinity.
            let rank = ((x * total as f64).ceil() as usize).clamp(1, total.max(1));
            if total == 0 {
                "—".into()
            } else if rank <= v.len() {
                num(v[rank - 1])
            } else {
                "never".into()
            }
        };
        let mean = if r.censored == 0 && !v.is_empty() {
            num(v.iter().sum::<f64>() / v.len() as f64)
        } else {
            "—".into()
        };
        let max = if r.censored > 0 {
            "never".into()
        } else {
            v.last().map_or("—".into(), |m| num(*m))
        };
        let paper = PAPER
            .iter()
            .find(|(k, _)| *k == label)
            .map_or("", |(_, t)| t);
        let _ = writeln!(
            s,
            "| {label} | {total} | {} | {mean} | {} | {} | {} | {max} | {paper} |",
            r.censored,
            q(0.5),
            q(0.9),
            q(0.99)
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "The comparison with the paper, and why the numbers differ, is in `docs/figure16.md`."
    );
    let _ = writeln!(s);
    Ok(())
}
