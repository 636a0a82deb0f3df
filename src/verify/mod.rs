//! `electsim verify`: exhaustive checking of small clusters with the protocols' own code.
//!
//! The checker explores every schedule of a small cluster up to a depth: which message is
//! delivered next, which timer fires, which fault (within a budget) strikes. It calls the
//! same handlers the simulator calls ([`state`]), searches breadth- or depth-first with
//! fingerprint deduplication ([`search`]), tests named properties ([`properties`]) and
//! writes a violation as a golden script with a held schedule, replayed through the
//! ordinary engine ([`report`]).
//!
//! Symmetry reduction ([`symmetry`]): for algorithms that opt in through
//! [`crate::sim::Symmetric`] (Raft), worlds that differ only by a renaming of
//! interchangeable nodes share one seen-set key, so about n! fewer states are stored. The
//! search still expands the concrete world it reached, so counterexamples replay as they
//! are. Off where ids matter: Bully and Ring (ids are priorities), `--timer-order` (ties
//! go to the lower id), Raft's `stale_nodes` (only nodes alike swap), more than
//! [`symmetry::MAX_SYMMETRIC_NODES`] participants; not implemented for the coordination
//! recipes.

pub mod properties;
pub mod report;
pub mod search;
pub mod state;
pub mod symmetry;

use crate::command::CliError;
use crate::plugin::ConfiguredAlgorithm;
use crate::protocols::{bully, etcd, k8s, raft, ring, zookeeper};
use crate::scenario::{Assignment, Scenario};
use crate::sim::{LocalClock, Protocol, Resources};
use properties::{Property, Track};
use search::{Bounds, Found, Stats, Stop, Strategy};
use state::{Action, Budget, Checkable, MAX_TOTAL_NODES, Model, World};
use std::path::PathBuf;
use std::time::Duration;
use symmetry::Symmetry;

/// What to check and how far.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// Faults the search may inject (none by default: only message and timer
    /// interleavings are explored).
    pub budget: Budget,
    /// Search order (breadth-first by default, which finds shortest counterexamples).
    pub strategy: Strategy,
    /// Depth, state-count, wall-clock and liveness limits on the search.
    pub bounds: Bounds,
    /// Properties to test (empty: the algorithm's defaults, see [`default_properties`]).
    pub properties: Vec<Property>,
    /// Per-link FIFO delivery (default: any message in flight may be delivered next).
    pub fifo: bool,
    /// Timers fire in deadline order (default: any pending timer may fire next).
    pub timer_order: bool,
    /// No timer fires while a message is in flight (synchronous rounds).
    pub sync: bool,
    /// Deduplicate states up to a renaming of interchangeable nodes where that is sound
    /// (default on; see [`symmetry`]).
    pub symmetry: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            budget: Budget::default(),
            strategy: Strategy::Bfs,
            bounds: Bounds {
                depth: 12,
                max_states: 2_000_000,
                time: None,
                liveness_steps: 12,
            },
            properties: Vec::new(),
            fifo: false,
            timer_order: false,
            sync: false,
            symmetry: true,
        }
    }
}

/// The properties an algorithm claims ([`crate::plugin::Claims`]), checked when none are
/// named: lease overlap for the lease recipes, election safety and vote-once for Raft,
/// split brain for the algorithms that claim neither (Bully, Ring).
pub fn default_properties(algorithm: &ConfiguredAlgorithm) -> Vec<Property> {
    let claims = algorithm.claims();
    if claims.leases {
        vec![Property::LeaseOverlap]
    } else if claims.one_leader_per_term {
        vec![Property::ElectionSafety, Property::VoteOnce]
    } else {
        vec![Property::SplitBrain]
    }
}

/// A counterexample: the schedule as script steps, and what broke.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counterexample {
    /// The property the schedule breaks.
    pub property: Property,
    /// Why it is broken, in words (the offending nodes and terms).
    pub detail: String,
    /// One golden-script command per transition (`fire 0 Election`, `deliver 0 1 ...`).
    pub steps: Vec<String>,
    /// Every node's status after each step (`n0 leader/t1 n1 follower/t1 ...`).
    pub trace: Vec<String>,
}

/// The result of `verify`.
#[derive(Clone, Debug)]
pub struct VerifyReport {
    /// The algorithm checked (its scenario name, e.g. `raft`).
    pub algorithm: &'static str,
    /// Participants in the model (service replicas not counted).
    pub nodes: u32,
    /// The properties actually checked (the defaults when none were named).
    pub properties: Vec<Property>,
    /// The options the search ran with, echoed into the report.
    pub options: VerifyOptions,
    /// Symmetry reduction: `Ok(renamings)` when used, `Err(why not)` otherwise.
    pub symmetry: Result<u64, String>,
    /// Search effort: transitions, distinct states, depth reached, wall-clock time.
    pub stats: Stats,
    /// `Err(stop)`: no violation, and which bound ended the search.
    pub result: Result<Counterexample, Stop>,
}

