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
    pub replicas: Option<i64>,
    pub election_timeout: Option<[SimDuration; 2]>,
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
    pub id: NodeId,
    pub nodes: u32,
    pub replicas: u32,
    pub now: SimTime,
    pub recipe: RecipeConfig,
    pub service: &'a ServiceConfig,
}

impl Env<'_> {
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
#[derive(Clone, Debug, PartialEq)]
pub enum Wire {
    /// Open a session / grant a lease. `nonce` makes retries idempotent.
    Open {
        nonce: u64,
    },
    Opened {
        nonce: u64,
        session: u64,
    },
    /// Session ping / lease keepalive.
    Ping {
        session: u64,
    },
    /// Ping answer; `holder` is the current leader contender (the smallest key's owner).
    Pong {
        session: u64,
        holder: Option<NodeId>,
    },
    /// Create the session's key under the prefix (idempotent per session).
    Create {
        session: u64,
    },
    Created {
        session: u64,
        rev: u64,
    },
    /// List the prefix; `watch` also sets a one-shot watch on the whole prefix.
    List {
        session: u64,
        watch: bool,
    },
    Children {
        session: u64,
        view: ListView,
    },
    /// Watch one key for deletion (ZooKeeper `exists(watch)`, etcd watch).
    WatchKey {
        session: u64,
        key: u64,
    },
    WatchArmed {
        session: u64,
        key: u64,
        exists: bool,
    },
    /// A watch fired: `Some(key)` deleted, or `None` the prefix changed.
    Notify {
        session: u64,
        key: Option<u64>,
    },
    /// The session / lease does not exist (any more).
    Expired {
        session: u64,
    },
    /// The leader acts on the protected resource, carrying its revision as token.
    Action {
        session: u64,
        token: u64,
    },
    /// Action by the current holder, applied.
    ActionOk {
        token: u64,
    },
    /// Action by a non-holder, applied anyway (no fencing): a stale write got through.
    StaleAccepted {
        token: u64,
    },
    /// Action by a non-holder, refused by the fencing check.
    StaleRejected {
        token: u64,
    },
    /// This replica is not the primary; `hint` is the replica it believes leads.
    NotPrimary {
        hint: Option<NodeId>,
    },
    /// Raft traffic between replicas (leadership of the replica group).
    Raft(RaftMsg),
    /// Primary -> replica: the store as of `stamp`, in replication round `round`.
    Replicate {
        epoch: u64,
        round: u64,
        stamp: Stamp,
        store: Box<Store>,
    },
    ReplicateAck {
        epoch: u64,
        round: u64,
    },
    /// New primary -> replica: promise `epoch` and send your store.
    Recover {
        epoch: u64,
    },
    RecoverReply {
        epoch: u64,
        stamp: Stamp,
        store: Box<Store>,
    },
}

