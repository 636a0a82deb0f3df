//! The command line: subcommands, their help, and exit codes.
//!
//! Exit codes: 0 success; 1 a run failed (event limit, or an invariant violation under
//! `--strict`); 2 bad usage or bad input (nothing is written in that case).
//!
//! The doc comments of the argument structs are the `--help` text clap prints, written for
//! a terminal (`[sweep]`, `<name>`), not rustdoc markup; rustdoc is told not to read them as
//! links or HTML.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]

pub use crate::command::{CliError, ScenarioArgs, check_jobs, note_ignored_axes, print_stdout};
use crate::report::run::RunReport;
use crate::report::trace::{DEFAULT_TRACE_LIMIT, Recorder, TraceFormat, TraceMeta};
use crate::runner;
pub use crate::runner::{replay_command, shell_quote};
use crate::scenario::Assignment;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  electsim run scenarios/raft-leader-crash.toml --seed 7
  electsim run scenarios/raft-partition.toml --set raft.pre_vote=true --format json
  electsim run scenarios/raft-partition.toml --trace run.json --timeline run.png
  electsim check scenarios/raft-lossy.toml --seed 3
  electsim explore scenarios/raft-leader-crash.toml --set raft.persist_vote=false --set duration=10s
  electsim verify scenarios/raft-leader-crash.toml --set nodes=3 --faults crash=1,restart=1
  electsim replay tests/scripts/raft/leader-crash.txt --trace crash.jsonl --timeline crash.svg
  electsim validate scenarios/raft-lossy.toml
  electsim sweep scenarios/cluster-size.toml --set algorithm=raft --runs 20
  electsim sweep scenarios/cluster-size.toml --shard 2/4 --out shard-2 && electsim merge shard-* --out results/cluster-size
  electsim chart results/cluster-size
  electsim list";

const VERIFY_HELP: &str = "\
Examples:
  electsim verify scenarios/raft-leader-crash.toml --set nodes=3 --depth 10
  electsim verify scenarios/raft-leader-crash.toml --set nodes=3 --set raft.persist_vote=false --faults crash=1,restart=1 --out cx
  electsim verify scenarios/bully-partition.toml --set nodes=3 --faults partition=1 --property split_brain
  electsim verify scenarios/raft-leader-crash.toml --set nodes=3 --property liveness --faults crash=1 --depth 8

Only the algorithm, `nodes` and the protocol options of the scenario are used: faults come
from --faults, message order and timing from the schedule (timers are armed for their
earliest deadline on a logical clock; see docs/verify.md).

Exit 0: no violation within the bounds (the report says which bound stopped the search);
1: a violation was found (the counterexample is printed; --out writes it as a golden
script that replays through the engine, counterexample.txt, with the replay's trace
counterexample.jsonl and timeline counterexample.svg); 2: bad usage or input.

Replay a counterexample (the same code path that wrote its trace):
  electsim replay cx/counterexample.txt --timeline cx.svg
  electsim check cx/counterexample.txt";

const REPLAY_HELP: &str = "\
A golden script (see src/script.rs and docs/verify.md) is a `new key=value ...` line and
then steps: a command, a `----` line, the output the command printed when the script was
written, and a blank line. Commands: new, run, crash, restart, pause, isolate, partition,
cut, heal, drift, deliver, drop, duplicate, fire, held, violations, status, leader,
metrics, coverage. `electsim verify --out DIR` writes one as DIR/counterexample.txt.

replay runs the script through the ordinary engine, prints the transcript (the script with
what each step printed now) and compares it with the script. With several `new` blocks,
--trace and --timeline record the last simulation. The recording ends at the script's
final virtual time.

Timeline axis: a script whose simulation has a held schedule (`new schedule=held ...`, as
`verify` writes) spends no virtual time on deliveries, timers or faults, so its timeline
is drawn on a script-step axis instead: x = the step at which each record happened (step 0:
the `new` and the boot), with each step's command under its tick. --from/--to zoom a
virtual-time axis only and are refused for such a script (exit 2, nothing written); the
step axis always shows every step. The trace keeps the true virtual times. Timed scripts
keep the virtual-time axis of `electsim run`.

Examples:
  electsim replay cx/counterexample.txt
  electsim replay cx/counterexample.txt --trace cx.json --timeline cx.svg

Exit 0: every step printed what the script expects; 1: a step differs (its file:line, the
expected and the actual output are printed; the protocol or engine changed since the script
was written; --trace/--timeline are still written); 2: a malformed script (file:line, what
was wrong) or bad usage, and nothing is written.";

/// Deterministic discrete-event simulator of leader-election algorithms.
#[derive(Debug, Parser)]
#[command(name = "electsim", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Output format of `electsim run` and `electsim bench`.
#[derive(Debug, Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum Format {
    /// Human-readable table.
    #[default]
    Table,
    /// JSON, for scripts (`run`: the `RunReport` contract).
    Json,
}

