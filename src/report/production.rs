//! electsim's `raft` beside tikv/raft-rs (`raft-rs`) on the same scenarios and seeds: the
//! `production` role of `electsim matrix`, written to `results/<name>/` as `runs.csv` (one
//! row per run), `summary.csv` and [`AGREEMENT_MD`] (one row per case and metric). See
//! docs/production-raft.md.
//!
//! The cases file (`scenarios/production-raft/cases.toml`) names a base scenario, the
//! replications, and each case as `--set`-style assignments plus, per metric, the semantic
//! difference that explains a disagreement. Replication r of every case and algorithm runs
//! with seed `base seed + r` (paired). The test of agreement: a seeded percentile-bootstrap
//! 95 % confidence interval of the difference of the per-run means (raft-rs minus raft);
//! the two agree when it contains 0. A difference without an explanation is reported as
//! `UNEXPLAINED` and fails the matrix command.

use crate::runner;
use crate::scenario::{Assignment, ScenarioFile};
use crate::sim::metrics::RunMetrics;
use crate::sim::rng::{SimRng, Stream};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The agreement table's file name (electsim owns it: a rerun replaces it).
pub const AGREEMENT_MD: &str = "AGREEMENT.md";

/// The two algorithms compared, in table order.
pub const ALGORITHMS: [&str; 2] = ["raft", "raft-rs"];
/// Bootstrap resamples per interval.
const RESAMPLES: usize = 2000;
/// Fewest runs per side for a verdict: a bootstrap of a handful of runs says nothing (a quick
/// `electsim matrix --runs 2` reports the figures without verdicts).
const MIN_RUNS: u32 = 20;

/// The metrics compared, with their column names.
pub const METRICS: [(&str, &str); 4] = [
    ("failover_ms", "failover (ms, per-run mean)"),
    ("election_msgs", "election messages per election"),
    ("leader_changes", "leader changes per run"),
    (
        "availability",
        "availability (fraction of time with a leader)",
    ),
];

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCases {
    base: PathBuf,
    runs: u32,
    case: Vec<RawCase>,
}

/// One case as written.
#[derive(Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: String,
    description: String,
    #[serde(default)]
    set: Vec<String>,
    /// Metric name -> the semantic difference that explains a disagreement on it.
    #[serde(default)]
    explain: BTreeMap<String, String>,
}

/// One run's figures.
#[derive(Clone, Debug, PartialEq)]
struct RunRow {
    failover_ms: Vec<f64>,
    election_msgs: Option<f64>,
    leader_changes: f64,
    availability: f64,
}

impl RunRow {
    fn of(m: &RunMetrics) -> RunRow {
        // Failovers: leaderless intervals after a leader existed (not the first election).
        let failover_ms = m
            .election_log
            .iter()
            .filter(|e| e.start_ms > 0.0)
            .map(|e| e.duration_ms)
            .collect();
        RunRow {
            failover_ms,
            election_msgs: (m.elections > 0).then(|| {
                let msgs: u64 = m.election_log.iter().map(|e| e.election_messages).sum();
                msgs as f64 / m.election_log.len().max(1) as f64
            }),
            leader_changes: m.leader_changes as f64,
            availability: m.availability,
        }
    }

    /// The run's value of `metric`, if it has one (no failover, no election: none).
    fn value(&self, metric: &str) -> Option<f64> {
        match metric {
            "failover_ms" => mean(&self.failover_ms),
            "election_msgs" => self.election_msgs,
            "leader_changes" => Some(self.leader_changes),
            _ => Some(self.availability),
        }
    }
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Nearest-rank percentile of unsorted `v`.
fn percentile(v: &[f64], q: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = ((q * s.len() as f64).ceil() as usize).clamp(1, s.len());
    Some(s[rank - 1])
}

/// Percentile-bootstrap 95 % interval of mean(b) - mean(a), resampling each side's runs.
fn bootstrap_ci(a: &[f64], b: &[f64], rng: &mut SimRng) -> Option<(f64, f64)> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let resample_mean = |v: &[f64], rng: &mut SimRng| {
        (0..v.len()).map(|_| v[rng.index(v.len())]).sum::<f64>() / v.len() as f64
    };
    let mut diffs: Vec<f64> = (0..RESAMPLES)
        .map(|_| resample_mean(b, rng) - resample_mean(a, rng))
        .collect();
    diffs.sort_by(f64::total_cmp);
    Some((percentile(&diffs, 0.025)?, percentile(&diffs, 0.975)?))
}

