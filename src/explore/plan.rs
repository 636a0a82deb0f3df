//! Random fault plans for `explore`, drawn from the seed's `Explore` stream.
//!
//! Swarm-style: each seed first picks which fault kinds are enabled (each with probability
//! 1/2), how many faults (1..=max) and a time window they crowd into, so some seeds storm
//! the cluster with crashes in 200 ms while others spread pauses over the whole run.
//! Durations are drawn per decade (1–9 ms, 10–99 ms, 0.1–1 s, 1–10 s), integers only, so a
//! plan is the same on every machine. Every fault heals (restarts, resumes, heals, restores
//! the loss) by `heal_by`; clock drift (up to ±9% rate error, plus an optional step of up
//! to 100 ms) is permanent.

use crate::sim::rng::{SimRng, Stream};
use crate::sim::{FaultAction, NodeId, ScriptedFault, SimDuration, SimTime, Target};

/// Where and how faults may be drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanSpace {
    /// Participants.
    pub nodes: u32,
    /// No fault before this time (let the first election happen).
    pub start: SimTime,
    /// Every fault has healed by this time.
    pub heal_by: SimTime,
    /// At most this many faults (a loss burst counts once, though it is two scripted faults).
    pub max_faults: u32,
    /// The scenario's loss probability, restored after a loss burst.
    pub base_loss: f64,
    /// Fault kinds plans may use (`explore --faults`); empty means all of them.
    pub kinds: Vec<Kind>,
}

/// A kind of fault a random plan can contain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum Kind {
    /// Crash a random node, restart it later.
    Crash,
    /// Crash whoever leads at that moment, restart it later.
    CrashLeader,
    /// Pause a node (a GC pause): messages queue, timers fire late.
    Pause,
    /// Split off a random minority, heal later.
    Partition,
    /// Cut one direction of one link, heal later.
    Cut,
    /// Permanent clock drift (and an optional step) of one node.
    Drift,
    /// Raise the loss probability for a while.
    LossBurst,
}

const KINDS: [Kind; 7] = [
    Kind::Crash,
    Kind::CrashLeader,
    Kind::Pause,
    Kind::Partition,
    Kind::Cut,
    Kind::Drift,
    Kind::LossBurst,
];

const MS: u64 = 1_000_000;

/// A duration in whole milliseconds in `[1, max_ms]`, from a uniformly chosen decade.
fn pick_ms(rng: &mut SimRng, max_ms: u64) -> u64 {
    let max_ms = max_ms.max(1);
    let lo = [1u64, 10, 100, 1000][rng.index(4)].min(max_ms);
    let hi = (lo * 10 - 1).min(max_ms);
    rng.range_inclusive(lo, hi)
}

fn scripted(at_ms: u64, action: FaultAction) -> ScriptedFault {
    ScriptedFault {
        at: SimTime(at_ms * MS),
        jitter: None,
        every: None,
        until: None,
        action,
    }
}

/// Draw the fault plan of `seed` (sorted by time).
pub fn draw(seed: u64, space: &PlanSpace) -> Vec<ScriptedFault> {
    let mut rng = SimRng::new(seed, Stream::Explore);
    let allowed: Vec<Kind> = KINDS
        .iter()
        .copied()
        .filter(|k| space.kinds.is_empty() || space.kinds.contains(k))
        .collect();
    let allowed = if allowed.is_empty() {
        KINDS.to_vec()
    } else {
        allowed
    };
    let mut kinds: Vec<Kind> = allowed
        .iter()
        .copied()
        .filter(|_| rng.chance(0.5))
        .collect();
    if kinds.is_empty() {
        kinds.push(allowed[rng.index(allowed.len())]);
    }
    let n = space.nodes.max(2);
    let start_ms = space.start.0 / MS;
    let end_ms = (space.heal_by.0 / MS).max(start_ms + 2);
    let span = end_ms - start_ms;
    let window = pick_ms(&mut rng, span).max(200.min(span));
    let window_start = start_ms + rng.range_inclusive(0, span - window);
    let count = 1 + rng.index(space.max_faults.max(1) as usize);
    let mut plan = Vec::new();
    for _ in 0..count {
        let kind = kinds[rng.index(kinds.len())];
        let at = window_start + rng.range_inclusive(0, window - 1);
        let d = SimDuration(pick_ms(&mut rng, end_ms - at) * MS);
        let node = |rng: &mut SimRng| Target::Node(rng.index(n as usize) as NodeId);
        match kind {
            Kind::Crash => plan.push(scripted(
                at,
                FaultAction::Crash {
                    target: node(&mut rng),
                    restart_after: Some(d),
                },
            )),
            Kind::CrashLeader => plan.push(scripted(
                at,
                FaultAction::Crash {
                    target: Target::Leader,
                    restart_after: Some(d),
                },
            )),
            Kind::Pause => plan.push(scripted(
                at,
                FaultAction::Pause {
                    target: node(&mut rng),
                    duration: d,
                },
            )),
            Kind::Partition => {
                let mut ids: Vec<NodeId> = (0..n).collect();
                for i in 0..ids.len() {
                    let j = i + rng.index(ids.len() - i);
                    ids.swap(i, j);
                }
                let k = 1 + rng.index(n as usize - 1);
                let mut a = ids[..k].to_vec();
                let mut b = ids[k..].to_vec();
                a.sort_unstable();
                b.sort_unstable();
                plan.push(scripted(
                    at,
                    FaultAction::Partition {
                        groups: vec![a, b],
                        heal_after: Some(d),
                    },
                ));
            }
            Kind::Cut => {
                let from = rng.index(n as usize) as NodeId;
                let to = (from + 1 + rng.index(n as usize - 1) as NodeId) % n;
                plan.push(scripted(
                    at,
                    FaultAction::Cut {
                        from: Target::Node(from),
                        to: Target::Node(to),
                        heal_after: Some(d),
                    },
                ));
            }
            Kind::Drift => {
                let magnitude = [100u64, 1_000, 10_000][rng.index(3)] * rng.range_inclusive(1, 9);
                let sign = if rng.chance(0.5) { -1.0 } else { 1.0 };
                let offset = if rng.chance(0.5) {
                    SimDuration(pick_ms(&mut rng, 100) * MS)
                } else {
                    SimDuration::ZERO
                };
                plan.push(scripted(
                    at,
                    FaultAction::ClockDrift {
                        target: node(&mut rng),
                        drift_ppm: sign * magnitude as f64,
                        offset,
                    },
                ));
            }
            Kind::LossBurst => {
                let loss = rng.range_inclusive(20, 100) as f64 / 100.0;
                plan.push(scripted(at, FaultAction::SetLoss { loss }));
                plan.push(scripted(
                    at + d.0 / MS,
                    FaultAction::SetLoss {
                        loss: space.base_loss,
                    },
                ));
            }
        }
    }
    plan.sort_by_key(|f| f.at);
    plan
}

