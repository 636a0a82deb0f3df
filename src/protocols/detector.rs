//! Failure detectors for a follower watching its leader's heartbeats (Bully, Ring, and Raft
//! followers), chosen per algorithm with `detector = "timeout" | "phi" | "quorum"`.
//!
//! * `timeout` (the default): suspect the leader when no heartbeat arrived for a timeout
//!   redrawn uniformly in the algorithm's timeout range — what each algorithm always did.
//! * `phi`: the φ-accrual detector (Hayashibara, Défago, Yared & Katayama, "The φ accrual
//!   failure detector", SRDS 2004), as Akka and Cassandra use it. The last `phi_window`
//!   inter-arrival times of the leader's heartbeats are kept (integer nanoseconds); their
//!   mean μ (plus `phi_acceptable_pause`) and standard deviation σ (at least `phi_min_std`)
//!   fit a **normal** distribution, and φ(t) = −log10(P_later(t)) where P_later(t) is the
//!   probability that a heartbeat comes later than t after the previous one. Like Akka's
//!   `PhiAccrualFailureDetector`, the normal CDF is computed with the logistic approximation
//!   F(y) ≈ 1 / (1 + e^(−y(1.5976 + 0.070566 y²))), y = (t − μ) / σ. The leader is suspected
//!   when φ > `phi_threshold`. φ grows with t, so instead of polling, the detector's timer is
//!   set at every heartbeat to the first whole nanosecond at which φ exceeds the threshold.
//!   Until one interval has been seen (a new leader) the timeout range is used.
//! * `quorum`: a multi-signal detector in the spirit of `isHeartbeatValid() &&
//!   isNetworkStable() && hasQuorumConsensus()`. The local timeout does not suspect the
//!   leader by itself: the node asks every peer (`SuspectQuery`) whether it, too, has not
//!   heard the leader within its own minimum timeout, and suspects only when a strict
//!   majority of all nodes (itself included) says so (`SuspectReply`) within `quorum_wait`.
//!   Otherwise it keeps the leader and waits for another timeout.
//!
//! The state holds integers only (φ is computed as `f64` on demand) so that it stays `Eq`
//! and `Hash`; timers still go through the engine and nothing here draws randomness.

use crate::field_error::FieldError;
use crate::sim::{NodeId, SimDuration, SimTime};
use std::collections::{BTreeSet, VecDeque};

/// Which failure detector a follower runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectorKind {
    /// A heartbeat timeout (today's behaviour).
    #[default]
    Timeout,
    /// φ-accrual over a window of heartbeat inter-arrival times.
    Phi,
    /// A local timeout confirmed by a majority of peers.
    Quorum,
}

impl DetectorKind {
    /// The scenario spelling.
    pub fn name(self) -> &'static str {
        match self {
            DetectorKind::Timeout => "timeout",
            DetectorKind::Phi => "phi",
            DetectorKind::Quorum => "quorum",
        }
    }
}

/// Validated detector settings (part of the Bully, Ring and Raft configs).
#[derive(Clone, Debug, PartialEq)]
pub struct DetectorConfig {
    /// Default `timeout`.
    pub kind: DetectorKind,
    /// φ above which the leader is suspected. Default 8 (Akka's and Cassandra's default).
    pub phi_threshold: f64,
    /// Inter-arrival samples kept. Default 100.
    pub phi_window: u32,
    /// Lower bound on the fitted standard deviation. Default 10ms.
    pub phi_min_std: SimDuration,
    /// Added to the fitted mean: a pause that is not yet suspicious. Default 0s.
    pub phi_acceptable_pause: SimDuration,
    /// How long a quorum query collects replies. Default 50ms.
    pub quorum_wait: SimDuration,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            kind: DetectorKind::Timeout,
            phi_threshold: 8.0,
            phi_window: 100,
            phi_min_std: SimDuration::from_millis(10),
            phi_acceptable_pause: SimDuration::ZERO,
            quorum_wait: SimDuration::from_millis(50),
        }
    }
}

