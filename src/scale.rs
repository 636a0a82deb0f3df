//! `electsim scale`: what one run costs as the cluster grows (issue 15). Every (algorithm,
//! nodes) point of a scenario's `[sweep]` runs once, **in its own process** (`electsim bench
//! ... --repeats 1`), so the peak RSS read for it is its own and not a high-water mark left
//! by a larger point: the child's VmHWM as it reports it after the run, or as last read from
//! `/proc/PID/status` before a kill. Written into the output
//! directory, all atomically and all from the CSV (`--charts-only` redraws them):
//!
//! * `scale.csv` — one row per point: `algorithm, nodes, outcome, events, cpu_s` (user +
//!   system CPU of the point's process), `run_cpu_s` (the run's own thread CPU, as `bench`
//!   reports it), `wall_s`, `peak_rss_mib`, `load_avg_1m` (the machine's load when the point
//!   started) and `detail` (the error, or why the point was stopped or skipped);
//! * `scale-peak-rss.{png,svg}` and `scale-cpu.{png,svg}` — log–log, one line per algorithm,
//!   crosses at points that did not finish, every such point named in the subtitle;
//! * `scale.md` — the same figures as a table (algorithm x nodes).
//!
//! Limits: a point is killed when its CPU time passes `budget_s`, its wall time passes
//! [`WALL_GUARD`] times that (a loaded machine), or its RSS passes `rss_cap_mib` (polled
//! every 20 ms); an algorithm's larger sizes are then skipped. Sizes are never skipped on a
//! predicted time: a larger run can end sooner (Raft at 100 000 nodes stops with the
//! `max_in_flight` error within a second, where 10 000 nodes run 1 s to the end). The budget is CPU time so that which points finish depends little on the
//! machine's other work. Wall-clock time is read here, in the measuring process, and never
//! influences a simulation.

use crate::fsutil::write_atomic;
use crate::report::charts::{ChartError, LogLogSpec, Table, XySeries, fmt_num, loglog_chart};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Default CPU-time budget of one point, in seconds.
pub const DEFAULT_BUDGET_S: f64 = 60.0;
/// A point is also killed when its wall time passes this multiple of the CPU budget.
pub const WALL_GUARD: f64 = 3.0;
/// Default RSS cap of one point's process, in MiB.
pub const DEFAULT_RSS_CAP_MIB: f64 = 3000.0;
/// The CSV file written into the output directory.
pub const CSV_NAME: &str = "scale.csv";
/// The CSV columns, in order.
pub const COLUMNS: [&str; 10] = [
    "algorithm",
    "nodes",
    "outcome",
    "events",
    "cpu_s",
    "run_cpu_s",
    "wall_s",
    "peak_rss_mib",
    "load_avg_1m",
    "detail",
];

/// How a point ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The run reached its duration.
    Finished,
    /// The run stopped with an error (e.g. the `max_in_flight` limit); figures are up to it.
    Error,
    /// Killed at the CPU budget (or the wall-time guard); figures are up to the kill.
    Timeout,
    /// Killed at the RSS cap; figures are up to the kill.
    RssCap,
    /// Not run (see `detail`); no figures.
    Skipped,
}

impl Outcome {
    /// Every outcome, in the order of [`Outcome::name`]'s documentation.
    pub const ALL: [Outcome; 5] = [
        Outcome::Finished,
        Outcome::Error,
        Outcome::Timeout,
        Outcome::RssCap,
        Outcome::Skipped,
    ];

    /// The CSV name: `finished`, `error`, `timeout`, `rss_cap` or `skipped`.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Finished => "finished",
            Outcome::Error => "error",
            Outcome::Timeout => "timeout",
            Outcome::RssCap => "rss_cap",
            Outcome::Skipped => "skipped",
        }
    }

    /// The outcome of a CSV name.
    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.name() == s)
    }
}

