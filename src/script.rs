//! Golden interaction scripts: a small text language to drive a simulation step by step and
//! print what happened, checked against expectations stored under the commands.
//!
//! A script is a sequence of blocks separated by blank lines. Each block is one command, a
//! `----` line, and the expected output (which may be empty):
//!
//! ```text
//! # comments start with '#'
//! new algorithm=raft nodes=5 seed=3 network.delay={constant="5ms"}
//! ----
//! ok
//!
//! run 1s
//! ----
//! 163.205ms n2 follower/t1 -> candidate/t2
//! ```
//!
//! Commands:
//! * `new key=value ...` — a fresh simulation; any scenario key (as for `--set`).
//! * `run DURATION` — advance virtual time; prints status changes, faults and resumes. A
//!   simulation ends at its scenario's `duration` (1h unless `new` sets it): a `run` past
//!   it is refused, never cut short.
//! * `run DURATION verbose` — also prints every message sent.
//! * `crash N|leader`, `restart N`, `pause N|leader DURATION`, `isolate N|leader`,
//!   `partition 0,1 / 2,3,4`, `cut FROM TO`, `heal`, `drift N PPM` — apply a fault now.
//! * `status` — every node's status; `leader` — the current leader; `metrics` — the key
//!   metrics so far; `coverage` — the coverage counts so far; `violations` — invariant
//!   violations, split-brain and lease-overlap
//!   incidents so far.
//!
//! Held schedules (`new schedule=held ...`, what `electsim verify` writes): messages and
//! timers wait until the script releases them, so a script can replay one exact schedule.
//! * `deliver FROM TO MESSAGE` — deliver the oldest held message `FROM -> TO` whose debug
//!   text is MESSAGE (e.g. `deliver 0 1 RequestVote { term: 1, last_log: (1, 10) }`).
//! * `drop FROM TO MESSAGE`, `duplicate FROM TO MESSAGE` — lose it, or add a second copy.
//! * `fire N TIMER` — fire node N's pending timer TIMER (e.g. `fire 0 Election`); the
//!   clock moves to the timer's deadline (armed with the earliest delay it allows).
//! * `held` — the held messages and pending timers.
//!
//! A bad argument (a node that does not exist, a value a `[[fault]]` entry would refuse, a
//! run past the end) is a [`StepError::Malformed`] script; a well-formed step the state
//! refuses (no such held message) is a [`StepError::Engine`] result.
//!
//! `new` also takes `scenario=PATH` (start from that scenario file instead of the
//! defaults) and `schedule=held`.
//!
//! `tests/golden.rs` runs every `tests/scripts/**/*.txt`; with `ELECTSIM_REWRITE=1` it rewrites
//! the expectations instead of comparing (review the diff before committing!).
//! `electsim replay SCRIPT` runs one script with trace recorders attached ([`crate::replay`]).

use crate::report::trace::TraceMeta;
use crate::runner::{self, DynSim};
use crate::scenario::raw::{RawFault, RawPartition, RawTarget};
use crate::scenario::{Assignment, Origin, ScenarioFile, parse_value};
use crate::sim::{
    FaultAction, NodeId, NodeStatus, Observer, Release, Role, SimDuration, SimTime, Target,
    TraceEvent,
};
use std::cell::RefCell;
use std::fmt::Write as _;
use std::path::Path;
use std::rc::Rc;

/// Shared line buffer the recording observer writes into.
#[derive(Clone, Default)]
struct Lines {
    buf: Rc<RefCell<Vec<String>>>,
    verbose: Rc<RefCell<bool>>,
}

struct Recorder(Lines);

fn fmt_status(s: &NodeStatus) -> String {
    let mut out = format!("{}/t{}", s.role.as_str(), s.term);
    if s.role != Role::Leader
        && let Some(l) = s.leader
    {
        let _ = write!(out, " (leader n{l})");
    }
    out
}

fn fmt_time(t: SimTime) -> String {
    format!("{:.3}ms", t.0 as f64 / 1e6)
}