/// The `electsim` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one simulation and print its metrics.
    #[command(
        after_help = "Example:\n  electsim run scenarios/raft-leader-crash.toml --seed 7 --format json"
    )]
    Run {
        /// The scenario file and overrides.
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
        /// Trace and timeline outputs.
        #[command(flatten)]
        outputs: TraceOutputs,
    },
    /// Run a scenario (or replay a golden script) twice and compare the event streams (determinism check).
    #[command(
        after_help = "A file whose first line that is neither blank nor a `#` comment is a `new ...` command is a\ngolden script (e.g. `verify --out DIR`'s DIR/counterexample.txt): it is replayed twice and the\nevent streams of its (last) simulation are compared; --set, --algorithm, --nodes and --seed are\nrefused for a script (its `new` line fixes them). Any other file is a scenario.\n\nExamples:\n  electsim check scenarios/raft-lossy.toml --seed 3\n  electsim check cx/counterexample.txt\n\nExit 0 with the digest when both runs agree; exit 1 naming the first differing event."
    )]
    Check {
        /// The scenario file and overrides.
        #[command(flatten)]
        scenario: ScenarioArgs,
        /// Run seed (default: the scenario's `seed`).
        #[arg(long, short = 's')]
        seed: Option<u64>,
        /// Most trace records compared line by line (beyond it, record counts and digests are compared).
        #[arg(long, default_value_t = DEFAULT_TRACE_LIMIT, value_name = "N",
              value_parser = crate::command::flags::int::<u64>(1, crate::command::flags::MAX_TRACE_LIMIT))]
        trace_limit: u64,
    },
    /// Replay a golden script (e.g. a verify counterexample) through the engine, check its
    /// recorded outputs, and write its trace and timeline.
    #[command(after_help = REPLAY_HELP)]
    Replay {
        /// The script file.
        script: PathBuf,
        /// Trace and timeline outputs.
        #[command(flatten)]
        outputs: TraceOutputs,
    },
    /// Search random fault plans for a property violation, shrink it, write a repro.
    #[command(
        after_help = "Example:\n  electsim explore scenarios/raft-leader-crash.toml --set raft.persist_vote=false --set duration=10s --runs 5000\n\nExit 0: no violation found; 1: a violation was found (repro written)."
    )]
    Explore(Box<crate::explore::ExploreArgs>),
    /// Explore every schedule of a small cluster up to a depth; report a violation as a replayable script.
    #[command(after_help = VERIFY_HELP)]
    Verify(Box<crate::verify::VerifyArgs>),
    /// Check a scenario file (and overrides) without running it.
    Validate {
        /// The scenario file and overrides.
        #[command(flatten)]
        scenario: ScenarioArgs,
    },
    /// List the registered algorithms (built-ins and plug-ins) and their parameters with defaults.
    List,
    /// Measure whole-run speed: events per CPU-second, runs per second, peak memory.
    #[command(
        after_help = "Example:\n  electsim bench scenarios/bench-raft-churn.toml --repeats 3"
    )]
    Bench {
        /// The scenario file and overrides.
        #[command(flatten)]
        scenario: ScenarioArgs,
        /// Runs per sweep point (the best time is kept).
        #[arg(long, default_value_t = 3, value_parser = crate::command::flags::int::<u32>(1, crate::command::flags::MAX_REPEATS))]
        repeats: u32,
        /// Run seed (default: the scenario's `seed`).
        #[arg(long, short = 's')]
        seed: Option<u64>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Peak RSS and CPU time per run against cluster size: every (algorithm, nodes) point of
    /// the scenario's [sweep] once, each in its own process; writes OUT/scale.csv, the charts
    /// OUT/scale-peak-rss.{png,svg} and OUT/scale-cpu.{png,svg}, and the table OUT/scale.md.
    #[command(after_help = SCALE_HELP)]
    Scale {
        /// Scenario file whose [sweep] varies algorithm and nodes (not needed with --charts-only).
        #[arg(required_unless_present = "charts_only")]
        scenario: Option<PathBuf>,
        /// Override any scenario key for every point (repeatable), e.g. `sweep.nodes=[10,100]`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Output directory.
        #[arg(long, default_value = "docs/scale")]
        out: PathBuf,
        /// Kill a point whose CPU time passes this many seconds (or its wall time 3 times
        /// that); the algorithm's larger sizes are then skipped, as they are when a linear
        /// extrapolation passes it.
        #[arg(long, value_name = "SECONDS", default_value_t = crate::scale::DEFAULT_BUDGET_S,
              value_parser = crate::command::flags::float(0.000_001, 86_400.0))]
        budget_s: f64,
        /// Kill a point whose resident memory passes this many MiB.
        #[arg(long, value_name = "MIB", default_value_t = crate::scale::DEFAULT_RSS_CAP_MIB,
              value_parser = crate::command::flags::float(1.0, 1_048_576.0))]
        rss_cap_mib: f64,
        /// Measure nothing: redraw the charts and scale.md from OUT/scale.csv.
        #[arg(long, conflicts_with_all = ["scenario", "sets"])]
        charts_only: bool,
        /// Replace files in OUT that electsim did not write.
        #[arg(long)]
        force: bool,
    },
    /// Run every point of the scenario's [sweep] axes x its replications; write runs.csv and summary.csv.
    #[command(after_help = SWEEP_HELP)]
    Sweep(SweepArgs),
    /// Combine the output directories of `sweep --shard K/N` into the single-machine result.
    #[command(
        after_help = "Example:\n  electsim merge results/cluster-size/shard-*-of-4 --out results/cluster-size"
    )]
    Merge {
        /// Shard output directories (all N shards of one sweep, any order).
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where to write runs.csv, summary.csv and sweep.json.
        #[arg(long)]
        out: PathBuf,
        /// Do not build charts.
        #[arg(long)]
        no_charts: bool,
        /// Replace whatever --out holds (results of another sweep, files without sweep.json).
        #[arg(long)]
        force: bool,
    },
    /// Regenerate the comparison matrix: sweep every scenario listed in the matrix file into
    /// OUT/<name>/ (CSV + charts), then write OUT/MATRIX.md. Output is byte-identical for any --jobs.
    /// MATRIX.md's tables cover the built-in algorithms only (plug-ins: use `sweep` and `chart`).
    #[command(
        after_help = "Examples:\n  electsim matrix                      # results/ from scenarios/matrix.toml\n  electsim matrix --runs 20 --out /tmp/quick   # a quick, smaller matrix"
    )]
    Matrix {
        /// The list of matrix scenarios.
        #[arg(long, default_value = "scenarios/matrix.toml")]
        matrix: PathBuf,
        /// Results directory.
        #[arg(long, default_value = "results")]
        out: PathBuf,
        /// Worker threads [default: all cores].
        #[arg(long, short = 'j', value_parser = crate::command::flags::jobs())]
        jobs: Option<usize>,
        /// Replications per sweep point, overriding each scenario's `runs` (for a quick look).
        #[arg(long, value_parser = crate::command::flags::int::<u32>(1, crate::command::flags::MAX_RUNS))]
        runs: Option<u32>,
        /// No plan lines and no progress bars.
        #[arg(long, short = 'q')]
        quiet: bool,
        /// Also replace result directories that electsim did not write (no sweep.json).
        #[arg(long)]
        force: bool,
    },
    /// Draw the charts of a sweep directory (from its runs.csv and summary.csv only) into DIR/charts/.
    #[command(
        after_help = "With --tradeoff X,Y, draw only the trade-off chart tradeoff-<Y>-vs-<X>.{png,svg}: for each\ncurve (the algorithm plus the --curve keys, per DIR) the points (mean of X, mean of Y) of its\nsweep points, joined in the order of the remaining swept key and labelled with its value.\nSeveral DIRs go into one chart (written into --out, default the first DIR's charts/).\n\nExamples:\n  electsim chart results/cluster-size\n  electsim chart results/lossy --x network.loss --metric split_brain_ms\n  electsim chart out/detectors-bully out/detectors-bully-phi \\\n      --tradeoff detect_ms_mean,unnecessary_elections --curve bully.detector,network.loss"
    )]
    Chart {
        /// Sweep output directory holding runs.csv and summary.csv (several only with --tradeoff).
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// Swept numeric key on the x axis of the line charts [default: nodes if swept, else the
        /// first numeric axis], e.g. network.loss.
        #[arg(long, value_name = "KEY")]
        x: Option<String>,
        /// Draw line charts of this summary metric only, e.g. split_brain_ms.
        #[arg(long, value_name = "NAME")]
        metric: Option<String>,
        /// Draw only the trade-off chart of two summary metrics, X on the x axis, e.g.
        /// detect_ms_mean,unnecessary_elections.
        #[arg(long, value_name = "X,Y", conflicts_with_all = ["x", "metric"])]
        tradeoff: Option<String>,
        /// With --tradeoff: swept keys (comma-separated) that, with the algorithm, make a curve
        /// [default: every swept key but the one with the most values].
        #[arg(long, value_name = "KEYS", requires = "tradeoff")]
        curve: Option<String>,
        /// With --tradeoff: the directory to write the chart into [default: DIR/charts/].
        #[arg(long, value_name = "OUT", requires = "tradeoff")]
        out: Option<PathBuf>,
        /// With --tradeoff: replace chart files there that electsim did not write.
        #[arg(long, requires = "tradeoff")]
        force: bool,
    },
    /// Print summary.csv as a table: one row per sweep point, one column per metric, each
    /// cell the mean over runs with its 95% confidence interval.
    #[command(
        after_help = "Examples:\n  electsim summary results/cluster-size --where nodes=5\n  electsim summary results/lossy --metric split_brain_ms --metric availability --format md"
    )]
    Summary {
        /// Sweep output directory holding summary.csv.
        dir: PathBuf,
        /// A runs.csv metric to show (repeatable; summary.csv has METRIC_mean) [default: the key metrics].
        #[arg(long, value_name = "NAME")]
        metric: Vec<String>,
        /// Show only the points with KEY = VALUE (repeatable).
        #[arg(long = "where", value_name = "KEY=VALUE")]
        wheres: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = crate::report::pivot::PivotFormat::Table)]
        format: crate::report::pivot::PivotFormat,
    },
    /// Paired differences of each sweep point against a baseline point (same replication, same
    /// seed), with 95% confidence intervals; writes DIR/compare-KEY-VALUE.{csv,md}.
    #[command(
        after_help = "For each point that is not a baseline point, its partner is the baseline point with every\nother swept key equal; the difference point - partner is taken run by run (paired seeds).\nValues compare as values: 0.05 = 5e-2, a table in any key order.\n\nExamples:\n  electsim compare results/lossy --baseline algorithm=raft --where network.loss=0.05\n  electsim compare /tmp/prevote --baseline raft.pre_vote=false --baseline raft.check_quorum=false\n  electsim compare /tmp/variants --baseline raft --metric split_brain_ms"
    )]
    Compare {
        /// Sweep output directory holding runs.csv.
        dir: PathBuf,
        /// The baseline: a swept key and one of its values (repeatable: all must hold), or
        /// a variant name.
        #[arg(long, value_name = "KEY=VALUE", required = true)]
        baseline: Vec<String>,
        /// Compare only the points with KEY = VALUE (repeatable).
        #[arg(long = "where", value_name = "KEY=VALUE")]
        wheres: Vec<String>,
        /// A runs.csv metric to compare (repeatable) [default: the key metrics].
        #[arg(long, value_name = "NAME")]
        metric: Vec<String>,
    },
}

