//! Batch sweeps: every point of a scenario's `[sweep]` axes × its replications, run in
//! parallel, written as tidy, sorted, byte-reproducible CSV.
//!
//! ```text
//! scenario file ──ScenarioFile::axes──▶ axes ──cartesian product──▶ sweep points
//!     (every point instantiated and validated up front; a bad axis stops everything)
//! point p × replication r ──seeds::run_seed(seed, r)──▶ runner::run ──▶ one CSV row
//!     (rows land in runs.partial.csv as they finish, in any order)
//! journal ──sort by (point, replication)──▶ runs.csv ──per point──▶ summary.csv
//! ```
//!
//! * **Paired seeds**: replication `r` of every point uses the same run seed
//!   ([`seeds::run_seed`]), so all configurations meet the same fault plan and network draws.
//! * **Determinism**: a row is a pure function of (scenario file, overrides, point,
//!   replication); the final files are sorted and written atomically, so they are
//!   byte-identical for any `--jobs`, any `--shard` split (after [`merge::merge`]), and any
//!   number of interruptions followed by `--resume`.
//! * **Bounded memory**: no trace is kept; a run leaves one CSV line. The final sort holds
//!   one small index entry per run, and the summary one sweep point's rows at a time.
//!
//! The library entry point is [`run_sweep`]; `electsim sweep` is a thin wrapper over it.

pub mod csv;
pub mod elections;
pub mod manifest;
pub mod merge;
pub mod outdir;
pub mod output;
mod points;
mod rowcheck;
pub mod seeds;
pub mod shard;
pub mod summary;

use crate::report::run::RunReport;
use crate::runner::{self, RunError};
use crate::scenario::{
    Assignment, Axis, MAX_SWEEP_POINTS, Origin, Scenario, ScenarioError, ScenarioFile, locate,
};
use crate::sim::SimError;
use manifest::Manifest;
use outdir::{OutDir, Replace};
use output::{Entry, JOURNAL, MANIFEST, RUNS_CSV, SUMMARY_CSV, Written, io_err};
use shard::Shard;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Default: ask for `--yes` above this many runs in one invocation.
pub const DEFAULT_CONFIRM_RUNS: u64 = 1_000_000;
/// Default: ask for `--yes` above this many estimated events in one invocation.
pub const DEFAULT_CONFIRM_EVENTS: f64 = 1e10;
/// Most worker threads `--jobs` may ask for: a bound, so `-j 100000` fails at once instead
/// of after spawning threads.
pub const MAX_JOBS: usize = 1024;

/// `--jobs` must be 1 to [`MAX_JOBS`].
pub fn check_jobs(jobs: Option<usize>) -> Result<(), SweepError> {
    match jobs {
        Some(0) => Err(SweepError::Usage("--jobs must be at least 1".into())),
        Some(j) if j > MAX_JOBS => Err(SweepError::Usage(format!(
            "--jobs {j}: at most {MAX_JOBS} worker threads"
        ))),
        _ => Ok(()),
    }
}

/// Event budget of each pilot run used for the estimate.
pub const PILOT_MAX_EVENTS: u64 = 100_000;

/// What to sweep and how.
#[derive(Clone, Debug)]
pub struct SweepOptions {
    /// The scenario file.
    pub scenario: PathBuf,
    /// Output directory. Default: `results/<scenario name>/`, and
    /// `results/<scenario name>/shard-K-of-N/` with `shard`.
    pub out: Option<PathBuf>,
    /// Worker threads (a local pool; default: all cores).
    pub jobs: Option<usize>,
    /// Replications per point, overriding the scenario's `runs`.
    pub runs: Option<u32>,
    /// Overrides, applied to every point after the axis values. A key that is an axis
    /// collapses the axis to that one value; `sweep.KEY=[...]` replaces (or adds) an axis.
    pub sets: Vec<Assignment>,
    /// Run only this slice of the runs.
    pub shard: Option<Shard>,
    /// Keep the finished runs found in the output directory and run only the rest.
    pub resume: bool,
    /// What the output directory may already hold (see [`outdir`]); `--force` is
    /// [`Replace::Anything`].
    pub replace: Replace,
    /// Build charts after a complete sweep (see [`charts_hook`]).
    pub charts: bool,
    /// Start even when the sweep is above the confirmation limits.
    pub yes: bool,
    /// No plan line, no progress bar.
    pub quiet: bool,
    /// Ask for `yes` above this many runs (to execute in this invocation).
    pub confirm_runs: u64,
    /// Ask for `yes` above this many estimated events (in this invocation).
    pub confirm_events: f64,
}

impl SweepOptions {
    /// Defaults for everything but the scenario.
    pub fn new(scenario: impl Into<PathBuf>) -> Self {
        SweepOptions {
            scenario: scenario.into(),
            out: None,
            jobs: None,
            runs: None,
            sets: Vec::new(),
            shard: None,
            resume: false,
            replace: Replace::SameSweep,
            charts: true,
            yes: false,
            quiet: false,
            confirm_runs: DEFAULT_CONFIRM_RUNS,
            confirm_events: DEFAULT_CONFIRM_EVENTS,
        }
    }
}

