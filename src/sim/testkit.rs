//! Fixtures of the protocols' handler-level unit tests: a handler runs on a hand-made
//! context and its effects are read back, with no engine.

use super::{Ctx, NodeId, Out, Protocol, SimTime};

/// The context of node `id` at `now` (its own clock) in a cluster of `nodes` participants
/// and `service` service replicas.
pub(crate) fn ctx<C>(id: NodeId, nodes: u32, service: u32, now: SimTime, config: &C) -> Ctx<'_, C> {
    Ctx {
        id,
        nodes,
        service,
        now,
        config,
    }
}

/// Boot a node on `ctx` with no durable state: the node and what it did.
pub(crate) fn boot<P: Protocol>(ctx: &Ctx<'_, P::Config>) -> (P, Out<P>) {
    let mut out = Out::default();
    let node = P::boot(ctx, None, &mut out);
    (node, out)
}

/// The messages a handler sent, owned: (destination, or `None` for a broadcast; message).
pub(crate) fn sent<P: Protocol>(out: &Out<P>) -> Vec<(Option<NodeId>, P::Msg)> {
    out.sent()
        .into_iter()
        .map(|(to, m)| (to, m.clone()))
        .collect()
}
