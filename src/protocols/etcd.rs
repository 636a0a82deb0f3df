//! The etcd leader-election recipe (etcd clientv3 `concurrency.Election`, as used by
//! Kubernetes' client-go `leaderelection` with an etcd lease lock) on the simulated
//! coordination service of [`coordinator`](super::coordinator).
//!
//! Modelled: each contender grants a lease with TTL `lease_ttl` and keeps it alive every
//! `lease_ttl / 3`; the service revokes a lease `lease_ttl` after its last keepalive (on the
//! service's clock) and deletes the keys attached to it. The contender puts
//! `election/<lease>` in a transaction guarded by "create revision is zero", then reads the
//! prefix: it leads when no key has a smaller create revision; otherwise it watches the key
//! with the largest create revision below its own for deletion (`waitDeletes`) and re-reads
//! when it goes. The leader believes it leads until its *local* estimate of the lease expiry
//! passes — `lease_ttl` after the last keepalive response, measured on its own (possibly
//! drifting) clock, as clientv3 computes the deadline on receipt — or until the service says
//! the lease is gone. With `fencing = true` every action carries the leader's create
//! revision and the service applies it only while that key still exists (the
//! `If(CreateRevision(key) == rev)` guard of `Election.Proclaim`); a rejected action makes the
//! leader give up its lease.
//!
//! Scaled: etcd's concurrency session TTL defaults to 60 s; the default here is 3 s (keepalive
//! every 1 s) so failovers fit into short simulated runs. Only the ratio to the network delays
//! matters for the recipe's behaviour.

use super::coordinator::{
    CoordNode, CoordTimer, RecipeConfig, SERVICE_PARAMS, SHARED_KIND_NAMES, ServiceConfig,
    WIRE_KINDS, Wire, check_positive, coord_node_protocol, kind_names, recipe_message,
};
use crate::field_error::FieldError;
use crate::protocols::Param;
use crate::sim::SimDuration;

/// etcd recipe options (scenario table `[etcd]`).
#[derive(Clone, Debug, PartialEq)]
pub struct EtcdConfig {
    /// Lease TTL. Default 3s (scaled down from clientv3's 60 s; keepalive every third).
    pub lease_ttl: SimDuration,
    /// Actions carry the create revision; the service rejects stale ones. Default false.
    pub fencing: bool,
    /// Interval of the leader's actions on the protected resource. Default 100ms.
    pub action_interval: SimDuration,
    /// The coordination service (the `[service]` table).
    pub service: ServiceConfig,
}

impl Default for EtcdConfig {
    fn default() -> Self {
        EtcdConfig {
            lease_ttl: SimDuration::from_secs(3),
            fencing: false,
            action_interval: SimDuration::from_millis(100),
            service: ServiceConfig::default(),
        }
    }
}

impl EtcdConfig {
    /// The recipe parameters: lease TTL, keepalives every TTL / 3, next-key watches, a
    /// client-side deadline, fencing as configured.
    pub fn recipe(&self) -> RecipeConfig {
        RecipeConfig {
            ttl: self.lease_ttl,
            ping_interval: SimDuration(self.lease_ttl.0 / 3),
            herd: false,
            client_deadline: true,
            fencing: self.fencing,
            action_interval: self.action_interval,
        }
    }
}

/// Parameters of the `[etcd]` table (and the shared `[service]` table).
pub const PARAMS: &[Param] = &[
    Param {
        key: "etcd.lease_ttl",
        default: "\"3s\"",
        doc: "lease TTL (scaled down from clientv3's 60 s); keepalive every third of it",
    },
    Param {
        key: "etcd.fencing",
        default: "false",
        doc: "leader actions carry the create revision; the service rejects stale ones",
    },
    Param {
        key: "etcd.action_interval",
        default: "\"100ms\"",
        doc: "interval of the leader's actions on the protected resource",
    },
    SERVICE_PARAMS[0],
    SERVICE_PARAMS[1],
    SERVICE_PARAMS[2],
];

