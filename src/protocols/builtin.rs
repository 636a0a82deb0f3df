//! The built-in algorithms as [`Algorithm`]s: the same public trait a user's algorithm
//! implements. Each names its scenario tables, validates them with the table's own
//! `validate`, and says which safety properties it claims. They are listed once, in
//! [`Registry::builtin`](crate::plugin::Registry::builtin).

use super::{bully, coordinator, etcd, k8s, raft, raft_rs, ring, stabilizer, zookeeper};
use crate::field_error::FieldError;
use crate::plugin::{Algorithm, Claims};
use serde::Deserialize;

/// Scenario tables of Bully: `[bully]`.
#[derive(Debug, Default, Deserialize)]
pub struct BullyTables {
    /// `[bully]`.
    pub bully: Option<bully::RawBully>,
    /// `[stabilizer]`, shared by every algorithm.
    pub stabilizer: Option<stabilizer::RawStabilizer>,
}

impl Algorithm for bully::Bully {
    const NAME: &'static str = "bully";
    const SUMMARY: &'static str =
        "Garcia-Molina's Bully: highest live id wins (optional quorum guard)";
    const PARAMS: &'static [super::Param] = bully::PARAMS;
    const TABLES: &'static [&'static str] = &["bully", "stabilizer"];
    type Tables = BullyTables;
    fn config(t: BullyTables, nodes: u32) -> Result<bully::BullyConfig, FieldError> {
        let raw = t.bully.unwrap_or_default();
        let mut config = raw.validate(nodes).map_err(|e| e.within("bully"))?;
        config.stabilizer = stabilizer_config(t.stabilizer)?;
        Ok(config)
    }
}

/// Scenario tables of Ring: `[ring]`.
#[derive(Debug, Default, Deserialize)]
pub struct RingTables {
    /// `[ring]`.
    pub ring: Option<ring::RawRing>,
    /// `[stabilizer]`, shared by every algorithm.
    pub stabilizer: Option<stabilizer::RawStabilizer>,
}

impl Algorithm for ring::Ring {
    const NAME: &'static str = "ring";
    const SUMMARY: &'static str = "Chang-Roberts on a logical ring (LeLann variant available)";
    const PARAMS: &'static [super::Param] = ring::PARAMS;
    const TABLES: &'static [&'static str] = &["ring", "stabilizer"];
    type Tables = RingTables;
    fn config(t: RingTables, nodes: u32) -> Result<ring::RingConfig, FieldError> {
        let raw = t.ring.unwrap_or_default();
        let mut config = raw.validate(nodes).map_err(|e| e.within("ring"))?;
        config.stabilizer = stabilizer_config(t.stabilizer)?;
        Ok(config)
    }
}

/// Scenario tables of Raft: `[raft]`.
#[derive(Debug, Default, Deserialize)]
pub struct RaftTables {
    /// `[raft]`.
    pub raft: Option<raft::RawRaft>,
    /// `[stabilizer]`, shared by every algorithm.
    pub stabilizer: Option<stabilizer::RawStabilizer>,
}

impl Algorithm for raft::Raft {
    const NAME: &'static str = "raft";
    const SUMMARY: &'static str = "Raft leader election (pre-vote, check-quorum options)";
    const PARAMS: &'static [super::Param] = raft::PARAMS;
    const TABLES: &'static [&'static str] = &["raft", "stabilizer"];
    const CLAIMS: Claims = Claims {
        one_leader_per_term: true,
        leases: false,
    };
    type Tables = RaftTables;
    fn config(t: RaftTables, nodes: u32) -> Result<raft::RaftConfig, FieldError> {
        let raw = t.raft.unwrap_or_default();
        let mut config = raw.validate(nodes).map_err(|e| e.within("raft"))?;
        config.stabilizer = stabilizer_config(t.stabilizer)?;
        Ok(config)
    }
}

/// Scenario tables of raft-rs: `[raft-rs]`.
#[derive(Debug, Default, Deserialize)]
pub struct RaftRsTables {
    /// `[raft-rs]`.
    #[serde(rename = "raft-rs")]
    pub raft_rs: Option<raft_rs::RawRaftRs>,
}

impl Algorithm for raft_rs::RaftRs {
    const NAME: &'static str = "raft-rs";
    const SUMMARY: &'static str =
        "tikv/raft-rs 0.7 (production etcd-raft port) unmodified, one RawNode per node";
    const PARAMS: &'static [super::Param] = raft_rs::PARAMS;
    const TABLES: &'static [&'static str] = &["raft-rs"];
    const CLAIMS: Claims = Claims {
        one_leader_per_term: true,
        leases: false,
    };
    type Tables = RaftRsTables;
    fn config(t: RaftRsTables, _nodes: u32) -> Result<raft_rs::RaftRsConfig, FieldError> {
        let raw = t.raft_rs.unwrap_or_default();
        raw.validate().map_err(|e| e.within("raft-rs"))
    }
}

