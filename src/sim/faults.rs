//! Faults as data: what can go wrong, when, and to whom. Scripted faults (once or repeating)
//! and random fault processes (Poisson arrivals) are expanded into one sorted plan before the
//! run starts, from the fault stream alone — so a fault plan is identical for every algorithm
//! given the same seed. Only the `leader` target is resolved when the fault fires.

use super::network::DelayDist;
use super::protocol::NodeId;
use super::rng::SimRng;
use super::time::{SimDuration, SimTime};
use serde::Serialize;

/// Whom a node fault hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// One node by id.
    Node(NodeId),
    /// The live node whose role is leader (highest term if several); nothing if none.
    Leader,
    /// A uniformly random participant, drawn when the plan is expanded.
    Random,
}

/// Where a share partition (`partition = { minority = .., service = .. }`) puts the
/// coordination-service replicas (ids `nodes..`): the service is infrastructure, not a
/// participant, so by default it stays with the majority, as a real deployment's quorum
/// store would stay reachable from most of the cluster.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceSide {
    /// With the participants' majority side (the default).
    #[default]
    Majority,
    /// With the minority side.
    Minority,
    /// A group of its own, reachable from neither side.
    Isolated,
}

impl ServiceSide {
    /// The scenario spelling (`service = "majority"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceSide::Majority => "majority",
            ServiceSide::Minority => "minority",
            ServiceSide::Isolated => "isolated",
        }
    }

    /// The groups of a partition of participants `0..nodes` (service replicas
    /// `nodes..total`) that cuts `side` off from the rest, the replicas placed per `self`.
    /// Sorted ids; a group is left out rather than empty.
    pub fn groups(self, side: &[NodeId], nodes: u32, total: u32) -> Vec<Vec<NodeId>> {
        let mut minority: Vec<NodeId> = side.to_vec();
        let mut majority: Vec<NodeId> = (0..nodes).filter(|i| !side.contains(i)).collect();
        match self {
            ServiceSide::Majority => majority.extend(nodes..total),
            ServiceSide::Minority => minority.extend(nodes..total),
            ServiceSide::Isolated => {}
        }
        minority.sort_unstable();
        [minority, majority]
            .into_iter()
            .filter(|g| !g.is_empty())
            .collect()
    }
}

/// One fault action.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultAction {
    /// Crash; restart after the given time if any.
    Crash {
        /// The node to crash.
        target: Target,
        /// Downtime before the automatic restart; `None` leaves the node down.
        restart_after: Option<SimDuration>,
    },
    /// Boot a crashed node again from its durable state (no effect on a live node).
    Restart {
        /// The node to restart.
        target: Target,
    },
    /// Stop processing for `duration` (a GC pause): messages queue, timers fire late.
    Pause {
        /// The node to pause.
        target: Target,
        /// How long the node stops handling events.
        duration: SimDuration,
    },
    /// Split into groups (nodes named nowhere form one more group); heal after if given.
    Partition {
        /// Node ids of each group; the groups are cut off from each other in both directions.
        groups: Vec<Vec<NodeId>>,
        /// Time after which this partition alone is healed; `None` keeps it until a heal.
        heal_after: Option<SimDuration>,
    },
    /// Cut off the current leader's side as a minority of `size` participants: the leader
    /// plus the `size - 1` lowest other ids, resolved when the fault fires (`partition =
    /// { minority = share, ids = "leader" }`; `share` is kept for repro files). Traced as
    /// the resolved `partition`; nothing happens when there is no leader.
    PartitionLeaderSide {
        /// Minority as a fraction of the participants, as written in the scenario.
        share: f64,
        /// Nodes on the leader's side, leader included (`share` resolved to a count).
        size: u32,
        /// The side the coordination-service replicas join.
        service: ServiceSide,
        /// Time after which this partition alone is healed; `None` keeps it until a heal.
        heal_after: Option<SimDuration>,
    },
    /// Cut the directed link `from -> to` (either end may be `leader`, resolved when the
    /// fault fires).
    Cut {
        /// Sending end of the cut link.
        from: Target,
        /// Receiving end of the cut link.
        to: Target,
        /// Time after which this cut alone is healed; `None` keeps it until a heal.
        heal_after: Option<SimDuration>,
    },
    /// Cut every link of one node.
    Isolate {
        /// The node cut off from every other node.
        target: Target,
        /// Time after which this isolation alone is healed; `None` keeps it until a heal.
        heal_after: Option<SimDuration>,
    },
    /// Restore every link: undo every active partition, cut and isolation (`heal = true`).
    Heal,
    /// Undo one network fault only: number `fault` of the run's partitions, cuts and
    /// isolations, counted from 0 in the order they were applied. A fault's `heal_after`
    /// schedules this, so healing one fault leaves overlapping ones in force.
    HealFault {
        /// Run-wide number of the network fault to undo (0-based, in application order).
        fault: u32,
    },
    /// Set the loss probability of every link (overrides included) from now on.
    SetLoss {
        /// Probability in `[0, 1]` that a message is lost in transit.
        loss: f64,
    },
    /// Set the one-way delay law of every link from now on (e.g. a latency spike).
    SetDelay {
        /// The new delay distribution.
        delay: DelayDist,
    },
    /// Set a node's clock drift (ppm) and step its offset.
    ClockDrift {
        /// The node whose clock changes.
        target: Target,
        /// New drift in parts per million (positive: the local clock runs fast).
        drift_ppm: f64,
        /// Step added to the node's clock offset when the fault fires.
        offset: SimDuration,
    },
}

