//! Shrinking a failing fault plan while "the same violation still happens":
//!
//! 1. delta debugging (Zeller's ddmin) over the list of faults;
//! 2. the smallest cluster size that still fails (faults naming removed nodes go), then
//!    ddmin again;
//! 3. per fault: shorter durations (halving) and rounder times (1 s, 100 ms, 10 ms, 1 ms);
//!    steps 1-3 repeat (at most 3 rounds) while they make progress;
//! 4. the shortest run (binary search on the duration, then a rounder value).
//!
//! Every candidate is judged by running it, through the rendered TOML file, so the result
//! is exactly what the written repro file replays. The number of test runs is bounded.

use super::repro::ReproSpec;
use crate::sim::{FaultAction, ScriptedFault, SimDuration, SimTime};

/// What shrinking did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ShrinkStats {
    /// Candidate scenarios run to test whether they still violate.
    pub tests: u32,
    /// Faults in the plan before shrinking.
    pub faults_before: usize,
    /// Faults left after shrinking.
    pub faults_after: usize,
    /// Participants before shrinking.
    pub nodes_before: u32,
    /// Participants after shrinking.
    pub nodes_after: u32,
    /// Run length before shrinking.
    pub duration_before: SimDuration,
    /// Run length after shrinking.
    pub duration_after: SimDuration,
    /// True when the test budget ran out (the result is still a failing scenario).
    pub budget_exhausted: bool,
}

/// Delta debugging: a 1-minimal sublist of `items` for which `fails` holds (assuming it
/// holds for `items`). Tries the empty list first.
pub fn ddmin<T: Clone>(items: &[T], fails: &mut dyn FnMut(&[T]) -> bool) -> Vec<T> {
    if items.is_empty() || fails(&[]) {
        return Vec::new();
    }
    let mut c: Vec<T> = items.to_vec();
    let mut n = 2usize;
    while c.len() >= 2 {
        let chunk = c.len().div_ceil(n);
        let parts: Vec<(usize, usize)> = (0..c.len())
            .step_by(chunk)
            .map(|s| (s, (s + chunk).min(c.len())))
            .collect();
        let mut next: Option<(Vec<T>, usize)> = None;
        for &(s, e) in &parts {
            let subset = c[s..e].to_vec();
            if fails(&subset) {
                next = Some((subset, 2));
                break;
            }
        }
        if next.is_none() && parts.len() > 2 {
            for &(s, e) in &parts {
                let complement: Vec<T> = c[..s].iter().chain(&c[e..]).cloned().collect();
                if fails(&complement) {
                    next = Some((complement, (n - 1).max(2)));
                    break;
                }
            }
        }
        match next {
            Some((smaller, new_n)) => {
                c = smaller;
                n = new_n;
            }
            None if n >= c.len() => break,
            None => n = (2 * n).min(c.len()),
        }
    }
    c
}

const MS: u64 = 1_000_000;