/// Number of message kinds ([`Wire::kind`] indexes `0..WIRE_KINDS`).
pub const WIRE_KINDS: usize = 27;

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
        }
    }

    /// Election traffic is what contenders exchange with the service to find the leader;
    /// pings are heartbeats; actions and the replicas' own traffic are "other".
    pub fn class(&self) -> MsgClass {
        match self {
            Wire::Ping { .. } | Wire::Pong { .. } => MsgClass::Heartbeat,
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

    pub fn term(&self) -> Option<u64> {
        match self {
            Wire::Created { rev, .. } => Some(*rev),
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

/// Timers of contenders and replicas (both recipes use this type).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    fn wrap(w: Wire) -> Self::Msg;
}

// ---------------------------------------------------------------- the store

/// One session / lease.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session {
    pub owner: NodeId,
    pub nonce: u64,
    /// The session's key under the election prefix, if it created one (an index: finding
    /// it by scanning the keys made every create O(n), so start-up O(n^2)).
    pub key: Option<u64>,
}

/// The replicated state of the service.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Store {
    /// Global revision: bumped by every create and delete.
    pub revision: u64,
    next_session: u64,
    pub sessions: BTreeMap<u64, Session>,
    /// Index of `sessions` by (owner, nonce), for retried opens.
    by_owner: BTreeMap<(NodeId, u64), u64>,
    /// Keys under the election prefix: create revision -> (session, owner).
    pub keys: BTreeMap<u64, (u64, NodeId)>,
    /// One-shot deletion watches: key -> watchers (client node, session).
    key_watches: BTreeMap<u64, BTreeSet<(NodeId, u64)>>,
    /// One-shot watches on the whole prefix.
    prefix_watches: BTreeSet<(NodeId, u64)>,
}

/// A notification to send: (to, message).
pub type Notice = (NodeId, Wire);

impl Store {
    /// Open (or find, for a retried request) the session of `owner` with `nonce`.
    pub fn open(&mut self, owner: NodeId, nonce: u64) -> u64 {
        if let Some(&s) = self.by_owner.get(&(owner, nonce)) {
            return s;
        }
        self.next_session += 1;
        let s = self.next_session;
        self.sessions.insert(
            s,
            Session {
                owner,
                nonce,
                key: None,
            },
        );
        self.by_owner.insert((owner, nonce), s);
        s
    }

    pub fn key_of(&self, session: u64) -> Option<u64> {
        self.sessions.get(&session).and_then(|s| s.key)
    }

    /// What a `List` reply tells `session`'s client: the holder (smallest key), the
    /// session's own key and the key just below it. This is all the recipes' clients read
    /// of the children list, and it keeps a reply O(1) in size (a full list per reply made
    /// the start-up of n contenders O(n^2) in memory).
    pub fn view(&self, session: u64) -> ListView {
        let own = self.key_of(session);
        ListView {
            holder: self.holder(),
            own,
            predecessor: own.and_then(|k| self.keys.range(..k).next_back().map(|(&p, _)| p)),
        }
    }

    /// The current holder: the smallest key and its owner.
    pub fn holder(&self) -> Option<(u64, NodeId)> {
        self.keys.iter().next().map(|(&k, v)| (k, v.1))
    }

    pub fn entries(&self) -> Entries {
        self.keys.iter().map(|(&k, v)| (k, v.1)).collect()
    }

    /// Create the session's key (the existing one on a retry); fires prefix watches.
    pub fn create(&mut self, session: u64, notices: &mut Vec<Notice>) -> u64 {
        if let Some(k) = self.key_of(session) {
            return k;
        }
        let entry = self.sessions.get_mut(&session).expect("a live session");
        self.revision += 1;
        let k = self.revision;
        entry.key = Some(k);
        let owner = entry.owner;
        self.keys.insert(k, (session, owner));
        self.fire_prefix(notices);
        k
    }

    fn fire_prefix(&mut self, notices: &mut Vec<Notice>) {
        for (to, s) in std::mem::take(&mut self.prefix_watches) {
            notices.push((
                to,
                Wire::Notify {
                    session: s,
                    key: None,
                },
            ));
        }
    }

    /// Expire a session: delete its key (firing the key's and the prefix's watches, in
    /// watcher-id order) and drop the watches it had set.
    pub fn expire(&mut self, session: u64, notices: &mut Vec<Notice>) {
        let Some(gone) = self.sessions.remove(&session) else {
            return;
        };
        self.by_owner.remove(&(gone.owner, gone.nonce));
        for w in self.key_watches.values_mut() {
            w.retain(|&(_, s)| s != session);
        }
        self.prefix_watches.retain(|&(_, s)| s != session);
        if let Some(k) = gone.key {
            self.keys.remove(&k);
            self.revision += 1;
            for (to, s) in self.key_watches.remove(&k).unwrap_or_default() {
                notices.push((
                    to,
                    Wire::Notify {
                        session: s,
                        key: Some(k),
                    },
                ));
            }
            self.fire_prefix(notices);
        }
        self.key_watches.retain(|_, w| !w.is_empty());
    }

    pub fn watch_prefix(&mut self, to: NodeId, session: u64) {
        self.prefix_watches.insert((to, session));
    }

    /// Watch `key` for deletion; false (and no watch) when it does not exist.
    pub fn watch_key(&mut self, to: NodeId, session: u64, key: u64) -> bool {
        if !self.keys.contains_key(&key) {
            return false;
        }
        self.key_watches
            .entry(key)
            .or_default()
            .insert((to, session));
        true
    }

    /// Watches currently set (for tests).
    pub fn watch_count(&self) -> usize {
        self.prefix_watches.len() + self.key_watches.values().map(BTreeSet::len).sum::<usize>()
    }
}

// ---------------------------------------------------------------- the replica

/// A recovery in progress: its epoch and the (stamp, store) each replica answered with.
type Recovery = (u64, Vec<Option<(Stamp, Store)>>);

/// A service replica. With one replica it is always the primary.
#[derive(Clone, Debug)]
pub struct Replica {
    index: u32,
    store: Store,
    stamp: Stamp,
    raft: Option<Raft>,
    /// Highest epoch promised to a (would-be) primary.
    promised: u64,
    /// `Some(epoch)` while this replica is the active primary.
    epoch: Option<u64>,
    /// Recovery in progress: its epoch and the stores collected so far (per replica).
    recovering: Option<Recovery>,
    /// Session -> local time of its last ping (primary only; not replicated).
    touched: BTreeMap<u64, SimTime>,
    round: u64,
    acked: Vec<u64>,
    /// Replies waiting for a majority to acknowledge `round`.
    pending: Vec<(u64, NodeId, Wire)>,
    dirty: bool,
}

impl Replica {
    fn boot<P: Recipe>(env: &Env<'_>, durable: Option<&RaftDurable>, out: &mut Out<P>) -> Self {
        let index = env.id - env.nodes;
        let mut r = Replica {
            index,
            store: Store::default(),
            stamp: (0, 0),
            raft: None,
            promised: 0,
            epoch: None,
            recovering: None,
            touched: BTreeMap::new(),
            round: 0,
            acked: vec![0; env.replicas as usize],
            pending: Vec::new(),
            dirty: false,
        };
        if env.replicas == 1 {
            r.epoch = Some(1);
            r.promised = 1;
        } else {
            let mut sub = Out::<Raft>::default();
            let ctx = r.raft_ctx(env);
            r.raft = Some(Raft::boot(&ctx, durable, &mut sub));
            r.apply_raft(env, sub, out);
        }
        r
    }

    fn raft_ctx<'a>(&self, env: &Env<'a>) -> Ctx<'a, RaftConfig> {
        Ctx {
            id: self.index,
            nodes: env.replicas,
            service: 0,
            now: env.now,
            config: &env.service.raft,
        }
    }

    /// Translate the embedded Raft node's effects into this protocol's effects.
    fn apply_raft<P: Recipe>(&mut self, env: &Env<'_>, sub: Out<Raft>, out: &mut Out<P>) {
        for e in sub.effects {
            match e {
                Effect::Send { to, msg } => out.send(env.replica_id(to), P::wrap(Wire::Raft(msg))),
                Effect::Broadcast { msg } => {
                    for r in (0..env.replicas).filter(|&r| r != self.index) {
                        out.send(env.replica_id(r), P::wrap(Wire::Raft(msg.clone())));
                    }
                }
                Effect::SetTimer { key, delay } => out.set_timer(CoordTimer::Raft(key), delay),
                Effect::CancelTimer { key } => out.cancel_timer(CoordTimer::Raft(key)),
                Effect::Persist(d) => out.persist(d),
            }
        }
        self.follow_raft(env, out);
    }

    /// React to the Raft role: start a recovery on becoming leader, resign when deposed.
    fn follow_raft<P: Recipe>(&mut self, env: &Env<'_>, out: &mut Out<P>) {
        let Some(raft) = &self.raft else { return };
        let (role, term) = (raft.role(), raft.term());
        let leads = role == Role::Leader;
        if !leads || self.epoch.is_some_and(|e| e != term) {
            self.resign();
        }
        if leads
            && self.epoch.is_none()
            && self.recovering.as_ref().is_none_or(|r| r.0 != term)
            && term >= self.promised
        {
            self.promised = term;
            let mut got = vec![None; env.replicas as usize];
            got[self.index as usize] = Some((self.stamp, self.store.clone()));
            self.recovering = Some((term, got));
            for r in (0..env.replicas).filter(|&r| r != self.index) {
                out.send(env.replica_id(r), P::wrap(Wire::Recover { epoch: term }));
            }
        }
    }

    fn resign(&mut self) {
        self.epoch = None;
        self.recovering = None;
        self.pending.clear();
        self.touched.clear();
        self.dirty = false;
    }

    /// What this replica keeps on disk: its Raft term and vote (the store itself is
    /// recovered from a majority, so a write of it is modelled by its latency only).
    fn durable(&self) -> RaftDurable {
        self.raft
            .as_ref()
            .map_or_else(RaftDurable::default, |r| RaftDurable {
                term: r.term(),
                voted_for: r.status().voted_for,
            })
    }

    fn hint(&self, env: &Env<'_>) -> Option<NodeId> {
        let raft = self.raft.as_ref()?;
        raft.status().leader.map(|l| env.replica_id(l))
    }

    /// Queue a reply until the next replication round commits.
    fn reply(&mut self, to: NodeId, msg: Wire) {
        self.pending.push((self.round + 1, to, msg));
        self.dirty = true;
    }

    /// End of every handler: send what is committed, or start a replication round.
    fn flush<P: Recipe>(&mut self, env: &Env<'_>, out: &mut Out<P>) {
        let Some(epoch) = self.epoch else {
            self.pending.clear();
            self.dirty = false;
            return;
        };
        if env.replicas == 1 {
            for (_, to, m) in self.pending.drain(..) {
                out.send(to, P::wrap(m));
            }
            self.dirty = false;
            return;
        }
        if self.dirty {
            self.dirty = false;
            self.round += 1;
            self.stamp = (epoch, self.round);
            self.acked[self.index as usize] = self.round;
            for r in (0..env.replicas).filter(|&r| r != self.index) {
                out.send(
                    env.replica_id(r),
                    P::wrap(Wire::Replicate {
                        epoch,
                        round: self.round,
                        stamp: self.stamp,
                        store: Box::new(self.store.clone()),
                    }),
                );
            }
        }
    }

    fn release<P: Recipe>(&mut self, env: &Env<'_>, out: &mut Out<P>) {
        let mut acks = self.acked.clone();
        acks.sort_unstable_by(|a, b| b.cmp(a));
        let committed = acks[env.majority() - 1];
        let (ready, wait): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|(r, _, _)| *r <= committed);
        self.pending = wait;
        for (_, to, m) in ready {
            out.send(to, P::wrap(m));
        }
    }

    fn arm_expiry<P: Recipe>(
        &self,
        env: &Env<'_>,
        session: u64,
        after: SimDuration,
        out: &mut Out<P>,
    ) {
        let _ = env;
        out.set_timer(CoordTimer::Expire(session), Delay::Fixed(after));
    }

    fn touch<P: Recipe>(&mut self, env: &Env<'_>, session: u64, out: &mut Out<P>) {
        self.touched.insert(session, env.now);
        self.arm_expiry(env, session, env.recipe.ttl, out);
    }

    fn send_notices(&mut self, notices: Vec<Notice>) {
        for (to, m) in notices {
            self.reply(to, m);
        }
    }

    fn on_client<P: Recipe>(&mut self, env: &Env<'_>, from: NodeId, msg: Wire, out: &mut Out<P>) {
        if self.epoch.is_none() {
            out.send(
                from,
                P::wrap(Wire::NotPrimary {
                    hint: self.hint(env),
                }),
            );
            return;
        }
        let live = |st: &Store, s: u64| st.sessions.get(&s).is_some_and(|v| v.owner == from);
        match msg {
            Wire::Open { nonce } => {
                let session = self.store.open(from, nonce);
                self.touch(env, session, out);
                self.reply(from, Wire::Opened { nonce, session });
            }
            Wire::Ping { session } if live(&self.store, session) => {
                self.touch(env, session, out);
                let holder = self.store.holder().map(|h| h.1);
                self.reply(from, Wire::Pong { session, holder });
            }
            Wire::Create { session } if live(&self.store, session) => {
                let mut notices = Vec::new();
                let rev = self.store.create(session, &mut notices);
                self.reply(from, Wire::Created { session, rev });
                self.send_notices(notices);
            }
            Wire::List { session, watch } if live(&self.store, session) => {
                if watch {
                    self.store.watch_prefix(from, session);
                }
                let view = self.store.view(session);
                self.reply(from, Wire::Children { session, view });
            }
            Wire::WatchKey { session, key } if live(&self.store, session) => {
                let exists = self.store.watch_key(from, session, key);
                self.reply(
                    from,
                    Wire::WatchArmed {
                        session,
                        key,
                        exists,
                    },
                );
            }
            Wire::Action { session, token } => {
                let holder_rev = self.store.holder().map(|h| h.0);
                let own_key = self.store.key_of(session);
                let current = holder_rev == Some(token) && own_key == Some(token);
                let m = if current {
                    Wire::ActionOk { token }
                } else if env.recipe.fencing {
                    Wire::StaleRejected { token }
                } else {
                    Wire::StaleAccepted { token }
                };
                self.reply(from, m);
            }
            Wire::Ping { session }
            | Wire::Create { session }
            | Wire::List { session, .. }
            | Wire::WatchKey { session, .. } => self.reply(from, Wire::Expired { session }),
            _ => {}
        }
    }

    fn on_message<P: Recipe>(&mut self, env: &Env<'_>, from: NodeId, msg: Wire, out: &mut Out<P>) {
        let peer = from.wrapping_sub(env.nodes);
        match msg {
            Wire::Raft(m) => {
                if let Some(mut raft) = self.raft.take() {
                    let mut sub = Out::<Raft>::default();
                    raft.on_message(&self.raft_ctx(env), peer, m, &mut sub);
                    self.raft = Some(raft);
                    self.apply_raft(env, sub, out);
                }
            }
            Wire::Replicate {
                epoch,
                round,
                stamp,
                store,
            } => {
                if epoch >= self.promised && self.epoch != Some(epoch) {
                    self.promised = epoch;
                    if self.epoch.is_some() || self.recovering.is_some() {
                        self.resign();
                    }
                    if stamp > self.stamp {
                        self.stamp = stamp;
                        // A follower logs a changed store before it acknowledges (ZooKeeper
                        // before its ACK, etcd before MsgAppResp): with a `[storage]` write
                        // latency the ack leaves after the write. Rounds that only carry
                        // replies (pings, reads) change nothing and cost no write.
                        if *store != self.store {
                            self.store = *store;
                            out.persist(self.durable());
                        }
                    }
                    out.send(from, P::wrap(Wire::ReplicateAck { epoch, round }));
                }
            }
            Wire::ReplicateAck { epoch, round } => {
                if self.epoch == Some(epoch) && (peer as usize) < self.acked.len() {
                    let a = &mut self.acked[peer as usize];
                    *a = (*a).max(round);
                    self.release(env, out);
                }
            }
            Wire::Recover { epoch } => {
                if epoch >= self.promised && self.epoch != Some(epoch) {
                    self.promised = epoch;
                    if self.epoch.is_some()
                        || self.recovering.as_ref().is_some_and(|r| r.0 != epoch)
                    {
                        self.resign();
                    }
                    out.send(
                        from,
                        P::wrap(Wire::RecoverReply {
                            epoch,
                            stamp: self.stamp,
                            store: Box::new(self.store.clone()),
                        }),
                    );
                }
            }
            Wire::RecoverReply {
                epoch,
                stamp,
                store,
            } => self.on_recover_reply(env, peer, epoch, stamp, *store, out),
            m => self.on_client(env, from, m, out),
        }
        self.flush(env, out);
    }

    fn on_recover_reply<P: Recipe>(
        &mut self,
        env: &Env<'_>,
        peer: u32,
        epoch: u64,
        stamp: Stamp,
        store: Store,
        out: &mut Out<P>,
    ) {
        let Some((e, got)) = self.recovering.as_mut() else {
            return;
        };
        if *e != epoch || peer as usize >= got.len() {
            return;
        }
        got[peer as usize] = Some((stamp, store));
        if got.iter().filter(|g| g.is_some()).count() < env.majority() {
            return;
        }
        let (_, newest) = got
            .iter_mut()
            .filter_map(Option::take)
            .max_by_key(|(s, _)| *s)
            .expect("a majority answered");
        self.recovering = None;
        self.store = newest;
        self.epoch = Some(epoch);
        self.round = 0;
        self.stamp = (epoch, 0);
        self.acked = vec![0; env.replicas as usize];
        // A new primary restarts every session's expiry clock.
        let sessions: Vec<u64> = self.store.sessions.keys().copied().collect();
        for s in sessions {
            self.touch(env, s, out);
        }
        self.dirty = true;
    }

    fn on_timer<P: Recipe>(&mut self, env: &Env<'_>, t: CoordTimer, out: &mut Out<P>) {
        match t {
            CoordTimer::Raft(key) => {
                if let Some(mut raft) = self.raft.take() {
                    let mut sub = Out::<Raft>::default();
                    raft.on_timer(&self.raft_ctx(env), key, &mut sub);
                    self.raft = Some(raft);
                    self.apply_raft(env, sub, out);
                }
            }
            CoordTimer::Expire(session) => {
                if self.epoch.is_none() {
                    return;
                }
                if let Some(&t0) = self.touched.get(&session) {
                    let due = t0 + env.recipe.ttl;
                    if env.now >= due {
                        self.touched.remove(&session);
                        let mut notices = Vec::new();
                        self.store.expire(session, &mut notices);
                        self.dirty = true;
                        self.send_notices(notices);
                    } else {
                        self.arm_expiry(env, session, due.since(env.now), out);
                    }
                }
            }
            _ => {}
        }
        self.flush(env, out);
    }

    /// Role `Service`; the active primary reports its epoch as `term` and the current holder
    /// as `leader` (the authoritative answer to "who leads?"); other replicas report term 0.
    fn status(&self) -> NodeStatus {
        match self.epoch {
            Some(epoch) => NodeStatus {
                role: Role::Service,
                term: epoch,
                leader: self.store.holder().map(|h| h.1),
                voted_for: None,
            },
            None => NodeStatus {
                role: Role::Service,
                term: 0,
                leader: None,
                voted_for: None,
            },
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
}

// ---------------------------------------------------------------- the contender

/// Where a contender is in the recipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Opening a session / granting a lease.
    Connecting,
    /// Creating its key.
    Creating,
    /// Listing the prefix.
    Listing,
    /// Setting / holding a deletion watch on the next-lower key.
    Watching {
        key: u64,
        armed: bool,
    },
    /// Holding a prefix watch (`herd`).
    Waiting,
    Leading,
}