impl FaultAction {
    /// Short verb for traces and tables.
    pub fn verb(&self) -> &'static str {
        match self {
            FaultAction::Crash { .. } => "crash",
            FaultAction::Restart { .. } => "restart",
            FaultAction::Pause { .. } => "pause",
            FaultAction::Partition { .. } | FaultAction::PartitionLeaderSide { .. } => "partition",
            FaultAction::Cut { .. } => "cut",
            FaultAction::Isolate { .. } => "isolate",
            FaultAction::Heal => "heal",
            FaultAction::HealFault { .. } => "heal_fault",
            FaultAction::SetLoss { .. } => "set_loss",
            FaultAction::SetDelay { .. } => "set_delay",
            FaultAction::ClockDrift { .. } => "clock_drift",
        }
    }

    /// The node target of a single-node fault (crash, restart, pause, isolate, clock drift).
    pub fn target(&self) -> Option<Target> {
        match self {
            FaultAction::Crash { target, .. }
            | FaultAction::Restart { target }
            | FaultAction::Pause { target, .. }
            | FaultAction::Isolate { target, .. }
            | FaultAction::ClockDrift { target, .. } => Some(*target),
            _ => None,
        }
    }

    fn target_mut(&mut self) -> Option<&mut Target> {
        match self {
            FaultAction::Crash { target, .. }
            | FaultAction::Restart { target }
            | FaultAction::Pause { target, .. }
            | FaultAction::Isolate { target, .. }
            | FaultAction::ClockDrift { target, .. } => Some(target),
            _ => None,
        }
    }
}

/// A scripted fault: at `at`, and again every `every` while before `until` (or the run end).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScriptedFault {
    /// Virtual time of the first occurrence.
    pub at: SimTime,
    /// Each occurrence happens at a uniformly random extra delay in `[0, jitter]`, drawn
    /// from the fault stream (e.g. "crash at a random point of a heartbeat interval").
    pub jitter: Option<SimDuration>,
    /// Period of repetition; `None` for a one-shot fault.
    pub every: Option<SimDuration>,
    /// Repetitions stop before this time (default: the run end).
    pub until: Option<SimTime>,
    /// What happens at each occurrence.
    pub action: FaultAction,
}

/// A Poisson fault process.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum RandomFault {
    /// Crash random nodes at `rate_per_s`; each restarts after an exponential downtime.
    Crashes {
        /// Mean crashes per second of virtual time, across all participants.
        rate_per_s: f64,
        /// Mean of the exponential downtime before each restart.
        mean_downtime: SimDuration,
    },
    /// Split into a random minority and the rest at `rate_per_s`; heal after an exponential time.
    Partitions {
        /// Mean partitions per second of virtual time.
        rate_per_s: f64,
        /// Mean of the exponential time before each partition heals.
        mean_duration: SimDuration,
    },
    /// Pause random nodes at `rate_per_s` for an exponential duration.
    Pauses {
        /// Mean pauses per second of virtual time, across all participants.
        rate_per_s: f64,
        /// Mean of the exponential pause length.
        mean_duration: SimDuration,
    },
}