/// One measured (or skipped) point.
#[derive(Clone, Debug, PartialEq)]
pub struct ScalePoint {
    /// Algorithm name.
    pub algorithm: String,
    /// Participant nodes.
    pub nodes: u32,
    /// How it ended.
    pub outcome: Outcome,
    /// Kernel events of the run (finished or error).
    pub events: Option<u64>,
    /// User + system CPU seconds of the point's process (up to the kill, if killed).
    pub cpu_s: Option<f64>,
    /// CPU seconds of the run itself (the simulating thread), when the child reported it.
    pub run_cpu_s: Option<f64>,
    /// Wall seconds of the point's process.
    pub wall_s: Option<f64>,
    /// Peak resident set size of the point's process (VmHWM), in MiB.
    pub peak_rss_mib: Option<f64>,
    /// 1-minute load average when the point started (other work on the machine).
    pub load_avg_1m: Option<f64>,
    /// The run's error, or why it was stopped or skipped; empty when finished.
    pub detail: String,
}

/// What to measure.
#[derive(Clone, Debug)]
pub struct ScaleOptions {
    /// The `electsim` binary that runs each point (`electsim bench`).
    pub exe: PathBuf,
    /// Scenario file; its `[sweep]` may vary `algorithm` and `nodes` only.
    pub scenario: PathBuf,
    /// `--set KEY=VALUE` overrides, passed to every point (e.g. `sweep.nodes=[3,5]`).
    pub sets: Vec<String>,
    /// Kill a point whose CPU time passes this, in seconds (or its wall time [`WALL_GUARD`]
    /// times this).
    pub budget_s: f64,
    /// Kill a point whose RSS passes this, in MiB.
    pub rss_cap_mib: f64,
}