const SCALE_HELP: &str = "\
Each point runs as `electsim bench SCENARIO --set algorithm=A --set nodes=N --repeats 1` in a
process of its own, so its peak RSS is its own. Outcomes: finished, error (e.g. Bully's start-up
passing max_in_flight), timeout (killed at --budget-s of CPU time, or at 3 times that of wall
time), rss_cap (killed at --rss-cap-mib), skipped (after a stopped point, or when the last size's
CPU time scaled linearly in n would pass the budget). CPU is user + system time of the point's
process.

Examples:
  electsim scale scenarios/scale.toml                       # docs/scale/, 3-8 minutes
  electsim scale scenarios/scale.toml --set 'sweep.nodes=[10,100]' --out /tmp/scale
  electsim scale --charts-only --out docs/scale             # redraw from docs/scale/scale.csv";

const SWEEP_HELP: &str = "\
Replication r of every sweep point runs with the same seed (derived from the scenario seed and r),
so algorithms are compared on the same faults and network draws. Output is sorted and
byte-identical for any --jobs and any --shard split (after merge). See docs/sweeps.md.

Examples:
  electsim sweep scenarios/partition.toml --runs 50
  electsim sweep scenarios/cluster-size.toml --set 'sweep.nodes=[3,5,9]' --jobs 2
  electsim sweep scenarios/cluster-size.toml --resume        # after Ctrl-C";

