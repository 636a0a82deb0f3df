//! The ZooKeeper leader-election recipe (zookeeper.apache.org "Recipes and Solutions",
//! Apache Curator `LeaderLatch`) on the simulated coordination service of
//! [`coordinator`](super::coordinator).
//!
//! Modelled: each contender opens a session and pings every `session_timeout / 3`; the
//! service expires a session `session_timeout` after its last ping (on the service's clock)
//! and deletes its EPHEMERAL_SEQUENTIAL node under `/election`; the contender whose node has
//! the smallest sequence number leads; every other contender sets an `exists` watch on the
//! next-lower node only and re-lists the children when it is deleted. `herd = true` makes
//! every contender watch the whole children list instead (the herd effect). A client that
//! has not heard from the service for `session_timeout` on its own clock stops acting as
//! leader and starts a new session; `client_step_down = false` models a client that ignores
//! the disconnection and only steps down when the service tells it its session expired.
//!
//! Simplified: sequence numbers come from one global counter (ZooKeeper uses the parent's
//! cversion, which orders creates the same way); a create is idempotent per session (as with
//! Curator's protected mode); any service reply does not refresh the session, pings do.

use super::coordinator::{
    CoordNode, CoordTimer, RecipeConfig, SERVICE_PARAMS, SHARED_KIND_NAMES, ServiceConfig,
    WIRE_KINDS, Wire, check_positive, coord_node_protocol, kind_names, recipe_message,
};
use crate::field_error::FieldError;
use crate::protocols::Param;
use crate::sim::SimDuration;

/// ZooKeeper recipe options (scenario table `[zookeeper]`).
#[derive(Clone, Debug, PartialEq)]
pub struct ZookeeperConfig {
    /// Session timeout. Default 2s (scaled down from Curator's 60 s; pings every third).
    pub session_timeout: SimDuration,
    /// Every contender watches the whole children list. Default false.
    pub herd: bool,
    /// A client disconnected for a session timeout (own clock) stops leading. Default true.
    pub client_step_down: bool,
    /// The service rejects actions whose sequence number is not the current leader's. Default false.
    pub fencing: bool,
    /// Interval of the leader's actions on the protected resource. Default 100ms.
    pub action_interval: SimDuration,
    /// The coordination service (the `[service]` table).
    pub service: ServiceConfig,
}

impl Default for ZookeeperConfig {
    fn default() -> Self {
        ZookeeperConfig {
            session_timeout: SimDuration::from_secs(2),
            herd: false,
            client_step_down: true,
            fencing: false,
            action_interval: SimDuration::from_millis(100),
            service: ServiceConfig::default(),
        }
    }
}

impl ZookeeperConfig {
    /// The recipe parameters: session timeout, pings every timeout / 3, the configured watch
    /// strategy, client step-down and fencing.
    pub fn recipe(&self) -> RecipeConfig {
        RecipeConfig {
            ttl: self.session_timeout,
            ping_interval: SimDuration(self.session_timeout.0 / 3),
            herd: self.herd,
            client_deadline: self.client_step_down,
            fencing: self.fencing,
            action_interval: self.action_interval,
        }
    }
}

/// Parameters of the `[zookeeper]` table (and the shared `[service]` table).
pub const PARAMS: &[Param] = &[
    Param {
        key: "zookeeper.session_timeout",
        default: "\"2s\"",
        doc: "session timeout (server expiry after no ping; pings every third of it)",
    },
    Param {
        key: "zookeeper.herd",
        default: "false",
        doc: "every contender watches the whole /election children list (herd effect)",
    },
    Param {
        key: "zookeeper.client_step_down",
        default: "true",
        doc: "a client disconnected for a session timeout (own clock) stops leading",
    },
    Param {
        key: "zookeeper.fencing",
        default: "false",
        doc: "the service rejects leader actions whose sequence number is stale",
    },
    Param {
        key: "zookeeper.action_interval",
        default: "\"100ms\"",
        doc: "interval of the leader's actions on the protected resource",
    },
    SERVICE_PARAMS[0],
    SERVICE_PARAMS[1],
    SERVICE_PARAMS[2],
];

