//! The simulated coordination service shared by the ZooKeeper and etcd recipes, and the
//! contender (client) state machine both recipes run on top of it.
//!
//! **The service** holds sessions (ZooKeeper sessions / etcd leases), keys under one election
//! prefix ordered by a global revision (ZooKeeper's sequence number / etcd's create
//! revision), one-shot watches, and the "protected resource" the leader acts on. Sessions
//! expire on the service's own clock `ttl` after the last ping. With `replicas = 1` the
//! service is one node and every request is answered at once. With `replicas = 3 | 5` the
//! replicas embed [`Raft`] for leadership; the Raft leader becomes the *primary* after a
//! recovery round (it collects the store from a majority and adopts the newest), and every
//! reply it sends — reads and pings included — waits until a majority has acknowledged the
//! store that produced it. A deposed primary that cannot reach a majority therefore answers
//! nothing: the service is linearizable and unavailable without a majority. On takeover a
//! new primary restarts every session's expiry clock (as ZooKeeper and etcd's lessor do).
//!
//! **The contender** opens a session, creates its key, lists the prefix, and either leads
//! (smallest revision) or watches the next-lower key (or, with `herd`, the whole prefix).
//! Its status follows the documented mapping (see `docs/recipes-zookeeper-etcd.md`).

use crate::field_error::FieldError;
use crate::protocols::Param;
use crate::protocols::raft::{Raft, RaftConfig, RaftDurable, RaftMsg, RawRaft};
use crate::sim::{
    Ctx, Delay, Effect, Message, MsgClass, NodeId, NodeStatus, Out, Protocol, Role, SimDuration,
    SimTime, TimerKey,
};
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------- configuration

/// The coordination service (scenario table `[service]`).
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceConfig {
    /// Replicas: 1 (a single server) or 3 / 5 (a Raft-led group). Default 1.
    pub replicas: u32,
    /// Raft timing of the replica group (pre-vote and check-quorum on).
    pub raft: RaftConfig,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            replicas: 1,
            raft: RaftConfig {
                pre_vote: true,
                check_quorum: true,
                ..RaftConfig::default()
            },
        }
    }
}

/// Parameters of the `[service]` table (listed under both recipes).
pub const SERVICE_PARAMS: [Param; 3] = [
    Param {
        key: "service.replicas",
        default: "1",
        doc: "coordination-service replicas: 1, 3 or 5 (a Raft-led group needing a majority)",
    },
    Param {
        key: "service.election_timeout",
        default: "[\"150ms\", \"300ms\"]",
        doc: "Raft election timeout of the replica group",
    },
    Param {
        key: "service.heartbeat",
        default: "\"50ms\"",
        doc: "Raft heartbeat of the replica group",
    },
];

/// The `[service]` table as written.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    /// `service.replicas`: see [`ServiceConfig::replicas`].
    pub replicas: Option<i64>,
    /// `service.election_timeout` as `[min, max]`: the replica group's Raft election timeout.
    pub election_timeout: Option<[SimDuration; 2]>,
    /// `service.heartbeat`: the replica group's Raft heartbeat interval.
    pub heartbeat: Option<SimDuration>,
}

impl RawService {
    /// Apply defaults and check values; field paths are relative to `[service]`.
    pub fn validate(&self) -> Result<ServiceConfig, FieldError> {
        let replicas = self.replicas.unwrap_or(1);
        if ![1, 3, 5].contains(&replicas) {
            return Err(FieldError::new(
                "replicas",
                replicas,
                "1, 3 or 5 (a replicated service needs an odd majority)",
            ));
        }
        let raft = RawRaft {
            election_timeout: self.election_timeout,
            heartbeat: self.heartbeat,
            pre_vote: Some(true),
            check_quorum: Some(true),
            ..RawRaft::default()
        }
        .validate(replicas as u32)?;
        Ok(ServiceConfig {
            replicas: replicas as u32,
            raft,
        })
    }
}

