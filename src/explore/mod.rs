//! `electsim explore`: swarm search for bugs, then shrinking and a self-contained repro.
//!
//! For run `i` the seed is `seed + i`. That one seed draws the fault plan (from its
//! `Explore` stream, see [`plan`]) *and* drives the run, so a finding is reproduced by its
//! seed alone. Runs go through [`runner::run`], so every algorithm is explored the same way.
//! Runs are executed in batches on `--jobs` threads and judged in seed order, so the first
//! violation reported is the same for any `--jobs`. `--time` reads the wall clock only to
//! decide when to stop starting new batches; it never influences a run.
//!
//! Properties ([`Property`]): `election_safety` (two leaders in one term), `split_brain`
//! (two live leaders at once), `lease_overlap` (the trace-derived `lease_overlap_ms` of the
//! ZooKeeper/etcd recipes is positive), `invariants` (any invariant
//! violation), `liveness` (after the last fault heals, a single leader supported by a
//! majority is in place within `--within`).

pub mod check;
pub mod plan;
pub mod repro;
pub mod shrink;

use crate::command::{CliError, ScenarioArgs, print_stdout};
use crate::report::export::export;
use crate::report::trace::{Recorder, Shared, TraceFormat, TraceMeta};
use crate::runner::{self, RunError};
use crate::runner::{replay_command, shell_quote};
use crate::scenario::{Assignment, Scenario, ScenarioFile};
use crate::sim::invariants::ELECTION_SAFETY;
use crate::sim::{
    FaultAction, NodeStatus, Observer, Outcome, Role, ScriptedFault, SimDuration, SimTime, Target,
    TraceEvent,
};
use plan::PlanSpace;
use rayon::prelude::*;
use repro::ReproSpec;
use shrink::ShrinkStats;
use std::path::{Path, PathBuf};

/// What counts as a bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum Property {
    /// Two nodes leader in the same term (Raft §5.2 Election Safety).
    ElectionSafety,
    /// Two or more live nodes believe they are leader at the same time.
    SplitBrain,
    /// A contender acts as leader while the service names another holder (`lease_overlap_ms > 0`).
    LeaseOverlap,
    /// Any invariant violation.
    Invariants,
    /// After the last fault heals, a single leader is elected within `--within`.
    Liveness,
}

impl Property {
    /// Every property, in `--property` listing order.
    pub const ALL: [Property; 5] = [
        Property::ElectionSafety,
        Property::SplitBrain,
        Property::LeaseOverlap,
        Property::Invariants,
        Property::Liveness,
    ];

    /// Whether checking this property on `a` means anything: only what the algorithm
    /// claims ([`crate::plugin::Claims`]) — Bully and Ring claim no per-epoch safety (a
    /// restarted node may reuse an epoch), and only the service recipes hold leases.
    pub fn applies_to(self, a: &crate::plugin::ConfiguredAlgorithm) -> bool {
        match self {
            Property::ElectionSafety => a.claims().one_leader_per_term,
            Property::LeaseOverlap => a.claims().leases,
            Property::SplitBrain | Property::Invariants | Property::Liveness => true,
        }
    }

    /// The `--property` name (snake case).
    pub fn name(self) -> &'static str {
        match self {
            Property::ElectionSafety => "election_safety",
            Property::SplitBrain => "split_brain",
            Property::LeaseOverlap => "lease_overlap",
            Property::Invariants => "invariants",
            Property::Liveness => "liveness",
        }
    }
}

/// How a run is judged.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Judge {
    /// The property a run must not violate.
    pub property: Property,
    /// Liveness deadline after the last fault heals.
    pub within: SimDuration,
}

/// Watches for "a single leader, supported by a majority of participants" at some moment
/// in `[heal, deadline]`.
#[derive(Debug)]
pub struct LivenessWatch {
    nodes: u32,
    heal: SimTime,
    deadline: SimTime,
    status: Vec<NodeStatus>,
    paused: Vec<bool>,
    /// A single elected leader was seen inside the window.
    pub ok: bool,
    /// When it was first seen.
    pub ok_at: Option<SimTime>,
    /// Virtual time the run ended (set by the `End` event); the verdict is final once it
    /// reaches the deadline.
    pub end: SimTime,
}