/// What a sweep did.
#[derive(Clone, Debug)]
pub struct SweepResult {
    /// Directory the results were written to.
    pub out_dir: PathBuf,
    /// Sweep points.
    pub points: usize,
    /// Runs of the whole sweep.
    pub runs_total: u64,
    /// Runs of this shard (= `runs_total` without a shard).
    pub runs_selected: u64,
    /// Runs executed by this call.
    pub runs_executed: u64,
    /// Runs found finished in the output directory (`--resume`).
    pub runs_resumed: u64,
    /// Rows with an `error` among the selected runs.
    pub failed_runs: u64,
    /// Kernel events of the runs executed by this call.
    pub events_executed: u64,
    /// Kernel events the runs of this call were estimated to take before they started (pilot
    /// runs; 0 when nothing was estimated), to compare with `events_executed`.
    pub estimated_events: f64,
    /// True when `runs.csv` and `summary.csv` of the whole sweep were written (false for a shard).
    pub complete: bool,
    /// Files written (final outputs and manifest).
    pub files: Vec<PathBuf>,
    /// Wall-clock time of this call (for people; never written into result files).
    pub elapsed: Duration,
}

/// Why a sweep did not run or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The scenario file (or an override) is invalid.
    #[error(transparent)]
    Scenario(Box<ScenarioError>),
    /// One sweep point is invalid.
    #[error("{error}\n  in sweep point {point} ({params}){note}")]
    Point {
        /// 0-based index of the point.
        point: usize,
        /// The point's axis values, rendered for the message.
        params: String,
        /// Why the scenario is invalid at this point.
        error: Box<ScenarioError>,
        /// Extra hint appended to the message (may be empty).
        note: String,
    },
    /// Bad options (shard, jobs, output path).
    #[error("{0}")]
    Usage(String),
    /// Over the confirmation limits without `--yes`.
    #[error("{0}")]
    NeedsConfirmation(String),
    /// `--resume` or `merge` found results of another sweep, or the output directory holds
    /// results that may not be replaced.
    #[error("{0}")]
    Mismatch(String),
    /// Another electsim process is writing the output directory.
    #[error("{0}")]
    Busy(String),
    /// A results file that is not what this sweep writes.
    #[error("{}:{line}: {message}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// Reading or writing a results file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The worker thread pool could not be built.
    #[error("cannot start worker threads: {0}")]
    Pool(String),
}

impl From<ScenarioError> for SweepError {
    fn from(e: ScenarioError) -> Self {
        SweepError::Scenario(Box::new(e))
    }
}

impl SweepError {
    /// The CLI exit code: 2 for bad input or usage (nothing was run), 1 for I/O failures.
    pub fn exit_code(&self) -> i32 {
        match self {
            SweepError::Io { .. } | SweepError::Pool(_) => 1,
            _ => 2,
        }
    }
}

/// One sweep point: axis values and the validated scenario they give.
#[derive(Clone, Debug)]
pub struct Point {
    /// 0-based index of the point (the `point` column), in output order.
    pub index: usize,
    /// The axis assignments, in axis order.
    pub assignments: Vec<Assignment>,
    /// Rendered `param_*` cells, in axis order.
    pub params: Vec<String>,
    /// The scenario with this point's values and the overrides applied.
    pub scenario: Scenario,
    /// Number (in output order) of this point's replication 0.
    pub first_run: u64,
}

/// A validated sweep: every point instantiated, the CSV columns fixed.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The scenario file the sweep instantiates.
    pub file: ScenarioFile,
    /// Sweep axes (`[sweep]` table plus list-valued overrides), in file order.
    pub axes: Vec<Axis>,
    /// Overrides applied after the axis values (not the ones folded into axes).
    pub sets: Vec<Assignment>,
    /// `--runs` as an assignment (applied last, not part of replay commands).
    pub runs_override: Option<Assignment>,
    /// Every point, in output order.
    pub points: Vec<Point>,
    /// Message kinds of every algorithm in the sweep, sorted and deduplicated.
    pub kinds: Vec<&'static str>,
    /// `runs.csv` column names.
    pub header: Vec<String>,
    /// Runs of the whole sweep: the sum of every point's `runs`.
    pub runs_total: u64,
    /// The manifest written with the results.
    pub manifest: Manifest,
}

fn override_text(a: &Assignment) -> String {
    match &a.origin {
        Origin::Override(s) => s.clone(),
        _ => format!("{}={}", a.key, csv::param_value(&a.value)),
    }
}