/// Why `electsim scale` could not measure.
#[derive(Debug, thiserror::Error)]
pub enum ScaleError {
    /// A bad option or scenario (exit 2).
    #[error("{0}")]
    Input(String),
    /// A point's process failed in a way that is not a measurement (exit 1).
    #[error("{0}")]
    Run(String),
    /// Reading the CSV or drawing the charts failed.
    #[error(transparent)]
    Chart(#[from] ChartError),
    /// Writing an output file failed (exit 1).
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// The (algorithm, nodes) grid of the scenario's sweep after `sets`, in ascending nodes per
/// algorithm (algorithms in sweep order). Any other swept key is an input error.
pub fn grid(scenario: &Path, sets: &[String]) -> Result<Vec<(String, u32)>, ScaleError> {
    let assignments = sets
        .iter()
        .map(|s| crate::scenario::Assignment::parse_set(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(ScaleError::Input)?;
    let plan = crate::sweep::Plan::build(scenario, &assignments, None)
        .map_err(|e| ScaleError::Input(e.to_string()))?;
    if let Some(a) = plan
        .axes
        .iter()
        .find(|a| a.key != "algorithm" && a.key != "nodes")
    {
        return Err(ScaleError::Input(format!(
            "{}: `electsim scale` varies algorithm and nodes only, but `{}` is swept too; pin it with --set {}=VALUE",
            scenario.display(),
            a.key,
            a.key
        )));
    }
    let mut out: Vec<(String, u32)> = plan
        .points
        .iter()
        .map(|p| (p.scenario.algorithm.name().to_string(), p.scenario.nodes))
        .collect();
    let order: Vec<String> = {
        let mut seen: Vec<String> = Vec::new();
        for (a, _) in &out {
            if !seen.contains(a) {
                seen.push(a.clone());
            }
        }
        seen
    };
    out.sort_by_key(|(a, n)| (order.iter().position(|o| o == a), *n));
    out.dedup();
    Ok(out)
}

/// Measure every point of the grid, each in its own process, printing a line per point on
/// stderr. A point that fails as a run (an error, the budget, the cap) is a result, not an
/// error; a child that cannot start or exits with a usage error is.
pub fn measure(opts: &ScaleOptions) -> Result<Vec<ScalePoint>, ScaleError> {
    if !(opts.budget_s.is_finite() && opts.budget_s > 0.0) {
        return Err(ScaleError::Input(format!(
            "--budget-s {}: must be a positive number of seconds",
            opts.budget_s
        )));
    }
    if !(opts.rss_cap_mib.is_finite() && opts.rss_cap_mib > 0.0) {
        return Err(ScaleError::Input(format!(
            "--rss-cap-mib {}: must be a positive number of MiB",
            opts.rss_cap_mib
        )));
    }
    let grid = grid(&opts.scenario, &opts.sets)?;
    let mut out: Vec<ScalePoint> = Vec::new();
    for (alg, n) in grid {
        let prev = out
            .iter()
            .rev()
            .find(|p| p.algorithm == alg && p.outcome != Outcome::Skipped);
        let skip = prev.and_then(skip_reason);
        let point = match skip {
            Some(detail) => ScalePoint {
                algorithm: alg.clone(),
                nodes: n,
                outcome: Outcome::Skipped,
                events: None,
                cpu_s: None,
                run_cpu_s: None,
                wall_s: None,
                peak_rss_mib: None,
                load_avg_1m: load_avg_1m(),
                detail,
            },
            None => run_point(opts, &alg, n)?,
        };
        eprintln!("{}", progress_line(&point));
        out.push(point);
    }
    Ok(out)
}

/// Why the next size `n` of an algorithm is not run, given its last run point: only a
/// stopped point (over the CPU, wall or RSS limit) skips the sizes above it.
fn skip_reason(prev: &ScalePoint) -> Option<String> {
    matches!(prev.outcome, Outcome::Timeout | Outcome::RssCap)
        .then(|| format!("n={} was stopped ({})", prev.nodes, short_outcome(prev)))
}

/// The 1-minute load average, where the OS tells it.
fn load_avg_1m() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Current and peak resident set size of a running process, in MiB (Linux
/// `/proc/PID/status` VmRSS and VmHWM).
fn rss_mib(pid: u32) -> Option<(f64, f64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name| crate::bench::status_mib(&s, name);
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// User + system CPU seconds of a running process so far (Linux `/proc/PID/stat`).
fn cpu_s_of(pid: u32) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces): state is field 3, utime 14,
    // stime 15, in clock ticks.
    let rest: Vec<&str> = s.get(s.rfind(')')? + 1..)?.split_whitespace().collect();
    let ticks = |i: usize| rest.get(i)?.parse::<f64>().ok();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = if hz > 0 { hz as f64 } else { 100.0 };
    Some((ticks(11)? + ticks(12)?) / hz)
}

/// Exit status, CPU seconds and peak RSS (MiB) of a reaped child. (`ru_maxrss` also counts
/// the image the child was forked from, before its `exec`: it is only a fallback.)
struct Exit {
    code: Option<i32>,
    signal: Option<i32>,
    cpu_s: f64,
    peak_rss_mib: f64,
}

/// Reap `pid` if it has exited (`wait4` with `WNOHANG`).
#[cfg(unix)]
fn try_reap(pid: u32) -> std::io::Result<Option<Exit>> {
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data; zeroed is a valid value that wait4 overwrites.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet reaped; both pointers are valid for writes.
    let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, libc::WNOHANG, &mut ru) };
    if r == 0 {
        return Ok(None);
    }
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok(Some(Exit {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
        cpu_s: tv(ru.ru_utime) + tv(ru.ru_stime),
        // Linux reports ru_maxrss in KiB.
        peak_rss_mib: ru.ru_maxrss as f64 / 1024.0,
    }))
}

#[cfg(not(unix))]
fn try_reap(_pid: u32) -> std::io::Result<Option<Exit>> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "electsim scale needs a Unix system (wait4)",
    ))
}