/// Run every case of `cases` (a cases file) and write `out/{runs.csv, summary.csv,
/// AGREEMENT.md}`. `runs` overrides the file's replications. Returns the number of
/// disagreements without an explanation (the caller fails on any).
pub fn write(
    cases: &Path,
    out: &Path,
    runs: Option<u32>,
    jobs: Option<usize>,
) -> Result<usize, String> {
    let text = std::fs::read_to_string(cases).map_err(|e| format!("{}: {e}", cases.display()))?;
    let raw: RawCases = toml::from_str(&text)
        .map_err(|e| format!("{}: {}", cases.display(), e.to_string().trim_end()))?;
    let base_path = cases.parent().unwrap_or(Path::new("")).join(&raw.base);
    let base = ScenarioFile::read(&base_path).map_err(|e| e.to_string())?;
    let runs = runs.unwrap_or(raw.runs).max(1);
    let mut jobs_list = Vec::new();
    for (ci, case) in raw.case.iter().enumerate() {
        for alg in ALGORITHMS {
            let mut sets = Vec::new();
            for s in case
                .set
                .iter()
                .map(String::as_str)
                .chain([format!("algorithm={alg}").as_str()])
            {
                sets.push(
                    Assignment::parse_set(s).map_err(|e| format!("case {}: {e}", case.name))?,
                );
            }
            let sc = base
                .instantiate(&sets)
                .map_err(|e| format!("case {}: {e}", case.name))?;
            jobs_list.push((ci, alg, sc));
        }
    }
    let tasks: Vec<(usize, u64)> = (0..jobs_list.len())
        .flat_map(|j| (0..u64::from(runs)).map(move |r| (j, r)))
        .collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.unwrap_or(0))
        .build()
        .map_err(|e| e.to_string())?;
    let results: Vec<Result<RunRow, String>> = pool.install(|| {
        tasks
            .par_iter()
            .map(|&(j, r)| {
                let sc = &jobs_list[j].2;
                runner::run(sc, sc.seed + r, Vec::new())
                    .map(|o| RunRow::of(&o.metrics))
                    .map_err(|e| e.to_string())
            })
            .collect()
    });
    let mut rows: Vec<Vec<RunRow>> = vec![Vec::new(); jobs_list.len()];
    let mut csv = String::from(
        "case,algorithm,seed,failovers,failover_ms_mean,election_msgs_per_election,leader_changes,availability\n",
    );
    for (&(j, r), res) in tasks.iter().zip(results) {
        let row = res.map_err(|e| format!("case {}: {e}", raw.case[jobs_list[j].0].name))?;
        let cell = |v: Option<f64>| v.map(|x| format!("{x:.3}")).unwrap_or_default();
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{},{:.6}",
            raw.case[jobs_list[j].0].name,
            jobs_list[j].1,
            jobs_list[j].2.seed + r,
            row.failover_ms.len(),
            cell(mean(&row.failover_ms)),
            cell(row.election_msgs),
            row.leader_changes,
            row.availability
        );
        rows[j].push(row);
    }
    let (table, md, unexplained) = agreement(&raw, &rows, runs);
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    for (name, body) in [
        ("runs.csv", csv),
        ("summary.csv", table),
        (AGREEMENT_MD, md),
    ] {
        let p = out.join(name);
        crate::fsutil::write_atomic(&p, body.as_bytes())
            .map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Ok(unexplained)
}