/// A contender (a ZooKeeper / etcd client running the election recipe).
#[derive(Clone, Debug)]
pub struct Client {
    id: NodeId,
    phase: Phase,
    session: Option<u64>,
    nonce_base: u64,
    nonce: u64,
    rev: Option<u64>,
    holder: Option<NodeId>,
    /// Replica the requests go to (index into the group).
    target: u32,
    /// Local time at which the session/lease is believed to expire.
    deadline: Option<SimTime>,
    awaiting_pong: bool,
    /// A prefix change was notified while a listing was in flight.
    relist: bool,
}

impl Client {
    fn boot<P: Recipe>(env: &Env<'_>, out: &mut Out<P>) -> Self {
        let mut c = Client {
            id: env.id,
            phase: Phase::Connecting,
            session: None,
            // A restarted process must not be handed its previous session back.
            nonce_base: env.now.0.wrapping_mul(1 << 12),
            nonce: 0,
            rev: None,
            holder: None,
            target: 0,
            deadline: None,
            awaiting_pong: false,
            relist: false,
        };
        c.connect(env, out);
        c
    }

    fn to_service<P: Recipe>(&self, env: &Env<'_>, m: Wire, out: &mut Out<P>) {
        out.send(env.replica_id(self.target), P::wrap(m));
    }

