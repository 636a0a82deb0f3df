//! What the subcommands share below the command line: the error type with its exit-code
//! contract, the options that select a scenario, stdout that tolerates a closed pipe, and
//! small checks. `cli` only parses and dispatches; the command implementations that live
//! with their subsystem (`explore`) use this module, never `cli`.

use crate::scenario::{Assignment, Scenario, ScenarioFile};
use std::io::Write;
use std::path::PathBuf;

/// Options that select and adjust a scenario.
#[derive(Debug, clap::Args, Clone, Default)]
pub struct ScenarioArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Override the algorithm (a registered name: bully, ring, raft, raft-rs, zookeeper, etcd,
    /// k8s, or a plug-in's; see `electsim list`).
    #[arg(long, short = 'a')]
    pub algorithm: Option<String>,
    /// Override the number of participant nodes.
    #[arg(long, short = 'n')]
    pub nodes: Option<u32>,
    /// Override any scenario key, e.g. `--set raft.pre_vote=true` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
}

impl ScenarioArgs {
    /// The assignments implied by the flags, in the order they apply.
    pub fn assignments(&self) -> Result<Vec<Assignment>, CliError> {
        let mut out = Vec::new();
        if let Some(a) = &self.algorithm {
            out.push(Assignment {
                key: "algorithm".into(),
                value: toml::Value::String(a.clone()),
                origin: crate::scenario::Origin::Override(format!("--algorithm {a}")),
            });
        }
        if let Some(n) = self.nodes {
            out.push(Assignment {
                key: "nodes".into(),
                value: toml::Value::Integer(i64::from(n)),
                origin: crate::scenario::Origin::Override(format!("--nodes {n}")),
            });
        }
        for s in &self.sets {
            out.push(Assignment::parse_set(s).map_err(CliError::Usage)?);
        }
        Ok(out)
    }

    /// Read, override and validate.
    pub fn load(&self) -> Result<(ScenarioFile, Scenario, Vec<Assignment>), CliError> {
        let file =
            ScenarioFile::read(&self.scenario).map_err(|e| CliError::Input(e.to_string()))?;
        // A file with malformed sweep axes is rejected even by commands that ignore them.
        file.axes().map_err(|e| CliError::Input(e.to_string()))?;
        let sets = self.assignments()?;
        let sc = file
            .instantiate(&sets)
            .map_err(|e| CliError::Input(e.to_string()))?;
        Ok((file, sc, sets))
    }
}

/// A failure, classified by exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad usage (exit 2).
    #[error("{0}")]
    Usage(String),
    /// Bad input file or value (exit 2).
    #[error("{0}")]
    Input(String),
    /// The run itself failed (exit 1).
    #[error("{0}")]
    Failed(String),
    /// Writing output failed (exit 1).
    #[error("{0}")]
    Io(String),
}

impl CliError {
    /// Process exit status: 2 for bad usage or input, 1 for a failed check or I/O error.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) | CliError::Input(_) => 2,
            CliError::Failed(_) | CliError::Io(_) => 1,
        }
    }
}

/// Say so on stderr when `cmd` runs one scenario of a file whose `[sweep]` axes are not all
/// pinned by `--set`: those axes are ignored, the file's fixed values are used.
pub fn note_ignored_axes(file: &ScenarioFile, sets: &[Assignment], cmd: &str) {
    let Ok(axes) = file.axes() else { return };
    let free: Vec<&str> = axes
        .iter()
        .filter(|a| !sets.iter().any(|s| s.key == a.key))
        .map(|a| a.key.as_str())
        .collect();
    if !free.is_empty() {
        eprintln!(
            "note: `{cmd}` ignores the [sweep] axes {} of {}: it uses the file's fixed values (pin an axis with --set KEY=VALUE, or run every point with `electsim sweep`)",
            free.join(", "),
            file.path.display()
        );
    }
}

