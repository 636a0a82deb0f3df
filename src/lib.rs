#![warn(missing_docs)]
//! # electsim — a deterministic simulator of leader election
//!
//! electsim runs Bully, Ring, Raft and the ZooKeeper and etcd election recipes on one seeded,
//! virtual-time network with partitions, drops, delays, crashes, pauses and clock drift, and
//! measures what users care about: election time, message overhead, split brain.
//!
//! ## Tutorial: a five-node Raft cluster loses its leader
//!
//! A run is a [`scenario::Scenario`] (usually read from a TOML file) plus a seed. Here we
//! write the scenario inline, crash the leader after two seconds, and read the failover time.
//!
//! ```
//! use electsim::scenario::ScenarioFile;
//! use std::path::Path;
//!
//! let text = r#"
//!     name = "tutorial"
//!     algorithm = "raft"
//!     nodes = 5
//!     duration = "10s"
//!
//!     [network]
//!     delay = { uniform = ["1ms", "10ms"] }
//!
//!     [raft]
//!     election_timeout = ["150ms", "300ms"]
//!     heartbeat = "50ms"
//!
//!     [[fault]]
//!     at = "2s"
//!     crash = "leader"
//!     restart_after = "1s"
//! "#;
//! let file = ScenarioFile::from_text(Path::new("tutorial.toml"), text.to_string())?;
//! let scenario = file.instantiate(&[])?; // `--set`-style overrides go in this slice
//!
//! let outcome = electsim::runner::run(&scenario, 7, Vec::new())?;
//! let m = &outcome.metrics;
//! assert_eq!(m.same_term_leaders, 0); // Raft's Election Safety held
//! assert_eq!(m.failover_ms.count, 1); // one leader crash, one failover
//! let failover = m.failover_ms.max.unwrap();
//! // A failover takes at least the minimum election timeout (150 ms) after the last
//! // heartbeat, and a randomized timeout usually settles it within one round.
//! assert!(failover > 100.0 && failover < 1000.0, "{failover} ms");
//! println!("failover took {failover:.1} ms, digest {}", outcome.trace_digest);
//!
//! // Same scenario + seed => the same trace, bit for bit.
//! let again = electsim::runner::run(&scenario, 7, Vec::new())?;
//! assert_eq!(again.trace_digest, outcome.trace_digest);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Driving a simulation step by step
//!
//! [`runner::build`] returns a live simulation you can advance and poke, which is how the
//! golden interaction scripts in `tests/scripts/` work (see [`script`]):
//!
//! ```
//! use electsim::sim::{FaultAction, SimDuration, SimTime, Target};
//! # use electsim::scenario::ScenarioFile;
//! # let file = ScenarioFile::from_text(std::path::Path::new("t.toml"),
//! #     "algorithm = \"raft\"\nnodes = 5\nduration = \"10s\"\n".into())?;
//! # let scenario = file.instantiate(&[])?;
//! let mut sim = electsim::runner::build(&scenario, 1, Vec::new())?;
//! sim.run_until(SimTime::ZERO + SimDuration::from_secs(1))?;
//! let leader = sim.current_leader().expect("a leader within 1 s");
//! sim.apply_fault(FaultAction::Crash { target: Target::Node(leader), restart_after: None });
//! sim.run_until(SimTime::ZERO + SimDuration::from_secs(2))?;
//! assert_ne!(sim.current_leader(), Some(leader));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Where things live
//!
//! * [`sim`] — the deterministic kernel: time, seeded streams, event queue, network, faults,
//!   the [`sim::Protocol`] trait, metrics and invariants (no I/O, no threads, no wall clock).
//! * [`protocols`] — the election algorithms, each a pure state machine.
//! * [`plugin`] — bring your own algorithm: the [`plugin::Algorithm`] trait every algorithm
//!   (built-in or not) implements, and the [`plugin::Registry`] a binary runs.
//! * [`scenario`] — TOML scenario files, validated with errors that point into the file.
//! * [`runner`] — one run of a scenario; [`cli`] — the `electsim` command line.
//! * [`script`] — golden interaction scripts; [`replay`] — a script replayed with trace
//!   recorders (`electsim replay`, `electsim check SCRIPT`, `verify --out`).

pub mod bench;
pub mod cli;
pub mod command;
pub mod explore;
pub mod field_error;
pub mod fsutil;
pub mod input;
pub mod outputs;
pub mod plugin;
pub mod protocols;
pub mod replay;
pub mod report;
pub mod runner;
pub mod scale;
pub mod scenario;
pub mod script;
pub mod sim;
pub mod sweep;
pub mod verify;
