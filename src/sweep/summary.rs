//! `summary.csv`: one row per sweep point, computed from the rows of `runs.csv` only (so a
//! summary can always be recomputed from the runs file, and `merge` needs nothing else).
//!
//! Columns: `scenario,point,param_...,algorithm,nodes,runs,failed_runs`, then for every
//! numeric per-run column `M` of `runs.csv` — `events` through `invariant_violations`, and
//! the `msg_*_sent` columns — the nine columns `M_mean, M_sd, M_p10, M_p50, M_p90, M_p99,
//! M_max, M_ci95_lo, M_ci95_hi`.
//!
//! Statistics over the runs of the point that have a value (empty cells — failed runs,
//! `None` metrics — are left out; a statistic over no values is an empty cell):
//! * `mean`: arithmetic mean, summed in replication order;
//! * `sd`: sample standard deviation (denominator `n - 1`), empty when `n < 2`;
//! * `pXX`: nearest-rank percentile, the value at 1-based rank `ceil(XX/100 * n)`;
//! * `ci95_lo`/`ci95_hi`: 95% confidence interval of the mean, `mean ± t · sd / sqrt(n)`
//!   with `t` the 0.975 quantile of Student's t with `n - 1` degrees of freedom — from a
//!   table for 1..=30 degrees of freedom, beyond that from the Cornish–Fisher expansion
//!   around the normal quantile 1.959964 (error below 1e-5); empty when `n < 2`.

use super::csv::{csv_line, fmt_f64, row_key};
use crate::sim::metrics::nearest_rank;

/// The statistics of one summary block.
pub const SUMMARY_PARTS: [&str; 9] = [
    "mean", "sd", "p10", "p50", "p90", "p99", "max", "ci95_lo", "ci95_hi",
];

/// Two-sided 95% Student t quantiles `t(0.975, df)` for `df = 1..=30`.
const T975: [f64; 30] = [
    12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157,
    2.228139, 2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905, 2.109816, 2.100922,
    2.093024, 2.085963, 2.079614, 2.073873, 2.068658, 2.063899, 2.059539, 2.055529, 2.051831,
    2.048407, 2.045230, 2.042272,
];

/// The 0.975 quantile of Student's t with `df >= 1` degrees of freedom.
pub fn t975(df: u64) -> f64 {
    assert!(df >= 1, "Student t needs at least one degree of freedom");
    if df <= 30 {
        return T975[df as usize - 1];
    }
    // Cornish–Fisher expansion of the t quantile in powers of 1/df (Abramowitz & Stegun 26.7.5).
    let z = 1.959_963_984_540_054_f64;
    let (z3, z5, z7) = (z * z * z, z * z * z * z * z, z * z * z * z * z * z * z);
    let g1 = (z3 + z) / 4.0;
    let g2 = (5.0 * z5 + 16.0 * z3 + 3.0 * z) / 96.0;
    let g3 = (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / 384.0;
    let d = df as f64;
    z + g1 / d + g2 / (d * d) + g3 / (d * d * d)
}

/// Statistics of a sample; every field is `None` for an empty sample.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Describe {
    /// Number of values.
    pub n: usize,
    /// Arithmetic mean, summed in the order given.
    pub mean: Option<f64>,
    /// Sample standard deviation (denominator `n - 1`); `None` when `n < 2`.
    pub sd: Option<f64>,
    /// 10th percentile (nearest rank).
    pub p10: Option<f64>,
    /// Median (nearest rank).
    pub p50: Option<f64>,
    /// 90th percentile (nearest rank).
    pub p90: Option<f64>,
    /// 99th percentile (nearest rank).
    pub p99: Option<f64>,
    /// Largest value.
    pub max: Option<f64>,
    /// Lower bound of the 95% confidence interval of the mean (Student's t); `None` when `n < 2`.
    pub ci95_lo: Option<f64>,
    /// Upper bound of the 95% confidence interval of the mean; `None` when `n < 2`.
    pub ci95_hi: Option<f64>,
}