impl LivenessWatch {
    /// A watch over `nodes` participants for a leader within `within` after `heal`.
    pub fn new(nodes: u32, heal: SimTime, within: SimDuration) -> Self {
        LivenessWatch {
            nodes,
            heal,
            deadline: heal + within,
            status: vec![NodeStatus::DOWN; nodes as usize],
            paused: vec![false; nodes as usize],
            ok: false,
            ok_at: None,
            end: SimTime::ZERO,
        }
    }

    fn live(&self, i: usize) -> bool {
        self.status[i].role != Role::Down && !self.paused[i]
    }

    /// Exactly one live leader, and it plus the live followers that name it are a majority.
    fn single_leader(&self) -> bool {
        let mut leaders = (0..self.nodes as usize)
            .filter(|&i| self.live(i) && self.status[i].role == Role::Leader);
        let (Some(l), None) = (leaders.next(), leaders.next()) else {
            return false;
        };
        let support = 1
            + (0..self.nodes as usize)
                .filter(|&i| {
                    self.live(i)
                        && self.status[i].role == Role::Follower
                        && self.status[i].leader == Some(l as u32)
                })
                .count() as u32;
        2 * support > self.nodes
    }

    /// The run reached the deadline, so the verdict means something.
    pub fn applicable(&self) -> bool {
        self.end >= self.deadline
    }
}

impl Observer for LivenessWatch {
    fn observe(&mut self, ev: &TraceEvent<'_>) {
        let n = self.nodes;
        match *ev {
            TraceEvent::Status { node, new, .. } if node < n => self.status[node as usize] = new,
            TraceEvent::Fault { action, .. } => match action {
                FaultAction::Pause {
                    target: Target::Node(x),
                    ..
                } if *x < n => self.paused[*x as usize] = true,
                FaultAction::Crash {
                    target: Target::Node(x),
                    ..
                } if *x < n => self.paused[*x as usize] = false,
                _ => {}
            },
            TraceEvent::Resume { node, .. } if node < n => self.paused[node as usize] = false,
            TraceEvent::End { at } => self.end = at,
            _ => {}
        }
        let at = ev.at();
        if !self.ok && at >= self.heal && at <= self.deadline && self.single_leader() {
            self.ok = true;
            self.ok_at = Some(at);
        }
    }
}

/// The verdict on one run.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// Whether the run violated the judged property.
    pub violated: bool,
    /// The verdict explained for people: what was violated (empty when nothing was, except
    /// notes such as "the faults never heal").
    pub detail: String,
    /// The run's outcome (metrics, digest).
    pub outcome: Outcome,
}

/// Run `sc` with `seed` and judge it.
pub fn evaluate(sc: &Scenario, seed: u64, judge: &Judge) -> Result<Evaluation, RunError> {
    let heal = match judge.property {
        Property::Liveness => plan::last_heal(&sc.faults, sc.network.default.loss),
        _ => None,
    };
    let watch = heal.map(|h| Shared::new(LivenessWatch::new(sc.nodes, h, judge.within)));
    let observers = watch.iter().map(Shared::observer).collect();
    let o = runner::run(sc, seed, observers)?;
    let first_named = |name: &str| o.violations.iter().find(|v| v.property == name);
    let at = |ns: u64| format!("{:.3} ms", ns as f64 / 1e6);
    let (violated, detail) = match judge.property {
        Property::ElectionSafety => match first_named(ELECTION_SAFETY) {
            Some(v) => (
                true,
                format!("election_safety at {}: {}", at(v.at_ns), v.detail),
            ),
            None if o.metrics.same_term_leaders > 0 => (
                true,
                format!(
                    "election_safety: {} term(s) had two leaders",
                    o.metrics.same_term_leaders
                ),
            ),
            None => (false, String::new()),
        },
        Property::SplitBrain => (
            o.metrics.split_brain_incidents > 0,
            format!(
                "split_brain: {} incident(s), {:.3} ms in total",
                o.metrics.split_brain_incidents, o.metrics.split_brain_ms
            ),
        ),
        Property::LeaseOverlap => (
            o.metrics.lease_overlap_ms > 0.0,
            format!(
                "lease_overlap: {} interval(s), {:.3} ms in total in which a contender acted as leader while the service named another holder",
                o.metrics.lease_overlap_incidents, o.metrics.lease_overlap_ms
            ),
        ),
        Property::Invariants => match o.violations.first() {
            Some(v) => (
                true,
                format!("{} at {}: {}", v.property, at(v.at_ns), v.detail),
            ),
            None => (
                o.violation_count > 0,
                format!("{} invariant violation(s)", o.violation_count),
            ),
        },
        Property::Liveness => match (&watch, heal) {
            (Some(w), Some(h)) => {
                let w = w.0.borrow();
                let violated = w.applicable() && !w.ok;
                (
                    violated,
                    format!(
                        "liveness: no single leader with a majority within {} after the last fault healed at {h}",
                        judge.within
                    ),
                )
            }
            _ => (false, "liveness: the faults never heal".to_string()),
        },
    };
    Ok(Evaluation {
        violated,
        detail,
        outcome: o,
    })
}

