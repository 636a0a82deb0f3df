//! One candidate running client-go's `LeaderElector` against the Lease object: the acquire
//! loop (`tryAcquireOrRenew` every jittered `retry_period`), the renew loop (a round of
//! attempts every `retry_period`, given up after `renew_deadline`), and the local
//! bookkeeping of the observed record and the local time it was observed.

use super::config::K8sConfig;
use crate::protocols::coordinator::{CoordTimer, Env, LeaseRecord, Recipe, StoredLease, Wire};
use crate::sim::{Delay, NodeId, NodeStatus, Out, Role, SimTime};

/// The record a candidate last observed, and when (on its own clock) it saw it change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Observed {
    /// The Lease record as read or written (holder, incarnation, acquire and renew times).
    pub record: LeaseRecord,
    /// The `resourceVersion` of the Lease object last read or written (the lock's cache).
    pub version: u64,
    /// client-go's `observedTime`: the local time the record was last seen to change.
    pub at: SimTime,
}

/// A request in flight to the service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Call {
    /// Read the Lease.
    Get,
    /// Write the Lease if its version is `expected` (`None`: create). `fast` is the
    /// leader's optimistic renewal from its cached record (client-go's fast path).
    Update {
        /// The `resourceVersion` the write is conditional on; `None` creates the Lease.
        expected: Option<u64>,
        /// The record to store.
        record: LeaseRecord,
        /// The write names a new holder (an election) rather than renewing the current one;
        /// it sets the message class, election traffic rather than heartbeat.
        acquire: bool,
        /// The leader's optimistic renewal from its cached record: on a conflict it falls back
        /// to a `Get` instead of failing the attempt.
        fast: bool,
    },
}

/// A candidate (a client-go `LeaderElector` with a Lease lock).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Elector {
    id: NodeId,
    /// This process's incarnation (its boot time on its clock): with `id`, its identity.
    incarnation: u64,
    /// Replica the requests go to (index into the group).
    target: u32,
    /// Id of the newest request; answers to older ones are ignored.
    req: u64,
    /// The request in flight, if any (abandoned when the next attempt is due).
    call: Option<Call>,
    /// Local time the current `tryAcquireOrRenew` began (its `now`).
    attempt_start: SimTime,
    observed: Option<Observed>,
    /// The renew loop runs: `OnStartedLeading` was called and `OnStoppedLeading` not yet.
    leading: bool,
    /// Local time the current renewal round times out (`None` between rounds).
    round_deadline: Option<SimTime>,
    /// `leaseTransitions + 1` of the record this candidate acquired (its term as leader).
    led_term: u64,
}

impl Elector {
    /// Start the acquire loop: its first attempt goes out at once.
    pub fn boot<P: Recipe>(env: &Env<'_>, cfg: &K8sConfig, out: &mut Out<P>) -> Self {
        let mut e = Elector {
            id: env.id,
            incarnation: env.now.0,
            target: 0,
            // A restarted process must not take its previous answers for new ones.
            req: env.now.0.wrapping_mul(1 << 12),
            call: None,
            attempt_start: env.now,
            observed: None,
            leading: false,
            round_deadline: None,
            led_term: 0,
        };
        e.attempt(env, cfg, out);
        e
    }

    /// client-go's `isLeaseValid(at)`: the observed record changed less than
    /// `lease_duration` before `at`.
    fn valid(&self, cfg: &K8sConfig, at: SimTime) -> bool {
        self.observed
            .is_some_and(|o| o.at + cfg.lease_duration > at)
    }

    /// client-go's `IsLeader()`: the observed record names this candidate's identity.
    fn holds_record(&self) -> bool {
        self.observed
            .is_some_and(|o| o.record.holder == self.id && o.record.incarnation == self.incarnation)
    }

    fn send<P: Recipe>(&mut self, env: &Env<'_>, call: Call, out: &mut Out<P>) {
        self.req = self.req.wrapping_add(1);
        self.call = Some(call);
        let req = self.req;
        let m = match call {
            Call::Get => Wire::LeaseGet { req },
            Call::Update {
                expected,
                record,
                acquire,
                ..
            } => Wire::LeaseUpdate {
                req,
                expected,
                record,
                acquire,
            },
        };
        out.send(env.nodes + self.target, P::wrap(m));
    }