/// What a recipe asks of the shared client and service (derived from its own table).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RecipeConfig {
    /// Session timeout / lease TTL, judged by the service on its clock.
    pub ttl: SimDuration,
    /// Ping / keepalive interval (ttl / 3) and request retry interval.
    pub ping_interval: SimDuration,
    /// Watch the whole prefix instead of the next-lower key.
    pub herd: bool,
    /// The contender stops leading when `ttl` passed on its own clock since the service last
    /// confirmed its session.
    pub client_deadline: bool,
    /// The service rejects actions whose token is not the current holder's revision.
    pub fencing: bool,
    /// How often the leader acts on the protected resource.
    pub action_interval: SimDuration,
}

/// Shared validation of the recipe tables: `ttl` and `action_interval` must be positive.
pub fn check_positive(field: &str, d: SimDuration) -> Result<SimDuration, FieldError> {
    if d.0 == 0 {
        return Err(FieldError::new(
            field,
            format!("\"{d}\""),
            "a positive duration",
        ));
    }
    Ok(d)
}

/// What a handler sees: the engine's context, flattened for both recipes.
#[derive(Clone, Copy, Debug)]
pub struct Env<'a> {
    /// The node the handler runs on.
    pub id: NodeId,
    /// Number of contenders (`0..nodes`).
    pub nodes: u32,
    /// Number of service replicas (`nodes..nodes + replicas`).
    pub replicas: u32,
    /// The node's own clock reading.
    pub now: SimTime,
    /// The recipe's parameters (ZooKeeper or etcd flavour).
    pub recipe: RecipeConfig,
    /// The service's configuration.
    pub service: &'a ServiceConfig,
}

impl Env<'_> {
    /// Flatten an engine context plus the recipe's two configurations.
    pub fn from_ctx<'a, C>(
        ctx: &Ctx<'_, C>,
        recipe: RecipeConfig,
        service: &'a ServiceConfig,
    ) -> Env<'a> {
        Env {
            id: ctx.id,
            nodes: ctx.nodes,
            replicas: ctx.service.max(1),
            now: ctx.now,
            recipe,
            service,
        }
    }
    fn majority(&self) -> usize {
        self.replicas as usize / 2 + 1
    }
    fn replica_id(&self, index: u32) -> NodeId {
        self.nodes + index
    }
}

// ---------------------------------------------------------------- messages and timers

/// Revision-ordered entries of the election prefix: (create revision, owner).
pub type Entries = Vec<(u64, NodeId)>;

/// The part of the election prefix's children list a client reads (see [`Store::view`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ListView {
    /// The smallest key and its owner: the holder.
    pub holder: Option<(u64, NodeId)>,
    /// The asking session's own key, if it has one.
    pub own: Option<u64>,
    /// The largest key below `own`: the one to watch.
    pub predecessor: Option<u64>,
}

impl ListView {
    /// The view of `entries` for a session whose key is `own` (tests build replies so).
    pub fn of(entries: &[(u64, NodeId)], own: Option<u64>) -> ListView {
        let own = own.filter(|k| entries.iter().any(|e| e.0 == *k));
        ListView {
            holder: entries.iter().min().copied(),
            own,
            predecessor: own.and_then(|k| entries.iter().map(|e| e.0).filter(|&p| p < k).max()),
        }
    }
}
/// Version of a replica's store: (primary epoch, replication round).
pub type Stamp = (u64, u64);