/// The `[etcd]` table as written.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEtcd {
    /// `etcd.lease_ttl`: see [`EtcdConfig::lease_ttl`].
    pub lease_ttl: Option<SimDuration>,
    /// `etcd.fencing`: see [`EtcdConfig::fencing`].
    pub fencing: Option<bool>,
    /// `etcd.action_interval`: see [`EtcdConfig::action_interval`].
    pub action_interval: Option<SimDuration>,
}

impl RawEtcd {
    /// Apply defaults and check values; field paths are relative to `[etcd]`.
    pub fn validate(&self, nodes: u32, service: &ServiceConfig) -> Result<EtcdConfig, FieldError> {
        let _ = nodes;
        let d = EtcdConfig::default();
        let lease_ttl = check_positive("lease_ttl", self.lease_ttl.unwrap_or(d.lease_ttl))?;
        if lease_ttl < SimDuration::from_millis(3) {
            return Err(FieldError::new(
                "lease_ttl",
                format!("\"{lease_ttl}\""),
                "at least 3ms (keepalives go every third of it)",
            ));
        }
        Ok(EtcdConfig {
            lease_ttl,
            fencing: self.fencing.unwrap_or(d.fencing),
            action_interval: check_positive(
                "action_interval",
                self.action_interval.unwrap_or(d.action_interval),
            )?,
            service: service.clone(),
        })
    }
}

/// An etcd message: the shared wire format with etcd's names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EtcdMsg(pub Wire);

/// etcd's names for the session kinds ([`Wire::Open`] to [`Wire::Expired`]); the action and
/// service kinds follow ([`SHARED_KIND_NAMES`]).
const KINDS: [&str; WIRE_KINDS] = kind_names(
    &[
        "LeaseGrant",
        "LeaseGrantResponse",
        "LeaseKeepAlive",
        "LeaseKeepAliveResponse",
        "TxnPutIfAbsent",
        "TxnResponse",
        "RangePrefix",
        "RangeResponse",
        "WatchCreate",
        "WatchCreated",
        "WatchEvent",
        "LeaseNotFound",
    ],
    &SHARED_KIND_NAMES,
);

// `Message` for EtcdMsg (names from KINDS, the rest from `Wire`), `Recipe` for Etcd.
recipe_message!(EtcdMsg for Etcd, kinds: KINDS);

/// Timers (shared with ZooKeeper).
pub type EtcdTimer = CoordTimer;

/// One node: a contender (`id < nodes`) or a service replica. Its handlers are
/// [`CoordNode`]'s.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Etcd(pub CoordNode);

