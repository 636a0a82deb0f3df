//! Bring your own algorithm: the [`Algorithm`] trait and the [`Registry`] of algorithms a
//! binary can run.
//!
//! An election algorithm is a [`Protocol`] (a pure state machine, see [`crate::sim::protocol`])
//! plus what the rest of electsim needs to know about it: the name a scenario selects it by,
//! its scenario tables and how to validate them, its documented parameters, and which safety
//! properties it claims. [`Algorithm`] carries exactly that. The five built-ins implement it
//! the same way a user's algorithm does and are listed once, in [`Registry::builtin`].
//!
//! A user's own binary extends the built-in registry and hands it to the command line; every
//! subcommand (`list`, `validate`, `run` with its traces, `sweep`, `explore`, `check`) knows the
//! new algorithm, its `[table]` is parsed with the same located errors, and a sweep's
//! `algorithm` axis may mix it with the built-ins:
//!
//! ```no_run
//! # use electsim::plugin::Registry;
//! # type MyAlgo = electsim::protocols::raft::Raft; // stands in for the user's type
//! fn main() {
//!     let registry = Registry::builtin().with::<MyAlgo>();
//!     std::process::exit(electsim::cli::main_with(registry));
//! }
//! ```
//!
//! `examples/lease.rs` is a complete algorithm written only against this public API, as a
//! tutorial; the README's "Bring your own algorithm" section walks through it.
//!
//! # Why one process-wide registry
//!
//! Which algorithms exist is a property of the binary, like the variants of an enum were: it
//! is fixed before the first command runs and never changes afterwards. [`install`] sets it
//! once (a [`OnceLock`]); until then, and in programs that never call it, the built-ins are
//! the registry. Scenario files resolve `algorithm = "name"` against it when they are read
//! ([`crate::scenario::ScenarioFile::read`]); code that wants another registry without
//! installing it passes one explicitly
//! ([`ScenarioFile::from_text_in`](crate::scenario::ScenarioFile::from_text_in)). The
//! registry holds no simulation state (every run owns its own), it is an ordered list (no
//! hash-order iteration), and it is immutable once built, so it cannot break determinism or
//! stop simulations from running in parallel.

mod registry;

pub use crate::field_error::FieldError;
pub(crate) use registry::{ConfigError, keep_keys};
pub use registry::{ConfiguredAlgorithm, DynSim, Registry};

use crate::sim::Protocol;
use serde::de::DeserializeOwned;
use std::sync::{Arc, OnceLock};

/// An election algorithm electsim can run: a [`Protocol`] plus its name, scenario tables,
/// parameter documentation and safety claims.
///
/// Implement it on the protocol type itself and register the type with [`Registry::with`].
/// Everything a run measures comes from the protocol's [`Protocol::status`]; see the README's
/// "Bring your own algorithm" for how roles and leaders map onto the metrics.
pub trait Algorithm: Protocol<Config: Send + Sync + 'static> + 'static {
    /// The name a scenario selects it by (`algorithm = "NAME"`): lowercase, unique in a
    /// registry. Also the `algorithm` column of results.
    const NAME: &'static str;
    /// One line for `electsim list`.
    const SUMMARY: &'static str;
    /// The documented parameters, for `electsim list` (dotted keys such as `lease.ttl`).
    const PARAMS: &'static [Param];
    /// The root keys of a scenario file this algorithm reads: its own table (by convention
    /// named like the algorithm) and any table it shares with others (ZooKeeper and etcd
    /// share `service`). These keys are allowed in every scenario file.
    const TABLES: &'static [&'static str];
    /// The safety properties it claims; `explore` refuses to check a property an algorithm
    /// does not claim (it would flag behaviour the algorithm never promised).
    const CLAIMS: Claims = Claims::NONE;

    /// [`Algorithm::TABLES`] as written: a serde type deserialized from a table holding just
    /// those keys of the scenario file (absent tables are absent keys, so make each field an
    /// `Option` or `#[serde(default)]`). Mark the table types `#[serde(deny_unknown_fields)]`
    /// so a typo is an error with a "did you mean" hint, located in the file.
    type Tables: DeserializeOwned + Default;

    /// Apply defaults and check values for a cluster of `nodes` participants. A
    /// [`FieldError`]'s field is the dotted path from the root of the file (`lease.ttl`;
    /// [`FieldError::within`] prefixes a table name), so electsim can point at the line.
    ///
    /// Every registered algorithm's tables are validated for every scenario, whichever
    /// algorithm it selects, so a bad value is caught even in a table a sweep axis only
    /// sometimes uses.
    fn config(tables: Self::Tables, nodes: u32) -> Result<Self::Config, FieldError>;
}

/// The safety properties an algorithm claims, for `explore --property`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Claims {
    /// At most one node is ever leader in a term/epoch (Raft's Election Safety; the epoch
    /// of a coordination-service recipe). Bully and Ring do not claim it: a restarted node
    /// may reuse an epoch.
    pub one_leader_per_term: bool,
    /// Leaders hold leases at a coordination service, so `lease_overlap` means something.
    pub leases: bool,
}

impl Claims {
    /// Claims nothing beyond what every algorithm is judged on (split brain, invariants,
    /// liveness).
    pub const NONE: Claims = Claims {
        one_leader_per_term: false,
        leases: false,
    };
}

/// A documented parameter, for `electsim list` and the README.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// Dotted scenario key, e.g. `raft.heartbeat`.
    pub key: &'static str,
    /// The default as it would be written in a scenario file, e.g. `"50ms"`.
    pub default: &'static str,
    /// What it does, in one line.
    pub doc: &'static str,
}

static INSTALLED: OnceLock<Arc<Registry>> = OnceLock::new();

/// Make `registry` the process-wide registry: call it once, at start-up, before anything
/// reads a scenario. Fails (handing the registry back) when a registry is already in use,
/// either installed before or defaulted to the built-ins by an earlier scenario read.
/// [`crate::cli::main_with`] calls it for you.
pub fn install(registry: Registry) -> Result<(), Registry> {
    let mut slot = Some(registry);
    INSTALLED.get_or_init(|| Arc::new(slot.take().expect("taken once")));
    match slot {
        None => Ok(()),
        Some(r) => Err(r),
    }
}

/// The process-wide registry: the installed one, or the built-ins when none was installed
/// (which fixes it: a later [`install`] fails).
pub fn registry() -> Arc<Registry> {
    INSTALLED
        .get_or_init(|| Arc::new(Registry::builtin()))
        .clone()
}
