//! Semantic checks and defaults: [`RawScenario`] -> [`Scenario`]. Every default is stated
//! here, next to the check, and documented in the README's scenario reference.

use super::raw::{RawDelay, RawFault, RawPartition, RawScenario, RawShare, RawTarget};
use super::{FieldError, Scenario};
use crate::plugin::ConfiguredAlgorithm;
use crate::sim::faults::ServiceSide;
use crate::sim::{
    DelayDist, FaultAction, LinkModel, LocalClock, Network, NodeId, RandomFault, Resources,
    ScriptedFault, SimDuration, SimTime, Target, WriteMode,
};

/// The algorithm a scenario without `algorithm = "..."` runs.
pub const DEFAULT_ALGORITHM: &str = "raft";

/// Largest cluster a scenario may ask for.
pub const MAX_NODES: u32 = 100_000;

/// Defaults.
const DEFAULT_DURATION: SimDuration = SimDuration::from_secs(60);
const DEFAULT_RUNS: u32 = 100;
const DEFAULT_MAX_EVENTS: u64 = 200_000_000;
const DEFAULT_MAX_IN_FLIGHT: u64 = 10_000_000;

/// The number of participants (default 5), checked: the algorithms' tables are validated
/// for it before the rest of the scenario.
pub(crate) fn nodes(raw: &RawScenario) -> Result<u32, FieldError> {
    let nodes_raw = raw.nodes.unwrap_or(5);
    if !(2..=i64::from(MAX_NODES)).contains(&nodes_raw) {
        return Err(FieldError::new(
            "nodes",
            nodes_raw,
            format!("an integer from 2 to {MAX_NODES}"),
        ));
    }
    Ok(nodes_raw as u32)
}

/// Check a raw scenario and apply defaults; `algorithm` is the selected algorithm with its
/// tables already validated (by the registry, see [`crate::plugin::Registry`]).
pub fn validate(raw: &RawScenario, algorithm: ConfiguredAlgorithm) -> Result<Scenario, FieldError> {
    let nodes = nodes(raw)?;
    let duration = raw.duration.unwrap_or(DEFAULT_DURATION);
    if duration.0 == 0 {
        return Err(FieldError::new(
            "duration",
            "\"0s\"",
            "a positive duration, e.g. \"60s\"",
        ));
    }
    let runs = positive("runs", raw.runs, i64::from(DEFAULT_RUNS), 10_000_000)? as u32;
    let max_events = positive(
        "max_events",
        raw.max_events,
        DEFAULT_MAX_EVENTS as i64,
        i64::MAX,
    )? as u64;
    let max_in_flight = positive(
        "max_in_flight",
        raw.max_in_flight,
        DEFAULT_MAX_IN_FLIGHT as i64,
        i64::MAX,
    )? as u64;

    let total = nodes + algorithm.service_nodes();

    let network = validate_network(raw, total)?;
    let resources = validate_resources(raw, total)?;

    let mut clocks = vec![LocalClock::default(); total as usize];
    let mut clock_of: Vec<Option<usize>> = vec![None; total as usize];
    for (i, c) in raw.clocks.iter().flatten().enumerate() {
        let field = |f: &str| format!("clock.{i}.{f}");
        let node = required_node_id(&field("node"), c.node, total)?;
        if let Some(j) = clock_of[node as usize].replace(i) {
            return Err(FieldError::new(
                field("node"),
                node,
                format!("one [[clock]] entry per node: clock.{j} already sets node {node}"),
            ));
        }
        let drift_ppm = c.drift_ppm.unwrap_or(0.0);
        if !drift_ppm.is_finite() || drift_ppm <= -1e6 || drift_ppm > 1e6 {
            return Err(FieldError::new(
                field("drift_ppm"),
                drift_ppm,
                "a rate error in ppm, above -1000000 and at most 1000000",
            ));
        }
        let offset = c.offset.unwrap_or(SimDuration::ZERO);
        clocks[node as usize] =
            LocalClock::new(i64::try_from(offset.0).unwrap_or(i64::MAX), drift_ppm);
    }

    let end = SimTime::ZERO + duration;
    let mut faults = Vec::new();
    for (i, f) in raw.faults.iter().flatten().enumerate() {
        faults.push(
            validate_fault(f, i, nodes, total, end).map_err(|e| e.within(&format!("fault.{i}")))?,
        );
    }
    let mut random_faults = Vec::new();
    for (i, r) in raw.random_faults.iter().flatten().enumerate() {
        let field = |f: &str| format!("random_fault.{i}.{f}");
        let rate = r.rate_per_s.unwrap_or(0.0);
        if !rate.is_finite() || !(0.0..=1e6).contains(&rate) {
            return Err(FieldError::new(
                field("rate_per_s"),
                rate,
                "a rate in events per second, 0 to 1000000",
            ));
        }
        let mean = r.mean_duration.unwrap_or(SimDuration::from_secs(1));
        let kind = r.kind.as_deref().unwrap_or("");
        random_faults.push(match kind {
            "crash" => RandomFault::Crashes {
                rate_per_s: rate,
                mean_downtime: mean,
            },
            "partition" => RandomFault::Partitions {
                rate_per_s: rate,
                mean_duration: mean,
            },
            "pause" => RandomFault::Pauses {
                rate_per_s: rate,
                mean_duration: mean,
            },
            other => {
                return Err(FieldError::new(
                    field("kind"),
                    format!("\"{other}\""),
                    "one of \"crash\", \"partition\", \"pause\"",
                ));
            }
        });
    }

    plan_size(&faults, &random_faults, end)?;

    Ok(Scenario {
        name: raw.name.clone().unwrap_or_else(|| "unnamed".into()),
        description: raw.description.clone().unwrap_or_default(),
        algorithm,
        nodes,
        duration,
        seed: raw.seed.unwrap_or(1),
        runs,
        max_events,
        max_in_flight,
        network,
        resources,
        clocks,
        faults,
        random_faults,
    })
}

