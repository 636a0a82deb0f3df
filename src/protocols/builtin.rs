//! The built-in algorithms as [`Algorithm`]s: the same public trait a user's algorithm
//! implements. Each names its scenario tables, validates them with the table's own
//! `validate`, and says which safety properties it claims. They are listed once, in
//! [`Registry::builtin`](crate::plugin::Registry::builtin).

use super::{bully, coordinator, etcd, raft, ring, zookeeper};
use crate::field_error::FieldError;
use crate::plugin::{Algorithm, Claims};
use serde::Deserialize;

/// Scenario tables of Bully: `[bully]`.
#[derive(Debug, Default, Deserialize)]
pub struct BullyTables {
    /// `[bully]`.
    pub bully: Option<bully::RawBully>,
}

impl Algorithm for bully::Bully {
    const NAME: &'static str = "bully";
    const SUMMARY: &'static str =
        "Garcia-Molina's Bully: highest live id wins (optional quorum guard)";
    const PARAMS: &'static [super::Param] = bully::PARAMS;
    const TABLES: &'static [&'static str] = &["bully"];
    type Tables = BullyTables;
    fn config(t: BullyTables, nodes: u32) -> Result<bully::BullyConfig, FieldError> {
        let raw = t.bully.unwrap_or_default();
        raw.validate(nodes).map_err(|e| e.within("bully"))
    }
}

/// Scenario tables of Ring: `[ring]`.
#[derive(Debug, Default, Deserialize)]
pub struct RingTables {
    /// `[ring]`.
    pub ring: Option<ring::RawRing>,
}

impl Algorithm for ring::Ring {
    const NAME: &'static str = "ring";
    const SUMMARY: &'static str = "Chang-Roberts on a logical ring (LeLann variant available)";
    const PARAMS: &'static [super::Param] = ring::PARAMS;
    const TABLES: &'static [&'static str] = &["ring"];
    type Tables = RingTables;
    fn config(t: RingTables, nodes: u32) -> Result<ring::RingConfig, FieldError> {
        let raw = t.ring.unwrap_or_default();
        raw.validate(nodes).map_err(|e| e.within("ring"))
    }
}

/// Scenario tables of Raft: `[raft]`.
#[derive(Debug, Default, Deserialize)]
pub struct RaftTables {
    /// `[raft]`.
    pub raft: Option<raft::RawRaft>,
}

impl Algorithm for raft::Raft {
    const NAME: &'static str = "raft";
    const SUMMARY: &'static str = "Raft leader election (pre-vote, check-quorum options)";
    const PARAMS: &'static [super::Param] = raft::PARAMS;
    const TABLES: &'static [&'static str] = &["raft"];
    const CLAIMS: Claims = Claims {
        one_leader_per_term: true,
        leases: false,
    };
    type Tables = RaftTables;
    fn config(t: RaftTables, nodes: u32) -> Result<raft::RaftConfig, FieldError> {
        let raw = t.raft.unwrap_or_default();
        raw.validate(nodes).map_err(|e| e.within("raft"))
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