/// The scenario being explored: its settings, and where faults may go.
#[derive(Clone, Debug)]
pub struct Base {
    /// The validated scenario with its own faults removed.
    pub scenario: Scenario,
    /// Its settings as a TOML table (for repro files).
    pub table: toml::Table,
    /// Where and what faults random plans may place.
    pub space: PlanSpace,
    /// Faults the scenario file had (explore replaces them).
    pub replaced_faults: usize,
}

impl Base {
    /// Load: faults go in `[start, duration - within]`, with `start` = min(500 ms, duration / 10).
    pub fn new(
        file: &ScenarioFile,
        sets: &[Assignment],
        within: SimDuration,
        max_faults: u32,
    ) -> Result<Base, String> {
        let mut scenario = file.instantiate(sets).map_err(|e| e.to_string())?;
        let table = repro::base_table(file, sets)?;
        let replaced_faults = scenario.faults.len() + scenario.random_faults.len();
        scenario.faults.clear();
        scenario.random_faults.clear();
        let d = scenario.duration;
        let start = SimDuration(500_000_000.min(d.0 / 10));
        if d.0 <= within.0 + start.0 + 500_000_000 {
            return Err(format!(
                "duration {d} is too short to place faults and then wait --within {within}; use e.g. --set duration={}s",
                (within.0 + start.0) / 1_000_000_000 + 5
            ));
        }
        let space = PlanSpace {
            nodes: scenario.nodes,
            start: SimTime::ZERO + start,
            heal_by: SimTime(d.0 - within.0),
            max_faults,
            base_loss: scenario.network.default.loss,
            kinds: Vec::new(),
        };
        Ok(Base {
            scenario,
            table,
            space,
            replaced_faults,
        })
    }

    /// The scenario of one explore seed, and its fault plan.
    pub fn scenario_for(&self, seed: u64) -> Scenario {
        let mut sc = self.scenario.clone();
        sc.faults = plan::draw(seed, &self.space);
        sc
    }

    /// A repro spec for a seed and fault list.
    pub fn spec(&self, seed: u64, faults: Vec<ScriptedFault>) -> ReproSpec {
        ReproSpec {
            base: self.table.clone(),
            name: format!("repro-{}", self.scenario.name),
            description: format!(
                "Found by electsim explore from scenario `{}`.",
                self.scenario.name
            ),
            seed,
            nodes: self.scenario.nodes,
            duration: self.scenario.duration,
            faults,
            notes: Vec::new(),
        }
    }
}

/// How to explore.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Which property to look for, and the liveness deadline.
    pub judge: Judge,
    /// Seeds to try (`None`: until `time` is up).
    pub runs: Option<u64>,
    /// Wall-clock budget: no new runs start after it (`--time`).
    pub time: Option<std::time::Duration>,
    /// Worker threads (`--jobs`); the findings do not depend on it.
    pub jobs: usize,
    /// First run seed; run `i` uses `seed + i`.
    pub seed: u64,
    /// Keep going after the first violation.
    pub all: bool,
}