/// Options of `electsim sweep`.
#[derive(Debug, clap::Args, Clone)]
pub struct SweepArgs {
    /// Scenario file (TOML) with an optional [sweep] table.
    pub scenario: PathBuf,
    /// Output directory [default: results/<scenario name>/, or .../shard-K-of-N/ with --shard].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads [default: all cores].
    #[arg(long, short = 'j', value_parser = crate::command::flags::jobs())]
    pub jobs: Option<usize>,
    /// Replications per sweep point (overrides the scenario's `runs`).
    #[arg(long, value_parser = crate::command::flags::int::<u32>(1, crate::command::flags::MAX_RUNS))]
    pub runs: Option<u32>,
    /// Override any key for every point (repeatable); `--set KEY=V` on an axis key pins the
    /// axis to V, `--set 'sweep.KEY=[...]'` replaces or adds an axis.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Run only the K-th of N deterministic slices (1 <= K <= N); combine with `merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::sweep::shard::Shard>,
    /// Keep finished runs found in the output directory and run only the rest.
    #[arg(long)]
    pub resume: bool,
    /// Replace whatever the output directory holds (results of another sweep, files without
    /// sweep.json). Without it, only results of the same sweep are replaced.
    #[arg(long)]
    pub force: bool,
    /// Do not build charts.
    #[arg(long)]
    pub no_charts: bool,
    /// Start even if the sweep is above the confirmation limits.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// No plan line and no progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Ask for --yes above this many runs.
    #[arg(long, value_name = "N", default_value_t = crate::sweep::DEFAULT_CONFIRM_RUNS)]
    pub confirm_runs: u64,
    /// Ask for --yes above this many estimated kernel events.
    #[arg(long, value_name = "N", default_value_t = crate::sweep::DEFAULT_CONFIRM_EVENTS,
          value_parser = crate::command::flags::float(0.0, 1e18))]
    pub confirm_events: f64,
}

impl SweepArgs {
    /// The library options these flags mean.
    pub fn options(&self) -> Result<crate::sweep::SweepOptions, CliError> {
        let mut o = crate::sweep::SweepOptions::new(&self.scenario);
        o.out = self.out.clone();
        o.jobs = self.jobs;
        o.runs = self.runs;
        o.sets = self
            .sets
            .iter()
            .map(|s| Assignment::parse_set(s).map_err(CliError::Usage))
            .collect::<Result<_, _>>()?;
        o.shard = self.shard;
        o.resume = self.resume;
        if self.force {
            o.replace = crate::sweep::outdir::Replace::Anything;
        }
        o.charts = !self.no_charts;
        o.yes = self.yes;
        o.quiet = self.quiet;
        o.confirm_runs = self.confirm_runs;
        o.confirm_events = self.confirm_events;
        Ok(o)
    }
}

/// The closing report of a sweep or merge; exit 1 when some runs failed.
fn finish_sweep(r: &crate::sweep::SweepResult, verb: &str) -> Result<(), CliError> {
    let secs = r.elapsed.as_secs_f64();
    let mut s = format!(
        "{verb} {} runs of {} point(s) into {}",
        r.runs_selected,
        r.points,
        r.out_dir.display()
    );
    if r.runs_executed > 0 {
        s.push_str(&format!(
            "; ran {} in {secs:.2} s ({:.1} runs/s, {:.2} M events/s)",
            r.runs_executed,
            r.runs_executed as f64 / secs.max(1e-9),
            r.events_executed as f64 / secs.max(1e-9) / 1e6
        ));
    }
    if r.runs_resumed > 0 {
        s.push_str(&format!("; {} resumed", r.runs_resumed));
    }
    s.push('\n');
    for f in &r.files {
        s.push_str(&format!("  {}\n", f.display()));
    }
    print_stdout(&s)?;
    if r.failed_runs > 0 {
        return Err(CliError::Failed(format!(
            "{} of {} runs failed; their rows carry the error and the replay command (column `error` of runs.csv)",
            r.failed_runs, r.runs_selected
        )));
    }
    Ok(())
}