/// `--jobs` must be 1 to [`crate::sweep::MAX_JOBS`].
pub fn check_jobs(jobs: Option<usize>) -> Result<(), CliError> {
    crate::sweep::check_jobs(jobs).map_err(|e| CliError::Usage(e.to_string()))
}

impl From<crate::sweep::SweepError> for CliError {
    fn from(e: crate::sweep::SweepError) -> Self {
        match e.exit_code() {
            2 => CliError::Input(e.to_string()),
            _ => CliError::Io(e.to_string()),
        }
    }
}

/// Print to stdout; a closed pipe (`electsim ... | head`) is not an error.
pub fn print_stdout(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::Io(format!("cannot write to stdout: {e}"))),
    }
}

/// What a sweep's points run, for `validate`: "raft with 5 nodes", or every algorithm and
/// size of the sweep ("bully, raft with 3, 5 or 7 nodes") when they vary.
pub fn what_runs(points: &[crate::sweep::Point]) -> String {
    let mut algs: Vec<String> = Vec::new();
    let mut sizes: Vec<u32> = Vec::new();
    for p in points {
        let a = p.scenario.algorithm.to_string();
        if !algs.contains(&a) {
            algs.push(a);
        }
        sizes.push(p.scenario.nodes);
    }
    sizes.sort_unstable();
    sizes.dedup();
    let sizes: Vec<String> = sizes.iter().map(u32::to_string).collect();
    let sizes = match sizes.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => sizes.join(""),
    };
    format!("{} with {sizes} nodes", algs.join(", "))
}

/// Bounds of the numeric command-line flags, checked by clap when the flag is parsed (exit
/// 2 naming the flag, the value and the range), so no count reaches an allocation or a
/// loop unchecked. See docs/data-safety.md ("Inputs").
pub mod flags {
    use clap::builder::{RangedU64ValueParser, TypedValueParser};

    /// `--trace-limit`: records kept in memory (a record is tens of bytes, so the top is a
    /// few GiB at most).
    pub const MAX_TRACE_LIMIT: u64 = 50_000_000;
    /// `--runs` of sweep and matrix: the scenario key `runs` has the same bound.
    pub const MAX_RUNS: u64 = 10_000_000;
    /// `explore --runs`: seeds tried.
    pub const MAX_EXPLORE_RUNS: u64 = 1_000_000_000;
    /// `explore --max-faults`: faults in one random plan.
    pub const MAX_PLAN_FAULTS: u64 = 1_000;
    /// `explore --shrink-budget`: test runs spent shrinking.
    pub const MAX_SHRINK_BUDGET: u64 = 1_000_000;
    /// `verify --depth` and `--liveness-steps`: transitions in one schedule.
    pub const MAX_DEPTH: u64 = 10_000;
    /// `verify --max-states`: states kept in memory (hundreds of bytes each).
    pub const MAX_STATES: u64 = 50_000_000;
    /// `bench --repeats`.
    pub const MAX_REPEATS: u64 = 1_000;

    /// An integer flag of type `T` in `min..=max`.
    pub fn int<T>(min: u64, max: u64) -> RangedU64ValueParser<T>
    where
        T: TryFrom<u64> + Clone + Send + Sync + 'static,
        <T as TryFrom<u64>>::Error: std::error::Error + Send + Sync + 'static,
    {
        RangedU64ValueParser::<T>::new().range(min..=max)
    }

    /// `--jobs`: 1 to [`crate::sweep::MAX_JOBS`] worker threads.
    pub fn jobs() -> RangedU64ValueParser<usize> {
        int(1, crate::sweep::MAX_JOBS as u64)
    }

    /// A finite float flag in `min..=max`, with the range in the error.
    pub fn float(min: f64, max: f64) -> impl TypedValueParser<Value = f64> {
        clap::builder::StringValueParser::new().try_map(move |s: String| {
            match s.trim().parse::<f64>() {
                Ok(v) if v.is_finite() && (min..=max).contains(&v) => Ok(v),
                _ => Err(format!("{s} is not a number in {min}..={max}")),
            }
        })
    }
}