    /// Begin one `tryAcquireOrRenew`. The retry timer is armed now: within a renewal round
    /// attempts start every `retry_period` (a ticker); outside, the timer is the request's
    /// timeout and is re-armed, jittered, when the attempt ends (`JitterUntil`, sliding).
    fn attempt<P: Recipe>(&mut self, env: &Env<'_>, cfg: &K8sConfig, out: &mut Out<P>) {
        self.attempt_start = env.now;
        match self.observed {
            Some(o) if self.holds_record() && self.valid(cfg, env.now) => {
                let record = LeaseRecord {
                    renew_time: env.now,
                    ..o.record
                };
                let call = Call::Update {
                    expected: Some(o.version),
                    record,
                    acquire: false,
                    fast: true,
                };
                self.send(env, call, out);
            }
            _ => self.send(env, Call::Get, out),
        }
        let delay = if self.leading {
            Delay::Fixed(cfg.retry_period)
        } else {
            cfg.poll_delay()
        };
        out.set_timer(CoordTimer::Retry, delay);
    }

    /// The attempt's Get answered: create, take over, renew, or give up (client-go's steps
    /// 2 to 4).
    fn on_got<P: Recipe>(
        &mut self,
        env: &Env<'_>,
        cfg: &K8sConfig,
        lease: Option<StoredLease>,
        out: &mut Out<P>,
    ) {
        let start = self.attempt_start;
        let Some(lease) = lease else {
            let record = LeaseRecord {
                holder: self.id,
                incarnation: self.incarnation,
                acquire_time: start,
                renew_time: start,
                leader_transitions: 0,
            };
            let call = Call::Update {
                expected: None,
                record,
                acquire: true,
                fast: false,
            };
            return self.send(env, call, out);
        };
        match &mut self.observed {
            Some(o) if o.record == lease.record => o.version = lease.version,
            _ => {
                self.observed = Some(Observed {
                    record: lease.record,
                    version: lease.version,
                    at: env.now,
                });
            }
        }
        let mine = self.holds_record();
        if !mine && self.valid(cfg, start) {
            return self.fail(cfg, out);
        }
        let old = lease.record;
        let record = if mine {
            LeaseRecord {
                renew_time: start,
                ..old
            }
        } else {
            LeaseRecord {
                holder: self.id,
                incarnation: self.incarnation,
                acquire_time: start,
                renew_time: start,
                leader_transitions: old.leader_transitions + 1,
            }
        };
        let call = Call::Update {
            expected: Some(lease.version),
            record,
            acquire: !mine,
            fast: false,
        };
        self.send(env, call, out);
    }

    fn succeed<P: Recipe>(&mut self, env: &Env<'_>, cfg: &K8sConfig, out: &mut Out<P>) {
        self.call = None;
        if self.leading {
            // The round is over; the next one starts `retry_period` later (`wait.Until`).
            self.round_deadline = None;
            out.cancel_timer(CoordTimer::Deadline);
            out.set_timer(CoordTimer::Retry, Delay::Fixed(cfg.retry_period));
        } else {
            // Acquired: `OnStartedLeading`, and the renew loop's first round starts at once.
            self.leading = true;
            self.led_term = self.observed.map_or(0, |o| o.record.leader_transitions + 1);
            self.start_round(env, cfg, out);
        }
    }

    fn fail<P: Recipe>(&mut self, cfg: &K8sConfig, out: &mut Out<P>) {
        self.call = None;
        if !self.leading {
            out.set_timer(CoordTimer::Retry, cfg.poll_delay());
        }
    }

    fn start_round<P: Recipe>(&mut self, env: &Env<'_>, cfg: &K8sConfig, out: &mut Out<P>) {
        self.round_deadline = Some(env.now + cfg.renew_deadline);
        out.set_timer(CoordTimer::Deadline, Delay::Fixed(cfg.renew_deadline));
        self.attempt(env, cfg, out);
    }

