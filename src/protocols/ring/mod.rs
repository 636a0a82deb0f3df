//! Ring election: Chang & Roberts ("An improved algorithm for decentralized extrema-finding in
//! circular configurations of processes", CACM 22(5), 1979), LeLann's original all-ids
//! variant (LeLann 1977), and Tanenbaum's crash-tolerant ring (skip a successor that does not
//! acknowledge; Tanenbaum & van Steen, *Distributed Systems*, §6.5).
//!
//! Messages: `Election` (a token carrying an id), `Elected` (the winner's announcement, one
//! lap), `Ack` (the successor's receipt of a token) and `Heartbeat` (leader -> all).
//!
//! The logical ring is `order` (default: ids ascending); tokens travel from `order[i]` to
//! `order[i + 1]`, wrapping around.
//!
//! Chang–Roberts (`variant = "chang_roberts"`): an initiator sends its own id. A node
//! forwards a larger id, swallows a smaller one if it already takes part, and otherwise
//! replaces it with its own id (it joins as an initiator). A node that gets its own id back
//! has the largest live id: it leads, and sends `Elected` around once (unless it passed on a
//! larger id or learned a larger winner in the same epoch: then its token went round a node
//! that was skipped by mistake). A node that knows the epoch's winner swallows late smaller
//! ids.
//! LeLann (`variant = "lcr"`): every node that takes part sends its own id and forwards every
//! other id, so each id travels the whole ring (n² tokens with n initiators); a node decides
//! when its own id comes back, on the largest id it has seen. There is no `Elected` lap.
//!
//! Crash tolerance: every token is acknowledged by its receiver; a sender that gets no `Ack`
//! within `ack_timeout` suspects its successor and re-sends its unacknowledged tokens to the
//! next unsuspected node of the ring. Suspicions are cleared when the node is heard from and
//! when a new election epoch starts. A node with no unsuspected successor left leads alone.
//! A token seen a second time in the same epoch (its originator is gone, or it was
//! duplicated) is swallowed.
//!
//! Failure detection: the leader broadcasts `Heartbeat` every `heartbeat`; a node that has
//! not heard it (or an `Elected`) for a heartbeat timeout (redrawn uniformly in
//! `heartbeat_timeout`) starts a new election. While an election runs the same timer guards
//! against a stuck election, lengthened by two laps at one `ack_timeout` per hop
//! (`2 · nodes · ack_timeout`) so that large rings can finish. At the first boot, `initiators = "all"` makes
//! every node start an election; `"one"` only `order[0]`. A recovering node does not start
//! an election: it waits for a heartbeat (or for its detector).
//!
//! Roles: a node whose own id is still in the running is `Candidate` (so entering Candidate is
//! starting an election); one that has seen a larger id is a `Follower` without a leader
//! until `Elected` (or the leader's heartbeat) names one. `status().term` is the election
//! epoch: starting an election bumps it, tokens carry it, a newer epoch resets a node's
//! election state, and tokens of older epochs are dropped.

use crate::field_error::FieldError;
use crate::protocols::Param;
use crate::protocols::detector::{Detector, DetectorConfig, DetectorKind, RawDetector};
use crate::protocols::stabilizer::{Stabilizer, StabilizerConfig};
use crate::sim::{
    Ctx, Delay, Message, MsgClass, NodeId, NodeStatus, Out, Protocol, Role, SimDuration, TimerKey,
};
use std::collections::BTreeSet;

mod detector;
mod election;

/// Which ring algorithm runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// Chang–Roberts: smaller ids are swallowed; an Elected lap announces the winner.
    #[default]
    ChangRoberts,
    /// LeLann: every id travels the whole ring; no Elected lap.
    Lcr,
}

/// Who starts an election at the first boot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Initiators {
    /// Every node starts an election at boot.
    #[default]
    All,
    /// Only `order[0]`.
    One,
}

/// Ring options (scenario table `[ring]`).
#[derive(Clone, Debug, PartialEq)]
pub struct RingConfig {
    /// The ring: a permutation of `0..nodes`; tokens go from `order[i]` to `order[i+1]`.
    /// Empty (the default) means ids ascending.
    pub order: Vec<NodeId>,
    /// Default chang_roberts.
    pub variant: Variant,
    /// Default all.
    pub initiators: Initiators,
    /// Leader heartbeat interval. Default 50ms.
    pub heartbeat: SimDuration,
    /// Failure-detector timeout range, redrawn at every reset. Default 150ms..250ms.
    pub heartbeat_timeout_min: SimDuration,
    /// Upper bound of the failure-detector timeout range.
    pub heartbeat_timeout_max: SimDuration,
    /// A successor that does not acknowledge a token within this is skipped. Default 30ms.
    pub ack_timeout: SimDuration,
    /// Which failure detector followers run (`detector` and its keys). Default timeout.
    pub detector: DetectorConfig,
    /// The `[stabilizer]` table. Default off.
    pub stabilizer: StabilizerConfig,
}