/// Message kinds of the quorum detector. Reports list them only when they were used (or
/// the sweep configures the quorum detector), so results without it keep their columns.
pub const QUERY_KINDS: &[&str] = crate::sim::protocol::LISTED_WHEN_USED;

/// Largest accepted `phi_threshold` (φ = 100 is a probability of 10⁻¹⁰⁰).
pub const MAX_PHI_THRESHOLD: f64 = 100.0;
/// Largest accepted `phi_window`.
pub const MAX_PHI_WINDOW: i64 = 10_000;

/// The detector keys of an algorithm table, as written (every one optional).
#[derive(Clone, Debug, Default)]
pub struct RawDetector {
    /// `detector`: see [`DetectorConfig::kind`].
    pub detector: Option<DetectorKind>,
    /// `phi_threshold`: see [`DetectorConfig::phi_threshold`]; above 0 and at most
    /// [`MAX_PHI_THRESHOLD`].
    pub phi_threshold: Option<f64>,
    /// `phi_window`: see [`DetectorConfig::phi_window`] (samples); from 1 to
    /// [`MAX_PHI_WINDOW`]; signed so that a negative value is reported, not a parse error.
    pub phi_window: Option<i64>,
    /// `phi_min_std`: see [`DetectorConfig::phi_min_std`]; must be positive.
    pub phi_min_std: Option<SimDuration>,
    /// `phi_acceptable_pause`: see [`DetectorConfig::phi_acceptable_pause`].
    pub phi_acceptable_pause: Option<SimDuration>,
    /// `quorum_wait`: see [`DetectorConfig::quorum_wait`]; must be positive.
    pub quorum_wait: Option<SimDuration>,
}

impl RawDetector {
    /// Apply defaults and check values; field paths are relative to the algorithm table.
    pub fn validate(&self) -> Result<DetectorConfig, FieldError> {
        let d = DetectorConfig::default();
        let phi_threshold = self.phi_threshold.unwrap_or(d.phi_threshold);
        if !(phi_threshold > 0.0 && phi_threshold <= MAX_PHI_THRESHOLD) {
            return Err(FieldError::new(
                "phi_threshold",
                phi_threshold,
                format!(
                    "a number above 0 and at most {MAX_PHI_THRESHOLD}, e.g. 8 (Akka's and Cassandra's default)"
                ),
            ));
        }
        let window = self.phi_window.unwrap_or(i64::from(d.phi_window));
        if !(1..=MAX_PHI_WINDOW).contains(&window) {
            return Err(FieldError::new(
                "phi_window",
                window,
                format!("a number of samples from 1 to {MAX_PHI_WINDOW}, e.g. 100"),
            ));
        }
        let phi_min_std = super::positive_duration(
            "phi_min_std",
            self.phi_min_std.unwrap_or(d.phi_min_std),
            "a positive duration, e.g. \"10ms\" (a fifth of the heartbeat interval)",
        )?;
        let quorum_wait = super::positive_duration(
            "quorum_wait",
            self.quorum_wait.unwrap_or(d.quorum_wait),
            "a positive duration longer than a message round trip, e.g. \"50ms\"",
        )?;
        Ok(DetectorConfig {
            kind: self.detector.unwrap_or(d.kind),
            phi_threshold,
            phi_window: window as u32,
            phi_min_std,
            phi_acceptable_pause: self.phi_acceptable_pause.unwrap_or(d.phi_acceptable_pause),
            quorum_wait,
        })
    }
}

