//! The command line: subcommands, their help, and exit codes.
//!
//! Exit codes: 0 success; 1 a run failed (event limit, or an invariant violation under
//! `--strict`); 2 bad usage or bad input (nothing is written in that case).

use crate::protocols::Algorithm;
use crate::report::run::RunReport;
use crate::runner;
use crate::scenario::{Assignment, Scenario, ScenarioFile};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};

const EXAMPLES: &str = "\
Examples:
  electsim run scenarios/raft-leader-crash.toml --seed 7
  electsim run scenarios/raft-partition.toml --set raft.pre_vote=true --format json
  electsim validate scenarios/raft-lossy.toml
  electsim list";

/// Deterministic discrete-event simulator of leader-election algorithms.
#[derive(Debug, Parser)]
#[command(name = "electsim", version, about, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Options that select and adjust a scenario.
#[derive(Debug, clap::Args, Clone, Default)]
pub struct ScenarioArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Override the algorithm (bully, ring, raft, zookeeper, etcd).
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

#[derive(Debug, Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one simulation and print its metrics.
    #[command(
        after_help = "Example:\n  electsim run scenarios/raft-leader-crash.toml --seed 7 --format json"
    )]
    Run {
        #[command(flatten)]
        scenario: ScenarioArgs,
        /// Run seed (default: the scenario's `seed`).
        #[arg(long, short = 's')]
        seed: Option<u64>,
        /// Fail (exit 1) when an invariant is violated.
        #[arg(long)]
        strict: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Check a scenario file (and overrides) without running it.
    Validate {
        #[command(flatten)]
        scenario: ScenarioArgs,
    },
    /// List the algorithms and their parameters with defaults.
    List,
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
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) | CliError::Input(_) => 2,
            CliError::Failed(_) | CliError::Io(_) => 1,
        }
    }
}

/// Parse arguments, run, print errors; returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    match execute(cli.command) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
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

/// Quote a shell word if needed (for replay commands).
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The `electsim run` command that reproduces a run of `path` with these assignments and seed.
pub fn replay_command(path: &Path, sets: &[Assignment], seed: u64) -> String {
    let mut cmd = format!("electsim run {}", shell_quote(&path.display().to_string()));
    for a in sets {
        let v = match &a.value {
            toml::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        cmd.push_str(&format!(
            " --set {}",
            shell_quote(&format!("{}={v}", a.key))
        ));
    }
    cmd.push_str(&format!(" --seed {seed}"));
    cmd
}

/// Instantiate every sweep point (axes x overrides) so a bad axis value is caught before any
/// run; returns the number of points.
pub fn check_sweep_points(file: &ScenarioFile, sets: &[Assignment]) -> Result<usize, CliError> {
    let axes = file.axes().map_err(|e| CliError::Input(e.to_string()))?;
    let mut points = 0usize;
    let mut index = vec![0usize; axes.len()];
    loop {
        let mut assignments: Vec<Assignment> = axes
            .iter()
            .zip(&index)
            .map(|(a, &i)| Assignment {
                key: a.key.clone(),
                value: a.values[i].clone(),
                origin: crate::scenario::Origin::SweepAxis {
                    axis: a.key.clone(),
                    value: a.values[i].to_string(),
                },
            })
            .collect();
        assignments.extend(sets.iter().cloned());
        file.instantiate(&assignments)
            .map_err(|e| CliError::Input(e.to_string()))?;
        points += 1;
        // Odometer increment over the axes.
        let mut k = axes.len();
        loop {
            if k == 0 {
                return Ok(points);
            }
            k -= 1;
            index[k] += 1;
            if index[k] < axes[k].values.len() {
                break;
            }
            index[k] = 0;
        }
    }
}

fn execute(cmd: Command) -> Result<(), CliError> {
    match cmd {
        Command::Run {
            scenario,
            seed,
            strict,
            format,
        } => {
            let (file, sc, sets) = scenario.load()?;
            let seed = seed.unwrap_or(sc.seed);
            let outcome =
                runner::run(&sc, seed, Vec::new()).map_err(|e| CliError::Failed(e.to_string()))?;
            let report =
                RunReport::new(&sc, seed, &outcome, replay_command(&file.path, &sets, seed));
            let text = match format {
                Format::Json => {
                    serde_json::to_string_pretty(&report).expect("report serializes") + "\n"
                }
                Format::Table => report.table(),
            };
            print_stdout(&text)?;
            if strict && outcome.violation_count > 0 {
                return Err(CliError::Failed(format!(
                    "{} invariant violation(s) (first: {}); replay with: {}",
                    outcome.violation_count,
                    outcome
                        .violations
                        .first()
                        .map_or(String::new(), |v| format!("{} — {}", v.property, v.detail)),
                    report.replay
                )));
            }
            Ok(())
        }
        Command::Validate { scenario } => {
            let (file, sc, sets) = scenario.load()?;
            let points = check_sweep_points(&file, &sets)?;
            print_stdout(&format!(
                "ok: {} — {} with {} nodes for {}, {} scripted fault(s), {} random fault process(es), {} sweep point(s)\n",
                sc.name,
                sc.algorithm,
                sc.nodes,
                sc.duration,
                sc.faults.len(),
                sc.random_faults.len(),
                points
            ))
        }
        Command::List => {
            let mut s = String::new();
            for a in Algorithm::ALL {
                s.push_str(&format!("{:<10} {}\n", a.name(), a.summary()));
                for p in a.params() {
                    s.push_str(&format!(
                        "    {:<28} default {:<22} {}\n",
                        p.key, p.default, p.doc
                    ));
                }
            }
            print_stdout(&s)
        }
    }
}