impl Default for RingConfig {
    fn default() -> Self {
        RingConfig {
            order: Vec::new(),
            variant: Variant::ChangRoberts,
            initiators: Initiators::All,
            heartbeat: SimDuration::from_millis(50),
            heartbeat_timeout_min: SimDuration::from_millis(150),
            heartbeat_timeout_max: SimDuration::from_millis(250),
            ack_timeout: SimDuration::from_millis(30),
            detector: DetectorConfig::default(),
            stabilizer: StabilizerConfig::default(),
        }
    }
}

/// Parameters of the `[ring]` scenario table.
pub const PARAMS: &[Param] = &[
    Param {
        key: "ring.order",
        default: "ids ascending",
        doc: "the logical ring as a permutation of the node ids; tokens travel order[i] -> order[i+1]",
    },
    Param {
        key: "ring.variant",
        default: "\"chang_roberts\"",
        doc: "\"chang_roberts\" (swallow smaller ids) or \"lcr\" (LeLann: every id travels the whole ring)",
    },
    Param {
        key: "ring.initiators",
        default: "\"all\"",
        doc: "who starts the first election: \"all\" nodes or \"one\" (order[0])",
    },
    Param {
        key: "ring.heartbeat",
        default: "\"50ms\"",
        doc: "leader -> all heartbeat interval",
    },
    Param {
        key: "ring.heartbeat_timeout",
        default: "[\"150ms\", \"250ms\"]",
        doc: "failure-detector timeout range [min, max], redrawn at every reset; min must exceed heartbeat",
    },
    Param {
        key: "ring.ack_timeout",
        default: "\"30ms\"",
        doc: "skip a successor that does not acknowledge a token within this (must exceed a round trip)",
    },
    DETECTOR_PARAMS[0],
    DETECTOR_PARAMS[1],
    DETECTOR_PARAMS[2],
    DETECTOR_PARAMS[3],
    DETECTOR_PARAMS[4],
    DETECTOR_PARAMS[5],
];

/// The failure-detector keys of `[ring]`.
const DETECTOR_PARAMS: [Param; 6] = crate::detector_params!("ring");

/// The `[ring]` table as written.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRing {
    /// `ring.order`: see [`RingConfig::order`] (checked to be a permutation by
    /// [`RawRing::validate`]).
    pub order: Option<Vec<i64>>,
    /// `ring.variant`: see [`RingConfig::variant`].
    pub variant: Option<Variant>,
    /// `ring.initiators`: see [`RingConfig::initiators`].
    pub initiators: Option<Initiators>,
    /// `ring.heartbeat`: see [`RingConfig::heartbeat`].
    pub heartbeat: Option<SimDuration>,
    /// `ring.heartbeat_timeout` as `[min, max]`: see [`RingConfig::heartbeat_timeout_min`].
    pub heartbeat_timeout: Option<[SimDuration; 2]>,
    /// `ring.ack_timeout`: see [`RingConfig::ack_timeout`].
    pub ack_timeout: Option<SimDuration>,
    /// `ring.detector`: see [`DetectorConfig::kind`].
    pub detector: Option<DetectorKind>,
    /// `ring.phi_threshold`: see [`DetectorConfig::phi_threshold`]; above 0 and at most
    /// [`MAX_PHI_THRESHOLD`](crate::protocols::detector::MAX_PHI_THRESHOLD).
    pub phi_threshold: Option<f64>,
    /// `ring.phi_window`: see [`DetectorConfig::phi_window`] (samples); from 1 to
    /// [`MAX_PHI_WINDOW`](crate::protocols::detector::MAX_PHI_WINDOW).
    pub phi_window: Option<i64>,
    /// `ring.phi_min_std`: see [`DetectorConfig::phi_min_std`]; must be positive.
    pub phi_min_std: Option<SimDuration>,
    /// `ring.phi_acceptable_pause`: see [`DetectorConfig::phi_acceptable_pause`].
    pub phi_acceptable_pause: Option<SimDuration>,
    /// `ring.quorum_wait`: see [`DetectorConfig::quorum_wait`]; must be positive.
    pub quorum_wait: Option<SimDuration>,
}

