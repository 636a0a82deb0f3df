//! Kubernetes Lease-lock leader election (client-go `tools/leaderelection` with a
//! `resourcelock.LeaseLock`, as kube-controller-manager and kube-scheduler run it) on the
//! simulated coordination service of [`coordinator`](super::coordinator), which stands in
//! for the API server over etcd.
//!
//! Modelled (facts from client-go's `leaderelection.go` and `leaselock.go`):
//! * One Lease object under optimistic concurrency: a write carries the `resourceVersion`
//!   the writer read and is applied only if it still matches (409 Conflict otherwise); a
//!   create succeeds only while no Lease exists. Replicas persist before acknowledging.
//! * Every candidate runs `tryAcquireOrRenew`: the leader first tries an optimistic update
//!   from its cached record while its own observation is valid (the fast path); otherwise
//!   it reads the Lease, creates it if missing, gives up if another holder's record changed
//!   less than `lease_duration` ago *on its own clock* (`observedTime` is local), and
//!   otherwise writes itself in (`leaseTransitions + 1` when it takes over).
//! * Non-leaders retry after a jittered wait, uniform in `[retry_period, retry_period *
//!   (1 + jitter_factor))` (`wait.JitterUntil`, sliding), drawn by the engine (`Delay`).
//! * The leader renews in rounds (`wait.Until` + `PollUntilContextTimeout`): a round starts
//!   `retry_period` after the previous one succeeded, tries at once and then every
//!   `retry_period`, and when it has not succeeded `renew_deadline` (own clock) after it
//!   began the leader stops leading. Only that deadline stops it: a failed renewal that
//!   reveals another holder does not, so the old leader keeps acting until the deadline.
//! * After stopping, the process starts over as a fresh elector (kube-controller-manager
//!   exits on lost leadership and is restarted), forgetting its observation.
//! * An identity is the node and its incarnation (client-go callers use `hostname_<UUID>`):
//!   a restarted node waits for its predecessor's lease to expire like anyone else.
//!
//! Modelling choices: a request unanswered when the next attempt is due is abandoned (it
//! stands in for the HTTP client timeout); with a replicated service a refused request is
//! redirected to the primary named in the refusal, an unanswered one goes to the next
//! replica. `status().term` is `leaseTransitions + 1` (see [`Elector::status`]):
//! `resourceVersion` changes on every renewal, so as a term it would report a new "term"
//! every `retry_period` and would not identify a leadership.

mod config;
mod elector;
#[cfg(test)]
mod tests;

pub use config::*;
pub use elector::*;

use super::coordinator::{
    CoordTimer, Env, LEASE_WIRE_KINDS, Replica, Wire, kind_names, recipe_message,
};
use crate::protocols::raft::RaftDurable;
use crate::sim::{Ctx, Message, NodeId, NodeStatus, Out, Protocol};

/// A Lease-lock message: the shared wire format with Kubernetes' names. The recipe sends
/// only the Lease kinds, `NotPrimary` and the replicas' own traffic; the other kinds keep
/// the etcd recipe's names so a sweep of both shares their (zero) columns.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct K8sMsg(pub Wire);

/// The etcd recipe's names, then the Lease kinds ([`Wire::LeaseGet`] to
/// [`Wire::LeaseConflict`]).
const KINDS: [&str; LEASE_WIRE_KINDS] = kind_names(
    super::etcd::EtcdMsg::KINDS,
    &[
        "LeaseLockGet",
        "LeaseLockGetResponse",
        "LeaseLockUpdate",
        "LeaseLockUpdateResponse",
        "LeaseLockConflict",
    ],
);

// `Message` for K8sMsg (names from KINDS, the rest from `Wire`), `Recipe` for K8s.
recipe_message!(K8sMsg for K8s, kinds: KINDS);

/// One node: a candidate (`id < nodes`) or a service replica.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum K8s {
    /// A participant running client-go's leader elector against the Lease.
    Candidate(Elector),
    /// A replica of the coordination service standing in for the API server (boxed: it
    /// holds the whole store).
    Replica(Box<Replica>),
}

type KCtx<'a> = Ctx<'a, K8sConfig>;

fn env<'a>(ctx: &KCtx<'a>) -> Env<'a> {
    Env::from_ctx(ctx, ctx.config.recipe(), &ctx.config.service)
}

impl Protocol for K8s {
    type Msg = K8sMsg;
    type Timer = CoordTimer;
    type Durable = RaftDurable;
    type Config = K8sConfig;

    fn boot(ctx: &KCtx<'_>, durable: Option<&RaftDurable>, out: &mut Out<Self>) -> Self {
        let env = env(ctx);
        if ctx.id < ctx.nodes {
            K8s::Candidate(Elector::boot(&env, ctx.config, out))
        } else {
            let mut r = Replica::boot(&env, durable, out);
            r.flush(&env, out);
            K8s::Replica(Box::new(r))
        }
    }
    fn on_message(&mut self, ctx: &KCtx<'_>, from: NodeId, msg: K8sMsg, out: &mut Out<Self>) {
        match self {
            K8s::Candidate(e) => e.on_message(&env(ctx), ctx.config, from, msg.0, out),
            K8s::Replica(r) => r.on_message(&env(ctx), from, msg.0, out),
        }
    }
    fn on_timer(&mut self, ctx: &KCtx<'_>, t: CoordTimer, out: &mut Out<Self>) {
        match self {
            K8s::Candidate(e) => e.on_timer(&env(ctx), ctx.config, t, out),
            K8s::Replica(r) => r.on_timer(&env(ctx), t, out),
        }
    }
    fn status(&self) -> NodeStatus {
        match self {
            K8s::Candidate(e) => e.status(),
            K8s::Replica(r) => r.status(),
        }
    }
    fn service_nodes(config: &K8sConfig) -> u32 {
        config.service.replicas
    }
}