impl Describe {
    /// Describe `values` (in the order given; the order only affects rounding of the sum).
    pub fn of(values: &[f64]) -> Describe {
        let n = values.len();
        if n == 0 {
            return Describe::default();
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let sd = (n >= 2).then(|| {
            (values.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64).sqrt()
        });
        let half = sd.map(|sd| t975(n as u64 - 1) * sd / (n as f64).sqrt());
        Describe {
            n,
            mean: Some(mean),
            sd,
            p10: Some(nearest_rank(&sorted, 0.10)),
            p50: Some(nearest_rank(&sorted, 0.50)),
            p90: Some(nearest_rank(&sorted, 0.90)),
            p99: Some(nearest_rank(&sorted, 0.99)),
            max: sorted.last().copied(),
            ci95_lo: half.map(|h| mean - h),
            ci95_hi: half.map(|h| mean + h),
        }
    }

    /// The nine cells, in [`SUMMARY_PARTS`] order.
    pub fn cells(&self) -> [String; 9] {
        [
            self.mean,
            self.sd,
            self.p10,
            self.p50,
            self.p90,
            self.p99,
            self.max,
            self.ci95_lo,
            self.ci95_hi,
        ]
        .map(|v| v.map_or_else(String::new, fmt_f64))
    }
}

/// Which `runs.csv` columns feed which summary columns.
#[derive(Clone, Debug)]
pub struct Layout {
    /// `param_*` column indices in runs.csv.
    params: Vec<usize>,
    algorithm: usize,
    nodes: usize,
    error: usize,
    /// Numeric metric column indices in runs.csv, and their names.
    metrics: Vec<usize>,
    metric_names: Vec<String>,
    header: Vec<String>,
}

impl Layout {
    /// Derive the layout from a `runs.csv` header.
    pub fn from_runs_header(runs: &[String]) -> Result<Layout, String> {
        let find = |name: &str| {
            runs.iter()
                .position(|c| c == name)
                .ok_or_else(|| format!("runs.csv header has no `{name}` column"))
        };
        let (algorithm, nodes, error) = (find("algorithm")?, find("nodes")?, find("error")?);
        let (first, last) = (find("events")?, find("invariant_violations")?);
        let params: Vec<usize> = (find("seed")? + 1..algorithm).collect();
        if params.iter().any(|&i| !runs[i].starts_with("param_")) {
            return Err(
                "runs.csv header: only param_* columns may stand between `seed` and `algorithm`"
                    .into(),
            );
        }
        let mut metrics: Vec<usize> = (first..=last).collect();
        metrics.extend((last + 1..runs.len()).filter(|&i| {
            (runs[i].starts_with("msg_") && runs[i].ends_with("_sent"))
                || runs[i].starts_with("coverage_")
        }));
        let mut header: Vec<String> = vec!["scenario".into(), "point".into()];
        header.extend(params.iter().map(|&i| runs[i].clone()));
        header.extend(["algorithm", "nodes", "runs", "failed_runs"].map(String::from));
        for &m in &metrics {
            header.extend(SUMMARY_PARTS.iter().map(|p| format!("{}_{p}", runs[m])));
        }
        let metric_names = metrics.iter().map(|&m| runs[m].clone()).collect();
        Ok(Layout {
            params,
            algorithm,
            nodes,
            error,
            metrics,
            metric_names,
            header,
        })
    }

    /// `summary.csv` column names.
    pub fn header(&self) -> &[String] {
        &self.header
    }
}

/// Streams sorted `runs.csv` rows in and summary lines out, one per sweep point.
#[derive(Debug)]
pub struct SummaryBuilder {
    layout: Layout,
    point: Option<u64>,
    rows: Vec<Vec<String>>,
    failed: u64,
}

impl SummaryBuilder {
    /// A builder with no rows yet.
    pub fn new(layout: Layout) -> Self {
        SummaryBuilder {
            layout,
            point: None,
            rows: Vec::new(),
            failed: 0,
        }
    }

    /// The header line.
    pub fn header_line(&self) -> String {
        csv_line(self.layout.header())
    }

    /// Add the next row (rows must come sorted by point); returns the finished summary
    /// line of the previous point when this row starts a new one.
    pub fn push(&mut self, cells: Vec<String>) -> Result<Option<String>, String> {
        let (point, _) = row_key(&cells).ok_or("a row without point/replication numbers")?;
        let done = match self.point {
            Some(p) if p != point => self.finish_point()?,
            _ => None,
        };
        self.point = Some(point);
        if !cells[self.layout.error].is_empty() {
            self.failed += 1;
        }
        self.rows.push(cells);
        Ok(done)
    }

    /// The summary line of the last point, if any rows are pending.
    pub fn finish(&mut self) -> Result<Option<String>, String> {
        self.finish_point()
    }

    fn finish_point(&mut self) -> Result<Option<String>, String> {
        let Some(first) = self.rows.first() else {
            return Ok(None);
        };
        let l = &self.layout;
        let mut out: Vec<String> = vec![first[0].clone(), first[1].clone()];
        out.extend(l.params.iter().map(|&i| first[i].clone()));
        out.push(first[l.algorithm].clone());
        out.push(first[l.nodes].clone());
        out.push(self.rows.len().to_string());
        out.push(self.failed.to_string());
        let mut values = Vec::with_capacity(self.rows.len());
        for (&m, name) in l.metrics.iter().zip(&l.metric_names) {
            values.clear();
            for r in &self.rows {
                let cell = &r[m];
                if !cell.is_empty() {
                    values.push(
                        cell.parse::<f64>()
                            .map_err(|_| format!("column `{name}`: `{cell}` is not a number"))?,
                    );
                }
            }
            out.extend(Describe::of(&values).cells());
        }
        self.rows.clear();
        self.failed = 0;
        Ok(Some(csv_line(&out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        assert_eq!(t975(1), 12.706205);
        for (df, t) in [
            (31, 2.039513),
            (40, 2.021075),
            (60, 2.000298),
            (120, 1.979930),
            (1000, 1.962339),
        ] {
            assert!((t975(df) - t).abs() < 1e-5, "df {df}: {} vs {t}", t975(df));
        }
        // The expansion joins the table smoothly at df = 30.
        let d = super::t975(31) - T975[29];
        assert!(d < 0.0 && d > -0.005);
    }
}