    fn connect<P: Recipe>(&mut self, env: &Env<'_>, out: &mut Out<P>) {
        self.phase = Phase::Connecting;
        self.nonce = self.nonce.wrapping_add(1);
        self.send_pending(env, out);
    }

    /// (Re)send the request of the current phase and arm the retry timer.
    fn send_pending<P: Recipe>(&mut self, env: &Env<'_>, out: &mut Out<P>) {
        let session = self.session.unwrap_or(0);
        let m = match self.phase {
            Phase::Connecting => Wire::Open {
                nonce: self.nonce_base.wrapping_add(self.nonce),
            },
            Phase::Creating => Wire::Create { session },
            Phase::Listing => Wire::List {
                session,
                watch: env.recipe.herd,
            },
            Phase::Watching { key, armed: false } => Wire::WatchKey { session, key },
            _ => {
                out.cancel_timer(CoordTimer::Retry);
                return;
            }
        };
        self.to_service(env, m, out);
        out.set_timer(CoordTimer::Retry, Delay::Fixed(env.recipe.ping_interval));
    }

    /// The session is gone (expired at the service, or believed expired locally): stop
    /// leading and start over with a new session.
    fn lose_session<P: Recipe>(&mut self, env: &Env<'_>, out: &mut Out<P>) {
        self.session = None;
        self.rev = None;
        self.holder = None;
        self.deadline = None;
        self.awaiting_pong = false;
        self.relist = false;
        out.cancel_timer(CoordTimer::Act);
        out.cancel_timer(CoordTimer::Deadline);
        out.cancel_timer(CoordTimer::Ping);
        self.connect(env, out);
    }