/// Hard bound on the expanded plan (a typo like `every = "1ns"` must not eat memory).
pub const MAX_PLANNED_FAULTS: usize = 1_000_000;

/// Faults a plan holds at most (scripted repetitions, exactly) plus the expected number
/// of random ones (rate x duration), per entry: scripted first, then random, in file order.
/// Validation refuses a scenario whose total passes [`MAX_PLANNED_FAULTS`], so a run never
/// fails on the plan's size after `validate` passed.
pub fn plan_size_bound(
    scripted: &[ScriptedFault],
    random: &[RandomFault],
    end: SimTime,
) -> Vec<f64> {
    let scripted = scripted.iter().map(|f| {
        let stop = f.until.unwrap_or(end).min(end);
        match f.every {
            _ if f.at >= stop => 0.0,
            Some(step) if step.0 > 0 => ((stop.0 - f.at.0) as f64 / step.0 as f64).ceil(),
            _ => 1.0,
        }
    });
    let random = random.iter().map(|r| {
        let rate = match r {
            RandomFault::Crashes { rate_per_s, .. }
            | RandomFault::Partitions { rate_per_s, .. }
            | RandomFault::Pauses { rate_per_s, .. } => *rate_per_s,
        };
        rate * end.0 as f64 / 1e9
    });
    scripted.chain(random).collect()
}

/// Expand scripted and random faults into one plan sorted by time (stable for equal times:
/// scripted in file order first, then random processes in order).
pub fn expand_plan(
    scripted: &[ScriptedFault],
    random: &[RandomFault],
    nodes: u32,
    end: SimTime,
    rng: &mut SimRng,
) -> Result<Vec<(SimTime, FaultAction)>, String> {
    let mut plan: Vec<(SimTime, FaultAction)> = Vec::new();
    let push = |plan: &mut Vec<(SimTime, FaultAction)>, t: SimTime, a: FaultAction| {
        // Validation refused plans whose size bound passes MAX_PLANNED_FAULTS; this is
        // the memory backstop for a Poisson count far above its mean.
        if plan.len() >= 2 * MAX_PLANNED_FAULTS {
            return Err(format!(
                "the fault plan exceeds {} faults; lengthen `every` or lower the rates",
                2 * MAX_PLANNED_FAULTS
            ));
        }
        plan.push((t, a));
        Ok(())
    };
    for f in scripted {
        let stop = f.until.unwrap_or(end).min(end);
        let mut t = f.at;
        loop {
            if t >= stop {
                break;
            }
            let mut a = f.action.clone();
            resolve_random(&mut a, nodes, rng);
            let shift = f.jitter.map_or(SimDuration::ZERO, |j| {
                SimDuration(rng.range_inclusive(0, j.0))
            });
            if t + shift < end {
                push(&mut plan, t + shift, a)?;
            }
            match f.every {
                Some(step) if step.0 > 0 => t = t + step,
                _ => break,
            }
        }
    }
    for r in random {
        let (rate, mean) = match r {
            RandomFault::Crashes {
                rate_per_s,
                mean_downtime,
            } => (*rate_per_s, *mean_downtime),
            RandomFault::Partitions {
                rate_per_s,
                mean_duration,
            } => (*rate_per_s, *mean_duration),
            RandomFault::Pauses {
                rate_per_s,
                mean_duration,
            } => (*rate_per_s, *mean_duration),
        };
        if rate <= 0.0 {
            continue;
        }
        let mut t_s = 0.0f64;
        loop {
            t_s += rng.exponential(1.0 / rate);
            let t = SimTime((t_s * 1e9).min(u64::MAX as f64) as u64);
            if t >= end {
                break;
            }
            let hold = SimDuration(rng.exponential(mean.0 as f64).max(1.0) as u64);
            let action = match r {
                RandomFault::Crashes { .. } => FaultAction::Crash {
                    target: Target::Node(rng.index(nodes as usize) as NodeId),
                    restart_after: Some(hold),
                },
                RandomFault::Pauses { .. } => FaultAction::Pause {
                    target: Target::Node(rng.index(nodes as usize) as NodeId),
                    duration: hold,
                },
                RandomFault::Partitions { .. } => {
                    // A minority of 1..=nodes/2 participants.
                    let minority = 1 + rng.index((nodes as usize / 2).max(1));
                    let mut ids: Vec<NodeId> = (0..nodes).collect();
                    // Partial Fisher-Yates: the first `minority` ids form the minority side.
                    for i in 0..minority.min(ids.len()) {
                        let j = i + rng.index(ids.len() - i);
                        ids.swap(i, j);
                    }
                    let mut side: Vec<NodeId> = ids[..minority.min(ids.len())].to_vec();
                    side.sort_unstable();
                    FaultAction::Partition {
                        groups: vec![side],
                        heal_after: Some(hold),
                    }
                }
            };
            push(&mut plan, t, action)?;
        }
    }
    plan.sort_by_key(|(t, _)| *t);
    Ok(plan)
}