/// Rounder values of a time or duration (nearest multiple of 1 s, 100 ms, 10 ms, 1 ms),
/// roundest first, excluding `v` itself and zero.
fn rounder(v: u64) -> Vec<u64> {
    let mut out = Vec::new();
    for unit in [1_000 * MS, 100 * MS, 10 * MS, MS] {
        let r = (v + unit / 2) / unit * unit;
        if r != v && r > 0 && !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

/// How long a fault lasts (restart delay, pause length, time until healed), if it has such
/// a duration, and the same fault with another one.
fn hold(a: &FaultAction) -> Option<SimDuration> {
    match a {
        FaultAction::Crash {
            restart_after: d, ..
        }
        | FaultAction::Partition { heal_after: d, .. }
        | FaultAction::Cut { heal_after: d, .. }
        | FaultAction::Isolate { heal_after: d, .. } => *d,
        FaultAction::Pause { duration, .. } => Some(*duration),
        _ => None,
    }
}

fn with_hold(a: &FaultAction, d: SimDuration) -> FaultAction {
    let mut a = a.clone();
    match &mut a {
        FaultAction::Crash {
            restart_after: h, ..
        }
        | FaultAction::Partition { heal_after: h, .. }
        | FaultAction::Cut { heal_after: h, .. }
        | FaultAction::Isolate { heal_after: h, .. } => *h = Some(d),
        FaultAction::Pause { duration, .. } => *duration = d,
        _ => {}
    }
    a
}

/// Simpler variants of one fault, most aggressive first: a halved duration, rounder
/// shorter durations, a clock step dropped, a drift with one significant digit, then
/// rounder times.
fn simpler(f: &ScriptedFault) -> Vec<ScriptedFault> {
    let mut out = Vec::new();
    let with = |a: FaultAction| ScriptedFault {
        action: a,
        ..f.clone()
    };
    if let Some(d) = hold(&f.action) {
        if d.0 >= 2 * MS {
            out.push(with(with_hold(&f.action, SimDuration(d.0 / 2 / MS * MS))));
        }
        for r in rounder(d.0).into_iter().filter(|&r| r < d.0) {
            out.push(with(with_hold(&f.action, SimDuration(r))));
        }
    }
    if let FaultAction::ClockDrift {
        target,
        drift_ppm,
        offset,
    } = &f.action
    {
        if offset.0 > 0 {
            out.push(with(FaultAction::ClockDrift {
                target: *target,
                drift_ppm: *drift_ppm,
                offset: SimDuration::ZERO,
            }));
        }
        let mag = drift_ppm.abs();
        if mag >= 10.0 {
            let scale = 10f64.powi(mag.log10().floor() as i32);
            let r = (drift_ppm / scale).round() * scale;
            if r != *drift_ppm {
                out.push(with(FaultAction::ClockDrift {
                    target: *target,
                    drift_ppm: r,
                    offset: *offset,
                }));
            }
        }
    }
    for at in rounder(f.at.0) {
        out.push(ScriptedFault {
            at: SimTime(at),
            ..f.clone()
        });
    }
    out
}

/// Shrink `spec` while `fails` holds, with at most `budget` test runs.
pub fn shrink(
    spec: ReproSpec,
    fails: &mut dyn FnMut(&ReproSpec) -> bool,
    budget: u32,
) -> (ReproSpec, ShrinkStats) {
    let mut stats = ShrinkStats {
        faults_before: spec.faults.len(),
        nodes_before: spec.nodes,
        duration_before: spec.duration,
        ..ShrinkStats::default()
    };
    let mut tests = 0u32;
    let mut test = |s: &ReproSpec| -> bool {
        if tests >= budget {
            return false;
        }
        tests += 1;
        fails(s)
    };
    let mut cur = spec;

    // 1. Fewer faults.
    let minimise =
        |cur: &ReproSpec, test: &mut dyn FnMut(&ReproSpec) -> bool| -> Vec<ScriptedFault> {
            ddmin(&cur.faults, &mut |fs: &[ScriptedFault]| {
                test(&ReproSpec {
                    faults: fs.to_vec(),
                    ..cur.clone()
                })
            })
        };
    // Steps 1-3 repeat while they make progress (each can enable the others).
    for _round in 0..3 {
        let before = (cur.faults.clone(), cur.nodes);
        cur.faults = minimise(&cur, &mut test);

        // 2. Fewer nodes.
        for n in 2..cur.nodes {
            let cand = cur.with_nodes(n);
            if test(&cand) {
                cur = cand;
                cur.faults = minimise(&cur, &mut test);
                break;
            }
        }

        // 3. Shorter durations, rounder times.
        for i in 0..cur.faults.len() {
            for _ in 0..24 {
                let mut improved = false;
                for v in simpler(&cur.faults[i]) {
                    let mut cand = cur.clone();
                    cand.faults[i] = v;
                    if test(&cand) {
                        cur = cand;
                        improved = true;
                        break;
                    }
                }
                if !improved {
                    break;
                }
            }
        }
        if (cur.faults.clone(), cur.nodes) == before {
            break;
        }
    }
    // Same run: the plan is expanded with a stable sort by time, so list order only
    // matters among equal times, which a stable sort keeps.
    cur.faults.sort_by_key(|f| f.at);

    // 4. A shorter run: the shortest whole-millisecond duration that still fails.
    let last_fault_ms = cur
        .faults
        .iter()
        .map(|f| f.at.0 / MS + 1)
        .max()
        .unwrap_or(1);
    let (mut lo, mut hi) = (last_fault_ms, cur.duration.0.div_ceil(MS));
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if test(&ReproSpec {
            duration: SimDuration(mid * MS),
            ..cur.clone()
        }) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let shortest = SimDuration(hi * MS);
    if shortest < cur.duration {
        cur.duration = shortest;
    }
    for unit in [1_000 * MS, 100 * MS, 10 * MS] {
        let round_up = SimDuration(cur.duration.0.div_ceil(unit) * unit);
        if round_up != cur.duration
            && test(&ReproSpec {
                duration: round_up,
                ..cur.clone()
            })
        {
            cur.duration = round_up;
            break;
        }
    }

    stats.tests = tests;
    stats.budget_exhausted = tests >= budget;
    stats.faults_after = cur.faults.len();
    stats.nodes_after = cur.nodes;
    stats.duration_after = cur.duration;
    (cur, stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddmin_finds_the_failing_pair() {
        // Fails iff both 3 and 7 are present: the minimum is exactly [3, 7].
        let items: Vec<u32> = (0..16).collect();
        let mut runs = 0;
        let out = ddmin(&items, &mut |s: &[u32]| {
            runs += 1;
            s.contains(&3) && s.contains(&7)
        });
        assert_eq!(out, vec![3, 7]);
        assert!(runs < 100, "{runs} tests");
    }

    #[test]
    fn ddmin_returns_empty_when_nothing_is_needed() {
        assert!(ddmin(&[1, 2, 3], &mut |_| true).is_empty());
    }

    #[test]
    fn simpler_shortens_durations_and_rounds_times() {
        let f = ScriptedFault {
            at: SimTime(1_234 * MS),
            jitter: None,
            every: None,
            until: None,
            action: FaultAction::Pause {
                target: crate::sim::Target::Node(1),
                duration: SimDuration(300 * MS),
            },
        };
        let v = simpler(&f);
        assert_eq!(hold(&v[0].action), Some(SimDuration(150 * MS)));
        assert!(
            v.iter()
                .all(|g| g.at == f.at || rounder(f.at.0).contains(&g.at.0))
        );
        assert_eq!(v.last().unwrap().at, SimTime(1_230 * MS));
        // A crash without restart has no duration to shorten.
        let c = ScriptedFault {
            action: FaultAction::Crash {
                target: crate::sim::Target::Leader,
                restart_after: None,
            },
            ..f
        };
        assert!(simpler(&c).iter().all(|g| g.action == c.action));
    }

    #[test]
    fn rounder_values_exclude_self_and_zero() {
        assert_eq!(
            rounder(1_234 * MS),
            vec![1_000 * MS, 1_200 * MS, 1_230 * MS]
        );
        assert_eq!(rounder(MS), Vec::<u64>::new());
    }
}