/// The fault plan's size, checked here exactly as the bound a run would hit (see
/// [`crate::sim::faults::plan_size_bound`]); the entry that contributes most is blamed.
fn plan_size(
    faults: &[ScriptedFault],
    random: &[RandomFault],
    end: SimTime,
) -> Result<(), FieldError> {
    use crate::sim::faults::{MAX_PLANNED_FAULTS, plan_size_bound};
    let sizes = plan_size_bound(faults, random, end);
    let total: f64 = sizes.iter().sum();
    if total <= MAX_PLANNED_FAULTS as f64 {
        return Ok(());
    }
    let (i, _) = sizes.iter().enumerate().fold(
        (0, 0.0),
        |best, (i, &n)| if n > best.1 { (i, n) } else { best },
    );
    let field = if i < faults.len() {
        format!("fault.{i}.every")
    } else {
        format!("random_fault.{}.rate_per_s", i - faults.len())
    };
    Err(FieldError::new(
        field,
        format!("a plan of {total:.0} faults"),
        format!(
            "at most {MAX_PLANNED_FAULTS} faults per run (repetitions of each [[fault]] until the end, plus rate x duration of each [[random_fault]]); lengthen `every`, shorten `duration` or lower `rate_per_s`"
        ),
    ))
}

fn positive(field: &str, v: Option<i64>, default: i64, max: i64) -> Result<i64, FieldError> {
    let v = v.unwrap_or(default);
    if v < 1 || v > max {
        return Err(FieldError::new(
            field,
            v,
            format!("an integer from 1 to {max}"),
        ));
    }
    Ok(v)
}

fn probability(field: &str, p: f64) -> Result<f64, FieldError> {
    if !(0.0..=1.0).contains(&p) {
        return Err(FieldError::new(
            field,
            p,
            "a probability between 0.0 and 1.0",
        ));
    }
    Ok(p)
}