    fn refresh_deadline<P: Recipe>(&mut self, env: &Env<'_>, out: &mut Out<P>) {
        if env.recipe.client_deadline {
            self.deadline = Some(env.now + env.recipe.ttl);
            out.set_timer(CoordTimer::Deadline, Delay::Fixed(env.recipe.ttl));
        }
    }

    /// Evaluated before every handler: past the local deadline the session is given up.
    fn check_deadline<P: Recipe>(&mut self, env: &Env<'_>, out: &mut Out<P>) {
        if self.session.is_some() && self.deadline.is_some_and(|d| env.now >= d) {
            self.lose_session(env, out);
        }
    }

    fn list<P: Recipe>(&mut self, env: &Env<'_>, out: &mut Out<P>) {
        self.phase = Phase::Listing;
        self.relist = false;
        self.send_pending(env, out);
    }

    fn on_children<P: Recipe>(&mut self, env: &Env<'_>, view: ListView, out: &mut Out<P>) {
        let Some(rev) = self.rev else { return };
        if self.relist {
            return self.list(env, out);
        }
        if view.own != Some(rev) {
            // Our key is gone although the session lives: create it again.
            self.rev = None;
            self.phase = Phase::Creating;
            return self.send_pending(env, out);
        }
        self.holder = view.holder.map(|e| e.1);
        if view.holder.is_some_and(|h| h.0 == rev) {
            self.phase = Phase::Leading;
            self.holder = Some(self.id);
            out.cancel_timer(CoordTimer::Retry);
            out.set_timer(CoordTimer::Act, Delay::Fixed(env.recipe.action_interval));
        } else if env.recipe.herd {
            self.phase = Phase::Waiting;
            out.cancel_timer(CoordTimer::Retry);
        } else {
            let pred = view
                .predecessor
                .expect("not the smallest, so a smaller key exists");
            self.phase = Phase::Watching {
                key: pred,
                armed: false,
            };
            self.send_pending(env, out);
        }
    }