/// One violating seed.
#[derive(Clone, Debug)]
pub struct Finding {
    /// Run index (0-based): the seed is `settings.seed + index`.
    pub index: u64,
    /// The run seed.
    pub seed: u64,
    /// The random fault plan that violated the property.
    pub faults: Vec<ScriptedFault>,
    /// What was violated.
    pub detail: String,
    /// Trace digest of the violating run (a replay must reproduce it).
    pub digest: String,
}

/// What a search saw.
#[derive(Clone, Debug, Default)]
pub struct SearchReport {
    /// Runs judged (up to and including the first finding unless `all`).
    pub runs: u64,
    /// Violating runs, in seed order.
    pub findings: Vec<Finding>,
    /// Runs that could not finish (event limit): (seed, error).
    pub errors: Vec<(u64, String)>,
    /// Coverage summed over the judged runs that finished.
    pub coverage: crate::sim::metrics::Coverage,
}

/// Try seeds in order until a violation (or all of them, with `all`).
pub fn search(base: &Base, s: &Settings) -> Result<SearchReport, String> {
    let started = std::time::Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(s.jobs.max(1))
        .build()
        .map_err(|e| format!("cannot start {} worker threads: {e}", s.jobs))?;
    let batch = (s.jobs.max(1) * 8) as u64;
    let limit = s
        .runs
        .unwrap_or(if s.time.is_some() { u64::MAX } else { 1_000 });
    let mut report = SearchReport::default();
    let mut next = 0u64;
    while next < limit {
        if s.time.is_some_and(|t| started.elapsed() >= t) {
            break;
        }
        let n = batch.min(limit - next);
        let results: Vec<(u64, Result<Evaluation, RunError>, Vec<ScriptedFault>)> =
            pool.install(|| {
                (next..next + n)
                    .into_par_iter()
                    .map(|i| {
                        let seed = s.seed.wrapping_add(i);
                        let sc = base.scenario_for(seed);
                        (i, evaluate(&sc, seed, &s.judge), sc.faults)
                    })
                    .collect()
            });
        for (i, r, faults) in results {
            let seed = s.seed.wrapping_add(i);
            report.runs = i + 1;
            if let Ok(e) = &r {
                report.coverage.add(&e.outcome.metrics.coverage);
            }
            match r {
                Ok(e) if e.violated => {
                    report.findings.push(Finding {
                        index: i,
                        seed,
                        faults,
                        detail: e.detail,
                        digest: e.outcome.trace_digest,
                    });
                    if !s.all {
                        return Ok(report);
                    }
                }
                Ok(_) => {}
                Err(e) => report.errors.push((seed, e.to_string())),
            }
        }
        next += n;
    }
    Ok(report)
}

/// Does this spec (rendered to TOML and parsed back) still violate the property?
pub fn still_fails(spec: &ReproSpec, judge: &Judge) -> bool {
    spec.scenario()
        .ok()
        .and_then(|sc| evaluate(&sc, spec.seed, judge).ok())
        .is_some_and(|e| e.violated)
}

/// A shrunk finding.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The smallest failing scenario found.
    pub spec: ReproSpec,
    /// How far shrinking got.
    pub stats: ShrinkStats,
    /// The verdict on the shrunk scenario.
    pub evaluation: Evaluation,
}

/// Shrink a finding. Checks first that the finding replays through a rendered TOML file
/// with the same trace digest (an error otherwise: the repro file would lie).
pub fn shrink_finding(
    base: &Base,
    judge: &Judge,
    f: &Finding,
    budget: u32,
) -> Result<Shrunk, String> {
    let spec = base.spec(f.seed, f.faults.clone());
    let sc = spec.scenario()?;
    let e = evaluate(&sc, spec.seed, judge).map_err(|e| e.to_string())?;
    if e.outcome.trace_digest != f.digest || !e.violated {
        return Err(format!(
            "internal error: the scenario file rendered for seed {} replays with digest {} (violated: {}), the explored run had {}",
            f.seed, e.outcome.trace_digest, e.violated, f.digest
        ));
    }
    let (spec, stats) = shrink::shrink(spec, &mut |s| still_fails(s, judge), budget);
    let evaluation = evaluate(&spec.scenario()?, spec.seed, judge).map_err(|e| e.to_string())?;
    if !evaluation.violated {
        return Err("internal error: the shrunk scenario no longer fails".into());
    }
    Ok(Shrunk {
        spec,
        stats,
        evaluation,
    })
}