/// The `[<algorithm>]` parameters of the detector, for `electsim list` and the README.
#[macro_export]
#[doc(hidden)]
macro_rules! detector_params {
    ($table:literal) => {
        [
            $crate::protocols::Param {
                key: concat!($table, ".detector"),
                default: "\"timeout\"",
                doc: "failure detector: \"timeout\" (the heartbeat timeout), \"phi\" (φ-accrual, normal fit) or \"quorum\" (a timeout confirmed by a majority of peers)",
            },
            $crate::protocols::Param {
                key: concat!($table, ".phi_threshold"),
                default: "8",
                doc: "phi: suspect the leader when φ exceeds this (0 < φ <= 100)",
            },
            $crate::protocols::Param {
                key: concat!($table, ".phi_window"),
                default: "100",
                doc: "phi: heartbeat inter-arrival samples kept (1 to 10000)",
            },
            $crate::protocols::Param {
                key: concat!($table, ".phi_min_std"),
                default: "\"10ms\"",
                doc: "phi: lower bound on the fitted standard deviation",
            },
            $crate::protocols::Param {
                key: concat!($table, ".phi_acceptable_pause"),
                default: "\"0s\"",
                doc: "phi: added to the fitted mean (a pause that is not yet suspicious, as in Akka)",
            },
            $crate::protocols::Param {
                key: concat!($table, ".quorum_wait"),
                default: "\"50ms\"",
                doc: "quorum: how long a local suspicion waits for a majority of peers to confirm it",
            },
        ]
    };
}

/// φ of an elapsed time under a normal fit (mean and standard deviation in the same unit),
/// with Akka's logistic approximation of the normal CDF.
pub fn phi_normal(elapsed: f64, mean: f64, std: f64) -> f64 {
    let y = (elapsed - mean) / std;
    let e = (-y * (1.5976 + 0.070566 * y * y)).exp();
    if elapsed > mean {
        -(e / (1.0 + e)).log10()
    } else {
        -(1.0 - 1.0 / (1.0 + e)).log10()
    }
}

/// Mean and standard deviation (population) of inter-arrival samples, in nanoseconds, with
/// the acceptable pause added to the mean and the minimum applied to the deviation.
pub fn fit(samples_ns: &VecDeque<u64>, cfg: &DetectorConfig) -> Option<(f64, f64)> {
    if samples_ns.is_empty() {
        return None;
    }
    let n = samples_ns.len() as f64;
    let mean = samples_ns.iter().map(|&s| s as f64).sum::<f64>() / n;
    let var = samples_ns
        .iter()
        .map(|&s| (s as f64 - mean) * (s as f64 - mean))
        .sum::<f64>()
        / n;
    let std = var.sqrt().max(cfg.phi_min_std.0 as f64);
    Some((mean + cfg.phi_acceptable_pause.0 as f64, std))
}

/// The open quorum query of a follower: its round number, the leader it asks about and the
/// peers that confirmed they miss it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Query {
    /// The query's round number; replies carrying another round are ignored.
    pub round: u64,
    /// The leader the follower suspects.
    pub leader: NodeId,
    agree: BTreeSet<NodeId>,
}

/// One follower's detector state: volatile, integers only.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Detector {
    /// The leader whose heartbeats the history describes.
    leader: Option<NodeId>,
    /// Local time of the last heartbeat from the current leader.
    last_heartbeat: Option<SimTime>,
    /// phi: the most recent inter-arrival times, oldest first, in nanoseconds.
    intervals_ns: VecDeque<u64>,
    /// quorum: the query in progress.
    query: Option<Query>,
    /// quorum: the last round number used.
    rounds: u64,
}

impl Detector {
    /// Rename the node ids the detector holds (see [`crate::sim::Symmetric`]).
    pub fn rename(&mut self, map: &[NodeId]) {
        if let Some(l) = &mut self.leader {
            *l = map[*l as usize];
        }
        if let Some(q) = &mut self.query {
            q.leader = map[q.leader as usize];
            q.agree = q.agree.iter().map(|&a| map[a as usize]).collect();
        }
    }

    /// `leader` was (re)accepted at local time `now`: its first contact starts a new
    /// history, except that a leader accepted again (after an election it won once more)
    /// keeps the intervals measured before; the gap across the election is not one of them.
    pub fn restart(&mut self, now: SimTime, leader: NodeId) {
        if self.leader != Some(leader) {
            self.intervals_ns.clear();
            self.leader = Some(leader);
        }
        self.query = None;
        self.last_heartbeat = Some(now);
    }