/// The `[zookeeper]` table as written.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawZookeeper {
    /// `zookeeper.session_timeout`: see [`ZookeeperConfig::session_timeout`].
    pub session_timeout: Option<SimDuration>,
    /// `zookeeper.herd`: see [`ZookeeperConfig::herd`].
    pub herd: Option<bool>,
    /// `zookeeper.client_step_down`: see [`ZookeeperConfig::client_step_down`].
    pub client_step_down: Option<bool>,
    /// `zookeeper.fencing`: see [`ZookeeperConfig::fencing`].
    pub fencing: Option<bool>,
    /// `zookeeper.action_interval`: see [`ZookeeperConfig::action_interval`].
    pub action_interval: Option<SimDuration>,
}

impl RawZookeeper {
    /// Apply defaults and check values; field paths are relative to `[zookeeper]`.
    pub fn validate(
        &self,
        nodes: u32,
        service: &ServiceConfig,
    ) -> Result<ZookeeperConfig, FieldError> {
        let _ = nodes;
        let d = ZookeeperConfig::default();
        let session_timeout = check_positive(
            "session_timeout",
            self.session_timeout.unwrap_or(d.session_timeout),
        )?;
        if session_timeout < SimDuration::from_millis(3) {
            return Err(FieldError::new(
                "session_timeout",
                format!("\"{session_timeout}\""),
                "at least 3ms (pings go every third of it)",
            ));
        }
        Ok(ZookeeperConfig {
            session_timeout,
            herd: self.herd.unwrap_or(d.herd),
            client_step_down: self.client_step_down.unwrap_or(d.client_step_down),
            fencing: self.fencing.unwrap_or(d.fencing),
            action_interval: check_positive(
                "action_interval",
                self.action_interval.unwrap_or(d.action_interval),
            )?,
            service: service.clone(),
        })
    }
}

/// A ZooKeeper message: the shared wire format with ZooKeeper's names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ZookeeperMsg(pub Wire);

/// ZooKeeper's names for the session kinds ([`Wire::Open`] to [`Wire::Expired`]); the
/// action and service kinds follow ([`SHARED_KIND_NAMES`]).
const KINDS: [&str; WIRE_KINDS] = kind_names(
    &[
        "ConnectRequest",
        "ConnectResponse",
        "Ping",
        "PingResponse",
        "CreateEphemeralSequential",
        "CreateResponse",
        "GetChildren",
        "GetChildrenResponse",
        "ExistsWatch",
        "ExistsResponse",
        "WatchEvent",
        "SessionExpired",
    ],
    &SHARED_KIND_NAMES,
);

// `Message` for ZookeeperMsg (names from KINDS, the rest from `Wire`), `Recipe` for Zookeeper.
recipe_message!(ZookeeperMsg for Zookeeper, kinds: KINDS);

/// Timers (shared with etcd).
pub type ZookeeperTimer = CoordTimer;

/// One node: a contender (`id < nodes`) or a service replica. Its handlers are
/// [`CoordNode`]'s.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Zookeeper(pub CoordNode);