// `Protocol` for Etcd: every handler delegates to `CoordNode`.
coord_node_protocol!(Etcd, EtcdMsg, EtcdConfig);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::coordinator::{ListView, testkit};
    use crate::sim::{Ctx, NodeId, Out, Protocol, Role};

    const NODES: u32 = 3;

    fn ctx(id: NodeId, now_ms: u64, cfg: &EtcdConfig) -> Ctx<'_, EtcdConfig> {
        testkit::ctx(id, NODES, now_ms, cfg)
    }

    fn server_call(
        s: &mut Etcd,
        cfg: &EtcdConfig,
        now_ms: u64,
        from: NodeId,
        w: Wire,
    ) -> Vec<Wire> {
        let sent = testkit::deliver(s, &ctx(NODES, now_ms, cfg), from, w);
        sent.into_iter().map(|(_, w)| w).collect()
    }

    fn grant(s: &mut Etcd, cfg: &EtcdConfig, who: NodeId) -> (u64, u64) {
        let r = server_call(s, cfg, 0, who, Wire::Open { nonce: 1 });
        let Wire::Opened { session, .. } = r[0] else {
            panic!("{r:?}")
        };
        let r = server_call(s, cfg, 0, who, Wire::Create { session });
        let Wire::Created { rev, .. } = r[0] else {
            panic!("{r:?}")
        };
        (session, rev)
    }

    #[test]
    fn create_revisions_order_the_contenders() {
        let cfg = EtcdConfig::default();
        let mut out = Out::default();
        let mut s = Etcd::boot(&ctx(NODES, 0, &cfg), None, &mut out);
        let (_, r2) = grant(&mut s, &cfg, 2);
        let (_, r0) = grant(&mut s, &cfg, 0);
        let (l1, r1) = grant(&mut s, &cfg, 1);
        assert!(
            r2 < r0 && r0 < r1,
            "revisions follow creation order, not ids"
        );
        assert_eq!(s.status().leader, Some(2));
        let r = server_call(
            &mut s,
            &cfg,
            1,
            1,
            Wire::List {
                session: l1,
                watch: false,
            },
        );
        assert_eq!(
            r,
            vec![Wire::Children {
                session: l1,
                view: ListView {
                    holder: Some((r2, 2)),
                    own: Some(r1),
                    predecessor: Some(r0),
                }
            }]
        );
    }

    #[test]
    fn fencing_rejects_a_non_holder_token_and_without_it_the_write_gets_through() {
        for fencing in [false, true] {
            let cfg = EtcdConfig {
                fencing,
                ..EtcdConfig::default()
            };
            let mut out = Out::default();
            let mut s = Etcd::boot(&ctx(NODES, 0, &cfg), None, &mut out);
            let (l0, r0) = grant(&mut s, &cfg, 0);
            let (l1, r1) = grant(&mut s, &cfg, 1);
            assert_eq!(
                server_call(
                    &mut s,
                    &cfg,
                    1,
                    0,
                    Wire::Action {
                        session: l0,
                        token: r0
                    }
                ),
                vec![Wire::ActionOk { token: r0 }]
            );
            let r = server_call(
                &mut s,
                &cfg,
                1,
                1,
                Wire::Action {
                    session: l1,
                    token: r1,
                },
            );
            let expected = if fencing {
                Wire::StaleRejected { token: r1 }
            } else {
                Wire::StaleAccepted { token: r1 }
            };
            assert_eq!(r, vec![expected], "fencing = {fencing}");
        }
    }

    #[test]
    fn leader_trusts_its_lease_until_the_local_deadline() {
        let cfg = EtcdConfig::default();
        let mut out = Out::default();
        let mut c = Etcd::boot(&ctx(0, 0, &cfg), None, &mut out);
        let Wire::Open { nonce } = out.sent()[0].1.0 else {
            panic!()
        };
        for w in [
            Wire::Opened { nonce, session: 4 },
            Wire::Created { session: 4, rev: 2 },
            Wire::Children {
                session: 4,
                view: ListView::of(&[(2, 0)], Some(2)),
            },
        ] {
            c.on_message(&ctx(0, 0, &cfg), NODES, EtcdMsg(w), &mut out);
        }
        assert_eq!(c.status().role, Role::Leader);
        let mut out = Out::default();
        c.on_message(
            &ctx(0, 1000, &cfg),
            NODES,
            EtcdMsg(Wire::Pong {
                session: 4,
                holder: Some(0),
            }),
            &mut out,
        );
        let mut out = Out::default();
        c.on_timer(&ctx(0, 3999, &cfg), CoordTimer::Act, &mut out);
        assert_eq!(
            c.status().role,
            Role::Leader,
            "1 ms before ttl after the last keepalive response"
        );
        assert!(out.sent().iter().any(|(_, m)| m.0
            == Wire::Action {
                session: 4,
                token: 2
            }));
        let mut out = Out::default();
        c.on_timer(&ctx(0, 4000, &cfg), CoordTimer::Act, &mut out);
        assert_eq!(c.status().role, Role::Follower);
        assert_eq!(c.status().leader, None);
        assert!(
            out.sent()
                .iter()
                .all(|(_, m)| !matches!(m.0, Wire::Action { .. })),
            "no action after the deadline"
        );
    }
}
