//! Election algorithms, each a pure [`Protocol`](crate::sim::Protocol) state machine, and the
//! list of built-ins ([`Registry::builtin`]) that maps a scenario's `algorithm = "..."` to
//! one of them.

pub mod bully;
pub mod coordinator;
pub mod detector;
pub mod etcd;
pub mod k8s;
pub mod raft;
pub mod raft_rs;
pub mod ring;
pub mod stabilizer;
pub mod zookeeper;

pub mod builtin;

pub use crate::plugin::Param;
use crate::plugin::Registry;

impl Registry {
    /// The built-in algorithms, in the order `electsim list` shows them: the one list of
    /// them. Each is registered through the public [`crate::plugin::Algorithm`] trait (the
    /// implementations are in [`builtin`]), exactly as a user's algorithm is, so a new
    /// built-in is its `impl Algorithm` plus one line here. (Defined in `protocols`, next to
    /// the algorithms, so that `plugin` needs no import of them.)
    pub fn builtin() -> Registry {
        Registry::new()
            .with::<bully::Bully>()
            .with::<ring::Ring>()
            .with::<raft::Raft>()
            .with::<raft_rs::RaftRs>()
            .with::<zookeeper::Zookeeper>()
            .with::<etcd::Etcd>()
            .with::<k8s::K8s>()
    }
}

/// Whether the algorithm runs the quorum failure detector in this configuration (and so may
/// send the [`detector::QUERY_KINDS`] messages, which get CSV columns only then).
pub fn uses_suspect_queries(algorithm: &crate::plugin::ConfiguredAlgorithm) -> bool {
    let kind = if let Some(c) = algorithm.config::<bully::Bully>() {
        c.detector.kind
    } else if let Some(c) = algorithm.config::<ring::Ring>() {
        c.detector.kind
    } else {
        return false;
    };
    kind == detector::DetectorKind::Quorum
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