impl Observer for Recorder {
    fn observe(&mut self, ev: &TraceEvent<'_>) {
        let line = match *ev {
            TraceEvent::Status { at, node, old, new } => Some(format!(
                "{} n{node} {} -> {}",
                fmt_time(at),
                fmt_status(&old),
                fmt_status(&new)
            )),
            TraceEvent::Fault { at, action } => {
                Some(format!("{} fault {}", fmt_time(at), describe(action)))
            }
            TraceEvent::Resume { at, node } => Some(format!("{} n{node} resumes", fmt_time(at))),
            TraceEvent::Send { at, msg } if *self.0.verbose.borrow() => Some(format!(
                "{} n{} -> n{} {}{}",
                fmt_time(at),
                msg.from,
                msg.to,
                msg.kind_name,
                msg.term.map_or(String::new(), |t| format!(" t{t}"))
            )),
            _ => None,
        };
        if let Some(l) = line {
            self.0.buf.borrow_mut().push(l);
        }
    }
}

fn target_str(t: &Target) -> String {
    match t {
        Target::Node(n) => format!("n{n}"),
        Target::Leader => "leader".into(),
        Target::Random => "random".into(),
    }
}

fn describe(a: &FaultAction) -> String {
    match a {
        FaultAction::Crash { target, .. } => format!("crash {}", target_str(target)),
        FaultAction::Restart { target } => format!("restart {}", target_str(target)),
        FaultAction::Pause { target, duration } => {
            format!("pause {} for {duration}", target_str(target))
        }
        FaultAction::Partition { groups, .. } => format!(
            "partition {}",
            groups
                .iter()
                .map(|g| g.iter().map(u32::to_string).collect::<Vec<_>>().join(","))
                .collect::<Vec<_>>()
                .join(" / ")
        ),
        FaultAction::PartitionLeaderSide { size, .. } => {
            format!("partition leader side ({size} nodes)")
        }
        FaultAction::Cut { from, to, .. } => {
            format!("cut {} -> {}", target_str(from), target_str(to))
        }
        FaultAction::Isolate { target, .. } => format!("isolate {}", target_str(target)),
        FaultAction::Heal => "heal".into(),
        FaultAction::HealFault { fault } => format!("heal fault #{fault}"),
        FaultAction::SetLoss { loss } => format!("set_loss {loss}"),
        FaultAction::SetDelay { delay } => format!("set_delay {delay:?}"),
        FaultAction::ClockDrift {
            target, drift_ppm, ..
        } => format!("clock_drift {} {drift_ppm}ppm", target_str(target)),
    }
}

/// The script commands (the first word of a command line).
pub const COMMANDS: &[&str] = &[
    "new",
    "run",
    "crash",
    "restart",
    "pause",
    "isolate",
    "partition",
    "cut",
    "heal",
    "drift",
    "deliver",
    "drop",
    "duplicate",
    "fire",
    "held",
    "violations",
    "status",
    "leader",
    "metrics",
    "coverage",
];

/// Why a script step failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// The step itself is wrong (bad argument, a node that does not exist, a value a
    /// scenario would refuse): the script is malformed.
    #[error("{0}")]
    Malformed(String),
    /// The step is well formed but the simulation's state refused it (no such held message,
    /// a kernel limit): what the engine did, to compare with the script.
    #[error("{0}")]
    Engine(String),
}

/// Makes the extra observers (trace recorders) attached to each simulation `new` creates.
pub type ObserverFactory = Box<dyn FnMut() -> Vec<Box<dyn Observer>>>;

/// The state of one script run.
#[derive(Default)]
pub struct ScriptRunner {
    sim: Option<Box<dyn DynSim>>,
    lines: Lines,
    /// What the current simulation is, for trace headers and timelines.
    meta: Option<TraceMeta>,
    extra: Option<ObserverFactory>,
    /// The current simulation was created with `schedule=held`.
    held: bool,
    /// Participants of the current simulation (for share partitions).
    nodes: u32,
    /// The current simulation's end (its scenario's `duration`): `run` may not pass it.
    end: SimTime,
}