/// Every message of both recipes; each recipe names the kinds in its own vocabulary.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Wire {
    /// Open a session / grant a lease. `nonce` makes retries idempotent.
    Open {
        /// Client-chosen number identifying this open, so a retried open gets the same session.
        nonce: u64,
    },
    /// Reply to `Open`: the session / lease was granted.
    Opened {
        /// The `nonce` of the `Open` answered.
        nonce: u64,
        /// The granted session / lease id.
        session: u64,
    },
    /// Session ping / lease keepalive.
    Ping {
        /// The session kept alive.
        session: u64,
    },
    /// Ping answer; `holder` is the current leader contender (the smallest key's owner).
    Pong {
        /// The session pinged.
        session: u64,
        /// Owner of the smallest key, if any.
        holder: Option<NodeId>,
    },
    /// Create the session's key under the prefix (idempotent per session).
    Create {
        /// The creating session.
        session: u64,
    },
    /// Reply to `Create`: the session's key exists.
    Created {
        /// The creating session.
        session: u64,
        /// The key's create revision (ZooKeeper sequence number, etcd create revision).
        rev: u64,
    },
    /// List the prefix; `watch` also sets a one-shot watch on the whole prefix.
    List {
        /// The listing session.
        session: u64,
        /// Also set a one-shot watch on the whole prefix (the `herd` recipe).
        watch: bool,
    },
    /// Reply to `List`: the prefix as the session sees it.
    Children {
        /// The listing session.
        session: u64,
        /// Holder, own key and predecessor.
        view: ListView,
    },
    /// Watch one key for deletion (ZooKeeper `exists(watch)`, etcd watch).
    WatchKey {
        /// The watching session.
        session: u64,
        /// The key to watch.
        key: u64,
    },
    /// Reply to `WatchKey`.
    WatchArmed {
        /// The watching session.
        session: u64,
        /// The key watched.
        key: u64,
        /// Whether the key existed; if not, no watch was set (the client lists again).
        exists: bool,
    },
    /// A watch fired: `Some(key)` deleted, or `None` the prefix changed.
    Notify {
        /// The session whose watch fired.
        session: u64,
        /// The deleted key, or `None` for a prefix change.
        key: Option<u64>,
    },
    /// The session / lease does not exist (any more).
    Expired {
        /// The expired (or unknown) session.
        session: u64,
    },
    /// The leader acts on the protected resource, carrying its revision as token.
    Action {
        /// The acting session.
        session: u64,
        /// The fencing token: the revision of the actor's key.
        token: u64,
    },
    /// Action by the current holder, applied.
    ActionOk {
        /// The token of the action.
        token: u64,
    },
    /// Action by a non-holder, applied anyway (no fencing): a stale write got through.
    StaleAccepted {
        /// The token of the action.
        token: u64,
    },
    /// Action by a non-holder, refused by the fencing check.
    StaleRejected {
        /// The token of the action.
        token: u64,
    },
    /// This replica is not the primary; `hint` is the replica it believes leads.
    NotPrimary {
        /// The replica believed to be primary, if known.
        hint: Option<NodeId>,
    },
    /// Raft traffic between replicas (leadership of the replica group).
    Raft(RaftMsg),
    /// Primary -> replica: the store as of `stamp`, in replication round `round`.
    Replicate {
        /// The sending primary's epoch; replicas ignore epochs below the one they promised.
        epoch: u64,
        /// Replication round, to match acks to this send.
        round: u64,
        /// Version of the store sent.
        stamp: Stamp,
        /// The whole store (state transfer, not a log).
        store: Box<Store>,
    },
    /// Replica -> primary: the store of `round` is applied.
    ReplicateAck {
        /// The primary's epoch acknowledged.
        epoch: u64,
        /// The round acknowledged.
        round: u64,
    },
    /// New primary -> replica: promise `epoch` and send your store.
    Recover {
        /// The epoch the new primary asks replicas to promise.
        epoch: u64,
    },
    /// Replica -> new primary: its store, for recovery of the latest version.
    RecoverReply {
        /// The epoch promised.
        epoch: u64,
        /// Version of the store sent.
        stamp: Stamp,
        /// The replica's whole store.
        store: Box<Store>,
    },
    /// Lease lock (`k8s` only): read the Lease object. `req` matches the answer.
    LeaseGet {
        /// Request id, echoed in `LeaseGot` to match the answer to its request.
        req: u64,
    },
    /// The Lease object, or `None` (404 NotFound).
    LeaseGot {
        /// The request answered.
        req: u64,
        /// The stored Lease with its `resourceVersion`, or `None` when it does not exist.
        lease: Option<StoredLease>,
    },
    /// Write the Lease if its `resourceVersion` is `expected` (`None`: create). `acquire`
    /// marks a write that names a new holder (an election) rather than a renewal.
    LeaseUpdate {
        /// Request id, echoed in the answer.
        req: u64,
        /// The `resourceVersion` the write requires; `None` creates the Lease.
        expected: Option<u64>,
        /// The record to store.
        record: LeaseRecord,
        /// The write names a new holder: election traffic rather than a heartbeat (see
        /// [`Wire::class`]).
        acquire: bool,
    },
    /// The write was applied; `version` is the new `resourceVersion`.
    LeaseUpdated {
        /// The request answered.
        req: u64,
        /// The Lease's new `resourceVersion` (the store revision of this write).
        version: u64,
        /// Echoed from the request, so the answer is classed like it.
        acquire: bool,
    },
    /// The write was refused: the version did not match (409 Conflict / AlreadyExists).
    LeaseConflict {
        /// The request answered.
        req: u64,
        /// Echoed from the request, so the answer is classed like it.
        acquire: bool,
    },
}