/// Why `verify` refuses `raft-rs`.
pub const RAFT_RS_UNVERIFIABLE: &str = "verify does not check `raft-rs`: the checker stores, hashes and compares whole node states, and raft-rs's RawNode is neither Clone nor Hash; a fingerprint of its public fields would miss private state that decides behaviour (its progress tracker, vote tally, Ready records), so it would be unsound. Use `electsim explore` to search its fault plans instead";

/// Check `sc` (only its algorithm, cluster size and protocol options are used: faults
/// come from the budget, the network from the schedule).
pub fn verify(sc: &Scenario, opts: &VerifyOptions) -> Result<VerifyReport, String> {
    let service = sc.algorithm.service_nodes();
    if sc.nodes + service > MAX_TOTAL_NODES {
        return Err(format!(
            "verify explores at most {MAX_TOTAL_NODES} nodes (participants plus service replicas); this scenario has {} + {service}: use --set nodes=3",
            sc.nodes
        ));
    }
    if sc.clocks.iter().any(|c| *c != LocalClock::default()) {
        return Err("verify models perfect clocks; remove the scenario's [clock] settings".into());
    }
    if sc.resources != Resources::default() {
        return Err(
            "verify does not model write latency or CPU time; remove [storage] and [cpu]".into(),
        );
    }
    let props = if opts.properties.is_empty() {
        default_properties(&sc.algorithm)
    } else {
        opts.properties.clone()
    };
    let alg = &sc.algorithm;
    if let Some(p) = props.iter().find(|p| !p.applies_to(alg)) {
        let ok: Vec<&str> = Property::ALL
            .iter()
            .filter(|p| p.applies_to(alg))
            .map(|p| p.name())
            .collect();
        return Err(format!(
            "--property {} does not apply to {alg}: it would flag behaviour {alg} never promises; use one of {}",
            p.name(),
            ok.join(", ")
        ));
    }
    let a = &sc.algorithm;
    let (n, props) = (sc.nodes, &props);
    let (symmetry, (stats, result)) = if let Some(c) = a.config::<raft::Raft>() {
        let sym = symmetry_for::<raft::Raft>(c, n, opts);
        let used = sym.as_ref().map(Symmetry::group_size).map_err(Clone::clone);
        (
            used,
            run::<raft::Raft>(n, service, c.clone(), props, opts, sym.ok()),
        )
    } else {
        let off = |why: &str| {
            Err(if opts.symmetry {
                why.to_string()
            } else {
                "--symmetry off".to_string()
            })
        };
        if let Some(c) = a.config::<bully::Bully>() {
            let r = run::<bully::Bully>(n, service, c.clone(), props, opts, None);
            (off(NOT_SYMMETRIC_PRIORITY), r)
        } else if let Some(c) = a.config::<ring::Ring>() {
            let r = run::<ring::Ring>(n, service, c.clone(), props, opts, None);
            (off(NOT_SYMMETRIC_PRIORITY), r)
        } else if let Some(c) = a.config::<zookeeper::Zookeeper>() {
            let r = run::<zookeeper::Zookeeper>(n, service, c.clone(), props, opts, None);
            (off(NOT_SYMMETRIC_RECIPE), r)
        } else if let Some(c) = a.config::<etcd::Etcd>() {
            let r = run::<etcd::Etcd>(n, service, c.clone(), props, opts, None);
            (off(NOT_SYMMETRIC_RECIPE), r)
        } else if let Some(c) = a.config::<k8s::K8s>() {
            let r = run::<k8s::K8s>(n, service, c.clone(), props, opts, None);
            (off(NOT_SYMMETRIC_RECIPE), r)
        } else if a.config::<crate::protocols::raft_rs::RaftRs>().is_some() {
            return Err(RAFT_RS_UNVERIFIABLE.to_string());
        } else {
            // The checker stores and compares whole protocol states, which the plug-in
            // trait does not require to be Clone + Hash + Eq.
            return Err(format!(
                "verify checks the built-in algorithms only; `{}` is a plug-in",
                a.name()
            ));
        }
    };
    Ok(VerifyReport {
        algorithm: sc.algorithm.name(),
        nodes: sc.nodes,
        properties: props.clone(),
        options: opts.clone(),
        symmetry,
        stats,
        result,
    })
}