impl RawRing {
    /// Apply defaults and check values; field paths are relative to `[ring]`.
    pub fn validate(&self, nodes: u32) -> Result<RingConfig, FieldError> {
        let d = RingConfig::default();
        let mut order = Vec::new();
        if let Some(list) = &self.order {
            if list.len() != nodes as usize {
                return Err(FieldError::new(
                    "order",
                    format!("{list:?}"),
                    format!("a permutation of all {nodes} node ids 0..{nodes}"),
                ));
            }
            let mut seen = vec![false; nodes as usize];
            for (i, &n) in list.iter().enumerate() {
                if n < 0 || n >= i64::from(nodes) {
                    return Err(FieldError::new(
                        format!("order.{i}"),
                        n,
                        format!("a node id in 0..{nodes}"),
                    ));
                }
                if seen[n as usize] {
                    return Err(FieldError::new(
                        format!("order.{i}"),
                        n,
                        "each node id once (a permutation)",
                    ));
                }
                seen[n as usize] = true;
                order.push(n as NodeId);
            }
        }
        let (heartbeat, min, max) = super::heartbeat_detector(
            self.heartbeat.unwrap_or(d.heartbeat),
            self.heartbeat_timeout
                .unwrap_or([d.heartbeat_timeout_min, d.heartbeat_timeout_max]),
        )?;
        let ack_timeout = super::positive_duration(
            "ack_timeout",
            self.ack_timeout.unwrap_or(d.ack_timeout),
            "a positive duration longer than a message round trip, e.g. \"30ms\"",
        )?;
        Ok(RingConfig {
            order,
            variant: self.variant.unwrap_or(d.variant),
            initiators: self.initiators.unwrap_or(d.initiators),
            heartbeat,
            heartbeat_timeout_min: min,
            heartbeat_timeout_max: max,
            ack_timeout,
            detector: RawDetector {
                detector: self.detector,
                phi_threshold: self.phi_threshold,
                phi_window: self.phi_window,
                phi_min_std: self.phi_min_std,
                phi_acceptable_pause: self.phi_acceptable_pause,
                quorum_wait: self.quorum_wait,
            }
            .validate()?,
            stabilizer: d.stabilizer,
        })
    }
}

impl RingConfig {
    /// The node at ring position `pos` (of `nodes`).
    fn at(&self, pos: usize, nodes: u32) -> NodeId {
        if self.order.is_empty() {
            (pos % nodes as usize) as NodeId
        } else {
            self.order[pos % self.order.len()]
        }
    }
    fn position(&self, id: NodeId) -> usize {
        if self.order.is_empty() {
            id as usize
        } else {
            self.order.iter().position(|&n| n == id).unwrap_or(0)
        }
    }
}

/// Ring messages. Tokens (`Election`, `Elected`) carry a per-sender sequence number that the
/// receiver echoes in `Ack`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RingMsg {
    /// Chang–Roberts: the best id so far; LeLann: the id of the token's originator.
    Election {
        /// The election epoch of the token.
        epoch: u64,
        /// The candidate id the token carries.
        id: NodeId,
        /// Per-sender sequence number, acknowledged by the successor.
        seq: u64,
    },
    /// The winner's announcement, passed once around the ring.
    Elected {
        /// The election epoch of the token.
        epoch: u64,
        /// The elected node.
        leader: NodeId,
        /// Per-sender sequence number, acknowledged by the successor.
        seq: u64,
    },
    /// A successor acknowledges a token.
    Ack {
        /// Sequence number of the token acknowledged.
        seq: u64,
    },
    /// The leader's periodic liveness message.
    Heartbeat {
        /// The leader's election epoch.
        epoch: u64,
    },
    /// `detector = "quorum"`: "do you also miss `leader`?" (round `round` of the sender).
    SuspectQuery {
        /// The leader the querier suspects.
        leader: NodeId,
        /// The querier's round number, echoed in the reply so late replies to an older query
        /// are ignored.
        round: u64,
    },
    /// `detector = "quorum"`: the answer to a SuspectQuery.
    SuspectReply {
        /// The round of the query answered.
        round: u64,
        /// Whether the replier, too, has not heard `leader` within its own minimum timeout.
        misses: bool,
    },
}