/// Number of message kinds the ZooKeeper and etcd recipes name ([`Wire::kind`] indexes
/// `0..WIRE_KINDS` for every message they send).
pub const WIRE_KINDS: usize = 27;
/// Number of message kinds including the Lease-lock kinds (`27..`), which only the `k8s`
/// recipe sends and names.
pub const LEASE_WIRE_KINDS: usize = 32;

impl Wire {
    /// Index into a recipe's `KINDS` table (Raft kinds occupy 17..23).
    pub fn kind(&self) -> usize {
        match self {
            Wire::Open { .. } => 0,
            Wire::Opened { .. } => 1,
            Wire::Ping { .. } => 2,
            Wire::Pong { .. } => 3,
            Wire::Create { .. } => 4,
            Wire::Created { .. } => 5,
            Wire::List { .. } => 6,
            Wire::Children { .. } => 7,
            Wire::WatchKey { .. } => 8,
            Wire::WatchArmed { .. } => 9,
            Wire::Notify { .. } => 10,
            Wire::Expired { .. } => 11,
            Wire::Action { .. } => 12,
            Wire::ActionOk { .. } => 13,
            Wire::StaleAccepted { .. } => 14,
            Wire::StaleRejected { .. } => 15,
            Wire::NotPrimary { .. } => 16,
            Wire::Raft(m) => 17 + m.kind(),
            Wire::Replicate { .. } => 23,
            Wire::ReplicateAck { .. } => 24,
            Wire::Recover { .. } => 25,
            Wire::RecoverReply { .. } => 26,
            Wire::LeaseGet { .. } => 27,
            Wire::LeaseGot { .. } => 28,
            Wire::LeaseUpdate { .. } => 29,
            Wire::LeaseUpdated { .. } => 30,
            Wire::LeaseConflict { .. } => 31,
        }
    }

    /// Election traffic is what contenders exchange with the service to find the leader;
    /// pings are heartbeats; actions and the replicas' own traffic are "other". Lease-lock
    /// polls and renewals are heartbeats; writes naming a new holder are election traffic.
    pub fn class(&self) -> MsgClass {
        match self {
            Wire::Ping { .. } | Wire::Pong { .. } => MsgClass::Heartbeat,
            Wire::LeaseGet { .. } | Wire::LeaseGot { .. } => MsgClass::Heartbeat,
            Wire::LeaseUpdate { acquire, .. }
            | Wire::LeaseUpdated { acquire, .. }
            | Wire::LeaseConflict { acquire, .. } => {
                if *acquire {
                    MsgClass::Election
                } else {
                    MsgClass::Heartbeat
                }
            }
            Wire::Open { .. }
            | Wire::Opened { .. }
            | Wire::Create { .. }
            | Wire::Created { .. }
            | Wire::List { .. }
            | Wire::Children { .. }
            | Wire::WatchKey { .. }
            | Wire::WatchArmed { .. }
            | Wire::Notify { .. }
            | Wire::Expired { .. } => MsgClass::Election,
            _ => MsgClass::Other,
        }
    }

