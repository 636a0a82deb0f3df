//! The `[raft-rs]` scenario table: tick length and raft-rs's own `Config` knobs, with
//! raft-rs's defaults and raft-rs's own validation (`Config::validate`) reported against the
//! field it concerns.

use crate::field_error::FieldError;
use crate::protocols::Param;
use crate::sim::SimDuration;

/// The validated `[raft-rs]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct RaftRsConfig {
    /// Length of one raft-rs tick on the node's local clock. Default 10ms.
    pub tick: SimDuration,
    /// `Config::election_tick` (ticks). raft-rs's default: 20.
    pub election_tick: usize,
    /// `Config::heartbeat_tick` (ticks). raft-rs's default: 2.
    pub heartbeat_tick: usize,
    /// Smallest randomized election timeout (ticks, inclusive); `election_tick` when the
    /// table leaves it 0, as raft-rs does.
    pub min_election_tick: usize,
    /// Largest randomized election timeout (ticks, exclusive); `2 * election_tick` when 0.
    pub max_election_tick: usize,
    /// `Config::pre_vote`. Default false.
    pub pre_vote: bool,
    /// `Config::check_quorum`. Default false.
    pub check_quorum: bool,
}

impl Default for RaftRsConfig {
    fn default() -> Self {
        RawRaftRs::default()
            .validate()
            .expect("raft-rs's defaults are valid")
    }
}

impl RaftRsConfig {
    /// raft-rs's `Config` for raft id `id` (electsim node + 1).
    pub fn raft_config(&self, id: u64) -> raft::Config {
        raft::Config {
            id,
            election_tick: self.election_tick,
            heartbeat_tick: self.heartbeat_tick,
            min_election_tick: self.min_election_tick,
            max_election_tick: self.max_election_tick,
            pre_vote: self.pre_vote,
            check_quorum: self.check_quorum,
            ..raft::Config::default()
        }
    }
}

/// Parameters of the `[raft-rs]` scenario table.
pub const PARAMS: &[Param] = &[
    Param {
        key: "raft-rs.tick",
        default: "\"10ms\"",
        doc: "length of one raft-rs tick, a timer on the node's local clock (drift and pauses act on it)",
    },
    Param {
        key: "raft-rs.election_tick",
        default: "20",
        doc: "raft-rs Config::election_tick: election timeout and check-quorum period, in ticks",
    },
    Param {
        key: "raft-rs.heartbeat_tick",
        default: "2",
        doc: "raft-rs Config::heartbeat_tick: leader heartbeat interval, in ticks",
    },
    Param {
        key: "raft-rs.min_election_tick",
        default: "0",
        doc: "smallest randomized election timeout in ticks (inclusive); 0 = election_tick",
    },
    Param {
        key: "raft-rs.max_election_tick",
        default: "0",
        doc: "largest randomized election timeout in ticks (exclusive); 0 = 2 * election_tick",
    },
    Param {
        key: "raft-rs.pre_vote",
        default: "false",
        doc: "raft-rs Config::pre_vote (etcd-raft's PreVote)",
    },
    Param {
        key: "raft-rs.check_quorum",
        default: "false",
        doc: "raft-rs Config::check_quorum: leader steps down without a quorum; followers in lease ignore (pre-)votes",
    },
];

/// The `[raft-rs]` table as written.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRaftRs {
    /// `raft-rs.tick`: see [`RaftRsConfig::tick`].
    pub tick: Option<SimDuration>,
    /// `raft-rs.election_tick`: see [`RaftRsConfig::election_tick`].
    pub election_tick: Option<i64>,
    /// `raft-rs.heartbeat_tick`: see [`RaftRsConfig::heartbeat_tick`].
    pub heartbeat_tick: Option<i64>,
    /// `raft-rs.min_election_tick`: see [`RaftRsConfig::min_election_tick`].
    pub min_election_tick: Option<i64>,
    /// `raft-rs.max_election_tick`: see [`RaftRsConfig::max_election_tick`].
    pub max_election_tick: Option<i64>,
    /// `raft-rs.pre_vote`: see [`RaftRsConfig::pre_vote`].
    pub pre_vote: Option<bool>,
    /// `raft-rs.check_quorum`: see [`RaftRsConfig::check_quorum`].
    pub check_quorum: Option<bool>,
}

/// Largest tick count accepted: far beyond any useful timeout, small enough that electsim
/// can count ticks without overflow.
const MAX_TICKS: i64 = 1 << 32;

/// A tick count in `0..=MAX_TICKS` for `field`.
fn ticks(field: &str, v: Option<i64>, default: usize) -> Result<usize, FieldError> {
    match v {
        None => Ok(default),
        Some(n) if (0..=MAX_TICKS).contains(&n) => Ok(n as usize),
        Some(n) => Err(FieldError::new(
            field,
            n,
            format!("a whole number of ticks in 0..={MAX_TICKS}"),
        )),
    }
}

