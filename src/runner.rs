//! One run of a scenario: pick the protocol, build the kernel config, run, report.

use crate::protocols::{Algorithm, ProtocolConfigs, bully, etcd, raft, ring, zookeeper};
use crate::scenario::Scenario;
use crate::sim::faults::expand_plan;
use crate::sim::rng::{SimRng, Stream};
use crate::sim::{Observer, Outcome, Protocol, Sim, SimConfig, SimError, SimTime};

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
    let plan = expand_plan(&sc.faults, &sc.random_faults, sc.nodes, end, &mut rng).map_err(RunError::Plan)?;
    Ok(SimConfig {
        nodes: sc.nodes,
        seed,
        end,
        max_events: sc.max_events,
        max_in_flight: sc.max_in_flight,
        network: sc.network.clone(),
        fsync: sc.fsync,
        clocks: sc.clocks.clone(),
        plan,
    })
}

/// Run `scenario` once with `seed`, with extra observers (trace exporters) attached.
pub fn run(sc: &Scenario, seed: u64, observers: Vec<Box<dyn Observer>>) -> Result<Outcome, RunError> {
    let cfg = sim_config(sc, seed)?;
    let p = &sc.protocols;
    let outcome = match sc.algorithm {
        Algorithm::Raft => Sim::<raft::Raft>::with_observers(cfg, p.raft.clone(), observers).run()?,
        Algorithm::Bully => Sim::<bully::Bully>::with_observers(cfg, p.bully.clone(), observers).run()?,
        Algorithm::Ring => Sim::<ring::Ring>::with_observers(cfg, p.ring.clone(), observers).run()?,
        Algorithm::Zookeeper => {
            Sim::<zookeeper::Zookeeper>::with_observers(cfg, p.zookeeper.clone(), observers).run()?
        }
        Algorithm::Etcd => Sim::<etcd::Etcd>::with_observers(cfg, p.etcd.clone(), observers).run()?,
    };
    Ok(outcome)
}