    /// Evaluated before every handler: a renewal round past its deadline ends leadership
    /// (`OnStoppedLeading`). The process then starts over as a fresh elector (controller
    /// managers exit and are restarted) with a new identity, forgetting what it observed.
    /// True when it stopped
    /// (the fresh elector's first attempt is then already under way).
    fn check_deadline<P: Recipe>(
        &mut self,
        env: &Env<'_>,
        cfg: &K8sConfig,
        out: &mut Out<P>,
    ) -> bool {
        if self.leading && self.round_deadline.is_some_and(|d| env.now >= d) {
            self.leading = false;
            self.round_deadline = None;
            self.observed = None;
            // The restarted process has a new identity.
            self.incarnation = env.now.0;
            out.cancel_timer(CoordTimer::Deadline);
            self.attempt(env, cfg, out);
            return true;
        }
        false
    }

    /// Handle a service answer.
    pub fn on_message<P: Recipe>(
        &mut self,
        env: &Env<'_>,
        cfg: &K8sConfig,
        from: NodeId,
        msg: Wire,
        out: &mut Out<P>,
    ) {
        if self.check_deadline(env, cfg, out) {
            // Every answer belongs to the stopped elector's requests.
            return;
        }
        let current = |req: u64| req == self.req && self.call.is_some();
        match (msg, self.call) {
            (Wire::LeaseGot { req, lease }, Some(Call::Get)) if current(req) => {
                self.on_got(env, cfg, lease, out);
            }
            (Wire::LeaseUpdated { req, version, .. }, Some(Call::Update { record, .. }))
                if current(req) =>
            {
                self.observed = Some(Observed {
                    record,
                    version,
                    at: env.now,
                });
                self.succeed(env, cfg, out);
            }
            (Wire::LeaseConflict { req, .. }, Some(Call::Update { fast, .. })) if current(req) => {
                if fast {
                    // The optimistic renewal lost: fall back to reading the Lease.
                    self.send(env, Call::Get, out);
                } else {
                    self.fail(cfg, out);
                }
            }
            (Wire::NotPrimary { hint }, Some(call)) if env.replicas > 1 => match hint {
                Some(h) if h != from => {
                    // Redirected: resend the refused request to the named primary.
                    self.target = h.saturating_sub(env.nodes) % env.replicas;
                    self.send(env, call, out);
                }
                // Nobody known to lead the group: the next attempt tries the next replica.
                _ => self.target = (self.target + 1) % env.replicas,
            },
            _ => {}
        }
    }

    /// Handle a timer: the next attempt (or the next renewal round) is due, or the round's
    /// deadline passed.
    pub fn on_timer<P: Recipe>(
        &mut self,
        env: &Env<'_>,
        cfg: &K8sConfig,
        t: CoordTimer,
        out: &mut Out<P>,
    ) {
        if self.check_deadline(env, cfg, out) || t != CoordTimer::Retry {
            return;
        }
        if self.call.is_some() && env.replicas > 1 {
            // Unanswered: try another replica.
            self.target = (self.target + 1) % env.replicas;
        }
        if self.leading && self.round_deadline.is_none() {
            self.start_round(env, cfg, out);
        } else {
            self.attempt(env, cfg, out);
        }
    }

    /// Status mapping: `Leader` while the renew loop runs (the leader's callbacks act, even
    /// after a failed renewal showed another holder, until the round's deadline);
    /// `Candidate` while a write naming itself as a new holder is in flight; otherwise
    /// `Follower` of the holder it last observed (none before its first read). `term` is
    /// `leaseTransitions + 1` — the number of acquisitions the Lease has seen — of the
    /// record it acquired (leader), is writing (candidate) or last observed (follower).
    pub fn status(&self) -> NodeStatus {
        let observed_term = self.observed.map_or(0, |o| o.record.leader_transitions + 1);
        let (role, leader, term) = match self.call {
            _ if self.leading => (Role::Leader, Some(self.id), self.led_term),
            Some(Call::Update {
                acquire: true,
                record,
                ..
            }) => (Role::Candidate, None, record.leader_transitions + 1),
            _ => {
                let holder = self.observed.map(|o| o.record.holder);
                (
                    Role::Follower,
                    holder.filter(|&h| h != self.id),
                    observed_term,
                )
            }
        };
        NodeStatus {
            role,
            term,
            leader,
            voted_for: None,
        }
    }

    /// Whether the renew loop runs.
    pub fn leading(&self) -> bool {
        self.leading
    }

    /// The record last observed and when, if any.
    pub fn observed(&self) -> Option<Observed> {
        self.observed
    }
}
