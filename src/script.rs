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
//! * `run DURATION` — advance virtual time; prints status changes, faults and resumes.
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
//! `new` also takes `scenario=PATH` (start from that scenario file instead of the
//! defaults) and `schedule=held`.
//!
//! `tests/golden.rs` runs every `tests/scripts/**/*.txt`; with `ELECTSIM_REWRITE=1` it rewrites
//! the expectations instead of comparing (review the diff before committing!).
//! `electsim replay SCRIPT` runs one script with trace recorders attached ([`crate::replay`]).

use crate::report::trace::TraceMeta;
use crate::runner::{self, DynSim};
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
    pub fn exec(&mut self, cmd: &str) -> Result<String, String> {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        let Some((&verb, args)) = words.split_first() else {
            return Err("empty command".into());
        };
        if verb == "new" {
            return self.new_sim(args);
        }
        let sim = self
            .sim
            .as_mut()
            .ok_or("no simulation: start with `new ...`")?;
        let node = |s: &str, sim: &dyn DynSim| -> Result<Target, String> {
            if s == "leader" {
                return Ok(Target::Leader);
            }
            let n: NodeId = s
                .trim_start_matches('n')
                .parse()
                .map_err(|_| format!("`{s}` is not a node id or `leader`"))?;
            if n >= sim.total_nodes() {
                return Err(format!(
                    "node {n} does not exist (0..{})",
                    sim.total_nodes()
                ));
            }
            Ok(Target::Node(n))
        };
        let node_id = |s: &str, sim: &dyn DynSim| -> Result<NodeId, String> {
            match node(s, sim)? {
                Target::Node(n) => Ok(n),
                _ => Err(format!("`{s}`: give a node id")),
            }
        };
        let dur = |s: Option<&&str>| -> Result<SimDuration, String> {
            SimDuration::parse(s.ok_or("missing duration")?)
        };
        match verb {
            "run" => {
                let d = dur(args.first())?;
                *self.lines.verbose.borrow_mut() = args.get(1) == Some(&"verbose");
                let until = sim.now() + d;
                sim.run_until(until).map_err(|e| e.to_string())?;
                *self.lines.verbose.borrow_mut() = false;
            }
            "crash" => {
                let t = node(args.first().ok_or("crash what?")?, sim.as_ref())?;
                sim.apply_fault(FaultAction::Crash {
                    target: t,
                    restart_after: None,
                });
            }
            "restart" => {
                let t = node(args.first().ok_or("restart what?")?, sim.as_ref())?;
                sim.apply_fault(FaultAction::Restart { target: t });
            }
            "pause" => {
                let t = node(args.first().ok_or("pause what?")?, sim.as_ref())?;
                sim.apply_fault(FaultAction::Pause {
                    target: t,
                    duration: dur(args.get(1))?,
                });
            }
            "isolate" => {
                let t = node(args.first().ok_or("isolate what?")?, sim.as_ref())?;
                sim.apply_fault(FaultAction::Isolate {
                    target: t,
                    heal_after: None,
                });
            }
            "partition" => {
                let text = args.join(" ");
                let mut groups = Vec::new();
                for g in text.split('/') {
                    let ids: Result<Vec<NodeId>, _> =
                        g.split(',').map(|x| x.trim().parse::<NodeId>()).collect();
                    groups.push(ids.map_err(|_| {
                        format!("bad partition `{text}`; write e.g. `partition 0,1 / 2,3,4`")
                    })?);
                }
                sim.apply_fault(FaultAction::Partition {
                    groups,
                    heal_after: None,
                });
            }
            "cut" => {
                let (Some(a), Some(b)) = (args.first(), args.get(1)) else {
                    return Err("cut FROM TO".into());
                };
                let (from, to) = (node(a, sim.as_ref())?, node(b, sim.as_ref())?);
                sim.apply_fault(FaultAction::Cut {
                    from,
                    to,
                    heal_after: None,
                });
            }
            "heal" => sim.apply_fault(FaultAction::Heal),
            "drift" => {
                let t = node(args.first().ok_or("drift what?")?, sim.as_ref())?;
                let ppm: f64 = args
                    .get(1)
                    .and_then(|s| s.parse().ok())
                    .ok_or("drift N PPM")?;
                sim.apply_fault(FaultAction::ClockDrift {
                    target: t,
                    drift_ppm: ppm,
                    offset: SimDuration::ZERO,
                });
            }
            "deliver" | "drop" | "duplicate" => {
                let how = match verb {
                    "deliver" => Release::Deliver,
                    "drop" => Release::Drop,
                    _ => Release::Duplicate,
                };
                let (Some(from), Some(to)) = (args.first(), args.get(1)) else {
                    return Err(format!("{verb} FROM TO MESSAGE"));
                };
                let (from, to) = (node_id(from, sim.as_ref())?, node_id(to, sim.as_ref())?);
                let msg = args[2..].join(" ");
                if !sim.release_held(from, to, &msg, how) {
                    return Err(format!(
                        "no held message n{from} -> n{to} `{msg}` (is the schedule held? see `held`)"
                    ));
                }
            }
            "fire" => {
                let n = node_id(args.first().ok_or("fire NODE TIMER")?, sim.as_ref())?;
                let timer = args[1..].join(" ");
                if !sim.fire_held(n, &timer) {
                    return Err(format!(
                        "node {n} has no pending timer `{timer}` (is the schedule held? see `held`)"
                    ));
                }
            }
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
                return Ok(out.join("\n"));
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
                return Ok(out.join("\n"));
            }
            "status" => {
                let mut out = Vec::new();
                for n in 0..sim.total_nodes() {
                    let paused = if sim.is_paused(n) { " paused" } else { "" };
                    out.push(format!("n{n} {}{paused}", fmt_status(&sim.status(n))));
                }
                return Ok(out.join("\n"));
            }
            "leader" => {
                return Ok(sim.current_leader().map_or("none".into(), |l| {
                    format!("n{l} (term {})", sim.status(l).term)
                }));
            }
            "metrics" => {
                let m = sim.metrics_now();
                return Ok(format!(
                    "elections={} leader_changes={} split_brain_incidents={} same_term_leaders={} messages_sent={} failover_ms_max={}",
                    m.elections,
                    m.leader_changes,
                    m.split_brain_incidents,
                    m.same_term_leaders,
                    m.messages_sent,
                    m.failover_ms.max.map_or("-".into(), |x| format!("{x:.3}"))
                ));
            }
            "coverage" => {
                let c = sim.metrics_now().coverage;
                return Ok(crate::sim::metrics::COVERAGE_NAMES
                    .iter()
                    .zip(c.values())
                    .map(|(n, v)| format!("{n}={v}"))
                    .collect::<Vec<_>>()
                    .join(" "));
            }
            other => return Err(format!("unknown command `{other}`")),
        }
        Ok(self
            .lines
            .buf
            .borrow_mut()
            .drain(..)
            .collect::<Vec<_>>()
            .join("\n"))
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
                base = std::fs::read_to_string(v).map_err(|e| format!("`{v}`: {e}"))?;
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