impl Message for RingMsg {
    const KINDS: &'static [&'static str] = &[
        "Election",
        "Elected",
        "Ack",
        "Heartbeat",
        "SuspectQuery",
        "SuspectReply",
    ];
    fn kind(&self) -> usize {
        match self {
            RingMsg::Election { .. } => 0,
            RingMsg::Elected { .. } => 1,
            RingMsg::Ack { .. } => 2,
            RingMsg::Heartbeat { .. } => 3,
            RingMsg::SuspectQuery { .. } => 4,
            RingMsg::SuspectReply { .. } => 5,
        }
    }
    fn class(&self) -> MsgClass {
        match self {
            RingMsg::Election { .. } | RingMsg::Elected { .. } => MsgClass::Election,
            RingMsg::Ack { .. }
            | RingMsg::Heartbeat { .. }
            | RingMsg::SuspectQuery { .. }
            | RingMsg::SuspectReply { .. } => MsgClass::Heartbeat,
        }
    }
    fn term(&self) -> Option<u64> {
        match *self {
            RingMsg::Election { epoch, .. }
            | RingMsg::Elected { epoch, .. }
            | RingMsg::Heartbeat { epoch } => Some(epoch),
            RingMsg::Ack { .. } | RingMsg::SuspectQuery { .. } | RingMsg::SuspectReply { .. } => {
                None
            }
        }
    }
}

/// Timer keys of a ring node (at most one pending timer per key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RingTimer {
    /// Leader failure detector (and stuck-election guard).
    Detector,
    /// The oldest unacknowledged token was not acknowledged in time.
    Ack,
    /// Leader: send the next heartbeat.
    Heartbeat,
    /// `detector = "quorum"`: the query for confirmations is over.
    SuspectQuery,
}

impl TimerKey for RingTimer {
    fn name(&self) -> &'static str {
        match self {
            RingTimer::Detector => "detector",
            RingTimer::Ack => "ack",
            RingTimer::Heartbeat => "heartbeat",
            RingTimer::SuspectQuery => "suspect_query",
        }
    }
}

/// A token sent to a successor and not yet acknowledged.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Pending {
    seq: u64,
    to: NodeId,
    msg: RingMsg,
}

/// Bound on unacknowledged tokens per node; older ones are dropped beyond it.
const MAX_PENDING: usize = 1024;

/// One ring node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ring {
    id: NodeId,
    pos: usize,
    role: Role,
    epoch: u64,
    leader: Option<NodeId>,
    /// Takes part in the current epoch's election (has sent or forwarded a token).
    participant: bool,
    /// Ids whose Election token this node has passed on in this epoch (a sparse set: a
    /// dense per-node vector made start-up O(n^2) in memory).
    forwarded: BTreeSet<NodeId>,
    /// Passed on an Elected in this epoch.
    elected_forwarded: bool,
    /// LeLann: the largest id seen in this epoch.
    best_seen: NodeId,
    /// Nodes skipped as successors (sparse, like `forwarded`).
    suspected: BTreeSet<NodeId>,
    pending: Vec<Pending>,
    next_seq: u64,
    /// The follower's failure detector (heartbeat history, quorum query).
    detector: Detector,
    /// The last leadership change this node observed (`[stabilizer]`).
    stabilizer: Stabilizer,
}

type RCtx<'a> = Ctx<'a, RingConfig>;

impl Ring {
    /// The node's current election epoch.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }
}

impl Protocol for Ring {
    type Msg = RingMsg;
    type Timer = RingTimer;
    /// The election epoch (its presence also marks "has booted before").
    type Durable = u64;
    type Config = RingConfig;
    /// `order` when configured, else ids ascending.
    fn ring_order(config: &RingConfig, nodes: u32) -> Option<Vec<NodeId>> {
        Some((0..nodes as usize).map(|p| config.at(p, nodes)).collect())
    }

    fn boot(ctx: &RCtx<'_>, durable: Option<&u64>, out: &mut Out<Self>) -> Self {
        let mut node = Ring {
            id: ctx.id,
            pos: ctx.config.position(ctx.id),
            role: Role::Follower,
            epoch: durable.copied().unwrap_or(0),
            leader: None,
            participant: false,
            forwarded: BTreeSet::new(),
            elected_forwarded: false,
            best_seen: ctx.id,
            suspected: BTreeSet::new(),
            pending: Vec::new(),
            next_seq: 0,
            detector: Detector::default(),
            stabilizer: Stabilizer::default(),
        };
        let first_boot = durable.is_none();
        let initiates = match ctx.config.initiators {
            Initiators::All => true,
            Initiators::One => node.pos == 0,
        };
        if first_boot && initiates {
            node.start_election(ctx, out);
        } else if first_boot {
            // The first election is under way: wait for it like a participant would.
            out.persist(node.epoch);
            Self::arm_election_guard(ctx, out);
        } else {
            out.persist(node.epoch);
            Self::arm_detector(ctx, out);
        }
        node
    }

