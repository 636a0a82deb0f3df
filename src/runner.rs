//! One run of a scenario: pick the protocol, build the kernel config, run, report.

use crate::protocols::{Algorithm, ProtocolConfigs, bully, etcd, k8s, raft, ring, zookeeper};
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
        Algorithm::K8s => k8s::K8s::service_nodes(&p.k8s),
        _ => 0,
    }
}

/// Why a run did not produce an outcome.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Sim(#[from] SimError),
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
        Algorithm::K8s => Sim::<k8s::K8s>::with_observers(cfg, p.k8s.clone(), observers).run()?,
    };
    Ok(outcome)
}

/// A running simulation of any algorithm, for interactive drivers (golden scripts, tests).
pub trait DynSim {
    fn now(&self) -> SimTime;
    fn nodes(&self) -> u32;
    fn total_nodes(&self) -> u32;
    fn status(&self, node: crate::sim::NodeId) -> crate::sim::NodeStatus;
    fn is_paused(&self, node: crate::sim::NodeId) -> bool;
    fn current_leader(&self) -> Option<crate::sim::NodeId>;
    /// Process every event before `t`, then move the clock to `t`.
    fn run_until(&mut self, t: SimTime) -> Result<(), SimError>;
    fn apply_fault(&mut self, action: crate::sim::FaultAction);
    /// Metrics so far, closing open intervals at `now` (the simulation is left unchanged).
    fn metrics_now(&self) -> crate::sim::metrics::RunMetrics;
    fn finish(&mut self) -> Outcome;
    /// Invariant violations so far.
    fn violations(&self) -> Vec<crate::sim::invariants::Violation>;
    /// Held mode: the waiting messages as `(from, to, message as {:?})`, oldest first.
    fn held_messages(&self) -> Vec<(crate::sim::NodeId, crate::sim::NodeId, String)>;
    /// Held mode: a live node's pending timers as `(key as {:?}, deadline)`.
    fn held_timers(&self, node: crate::sim::NodeId) -> Vec<(String, SimTime)>;
    /// Held mode: release the oldest message `from -> to` whose `{:?}` text is `msg`
    /// (whitespace-insensitive). False when there is none.
    fn release_held(
        &mut self,
        from: crate::sim::NodeId,
        to: crate::sim::NodeId,
        msg: &str,
        how: crate::sim::Release,
    ) -> bool;
    /// Held mode: fire the timer of `node` whose key's `{:?}` text is `timer`.
    fn fire_held(&mut self, node: crate::sim::NodeId, timer: &str) -> bool;
}

/// Whitespace-normalised text, for matching `{:?}` renderings written into scripts.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
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
    fn violations(&self) -> Vec<crate::sim::invariants::Violation> {
        Sim::violations(self).to_vec()
    }
    fn held_messages(&self) -> Vec<(crate::sim::NodeId, crate::sim::NodeId, String)> {
        Sim::held_messages(self)
            .into_iter()
            .map(|(f, t, m)| (f, t, format!("{m:?}")))
            .collect()
    }
    fn held_timers(&self, node: crate::sim::NodeId) -> Vec<(String, SimTime)> {
        Sim::held_timers(self, node)
            .into_iter()
            .map(|(k, d)| (format!("{k:?}"), d))
            .collect()
    }
    fn release_held(
        &mut self,
        from: crate::sim::NodeId,
        to: crate::sim::NodeId,
        msg: &str,
        how: crate::sim::Release,
    ) -> bool {
        let want = squash(msg);
        Sim::release_held(self, from, to, |m| squash(&format!("{m:?}")) == want, how)
    }
    fn fire_held(&mut self, node: crate::sim::NodeId, timer: &str) -> bool {
        let want = squash(timer);
        Sim::fire_held(self, node, |k| squash(&format!("{k:?}")) == want)
    }
}

/// Build (and boot) a simulation of `scenario` without running it.
pub fn build(
    sc: &Scenario,
    seed: u64,
    observers: Vec<Box<dyn Observer>>,
) -> Result<Box<dyn DynSim>, RunError> {
    build_with(sc, seed, observers, false)
}

/// Build (and boot) a simulation in held mode (see [`Sim::with_observers_held`]).
pub fn build_held(
    sc: &Scenario,
    seed: u64,
    observers: Vec<Box<dyn Observer>>,
) -> Result<Box<dyn DynSim>, RunError> {
    build_with(sc, seed, observers, true)
}

fn build_with(
    sc: &Scenario,
    seed: u64,
    observers: Vec<Box<dyn Observer>>,
    held: bool,
) -> Result<Box<dyn DynSim>, RunError> {
    fn make<P: Protocol + 'static>(
        cfg: SimConfig,
        pcfg: P::Config,
        observers: Vec<Box<dyn Observer>>,
        held: bool,
    ) -> Box<dyn DynSim> {
        if held {
            Box::new(Sim::<P>::with_observers_held(cfg, pcfg, observers))
        } else {
            Box::new(Sim::<P>::with_observers(cfg, pcfg, observers))
        }
    }
    let cfg = sim_config(sc, seed)?;
    let p = &sc.protocols;
    Ok(match sc.algorithm {
        Algorithm::Raft => make::<raft::Raft>(cfg, p.raft.clone(), observers, held),
        Algorithm::Bully => make::<bully::Bully>(cfg, p.bully.clone(), observers, held),
        Algorithm::Ring => make::<ring::Ring>(cfg, p.ring.clone(), observers, held),
        Algorithm::Zookeeper => {
            make::<zookeeper::Zookeeper>(cfg, p.zookeeper.clone(), observers, held)
        }
        Algorithm::Etcd => make::<etcd::Etcd>(cfg, p.etcd.clone(), observers, held),
        Algorithm::K8s => make::<k8s::K8s>(cfg, p.k8s.clone(), observers, held),
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