impl Plan {
    /// Read the scenario, fold overrides into the axes, and instantiate every point.
    pub fn build(
        scenario: &Path,
        sets: &[Assignment],
        runs: Option<u32>,
    ) -> Result<Plan, SweepError> {
        let file = ScenarioFile::read(scenario)?;
        let mut axes = file.axes()?;
        // Per axis: the override that replaced its values, if any.
        let mut axis_origin: Vec<Option<Origin>> = vec![None; axes.len()];
        let mut plain = Vec::new();
        for a in sets {
            if let Some(key) = a.key.strip_prefix("sweep.") {
                let values = match &a.value {
                    toml::Value::Array(v) => v.clone(),
                    other => vec![other.clone()],
                };
                let text = override_text(a);
                if values.is_empty() {
                    return Err(SweepError::Usage(format!(
                        "`{text}`: a sweep axis needs at least one value"
                    )));
                }
                if let Some(dup) = values
                    .iter()
                    .enumerate()
                    .find(|(j, v)| values[..*j].contains(v))
                {
                    return Err(SweepError::Usage(format!(
                        "`{text}`: the value {} appears twice",
                        dup.1
                    )));
                }
                match axes.iter().position(|x| x.key == key) {
                    Some(i) => {
                        axes[i].values = values;
                        axis_origin[i] = None;
                    }
                    None => {
                        axes.push(Axis {
                            key: key.to_string(),
                            values,
                            table: None,
                        });
                        axis_origin.push(None);
                    }
                }
            } else if let Some(i) = axes.iter().position(|x| x.key == a.key) {
                axes[i].values = vec![a.value.clone()];
                axis_origin[i] = Some(a.origin.clone());
            } else {
                plain.push(a.clone());
            }
        }
        // `runs` is the replications of every point: an axis would make `param_runs`
        // disagree with the rows (and runs numbering assumes the same count everywhere).
        if axes.iter().any(|a| a.key == "runs") {
            return Err(SweepError::Usage(
                "`runs` cannot be a sweep axis: every sweep point has the same number of replications; set `runs = N` in the file or pass --runs N".into(),
            ));
        }
        points::column_order(&mut axes, &mut axis_origin);
        // An upper bound: per-algorithm axes multiply only their algorithm's points.
        let n_points = axes
            .iter()
            .try_fold(1usize, |acc, a| acc.checked_mul(a.values.len()))
            .unwrap_or(usize::MAX);
        if n_points > MAX_SWEEP_POINTS {
            return Err(SweepError::Usage(format!(
                "{n_points} sweep points; at most {MAX_SWEEP_POINTS} are allowed"
            )));
        }
        let runs_override = runs.map(|r| Assignment {
            key: "runs".into(),
            value: toml::Value::Integer(i64::from(r)),
            origin: Origin::Override(format!("--runs {r}")),
        });

        let combos = points::combos(&file, &axes, &axis_origin, &plain)?;
        let mut points = Vec::with_capacity(combos.len());
        let mut first_run = 0u64;
        for (
            index,
            points::Combo {
                assignments,
                params,
            },
        ) in combos.into_iter().enumerate()
        {
            let mut all = assignments.clone();
            all.extend(plain.iter().cloned());
            all.extend(runs_override.iter().cloned());
            let scenario = file
                .instantiate(&all)
                .map_err(|error| point_error(&file, &axes, index, &assignments, &plain, error))?;
            let runs = u64::from(scenario.runs);
            points.push(Point {
                index,
                assignments,
                params,
                scenario,
                first_run,
            });
            first_run += runs;
        }
        let runs_total = first_run;

        let mut kinds: Vec<&'static str> = Vec::new();
        // The quorum detector's query kinds get columns only in sweeps that use it, so that
        // other sweeps keep their columns.
        let queries = points
            .iter()
            .any(|p| crate::protocols::uses_suspect_queries(&p.scenario.algorithm));
        for p in &points {
            kinds.extend(
                p.scenario
                    .algorithm
                    .message_kinds()
                    .iter()
                    .filter(|k| queries || !crate::protocols::detector::QUERY_KINDS.contains(k)),
            );
        }
        kinds.sort_unstable();
        kinds.dedup();
        let axis_keys: Vec<String> = axes.iter().map(|a| a.key.clone()).collect();
        let header = csv::runs_header(&axis_keys, &kinds);

        let path_text = file.path.display().to_string();
        let mut overrides: Vec<String> = sets.iter().map(override_text).collect();
        overrides.extend(runs_override.iter().map(override_text));
        let manifest = Manifest {
            format: manifest::FORMAT.to_string(),
            electsim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: points
                .first()
                .map_or_else(String::new, |p| p.scenario.name.clone()),
            scenario_hash: manifest::scenario_hash(&path_text, &file.text, &overrides),
            scenario_path: path_text,
            overrides,
            points: points.len() as u64,
            runs_total,
            shard: None,
        };
        Ok(Plan {
            file,
            axes,
            sets: plain,
            runs_override,
            points,
            kinds,
            header,
            runs_total,
            manifest,
        })
    }

    /// The point and replication of run number `run` (0-based, output order).
    pub fn locate(&self, run: u64) -> (usize, u32) {
        let p = self.points.partition_point(|p| p.first_run <= run) - 1;
        (p, (run - self.points[p].first_run) as u32)
    }

    /// The run number of (point, replication), if both exist.
    pub fn run_number(&self, point: u64, replication: u32) -> Option<u64> {
        let p = self.points.get(usize::try_from(point).ok()?)?;
        (replication < p.scenario.runs).then(|| p.first_run + u64::from(replication))
    }

    /// The assignments a replay of `point` needs, in the order the sweep applied them.
    pub fn replay_sets(&self, point: &Point) -> Vec<Assignment> {
        point
            .assignments
            .iter()
            .chain(&self.sets)
            .cloned()
            .collect()
    }

    /// The header line of runs.csv.
    pub fn header_line(&self) -> String {
        csv::csv_line(&self.header)
    }