/// Files written for a repro.
#[derive(Clone, Debug)]
pub struct ReproFiles {
    /// The repro scenario TOML.
    pub scenario: PathBuf,
    /// The trace of the shrunk run.
    pub trace: PathBuf,
    /// Its timeline chart, SVG.
    pub timeline_svg: PathBuf,
    /// Its timeline chart, PNG.
    pub timeline_png: PathBuf,
    /// Its run page (`--html`).
    pub html: PathBuf,
    /// Trace digest of the shrunk run (the replay check).
    pub digest: String,
    /// The one command that replays it.
    pub command: String,
}

/// Write `repro-<digest>.toml` plus its JSONL trace and timeline (SVG and PNG) into `dir`.
/// The written file is parsed back and replayed; its digest must match.
pub fn write_repro(
    dir: &Path,
    spec: &ReproSpec,
    judge: &Judge,
    notes: Vec<String>,
) -> Result<ReproFiles, String> {
    let sc = spec.scenario()?;
    let rec = Recorder::with_limit(crate::report::trace::DEFAULT_TRACE_LIMIT);
    let outcome = runner::run(&sc, spec.seed, vec![rec.observer()]).map_err(|e| e.to_string())?;
    let digest = outcome.trace_digest.clone();
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let stem = format!("repro-{digest}");
    let files = ReproFiles {
        scenario: dir.join(format!("{stem}.toml")),
        trace: dir.join(format!("{stem}.jsonl")),
        timeline_svg: dir.join(format!("{stem}.svg")),
        timeline_png: dir.join(format!("{stem}.png")),
        html: dir.join(format!("{stem}.html")),
        command: format!(
            "electsim run {}",
            shell_quote(&dir.join(format!("{stem}.toml")).display().to_string())
        ),
        digest,
    };
    let mut spec = spec.clone();
    spec.notes = notes;
    spec.notes.push(format!("Replay: {}", files.command));
    spec.notes.push(format!(
        "Expect: trace digest {}, property {} violated",
        files.digest,
        judge.property.name()
    ));
    let all = [
        &files.scenario,
        &files.trace,
        &files.timeline_svg,
        &files.timeline_png,
        &files.html,
    ];
    if let Some(f) = all
        .iter()
        .find(|f| f.exists() && !crate::outputs::written_by_electsim(f))
    {
        return Err(format!(
            "{}: the file exists and electsim did not write it; move it, or choose another --out",
            f.display()
        ));
    }
    // A repro is its five files or nothing: they are built in a staging directory inside
    // `dir` and installed together (see `FileSet`).
    let set = crate::outputs::FileSet::begin(dir, &stem)
        .map_err(|e| format!("cannot write into {}: {e}", dir.display()))?;
    let name = |p: &Path| {
        p.file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    };
    let staged = ReproFiles {
        scenario: set.path(&name(&files.scenario)),
        trace: set.path(&name(&files.trace)),
        timeline_svg: set.path(&name(&files.timeline_svg)),
        timeline_png: set.path(&name(&files.timeline_png)),
        html: set.path(&name(&files.html)),
        ..files.clone()
    };
    write_repro_files(&staged, &spec, &sc, rec, &outcome.violations)?;
    set.commit(&[])
        .map_err(|e| format!("cannot write the repro into {}: {e}", dir.display()))?;
    Ok(files)
}

