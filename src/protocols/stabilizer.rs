//! The LeadershipStabilizer (the seed's fix for "frequent leader changes"), for every
//! algorithm: `[stabilizer] min_leadership = "5s"` (default `"0s"`, off).
//!
//! A node does not start an election on its own **suspicion** within `min_leadership` (on
//! its own clock) of the last leadership change it observed — the moment it first believed
//! in a leader other than the one before (a follower accepting a new leader, or itself
//! becoming leader). The suspicion is deferred, not dropped: the detector's timer is re-armed
//! to fire when the window ends, and then the ordinary rules apply (a heartbeat that arrived
//! in between has reset it).
//!
//! **A leader positively known to be gone is not protected.** The window only holds back an
//! election that a node would start because its own failure detector (heartbeat timeout, φ,
//! quorum, Raft's election timeout) fired while it still believes in a leader. Everything
//! else goes ahead at once:
//! * Bully: an Election from a lower id (an election is already under way: the node answers
//!   and holds its own, as the algorithm requires), a Coordinator or heartbeat from a lower
//!   id, a claim or announcement that timed out, a (re)booting node;
//! * Ring: a token of a newer epoch, the stuck-election guard, a node with no leader;
//! * Raft: a follower whose leader was deposed by a higher term (it no longer believes in a
//!   leader), candidates retrying a split vote, a leader that stepped down;
//! * ZooKeeper and etcd: a contender takes over only when the service has deleted its
//!   predecessor's node (session expired) or the leader's key (lease revoked) — always
//!   positive knowledge — so the stabilizer never delays them: the setting is accepted and
//!   has no effect on these recipes.

use crate::field_error::FieldError;
use crate::protocols::Param;
use crate::sim::{NodeId, SimDuration, SimTime};

/// Validated `[stabilizer]` settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct StabilizerConfig {
    /// No suspicion-driven election within this long of the last observed leadership
    /// change; zero (the default) turns the stabilizer off.
    pub min_leadership: SimDuration,
}

impl StabilizerConfig {
    /// Whether the stabilizer is on.
    pub fn enabled(&self) -> bool {
        self.min_leadership > SimDuration::ZERO
    }
}

/// The `[stabilizer]` table as written.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStabilizer {
    /// `stabilizer.min_leadership`: see [`StabilizerConfig::min_leadership`]; at most
    /// [`MAX_MIN_LEADERSHIP`].
    pub min_leadership: Option<SimDuration>,
}

/// Longest accepted window (one day of virtual time).
pub const MAX_MIN_LEADERSHIP: SimDuration = SimDuration::from_secs(86_400);

impl RawStabilizer {
    /// Apply defaults and check values; field paths are relative to `[stabilizer]`.
    pub fn validate(&self) -> Result<StabilizerConfig, FieldError> {
        let min_leadership = self.min_leadership.unwrap_or(SimDuration::ZERO);
        if min_leadership > MAX_MIN_LEADERSHIP {
            return Err(FieldError::new(
                "min_leadership",
                format!("\"{min_leadership}\""),
                "a duration from \"0s\" (off) to \"1day\", e.g. \"5s\"",
            ));
        }
        Ok(StabilizerConfig { min_leadership })
    }
}

/// The `[stabilizer]` parameter, for `electsim list`.
pub const PARAMS: &[Param] = &[Param {
    key: "stabilizer.min_leadership",
    default: "\"0s\" (off)",
    doc: "no election on a node's own suspicion within this long (its clock) of the last leadership change it saw; a leader known to be gone is not protected (README)",
}];

/// One node's view: the leader it last believed in and when that belief began (local time).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Stabilizer {
    leader: Option<NodeId>,
    changed_at: Option<SimTime>,
}

impl Stabilizer {
    /// Rename the leader the stabilizer remembers (see [`crate::sim::Symmetric`]).
    pub fn rename(&mut self, map: &[NodeId]) {
        if let Some(l) = &mut self.leader {
            *l = map[*l as usize];
        }
    }

    /// The node now believes `leader` leads (at local time `now`); a different leader than
    /// before is a leadership change. Does nothing when the stabilizer is off.
    pub fn observe(&mut self, cfg: &StabilizerConfig, leader: NodeId, now: SimTime) {
        if cfg.enabled() && self.leader != Some(leader) {
            self.leader = Some(leader);
            self.changed_at = Some(now);
        }
    }

    /// How much longer a suspicion-driven election must wait at local time `now` (`None`:
    /// it may start).
    pub fn hold(&self, cfg: &StabilizerConfig, now: SimTime) -> Option<SimDuration> {
        if !cfg.enabled() {
            return None;
        }
        let end = self.changed_at? + cfg.min_leadership;
        (now < end).then(|| end.since(now))
    }

    /// The local time of the last observed leadership change.
    pub fn changed_at(&self) -> Option<SimTime> {
        self.changed_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S5: StabilizerConfig = StabilizerConfig {
        min_leadership: SimDuration::from_secs(5),
    };

    fn at(ms: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_millis(ms)
    }

    #[test]
    fn holds_inside_the_window_and_releases_after_it() {
        let mut s = Stabilizer::default();
        assert_eq!(s.hold(&S5, at(0)), None, "no leader seen yet");
        s.observe(&S5, 4, at(1000));
        assert_eq!(s.hold(&S5, at(1200)), Some(SimDuration::from_millis(4800)));
        s.observe(&S5, 4, at(3000)); // the same leader again is no change
        assert_eq!(s.hold(&S5, at(5999)), Some(SimDuration::from_millis(1)));
        assert_eq!(s.hold(&S5, at(6000)), None);
        s.observe(&S5, 3, at(7000));
        assert_eq!(s.hold(&S5, at(7000)), Some(SimDuration::from_secs(5)));
    }

    #[test]
    fn off_by_default() {
        let off = StabilizerConfig::default();
        let mut s = Stabilizer::default();
        s.observe(&off, 4, at(1000));
        assert_eq!(s, Stabilizer::default(), "no state kept when off");
        assert_eq!(s.hold(&off, at(1001)), None);
    }

    #[test]
    fn validation_bounds_the_window() {
        let raw = RawStabilizer {
            min_leadership: Some(SimDuration::from_secs(86_401)),
        };
        let e = raw.validate().unwrap_err();
        assert_eq!(e.field, "min_leadership");
        assert!(e.expected.contains("\"5s\""), "{}", e.expected);
        assert_eq!(
            RawStabilizer::default().validate().unwrap(),
            StabilizerConfig::default()
        );
    }
}
