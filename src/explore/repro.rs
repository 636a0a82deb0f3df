//! Self-contained reproduction scenarios: a [`ReproSpec`] is a scenario file's settings
//! (the source TOML table with the `--set` overrides applied) plus the seed, cluster size,
//! duration and an explicit list of scripted faults. It renders to a TOML scenario file
//! that needs nothing else (no sweep, no random faults, no jitter: the seed is the only
//! randomness left) and parses back with [`ScenarioFile`].

use crate::scenario::{Assignment, Scenario, ScenarioFile};
use crate::sim::faults::ServiceSide;
use crate::sim::{DelayDist, FaultAction, ScriptedFault, SimDuration, Target};
use std::fmt::Write as _;
use std::path::Path;

/// Keys a spec sets itself (removed from the carried-over table).
const OWN_KEYS: [&str; 9] = [
    "name",
    "description",
    "seed",
    "nodes",
    "duration",
    "runs",
    "sweep",
    "fault",
    "random_fault",
];

/// Everything a reproduction scenario needs.
#[derive(Clone, Debug, PartialEq)]
pub struct ReproSpec {
    /// Settings carried over from the source scenario (algorithm, network, protocol tables,
    /// limits, clocks), without the keys the spec sets itself.
    pub base: toml::Table,
    /// Scenario name written to the file.
    pub name: String,
    /// Scenario description written to the file.
    pub description: String,
    /// The run seed (the file's `seed`).
    pub seed: u64,
    /// Participants.
    pub nodes: u32,
    /// Virtual run length.
    pub duration: SimDuration,
    /// The fault plan, written as `[[fault]]` tables.
    pub faults: Vec<ScriptedFault>,
    /// Comment lines written at the top of the file.
    pub notes: Vec<String>,
}