    /// A heartbeat of the current leader arrived at local time `now`.
    pub fn heartbeat(&mut self, cfg: &DetectorConfig, now: SimTime) {
        if cfg.kind == DetectorKind::Phi
            && let Some(last) = self.last_heartbeat
        {
            if self.intervals_ns.len() >= cfg.phi_window as usize {
                self.intervals_ns.pop_front();
            }
            self.intervals_ns.push_back(now.since(last).0);
        }
        self.query = None;
        self.last_heartbeat = Some(now);
    }

    /// The inter-arrival samples kept (oldest first, nanoseconds).
    pub fn intervals_ns(&self) -> &VecDeque<u64> {
        &self.intervals_ns
    }

    /// φ at local time `now`, or `None` before the first interval.
    pub fn phi(&self, cfg: &DetectorConfig, now: SimTime) -> Option<f64> {
        let (mean, std) = fit(&self.intervals_ns, cfg)?;
        let elapsed = now.since(self.last_heartbeat?).0 as f64;
        Some(phi_normal(elapsed, mean, std))
    }

    /// phi: how long from `now` until φ first exceeds the threshold (zero when it already
    /// does), or `None` before the first interval (use the timeout range then).
    pub fn suspect_after(&self, cfg: &DetectorConfig, now: SimTime) -> Option<SimDuration> {
        let (mean, std) = fit(&self.intervals_ns, cfg)?;
        let last = self.last_heartbeat?;
        let over = |elapsed_ns: u64| phi_normal(elapsed_ns as f64, mean, std) > cfg.phi_threshold;
        // φ grows with the elapsed time: find the first nanosecond above the threshold.
        let mut hi: u64 = (mean + std).max(1.0) as u64;
        let mut doublings = 0;
        while !over(hi) {
            if doublings == 62 {
                return Some(SimDuration(u64::MAX / 2)); // never, in practice
            }
            hi = hi.saturating_mul(2);
            doublings += 1;
        }
        let mut lo = 0u64; // invariant: the answer is in (lo, hi] unless over(0)
        if over(0) {
            hi = 0;
        }
        while lo + 1 < hi {
            let mid = lo + (hi - lo) / 2;
            if over(mid) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        let crossing = last + SimDuration(hi);
        Some(crossing.since(now))
    }

    /// quorum: whether this node, asked about `leader`, also misses it: it follows another
    /// leader or none, or has not heard a heartbeat within `within` of `now`.
    pub fn misses(
        &self,
        leader: NodeId,
        believed: Option<NodeId>,
        now: SimTime,
        within: SimDuration,
    ) -> bool {
        believed != Some(leader) || self.last_heartbeat.is_none_or(|t| now.since(t) >= within)
    }

    /// quorum: open a new query about `leader`; returns its round number.
    pub fn open_query(&mut self, leader: NodeId) -> u64 {
        self.rounds += 1;
        self.query = Some(Query {
            round: self.rounds,
            leader,
            agree: BTreeSet::new(),
        });
        self.rounds
    }

    /// The query in progress, if any.
    pub fn query(&self) -> Option<&Query> {
        self.query.as_ref()
    }

    /// quorum: a reply to round `round`. True when, with it, a strict majority of `nodes`
    /// (this node included) misses the leader; the query is then closed.
    pub fn reply(&mut self, round: u64, from: NodeId, misses: bool, nodes: u32) -> bool {
        let Some(q) = self.query.as_mut().filter(|q| q.round == round) else {
            return false; // a late reply to a closed query
        };
        if misses {
            q.agree.insert(from);
        }
        let confirmed = 2 * (1 + q.agree.len() as u64) > u64::from(nodes);
        if confirmed {
            self.query = None;
        }
        confirmed
    }

    /// Forget the query in progress (it timed out, or the node left the follower role).
    pub fn close_query(&mut self) {
        self.query = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> SimDuration {
        SimDuration::from_millis(v)
    }

    fn phi_cfg() -> DetectorConfig {
        DetectorConfig {
            kind: DetectorKind::Phi,
            ..DetectorConfig::default()
        }
    }

    /// A detector that saw heartbeats every 100 ms, the last at t = 1000 ms.
    fn regular(cfg: &DetectorConfig) -> Detector {
        let mut d = Detector::default();
        d.restart(SimTime(0), 4);
        for k in 1..=10 {
            d.heartbeat(cfg, SimTime::ZERO + ms(100 * k));
        }
        d
    }

    #[test]
    fn phi_of_fixed_intervals_matches_hand_computed_values() {
        // Ten intervals of exactly 100 ms: mean 100 ms, deviation 0 -> phi_min_std = 10 ms.
        // At the mean, y = 0: e = 1, phi = -log10(1 - 1/2) = log10 2 = 0.30103.
        // 20 ms late, y = 2: e = exp(-2 (1.5976 + 0.070566 * 4)) = exp(-3.759728)
        // = 0.0232890, phi = -log10(e / (1 + e)) = 1.642828.
        // 30 ms late, y = 3: e = exp(-3 (1.5976 + 0.070566 * 9)) = exp(-6.698082)
        // = 0.00123121, phi = 2.909475.
        let cfg = phi_cfg();
        let d = regular(&cfg);
        assert_eq!(d.intervals_ns().len(), 10);
        let at = |t: u64| d.phi(&cfg, SimTime::ZERO + ms(t)).unwrap();
        assert!(
            (at(1100) - std::f64::consts::LOG10_2).abs() < 1e-12,
            "{}",
            at(1100)
        );
        assert!((at(1120) - 1.642_828).abs() < 1e-6, "{}", at(1120));
        assert!((at(1130) - 2.909_475).abs() < 1e-6, "{}", at(1130));
        // Before the mean, 10 ms early (y = -1): e = exp(1.668166) = 5.302, phi =
        // -log10(1 - 1/6.302) = 0.075033.
        assert!((at(1090) - 0.075_033).abs() < 1e-6, "{}", at(1090));
    }

    #[test]
    fn phi_uses_the_sample_deviation_and_the_acceptable_pause() {
        // Intervals 80 and 120 ms: mean 100, population deviation 20 ms (above the 10 ms
        // minimum). 40 ms late is y = 2 again: phi = 1.642828. An acceptable pause of 20 ms
        // moves the mean to 120 ms: 40 ms late is then y = 1, e = exp(-1.668166) = 0.188603,
        // phi = -log10(0.188603 / 1.188603) = -log10(0.158677) = 0.799508.
        let mut cfg = phi_cfg();
        let mut d = Detector::default();
        d.restart(SimTime(0), 4);
        d.heartbeat(&cfg, SimTime::ZERO + ms(80));
        d.heartbeat(&cfg, SimTime::ZERO + ms(200));
        let p = d.phi(&cfg, SimTime::ZERO + ms(340)).unwrap();
        assert!((p - 1.642_828).abs() < 1e-6, "{p}");
        cfg.phi_acceptable_pause = ms(20);
        let p = d.phi(&cfg, SimTime::ZERO + ms(340)).unwrap();
        assert!((p - 0.799_508).abs() < 1e-6, "{p}");
    }

    #[test]
    fn suspicion_time_is_the_first_nanosecond_above_the_threshold() {
        // Threshold 1.642828 is crossed 20 ms after the mean (see above), i.e. 120 ms after
        // the last heartbeat at 1000 ms; asked at 1050 ms that is 70 ms away.
        let mut cfg = phi_cfg();
        cfg.phi_threshold = 1.642_828;
        let d = regular(&cfg);
        let wait = d.suspect_after(&cfg, SimTime::ZERO + ms(1050)).unwrap();
        assert!(wait.0.abs_diff(ms(70).0) < 1_000, "{wait:?}");
        let at = SimTime::ZERO + ms(1050) + wait;
        assert!(d.phi(&cfg, at).unwrap() > cfg.phi_threshold);
        assert!(d.phi(&cfg, SimTime(at.0 - 1)).unwrap() <= cfg.phi_threshold);
        // Already past it: suspect at once.
        assert_eq!(
            d.suspect_after(&cfg, SimTime::ZERO + ms(1200)),
            Some(SimDuration::ZERO)
        );
        // No interval yet: no estimate (the timeout range applies).
        let mut fresh = Detector::default();
        fresh.restart(SimTime(5), 4);
        assert_eq!(fresh.suspect_after(&cfg, SimTime(5)), None);
        // The same leader accepted again keeps its history; another leader starts afresh.
        let mut again = regular(&cfg);
        again.restart(SimTime::ZERO + ms(5000), 4);
        assert_eq!(
            again.intervals_ns().len(),
            10,
            "the 4 s gap is not a sample"
        );
        again.restart(SimTime::ZERO + ms(5000), 3);
        assert!(again.intervals_ns().is_empty());
    }

    #[test]
    fn the_window_keeps_only_the_latest_samples() {
        let mut cfg = phi_cfg();
        cfg.phi_window = 3;
        let d = regular(&cfg);
        assert_eq!(
            d.intervals_ns().iter().copied().collect::<Vec<_>>(),
            vec![ms(100).0; 3]
        );
        // The timeout detector keeps no samples at all.
        let d = regular(&DetectorConfig::default());
        assert!(d.intervals_ns().is_empty());
    }

    #[test]
    fn a_quorum_needs_a_strict_majority_including_the_asker() {
        let mut d = Detector::default();
        d.restart(SimTime(0), 4);
        let r = d.open_query(4);
        // Five nodes: the asker plus two peers make three.
        assert!(!d.reply(r, 1, true, 5));
        assert!(
            !d.reply(r, 2, false, 5),
            "a peer that still hears the leader"
        );
        assert!(!d.reply(r, 1, true, 5), "a duplicate counts once");
        assert!(!d.reply(r + 1, 3, true, 5), "another round");
        assert!(d.reply(r, 3, true, 5));
        assert!(d.query().is_none(), "closed once confirmed");
        assert!(!d.reply(r, 0, true, 5), "late replies do nothing");
    }

    #[test]
    fn a_peer_misses_the_leader_only_without_a_recent_heartbeat_from_it() {
        let mut d = Detector::default();
        d.restart(SimTime::ZERO + ms(100), 4);
        let now = SimTime::ZERO + ms(200);
        assert!(!d.misses(4, Some(4), now, ms(150)), "heard 100 ms ago");
        assert!(d.misses(4, Some(4), now, ms(100)), "not within 100 ms");
        assert!(d.misses(4, Some(3), now, ms(150)), "follows another leader");
        assert!(d.misses(4, None, now, ms(150)), "follows nobody");
    }

    #[test]
    fn validation_names_the_field_value_and_range() {
        let bad = RawDetector {
            phi_threshold: Some(0.0),
            ..RawDetector::default()
        };
        let e = bad.validate().unwrap_err();
        assert_eq!((e.field.as_str(), e.value.as_str()), ("phi_threshold", "0"));
        assert!(
            e.expected.contains("above 0 and at most 100"),
            "{}",
            e.expected
        );
        let bad = RawDetector {
            phi_threshold: Some(f64::NAN),
            ..RawDetector::default()
        };
        assert_eq!(bad.validate().unwrap_err().field, "phi_threshold");
        let bad = RawDetector {
            phi_window: Some(0),
            ..RawDetector::default()
        };
        let e = bad.validate().unwrap_err();
        assert_eq!((e.field.as_str(), e.value.as_str()), ("phi_window", "0"));
        let bad = RawDetector {
            phi_min_std: Some(SimDuration::ZERO),
            ..RawDetector::default()
        };
        assert_eq!(bad.validate().unwrap_err().field, "phi_min_std");
        let bad = RawDetector {
            quorum_wait: Some(SimDuration::ZERO),
            ..RawDetector::default()
        };
        assert_eq!(bad.validate().unwrap_err().field, "quorum_wait");
        assert_eq!(
            RawDetector::default().validate().unwrap(),
            DetectorConfig::default()
        );
    }
}
