//! Election algorithms, each a pure [`Protocol`](crate::sim::Protocol) state machine.

pub mod raft;
