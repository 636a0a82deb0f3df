//! The deterministic kernel: no I/O, no wall clock, no threads, no hash-order iteration.

pub mod cause;
pub mod coverage;
pub mod engine;
pub mod faults;
pub mod invariants;
pub mod metrics;
pub mod network;
pub mod observe;
pub mod protocol;
pub mod queue;
pub mod rng;
pub mod storage;
pub mod symmetry;
#[cfg(test)]
pub(crate) mod testkit;
pub mod time;

pub use engine::{Outcome, Release, Sim, SimConfig, SimError};
pub use faults::{FaultAction, RandomFault, ScriptedFault, Target};
pub use network::{DelayDist, LinkModel, Links, Network};
pub use observe::{DropReason, MsgRef, Observer, TraceEvent};
pub use protocol::{
    Ctx, Delay, Effect, Message, MsgClass, NodeId, NodeStatus, Out, Protocol, Role, TimerKey,
};
pub use storage::{Resources, WriteMode};
pub use symmetry::Symmetric;
pub use time::{LocalClock, SimDuration, SimTime};