    /// Run (point, replication) and render its row (a failed run gives a row with `error`).
    pub fn run_row(&self, point: usize, replication: u32) -> (String, Option<u64>) {
        let p = &self.points[point];
        let sc = &p.scenario;
        let seed = seeds::run_seed(sc.seed, replication);
        let replay = crate::runner::replay_command(&self.file.path, &self.replay_sets(p), seed);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            runner::run(sc, seed, Vec::new())
        }));
        let id = csv::RowIdentity {
            scenario: &sc.name,
            point,
            replication,
            seed,
            params: &p.params,
            algorithm: sc.algorithm.name(),
            nodes: sc.nodes,
            replay: &replay,
        };
        let (cells, events) = match result {
            Ok(Ok(outcome)) => {
                let report = RunReport::new(sc, seed, &outcome, replay.clone());
                (
                    csv::row_cells(&id, &self.kinds, Ok(&report)),
                    Some(outcome.events),
                )
            }
            Ok(Err(e)) => (csv::row_cells(&id, &self.kinds, Err(&e.to_string())), None),
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                (
                    csv::row_cells(&id, &self.kinds, Err(&format!("panic: {msg}"))),
                    None,
                )
            }
        };
        (csv::csv_line(&cells), events)
    }
}

/// Turn an instantiation error of a point into one that names the point and the axis line.
fn point_error(
    file: &ScenarioFile,
    axes: &[Axis],
    index: usize,
    assignments: &[Assignment],
    plain: &[Assignment],
    error: ScenarioError,
) -> SweepError {
    let params = assignments
        .iter()
        .map(|a| format!("{}={}", a.key, csv::param_value(&a.value)))
        .collect::<Vec<_>>()
        .join(", ");
    // A schema error (unknown key, wrong type) does not depend on the other axes: find the
    // axis that causes it on its own, so the message can point at it.
    let mut error = error;
    if matches!(error, ScenarioError::Parse { .. }) {
        for a in assignments {
            let mut one = vec![a.clone()];
            one.extend(plain.iter().cloned());
            if let Err(e @ ScenarioError::Parse { .. }) = file.instantiate(&one) {
                error = e;
                break;
            }
        }
    }
    let axis = match &error {
        ScenarioError::Field {
            origin: Origin::SweepAxis { axis, .. },
            ..
        }
        | ScenarioError::Parse {
            origin: Origin::SweepAxis { axis, .. },
            ..
        } => Some(axis.clone()),
        _ => None,
    };
    let note = axis
        .and_then(|k| {
            let line = match locate(&file.text, &format!("sweep.{k}"))? {
                Origin::File { line, column, .. } => {
                    format!("{}:{line}:{column}", file.path.display())
                }
                _ => return None,
            };
            axes.iter()
                .any(|a| a.key == k)
                .then(|| format!("\n  the axis `{k}` is defined at {line}"))
        })
        .unwrap_or_default();
    SweepError::Point {
        point: index,
        params,
        error: Box::new(error),
        note,
    }
}

/// Where the charts of a complete sweep will be built.
///
/// Draw the charts of a finished sweep into `out_dir/charts/`, from `runs.csv` and
/// `summary.csv` only (the same as `electsim chart DIR`). `--no-charts` sets
/// [`SweepOptions::charts`] to false, which skips this call.
pub fn charts_hook(out_dir: &Path, _header: &[String]) -> Result<Vec<PathBuf>, SweepError> {
    crate::report::charts::chart_dir(out_dir).map_err(|e| SweepError::Io {
        path: out_dir.join("charts"),
        source: std::io::Error::other(e.to_string()),
    })
}

/// The per-algorithm event rates measured by pilot runs and the resulting estimate.
#[derive(Clone, Debug, Default)]
pub struct Estimate {
    /// (algorithm name, events per node per virtual second measured by its pilot run).
    pub rates: Vec<(&'static str, f64)>,
    /// Estimated kernel events of all pending runs (the sum of `r · n · d` over them).
    pub events: f64,
}

/// Estimate the kernel events of the runs still to do: one pilot run (replication 0, at most
/// [`PILOT_MAX_EVENTS`] events) of each algorithm's smallest point measures its events per
/// node per virtual second `r`; a run of `n` nodes for `d` virtual seconds is then counted
/// as `r · n · d` events.
pub fn estimate(plan: &Plan, pending_per_point: &[u64]) -> Estimate {
    let mut est = Estimate::default();
    for p in &plan.points {
        let alg = p.scenario.algorithm.name();
        if pending_per_point[p.index] == 0 || est.rates.iter().any(|(a, _)| *a == alg) {
            continue;
        }
        let pilot = plan
            .points
            .iter()
            .filter(|q| q.scenario.algorithm.name() == alg && pending_per_point[q.index] > 0)
            .min_by_key(|q| (q.scenario.nodes, q.index))
            .expect("p itself qualifies");
        let mut sc = pilot.scenario.clone();
        sc.max_events = sc.max_events.min(PILOT_MAX_EVENTS);
        let node_s = |secs: f64| f64::from(sc.nodes) * secs;
        let seed = seeds::run_seed(sc.seed, 0);
        // A pilot that fails or panics gives no rate; the run itself will report the problem.
        let pilot = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            runner::run(&sc, seed, Vec::new())
        }));
        let rate = match pilot.unwrap_or(Err(RunError::Plan(String::new()))) {
            Ok(o) => o.events as f64 / node_s(sc.duration.0 as f64 / 1e9).max(1e-9),
            Err(RunError::Sim(SimError::EventLimit { limit, at })) => {
                limit as f64 / node_s(at.0 as f64 / 1e9).max(1e-9)
            }
            Err(_) => 0.0,
        };
        est.rates.push((alg, rate));
    }
    for p in &plan.points {
        let rate = est
            .rates
            .iter()
            .find(|(a, _)| *a == p.scenario.algorithm.name())
            .map_or(0.0, |r| r.1);
        est.events += pending_per_point[p.index] as f64
            * rate
            * f64::from(p.scenario.nodes)
            * (p.scenario.duration.0 as f64 / 1e9);
    }
    est
}