    /// The term-like number the message carries, for traces: a key's revision, an action's
    /// token, a Raft term or a primary's epoch.
    pub fn term(&self) -> Option<u64> {
        match self {
            Wire::Created { rev, .. } => Some(*rev),
            Wire::LeaseUpdate { record, .. } => Some(record.leader_transitions + 1),
            Wire::Action { token, .. }
            | Wire::ActionOk { token }
            | Wire::StaleAccepted { token }
            | Wire::StaleRejected { token } => Some(*token),
            Wire::Raft(m) => m.term(),
            Wire::Replicate { epoch, .. }
            | Wire::ReplicateAck { epoch, .. }
            | Wire::Recover { epoch }
            | Wire::RecoverReply { epoch, .. } => Some(*epoch),
            _ => None,
        }
    }
}

/// Kind names of the replica group's Raft traffic (shared by both recipes' tables).
pub const RAFT_KIND_NAMES: [&str; 6] = [
    "ServiceRequestVote",
    "ServiceVoteResponse",
    "ServicePreVote",
    "ServicePreVoteResponse",
    "ServiceAppendEntries",
    "ServiceAppendResponse",
];

/// Number of session kinds ([`Wire::Open`] to [`Wire::Expired`], indices `0..12`): the
/// part of the wire every recipe names in its own vocabulary.
pub const SESSION_KINDS: usize = 12;

/// Names of kinds `12..WIRE_KINDS`, the same in every recipe: actions on the protected
/// resource, refusals by a non-primary, and the replicas' own traffic.
pub const SHARED_KIND_NAMES: [&str; WIRE_KINDS - SESSION_KINDS] = [
    "Action",
    "ActionAccepted",
    crate::sim::metrics::STALE_ACCEPTED_KIND,
    crate::sim::metrics::STALE_REJECTED_KIND,
    "NotLeader",
    RAFT_KIND_NAMES[0],
    RAFT_KIND_NAMES[1],
    RAFT_KIND_NAMES[2],
    RAFT_KIND_NAMES[3],
    RAFT_KIND_NAMES[4],
    RAFT_KIND_NAMES[5],
    "ServiceReplicate",
    "ServiceReplicateAck",
    "ServiceRecover",
    "ServiceRecoverReply",
];

/// A recipe's `KINDS` table: `head` followed by `tail` (e.g. its own session names and
/// [`SHARED_KIND_NAMES`]), checked at compile time to fill all `N` entries.
pub const fn kind_names<const N: usize>(
    head: &[&'static str],
    tail: &[&'static str],
) -> [&'static str; N] {
    assert!(
        head.len() + tail.len() == N,
        "a KINDS table names every kind once"
    );
    let mut names = [""; N];
    let mut i = 0;
    while i < head.len() {
        names[i] = head[i];
        i += 1;
    }
    while i < N {
        names[i] = tail[i - head.len()];
        i += 1;
    }
    names
}

/// Timers of contenders and replicas (both recipes use this type).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CoordTimer {
    /// Contender: resend the pending request.
    Retry,
    /// Contender: session ping / lease keepalive.
    Ping,
    /// Contender: the local estimate of session/lease expiry.
    Deadline,
    /// Contender (leader): act on the protected resource.
    Act,
    /// Replica (primary): expiry check of one session.
    Expire(u64),
    /// Replica: a timer of the embedded Raft node.
    Raft(crate::protocols::raft::RaftTimer),
}

impl TimerKey for CoordTimer {
    fn name(&self) -> &'static str {
        match self {
            CoordTimer::Retry => "retry",
            CoordTimer::Ping => "ping",
            CoordTimer::Deadline => "deadline",
            CoordTimer::Act => "act",
            CoordTimer::Expire(_) => "expire",
            CoordTimer::Raft(t) => match t {
                crate::protocols::raft::RaftTimer::Election => "service_election",
                crate::protocols::raft::RaftTimer::Heartbeat => "service_heartbeat",
                crate::protocols::raft::RaftTimer::CheckQuorum => "service_check_quorum",
            },
        }
    }
}