/// The time after which every fault of the list has healed: crashed nodes restarted,
/// pauses over, links healed, loss back at `base_loss`, and no fault left to fire. `None`
/// when some fault never heals (a crash without restart, a link fault never healed, a loss
/// left changed, or a repeating fault).
pub fn last_heal(faults: &[ScriptedFault], base_loss: f64) -> Option<SimTime> {
    let mut h = SimTime::ZERO;
    let mut loss = base_loss;
    let mut sorted: Vec<&ScriptedFault> = faults.iter().collect();
    sorted.sort_by_key(|f| f.at);
    // Times at which all links are healed: explicit heals only. A heal_after undoes its own
    // fault and nothing else, so it is handled with that fault below.
    let heals: Vec<SimTime> = sorted
        .iter()
        .filter(|f| matches!(f.action, FaultAction::Heal))
        .map(|f| f.at)
        .collect();
    for f in &sorted {
        if f.every.is_some() {
            return None;
        }
        let at = f.at + f.jitter.unwrap_or(SimDuration::ZERO);
        h = h.max(at);
        match &f.action {
            FaultAction::Crash {
                restart_after: Some(d),
                ..
            } => h = h.max(at + *d),
            FaultAction::Crash {
                target,
                restart_after: None,
            } => {
                let restart = sorted.iter().find(|g| {
                    g.at >= f.at
                        && matches!(&g.action, FaultAction::Restart { target: t } if t == target)
                });
                match (target, restart) {
                    (Target::Node(_), Some(g)) => h = h.max(g.at),
                    _ => return None,
                }
            }
            FaultAction::Pause { duration, .. } => h = h.max(at + *duration),
            FaultAction::Partition { heal_after, .. }
            | FaultAction::PartitionLeaderSide { heal_after, .. }
            | FaultAction::Cut { heal_after, .. }
            | FaultAction::Isolate { heal_after, .. } => match heal_after {
                Some(d) => h = h.max(at + *d),
                None => match heals.iter().find(|&&t| t >= at) {
                    Some(&t) => h = h.max(t),
                    None => return None,
                },
            },
            FaultAction::SetLoss { loss: l } => loss = *l,
            _ => {}
        }
    }
    (loss == base_loss).then_some(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space() -> PlanSpace {
        PlanSpace {
            kinds: Vec::new(),
            nodes: 5,
            start: SimTime(500 * MS),
            heal_by: SimTime(7_000 * MS),
            max_faults: 8,
            base_loss: 0.0,
        }
    }

    #[test]
    fn a_kind_filter_is_respected() {
        let mut sp = space();
        sp.kinds = vec![Kind::Partition];
        for seed in 0..200 {
            for f in draw(seed, &sp) {
                assert!(
                    matches!(f.action, FaultAction::Partition { .. } | FaultAction::Heal),
                    "seed {seed}: {:?}",
                    f.action
                );
            }
        }
    }

    #[test]
    fn plans_are_reproducible_and_differ_by_seed() {
        assert_eq!(draw(7, &space()), draw(7, &space()));
        assert_ne!(draw(7, &space()), draw(8, &space()));
    }

    #[test]
    fn every_drawn_plan_heals_in_time() {
        for seed in 0..500 {
            let plan = draw(seed, &space());
            assert!(!plan.is_empty());
            assert!(plan.iter().all(|f| f.at >= space().start), "seed {seed}");
            let h = last_heal(&plan, 0.0)
                .unwrap_or_else(|| panic!("seed {seed}: plan never heals: {plan:?}"));
            assert!(h <= space().heal_by, "seed {seed}: heals at {h}");
        }
    }

    #[test]
    fn unhealed_faults_have_no_heal_time() {
        let crash = scripted(
            10,
            FaultAction::Crash {
                target: Target::Node(1),
                restart_after: None,
            },
        );
        assert_eq!(last_heal(std::slice::from_ref(&crash), 0.0), None);
        let restart = scripted(
            30,
            FaultAction::Restart {
                target: Target::Node(1),
            },
        );
        assert_eq!(last_heal(&[crash, restart], 0.0), Some(SimTime(30 * MS)));
        let lossy = scripted(5, FaultAction::SetLoss { loss: 0.5 });
        assert_eq!(last_heal(&[lossy], 0.0), None);
    }
}