/// Convert a delay spec, checking its parameters.
pub fn delay_dist(field: &str, d: &RawDelay) -> Result<DelayDist, FieldError> {
    Ok(match *d {
        RawDelay::Constant(c) => DelayDist::Constant(c),
        RawDelay::Uniform([min, max]) => {
            if min > max {
                return Err(FieldError::new(
                    field,
                    format!("{{ uniform = [\"{min}\", \"{max}\"] }}"),
                    "uniform = [min, max] with min <= max",
                ));
            }
            DelayDist::Uniform { min, max }
        }
        RawDelay::Normal { mean, sd } => DelayDist::Normal { mean, sd },
        RawDelay::Exponential { floor, mean } => DelayDist::Exponential { floor, mean },
        RawDelay::Lognormal { median, sigma } => {
            if !sigma.is_finite() || !(0.0..=10.0).contains(&sigma) {
                return Err(FieldError::new(
                    field,
                    format!("sigma = {sigma}"),
                    "lognormal sigma between 0 and 10",
                ));
            }
            DelayDist::LogNormal { median, sigma }
        }
    })
}

fn validate_network(raw: &RawScenario, total: u32) -> Result<Network, FieldError> {
    let mut net = Network::default();
    let Some(n) = &raw.network else {
        return Ok(net);
    };
    if let Some(d) = &n.delay {
        net.default.delay = delay_dist("network.delay", d)?;
    }
    net.default.loss = probability("network.loss", n.loss.unwrap_or(0.0))?;
    net.default.duplicate = probability("network.duplicate", n.duplicate.unwrap_or(0.0))?;
    let mut link_of = std::collections::BTreeMap::new();
    for (i, l) in n.links.iter().flatten().enumerate() {
        let field = |f: &str| format!("network.link.{i}.{f}");
        let from = required_node_id(&field("from"), l.from, total)?;
        let to = required_node_id(&field("to"), l.to, total)?;
        let both = l.both_ways.unwrap_or(true);
        for (a, b) in [(from, to), (to, from)]
            .into_iter()
            .take(if both { 2 } else { 1 })
        {
            if let Some(j) = link_of.insert((a, b), i) {
                return Err(FieldError::new(
                    field("from"),
                    from,
                    format!(
                        "one [[network.link]] entry per link: network.link.{j} already sets {a} -> {b}"
                    ),
                ));
            }
        }
        let model = LinkModel {
            delay: match &l.delay {
                Some(d) => delay_dist(&field("delay"), d)?,
                None => net.default.delay.clone(),
            },
            loss: probability(&field("loss"), l.loss.unwrap_or(net.default.loss))?,
            duplicate: probability(
                &field("duplicate"),
                l.duplicate.unwrap_or(net.default.duplicate),
            )?,
        };
        net.overrides.insert((from, to), model.clone());
        if l.both_ways.unwrap_or(true) {
            net.overrides.insert((to, from), model);
        }
    }
    Ok(net)
}

/// `[storage]` and `[cpu]`.
fn validate_resources(raw: &RawScenario, total: u32) -> Result<Resources, FieldError> {
    let mut res = Resources::default();
    if let Some(s) = &raw.storage {
        res.write = match (s.fsync, &s.write) {
            (Some(_), Some(_)) => {
                return Err(FieldError::new(
                    "storage.fsync",
                    "(set together with storage.write)",
                    "either `fsync = \"5ms\"` (a constant write latency) or `write = { ... }`, not both",
                ));
            }
            (Some(c), None) => DelayDist::Constant(c),
            (None, Some(d)) => delay_dist("storage.write", d)?,
            (None, None) => res.write,
        };
        res.mode = match s.mode.as_deref() {
            None | Some("overlapped") => WriteMode::Overlapped,
            Some("blocking") => WriteMode::Blocking,
            Some(other) => {
                return Err(FieldError::new(
                    "storage.mode",
                    format!("\"{other}\""),
                    "\"overlapped\" (the node keeps working while it writes) or \"blocking\" (it handles nothing until the write is done)",
                ));
            }
        };
        for (i, n) in s.nodes.iter().flatten().enumerate() {
            let field = |f: &str| format!("storage.node.{i}.{f}");
            let node = required_node_id(&field("node"), n.node, total)?;
            let Some(w) = &n.write else {
                return Err(FieldError::new(
                    field("write"),
                    "(missing)",
                    "a write-latency law, e.g. { constant = \"5ms\" }",
                ));
            };
            res.write_by_node
                .insert(node, delay_dist(&field("write"), w)?);
        }
    }
    if let Some(h) = raw.cpu.as_ref().and_then(|c| c.handler.as_ref()) {
        res.cpu = delay_dist("cpu.handler", h)?;
    }
    Ok(res)
}