/// Scenario tables of the ZooKeeper recipe: `[zookeeper]` and the shared `[service]`.
#[derive(Debug, Default, Deserialize)]
pub struct ZookeeperTables {
    /// `[zookeeper]`.
    pub zookeeper: Option<zookeeper::RawZookeeper>,
    /// `[service]`, shared with etcd.
    pub service: Option<coordinator::RawService>,
}

/// The service recipes claim one holder per epoch (sequence number or create revision) and
/// hold leases.
const RECIPE_CLAIMS: Claims = Claims {
    one_leader_per_term: true,
    leases: true,
};

/// `[service]`, validated (shared by both recipes).
fn service(raw: Option<coordinator::RawService>) -> Result<coordinator::ServiceConfig, FieldError> {
    raw.unwrap_or_default()
        .validate()
        .map_err(|e| e.within("service"))
}

impl Algorithm for zookeeper::Zookeeper {
    const NAME: &'static str = "zookeeper";
    const SUMMARY: &'static str = "ZooKeeper ephemeral-sequential recipe on a simulated service";
    const PARAMS: &'static [super::Param] = zookeeper::PARAMS;
    const TABLES: &'static [&'static str] = &["zookeeper", "service"];
    const CLAIMS: Claims = RECIPE_CLAIMS;
    type Tables = ZookeeperTables;
    fn config(t: ZookeeperTables, nodes: u32) -> Result<zookeeper::ZookeeperConfig, FieldError> {
        let service = service(t.service)?;
        let raw = t.zookeeper.unwrap_or_default();
        raw.validate(nodes, &service)
            .map_err(|e| e.within("zookeeper"))
    }
}

/// Scenario tables of the etcd recipe: `[etcd]` and the shared `[service]`.
#[derive(Debug, Default, Deserialize)]
pub struct EtcdTables {
    /// `[etcd]`.
    pub etcd: Option<etcd::RawEtcd>,
    /// `[service]`, shared with ZooKeeper.
    pub service: Option<coordinator::RawService>,
}

impl Algorithm for etcd::Etcd {
    const NAME: &'static str = "etcd";
    const SUMMARY: &'static str = "etcd lease + create-revision recipe on a simulated service";
    const PARAMS: &'static [super::Param] = etcd::PARAMS;
    const TABLES: &'static [&'static str] = &["etcd", "service"];
    const CLAIMS: Claims = RECIPE_CLAIMS;
    type Tables = EtcdTables;
    fn config(t: EtcdTables, nodes: u32) -> Result<etcd::EtcdConfig, FieldError> {
        let service = service(t.service)?;
        let raw = t.etcd.unwrap_or_default();
        raw.validate(nodes, &service).map_err(|e| e.within("etcd"))
    }
}

/// The `[stabilizer]` table (shared by every algorithm that starts elections on its own
/// suspicion: Bully, Ring, Raft). The recipes take over only on positive knowledge that the
/// leader is gone, so the table is accepted for them and has no effect.
fn stabilizer_config(
    raw: Option<stabilizer::RawStabilizer>,
) -> Result<stabilizer::StabilizerConfig, FieldError> {
    raw.unwrap_or_default()
        .validate()
        .map_err(|e| e.within("stabilizer"))
}

/// The scenario tables of the Kubernetes Lease lock.
#[derive(Debug, Default, Deserialize)]
pub struct K8sTables {
    /// `[k8s]`: lease duration, renew deadline, retry period.
    pub k8s: Option<k8s::RawK8s>,
    /// `[service]`: the coordination service standing in for the API server.
    pub service: Option<coordinator::RawService>,
}

impl Algorithm for k8s::K8s {
    const NAME: &'static str = "k8s";
    const SUMMARY: &'static str = "Kubernetes Lease lock (client-go leaderelection) on a simulated service \
         (client-go's 15s/10s/2s; the matrix runs it scaled to 1.5s/1s/200ms)";
    const PARAMS: &'static [super::Param] = k8s::PARAMS;
    const TABLES: &'static [&'static str] = &["k8s", "service"];
    const CLAIMS: Claims = RECIPE_CLAIMS;
    type Tables = K8sTables;
    fn config(t: K8sTables, _nodes: u32) -> Result<k8s::K8sConfig, FieldError> {
        let service = service(t.service)?;
        let raw = t.k8s.unwrap_or_default();
        raw.validate(&service).map_err(|e| e.within("k8s"))
    }
}