/// The pending runs, longest expected first (the estimate's `r · n · d` cost of the run's
/// point; ties in run order). Scheduling the longest runs first keeps a mixed sweep from
/// ending on one long run while the other cores idle (longest-processing-time-first list
/// scheduling, within 4/3 of the best possible finish).
pub fn longest_first(plan: &Plan, est: &Estimate, pending: &[u64]) -> Vec<u64> {
    let cost = |point: usize| {
        let sc = &plan.points[point].scenario;
        let rate = est
            .rates
            .iter()
            .find(|(a, _)| *a == sc.algorithm.name())
            .map_or(0.0, |r| r.1);
        rate * f64::from(sc.nodes) * (sc.duration.0 as f64 / 1e9)
    };
    let mut order: Vec<(f64, u64)> = pending
        .iter()
        .map(|&run| (cost(plan.locate(run).0), run))
        .collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    order.into_iter().map(|(_, run)| run).collect()
}

/// A file-system-safe form of a scenario name for the default output directory.
fn dir_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with('.') {
        format!("_{s}")
    } else {
        s
    }
}

/// The output directory for these options and plan.
pub fn default_out(name: &str, shard: Option<Shard>) -> PathBuf {
    let base = Path::new("results").join(dir_name(name));
    match shard {
        Some(s) => base.join(format!("shard-{}-of-{}", s.index, s.count)),
        None => base,
    }
}

/// Check that `dir` can be an output directory (missing or a directory).
pub fn check_out_dir(dir: &Path) -> Result<(), SweepError> {
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => Err(SweepError::Usage(format!(
            "the output path `{}` exists and is not a directory; pass --out DIR with a directory",
            dir.display()
        ))),
        _ => Ok(()),
    }
}

/// What `--resume` found.
struct Resume {
    /// Where the finished rows are (journal or a previous runs.csv).
    source: Option<PathBuf>,
    /// Finished selected runs, by run number.
    done: Vec<bool>,
    done_count: u64,
    /// Journal length to keep (a torn last line is cut off), if the source is the journal.
    keep_len: Option<u64>,
}

/// Find the finished runs of this sweep: in the journal of an interrupted sweep (in the
/// staging directory), else in a finished `runs.csv` in the output directory.
fn read_resume(
    plan: &Plan,
    out: &OutDir,
    manifest: &Manifest,
    selected: impl Fn(u64) -> bool,
) -> Result<Resume, SweepError> {
    let mut r = Resume {
        source: None,
        done: vec![false; plan.runs_total as usize],
        done_count: 0,
        keep_len: None,
    };
    let journal = out.stage().join(JOURNAL);
    let runs = out.dir().join(RUNS_CSV);
    let (source, dir) = if journal.is_file() {
        (journal.clone(), out.stage())
    } else if runs.is_file() {
        (runs, out.dir())
    } else {
        return Ok(r);
    };
    let mpath = dir.join(MANIFEST);
    let text = crate::input::read_text(&mpath, crate::input::Kind::Manifest).map_err(|_| {
        SweepError::Mismatch(format!(
            "refusing to resume in `{}`: it holds {} but no {MANIFEST}, so it cannot be matched to this sweep",
            dir.display(),
            source.file_name().unwrap_or_default().to_string_lossy()
        ))
    })?;
    let found = Manifest::from_json(&text).map_err(|m| output::corrupt(&mpath, 1, &m))?;
    let why = manifest.mismatch(&found).or_else(|| {
        (found.shard != manifest.shard).then(|| {
            let s = |s: Option<Shard>| {
                s.map_or("the whole sweep".to_string(), |s| format!("shard {s}"))
            };
            format!("it holds {}, this is {}", s(found.shard), s(manifest.shard))
        })
    });
    if let Some(why) = why {
        return Err(SweepError::Mismatch(format!(
            "refusing to resume in `{}`: {why}; choose another --out, or run without --resume to start over",
            dir.display()
        )));
    }
    // Every kept row must be the one this sweep writes for its (point, replication).
    let scan = output::scan(&source, Some(plan.header.len()), &|p, r, cells| {
        plan.row_mismatch(p, r, cells)
    })?;
    if scan.header_line != plan.header_line() {
        return Err(output::corrupt(
            &source,
            1,
            "the header does not match this sweep's columns",
        ));
    }
    for (i, e) in scan.entries.iter().enumerate() {
        let run = plan
            .run_number(e.point, e.replication)
            .filter(|&n| selected(n))
            .ok_or_else(|| {
                output::corrupt(
                    &source,
                    i as u64 + 2,
                    "a run that is not part of this sweep (or shard)",
                )
            })?;
        if !r.done[run as usize] {
            r.done[run as usize] = true;
            r.done_count += 1;
        }
    }
    if source == journal {
        r.keep_len = Some(scan.complete_len);
    }
    r.source = Some(source);
    Ok(r)
}