    fn on_message<P: Recipe>(&mut self, env: &Env<'_>, from: NodeId, msg: Wire, out: &mut Out<P>) {
        self.check_deadline(env, out);
        let current = |s: u64| self.session == Some(s);
        let awaited = self.nonce_base.wrapping_add(self.nonce);
        match msg {
            Wire::Opened { nonce, session }
                if self.phase == Phase::Connecting && nonce == awaited =>
            {
                self.session = Some(session);
                self.target = from.saturating_sub(env.nodes);
                self.refresh_deadline(env, out);
                out.set_timer(CoordTimer::Ping, Delay::Fixed(env.recipe.ping_interval));
                self.phase = Phase::Creating;
                self.send_pending(env, out);
            }
            Wire::Pong { session, holder } if current(session) => {
                self.awaiting_pong = false;
                self.refresh_deadline(env, out);
                if matches!(self.phase, Phase::Watching { .. } | Phase::Waiting) {
                    self.holder = holder;
                }
            }
            Wire::Created { session, rev } if current(session) && self.phase == Phase::Creating => {
                self.rev = Some(rev);
                self.list(env, out);
            }
            Wire::Children { session, view }
                if current(session) && self.phase == Phase::Listing =>
            {
                self.on_children(env, view, out);
            }
            Wire::WatchArmed {
                session,
                key,
                exists,
            } if current(session) && self.phase == (Phase::Watching { key, armed: false }) => {
                if exists {
                    self.phase = Phase::Watching { key, armed: true };
                    out.cancel_timer(CoordTimer::Retry);
                } else {
                    self.list(env, out);
                }
            }
            Wire::Notify { session, key } if current(session) => match (self.phase, key) {
                (Phase::Watching { key: k, .. }, Some(d)) if k == d => self.list(env, out),
                (Phase::Waiting, None) => self.list(env, out),
                (Phase::Listing, None) => self.relist = true,
                _ => {}
            },
            Wire::Expired { session } if current(session) => self.lose_session(env, out),
            Wire::StaleRejected { token } if self.rev == Some(token) => {
                // The fencing check says we no longer hold the lock.
                self.lose_session(env, out);
            }
            Wire::NotPrimary { hint } if env.replicas > 1 => match hint {
                Some(h) if h != from => {
                    // Redirected: resend what was refused to the named primary.
                    self.target = h.saturating_sub(env.nodes) % env.replicas;
                    self.send_pending(env, out);
                    if let (true, Some(session)) = (self.awaiting_pong, self.session) {
                        self.to_service(env, Wire::Ping { session }, out);
                    }
                }
                _ => {
                    // Nobody known to lead the group yet: try the next replica soon.
                    self.target = (self.target + 1) % env.replicas;
                    let backoff = SimDuration(env.recipe.ping_interval.0 / 8);
                    out.set_timer(CoordTimer::Retry, Delay::Fixed(backoff));
                }
            },
            _ => {}
        }
    }

