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