fn node_id(field: &str, v: i64, total: u32) -> Result<NodeId, FieldError> {
    if v < 0 || v >= i64::from(total) {
        return Err(FieldError::new(
            field,
            v,
            format!("a node id in 0..{total} (0 to {})", total - 1),
        ));
    }
    Ok(v as NodeId)
}

/// [`node_id`] of a key that must be present.
fn required_node_id(field: &str, v: Option<i64>, total: u32) -> Result<NodeId, FieldError> {
    let v =
        v.ok_or_else(|| FieldError::new(field, "(missing)", format!("a node id in 0..{total}")))?;
    node_id(field, v, total)
}

fn target(field: &str, t: &RawTarget, total: u32) -> Result<Target, FieldError> {
    match t {
        RawTarget::Node(n) => node_id(field, *n, total).map(Target::Node),
        RawTarget::Name(s) if s == "leader" => Ok(Target::Leader),
        RawTarget::Name(s) if s == "random" => Ok(Target::Random),
        RawTarget::Name(s) => Err(FieldError::new(
            field,
            format!("\"{s}\""),
            format!("a node id in 0..{total}, \"leader\" or \"random\""),
        )),
    }
}

/// The minority of a share partition over `nodes` participants: `floor(minority * nodes)`
/// nodes, at least one and fewer than half, the lowest or the highest ids.
fn share_group(sh: &RawShare, nodes: u32) -> Result<Vec<i64>, FieldError> {
    if !(sh.minority > 0.0 && sh.minority < 0.5) {
        return Err(FieldError::new(
            "partition.minority",
            sh.minority,
            "a fraction of the participants above 0 and below 0.5, e.g. 0.4",
        ));
    }
    let highest = match sh.ids.as_deref() {
        None | Some("lowest") | Some("leader") => false,
        Some("highest") => true,
        Some(other) => {
            return Err(FieldError::new(
                "partition.ids",
                format!("\"{other}\""),
                "\"lowest\", \"highest\" or \"leader\" (which ids form the minority; \"leader\": the leader's side, decided when the fault fires)",
            ));
        }
    };
    if nodes < 3 {
        return Err(FieldError::new(
            "partition.minority",
            sh.minority,
            "a share partition needs at least 3 participants (a minority of one and a majority)",
        ));
    }
    let k = ((sh.minority * f64::from(nodes)).floor() as u32).clamp(1, (nodes - 1) / 2);
    let ids: Vec<i64> = if highest {
        (nodes - k..nodes).map(i64::from).collect()
    } else {
        (0..k).map(i64::from).collect()
    };
    Ok(ids)
}

/// `partition.service`: where a share partition puts the coordination-service replicas.
fn service_side(sh: &RawShare) -> Result<ServiceSide, FieldError> {
    match sh.service.as_deref() {
        None | Some("majority") => Ok(ServiceSide::Majority),
        Some("minority") => Ok(ServiceSide::Minority),
        Some("isolated") => Ok(ServiceSide::Isolated),
        Some(other) => Err(FieldError::new(
            "partition.service",
            format!("\"{other}\""),
            "\"majority\" (default), \"minority\" or \"isolated\" (the side the coordination-service replicas join)",
        )),
    }
}

/// The action of a fault a golden script applies now (`crash 1`, `drift 2 50`, ...),
/// checked exactly as a `[[fault]]` entry holding it is: `f` has the action and its
/// companion keys, no timing. Field paths are relative to the fault.
pub fn fault_action(f: &RawFault, nodes: u32, total: u32) -> Result<FaultAction, FieldError> {
    validate_fault(f, 0, nodes, total, SimTime(u64::MAX)).map(|s| s.action)
}