/// Why Bully and Ring get no symmetry reduction.
const NOT_SYMMETRIC_PRIORITY: &str = "node ids are priorities (the highest id wins)";
/// Why the coordination recipes get none (see docs/verify.md).
const NOT_SYMMETRIC_RECIPE: &str = "no node renaming implemented for the coordination recipes";

/// The renamings to deduplicate with, or why there are none: asked for, allowed by the
/// options (`--timer-order` breaks deadline ties by lower id, so it singles out nodes),
/// and allowed by the protocol's configuration.
fn symmetry_for<P: Checkable + crate::sim::Symmetric>(
    config: &P::Config,
    nodes: u32,
    opts: &VerifyOptions,
) -> Result<Symmetry<P>, String> {
    if !opts.symmetry {
        return Err("--symmetry off".into());
    }
    if opts.timer_order {
        return Err("--timer-order fires tied timers lowest id first".into());
    }
    Symmetry::of(config, nodes)
}

fn run<P: Checkable>(
    nodes: u32,
    service: u32,
    config: P::Config,
    props: &[Property],
    opts: &VerifyOptions,
    symmetry: Option<Symmetry<P>>,
) -> (Stats, Result<Counterexample, Stop>) {
    let m = Model::<P> {
        nodes,
        service,
        config,
        fifo: opts.fifo,
        timer_order: opts.timer_order,
        sync: opts.sync,
        track: Track::for_properties(props),
        symmetry,
    };
    let (found, stats) = search::search(&m, props, opts.budget, opts.strategy, &opts.bounds);
    let result = match found {
        Found::Clean(stop) => Err(stop),
        Found::Violation { path, broken } => {
            let (mut w, _) = search::initial(&m, props, opts.budget);
            let mut trace = Vec::new();
            for a in &path {
                w = search::step(&m, props, &w, a).0;
                trace.push(describe_world(&w));
            }
            Ok(Counterexample {
                property: broken.property,
                detail: broken.detail,
                steps: path.iter().map(script_step::<P>).collect(),
                trace,
            })
        }
    };
    (stats, result)
}

/// One transition as a golden-script command.
pub fn script_step<P: Protocol>(a: &Action<P::Msg, P::Timer>) -> String {
    match a {
        Action::Deliver { from, to, msg } => format!("deliver {from} {to} {msg:?}"),
        Action::Fire { node, timer } => format!("fire {node} {timer:?}"),
        Action::Drop { from, to, msg } => format!("drop {from} {to} {msg:?}"),
        Action::Duplicate { from, to, msg } => format!("duplicate {from} {to} {msg:?}"),
        Action::Crash { node } => format!("crash {node}"),
        Action::Restart { node } => format!("restart {node}"),
        Action::Isolate { node } => format!("isolate {node}"),
        Action::Cut { from, to } => format!("cut {from} {to}"),
        Action::Heal => "heal".into(),
    }
}

fn describe_world<P: Checkable>(w: &World<P>) -> String {
    let mut s = format!("t={}ms", w.now.0 as f64 / 1e6);
    for (i, st) in w.statuses().iter().enumerate() {
        s.push_str(&format!(" n{i} {}/t{}", st.role.as_str(), st.term));
    }
    s.push_str(&format!(" in_flight={}", w.msgs.len()));
    s
}