/// The protocol shape both recipes share.
pub trait Recipe: Protocol<Timer = CoordTimer, Durable = RaftDurable> {
    /// Wrap a coordination message into the recipe's message type.
    fn wrap(w: Wire) -> Self::Msg;
    /// The coordination message inside the recipe's message type.
    fn wire(msg: &Self::Msg) -> &Wire;
}

/// The glue every recipe needs between its message newtype over [`Wire`] and the engine:
/// `Message` for `$msg` (kind names from the recipe's own `$kinds` table; kind, class and
/// term from [`Wire`]) and `Recipe` for `$node` (wrapping a [`Wire`] into `$msg` and back).
///
/// Each recipe keeps its own message type (rather than one generic wrapper) because
/// `Message::KINDS` is per type and traces name the kinds from it; the type itself stays
/// declared in the recipe's file, next to its `KINDS` table.
macro_rules! recipe_message {
    ($msg:ident for $node:ty, kinds: $kinds:expr) => {
        impl $crate::sim::Message for $msg {
            const KINDS: &'static [&'static str] = &$kinds;
            fn kind(&self) -> usize {
                self.0.kind()
            }
            fn class(&self) -> $crate::sim::MsgClass {
                self.0.class()
            }
            fn term(&self) -> Option<u64> {
                self.0.term()
            }
        }

        impl $crate::protocols::coordinator::Recipe for $node {
            fn wrap(w: $crate::protocols::coordinator::Wire) -> $msg {
                $msg(w)
            }
            fn wire(msg: &$msg) -> &$crate::protocols::coordinator::Wire {
                &msg.0
            }
        }
    };
}
pub(crate) use recipe_message;

/// `Protocol` for a recipe node `$node(pub CoordNode)` whose handlers are all
/// [`CoordNode`]'s (contender in `client.rs`, replica in `service.rs`): ZooKeeper and etcd
/// differ only in their configuration `$config`, which must have a `recipe()` method and a
/// `service` field.
macro_rules! coord_node_protocol {
    ($node:ident, $msg:ty, $config:ty) => {
        impl $node {
            /// The handlers' view of the engine context.
            fn env<'a>(
                ctx: &$crate::sim::Ctx<'a, $config>,
            ) -> $crate::protocols::coordinator::Env<'a> {
                $crate::protocols::coordinator::Env::from_ctx(
                    ctx,
                    ctx.config.recipe(),
                    &ctx.config.service,
                )
            }
        }

        impl $crate::sim::Protocol for $node {
            type Msg = $msg;
            type Timer = $crate::protocols::coordinator::CoordTimer;
            type Durable = $crate::protocols::raft::RaftDurable;
            type Config = $config;

            fn boot(
                ctx: &$crate::sim::Ctx<'_, $config>,
                durable: Option<&Self::Durable>,
                out: &mut $crate::sim::Out<Self>,
            ) -> Self {
                $node($crate::protocols::coordinator::CoordNode::boot(
                    &Self::env(ctx),
                    durable,
                    out,
                ))
            }
            fn on_message(
                &mut self,
                ctx: &$crate::sim::Ctx<'_, $config>,
                from: $crate::sim::NodeId,
                msg: $msg,
                out: &mut $crate::sim::Out<Self>,
            ) {
                self.0.on_message(&Self::env(ctx), from, msg.0, out);
            }
            fn on_timer(
                &mut self,
                ctx: &$crate::sim::Ctx<'_, $config>,
                t: Self::Timer,
                out: &mut $crate::sim::Out<Self>,
            ) {
                self.0.on_timer(&Self::env(ctx), t, out);
            }
            fn status(&self) -> $crate::sim::NodeStatus {
                self.0.status()
            }
            fn service_nodes(config: &$config) -> u32 {
                config.service.replicas
            }
        }
    };
}
pub(crate) use coord_node_protocol;