impl RawRaftRs {
    /// Apply raft-rs's defaults, then raft-rs's own `Config::validate`; an error names the
    /// field raft-rs's check concerns and quotes raft-rs's message. Paths are relative to
    /// `[raft-rs]`.
    pub fn validate(&self) -> Result<RaftRsConfig, FieldError> {
        let d = raft::Config::default();
        let tick = self.tick.unwrap_or(SimDuration::from_millis(10));
        if tick.0 == 0 {
            return Err(FieldError::new(
                "tick",
                format!("\"{tick}\""),
                "a positive duration, e.g. \"10ms\"",
            ));
        }
        let c = RaftRsConfig {
            tick,
            election_tick: ticks("election_tick", self.election_tick, d.election_tick)?,
            heartbeat_tick: ticks("heartbeat_tick", self.heartbeat_tick, d.heartbeat_tick)?,
            min_election_tick: ticks("min_election_tick", self.min_election_tick, 0)?,
            max_election_tick: ticks("max_election_tick", self.max_election_tick, 0)?,
            pre_vote: self.pre_vote.unwrap_or(d.pre_vote),
            check_quorum: self.check_quorum.unwrap_or(d.check_quorum),
        };
        match c.raft_config(1).validate() {
            Ok(()) => Ok(c),
            Err(e) => Err(located(&c, &e.to_string())),
        }
    }
}

/// The field a `Config::validate` failure concerns: raft-rs checks heartbeat_tick > 0, then
/// election_tick > heartbeat_tick, then min >= election_tick, then min < max.
fn located(c: &RaftRsConfig, message: &str) -> FieldError {
    let min = c.effective_min();
    let (field, value) = if c.heartbeat_tick == 0 {
        ("heartbeat_tick", c.heartbeat_tick)
    } else if c.election_tick <= c.heartbeat_tick {
        ("election_tick", c.election_tick)
    } else if min < c.election_tick {
        ("min_election_tick", c.min_election_tick)
    } else {
        ("max_election_tick", c.max_election_tick)
    };
    FieldError::new(
        field,
        value,
        format!("a value raft-rs's Config::validate accepts (it says: {message})"),
    )
}

impl RaftRsConfig {
    /// The smallest randomized election timeout, in ticks (raft-rs's `min_election_timeout`).
    pub fn effective_min(&self) -> usize {
        if self.min_election_tick == 0 {
            self.election_tick
        } else {
            self.min_election_tick
        }
    }

    /// One past the largest randomized election timeout, in ticks (`max_election_timeout`).
    pub fn effective_max(&self) -> usize {
        if self.max_election_tick == 0 {
            2 * self.election_tick
        } else {
            self.max_election_tick
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(f: impl FnOnce(&mut RawRaftRs)) -> RawRaftRs {
        let mut r = RawRaftRs::default();
        f(&mut r);
        r
    }

    #[test]
    fn defaults_are_raft_rs_defaults() {
        let c = RaftRsConfig::default();
        assert_eq!((c.election_tick, c.heartbeat_tick), (20, 2));
        assert_eq!((c.effective_min(), c.effective_max()), (20, 40));
        assert_eq!(c.tick, SimDuration::from_millis(10));
        assert!(!c.pre_vote && !c.check_quorum);
    }

    #[test]
    fn raft_rs_validation_names_the_field() {
        let field = |r: RawRaftRs| r.validate().unwrap_err().field;
        assert_eq!(field(raw(|r| r.heartbeat_tick = Some(0))), "heartbeat_tick");
        assert_eq!(field(raw(|r| r.election_tick = Some(2))), "election_tick");
        assert_eq!(
            field(raw(|r| r.min_election_tick = Some(10))),
            "min_election_tick"
        );
        assert_eq!(
            field(raw(|r| r.max_election_tick = Some(20))),
            "max_election_tick"
        );
        assert_eq!(field(raw(|r| r.election_tick = Some(-1))), "election_tick");
        assert_eq!(field(raw(|r| r.tick = Some(SimDuration::ZERO))), "tick");
        let e = raw(|r| r.max_election_tick = Some(20))
            .validate()
            .unwrap_err();
        assert!(
            e.expected
                .contains("should be less than max election tick 20"),
            "{}",
            e.expected
        );
        // min 25 < max 26: one possible timeout, accepted.
        let c = raw(|r| {
            r.min_election_tick = Some(25);
            r.max_election_tick = Some(26);
        })
        .validate()
        .unwrap();
        assert_eq!((c.effective_min(), c.effective_max()), (25, 26));
    }
}