    fn on_timer<P: Recipe>(&mut self, env: &Env<'_>, t: CoordTimer, out: &mut Out<P>) {
        self.check_deadline(env, out);
        match t {
            CoordTimer::Retry => {
                if env.replicas > 1 {
                    self.target = (self.target + 1) % env.replicas;
                }
                self.send_pending(env, out);
            }
            CoordTimer::Ping => {
                if let Some(session) = self.session {
                    if self.awaiting_pong && env.replicas > 1 {
                        self.target = (self.target + 1) % env.replicas;
                    }
                    self.awaiting_pong = true;
                    self.to_service(env, Wire::Ping { session }, out);
                    out.set_timer(CoordTimer::Ping, Delay::Fixed(env.recipe.ping_interval));
                }
            }
            CoordTimer::Act => {
                if let (Phase::Leading, Some(session), Some(token)) =
                    (self.phase, self.session, self.rev)
                {
                    self.to_service(env, Wire::Action { session, token }, out);
                    out.set_timer(CoordTimer::Act, Delay::Fixed(env.recipe.action_interval));
                }
            }
            _ => {}
        }
    }

    /// Status mapping: leading -> `Leader` (term = own revision); any other contender ->
    /// `Follower` of the holder the service last named to it (none before its first read
    /// and without a session). Nobody campaigns in these recipes — contenders queue — so
    /// `Candidate` is never reported, and a contender re-reading the prefix after a watch
    /// fired still counts as a follower while its session lives (DESIGN: the service is the
    /// authority on who leads).
    fn status(&self) -> NodeStatus {
        let term = self.rev.unwrap_or(0);
        let (role, leader) = match self.phase {
            Phase::Leading => (Role::Leader, Some(self.id)),
            Phase::Connecting => (Role::Follower, None),
            _ => (Role::Follower, self.holder),
        };
        NodeStatus {
            role,
            term,
            leader,
            voted_for: None,
        }
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }
}

// ---------------------------------------------------------------- the node

/// One node of a recipe: a contender (`id < nodes`) or a service replica.
#[derive(Clone, Debug)]
pub enum CoordNode {
    Contender(Client),
    Replica(Box<Replica>),
}

impl CoordNode {
    pub fn boot<P: Recipe>(env: &Env<'_>, durable: Option<&RaftDurable>, out: &mut Out<P>) -> Self {
        if env.id < env.nodes {
            CoordNode::Contender(Client::boot(env, out))
        } else {
            let mut r = Replica::boot(env, durable, out);
            r.flush(env, out);
            CoordNode::Replica(Box::new(r))
        }
    }

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

    pub fn on_timer<P: Recipe>(&mut self, env: &Env<'_>, t: CoordTimer, out: &mut Out<P>) {
        match self {
            CoordNode::Contender(c) => c.on_timer(env, t, out),
            CoordNode::Replica(r) => r.on_timer(env, t, out),
        }
    }

    pub fn status(&self) -> NodeStatus {
        match self {
            CoordNode::Contender(c) => c.status(),
            CoordNode::Replica(r) => r.status(),
        }
    }

    pub fn as_client(&self) -> Option<&Client> {
        match self {
            CoordNode::Contender(c) => Some(c),
            CoordNode::Replica(_) => None,
        }
    }