/// Run a sweep: validate every point, estimate, run what is missing in parallel, and write
/// the results. See the module docs for the guarantees.
pub fn run_sweep(opts: &SweepOptions) -> Result<SweepResult, SweepError> {
    let started = Instant::now();
    check_jobs(opts.jobs)?;
    let jobs = match opts.jobs {
        Some(j) => j,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    if opts.runs == Some(0) {
        return Err(SweepError::Usage("--runs must be at least 1".into()));
    }
    let mut plan = Plan::build(&opts.scenario, &opts.sets, opts.runs)?;
    plan.manifest.shard = opts.shard;
    let dir = opts
        .out
        .clone()
        .unwrap_or_else(|| default_out(&plan.manifest.scenario, opts.shard));
    check_out_dir(&dir)?;
    let selected = |run: u64| opts.shard.is_none_or(|s| s.contains(run));
    let runs_selected = (0..plan.runs_total).filter(|&r| selected(r)).count() as u64;

    // Locked before anything in it is read; refused before anything is run.
    let mut out = OutDir::lock(&dir)?;
    let stage = out.stage().to_path_buf();
    let resume = if opts.resume {
        read_resume(&plan, &out, &plan.manifest, selected)?
    } else {
        Resume {
            source: None,
            done: vec![false; plan.runs_total as usize],
            done_count: 0,
            keep_len: None,
        }
    };
    out.check_owner(&plan.manifest, opts.replace)?;
    let pending: Vec<u64> = (0..plan.runs_total)
        .filter(|&r| selected(r) && !resume.done[r as usize])
        .collect();
    let mut pending_per_point = vec![0u64; plan.points.len()];
    for &r in &pending {
        pending_per_point[plan.locate(r).0] += 1;
    }
    let est = estimate(&plan, &pending_per_point);
    let per_point = match plan
        .points
        .iter()
        .map(|p| p.scenario.runs)
        .collect::<std::collections::BTreeSet<_>>()
    {
        s if s.len() == 1 => format!("{} runs", s.first().copied().unwrap_or(0)),
        _ => "varying runs".to_string(),
    };
    let plan_text = format!(
        "sweep `{}`: {} point(s) x {per_point} = {} runs{}{}; {} to run on {jobs} thread(s)\nestimated ~{:.3e} events (pilot events per node per virtual second: {})",
        plan.manifest.scenario,
        plan.points.len(),
        plan.runs_total,
        opts.shard.map_or(String::new(), |s| format!(
            ", shard {s} has {runs_selected}"
        )),
        if resume.done_count > 0 {
            format!(", {} already done", resume.done_count)
        } else {
            String::new()
        },
        pending.len(),
        est.events,
        if est.rates.is_empty() {
            "-".to_string()
        } else {
            est.rates
                .iter()
                .map(|(a, r)| format!("{a} {r:.1}"))
                .collect::<Vec<_>>()
                .join(", ")
        },
    );
    if (pending.len() as u64 > opts.confirm_runs || est.events > opts.confirm_events) && !opts.yes {
        return Err(SweepError::NeedsConfirmation(format!(
            "{plan_text}\nthis is above the confirmation limit ({} runs or {:.0e} events); pass --yes to start it, or make it smaller (--runs, --set sweep.KEY=[...], --shard K/N)",
            opts.confirm_runs, opts.confirm_events
        )));
    }
    if !opts.quiet {
        eprintln!("{plan_text}");
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| SweepError::Pool(e.to_string()))?;

    // From here on the staging directory is written; the output directory only at the end.
    let journal_path = stage.join(JOURNAL);
    if resume.keep_len.is_none() {
        out.fresh_stage()?;
    }
    match (&resume.source, resume.keep_len) {
        (Some(_), Some(len)) => {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(&journal_path)
                .map_err(io_err(&journal_path))?;
            f.set_len(len).map_err(io_err(&journal_path))?;
        }
        (Some(runs_csv), None) => {
            // A finished runs.csv seeds the journal; it has the same header and rows.
            crate::fsutil::write_hook(&journal_path).map_err(io_err(&journal_path))?;
            std::fs::copy(runs_csv, &journal_path).map_err(io_err(&journal_path))?;
        }
        (None, _) => {
            crate::fsutil::write_atomic(&journal_path, plan.header_line().as_bytes())
                .map_err(io_err(&journal_path))?;
        }
    }
    let manifest_path = stage.join(MANIFEST);
    crate::fsutil::write_atomic(&manifest_path, plan.manifest.to_json().as_bytes())
        .map_err(io_err(&manifest_path))?;

    let journal = std::fs::OpenOptions::new()
        .append(true)
        .open(&journal_path)
        .map_err(io_err(&journal_path))?;
    let journal = Mutex::new(journal);
    let events = AtomicU64::new(0);
    let bar = progress_bar(pending.len() as u64, opts.quiet);
    let plan_ref = &plan;
    let order = longest_first(&plan, &est, &pending);
    let next = AtomicUsize::new(0);
    let failure: Mutex<Option<SweepError>> = Mutex::new(None);
    // Greedy list scheduling over the longest-first order: each worker takes the next run
    // when it finishes one, so the sweep ends with short runs on every core rather than
    // one long run on one core. Output order does not depend on this: rows are sorted.
    pool.broadcast(|_| {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(&run) = order.get(i) else { break };
            let (point, replication) = plan_ref.locate(run);
            let (line, ev) = plan_ref.run_row(point, replication);
            events.fetch_add(ev.unwrap_or(0), Ordering::Relaxed);
            let mut f = journal.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(e) = f.write_all(line.as_bytes()) {
                drop(f);
                next.store(order.len(), Ordering::Relaxed);
                failure
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_or_insert(io_err(&journal_path)(e));
                break;
            }
            drop(f);
            bar.inc(1);
        }
    });
    if let Some(e) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    bar.finish_and_clear();
    let journal = journal.into_inner().unwrap_or_else(|e| e.into_inner());
    journal.sync_all().map_err(io_err(&journal_path))?;
    drop(journal);

    // Sort the journal into the final files.
    let scan = output::scan(&journal_path, Some(plan.header.len()), &|_, _, _| None)?;
    let mut entries: Vec<(u64, Entry)> = Vec::with_capacity(scan.entries.len());
    for (i, e) in scan.entries.into_iter().enumerate() {
        let run = plan
            .run_number(e.point, e.replication)
            .filter(|&n| selected(n))
            .ok_or_else(|| {
                output::corrupt(
                    &journal_path,
                    i as u64 + 2,
                    "a run that is not part of this sweep (or shard)",
                )
            })?;
        entries.push((run, e));
    }
    entries.sort_by_key(|(run, _)| *run);
    entries.dedup_by_key(|(run, _)| *run);
    if entries.len() as u64 != runs_selected {
        return Err(output::corrupt(
            &journal_path,
            0,
            &format!(
                "{} of {runs_selected} runs finished; run again with --resume",
                entries.len()
            ),
        ));
    }
    let rows = output::read_entries(&journal_path, entries.into_iter().map(|(_, e)| e).collect())?;
    let whole = opts.shard.is_none();
    let written: Written = output::write_outputs(&stage, &plan.header_line(), rows, whole)?;
    let mut files = vec![manifest_path, stage.join(RUNS_CSV)];
    if whole {
        for w in coverage_warnings(&plan, &written.coverage) {
            eprintln!("warning: {w}");
        }
        files.push(stage.join(SUMMARY_CSV));
        files.push(elections::write_elections(&stage)?);
        if opts.charts {
            files.extend(charts_hook(&stage, &plan.header)?);
        }
    }
    // The journal stays until everything else is written, so a failure above can --resume.
    std::fs::remove_file(&journal_path).map_err(io_err(&journal_path))?;
    out.commit()?;
    let files = files
        .into_iter()
        .map(|f| {
            f.strip_prefix(&stage)
                .map_or(f.clone(), |rel| dir.join(rel))
        })
        .collect();
    Ok(SweepResult {
        out_dir: dir,
        points: plan.points.len(),
        runs_total: plan.runs_total,
        runs_selected,
        runs_executed: pending.len() as u64,
        runs_resumed: resume.done_count,
        failed_runs: written.failed,
        events_executed: events.into_inner(),
        estimated_events: est.events,
        complete: whole,
        files,
        elapsed: started.elapsed(),
    })
}