fn write_repro_files(
    files: &ReproFiles,
    spec: &ReproSpec,
    sc: &Scenario,
    rec: Recorder,
    violations: &[crate::sim::invariants::Violation],
) -> Result<(), String> {
    let text = spec.to_toml();
    crate::fsutil::write_atomic(&files.scenario, text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", files.scenario.display()))?;
    // Round trip: the file on disk replays the same run.
    let back = ScenarioFile::read(&files.scenario).map_err(|e| e.to_string())?;
    let back = back.instantiate(&[]).map_err(|e| e.to_string())?;
    let replay = runner::run(&back, back.seed, Vec::new()).map_err(|e| e.to_string())?;
    if replay.trace_digest != files.digest {
        return Err(format!(
            "internal error: {} replays with digest {}, expected {}",
            files.scenario.display(),
            replay.trace_digest,
            files.digest
        ));
    }
    let meta = TraceMeta {
        scenario: sc.name.clone(),
        algorithm: sc.algorithm.name().into(),
        nodes: sc.nodes,
        seed: spec.seed,
    };
    let r = rec.take();
    export(
        &r,
        &meta,
        Some((&files.trace, TraceFormat::Jsonl)),
        Some(&files.timeline_svg),
    )?;
    export(&r, &meta, None, Some(&files.timeline_png))?;
    let axis = crate::report::page::PageAxis::VirtualTime;
    crate::report::page::write(&files.html, &r, &meta, violations, axis)?;
    Ok(())
}

/// `electsim explore` arguments.
#[derive(Debug, clap::Args)]
pub struct ExploreArgs {
    /// The scenario file and overrides to explore.
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Seeds to try (default 1000, or unlimited with --time).
    #[arg(long, conflicts_with = "time", value_parser = crate::command::flags::int::<u64>(1, crate::command::flags::MAX_EXPLORE_RUNS))]
    pub runs: Option<u64>,
    /// Stop starting new runs after this much wall-clock time (e.g. 60s). Only when to
    /// stop depends on it; every run's result depends on its seed alone.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub time: Option<std::time::Duration>,
    /// Worker threads (default: all cores). Findings are the same for any value.
    #[arg(long, short = 'j', value_parser = crate::command::flags::jobs())]
    pub jobs: Option<usize>,
    /// First seed; run i uses seed + i (default: the scenario's seed).
    #[arg(long, short = 's')]
    pub seed: Option<u64>,
    /// The property to check.
    #[arg(long, value_enum, default_value_t = Property::ElectionSafety)]
    pub property: Property,
    /// Liveness deadline T: after the last fault heals, one leader must be elected within T.
    #[arg(long, default_value = "3s", value_parser = crate::sim::SimDuration::parse)]
    pub within: SimDuration,
    /// Most faults per plan.
    #[arg(long, default_value_t = 8, value_parser = crate::command::flags::int::<u32>(1, crate::command::flags::MAX_PLAN_FAULTS))]
    pub max_faults: u32,
    /// Fault kinds plans may use, comma-separated (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub faults: Vec<plan::Kind>,
    /// Report every violating seed instead of stopping at the first (shrinks the first).
    #[arg(long)]
    pub all: bool,
    /// Do not shrink; write the failing plan as found.
    #[arg(long)]
    pub no_shrink: bool,
    /// Most test runs spent shrinking.
    #[arg(long, default_value_t = 2_000, value_parser = crate::command::flags::int::<u32>(0, crate::command::flags::MAX_SHRINK_BUDGET))]
    pub shrink_budget: u32,
    /// Directory for repro-DIGEST.{toml,jsonl,svg,png}.
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
}

/// Run `electsim explore`. Exit 1 when a violation was found, 0 when none was.
pub fn execute(a: ExploreArgs) -> Result<(), CliError> {
    let file =
        ScenarioFile::read(&a.scenario.scenario).map_err(|e| CliError::Input(e.to_string()))?;
    let sets = a.scenario.assignments()?;
    crate::command::note_ignored_axes(&file, &sets, "explore");
    if a.runs == Some(0) {
        return Err(CliError::Usage("--runs must be at least 1".into()));
    }
    crate::command::check_jobs(a.jobs)?;
    if a.out.exists() && !a.out.is_dir() {
        return Err(CliError::Usage(format!(
            "--out {}: exists and is not a directory; repro files go into a directory",
            a.out.display()
        )));
    }
    let mut base =
        Base::new(&file, &sets, a.within, a.max_faults.max(1)).map_err(CliError::Input)?;
    base.space.kinds = a.faults.clone();
    let alg = &base.scenario.algorithm;
    if !a.property.applies_to(alg) {
        let ok: Vec<&str> = Property::ALL
            .iter()
            .filter(|p| p.applies_to(alg))
            .map(|p| p.name())
            .collect();
        return Err(CliError::Usage(format!(
            "--property {} does not apply to {alg}: it would always report 0 violations or flag behaviour {alg} never promises; use one of {}",
            a.property.name(),
            ok.join(", ")
        )));
    }
    let judge = Judge {
        property: a.property,
        within: a.within,
    };
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let seed = a.seed.unwrap_or(base.scenario.seed);
    let settings = Settings {
        judge,
        runs: a.runs,
        time: a.time,
        jobs,
        seed,
        all: a.all,
    };
    let mut out = String::new();
    if base.replaced_faults > 0 {
        out.push_str(&format!(
            "note: explore replaces the scenario's {} fault(s) with random plans\n",
            base.replaced_faults
        ));
    }
    let started = std::time::Instant::now();
    let report = search(&base, &settings).map_err(CliError::Failed)?;
    let secs = started.elapsed().as_secs_f64();
    out.push_str(&format!(
        "explored {} run(s) of {} ({} nodes, {}) for {}: {} violation(s) in {:.1} s wall time\n",
        report.runs,
        base.scenario.name,
        base.scenario.nodes,
        base.scenario.algorithm,
        judge.property.name(),
        report.findings.len(),
        secs
    ));
    out.push_str(&format!(
        "coverage (sum over the runs): {}\n",
        report.coverage.describe()
    ));
    for (s, e) in report.errors.iter().take(5) {
        out.push_str(&format!("warning: seed {s} did not finish: {e}\n"));
    }
    let explore_cmd = |s: u64| {
        // The replay command of the same scenario and overrides, with explore's own flags.
        let mut c =
            replay_command(&file.path, &sets, s).replacen("electsim run", "electsim explore", 1);
        // Every flag that shapes the plan or the verdict, so the command reproduces the run.
        c.push_str(&format!(
            " --property {} --runs 1 --within {} --max-faults {}",
            judge.property.name(),
            judge.within,
            a.max_faults.max(1)
        ));
        if !a.faults.is_empty() {
            let kinds: Vec<String> = a
                .faults
                .iter()
                .map(|k| {
                    clap::ValueEnum::to_possible_value(k)
                        .map_or(String::new(), |v| v.get_name().to_string())
                })
                .collect();
            c.push_str(&format!(" --faults {}", kinds.join(",")));
        }
        c
    };
    for f in &report.findings {
        out.push_str(&format!(
            "  run #{} seed {}: {} ({} faults); re-explore: {}\n",
            f.index + 1,
            f.seed,
            f.detail,
            f.faults.len(),
            explore_cmd(f.seed)
        ));
    }
    let Some(first) = report.findings.first() else {
        return print_stdout(&out);
    };
    let (spec, stats, detail) = if a.no_shrink {
        (
            base.spec(first.seed, first.faults.clone()),
            None,
            first.detail.clone(),
        )
    } else {
        let s = shrink_finding(&base, &judge, first, a.shrink_budget).map_err(CliError::Failed)?;
        (s.spec, Some(s.stats), s.evaluation.detail)
    };
    let mut notes = vec![
        format!(
            "Found by: {} (run #{} of the search)",
            explore_cmd(first.seed),
            first.index + 1
        ),
        format!("Violation: {detail}"),
    ];
    if let Some(st) = &stats {
        let line = format!(
            "Shrunk in {} test runs: {} -> {} fault(s), {} -> {} nodes, {} -> {}{}",
            st.tests,
            st.faults_before,
            st.faults_after,
            st.nodes_before,
            st.nodes_after,
            st.duration_before,
            st.duration_after,
            if st.budget_exhausted {
                " (budget exhausted)"
            } else {
                ""
            }
        );
        out.push_str(&line);
        out.push('\n');
        notes.push(line);
    }
    let files = write_repro(&a.out, &spec, &judge, notes).map_err(CliError::Failed)?;
    out.push_str(&format!(
        "wrote {} (+ .jsonl trace, .svg/.png timeline, .html run page)\nreplay: {}\n",
        files.scenario.display(),
        files.command
    ));
    print_stdout(&out)?;
    Err(CliError::Failed(format!(
        "explore found a {} violation; replay: {}",
        judge.property.name(),
        files.command
    )))
}