/// The command line of a binary that runs its own algorithms: install `registry` as the
/// process-wide registry ([`crate::plugin::install`]), then run [`main`]. Returns the process
/// exit code; call it first thing in `main`, before anything reads a scenario:
///
/// ```no_run
/// # type MyAlgo = electsim::protocols::raft::Raft; // stands in for the user's type
/// let registry = electsim::plugin::Registry::builtin().with::<MyAlgo>();
/// std::process::exit(electsim::cli::main_with(registry));
/// ```
pub fn main_with(registry: crate::plugin::Registry) -> i32 {
    if let Err(r) = crate::plugin::install(registry) {
        eprintln!(
            "error: another algorithm registry is already in use ({:?}); call electsim::cli::main_with before anything reads a scenario",
            crate::plugin::registry()
        );
        drop(r);
        return 1;
    }
    main()
}

/// Parse arguments, run, print errors; returns the process exit code. Runs the algorithms of
/// the process-wide registry (the built-ins unless [`main_with`] installed others).
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

/// A virtual time for `--from`/`--to`: a duration since the run start ("3s", "3200ms",
/// "1.5s"), in nanoseconds.
fn parse_time_ns(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, unit) = t
        .find(|c: char| c.is_ascii_alphabetic())
        .map_or((t, ""), |i| t.split_at(i));
    let scale = match unit {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" | "min" => 60e9,
        _ => return Err(format!("`{s}`: expected a time such as 3s, 3200ms or 1.5s")),
    };
    match num.trim().parse::<f64>() {
        Ok(v) if v >= 0.0 && v.is_finite() => Ok((v * scale).round() as u64),
        _ => Err(format!("`{s}`: expected a time such as 3s, 3200ms or 1.5s")),
    }
}

/// The trace and timeline options `run` and `replay` share.
#[derive(Debug, clap::Args)]
pub struct TraceOutputs {
    /// Write the event trace to FILE (also when the run fails or a replayed step differs).
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Trace format (default from the file name: .json -> perfetto, .log -> shiviz, else jsonl).
    #[arg(long, value_enum)]
    pub trace_format: Option<TraceFormat>,
    /// Most trace records a trace keeps; later records are left out with a warning.
    #[arg(long, default_value_t = DEFAULT_TRACE_LIMIT, value_name = "N",
          value_parser = crate::command::flags::int::<u64>(1, crate::command::flags::MAX_TRACE_LIMIT))]
    pub trace_limit: u64,
    /// Draw the timeline picture to FILE (.svg or .png).
    #[arg(long, value_name = "FILE")]
    pub timeline: Option<PathBuf>,
    /// Write the run page to FILE (.html): one self-contained interactive space-time
    /// diagram that opens offline (docs/run-page.md).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Start the timeline picture at this virtual time (e.g. 3s, 3200ms); refused when
    /// replaying a held schedule, whose timeline is on the script-step axis.
    #[arg(long, value_name = "TIME", requires = "timeline", value_parser = parse_time_ns)]
    pub from: Option<u64>,
    /// End the timeline picture at this virtual time (e.g. 3.5s); refused for a held schedule.
    #[arg(long, value_name = "TIME", requires = "timeline", value_parser = parse_time_ns)]
    pub to: Option<u64>,
    /// Replace output files that electsim did not write (without it, such a file is refused).
    #[arg(long)]
    pub force: bool,
}

impl TraceOutputs {
    /// Check the options before anything runs, the output paths against each other and
    /// against `input` (what it is, its path); returns the timeline window (`--from`/`--to`,
    /// in ns).
    fn window(&self, input: (&str, &std::path::Path)) -> Result<Option<(u64, u64)>, CliError> {
        let window = match (self.from, self.to) {
            (None, None) => None,
            (f, t) => {
                let (f, t) = (f.unwrap_or(0), t.unwrap_or(u64::MAX));
                if t <= f {
                    return Err(CliError::Usage(format!(
                        "--to must be after --from ({} ms <= {} ms)",
                        t as f64 / 1e6,
                        f as f64 / 1e6
                    )));
                }
                Some((f, t))
            }
        };
        let mut outputs = crate::outputs::Outputs::new(self.force);
        outputs.input(input.0, input.1);
        if let Some(t) = &self.trace {
            outputs.file("--trace", t).map_err(CliError::Usage)?;
        }
        if let Some(t) = &self.timeline {
            crate::report::timeline::check_path(t).map_err(CliError::Usage)?;
            outputs.file("--timeline", t).map_err(CliError::Usage)?;
        }
        if let Some(t) = &self.html {
            crate::report::page::check_path(t).map_err(CliError::Usage)?;
            outputs.file("--html", t).map_err(CliError::Usage)?;
        }
        if self.trace_limit == 0 {
            return Err(CliError::Usage("--trace-limit must be at least 1".into()));
        }
        Ok(window)
    }

    /// The trace file and its format (`--trace-format`, else from the file name).
    fn trace_file(&self) -> Option<(&std::path::Path, TraceFormat)> {
        let path = self.trace.as_deref()?;
        Some((
            path,
            self.trace_format
                .unwrap_or_else(|| TraceFormat::from_path(path)),
        ))
    }
}