/// Run one point in a child process, stopping it at the budget or the cap.
fn run_point(opts: &ScaleOptions, alg: &str, n: u32) -> Result<ScalePoint, ScaleError> {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut cmd = Command::new(&opts.exe);
    cmd.arg("bench").arg(&opts.scenario);
    for s in &opts.sets {
        cmd.arg("--set").arg(s);
    }
    cmd.arg("--set")
        .arg(format!("algorithm={alg}"))
        .arg("--set")
        .arg(format!("nodes={n}"))
        .args(["--repeats", "1", "--format", "json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let what = format!("{alg} n={n}");
    let load = load_avg_1m();
    let t0 = Instant::now();
    let mut child = cmd.spawn().map_err(|e| {
        ScaleError::Run(format!("{what}: cannot start {}: {e}", opts.exe.display()))
    })?;
    let pid = child.id();
    // Read both pipes on their own threads so a chatty child never blocks on a full pipe.
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(mut r) = r {
                let _ = r.read_to_string(&mut s);
            }
            s
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let mut stopped: Option<(Outcome, String)> = None;
    // The last VmHWM seen: the peak of a killed child (the child reports its own otherwise).
    let mut hwm_seen: Option<f64> = None;
    let exit = loop {
        match try_reap(pid) {
            Ok(Some(e)) => break e,
            Ok(None) => {}
            Err(e) => {
                let _ = child.kill();
                return Err(ScaleError::Run(format!(
                    "{what}: cannot wait for the run: {e}"
                )));
            }
        }
        if stopped.is_none() {
            let (rss, hwm) = rss_mib(pid).unwrap_or((0.0, 0.0));
            if hwm > 0.0 {
                hwm_seen = Some(hwm);
            }
            let wall = t0.elapsed().as_secs_f64();
            if rss > opts.rss_cap_mib {
                stopped = Some((
                    Outcome::RssCap,
                    format!(
                        "killed at {:.0} MiB RSS (cap {} MiB) after {wall:.1} s",
                        rss,
                        fmt_num(opts.rss_cap_mib)
                    ),
                ));
            } else if cpu_s_of(pid).is_some_and(|c| c > opts.budget_s) {
                stopped = Some((
                    Outcome::Timeout,
                    format!(
                        "killed at the {} s CPU budget after {wall:.1} s wall",
                        fmt_num(opts.budget_s)
                    ),
                ));
            } else if wall > opts.budget_s * WALL_GUARD {
                stopped = Some((
                    Outcome::Timeout,
                    format!(
                        "killed at the {} s wall-time guard ({WALL_GUARD} x the CPU budget)",
                        fmt_num(opts.budget_s * WALL_GUARD)
                    ),
                ));
            }
            if stopped.is_some() {
                // Our own child, not yet reaped (the loop reaps it next).
                let _ = child.kill();
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let wall_s = t0.elapsed().as_secs_f64();
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let mut point = ScalePoint {
        algorithm: alg.to_string(),
        nodes: n,
        outcome: Outcome::Finished,
        events: None,
        cpu_s: Some(exit.cpu_s),
        run_cpu_s: None,
        wall_s: Some(wall_s),
        peak_rss_mib: Some(hwm_seen.unwrap_or(exit.peak_rss_mib)),
        load_avg_1m: load,
        detail: String::new(),
    };
    if let Some((outcome, detail)) = stopped {
        point.outcome = outcome;
        point.detail = detail;
        return Ok(point);
    }
    match (exit.code, exit.signal) {
        (Some(0), _) => {}
        (Some(2), _) => {
            return Err(ScaleError::Input(format!(
                "{what}: {}",
                stderr.trim().trim_start_matches("error: ")
            )));
        }
        (code, signal) => {
            // Killed by someone else (e.g. the OOM killer) or crashed: a result, said so.
            point.outcome = Outcome::Error;
            point.detail = match signal {
                Some(s) => format!("the process was killed by signal {s}"),
                None => format!(
                    "the process exited with status {}: {}",
                    code.unwrap_or(-1),
                    stderr.trim()
                ),
            };
            return Ok(point);
        }
    }
    let rows: serde_json::Value = serde_json::from_str(&stdout).map_err(|e| {
        ScaleError::Run(format!(
            "{what}: unreadable output of `electsim bench`: {e}"
        ))
    })?;
    let row = rows
        .as_array()
        .and_then(|a| (a.len() == 1).then(|| &a[0]))
        .ok_or_else(|| {
            ScaleError::Run(format!(
                "{what}: `electsim bench` measured {} points, expected 1",
                rows.as_array().map_or(0, Vec::len)
            ))
        })?;
    point.run_cpu_s = row.get("cpu_s").and_then(serde_json::Value::as_f64);
    // The child's own VmHWM at the end of the run: its peak, without the pre-exec image.
    if let Some(r) = row
        .get("peak_rss_mib")
        .and_then(serde_json::Value::as_f64)
        .filter(|r| *r > 0.0)
    {
        point.peak_rss_mib = Some(r);
    }
    if let Some(e) = row.get("error").and_then(serde_json::Value::as_str) {
        point.outcome = Outcome::Error;
        point.detail = e.lines().next().unwrap_or(e).to_string();
    } else {
        // `bench` reports events of finished runs only (0 for a failed one).
        point.events = row.get("events").and_then(serde_json::Value::as_u64);
    }
    Ok(point)
}

/// A short form of how a point ended, for the chart subtitle and the table.
fn short_outcome(p: &ScalePoint) -> String {
    match p.outcome {
        Outcome::Finished => "finished".into(),
        Outcome::Error if p.detail.contains("max_in_flight") => "max_in_flight error".into(),
        Outcome::Error if p.detail.contains("max_events") => "max_events error".into(),
        Outcome::Error => "error".into(),
        Outcome::Timeout if p.detail.contains("wall-time guard") => {
            "over the wall-time guard".into()
        }
        Outcome::Timeout => "over the CPU budget".into(),
        Outcome::RssCap => "over the RSS cap".into(),
        Outcome::Skipped => "skipped".into(),
    }
}

fn progress_line(p: &ScalePoint) -> String {
    let mut s = format!("{:<10} n={:<7} {}", p.algorithm, p.nodes, p.outcome.name());
    if let (Some(c), Some(r)) = (p.cpu_s, p.peak_rss_mib) {
        s.push_str(&format!("  cpu {c:.3} s  peak RSS {r:.1} MiB"));
    }
    if let Some(e) = p.events {
        s.push_str(&format!("  events {e}"));
    }
    if !p.detail.is_empty() {
        s.push_str(&format!("  ({})", p.detail));
    }
    s
}

/// The CSV text of `points` (header [`COLUMNS`]).
pub fn to_csv(points: &[ScalePoint]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let opt = |v: Option<f64>, digits: usize| v.map_or(String::new(), |v| format!("{v:.digits$}"));
    let _ = w.write_record(COLUMNS);
    for p in points {
        let _ = w.write_record([
            p.algorithm.clone(),
            p.nodes.to_string(),
            p.outcome.name().to_string(),
            p.events.map_or(String::new(), |e| e.to_string()),
            opt(p.cpu_s, 4),
            opt(p.run_cpu_s, 4),
            opt(p.wall_s, 3),
            opt(p.peak_rss_mib, 1),
            opt(p.load_avg_1m, 2),
            p.detail.clone(),
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Read a `scale.csv`; a bad cell is an error naming the file, line and column.
pub fn read_csv(path: &Path) -> Result<Vec<ScalePoint>, ChartError> {
    let t = Table::read(path)?;
    let cols: Vec<usize> = COLUMNS
        .iter()
        .map(|c| t.require(c))
        .collect::<Result<_, _>>()?;
    let bad = |line: u64, col: &str, message: String| ChartError::Csv {
        path: path.to_path_buf(),
        line,
        message: format!("column `{col}`: {message}"),
    };
    let mut out = Vec::new();
    for row in &t.rows {
        let algorithm = t.text(row, cols[0]).trim().to_string();
        if algorithm.is_empty() {
            return Err(bad(row.line, "algorithm", "empty".into()));
        }
        let nodes = match t.num(row, cols[1])? {
            Some(v) if v >= 1.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX) => v as u32,
            _ => {
                return Err(bad(
                    row.line,
                    "nodes",
                    format!("`{}` is not a positive whole number", t.text(row, cols[1])),
                ));
            }
        };
        let o = t.text(row, cols[2]).trim();
        let outcome = Outcome::parse(o).ok_or_else(|| {
            let names: Vec<&str> = Outcome::ALL.iter().map(|o| o.name()).collect();
            bad(
                row.line,
                "outcome",
                format!("`{o}` is not one of {}", names.join(", ")),
            )
        })?;
        let events = match t.num(row, cols[3])? {
            None => None,
            Some(v) if v >= 0.0 && v.fract() == 0.0 => Some(v as u64),
            Some(_) => {
                return Err(bad(
                    row.line,
                    "events",
                    format!("`{}` is not a whole number", t.text(row, cols[3])),
                ));
            }
        };
        let mut nums = [None; 5];
        for (k, c) in cols[4..9].iter().enumerate() {
            nums[k] = t.num(row, *c)?;
            if nums[k].is_some_and(|v| v < 0.0) {
                return Err(bad(
                    row.line,
                    COLUMNS[4 + k],
                    format!("`{}` is negative", t.text(row, *c)),
                ));
            }
        }
        if outcome != Outcome::Skipped {
            for (k, name) in [(0, "cpu_s"), (3, "peak_rss_mib")] {
                if nums[k].is_none() {
                    return Err(bad(
                        row.line,
                        name,
                        format!("empty, but a `{}` point was measured", outcome.name()),
                    ));
                }
            }
        }
        out.push(ScalePoint {
            algorithm,
            nodes,
            outcome,
            events,
            cpu_s: nums[0],
            run_cpu_s: nums[1],
            wall_s: nums[2],
            peak_rss_mib: nums[3],
            load_avg_1m: nums[4],
            detail: t.text(row, cols[9]).to_string(),
        });
    }
    Ok(out)
}

/// Algorithms in first-seen order.
fn algorithms(points: &[ScalePoint]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in points {
        if !out.contains(&p.algorithm) {
            out.push(p.algorithm.clone());
        }
    }
    out
}

/// Draw `scale-peak-rss` and `scale-cpu` (PNG and SVG) into `out_dir`; returns the files.
pub fn charts(points: &[ScalePoint], out_dir: &Path) -> Result<Vec<PathBuf>, ChartError> {
    let notes: Vec<String> = points
        .iter()
        .filter(|p| p.outcome != Outcome::Finished)
        .map(|p| {
            format!(
                "{} {}: {}",
                p.algorithm,
                fmt_num(f64::from(p.nodes)),
                short_outcome(p)
            )
        })
        .collect();
    let subtitle = if notes.is_empty() {
        "each point in its own process; every point finished".to_string()
    } else {
        "each point in its own process; x: did not finish (value when it stopped; skipped points have none)"
            .to_string()
    };
    let mut files = Vec::new();
    for (stem, title, y_desc, value) in [
        (
            "scale-peak-rss",
            "Peak RSS per run vs cluster size",
            "peak RSS of the run's process (MiB)",
            (|p: &ScalePoint| p.peak_rss_mib) as fn(&ScalePoint) -> Option<f64>,
        ),
        (
            "scale-cpu",
            "CPU time per run vs cluster size",
            "CPU seconds (user + system) per run",
            |p: &ScalePoint| p.cpu_s,
        ),
    ] {
        let series: Vec<XySeries> = algorithms(points)
            .into_iter()
            .map(|a| {
                let mut s = XySeries {
                    label: a.clone(),
                    algorithm: a.clone(),
                    ..XySeries::default()
                };
                let mut pts: Vec<&ScalePoint> =
                    points.iter().filter(|p| p.algorithm == a).collect();
                pts.sort_by_key(|p| p.nodes);
                for p in pts {
                    let Some(y) = value(p) else { continue };
                    let xy = (f64::from(p.nodes), y);
                    if p.outcome == Outcome::Finished {
                        s.points.push(xy);
                    } else {
                        s.unfinished.push(xy);
                    }
                }
                s
            })
            .collect();
        let spec = LogLogSpec {
            title: title.to_string(),
            subtitle: subtitle.clone(),
            x_desc: "nodes".to_string(),
            y_desc: y_desc.to_string(),
            notes: notes.clone(),
        };
        files.extend(loglog_chart(out_dir, stem, &spec, &series)?);
    }
    Ok(files)
}

/// How scale.md begins (how electsim knows it wrote the file).
pub const MD_HEAD: &str = "| algorithm |";

/// The table of `points` as Markdown: one row per algorithm, one column per size, each cell
/// `CPU s, peak MiB` plus the outcome when it did not finish; then the load averages seen.
pub fn markdown(points: &[ScalePoint]) -> String {
    let mut sizes: Vec<u32> = points.iter().map(|p| p.nodes).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let mut s = String::from(MD_HEAD);
    for n in &sizes {
        s.push_str(&format!(" n = {} |", fmt_num(f64::from(*n))));
    }
    s.push_str("\n|---|");
    s.push_str(&"---|".repeat(sizes.len()));
    s.push('\n');
    for a in algorithms(points) {
        s.push_str(&format!("| {a} |"));
        for n in &sizes {
            let cell = match points.iter().find(|p| p.algorithm == a && p.nodes == *n) {
                None => String::new(),
                Some(p) => {
                    let mut c = match (p.cpu_s, p.peak_rss_mib) {
                        (Some(cpu), Some(rss)) => format!("{cpu:.3} s, {rss:.0} MiB"),
                        _ => String::new(),
                    };
                    if p.outcome != Outcome::Finished {
                        if !c.is_empty() {
                            c.push_str(": ");
                        }
                        c.push_str(&short_outcome(p));
                    }
                    c
                }
            };
            s.push_str(&format!(" {cell} |"));
        }
        s.push('\n');
    }
    let loads: Vec<f64> = points.iter().filter_map(|p| p.load_avg_1m).collect();
    if !loads.is_empty() {
        let lo = loads.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = loads.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        s.push_str(&format!(
            "\n1-minute load average while measuring: {lo:.2}–{hi:.2}.\n"
        ));
    }
    let notes: Vec<String> = points
        .iter()
        .filter(|p| !p.detail.is_empty())
        .map(|p| format!("* {} n = {}: {}", p.algorithm, p.nodes, p.detail))
        .collect();
    if !notes.is_empty() {
        s.push('\n');
        s.push_str(&notes.join("\n"));
        s.push('\n');
    }
    s
}

/// Write `scale.csv`, the charts and `scale.md` of `points` into `out_dir` (each atomically);
/// returns the written files.
pub fn write_all(points: &[ScalePoint], out_dir: &Path) -> Result<Vec<PathBuf>, ScaleError> {
    install(points, out_dir, true)
}

/// Every file `electsim scale` writes into its output directory.
pub const FILES: [&str; 6] = [
    CSV_NAME,
    MD_NAME,
    "scale-peak-rss.png",
    "scale-peak-rss.svg",
    "scale-cpu.png",
    "scale-cpu.svg",
];
const MD_NAME: &str = "scale.md";

/// Redraw the charts and `scale.md` from `out_dir/scale.csv`; returns the written files.
pub fn report(out_dir: &Path) -> Result<Vec<PathBuf>, ScaleError> {
    let points = read_csv(&out_dir.join(CSV_NAME))?;
    install(&points, out_dir, false)
}

/// Write the table (with `csv`, also scale.csv) and the charts of `points` into `out_dir`
/// as one set: a kill leaves the old files or the new ones.
fn install(points: &[ScalePoint], out_dir: &Path, csv: bool) -> Result<Vec<PathBuf>, ScaleError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ScaleError::Io { path, source }
    };
    let set = crate::outputs::FileSet::begin(out_dir, "scale").map_err(io(out_dir))?;
    let mut staged = Vec::new();
    if csv {
        let p = set.path(CSV_NAME);
        write_atomic(&p, to_csv(points).as_bytes()).map_err(io(&out_dir.join(CSV_NAME)))?;
        staged.push(p);
    }
    staged.extend(charts(points, &set.path(""))?);
    let md = set.path(MD_NAME);
    write_atomic(&md, markdown(points).as_bytes()).map_err(io(&out_dir.join(MD_NAME)))?;
    staged.push(md);
    set.commit(&[]).map_err(io(out_dir))?;
    Ok(staged
        .into_iter()
        .map(|p| out_dir.join(p.file_name().unwrap_or_default()))
        .collect())
}
