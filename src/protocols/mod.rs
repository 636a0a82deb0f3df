//! Election algorithms, each a pure [`Protocol`](crate::sim::Protocol) state machine, and the
//! registry that maps a scenario's `algorithm = "..."` to one of them.

pub mod bully;
pub mod coordinator;
pub mod etcd;
pub mod raft;
pub mod ring;
pub mod zookeeper;

use serde::{Deserialize, Serialize};

/// The algorithms electsim can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// Bully algorithm (García-Molina): the highest live id wins.
    Bully,
    /// Ring election (Chang–Roberts or LeLann) on a logical ring.
    Ring,
    /// Raft leader election (terms, votes, heartbeats).
    Raft,
    /// ZooKeeper recipe: sequential ephemeral znodes against a coordination service.
    Zookeeper,
    /// etcd recipe: leased keys with create revisions against a coordination service.
    Etcd,
}

impl Algorithm {
    /// Every algorithm, in listing order.
    pub const ALL: [Algorithm; 5] = [
        Algorithm::Bully,
        Algorithm::Ring,
        Algorithm::Raft,
        Algorithm::Zookeeper,
        Algorithm::Etcd,
    ];

    /// The scenario / CLI name (`algorithm = "raft"`).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Bully => "bully",
            Algorithm::Ring => "ring",
            Algorithm::Raft => "raft",
            Algorithm::Zookeeper => "zookeeper",
            Algorithm::Etcd => "etcd",
        }
    }

    /// The algorithm named `s` (exact lowercase name), if any.
    pub fn parse(s: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == s)
    }

    /// One-line description for `electsim list`.
    pub fn summary(self) -> &'static str {
        match self {
            Algorithm::Bully => {
                "Garcia-Molina's Bully: highest live id wins (optional quorum guard)"
            }
            Algorithm::Ring => "Chang-Roberts on a logical ring (LeLann variant available)",
            Algorithm::Raft => "Raft leader election (pre-vote, check-quorum options)",
            Algorithm::Zookeeper => "ZooKeeper ephemeral-sequential recipe on a simulated service",
            Algorithm::Etcd => "etcd lease + create-revision recipe on a simulated service",
        }
    }

    /// The scenario table holding this algorithm's parameters.
    pub fn params(self) -> &'static [Param] {
        match self {
            Algorithm::Bully => bully::PARAMS,
            Algorithm::Ring => ring::PARAMS,
            Algorithm::Raft => raft::PARAMS,
            Algorithm::Zookeeper => zookeeper::PARAMS,
            Algorithm::Etcd => etcd::PARAMS,
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A documented parameter, for `electsim list` and the README.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// Dotted scenario key, e.g. `raft.heartbeat`.
    pub key: &'static str,
    /// Default value as written in a scenario (e.g. `"50ms"`).
    pub default: &'static str,
    /// One-line description.
    pub doc: &'static str,
}

/// Validated parameters of every algorithm (only the selected one is used by a run).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProtocolConfigs {
    /// The `[raft]` table.
    pub raft: raft::RaftConfig,
    /// The `[bully]` table.
    pub bully: bully::BullyConfig,
    /// The `[ring]` table.
    pub ring: ring::RingConfig,
    /// The `[zookeeper]` table.
    pub zookeeper: zookeeper::ZookeeperConfig,
    /// The `[etcd]` table.
    pub etcd: etcd::EtcdConfig,
    /// The `[service]` table (both coordination-service recipes).
    pub service: coordinator::ServiceConfig,
}

/// A positive duration for `field`, or an error saying what would be valid.
pub(crate) fn positive_duration(
    field: &str,
    d: crate::sim::SimDuration,
    expected: &str,
) -> Result<crate::sim::SimDuration, crate::field_error::FieldError> {
    if d.0 == 0 {
        return Err(crate::field_error::FieldError::new(
            field,
            format!("\"{d}\""),
            expected,
        ));
    }
    Ok(d)
}

/// A heartbeat failure detector: a positive `heartbeat` interval and a timeout range
/// `[min, max]` with `heartbeat < min <= max` (so a live leader is never suspected).
pub(crate) fn heartbeat_detector(
    heartbeat: crate::sim::SimDuration,
    timeout: [crate::sim::SimDuration; 2],
) -> Result<
    (
        crate::sim::SimDuration,
        crate::sim::SimDuration,
        crate::sim::SimDuration,
    ),
    crate::field_error::FieldError,
> {
    let heartbeat =
        positive_duration("heartbeat", heartbeat, "a positive duration, e.g. \"50ms\"")?;
    let [min, max] = timeout;
    if min <= heartbeat || min > max {
        return Err(crate::field_error::FieldError::new(
            "heartbeat_timeout",
            format!("[\"{min}\", \"{max}\"]"),
            format!(
                "[min, max] with heartbeat ({heartbeat}) < min <= max, e.g. [\"150ms\", \"250ms\"]"
            ),
        ));
    }
    Ok((heartbeat, min, max))
}