/// The agreement table (CSV and Markdown) and the count of unexplained disagreements.
/// `rows[2 * case + algorithm]` holds the runs.
fn agreement(raw: &RawCases, rows: &[Vec<RunRow>], runs: u32) -> (String, String, usize) {
    let mut rng = SimRng::new(1, Stream::Explore);
    let mut csv = String::from("case,metric,raft,raft_rs,diff_ci_lo,diff_ci_hi,verdict\n");
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# electsim `raft` beside tikv/raft-rs (`raft-rs`), measured\n"
    );
    let _ = writeln!(
        md,
        "Generated by `electsim matrix` (role `production`) from `scenarios/production-raft/`; do not edit. {runs} paired seeds per case and algorithm. Cells are means over runs; *95 % CI* is a seeded percentile bootstrap ({RESAMPLES} resamples) of the difference raft-rs − raft; the two **agree** when it contains 0. Every difference names the semantic difference behind it (docs/production-raft.md explains each).\n"
    );
    let mut unexplained = 0;
    for (ci, case) in raw.case.iter().enumerate() {
        let (a, b) = (&rows[2 * ci], &rows[2 * ci + 1]);
        let _ = writeln!(md, "## {}\n\n{}\n", case.name, case.description);
        let pooled = |v: &[RunRow]| {
            v.iter()
                .flat_map(|r| r.failover_ms.clone())
                .collect::<Vec<_>>()
        };
        let (fa, fb) = (pooled(a), pooled(b));
        let p = |v: &[f64], q| {
            percentile(v, q)
                .map(|x| format!("{x:.0}"))
                .unwrap_or("—".into())
        };
        let _ = writeln!(
            md,
            "Failover p50 / p90 / p99 (ms, every failover pooled): raft {} / {} / {} ({} failovers), raft-rs {} / {} / {} ({} failovers).\n",
            p(&fa, 0.5),
            p(&fa, 0.9),
            p(&fa, 0.99),
            fa.len(),
            p(&fb, 0.5),
            p(&fb, 0.9),
            p(&fb, 0.99),
            fb.len()
        );
        let _ = writeln!(
            md,
            "| metric | raft | raft-rs | 95 % CI of difference | verdict |\n|---|---|---|---|---|"
        );
        for (metric, label) in METRICS {
            let va: Vec<f64> = a.iter().filter_map(|r| r.value(metric)).collect();
            let vb: Vec<f64> = b.iter().filter_map(|r| r.value(metric)).collect();
            let ci = bootstrap_ci(&va, &vb, &mut rng);
            let verdict = match ci {
                None => "not measured".to_string(),
                Some(_) if runs < MIN_RUNS => format!("not tested ({runs} runs < {MIN_RUNS})"),
                Some((lo, hi)) if lo <= 0.0 && hi >= 0.0 => "agree".to_string(),
                Some(_) => match case.explain.get(metric) {
                    Some(why) => format!("differ: {why}"),
                    None => {
                        unexplained += 1;
                        "UNEXPLAINED".to_string()
                    }
                },
            };
            let f = |v: Option<f64>| v.map(|x| format!("{x:.4}")).unwrap_or_default();
            let (lo, hi) = ci.map_or((None, None), |(l, h)| (Some(l), Some(h)));
            let _ = writeln!(
                csv,
                "{},{metric},{},{},{},{},\"{}\"",
                case.name,
                f(mean(&va)),
                f(mean(&vb)),
                f(lo),
                f(hi),
                verdict.replace('"', "'")
            );
            let g = |v: Option<f64>| v.map(|x| format!("{x:.3}")).unwrap_or("—".into());
            let _ = writeln!(
                md,
                "| {label} | {} | {} | [{}, {}] | {verdict} |",
                g(mean(&va)),
                g(mean(&vb)),
                g(lo),
                g(hi)
            );
        }
        let _ = writeln!(md);
    }
    (csv, md, unexplained)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_interval_brackets_the_true_difference_and_excludes_zero_when_far() {
        let a: Vec<f64> = (0..50).map(|i| f64::from(i % 10)).collect(); // mean 4.5
        let b: Vec<f64> = a.iter().map(|x| x + 10.0).collect(); // mean 14.5
        let mut rng = SimRng::new(1, Stream::Explore);
        let (lo, hi) = bootstrap_ci(&a, &b, &mut rng).unwrap();
        assert!(lo < 10.0 && hi > 10.0 && lo > 0.0, "[{lo}, {hi}]");
        let (lo, hi) = bootstrap_ci(&a, &a, &mut rng).unwrap();
        assert!(lo <= 0.0 && hi >= 0.0, "[{lo}, {hi}]");
    }

    fn row(failover: f64) -> RunRow {
        RunRow {
            failover_ms: vec![failover],
            election_msgs: Some(8.0),
            leader_changes: 9.0,
            availability: 0.9,
        }
    }

    #[test]
    fn a_difference_needs_a_named_explanation() {
        let case = |explain: &[(&str, &str)]| RawCase {
            name: "c".into(),
            description: "d".into(),
            set: Vec::new(),
            explain: explain
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        // raft-rs fails over 50 ms sooner in every run; the other metrics are identical.
        let rows = vec![
            (0..30).map(|i| row(200.0 + f64::from(i))).collect(),
            (0..30).map(|i| row(150.0 + f64::from(i))).collect(),
        ];
        let cases = |c| RawCases {
            base: PathBuf::new(),
            runs: 30,
            case: vec![c],
        };
        let (_, md, unexplained) = agreement(&cases(case(&[])), &rows, 30);
        assert_eq!(unexplained, 1, "{md}");
        assert!(
            md.contains("| UNEXPLAINED |") && md.matches("| agree |").count() == 3,
            "{md}"
        );
        let (csv, md, unexplained) =
            agreement(&cases(case(&[("failover_ms", "tick phase")])), &rows, 30);
        assert_eq!(unexplained, 0);
        assert!(md.contains("differ: tick phase"), "{md}");
        assert!(csv.contains("c,failover_ms,214.5000,164.5000,"), "{csv}");
        // Too few runs for a verdict: figures only.
        let (_, md, unexplained) = agreement(&cases(case(&[])), &rows, 5);
        assert_eq!(unexplained, 0);
        assert!(md.contains("not tested (5 runs < 20)"), "{md}");
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v = [5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(percentile(&v, 0.5), Some(3.0));
        assert_eq!(percentile(&v, 0.9), Some(5.0));
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