/// `electsim verify` arguments.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The scenario file and overrides (only the algorithm, cluster size and protocol
    /// options are used).
    #[command(flatten)]
    pub scenario: crate::command::ScenarioArgs,
    /// Longest schedule explored, in transitions (deliveries, timer firings, faults).
    #[arg(long, default_value_t = 12, value_parser = crate::command::flags::int::<u32>(1, crate::command::flags::MAX_DEPTH))]
    pub depth: u32,
    /// Most distinct states stored before the search stops.
    #[arg(long, default_value_t = 2_000_000, value_name = "N",
          value_parser = crate::command::flags::int::<u64>(1, crate::command::flags::MAX_STATES))]
    pub max_states: u64,
    /// Stop the search after this much wall-clock time (e.g. 60s); the report says so.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub time: Option<Duration>,
    /// Fault budget, e.g. crash=1,restart=1,partition=1,cut=1,drop=1,duplicate=1 (default: none).
    #[arg(long, default_value = "", value_name = "KIND=N,...")]
    pub faults: String,
    /// Breadth-first search: the first counterexample is a shortest one (default).
    #[arg(long, conflicts_with = "dfs")]
    pub bfs: bool,
    /// Depth-first search bounded by --depth: less memory, counterexamples not shortest.
    #[arg(long)]
    pub dfs: bool,
    /// Property to check (repeatable or comma-separated): election_safety, vote_once,
    /// split_brain, lease_overlap, liveness (default: the algorithm's own claims).
    #[arg(long, value_delimiter = ',')]
    pub property: Vec<String>,
    /// Liveness: steps allowed to elect a leader once faults stop.
    #[arg(long, default_value_t = 12, value_name = "K",
          value_parser = crate::command::flags::int::<u32>(1, crate::command::flags::MAX_DEPTH))]
    pub liveness_steps: u32,
    /// Deliver the messages of one link in send order (default: any order).
    #[arg(long)]
    pub fifo: bool,
    /// Fire timers one at a time in deadline order (ties: lower node id first); default:
    /// any pending timer may fire next.
    #[arg(long)]
    pub timer_order: bool,
    /// Synchronous rounds: deliver (or lose) every message in flight before any timer
    /// fires, the bounded-delay assumption Bully and Ring make.
    #[arg(long)]
    pub sync: bool,
    /// Deduplicate states up to a renaming of interchangeable nodes: `on` (default) where
    /// sound (Raft, without --timer-order, at most 5 nodes), `off` never.
    #[arg(long, value_enum, default_value = "on", value_name = "on|off")]
    pub symmetry: OnOff,
    /// Write report.txt here and, with a violation, counterexample.txt (a replayable golden
    /// script), its replay's trace counterexample.jsonl and timeline counterexample.svg, and
    /// trace.txt.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// With --out: replace files there that electsim did not write.
    #[arg(long, requires = "out")]
    pub force: bool,
}

/// A switch given as `on` or `off` on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OnOff {
    /// Enabled.
    On,
    /// Disabled.
    Off,
}

/// Parse the arguments into options (bad values are usage errors).
pub fn options(a: &VerifyArgs) -> Result<VerifyOptions, CliError> {
    if a.depth == 0 {
        return Err(CliError::Usage("--depth must be at least 1".into()));
    }
    if a.max_states == 0 {
        return Err(CliError::Usage("--max-states must be at least 1".into()));
    }
    let budget = Budget::parse(&a.faults).map_err(|e| CliError::Usage(format!("--faults: {e}")))?;
    let mut properties = Vec::new();
    for p in &a.property {
        let p =
            Property::parse(p.trim()).map_err(|e| CliError::Usage(format!("--property: {e}")))?;
        if !properties.contains(&p) {
            properties.push(p);
        }
    }
    Ok(VerifyOptions {
        budget,
        strategy: if a.dfs { Strategy::Dfs } else { Strategy::Bfs },
        bounds: Bounds {
            depth: a.depth,
            max_states: a.max_states,
            time: a.time,
            liveness_steps: a.liveness_steps,
        },
        properties,
        fifo: a.fifo,
        timer_order: a.timer_order,
        sync: a.sync,
        symmetry: a.symmetry == OnOff::On,
    })
}

/// Run `electsim verify`: exit 0 when no violation was found within the bounds, 1 when one
/// was (counterexample printed, and written with `--out`), 2 on bad input.
pub fn execute(a: VerifyArgs) -> Result<(), CliError> {
    let opts = options(&a)?;
    if let Some(dir) = &a.out {
        crate::outputs::Outputs::new(a.force)
            .input("the scenario", &a.scenario.scenario)
            .files_in("--out", dir, &report::FILES)
            .map_err(CliError::Usage)?;
    }
    let (file, sc, sets) = a.scenario.load()?;
    crate::command::note_ignored_axes(&file, &sets, "verify");
    let report = verify(&sc, &opts).map_err(CliError::Input)?;
    let script = report::script(&file.path, &sets, &report);
    let mut text = report::summary(&report, script.as_deref());
    if let Some(dir) = &a.out {
        let note = report::write(dir, &report, &text, script.as_deref()).map_err(CliError::Io)?;
        text.push_str(&note);
    }
    crate::command::print_stdout(&text)?;
    match &report.result {
        Ok(cx) => Err(CliError::Failed(format!(
            "{} violated after {} steps",
            cx.property.name(),
            cx.steps.len()
        ))),
        Err(_) => Ok(()),
    }
}

/// Assignments rendered as `key=value` words for a script's `new` line.
pub fn set_words(sets: &[Assignment]) -> Vec<String> {
    sets.iter()
        .map(|a| {
            let v = match &a.value {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("{}={v}", a.key)
        })
        .collect()
}