    pub fn as_replica(&self) -> Option<&Replica> {
        match self {
            CoordNode::Contender(_) => None,
            CoordNode::Replica(r) => Some(r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_are_global_and_increase_on_create_and_delete() {
        let mut st = Store::default();
        let mut n = Vec::new();
        let a = st.open(0, 1);
        let b = st.open(1, 1);
        assert_eq!(st.open(0, 1), a, "a retried open returns the same session");
        let ka = st.create(a, &mut n);
        assert_eq!(
            st.create(a, &mut n),
            ka,
            "one key per session (retry-safe create)"
        );
        let kb = st.create(b, &mut n);
        assert!(kb > ka);
        st.expire(a, &mut n);
        let c = st.open(2, 1);
        let kc = st.create(c, &mut n);
        assert_eq!(kc, kb + 2, "the delete of a's key consumed a revision");
        assert_eq!(st.holder(), Some((kb, 1)));
        assert_eq!(st.entries(), vec![(kb, 1), (kc, 2)]);
    }

    #[test]
    fn expiry_fires_key_watchers_then_prefix_watchers_in_id_order() {
        let mut st = Store::default();
        let mut n = Vec::new();
        let s: Vec<u64> = (0..4).map(|i| st.open(i, 7)).collect();
        let k0 = st.create(s[0], &mut n);
        st.watch_key(3, s[3], k0);
        st.watch_key(1, s[1], k0);
        st.watch_prefix(2, s[2]);
        n.clear();
        st.expire(s[0], &mut n);
        let to: Vec<NodeId> = n.iter().map(|(t, _)| *t).collect();
        assert_eq!(to, vec![1, 3, 2]);
        assert_eq!(
            n[0].1,
            Wire::Notify {
                session: s[1],
                key: Some(k0)
            }
        );
        assert_eq!(st.watch_count(), 0, "watches are one-shot");
    }

    #[test]
    fn expired_session_drops_its_watches() {
        let mut st = Store::default();
        let mut n = Vec::new();
        let a = st.open(0, 1);
        let b = st.open(1, 1);
        let ka = st.create(a, &mut n);
        st.watch_key(1, b, ka);
        st.expire(b, &mut n);
        assert_eq!(st.watch_count(), 0);
        assert!(!st.watch_key(1, b, 999), "no watch on a missing key");
    }

    #[test]
    fn service_table_accepts_only_odd_groups() {
        let raw = RawService {
            replicas: Some(2),
            ..RawService::default()
        };
        assert_eq!(raw.validate().unwrap_err().field, "replicas");
        let ok = RawService {
            replicas: Some(3),
            ..RawService::default()
        };
        assert_eq!(ok.validate().unwrap().replicas, 3);
    }

    /// Drive replica 0 of a 3-replica group to primary by hand and check the commit rule:
    /// no reply leaves before a majority acknowledged the store that produced it.
    #[test]
    fn primary_replies_only_after_a_majority_acknowledged() {
        use crate::protocols::etcd::{Etcd, EtcdConfig};
        use crate::protocols::raft::RaftTimer;
        let cfg = EtcdConfig {
            service: RawService {
                replicas: Some(3),
                ..RawService::default()
            }
            .validate()
            .unwrap(),
            ..EtcdConfig::default()
        };
        const NODES: u32 = 2;
        let ctx = || Ctx {
            id: NODES,
            nodes: NODES,
            service: 3,
            now: SimTime(0),
            config: &cfg,
        };
        let env = |c: &Ctx<'_, EtcdConfig>| Env::from_ctx(c, cfg.recipe(), &cfg.service);
        let sent = |out: &Out<Etcd>| -> Vec<(Option<NodeId>, Wire)> {
            out.sent()
                .into_iter()
                .map(|(to, m)| (to, m.0.clone()))
                .collect()
        };
        let mut out = Out::<Etcd>::default();
        let c = ctx();
        let mut r = CoordNode::boot(&env(&c), None, &mut out);
        let step = |r: &mut CoordNode, from: NodeId, w: Wire| {
            let mut out = Out::<Etcd>::default();
            r.on_message(&env(&c), from, w, &mut out);
            sent(&out)
        };
        let mut out = Out::<Etcd>::default();
        r.on_timer(&env(&c), CoordTimer::Raft(RaftTimer::Election), &mut out);
        let term = match &sent(&out)[0].1 {
            Wire::Raft(RaftMsg::PreVote { term, .. }) => *term,
            other => panic!("{other:?}"),
        };
        step(
            &mut r,
            NODES + 1,
            Wire::Raft(RaftMsg::PreVoteResponse {
                term,
                granted: true,
            }),
        );
        let out = step(
            &mut r,
            NODES + 1,
            Wire::Raft(RaftMsg::VoteResponse {
                term,
                granted: true,
            }),
        );
        assert!(
            out.iter()
                .any(|(to, m)| *to == Some(NODES + 2) && *m == Wire::Recover { epoch: term })
        );
        assert_eq!(r.status().term, 0, "not primary before the recovery round");
        // A client asking now is told to wait elsewhere (no primary yet).
        let out = step(&mut r, 0, Wire::Open { nonce: 5 });
        assert!(matches!(out[0].1, Wire::NotPrimary { .. }));
        step(
            &mut r,
            NODES + 2,
            Wire::RecoverReply {
                epoch: term,
                stamp: (0, 0),
                store: Box::default(),
            },
        );
        assert_eq!(r.status().term, term, "primary after a majority answered");
        let out = step(&mut r, 0, Wire::Open { nonce: 5 });
        assert!(
            out.iter().all(|(to, _)| *to != Some(0)),
            "the reply waits: {out:?}"
        );
        let round = out
            .iter()
            .find_map(|(_, m)| match m {
                Wire::Replicate { round, .. } => Some(*round),
                _ => None,
            })
            .expect("a replication round");
        // An ack of an older round releases nothing; the ack of this round releases the reply.
        assert!(
            step(
                &mut r,
                NODES + 1,
                Wire::ReplicateAck {
                    epoch: term,
                    round: round - 1
                }
            )
            .is_empty()
        );
        let out = step(&mut r, NODES + 1, Wire::ReplicateAck { epoch: term, round });
        assert!(
            matches!(out.as_slice(), [(Some(0), Wire::Opened { nonce: 5, .. })]),
            "{out:?}"
        );
        // A replica that promised a higher epoch makes this primary resign.
        step(&mut r, NODES + 2, Wire::Recover { epoch: term + 1 });
        assert_eq!(r.status().term, 0);
    }
}