fn resolve_random(a: &mut FaultAction, nodes: u32, rng: &mut SimRng) {
    if let Some(t) = a.target_mut()
        && *t == Target::Random
    {
        *t = Target::Node(rng.index(nodes.max(1) as usize) as NodeId);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::Stream;

    #[test]
    fn every_expands_until_end() {
        let f = ScriptedFault {
            at: SimTime(2_000_000_000),
            jitter: None,
            every: Some(SimDuration::from_secs(2)),
            until: None,
            action: FaultAction::Crash {
                target: Target::Leader,
                restart_after: Some(SimDuration::from_secs(1)),
            },
        };
        let mut rng = SimRng::new(1, Stream::Faults);
        let plan = expand_plan(&[f], &[], 5, SimTime(10_000_000_000), &mut rng).unwrap();
        let times: Vec<u64> = plan.iter().map(|(t, _)| t.0 / 1_000_000_000).collect();
        assert_eq!(times, vec![2, 4, 6, 8]);
    }

    #[test]
    fn jitter_stays_in_range() {
        let f = ScriptedFault {
            at: SimTime(1_000_000_000),
            jitter: Some(SimDuration::from_millis(50)),
            every: Some(SimDuration::from_secs(1)),
            until: None,
            action: FaultAction::Heal,
        };
        let mut rng = SimRng::new(1, Stream::Faults);
        let plan = expand_plan(&[f], &[], 5, SimTime(100_000_000_000), &mut rng).unwrap();
        assert_eq!(plan.len(), 99);
        for (i, (t, _)) in plan.iter().enumerate() {
            let base = (i as u64 + 1) * 1_000_000_000;
            assert!(t.0 >= base && t.0 <= base + 50_000_000);
        }
    }

    #[test]
    fn poisson_rate_is_respected() {
        let mut rng = SimRng::new(9, Stream::Faults);
        let r = RandomFault::Crashes {
            rate_per_s: 2.0,
            mean_downtime: SimDuration::from_millis(100),
        };
        let plan = expand_plan(&[], &[r], 5, SimTime(1_000 * 1_000_000_000), &mut rng).unwrap();
        assert!(
            (1800..2200).contains(&plan.len()),
            "{} crashes in 1000 s at 2/s",
            plan.len()
        );
    }

    #[test]
    fn random_partition_is_a_minority() {
        let mut rng = SimRng::new(4, Stream::Faults);
        let r = RandomFault::Partitions {
            rate_per_s: 1.0,
            mean_duration: SimDuration::from_millis(100),
        };
        let plan = expand_plan(&[], &[r], 7, SimTime(50_000_000_000), &mut rng).unwrap();
        for (_, a) in plan {
            let FaultAction::Partition { groups, .. } = a else {
                panic!()
            };
            assert!(!groups[0].is_empty() && groups[0].len() <= 3);
        }
    }
}