    fn on_message(&mut self, ctx: &RCtx<'_>, from: NodeId, msg: RingMsg, out: &mut Out<Self>) {
        self.suspected.remove(&from); // Heard from it: it is alive.
        match msg {
            RingMsg::Ack { seq } => {
                let before = self.pending.len();
                self.pending.retain(|p| p.seq != seq);
                if self.pending.len() != before {
                    if self.pending.is_empty() {
                        out.cancel_timer(RingTimer::Ack);
                    } else {
                        out.set_timer(RingTimer::Ack, Delay::Fixed(ctx.config.ack_timeout));
                    }
                }
            }
            RingMsg::Election { epoch, id, seq } => {
                out.send(from, RingMsg::Ack { seq });
                if epoch < self.epoch {
                    return;
                }
                if epoch > self.epoch {
                    self.enter_epoch(ctx, epoch, out);
                }
                self.on_election(ctx, id, out);
            }
            RingMsg::Elected { epoch, leader, seq } => {
                out.send(from, RingMsg::Ack { seq });
                if epoch < self.epoch {
                    return;
                }
                if epoch > self.epoch {
                    self.enter_epoch(ctx, epoch, out);
                }
                if leader == self.id || self.elected_forwarded {
                    return; // The announcement made its lap (or is a duplicate).
                }
                self.elected_forwarded = true;
                self.follow(ctx, leader, out);
                self.send_token(
                    ctx,
                    RingMsg::Elected {
                        epoch,
                        leader,
                        seq: 0,
                    },
                    out,
                );
            }
            RingMsg::Heartbeat { epoch } => {
                if self.role == Role::Leader {
                    // Two leaders (e.g. after a partition heals): the larger id keeps leading.
                    if from > self.id {
                        if epoch > self.epoch {
                            self.epoch = epoch;
                            out.persist(epoch);
                        }
                        self.follow(ctx, from, out);
                    }
                    return;
                }
                if epoch < self.epoch {
                    return; // A leader of an older epoch; the newer election decides.
                }
                if epoch > self.epoch {
                    self.enter_epoch(ctx, epoch, out);
                }
                if self.role == Role::Follower
                    && self.leader.is_some_and(|l| l > from)
                    && !self.participant
                {
                    return; // Our leader is larger and will outlast `from`.
                }
                self.follow(ctx, from, out);
            }
            RingMsg::SuspectQuery { leader, round } => {
                let misses = leader != self.id
                    && self.detector.misses(
                        leader,
                        self.leader,
                        ctx.now,
                        ctx.config.heartbeat_timeout_min,
                    );
                out.send(from, RingMsg::SuspectReply { round, misses });
            }
            RingMsg::SuspectReply { round, misses } => {
                if self.role == Role::Follower
                    && self.leader.is_some()
                    && self.detector.reply(round, from, misses, ctx.nodes)
                {
                    out.cancel_timer(RingTimer::SuspectQuery);
                    self.start_election(ctx, out);
                }
            }
        }
    }

    fn on_timer(&mut self, ctx: &RCtx<'_>, timer: RingTimer, out: &mut Out<Self>) {
        match timer {
            RingTimer::Detector => {
                if self.role == Role::Follower && self.leader.is_some() {
                    self.on_detector(ctx, out);
                } else if self.role != Role::Leader {
                    self.start_election(ctx, out);
                }
            }
            RingTimer::SuspectQuery => {
                if self.role == Role::Follower && self.detector.query().is_some() {
                    // No majority confirmed the suspicion: keep the leader, look again later.
                    self.detector.close_query();
                    self.arm_leader_detector(ctx, out);
                }
            }
            RingTimer::Ack => self.on_ack_timeout(ctx, out),
            RingTimer::Heartbeat => {
                if self.role == Role::Leader {
                    out.broadcast(RingMsg::Heartbeat { epoch: self.epoch });
                    out.set_timer(RingTimer::Heartbeat, Delay::Fixed(ctx.config.heartbeat));
                }
            }
        }
    }

    fn status(&self) -> NodeStatus {
        NodeStatus {
            role: self.role,
            term: self.epoch,
            leader: self.leader,
            voted_for: None,
        }
    }
}

#[cfg(test)]
mod tests;