impl ScriptRunner {
    /// A runner that attaches `factory()`'s observers to every simulation a `new` creates
    /// (after the scenario is validated, so a failing `new` attaches nothing).
    pub fn with_observers(factory: ObserverFactory) -> ScriptRunner {
        ScriptRunner {
            extra: Some(factory),
            ..ScriptRunner::default()
        }
    }

    /// Scenario name, algorithm, participants and seed of the current simulation.
    pub fn meta(&self) -> Option<&TraceMeta> {
        self.meta.as_ref()
    }

    /// True when the current simulation was created with `schedule=held` (messages and
    /// timers wait for `deliver`/`fire`, so its steps take no virtual time).
    pub fn is_held(&self) -> bool {
        self.sim.is_some() && self.held
    }

    /// Virtual time of the current simulation.
    pub fn now(&self) -> Option<SimTime> {
        self.sim.as_ref().map(|s| s.now())
    }

    /// Execute one command and return its output (without trailing newline).
    pub fn exec(&mut self, cmd: &str) -> Result<String, StepError> {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        let Some((&verb, args)) = words.split_first() else {
            return Err(StepError::Malformed("empty command".into()));
        };
        if verb == "new" {
            return self.new_sim(args).map_err(StepError::Malformed);
        }
        let (nodes, end) = (self.nodes, self.end);
        let sim = self
            .sim
            .as_mut()
            .ok_or_else(|| StepError::Malformed("no simulation: start with `new ...`".into()))?;
        let total = sim.total_nodes();
        if let Some(fault) = fault_of(verb, args).map_err(StepError::Malformed)? {
            let action = crate::scenario::fault_action(&fault, nodes, total).map_err(|e| {
                StepError::Malformed(format!(
                    "invalid value for `{}`: {}; expected {} (checked as a [[fault]] entry is)",
                    e.field, e.value, e.expected
                ))
            })?;
            sim.apply_fault(action);
            return Ok(self.drain());
        }
        let node_id = |s: &str| -> Result<NodeId, StepError> {
            s.trim_start_matches('n')
                .parse::<NodeId>()
                .ok()
                .filter(|&n| n < total)
                .ok_or_else(|| {
                    StepError::Malformed(format!(
                        "`{s}` is not a node id in 0..{total} (0 to {})",
                        total - 1
                    ))
                })
        };
        match verb {
            "run" => {
                let d = args
                    .first()
                    .ok_or("missing duration")
                    .map_err(|e| StepError::Malformed(e.into()))
                    .and_then(|s| SimDuration::parse(s).map_err(StepError::Malformed))?;
                let until = sim.now() + d;
                if until > end {
                    return Err(StepError::Malformed(format!(
                        "`run {d}` would pass the simulation's end at {} (now {}); the scenario's `duration` bounds a script's virtual time: raise it on the `new` line, e.g. `new ... duration=3h`",
                        SimDuration(end.0),
                        SimDuration(sim.now().0)
                    )));
                }
                *self.lines.verbose.borrow_mut() = args.get(1) == Some(&"verbose");
                let ran = sim
                    .run_until(until)
                    .map_err(|e| StepError::Engine(e.to_string()));
                *self.lines.verbose.borrow_mut() = false;
                ran?;
            }
            "deliver" | "drop" | "duplicate" => {
                let how = match verb {
                    "deliver" => Release::Deliver,
                    "drop" => Release::Drop,
                    _ => Release::Duplicate,
                };
                let (Some(from), Some(to)) = (args.first(), args.get(1)) else {
                    return Err(StepError::Malformed(format!("{verb} FROM TO MESSAGE")));
                };
                let (from, to) = (node_id(from)?, node_id(to)?);
                let msg = args[2..].join(" ");
                if !sim.release_held(from, to, &msg, how) {
                    return Err(StepError::Engine(format!(
                        "no held message n{from} -> n{to} `{msg}` (is the schedule held? see `held`)"
                    )));
                }
            }
            "fire" => {
                let n = node_id(
                    args.first()
                        .ok_or_else(|| StepError::Malformed("fire NODE TIMER".into()))?,
                )?;
                let timer = args[1..].join(" ");
                if !sim.fire_held(n, &timer) {
                    return Err(StepError::Engine(format!(
                        "node {n} has no pending timer `{timer}` (is the schedule held? see `held`)"
                    )));
                }
            }
            _ => return query(sim.as_ref(), verb),
        }
        Ok(self.drain())
    }