/// The source table of `file` with `sets` applied, minus the keys a spec sets itself.
pub fn base_table(file: &ScenarioFile, sets: &[Assignment]) -> Result<toml::Table, String> {
    let mut t: toml::Table =
        toml::from_str(&file.text).map_err(|e| format!("{}: {e}", file.path.display()))?;
    for a in sets {
        crate::scenario::set_path(&mut t, &a.key, a.value.clone())
            .map_err(|e| format!("--set {}: {e}", a.key))?;
    }
    for k in OWN_KEYS {
        t.remove(k);
    }
    Ok(t)
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn dur(d: SimDuration) -> String {
    format!("\"{d}\"")
}

fn target(t: &Target) -> String {
    match t {
        Target::Node(n) => n.to_string(),
        Target::Leader => "\"leader\"".to_string(),
        Target::Random => "\"random\"".to_string(),
    }
}

fn delay(d: &DelayDist) -> String {
    match d {
        DelayDist::Constant(c) => format!("{{ constant = {} }}", dur(*c)),
        DelayDist::Uniform { min, max } => {
            format!("{{ uniform = [{}, {}] }}", dur(*min), dur(*max))
        }
        DelayDist::Normal { mean, sd } => format!(
            "{{ normal = {{ mean = {}, sd = {} }} }}",
            dur(*mean),
            dur(*sd)
        ),
        DelayDist::Exponential { floor, mean } => {
            format!(
                "{{ exponential = {{ floor = {}, mean = {} }} }}",
                dur(*floor),
                dur(*mean)
            )
        }
        DelayDist::LogNormal { median, sigma } => {
            format!(
                "{{ lognormal = {{ median = {}, sigma = {sigma:?} }} }}",
                dur(*median)
            )
        }
    }
}

/// One `[[fault]]` block.
pub fn fault_toml(f: &ScriptedFault) -> String {
    let mut s = String::from("[[fault]]\n");
    let _ = writeln!(s, "at = {}", dur(SimDuration(f.at.0)));
    if let Some(j) = f.jitter {
        let _ = writeln!(s, "jitter = {}", dur(j));
    }
    if let Some(e) = f.every {
        let _ = writeln!(s, "every = {}", dur(e));
    }
    if let Some(u) = f.until {
        let _ = writeln!(s, "until = {}", dur(SimDuration(u.0)));
    }
    let heal = |s: &mut String, h: &Option<SimDuration>| {
        if let Some(h) = h {
            let _ = writeln!(s, "heal_after = {}", dur(*h));
        }
    };
    match &f.action {
        FaultAction::Crash {
            target: t,
            restart_after,
        } => {
            let _ = writeln!(s, "crash = {}", target(t));
            if let Some(r) = restart_after {
                let _ = writeln!(s, "restart_after = {}", dur(*r));
            }
        }
        FaultAction::Restart { target: t } => {
            let _ = writeln!(s, "restart = {}", target(t));
        }
        FaultAction::Pause {
            target: t,
            duration,
        } => {
            let _ = writeln!(s, "pause = {}\nduration = {}", target(t), dur(*duration));
        }
        FaultAction::Partition { groups, heal_after } => {
            let g: Vec<String> = groups
                .iter()
                .map(|g| {
                    format!(
                        "[{}]",
                        g.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
                    )
                })
                .collect();
            let _ = writeln!(s, "partition = [{}]", g.join(", "));
            heal(&mut s, heal_after);
        }
        FaultAction::PartitionLeaderSide {
            share,
            service,
            heal_after,
            ..
        } => {
            let _ = writeln!(
                s,
                "partition = {{ minority = {share:?}, ids = \"leader\"{} }}",
                match service {
                    ServiceSide::Majority => String::new(),
                    other => format!(", service = \"{}\"", other.as_str()),
                }
            );
            heal(&mut s, heal_after);
        }
        FaultAction::Cut {
            from,
            to,
            heal_after,
        } => {
            let _ = writeln!(s, "cut = [{}, {}]", target(from), target(to));
            heal(&mut s, heal_after);
        }
        FaultAction::Isolate {
            target: t,
            heal_after,
        } => {
            let _ = writeln!(s, "isolate = {}", target(t));
            heal(&mut s, heal_after);
        }
        FaultAction::Heal => s.push_str("heal = true\n"),
        // Produced by the engine from a fault's heal_after, never part of a plan.
        FaultAction::HealFault { .. } => {}
        FaultAction::SetLoss { loss } => {
            let _ = writeln!(s, "set_loss = {loss:?}");
        }
        FaultAction::SetDelay { delay: d } => {
            let _ = writeln!(s, "set_delay = {}", delay(d));
        }
        FaultAction::ClockDrift {
            target: t,
            drift_ppm,
            offset,
        } => {
            let _ = writeln!(
                s,
                "clock_drift = {}\ndrift_ppm = {drift_ppm:?}\noffset = {}",
                target(t),
                dur(*offset)
            );
        }
    }
    s
}

impl ReproSpec {
    /// The scenario file text.
    pub fn to_toml(&self) -> String {
        let mut s = String::new();
        for n in &self.notes {
            let _ = writeln!(s, "# {n}");
        }
        if !self.notes.is_empty() {
            s.push('\n');
        }
        let _ = writeln!(s, "name = {}", toml_str(&self.name));
        let _ = writeln!(s, "description = {}", toml_str(&self.description));
        // Above TOML's integer limit a seed is written as a string (the schema accepts both).
        if self.seed > crate::scenario::raw::TOML_INT_MAX {
            let _ = writeln!(s, "seed = \"{}\"", self.seed);
        } else {
            let _ = writeln!(s, "seed = {}", self.seed);
        }
        let _ = writeln!(s, "nodes = {}", self.nodes);
        let _ = writeln!(s, "duration = {}", dur(self.duration));
        s.push_str("runs = 1\n");
        let rest = toml::to_string(&self.base).expect("a TOML table serializes");
        if !rest.trim().is_empty() {
            s.push('\n');
            s.push_str(&rest);
        }
        for f in &self.faults {
            s.push('\n');
            s.push_str(&fault_toml(f));
        }
        s
    }

    /// Parse the rendered file back into a validated scenario (the exact path a user's
    /// `electsim run repro.toml` takes).
    pub fn scenario(&self) -> Result<Scenario, String> {
        let file = ScenarioFile::from_text(Path::new("repro.toml"), self.to_toml())
            .map_err(|e| e.to_string())?;
        file.instantiate(&[]).map_err(|e| e.to_string())
    }

    /// The same spec on `n` nodes: faults that name a node `>= n` are dropped (partition
    /// groups lose those members; a partition left without groups is dropped).
    pub fn with_nodes(&self, n: u32) -> ReproSpec {
        let keep = |t: &Target| !matches!(t, Target::Node(id) if *id >= n);
        let faults = self
            .faults
            .iter()
            .filter_map(|f| {
                let action = match &f.action {
                    FaultAction::Crash { target, .. }
                    | FaultAction::Restart { target }
                    | FaultAction::Pause { target, .. }
                    | FaultAction::Isolate { target, .. }
                    | FaultAction::ClockDrift { target, .. } => {
                        keep(target).then(|| f.action.clone())?
                    }
                    FaultAction::Partition { groups, heal_after } => {
                        let groups: Vec<Vec<u32>> = groups
                            .iter()
                            .map(|g| g.iter().copied().filter(|&id| id < n).collect::<Vec<_>>())
                            .filter(|g| !g.is_empty())
                            .collect();
                        if groups.is_empty() {
                            return None;
                        }
                        FaultAction::Partition {
                            groups,
                            heal_after: *heal_after,
                        }
                    }
                    FaultAction::Cut { from, to, .. } => {
                        let fits = |t: &Target| !matches!(t, Target::Node(id) if *id >= n);
                        (fits(from) && fits(to)).then(|| f.action.clone())?
                    }
                    _ => f.action.clone(),
                };
                Some(ScriptedFault {
                    action,
                    ..f.clone()
                })
            })
            .collect();
        ReproSpec {
            nodes: n,
            faults,
            ..self.clone()
        }
    }
}
