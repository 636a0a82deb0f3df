//! One run of a scenario: pick the protocol, build the kernel config, run, report.

use crate::protocols::{Algorithm, ProtocolConfigs, bully, etcd, raft, ring, zookeeper};
use crate::scenario::{Assignment, Scenario};
use crate::sim::faults::expand_plan;
use crate::sim::rng::{SimRng, Stream};
use crate::sim::{Observer, Outcome, Protocol, Sim, SimConfig, SimError, SimTime};
use std::path::Path;

/// Coordination-service replicas the algorithm adds beyond the participants.
pub fn service_nodes(algorithm: Algorithm, p: &ProtocolConfigs) -> u32 {
    match algorithm {
        Algorithm::Zookeeper => zookeeper::Zookeeper::service_nodes(&p.zookeeper),
        Algorithm::Etcd => etcd::Etcd::service_nodes(&p.etcd),
        _ => 0,
    }
}

/// Why a run did not produce an outcome.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The kernel stopped the run (event or in-flight limit).
    #[error(transparent)]
    Sim(#[from] SimError),
    /// The fault plan could not be expanded (e.g. it exceeds its size bound).
    #[error("fault plan: {0}")]
    Plan(String),
}

/// Kernel settings for `scenario` with run seed `seed` (the fault plan is expanded here,
/// from the seed's fault stream).
pub fn sim_config(sc: &Scenario, seed: u64) -> Result<SimConfig, RunError> {
    let end = SimTime::ZERO + sc.duration;
    let mut rng = SimRng::new(seed, Stream::Faults);
    let plan = expand_plan(&sc.faults, &sc.random_faults, sc.nodes, end, &mut rng)
        .map_err(RunError::Plan)?;
    Ok(SimConfig {
        nodes: sc.nodes,
        seed,
        end,
        max_events: sc.max_events,
        max_in_flight: sc.max_in_flight,
        network: sc.network.clone(),
        resources: sc.resources.clone(),
        clocks: sc.clocks.clone(),
        plan,
    })
}

/// Run `scenario` once with `seed`, with extra observers (trace exporters) attached.
pub fn run(
    sc: &Scenario,
    seed: u64,
    observers: Vec<Box<dyn Observer>>,
) -> Result<Outcome, RunError> {
    let cfg = sim_config(sc, seed)?;
    let p = &sc.protocols;
    let outcome = match sc.algorithm {
        Algorithm::Raft => {
            Sim::<raft::Raft>::with_observers(cfg, p.raft.clone(), observers).run()?
        }
        Algorithm::Bully => {
            Sim::<bully::Bully>::with_observers(cfg, p.bully.clone(), observers).run()?
        }
        Algorithm::Ring => {
            Sim::<ring::Ring>::with_observers(cfg, p.ring.clone(), observers).run()?
        }
        Algorithm::Zookeeper => {
            Sim::<zookeeper::Zookeeper>::with_observers(cfg, p.zookeeper.clone(), observers)
                .run()?
        }
        Algorithm::Etcd => {
            Sim::<etcd::Etcd>::with_observers(cfg, p.etcd.clone(), observers).run()?
        }
    };
    Ok(outcome)
}

/// A running simulation of any algorithm, for interactive drivers (golden scripts, tests).
pub trait DynSim {
    /// Current virtual time.
    fn now(&self) -> SimTime;
    /// Number of participants.
    fn nodes(&self) -> u32;
    /// Participants plus service replicas.
    fn total_nodes(&self) -> u32;
    /// What `node` believes about itself.
    fn status(&self, node: crate::sim::NodeId) -> crate::sim::NodeStatus;
    /// Whether `node` is inside a pause fault.
    fn is_paused(&self, node: crate::sim::NodeId) -> bool;
    /// The live leader with the highest term (lowest id on ties), if any.
    fn current_leader(&self) -> Option<crate::sim::NodeId>;
    /// Process every event before `t`, then move the clock to `t`.
    fn run_until(&mut self, t: SimTime) -> Result<(), SimError>;
    /// Apply a fault now (targets like `leader` are resolved against the current state).
    fn apply_fault(&mut self, action: crate::sim::FaultAction);
    /// Metrics so far, closing open intervals at `now` (the simulation is left unchanged).
    fn metrics_now(&self) -> crate::sim::metrics::RunMetrics;
    /// Close the run at its end time and compute the outcome.
    fn finish(&mut self) -> Outcome;
}

impl<P: Protocol> DynSim for Sim<P> {
    fn now(&self) -> SimTime {
        Sim::now(self)
    }
    fn nodes(&self) -> u32 {
        Sim::nodes(self)
    }
    fn total_nodes(&self) -> u32 {
        Sim::total_nodes(self)
    }
    fn status(&self, node: crate::sim::NodeId) -> crate::sim::NodeStatus {
        Sim::status(self, node)
    }
    fn is_paused(&self, node: crate::sim::NodeId) -> bool {
        Sim::is_paused(self, node)
    }
    fn current_leader(&self) -> Option<crate::sim::NodeId> {
        Sim::current_leader(self)
    }
    fn run_until(&mut self, t: SimTime) -> Result<(), SimError> {
        Sim::run_until(self, t)
    }
    fn apply_fault(&mut self, action: crate::sim::FaultAction) {
        Sim::apply_fault(self, action)
    }
    fn metrics_now(&self) -> crate::sim::metrics::RunMetrics {
        Sim::metrics_now(self)
    }
    fn finish(&mut self) -> Outcome {
        Sim::finish(self)
    }
}

/// Build (and boot) a simulation of `scenario` without running it.
pub fn build(
    sc: &Scenario,
    seed: u64,
    observers: Vec<Box<dyn Observer>>,
) -> Result<Box<dyn DynSim>, RunError> {
    let cfg = sim_config(sc, seed)?;
    let p = &sc.protocols;
    Ok(match sc.algorithm {
        Algorithm::Raft => Box::new(Sim::<raft::Raft>::with_observers(
            cfg,
            p.raft.clone(),
            observers,
        )),
        Algorithm::Bully => Box::new(Sim::<bully::Bully>::with_observers(
            cfg,
            p.bully.clone(),
            observers,
        )),
        Algorithm::Ring => Box::new(Sim::<ring::Ring>::with_observers(
            cfg,
            p.ring.clone(),
            observers,
        )),
        Algorithm::Zookeeper => Box::new(Sim::<zookeeper::Zookeeper>::with_observers(
            cfg,
            p.zookeeper.clone(),
            observers,
        )),
        Algorithm::Etcd => Box::new(Sim::<etcd::Etcd>::with_observers(
            cfg,
            p.etcd.clone(),
            observers,
        )),
    })
}

/// Quote a shell word if needed (for replay commands).
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The `electsim run` command that reproduces a run of `path` with these assignments and seed.
pub fn replay_command(path: &Path, sets: &[Assignment], seed: u64) -> String {
    let mut cmd = format!("electsim run {}", shell_quote(&path.display().to_string()));
    for a in sets {
        // A string is written bare when it reads back as the same string (`10s`, `raft`);
        // otherwise (`"1"`, `"true"`) it keeps its TOML quotes so the replay is exact.
        let v = match &a.value {
            toml::Value::String(s) if crate::scenario::parse_value(s) == a.value => s.clone(),
            other => other.to_string(),
        };
        cmd.push_str(&format!(
            " --set {}",
            shell_quote(&format!("{}={v}", a.key))
        ));
    }
    cmd.push_str(&format!(" --seed {seed}"));
    cmd
}