    /// The lines recorded since the last step.
    fn drain(&self) -> String {
        self.lines
            .buf
            .borrow_mut()
            .drain(..)
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn new_sim(&mut self, args: &[&str]) -> Result<String, String> {
        let mut sets = Vec::new();
        let mut seed = 1u64;
        let mut held = false;
        let mut base = "name = \"script\"\nduration = \"1h\"\n".to_string();
        let mut path = "<script>".to_string();
        for a in args {
            let (k, v) = a
                .split_once('=')
                .ok_or_else(|| format!("`{a}`: expected key=value"))?;
            if k == "seed" {
                seed = v.parse().map_err(|_| format!("bad seed `{v}`"))?;
            }
            if k == "schedule" {
                held = match v {
                    "held" => true,
                    "timed" => false,
                    _ => return Err(format!("`{a}`: schedule is `held` or `timed`")),
                };
                continue;
            }
            if k == "scenario" {
                base =
                    crate::scenario::read_scenario_text(Path::new(v)).map_err(|e| e.to_string())?;
                path = v.to_string();
                continue;
            }
            sets.push(Assignment {
                key: k.into(),
                value: parse_value(v),
                origin: Origin::Override(a.to_string()),
            });
        }
        let file = ScenarioFile::from_text(Path::new(&path), base).map_err(|e| e.to_string())?;
        let sc = file.instantiate(&sets).map_err(|e| e.to_string())?;
        self.lines = Lines::default();
        let mut observers: Vec<Box<dyn Observer>> = vec![Box::new(Recorder(self.lines.clone()))];
        if let Some(f) = &mut self.extra {
            observers.extend(f());
        }
        let sim = if held {
            runner::build_held(&sc, seed, observers)
        } else {
            runner::build(&sc, seed, observers)
        };
        self.sim = Some(sim.map_err(|e| e.to_string())?);
        self.held = held;
        self.nodes = sc.nodes;
        self.end = SimTime::ZERO + sc.duration;
        self.meta = Some(TraceMeta {
            scenario: sc.name.clone(),
            algorithm: sc.algorithm.name().into(),
            nodes: sc.nodes,
            seed,
        });
        self.lines.buf.borrow_mut().clear(); // boot-time status lines are not interesting
        Ok("ok".into())
    }
}

/// The commands that only read the simulation: `held`, `violations`, `status`, `leader`,
/// `metrics`, `coverage`.
fn query(sim: &dyn DynSim, verb: &str) -> Result<String, StepError> {
    let out = match verb {
        "held" => {
            let mut out = Vec::new();
            for (f, t, m) in sim.held_messages() {
                out.push(format!("msg n{f} -> n{t} {m}"));
            }
            for n in 0..sim.total_nodes() {
                for (k, d) in sim.held_timers(n) {
                    out.push(format!("timer n{n} {k} at {}", fmt_time(d)));
                }
            }
            out.join("\n")
        }
        "violations" => {
            let mut out: Vec<String> = sim
                .violations()
                .iter()
                .map(|v| format!("{}: {}", v.property, v.detail))
                .collect();
            let m = sim.metrics_now();
            out.push(format!(
                "split_brain_incidents={} lease_overlap_incidents={}",
                m.split_brain_incidents, m.lease_overlap_incidents
            ));
            out.join("\n")
        }
        "status" => (0..sim.total_nodes())
            .map(|n| {
                let paused = if sim.is_paused(n) { " paused" } else { "" };
                format!("n{n} {}{paused}", fmt_status(&sim.status(n)))
            })
            .collect::<Vec<_>>()
            .join("\n"),
        "leader" => sim.current_leader().map_or("none".into(), |l| {
            format!("n{l} (term {})", sim.status(l).term)
        }),
        "metrics" => {
            let m = sim.metrics_now();
            format!(
                "elections={} leader_changes={} split_brain_incidents={} same_term_leaders={} messages_sent={} failover_ms_max={}",
                m.elections,
                m.leader_changes,
                m.split_brain_incidents,
                m.same_term_leaders,
                m.messages_sent,
                m.failover_ms.max.map_or("-".into(), |x| format!("{x:.3}"))
            )
        }
        "coverage" => {
            let c = sim.metrics_now().coverage;
            crate::sim::metrics::COVERAGE_NAMES
                .iter()
                .zip(c.values())
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        }
        other => return Err(StepError::Malformed(format!("unknown command `{other}`"))),
    };
    Ok(out)
}

/// A fault target as a script writes it: a node id (`2` or `n2`) or `leader`.
fn raw_target(s: &str) -> Result<RawTarget, String> {
    if s == "leader" {
        return Ok(RawTarget::Name(s.into()));
    }
    s.trim_start_matches('n')
        .parse::<i64>()
        .map(RawTarget::Node)
        .map_err(|_| format!("`{s}` is not a node id or `leader`"))
}

/// The `[[fault]]` entry a fault command stands for (`None`: not a fault command), so the
/// scenario's validation checks it.
fn fault_of(verb: &str, args: &[&str]) -> Result<Option<RawFault>, String> {
    let arg = |i: usize, usage: &str| args.get(i).copied().ok_or_else(|| usage.to_string());
    let f = match verb {
        "crash" => RawFault {
            crash: Some(raw_target(arg(0, "crash N|leader")?)?),
            ..RawFault::default()
        },
        "restart" => RawFault {
            restart: Some(raw_target(arg(0, "restart N|leader")?)?),
            ..RawFault::default()
        },
        "pause" => RawFault {
            pause: Some(raw_target(arg(0, "pause N|leader DURATION")?)?),
            duration: Some(SimDuration::parse(arg(1, "pause N|leader DURATION")?)?),
            ..RawFault::default()
        },
        "isolate" => RawFault {
            isolate: Some(raw_target(arg(0, "isolate N|leader")?)?),
            ..RawFault::default()
        },
        "cut" => RawFault {
            cut: Some(vec![
                raw_target(arg(0, "cut FROM TO")?)?,
                raw_target(arg(1, "cut FROM TO")?)?,
            ]),
            ..RawFault::default()
        },
        "heal" => RawFault {
            heal: Some(true),
            ..RawFault::default()
        },
        "partition" => {
            let text = args.join(" ");
            let bad = || format!("bad partition `{text}`; write e.g. `partition 0,1 / 2,3,4`");
            let groups = text
                .split('/')
                .map(|g| g.split(',').map(|x| x.trim().parse::<i64>()).collect())
                .collect::<Result<Vec<Vec<i64>>, _>>()
                .map_err(|_| bad())?;
            RawFault {
                partition: Some(RawPartition::Groups(groups)),
                ..RawFault::default()
            }
        }
        "drift" => {
            let ppm = arg(1, "drift N PPM")?;
            RawFault {
                clock_drift: Some(raw_target(arg(0, "drift N PPM")?)?),
                drift_ppm: Some(
                    ppm.parse()
                        .map_err(|_| format!("`{ppm}` is not a number of ppm; drift N PPM"))?,
                ),
                ..RawFault::default()
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(f))
}

/// Run a whole script; returns the script text with every expectation replaced by the
/// actual output (so the caller can compare or rewrite).
pub fn run_script(text: &str) -> String {
    let mut runner = ScriptRunner::default();
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim().is_empty() || line.starts_with('#') {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        out.push_str(line);
        out.push('\n');
        // Skip the old expectation (up to and including the blank line after `----`).
        if lines.peek().is_some_and(|l| l.trim() == "----") {
            lines.next();
            while lines.peek().is_some_and(|l| !l.trim().is_empty()) {
                lines.next();
            }
        }
        let result = runner
            .exec(line.trim())
            .unwrap_or_else(|e| format!("error: {e}"));
        out.push_str("----\n");
        if !result.is_empty() {
            out.push_str(&result);
            out.push('\n');
        }
    }
    out
}
