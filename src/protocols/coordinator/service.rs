//! The service side: a replica of the coordination service (primary or backup), its
//! session expiry, replication and fail-over.

use super::*;

/// A recovery in progress: its epoch and the (stamp, store) each replica answered with.
pub(super) type Recovery = (u64, Vec<Option<(Stamp, Store)>>);

/// A service replica. With one replica it is always the primary.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Replica {
    pub(super) index: u32,
    pub(super) store: Store,
    pub(super) stamp: Stamp,
    pub(super) raft: Option<Raft>,
    /// Highest epoch promised to a (would-be) primary.
    pub(super) promised: u64,
    /// `Some(epoch)` while this replica is the active primary.
    pub(super) epoch: Option<u64>,
    /// Recovery in progress: its epoch and the stores collected so far (per replica).
    pub(super) recovering: Option<Recovery>,
    /// Session -> local time of its last ping (primary only; not replicated).
    pub(super) touched: BTreeMap<u64, SimTime>,
    pub(super) round: u64,
    pub(super) acked: Vec<u64>,
    /// Replies waiting for a majority to acknowledge `round`.
    pub(super) pending: Vec<(u64, NodeId, Wire)>,
    pub(super) dirty: bool,
}

impl Replica {
    pub(crate) fn boot<P: Recipe>(
        env: &Env<'_>,
        durable: Option<&RaftDurable>,
        out: &mut Out<P>,
    ) -> Self {
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

    pub(super) fn raft_ctx<'a>(&self, env: &Env<'a>) -> Ctx<'a, RaftConfig> {
        Ctx {
            id: self.index,
            nodes: env.replicas,
            service: 0,
            now: env.now,
            config: &env.service.raft,
        }
    }

    /// Translate the embedded Raft node's effects into this protocol's effects.
    pub(super) fn apply_raft<P: Recipe>(
        &mut self,
        env: &Env<'_>,
        sub: Out<Raft>,
        out: &mut Out<P>,
    ) {
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
    pub(super) fn follow_raft<P: Recipe>(&mut self, env: &Env<'_>, out: &mut Out<P>) {
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

    pub(super) fn resign(&mut self) {
        self.epoch = None;
        self.recovering = None;
        self.pending.clear();
        self.touched.clear();
        self.dirty = false;
    }

    /// What this replica keeps on disk: its Raft term and vote (the store itself is
    /// recovered from a majority, so a write of it is modelled by its latency only).
    pub(super) fn durable(&self) -> RaftDurable {
        self.raft
            .as_ref()
            .map_or_else(RaftDurable::default, |r| RaftDurable {
                term: r.term(),
                voted_for: r.status().voted_for,
            })
    }

    pub(super) fn hint(&self, env: &Env<'_>) -> Option<NodeId> {
        let raft = self.raft.as_ref()?;
        raft.status().leader.map(|l| env.replica_id(l))
    }

    /// Queue a reply until the next replication round commits.
    pub(super) fn reply(&mut self, to: NodeId, msg: Wire) {
        self.pending.push((self.round + 1, to, msg));
        self.dirty = true;
    }

    /// End of every handler: send what is committed, or start a replication round.
    pub(crate) fn flush<P: Recipe>(&mut self, env: &Env<'_>, out: &mut Out<P>) {
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

    pub(super) fn release<P: Recipe>(&mut self, env: &Env<'_>, out: &mut Out<P>) {
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

    pub(super) fn arm_expiry<P: Recipe>(
        &self,
        env: &Env<'_>,
        session: u64,
        after: SimDuration,
        out: &mut Out<P>,
    ) {
        let _ = env;
        out.set_timer(CoordTimer::Expire(session), Delay::Fixed(after));
    }

    pub(super) fn touch<P: Recipe>(&mut self, env: &Env<'_>, session: u64, out: &mut Out<P>) {
        self.touched.insert(session, env.now);
        self.arm_expiry(env, session, env.recipe.ttl, out);
    }

    pub(super) fn send_notices(&mut self, notices: Vec<Notice>) {
        for (to, m) in notices {
            self.reply(to, m);
        }
    }

    pub(super) fn on_client<P: Recipe>(
        &mut self,
        env: &Env<'_>,
        from: NodeId,
        msg: Wire,
        out: &mut Out<P>,
    ) {
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
            Wire::LeaseGet { req } => {
                let lease = self.store.lease;
                self.reply(from, Wire::LeaseGot { req, lease });
            }
            Wire::LeaseUpdate {
                req,
                expected,
                record,
                acquire,
            } => {
                let m = match self.store.update_lease(expected, record) {
                    Some(version) => Wire::LeaseUpdated {
                        req,
                        version,
                        acquire,
                    },
                    None => Wire::LeaseConflict { req, acquire },
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

    pub(crate) fn on_message<P: Recipe>(
        &mut self,
        env: &Env<'_>,
        from: NodeId,
        msg: Wire,
        out: &mut Out<P>,
    ) {
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

    pub(super) fn on_recover_reply<P: Recipe>(
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

    pub(crate) fn on_timer<P: Recipe>(&mut self, env: &Env<'_>, t: CoordTimer, out: &mut Out<P>) {
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
    /// as `leader` (the authoritative answer to "who leads?": the Lease's `holderIdentity`
    /// when a Lease exists, else the smallest key's owner); other replicas report term 0.
    pub(crate) fn status(&self) -> NodeStatus {
        match self.epoch {
            Some(epoch) => NodeStatus {
                role: Role::Service,
                term: epoch,
                leader: match self.store.lease {
                    Some(l) => Some(l.record.holder),
                    None => self.store.holder().map(|h| h.1),
                },
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

    /// The replica's copy of the service state (sessions, keys, watches).
    pub fn store(&self) -> &Store {
        &self.store
    }
}