// `Protocol` for Zookeeper: every handler delegates to `CoordNode`.
coord_node_protocol!(Zookeeper, ZookeeperMsg, ZookeeperConfig);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::coordinator::testkit::{self, sent};
    use crate::protocols::coordinator::{ListView, Phase};
    use crate::sim::{Ctx, NodeId, NodeStatus, Out, Protocol, Role};

    const NODES: u32 = 3;

    fn ctx(id: NodeId, now_ms: u64, cfg: &ZookeeperConfig) -> Ctx<'_, ZookeeperConfig> {
        testkit::ctx(id, NODES, now_ms, cfg)
    }

    /// Drive one client and the server by hand (no network): returns the server.
    fn deliver(
        server: &mut Zookeeper,
        cfg: &ZookeeperConfig,
        now_ms: u64,
        from: NodeId,
        w: Wire,
    ) -> Vec<(Option<NodeId>, Wire)> {
        testkit::deliver(server, &ctx(NODES, now_ms, cfg), from, w)
    }

    #[test]
    fn server_expires_a_silent_session_and_deletes_its_node() {
        let cfg = ZookeeperConfig::default();
        let mut out = Out::default();
        let mut server = Zookeeper::boot(&ctx(NODES, 0, &cfg), None, &mut out);
        let r = deliver(&mut server, &cfg, 0, 0, Wire::Open { nonce: 1 });
        let Wire::Opened { session, .. } = r[0].1 else {
            panic!("{r:?}")
        };
        let r = deliver(&mut server, &cfg, 1, 0, Wire::Create { session });
        assert!(matches!(r[0].1, Wire::Created { .. }));
        assert_eq!(server.status().leader, Some(0));
        // A ping at 1s pushes expiry to 3s; the timer set at 0 fires at 2s and re-arms.
        deliver(&mut server, &cfg, 1000, 0, Wire::Ping { session });
        let mut out = Out::default();
        server.on_timer(
            &ctx(NODES, 2000, &cfg),
            CoordTimer::Expire(session),
            &mut out,
        );
        assert_eq!(server.status().leader, Some(0), "pinged 1s ago: alive");
        let mut out = Out::default();
        server.on_timer(
            &ctx(NODES, 3000, &cfg),
            CoordTimer::Expire(session),
            &mut out,
        );
        assert_eq!(
            server.status().leader,
            None,
            "session_timeout without pings: expired"
        );
        let r = deliver(&mut server, &cfg, 3001, 0, Wire::Ping { session });
        assert_eq!(r, vec![(Some(0), Wire::Expired { session })]);
    }

    #[test]
    fn client_watches_only_its_predecessor_and_leads_after_its_deletion() {
        let cfg = ZookeeperConfig::default();
        let mut out = Out::default();
        let mut c = Zookeeper::boot(&ctx(2, 0, &cfg), None, &mut out);
        let Wire::Open { nonce } = sent(&out)[0].1 else {
            panic!()
        };
        let step = |c: &mut Zookeeper, w: Wire| {
            let mut out = Out::default();
            c.on_message(&ctx(2, 5, &cfg), NODES, ZookeeperMsg(w), &mut out);
            sent(&out)
        };
        step(&mut c, Wire::Opened { nonce, session: 9 });
        assert_eq!((c.status().role, c.status().leader), (Role::Follower, None));
        step(&mut c, Wire::Created { session: 9, rev: 7 });
        let r = step(
            &mut c,
            Wire::Children {
                session: 9,
                view: ListView::of(&[(3, 0), (5, 1), (7, 2)], Some(7)),
            },
        );
        assert_eq!(
            r[0].1,
            Wire::WatchKey { session: 9, key: 5 },
            "watch the next-lower node, not the leader"
        );
        assert_eq!(
            c.status(),
            NodeStatus {
                role: Role::Follower,
                term: 7,
                leader: Some(0),
                voted_for: None
            }
        );
        step(
            &mut c,
            Wire::WatchArmed {
                session: 9,
                key: 5,
                exists: true,
            },
        );
        assert!(
            step(
                &mut c,
                Wire::Notify {
                    session: 9,
                    key: Some(3)
                }
            )
            .is_empty(),
            "not our watch"
        );
        let r = step(
            &mut c,
            Wire::Notify {
                session: 9,
                key: Some(5),
            },
        );
        assert_eq!(
            r[0].1,
            Wire::List {
                session: 9,
                watch: false
            }
        );
        step(
            &mut c,
            Wire::Children {
                session: 9,
                view: ListView::of(&[(7, 2)], Some(7)),
            },
        );
        assert_eq!(
            c.status(),
            NodeStatus {
                role: Role::Leader,
                term: 7,
                leader: Some(2),
                voted_for: None
            }
        );
        assert_eq!(c.0.as_client().unwrap().phase(), Phase::Leading);
    }

    #[test]
    fn disconnected_client_steps_down_on_its_own_clock_unless_configured_not_to() {
        for step_down in [true, false] {
            let cfg = ZookeeperConfig {
                client_step_down: step_down,
                ..ZookeeperConfig::default()
            };
            let mut out = Out::default();
            let mut c = Zookeeper::boot(&ctx(0, 0, &cfg), None, &mut out);
            let Wire::Open { nonce } = sent(&out)[0].1 else {
                panic!()
            };
            let mut out = Out::default();
            for w in [
                Wire::Opened { nonce, session: 1 },
                Wire::Created { session: 1, rev: 1 },
                Wire::Children {
                    session: 1,
                    view: ListView::of(&[(1, 0)], Some(1)),
                },
            ] {
                c.on_message(&ctx(0, 0, &cfg), NODES, ZookeeperMsg(w), &mut out);
            }
            assert_eq!(c.status().role, Role::Leader);
            let mut out = Out::default();
            c.on_timer(&ctx(0, 2000, &cfg), CoordTimer::Deadline, &mut out);
            let expected = if step_down {
                Role::Follower
            } else {
                Role::Leader
            };
            assert_eq!(c.status().role, expected, "client_step_down = {step_down}");
        }
    }
}