/// Whether some link of the scenario loses messages at random.
fn lossy(sc: &Scenario) -> bool {
    sc.network.default.loss > 0.0 || sc.network.overrides.values().any(|m| m.loss > 0.0)
}

/// Whether the scenario crashes a participant (scripted or at random).
fn crashes_a_participant(sc: &Scenario) -> bool {
    use crate::sim::{FaultAction, RandomFault, Target};
    sc.faults.iter().any(|f| match f.action {
        FaultAction::Crash { target, .. } => match target {
            Target::Node(n) => n < sc.nodes,
            Target::Leader | Target::Random => true,
        },
        _ => false,
    }) || sc
        .random_faults
        .iter()
        .any(|f| matches!(f, RandomFault::Crashes { rate_per_s, .. } if *rate_per_s > 0.0))
}

/// Situations a sweep point should reach but never did, over all its successful runs: one
/// message per rule, naming the points (see the README's "Coverage" rules).
///
/// * Raft with message loss > 0 and no split vote: a lost RequestVote or VoteResponse is the
///   usual way a Raft campaign fails, so a lossy Raft scenario without one most likely ran
///   too briefly, or with too little loss, to test elections under loss.
/// * ZooKeeper or etcd with a participant crash and no lease expiry: the crashed contender's
///   session must expire one TTL after its last keepalive, so none means the runs ended
///   before that (or the TTL exceeds the time left after the crash).
///
/// `coverage` is [`Written::coverage`]: per point, runs and coverage sums.
pub fn coverage_warnings(plan: &Plan, coverage: &BTreeMap<u64, (u64, Vec<u64>)>) -> Vec<String> {
    use crate::sim::metrics::COVERAGE_NAMES;
    let col = |name: &str| COVERAGE_NAMES.iter().position(|c| *c == name);
    let (Some(split), Some(expiry)) = (col("split_votes"), col("lease_expiries")) else {
        return Vec::new();
    };
    let never = |p: &Point, c: usize| {
        coverage
            .get(&(p.index as u64))
            .is_some_and(|(runs, sums)| *runs > 0 && sums.get(c) == Some(&0))
    };
    let list = |points: &[&Point]| {
        points
            .iter()
            .map(|p| {
                if p.params.is_empty() {
                    format!("{}", p.index)
                } else {
                    format!("{} ({})", p.index, p.params.join(", "))
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let mut out = Vec::new();
    let raft: Vec<&Point> = plan
        .points
        .iter()
        .filter(|p| p.scenario.algorithm.name() == "raft" && lossy(&p.scenario) && never(p, split))
        .collect();
    if !raft.is_empty() {
        out.push(format!(
            "coverage: Raft with message loss > 0 saw no split vote in any run at point(s) {}; \
             the scenario may not exercise elections under loss (longer runs, more loss or \
             more failovers would)",
            list(&raft)
        ));
    }
    let leases: Vec<&Point> = plan
        .points
        .iter()
        .filter(|p| {
            matches!(p.scenario.algorithm.name(), "zookeeper" | "etcd")
                && crashes_a_participant(&p.scenario)
                && never(p, expiry)
        })
        .collect();
    if !leases.is_empty() {
        out.push(format!(
            "coverage: a participant crashes but no session/lease expired in any run at \
             point(s) {}; the runs may end before the TTL elapses",
            list(&leases)
        ));
    }
    out
}

/// A progress bar on stderr (hidden when stderr is not a terminal, or with `quiet`).
pub(crate) fn progress_bar(len: u64, quiet: bool) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{elapsed_precise} [{bar:30}] {pos}/{len} runs  {rate}  ETA {eta}",
    ) {
        let rate = |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.1} runs/s", s.per_sec());
        };
        bar.set_style(style.with_key("rate", rate).progress_chars("=> "));
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_warnings_name_the_points_that_break_a_rule() {
        let dir = std::env::temp_dir().join(format!("electsim-covwarn-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("mixed.toml");
        std::fs::write(
            &path,
            "name = \"mixed\"\nduration = \"10s\"\nruns = 2\n[network]\nloss = 0.01\n\
             [[fault]]\nat = \"3s\"\ncrash = \"leader\"\n\
             [sweep]\nalgorithm = [\"raft\", \"zookeeper\", \"bully\"]\n",
        )
        .unwrap();
        let plan = Plan::build(&path, &[], None).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        // Points: 0 raft, 1 zookeeper, 2 bully. Sums in COVERAGE_NAMES order.
        let zero = vec![0u64; 8];
        let mut split = zero.clone();
        split[0] = 4;
        let mut expiry = zero.clone();
        expiry[3] = 1;
        let all_zero: BTreeMap<u64, (u64, Vec<u64>)> =
            (0..3).map(|p| (p, (2, zero.clone()))).collect();
        let w = coverage_warnings(&plan, &all_zero);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("no split vote") && w[0].contains("point(s) 0 (raft);"));
        assert!(
            w[1].contains("no session/lease expired") && w[1].contains("point(s) 1 (zookeeper);")
        );
        // Each rule is silenced by its own count only; Bully never warns.
        let fine: BTreeMap<u64, (u64, Vec<u64>)> =
            [(0, (2, split)), (1, (2, expiry)), (2, (2, zero.clone()))].into();
        assert!(coverage_warnings(&plan, &fine).is_empty());
        // A point whose runs all failed (no successful run) is not judged.
        assert!(coverage_warnings(&plan, &BTreeMap::new()).is_empty());
        let none: BTreeMap<u64, (u64, Vec<u64>)> = [(1, (0, zero))].into();
        assert!(coverage_warnings(&plan, &none).is_empty());
    }

    #[test]
    fn the_longest_runs_are_scheduled_first() {
        let dir = std::env::temp_dir().join(format!("electsim-lpt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("mixed.toml");
        std::fs::write(
            &path,
            "name = \"mixed\"\nduration = \"2s\"\nruns = 2\n[sweep]\nalgorithm = [\"bully\", \"raft\"]\nnodes = [3, 9]\n",
        )
        .unwrap();
        let plan = Plan::build(&path, &[], None).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        // Points in axis order: bully 3, bully 9, raft 3, raft 9; two runs each (0..8).
        // Costs r·n·d: bully 10·3·2 = 60 and 10·9·2 = 180; raft 4·3·2 = 24 and 4·9·2 = 72.
        let est = Estimate {
            rates: vec![("bully", 10.0), ("raft", 4.0)],
            events: 0.0,
        };
        let all: Vec<u64> = (0..8).collect();
        assert_eq!(
            longest_first(&plan, &est, &all),
            vec![2, 3, 6, 7, 0, 1, 4, 5]
        );
        // Only what is pending, in the same order.
        assert_eq!(longest_first(&plan, &est, &[0, 4, 7]), vec![7, 0, 4]);
    }
}