mod client;
mod service;
mod store;
pub use client::*;
pub use service::*;
pub use store::*;

// ---------------------------------------------------------------- the node

/// One node of a recipe: a contender (`id < nodes`) or a service replica.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CoordNode {
    /// A contender running the election recipe.
    Contender(Client),
    /// A replica of the coordination service.
    Replica(Box<Replica>),
}

impl CoordNode {
    /// Boot the contender or replica that `env.id` designates.
    pub fn boot<P: Recipe>(env: &Env<'_>, durable: Option<&RaftDurable>, out: &mut Out<P>) -> Self {
        if env.id < env.nodes {
            CoordNode::Contender(Client::boot(env, out))
        } else {
            let mut r = Replica::boot(env, durable, out);
            r.flush(env, out);
            CoordNode::Replica(Box::new(r))
        }
    }

    /// Dispatch a message to the contender or replica.
    pub fn on_message<P: Recipe>(
        &mut self,
        env: &Env<'_>,
        from: NodeId,
        msg: Wire,
        out: &mut Out<P>,
    ) {
        match self {
            CoordNode::Contender(c) => c.on_message(env, from, msg, out),
            CoordNode::Replica(r) => r.on_message(env, from, msg, out),
        }
    }

    /// Dispatch a timer to the contender or replica.
    pub fn on_timer<P: Recipe>(&mut self, env: &Env<'_>, t: CoordTimer, out: &mut Out<P>) {
        match self {
            CoordNode::Contender(c) => c.on_timer(env, t, out),
            CoordNode::Replica(r) => r.on_timer(env, t, out),
        }
    }

    /// The node's status: a contender's role, or `Role::Service` for a replica.
    pub fn status(&self) -> NodeStatus {
        match self {
            CoordNode::Contender(c) => c.status(),
            CoordNode::Replica(r) => r.status(),
        }
    }

    /// The contender, if this node is one.
    pub fn as_client(&self) -> Option<&Client> {
        match self {
            CoordNode::Contender(c) => Some(c),
            CoordNode::Replica(_) => None,
        }
    }

    /// The replica, if this node is one.
    pub fn as_replica(&self) -> Option<&Replica> {
        match self {
            CoordNode::Contender(_) => None,
            CoordNode::Replica(r) => Some(r),
        }
    }
}

#[cfg(test)]
mod tests;

/// Fixtures of the recipes' handler-level tests (no engine).
#[cfg(test)]
pub(crate) mod testkit {
    use super::{Recipe, Wire};
    use crate::sim::{Ctx, NodeId, Out, SimTime};

    /// The context of node `id` at `now_ms` (its own clock) in a cluster of `nodes`
    /// contenders and one service replica (node `nodes`).
    pub(crate) fn ctx<C>(id: NodeId, nodes: u32, now_ms: u64, config: &C) -> Ctx<'_, C> {
        crate::sim::testkit::ctx(id, nodes, 1, SimTime(now_ms * 1_000_000), config)
    }

    /// Deliver `w` from `from` to `node` by hand (no network) and return what it sent.
    pub(crate) fn deliver<P: Recipe>(
        node: &mut P,
        ctx: &Ctx<'_, P::Config>,
        from: NodeId,
        w: Wire,
    ) -> Vec<(Option<NodeId>, Wire)> {
        let mut out = Out::default();
        node.on_message(ctx, from, P::wrap(w), &mut out);
        sent(&out)
    }

    /// What a handler sent, unwrapped: (destination, or `None` for a broadcast; message).
    pub(crate) fn sent<P: Recipe>(out: &Out<P>) -> Vec<(Option<NodeId>, Wire)> {
        out.sent()
            .into_iter()
            .map(|(to, m)| (to, P::wire(m).clone()))
            .collect()
    }
}