fn execute(cmd: Command) -> Result<(), CliError> {
    match cmd {
        Command::Run {
            scenario,
            seed,
            strict,
            format,
            outputs,
        } => {
            let window = outputs.window(("the scenario", &scenario.scenario))?;
            let (file, sc, sets) = scenario.load()?;
            note_ignored_axes(&file, &sets, "run");
            let seed = seed.unwrap_or(sc.seed);
            let recorder =
                (outputs.trace.is_some() || outputs.timeline.is_some() || outputs.html.is_some())
                    .then(|| Recorder::with_limit(outputs.trace_limit));
            let mut observers: Vec<_> = recorder.iter().map(Recorder::observer).collect();
            observers.push(runner::RunProgress::new(&sc).observer());
            let result = runner::run(&sc, seed, observers);
            if let Some(rec) = recorder {
                // Written before judging the run: a failed run's trace is the one you want.
                let meta = TraceMeta {
                    scenario: sc.name.clone(),
                    algorithm: sc.algorithm.name().into(),
                    nodes: sc.nodes,
                    seed,
                };
                let rec = rec.take();
                let mut notes = crate::report::export::export_window(
                    &rec,
                    &meta,
                    outputs.trace_file(),
                    outputs.timeline.as_deref(),
                    window,
                )
                .map_err(CliError::Io)?;
                if let Some(path) = &outputs.html {
                    let violations = result.as_ref().map_or(&[][..], |o| &o.violations[..]);
                    let axis = crate::report::page::PageAxis::VirtualTime;
                    notes.push(
                        crate::report::page::write(path, &rec, &meta, violations, axis)
                            .map_err(CliError::Io)?,
                    );
                }
                for n in notes {
                    eprintln!("{n}");
                }
            }
            let outcome = result.map_err(|e| {
                CliError::Failed(format!(
                    "{e}; replay with: {}",
                    replay_command(&file.path, &sets, seed)
                ))
            })?;
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
        Command::Check {
            scenario,
            seed,
            trace_limit,
        } => {
            if trace_limit == 0 {
                return Err(CliError::Usage("--trace-limit must be at least 1".into()));
            }
            // A golden script is told by its content (see the help); unreadable files fall
            // through to the scenario loader and its errors.
            if crate::input::read_text(&scenario.scenario, crate::input::Kind::Script)
                .is_ok_and(|text| crate::replay::is_script(&text))
            {
                if !scenario.sets.is_empty()
                    || scenario.algorithm.is_some()
                    || scenario.nodes.is_some()
                    || seed.is_some()
                {
                    return Err(CliError::Usage(format!(
                        "{} is a golden script: its `new` line fixes the scenario and seed, so --set, --algorithm, --nodes and --seed do not apply (edit the `new` line instead)",
                        scenario.scenario.display()
                    )));
                }
                return crate::replay::check_command(&scenario.scenario, trace_limit);
            }
            let (file, sc, sets) = scenario.load()?;
            let seed = seed.unwrap_or(sc.seed);
            let replay = replay_command(&file.path, &sets, seed);
            let verdict = crate::explore::check::check(&sc, seed, trace_limit.max(1))
                .map_err(|e| CliError::Failed(format!("{e}; replay with: {replay}")))?;
            match verdict {
                crate::explore::check::Verdict::Same { digest, events } => print_stdout(&format!(
                    "ok: two runs of {} (seed {seed}) produced the same {events} trace records, digest {digest}\n",
                    file.path.display()
                )),
                crate::explore::check::Verdict::Differ(m) => Err(CliError::Failed(format!(
                    "nondeterminism: two runs of {} (seed {seed}) differ\n{m}\nreplay with: {replay}",
                    file.path.display()
                ))),
            }
        }
        Command::Replay { script, outputs } => {
            let window = outputs.window(("the script", &script))?;
            crate::replay::execute(
                &script,
                outputs.trace_file(),
                outputs.timeline.as_deref(),
                outputs.html.as_deref(),
                window,
                outputs.trace_limit,
            )
        }
        Command::Explore(args) => crate::explore::execute(*args),
        Command::Verify(args) => crate::verify::execute(*args),
        Command::Validate { scenario } => {
            let (file, sc, sets) = scenario.load()?;
            // Instantiate every sweep point, so a bad axis value is caught before any run.
            let plan = crate::sweep::Plan::build(&file.path, &sets, None)?;
            print_stdout(&format!(
                "ok: {} — {} for {}, {} scripted fault(s), {} random fault process(es), {} sweep point(s)\n",
                sc.name,
                crate::command::what_runs(&plan.points),
                sc.duration,
                sc.faults.len(),
                sc.random_faults.len(),
                plan.points.len()
            ))
        }
        Command::Bench {
            scenario,
            repeats,
            seed,
            format,
        } => {
            if repeats == 0 {
                return Err(CliError::Usage("--repeats must be at least 1".into()));
            }
            let (file, _sc, sets) = scenario.load()?;
            let plan = crate::sweep::Plan::build(&file.path, &sets, None)?;
            let mut rows = Vec::new();
            for point in plan.points {
                let sc = point.scenario;
                let label = if point.assignments.is_empty() {
                    sc.name.clone()
                } else {
                    let parts: Vec<String> = point
                        .assignments
                        .iter()
                        .map(|a| format!("{}={}", a.key, a.value))
                        .collect();
                    parts.join(" ")
                };
                let seed = seed.unwrap_or(sc.seed);
                let row = crate::bench::bench_one(&label, &sc, seed, repeats);
                if format == Format::Table {
                    eprintln!(
                        "{:<28} n={:<5} events {:>10}  cpu {:>8.3} s  wall {:>8.3} s  {:>6.2} M events/s  {:>8.2} runs/s  peak RSS {:.1} MiB",
                        row.label,
                        row.nodes,
                        row.events,
                        row.cpu_s,
                        row.wall_s,
                        row.events_per_cpu_s / 1e6,
                        row.runs_per_cpu_s,
                        row.peak_rss_mib
                    );
                    if let Some(e) = &row.error {
                        eprintln!("  failed: {e}");
                    }
                }
                rows.push(row);
            }
            if format == Format::Json {
                print_stdout(
                    &(serde_json::to_string_pretty(&rows).expect("rows serialize") + "\n"),
                )?;
            }
            Ok(())
        }
        Command::Scale {
            scenario,
            sets,
            out,
            budget_s,
            rss_cap_mib,
            charts_only,
            force,
        } => {
            let mut outputs = crate::outputs::Outputs::new(force);
            if let Some(s) = &scenario {
                outputs.input("the scenario", s);
            }
            // --charts-only reads scale.csv and writes the rest.
            let names = &crate::scale::FILES[usize::from(charts_only)..];
            outputs
                .files_in("--out", &out, names)
                .map_err(CliError::Usage)?;
            let scale_err = |e: crate::scale::ScaleError| match e {
                crate::scale::ScaleError::Input(m) => CliError::Input(m),
                crate::scale::ScaleError::Chart(c) if c.is_input() => {
                    CliError::Input(c.to_string())
                }
                other => CliError::Io(other.to_string()),
            };
            let files = match scenario {
                Some(scenario) if !charts_only => {
                    let exe = std::env::current_exe().map_err(|e| {
                        CliError::Io(format!(
                            "cannot find the electsim binary to run each point: {e}"
                        ))
                    })?;
                    let opts = crate::scale::ScaleOptions {
                        exe,
                        scenario,
                        sets,
                        budget_s,
                        rss_cap_mib,
                    };
                    let points = crate::scale::measure(&opts).map_err(scale_err)?;
                    crate::scale::write_all(&points, &out).map_err(scale_err)?
                }
                _ => crate::scale::report(&out).map_err(scale_err)?,
            };
            for f in files {
                eprintln!("wrote {}", f.display());
            }
            Ok(())
        }
        Command::Matrix {
            matrix,
            out,
            jobs,
            runs,
            quiet,
            force,
        } => {
            let matrix_err = |e: crate::report::matrix::MatrixError| CliError::Input(e.to_string());
            check_jobs(jobs)?;
            let entries = crate::report::matrix::read_matrix_toml(&matrix).map_err(matrix_err)?;
            // All or nothing: every sweep and MATRIX.md are built in a staging directory that
            // replaces `out` in one atomic swap; other entries of `out` are kept.
            let names = entries.iter().map(|e| e.name.clone()).collect();
            let mut staged = crate::sweep::outdir::OutDir::lock_matrix(&out, names)?;
            if !force {
                for e in &entries {
                    let d = out.join(&e.name);
                    let agreement = d.join(crate::report::production::AGREEMENT_MD);
                    if e.role == crate::report::matrix::Role::Production && agreement.is_file() {
                        continue; // written by electsim: no sweep.json, but ours to replace
                    }
                    crate::sweep::outdir::check_owner(
                        &d,
                        &d,
                        None,
                        crate::sweep::outdir::Replace::AnySweep,
                    )?;
                }
            }
            staged.fresh_stage()?;
            let stage = staged.stage().to_path_buf();
            let mut report = String::new();
            let mut failed = Vec::new();
            for e in &entries {
                if e.role == crate::report::matrix::Role::Production {
                    let dir = stage.join(&e.name);
                    let unexplained = crate::report::production::write(&e.file, &dir, runs, jobs)
                        .map_err(CliError::Input)?;
                    report.push_str(&format!("{}: -> {}\n", e.name, out.join(&e.name).display()));
                    if unexplained > 0 {
                        failed.push(format!(
                            "{}: {unexplained} unexplained disagreement(s); see AGREEMENT.md",
                            e.name
                        ));
                    }
                    continue;
                }
                let mut o = crate::sweep::SweepOptions::new(&e.file);
                o.out = Some(stage.join(&e.name));
                o.replace = crate::sweep::outdir::Replace::Anything;
                o.jobs = jobs;
                o.runs = runs;
                o.quiet = quiet;
                // The matrix is a known, fixed workload: no confirmation prompt.
                o.yes = true;
                let r = crate::sweep::run_sweep(&o)?;
                report.push_str(&format!(
                    "{}: {} runs of {} point(s) in {:.1} s -> {}\n",
                    e.name,
                    r.runs_selected,
                    r.points,
                    r.elapsed.as_secs_f64(),
                    out.join(&e.name).display()
                ));
                if r.failed_runs > 0 {
                    failed.push(format!(
                        "{}: {} runs failed; see the `error` column of {}",
                        e.name,
                        r.failed_runs,
                        out.join(&e.name).join("runs.csv").display()
                    ));
                }
            }
            crate::report::matrix::write_matrix(&stage, &entries)
                .map_err(|e| CliError::Io(e.to_string()))?;
            staged.commit()?;
            report.push_str(&format!("wrote {}\n", out.join("MATRIX.md").display()));
            print_stdout(&report)?;
            if !failed.is_empty() {
                return Err(CliError::Failed(failed.join("\n")));
            }
            Ok(())
        }
        Command::Summary {
            dir,
            metric,
            wheres,
            format,
        } => {
            use crate::report::compare::CompareError;
            let text = crate::report::pivot::pivot(&dir, &metric, &wheres, format).map_err(
                |e| match e {
                    CompareError::Input(m) => CliError::Input(m),
                    e @ CompareError::Io { .. } => CliError::Io(e.to_string()),
                },
            )?;
            print_stdout(&text)
        }
        Command::Compare {
            dir,
            baseline,
            wheres,
            metric,
        } => {
            use crate::report::compare::{CompareError, compare_dir};
            let c = compare_dir(&dir, &baseline, &wheres, &metric).map_err(|e| match e {
                CompareError::Input(m) => CliError::Input(m),
                e @ CompareError::Io { .. } => CliError::Io(e.to_string()),
            })?;
            let mut s = c.table;
            for f in &c.files {
                s.push_str(&format!("wrote {}\n", f.display()));
            }
            print_stdout(&s)
        }
        Command::Chart {
            dirs,
            x,
            metric,
            tradeoff,
            curve,
            out,
            force,
        } => {
            let opts = crate::report::charts::ChartOptions { x, metric };
            let chart_err = |e: crate::report::charts::ChartError| {
                if e.is_input() {
                    CliError::Input(e.to_string())
                } else {
                    CliError::Io(e.to_string())
                }
            };
            if let Some(spec) = tradeoff {
                let Some((xm, ym)) = spec.split_once(',') else {
                    return Err(CliError::Input(format!(
                        "--tradeoff {spec}: expected X_METRIC,Y_METRIC, e.g. detect_ms_mean,unnecessary_elections"
                    )));
                };
                let topts = crate::report::charts::TradeoffOptions {
                    x_metric: xm.trim().to_string(),
                    y_metric: ym.trim().to_string(),
                    curve: curve.map(|c| {
                        c.split(',')
                            .map(|k| k.trim().to_string())
                            .filter(|k| !k.is_empty())
                            .collect()
                    }),
                };
                let out = out.unwrap_or_else(|| dirs[0].join("charts"));
                let stem = crate::report::charts::tradeoff_stem(&topts);
                crate::outputs::Outputs::new(force)
                    .files_in(
                        "--out",
                        &out,
                        &[&format!("{stem}.png"), &format!("{stem}.svg")],
                    )
                    .map_err(CliError::Usage)?;
                let files = crate::report::charts::tradeoff_chart(&dirs, &topts, &out)
                    .map_err(chart_err)?;
                let mut s = String::new();
                for f in &files {
                    s.push_str(&format!("wrote {}\n", f.display()));
                }
                return print_stdout(&s);
            }
            if dirs.len() > 1 {
                return Err(CliError::Input(
                    "several DIRs are only accepted with --tradeoff".to_string(),
                ));
            }
            let dir = dirs[0].clone();
            if !dir.is_dir() {
                return Err(CliError::Input(format!(
                    "{}: not a directory (expected a sweep output directory with runs.csv and summary.csv)",
                    dir.display()
                )));
            }
            // Drawn into a staging directory and swapped in whole: a failure keeps the old
            // charts, and charts of earlier data do not stay beside the new ones.
            let charts = dir.join("charts");
            let mut out = crate::sweep::outdir::OutDir::lock_charts(&charts)?;
            out.fresh_stage()?;
            let stage = out.stage().to_path_buf();
            let files =
                crate::report::charts::chart_dir_into(&dir, &stage, &opts).map_err(chart_err)?;
            out.commit()?;
            let files: Vec<PathBuf> = files
                .into_iter()
                .map(|f| f.strip_prefix(&stage).map_or(f.clone(), |r| charts.join(r)))
                .collect();
            let mut s = String::new();
            for f in &files {
                s.push_str(&format!("wrote {}\n", f.display()));
            }
            print_stdout(&s)
        }
        Command::List => {
            let mut s = String::new();
            for (name, summary, params) in crate::plugin::registry().describe() {
                s.push_str(&format!("{name:<10} {summary}\n"));
                for p in params {
                    s.push_str(&format!(
                        "    {:<28} default {:<22} {}\n",
                        p.key, p.default, p.doc
                    ));
                }
            }
            s.push_str("every algorithm\n");
            for p in crate::protocols::stabilizer::PARAMS {
                s.push_str(&format!(
                    "    {:<28} default {:<22} {}\n",
                    p.key, p.default, p.doc
                ));
            }
            print_stdout(&s)
        }
        Command::Sweep(args) => {
            check_jobs(args.jobs)?;
            let r = crate::sweep::run_sweep(&args.options()?)?;
            finish_sweep(&r, if r.complete { "swept" } else { "swept shard:" })
        }
        Command::Merge {
            dirs,
            out,
            no_charts,
            force,
        } => {
            let r = crate::sweep::merge::merge(&crate::sweep::merge::MergeOptions {
                dirs,
                out,
                charts: !no_charts,
                replace: if force {
                    crate::sweep::outdir::Replace::Anything
                } else {
                    crate::sweep::outdir::Replace::SameSweep
                },
            })?;
            finish_sweep(&r, "merged")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Origin, parse_value};
    use std::path::Path;

    #[test]
    fn replay_keeps_types_of_ambiguous_strings() {
        let set = |k: &str, v: toml::Value| Assignment {
            key: k.into(),
            value: v,
            origin: Origin::Unlocated,
        };
        let cmd = replay_command(
            Path::new("s.toml"),
            &[
                set("duration", toml::Value::String("10s".into())),
                set("name", toml::Value::String("1".into())),
                set("nodes", toml::Value::Integer(7)),
            ],
            3,
        );
        assert_eq!(
            cmd,
            "electsim run s.toml --set duration=10s --set 'name=\"1\"' --set nodes=7 --seed 3"
        );
        // And each --set value parses back to the original value.
        assert_eq!(parse_value("\"1\""), toml::Value::String("1".into()));
    }
}