/// Field paths here are relative to `fault.N`.
fn validate_fault(
    f: &RawFault,
    _i: usize,
    nodes: u32,
    total: u32,
    end: SimTime,
) -> Result<ScriptedFault, FieldError> {
    let actions: Vec<&str> = [
        ("crash", f.crash.is_some()),
        ("restart", f.restart.is_some()),
        ("pause", f.pause.is_some()),
        ("partition", f.partition.is_some()),
        ("cut", f.cut.is_some()),
        ("isolate", f.isolate.is_some()),
        ("heal", f.heal.is_some()),
        ("set_loss", f.set_loss.is_some()),
        ("set_delay", f.set_delay.is_some()),
        ("clock_drift", f.clock_drift.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, present)| present.then_some(k))
    .collect();
    const ACTIONS: &str = "exactly one of crash, restart, pause, partition, cut, isolate, heal, set_loss, set_delay, clock_drift";
    let action_name = match actions.as_slice() {
        [one] => *one,
        [] => return Err(FieldError::new("", "a fault with no action", ACTIONS)),
        many => {
            return Err(FieldError::new(
                many[1],
                format!("a second action ({})", many.join(", ")),
                ACTIONS,
            ));
        }
    };
    // Companion keys only make sense with their action.
    let companions: [(&str, bool, &[&str]); 4] = [
        ("restart_after", f.restart_after.is_some(), &["crash"]),
        ("duration", f.duration.is_some(), &["pause"]),
        (
            "heal_after",
            f.heal_after.is_some(),
            &["partition", "cut", "isolate"],
        ),
        (
            "drift_ppm",
            f.drift_ppm.is_some() || f.offset.is_some(),
            &["clock_drift"],
        ),
    ];
    for (key, present, allowed) in companions {
        if present && !allowed.contains(&action_name) {
            return Err(FieldError::new(
                key,
                format!("`{key}` on a `{action_name}` fault"),
                format!("`{key}` only with {}", allowed.join(" / ")),
            ));
        }
    }
    let at = SimTime::ZERO + f.at.unwrap_or(SimDuration::ZERO);
    if at >= end {
        return Err(FieldError::new(
            "at",
            format!("\"{}\"", f.at.unwrap_or_default()),
            format!("a time before the end of the run ({})", SimDuration(end.0)),
        ));
    }
    // A jitter reaching past the run would silently drop the fault.
    if let Some(j) = f.jitter
        && j.0 > end.0 - at.0
    {
        return Err(FieldError::new(
            "jitter",
            format!("\"{j}\""),
            format!(
                "a jitter that keeps the fault inside the run: at most {} (duration - at)",
                SimDuration(end.0 - at.0)
            ),
        ));
    }
    if let Some(every) = f.every
        && every.0 == 0
    {
        return Err(FieldError::new(
            "every",
            "\"0s\"",
            "a positive repeat interval",
        ));
    }
    let until = f.until.map(|u| SimTime::ZERO + u);
    if let Some(u) = until
        && u <= at
    {
        return Err(FieldError::new(
            "until",
            format!("\"{}\"", SimDuration(u.0)),
            "a time after `at`",
        ));
    }
    let action = match action_name {
        "crash" => FaultAction::Crash {
            target: target("crash", f.crash.as_ref().unwrap(), total)?,
            restart_after: f.restart_after,
        },
        "restart" => FaultAction::Restart {
            target: target("restart", f.restart.as_ref().unwrap(), total)?,
        },
        "pause" => FaultAction::Pause {
            target: target("pause", f.pause.as_ref().unwrap(), total)?,
            duration: f.duration.ok_or_else(|| {
                FieldError::new(
                    "duration",
                    "(missing)",
                    "how long the pause lasts, e.g. duration = \"3s\"",
                )
            })?,
        },
        "partition" => {
            let owned: Vec<Vec<i64>>;
            let groups: &Vec<Vec<i64>> = match f.partition.as_ref().unwrap() {
                RawPartition::Groups(g) => g,
                RawPartition::Share(sh) if sh.ids.as_deref() == Some("leader") => {
                    let size = share_group(sh, nodes)?.len() as u32;
                    return Ok(ScriptedFault {
                        at,
                        jitter: f.jitter,
                        every: f.every,
                        until,
                        action: FaultAction::PartitionLeaderSide {
                            share: sh.minority,
                            size,
                            service: service_side(sh)?,
                            heal_after: f.heal_after,
                        },
                    });
                }
                RawPartition::Share(sh) => {
                    let side = share_group(sh, nodes)?;
                    owned = match service_side(sh)? {
                        // The service joins the unnamed rest, the majority (as before).
                        ServiceSide::Majority => vec![side],
                        placed => {
                            let side: Vec<u32> = side.iter().map(|&i| i as u32).collect();
                            placed
                                .groups(&side, nodes, total)
                                .into_iter()
                                .map(|g| g.into_iter().map(i64::from).collect())
                                .collect()
                        }
                    };
                    &owned
                }
            };
            let mut seen: Vec<bool> = vec![false; total as usize];
            let mut out = Vec::new();
            if groups.is_empty() || groups.iter().any(Vec::is_empty) {
                return Err(FieldError::new(
                    "partition",
                    format!("{groups:?}"),
                    "a list of non-empty node groups, e.g. [[0, 1], [2, 3, 4]]",
                ));
            }
            for (gi, g) in groups.iter().enumerate() {
                let mut ids = Vec::new();
                for (ni, &n) in g.iter().enumerate() {
                    let id = node_id(&format!("partition.{gi}.{ni}"), n, total)?;
                    if seen[id as usize] {
                        return Err(FieldError::new(
                            format!("partition.{gi}.{ni}"),
                            n,
                            "each node in at most one group (groups must not overlap)",
                        ));
                    }
                    seen[id as usize] = true;
                    ids.push(id);
                }
                out.push(ids);
            }
            FaultAction::Partition {
                groups: out,
                heal_after: f.heal_after,
            }
        }
        "cut" => {
            let c = f.cut.as_ref().unwrap();
            let show = |t: &RawTarget| match t {
                RawTarget::Node(n) => n.to_string(),
                RawTarget::Name(s) => format!("\"{s}\""),
            };
            if c.len() != 2 || c[0] == c[1] {
                let shown: Vec<String> = c.iter().map(show).collect();
                return Err(FieldError::new(
                    "cut",
                    format!("[{}]", shown.join(", ")),
                    "[from, to]: two different node ids, either may be \"leader\" (the link from -> to is cut)",
                ));
            }
            let end = |field: &str, t: &RawTarget| match t {
                RawTarget::Name(s) if s == "random" => Err(FieldError::new(
                    field,
                    "\"random\"",
                    format!("a node id in 0..{total} or \"leader\""),
                )),
                t => target(field, t, total),
            };
            FaultAction::Cut {
                from: end("cut.0", &c[0])?,
                to: end("cut.1", &c[1])?,
                heal_after: f.heal_after,
            }
        }
        "isolate" => FaultAction::Isolate {
            target: target("isolate", f.isolate.as_ref().unwrap(), total)?,
            heal_after: f.heal_after,
        },
        "heal" => {
            if f.heal != Some(true) {
                return Err(FieldError::new("heal", "false", "heal = true"));
            }
            FaultAction::Heal
        }
        "set_loss" => FaultAction::SetLoss {
            loss: probability("set_loss", f.set_loss.unwrap())?,
        },
        "set_delay" => FaultAction::SetDelay {
            delay: delay_dist("set_delay", f.set_delay.as_ref().unwrap())?,
        },
        "clock_drift" => {
            let drift_ppm = f.drift_ppm.unwrap_or(0.0);
            if !drift_ppm.is_finite() || drift_ppm <= -1e6 || drift_ppm > 1e6 {
                return Err(FieldError::new(
                    "drift_ppm",
                    drift_ppm,
                    "a rate error in ppm, above -1000000 and at most 1000000",
                ));
            }
            FaultAction::ClockDrift {
                target: target("clock_drift", f.clock_drift.as_ref().unwrap(), total)?,
                drift_ppm,
                offset: f.offset.unwrap_or(SimDuration::ZERO),
            }
        }
        _ => unreachable!("action names come from the list above"),
    };
    let _ = nodes;
    Ok(ScriptedFault {
        at,
        jitter: f.jitter,
        every: f.every,
        until,
        action,
    })
}
