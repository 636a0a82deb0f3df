//! Garcia-Molina's Bully algorithm ("Elections in a Distributed Computing System", IEEE
//! Trans. Computers C-31(1), 1982), with an optional quorum guard.
//!
//! Messages: `Election` (to every higher id), `Answer` (the "OK" of textbooks, from a higher
//! id that is alive), `Coordinator` (the winner's announcement, to every lower id) and, for
//! failure detection, `Heartbeat` (coordinator -> all, every `heartbeat`). With
//! `quorum_guard`, receivers acknowledge Coordinator (`CoordinatorAck`) and heartbeats
//! (`HeartbeatAck`).
//!
//! Rules, as modelled:
//! * A node that boots or recovers holds an election at once, so a recovering higher id
//!   bullies the current coordinator out of office.
//! * A follower that has not heard its coordinator's heartbeat for a heartbeat timeout
//!   (redrawn uniformly in `heartbeat_timeout` at every reset) holds an election. Only the
//!   nodes in `detectors` run this failure detector (default: all).
//! * Holding an election: send Election to every higher id. No Answer within
//!   `answer_timeout` -> claim leadership: send Coordinator to every lower id. An Answer but
//!   no Coordinator within `coordinator_timeout` -> hold the election again.
//! * A node that receives Election from a lower id answers it and holds one election of its
//!   own (unless it is already holding one). A coordinator answers and re-announces itself to
//!   the sender instead.
//! * Coordinator (or a heartbeat) from a higher id is accepted; from a lower id the receiver
//!   bullies: it holds an election, or re-announces itself when it already leads.
//! * `quorum_guard`: a claimant becomes leader only once a strict majority of all nodes
//!   (itself included) acknowledged its Coordinator within `answer_timeout`; a leader checks
//!   at every heartbeat interval that a majority acknowledged (its claim or a heartbeat)
//!   within the last heartbeat timeout (`heartbeat_timeout` min), and steps down otherwise.
//!
//! Epochs: Bully has no terms. Each node keeps the highest election epoch it has seen
//! (persisted): holding an election bumps it by one, every message carries the sender's
//! epoch and receivers adopt a higher one. `status().term` is that epoch, except that a
//! claimant or leader keeps the epoch it announced for its whole tenure. So "same term
//! leaders" means two nodes led under the same announced epoch number, which happens on the
//! two sides of a partition, and when a restarted node announces an epoch that was used while
//! it was down (it cannot know about it): Bully claims no per-epoch safety.

use crate::field_error::FieldError;
use crate::protocols::Param;
use crate::protocols::detector::{Detector, DetectorConfig, DetectorKind, RawDetector};
use crate::protocols::stabilizer::{Stabilizer, StabilizerConfig};
use crate::sim::{
    Ctx, Delay, Message, MsgClass, NodeId, NodeStatus, Out, Protocol, Role, SimDuration, SimTime,
    TimerKey,
};

/// Bully options (scenario table `[bully]`).
#[derive(Clone, Debug, PartialEq)]
pub struct BullyConfig {
    /// Coordinator heartbeat interval. Default 50ms.
    pub heartbeat: SimDuration,
    /// Follower heartbeat timeout, redrawn uniformly in [min, max] at every reset.
    /// Default 150ms..250ms.
    pub heartbeat_timeout_min: SimDuration,
    /// Upper bound of the follower heartbeat timeout range.
    pub heartbeat_timeout_max: SimDuration,
    /// How long a node waits for an Answer before claiming leadership. Default 50ms.
    pub answer_timeout: SimDuration,
    /// How long a node that got an Answer waits for Coordinator. Default 200ms.
    pub coordinator_timeout: SimDuration,
    /// Leadership needs (and keeps) acknowledgements from a strict majority. Default false.
    pub quorum_guard: bool,
    /// Nodes that run the heartbeat failure detector; `None` = all (default).
    pub detectors: Option<Vec<NodeId>>,
    /// Which failure detector followers run (`detector` and its keys). Default timeout.
    pub detector: DetectorConfig,
    /// The `[stabilizer]` table. Default off.
    pub stabilizer: StabilizerConfig,
}

impl Default for BullyConfig {
    fn default() -> Self {
        BullyConfig {
            heartbeat: SimDuration::from_millis(50),
            heartbeat_timeout_min: SimDuration::from_millis(150),
            heartbeat_timeout_max: SimDuration::from_millis(250),
            answer_timeout: SimDuration::from_millis(50),
            coordinator_timeout: SimDuration::from_millis(200),
            quorum_guard: false,
            detectors: None,
            detector: DetectorConfig::default(),
            stabilizer: StabilizerConfig::default(),
        }
    }
}

/// Parameters of the `[bully]` scenario table.
pub const PARAMS: &[Param] = &[
    Param {
        key: "bully.heartbeat",
        default: "\"50ms\"",
        doc: "coordinator -> all heartbeat interval",
    },
    Param {
        key: "bully.heartbeat_timeout",
        default: "[\"150ms\", \"250ms\"]",
        doc: "follower failure-detector timeout range [min, max], redrawn at every heartbeat; min must exceed heartbeat",
    },
    Param {
        key: "bully.answer_timeout",
        default: "\"50ms\"",
        doc: "wait for an Answer before claiming leadership (must exceed a round trip)",
    },
    Param {
        key: "bully.coordinator_timeout",
        default: "\"200ms\"",
        doc: "after an Answer, wait this long for Coordinator before re-running the election",
    },
    Param {
        key: "bully.quorum_guard",
        default: "false",
        doc: "claim leadership only with acks from a majority; a leader without majority acks within the last heartbeat timeout steps down",
    },
    Param {
        key: "bully.detectors",
        default: "all nodes",
        doc: "node ids that run the heartbeat failure detector (literature set-ups)",
    },
    DETECTOR_PARAMS[0],
    DETECTOR_PARAMS[1],
    DETECTOR_PARAMS[2],
    DETECTOR_PARAMS[3],
    DETECTOR_PARAMS[4],
    DETECTOR_PARAMS[5],
];

/// The failure-detector keys of `[bully]`.
const DETECTOR_PARAMS: [Param; 6] = crate::detector_params!("bully");

/// The `[bully]` table as written.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBully {
    /// `bully.heartbeat`: see [`BullyConfig::heartbeat`].
    pub heartbeat: Option<SimDuration>,
    /// `bully.heartbeat_timeout` as `[min, max]`: see [`BullyConfig::heartbeat_timeout_min`].
    pub heartbeat_timeout: Option<[SimDuration; 2]>,
    /// `bully.answer_timeout`: see [`BullyConfig::answer_timeout`].
    pub answer_timeout: Option<SimDuration>,
    /// `bully.coordinator_timeout`: see [`BullyConfig::coordinator_timeout`].
    pub coordinator_timeout: Option<SimDuration>,
    /// `bully.quorum_guard`: see [`BullyConfig::quorum_guard`].
    pub quorum_guard: Option<bool>,
    /// `bully.detectors`: node ids, checked against `0..nodes` by [`RawBully::validate`].
    pub detectors: Option<Vec<i64>>,
    /// `bully.detector`: see [`DetectorConfig::kind`].
    pub detector: Option<DetectorKind>,
    /// `bully.phi_threshold`: see [`DetectorConfig::phi_threshold`]; above 0 and at most
    /// [`MAX_PHI_THRESHOLD`](crate::protocols::detector::MAX_PHI_THRESHOLD).
    pub phi_threshold: Option<f64>,
    /// `bully.phi_window`: see [`DetectorConfig::phi_window`] (samples); from 1 to
    /// [`MAX_PHI_WINDOW`](crate::protocols::detector::MAX_PHI_WINDOW).
    pub phi_window: Option<i64>,
    /// `bully.phi_min_std`: see [`DetectorConfig::phi_min_std`]; must be positive.
    pub phi_min_std: Option<SimDuration>,
    /// `bully.phi_acceptable_pause`: see [`DetectorConfig::phi_acceptable_pause`].
    pub phi_acceptable_pause: Option<SimDuration>,
    /// `bully.quorum_wait`: see [`DetectorConfig::quorum_wait`]; must be positive.
    pub quorum_wait: Option<SimDuration>,
}

impl RawBully {
    /// Apply defaults and check values; field paths are relative to `[bully]`.
    pub fn validate(&self, nodes: u32) -> Result<BullyConfig, FieldError> {
        let d = BullyConfig::default();
        let (heartbeat, min, max) = super::heartbeat_detector(
            self.heartbeat.unwrap_or(d.heartbeat),
            self.heartbeat_timeout
                .unwrap_or([d.heartbeat_timeout_min, d.heartbeat_timeout_max]),
        )?;
        let answer_timeout = super::positive_duration(
            "answer_timeout",
            self.answer_timeout.unwrap_or(d.answer_timeout),
            "a positive duration longer than a message round trip, e.g. \"50ms\"",
        )?;
        let coordinator_timeout = super::positive_duration(
            "coordinator_timeout",
            self.coordinator_timeout.unwrap_or(d.coordinator_timeout),
            "a positive duration, usually a few answer timeouts, e.g. \"200ms\"",
        )?;
        let detectors = match &self.detectors {
            None => None,
            Some(list) => {
                let mut ids = Vec::new();
                for (i, &n) in list.iter().enumerate() {
                    if n < 0 || n >= i64::from(nodes) {
                        return Err(FieldError::new(
                            format!("detectors.{i}"),
                            n,
                            format!("a node id in 0..{nodes}"),
                        ));
                    }
                    if ids.contains(&(n as NodeId)) {
                        return Err(FieldError::new(
                            format!("detectors.{i}"),
                            n,
                            "each node id once",
                        ));
                    }
                    ids.push(n as NodeId);
                }
                Some(ids)
            }
        };
        Ok(BullyConfig {
            heartbeat,
            heartbeat_timeout_min: min,
            heartbeat_timeout_max: max,
            answer_timeout,
            coordinator_timeout,
            quorum_guard: self.quorum_guard.unwrap_or(d.quorum_guard),
            detectors,
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

/// Bully messages; each carries the sender's election epoch.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BullyMsg {
    /// Sent to every higher node: "I am starting an election".
    Election {
        /// The sender's election epoch.
        epoch: u64,
    },
    /// "OK": a higher node is alive and takes over the election.
    Answer {
        /// The sender's election epoch.
        epoch: u64,
    },
    /// The winner announces itself to every other node.
    Coordinator {
        /// The sender's election epoch.
        epoch: u64,
    },
    /// quorum_guard: acceptance of a Coordinator announcement.
    CoordinatorAck {
        /// The sender's election epoch.
        epoch: u64,
    },
    /// The coordinator's periodic liveness message.
    Heartbeat {
        /// The sender's election epoch.
        epoch: u64,
    },
    /// quorum_guard: a follower's answer to a heartbeat.
    HeartbeatAck {
        /// The sender's election epoch.
        epoch: u64,
    },
    /// `detector = "quorum"`: "do you also miss `leader`?" (round `round` of the sender).
    SuspectQuery {
        /// The querier's election epoch.
        epoch: u64,
        /// The leader the querier suspects.
        leader: NodeId,
        /// The querier's round number, echoed in the reply so late replies to an older query
        /// are ignored.
        round: u64,
    },
    /// `detector = "quorum"`: the answer to a SuspectQuery.
    SuspectReply {
        /// The replier's election epoch.
        epoch: u64,
        /// The round of the query answered.
        round: u64,
        /// Whether the replier, too, has not heard `leader` within its own minimum timeout.
        misses: bool,
    },
}

impl Message for BullyMsg {
    const KINDS: &'static [&'static str] = &[
        "Election",
        "Answer",
        "Coordinator",
        "CoordinatorAck",
        "Heartbeat",
        "HeartbeatAck",
        "SuspectQuery",
        "SuspectReply",
    ];
    fn kind(&self) -> usize {
        match self {
            BullyMsg::Election { .. } => 0,
            BullyMsg::Answer { .. } => 1,
            BullyMsg::Coordinator { .. } => 2,
            BullyMsg::CoordinatorAck { .. } => 3,
            BullyMsg::Heartbeat { .. } => 4,
            BullyMsg::HeartbeatAck { .. } => 5,
            BullyMsg::SuspectQuery { .. } => 6,
            BullyMsg::SuspectReply { .. } => 7,
        }
    }
    fn class(&self) -> MsgClass {
        match self {
            BullyMsg::Heartbeat { .. }
            | BullyMsg::HeartbeatAck { .. }
            | BullyMsg::SuspectQuery { .. }
            | BullyMsg::SuspectReply { .. } => MsgClass::Heartbeat,
            _ => MsgClass::Election,
        }
    }
    fn term(&self) -> Option<u64> {
        Some(self.epoch())
    }
}

impl BullyMsg {
    /// The election epoch the message carries.
    pub fn epoch(&self) -> u64 {
        match *self {
            BullyMsg::Election { epoch }
            | BullyMsg::Answer { epoch }
            | BullyMsg::Coordinator { epoch }
            | BullyMsg::CoordinatorAck { epoch }
            | BullyMsg::Heartbeat { epoch }
            | BullyMsg::HeartbeatAck { epoch }
            | BullyMsg::SuspectQuery { epoch, .. }
            | BullyMsg::SuspectReply { epoch, .. } => epoch,
        }
    }
}

/// Timer keys of a Bully node (at most one pending timer per key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BullyTimer {
    /// Follower: coordinator heartbeat timeout (the failure detector).
    Detector,
    /// Election sent: no Answer in time -> claim.
    Answer,
    /// Answer received: no Coordinator in time -> re-run the election.
    Coordinator,
    /// quorum_guard claimant: no majority of acks in time -> give up.
    Claim,
    /// Leader: send the next heartbeat.
    Heartbeat,
    /// quorum_guard leader: periodic majority check.
    QuorumCheck,
    /// `detector = "quorum"`: the query for confirmations is over.
    SuspectQuery,
}

impl TimerKey for BullyTimer {
    fn name(&self) -> &'static str {
        match self {
            BullyTimer::Detector => "detector",
            BullyTimer::Answer => "answer",
            BullyTimer::Coordinator => "coordinator",
            BullyTimer::Claim => "claim",
            BullyTimer::Heartbeat => "heartbeat",
            BullyTimer::QuorumCheck => "quorum_check",
            BullyTimer::SuspectQuery => "suspect_query",
        }
    }
}

/// Where a node is in the algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Following `leader` (or nobody, after a failed claim).
    Follower,
    /// Sent Election to the higher ids; waiting for an Answer.
    Electing,
    /// Got an Answer; waiting for a Coordinator announcement.
    Waiting,
    /// quorum_guard: announced itself; collecting acknowledgements.
    Claiming,
    /// Believes itself coordinator and sends heartbeats.
    Leader,
}

/// One Bully node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Bully {
    id: NodeId,
    phase: Phase,
    /// The epoch reported as `term`: the highest seen, or the announced one while leading.
    epoch: u64,
    /// The highest epoch seen (durable).
    seen: u64,
    leader: Option<NodeId>,
    /// The epoch of the announcement (Coordinator or Heartbeat) by which this follower
    /// accepted its leader. An Election from below that is not newer was sent before its
    /// sender could know that leader, and the sender gets the same announcement.
    followed_epoch: u64,
    /// quorum_guard: local time of each node's latest ack (of the claim or a heartbeat).
    acks: Vec<Option<SimTime>>,
    /// The follower's failure detector (heartbeat history, quorum query).
    detector: Detector,
    /// The last leadership change this node observed (`[stabilizer]`).
    stabilizer: Stabilizer,
}

type BCtx<'a> = Ctx<'a, BullyConfig>;

impl Bully {
    /// Where the node is in the election (for tests and traces).
    pub fn phase(&self) -> Phase {
        self.phase
    }
    /// The node's current election epoch.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    fn is_detector(&self, ctx: &BCtx<'_>) -> bool {
        ctx.config
            .detectors
            .as_ref()
            .is_none_or(|d| d.contains(&self.id))
    }

    fn arm_detector(&self, ctx: &BCtx<'_>, out: &mut Out<Self>) {
        if self.is_detector(ctx) {
            let c = ctx.config;
            let phi = match c.detector.kind {
                DetectorKind::Phi if self.leader.is_some() => {
                    self.detector.suspect_after(&c.detector, ctx.now)
                }
                _ => None,
            };
            let delay = match phi {
                Some(d) => Delay::Fixed(d),
                None => Delay::Uniform {
                    min: c.heartbeat_timeout_min,
                    max: c.heartbeat_timeout_max,
                },
            };
            out.set_timer(BullyTimer::Detector, delay);
        }
    }

    /// The failure detector fired while following: suspect the leader (hold an election),
    /// unless the stabilizer holds it back or the quorum detector must first ask the peers.
    fn on_detector(&mut self, ctx: &BCtx<'_>, out: &mut Out<Self>) {
        let Some(leader) = self.leader else {
            return self.start_election(ctx, out); // nobody to protect
        };
        if let Some(wait) = self.stabilizer.hold(&ctx.config.stabilizer, ctx.now) {
            return out.set_timer(BullyTimer::Detector, Delay::Fixed(wait));
        }
        if ctx.config.detector.kind == DetectorKind::Quorum {
            let round = self.detector.open_query(leader);
            out.broadcast(BullyMsg::SuspectQuery {
                epoch: self.epoch,
                leader,
                round,
            });
            return out.set_timer(
                BullyTimer::SuspectQuery,
                Delay::Fixed(ctx.config.detector.quorum_wait),
            );
        }
        self.start_election(ctx, out);
    }

    fn cancel_all(out: &mut Out<Self>) {
        for t in [
            BullyTimer::Detector,
            BullyTimer::Answer,
            BullyTimer::Coordinator,
            BullyTimer::Claim,
            BullyTimer::Heartbeat,
            BullyTimer::QuorumCheck,
        ] {
            out.cancel_timer(t);
        }
    }

    fn observe_epoch(&mut self, epoch: u64, out: &mut Out<Self>) {
        if epoch > self.seen {
            self.seen = epoch;
            out.persist(self.seen);
        }
        if !matches!(self.phase, Phase::Claiming | Phase::Leader) {
            self.epoch = self.seen;
        }
    }

    fn reset_acks(&mut self, ctx: &BCtx<'_>) {
        self.acks = vec![None; ctx.nodes as usize];
        self.acks[self.id as usize] = Some(ctx.now);
    }

    fn record_ack(&mut self, ctx: &BCtx<'_>, from: NodeId) {
        if let Some(a) = self.acks.get_mut(from as usize) {
            *a = Some(ctx.now);
        }
    }

    /// A strict majority (itself included) acknowledged at or after `since`.
    fn majority_since(&self, ctx: &BCtx<'_>, since: SimTime) -> bool {
        2 * self
            .acks
            .iter()
            .filter(|a| a.is_some_and(|t| t >= since))
            .count() as u32
            > ctx.nodes
    }

    /// Hold an election: Election to every higher id (or claim at once when there is none).
    fn start_election(&mut self, ctx: &BCtx<'_>, out: &mut Out<Self>) {
        Self::cancel_all(out);
        self.detector.close_query();
        self.seen += 1;
        self.epoch = self.seen;
        out.persist(self.seen);
        self.phase = Phase::Electing;
        self.leader = None;
        if self.id + 1 >= ctx.nodes {
            return self.claim(ctx, out);
        }
        for higher in self.id + 1..ctx.nodes {
            out.send(higher, BullyMsg::Election { epoch: self.epoch });
        }
        out.set_timer(BullyTimer::Answer, Delay::Fixed(ctx.config.answer_timeout));
    }

    /// No higher node answered: announce to every lower id.
    fn claim(&mut self, ctx: &BCtx<'_>, out: &mut Out<Self>) {
        debug_assert_eq!(self.phase, Phase::Electing, "only an electing node claims");
        out.cancel_timer(BullyTimer::Answer);
        for lower in 0..self.id {
            out.send(lower, BullyMsg::Coordinator { epoch: self.epoch });
        }
        if ctx.config.quorum_guard {
            self.reset_acks(ctx);
            if !self.majority_since(ctx, ctx.now) {
                self.phase = Phase::Claiming;
                out.set_timer(BullyTimer::Claim, Delay::Fixed(ctx.config.answer_timeout));
                return;
            }
        }
        self.become_leader(ctx, out);
    }

    fn become_leader(&mut self, ctx: &BCtx<'_>, out: &mut Out<Self>) {
        debug_assert!(
            matches!(self.phase, Phase::Electing | Phase::Claiming),
            "leader from {:?}",
            self.phase
        );
        Self::cancel_all(out);
        self.phase = Phase::Leader;
        self.leader = Some(self.id);
        self.stabilizer
            .observe(&ctx.config.stabilizer, self.id, ctx.now);
        out.set_timer(BullyTimer::Heartbeat, Delay::Fixed(ctx.config.heartbeat));
        if ctx.config.quorum_guard {
            // The claim's acks count as the first contact with each follower.
            out.set_timer(BullyTimer::QuorumCheck, Delay::Fixed(ctx.config.heartbeat));
        }
    }

    fn follow(&mut self, ctx: &BCtx<'_>, leader: NodeId, out: &mut Out<Self>) {
        debug_assert!(leader > self.id, "a node follows only a higher id");
        Self::cancel_all(out);
        self.phase = Phase::Follower;
        self.epoch = self.seen;
        self.leader = Some(leader);
        self.detector.restart(ctx.now, leader);
        self.stabilizer
            .observe(&ctx.config.stabilizer, leader, ctx.now);
        self.arm_detector(ctx, out);
    }

    /// Give up leadership or a claim (quorum_guard), and retry after a heartbeat timeout.
    fn step_down(&mut self, ctx: &BCtx<'_>, out: &mut Out<Self>) {
        Self::cancel_all(out);
        self.phase = Phase::Follower;
        self.epoch = self.seen;
        self.leader = None;
        self.arm_detector(ctx, out);
    }

    /// A lower id claims to lead: take over.
    fn bully(&mut self, ctx: &BCtx<'_>, out: &mut Out<Self>) {
        match self.phase {
            Phase::Follower => self.start_election(ctx, out),
            Phase::Electing | Phase::Waiting => {}
            Phase::Claiming | Phase::Leader => {
                for lower in 0..self.id {
                    out.send(lower, BullyMsg::Coordinator { epoch: self.epoch });
                }
            }
        }
    }
}

impl Protocol for Bully {
    type Msg = BullyMsg;
    type Timer = BullyTimer;
    /// The election epoch.
    type Durable = u64;
    type Config = BullyConfig;

    fn boot(ctx: &BCtx<'_>, durable: Option<&u64>, out: &mut Out<Self>) -> Self {
        let mut node = Bully {
            id: ctx.id,
            phase: Phase::Follower,
            epoch: durable.copied().unwrap_or(0),
            seen: durable.copied().unwrap_or(0),
            leader: None,
            followed_epoch: 0,
            acks: Vec::new(),
            detector: Detector::default(),
            stabilizer: Stabilizer::default(),
        };
        // Booting and recovering nodes hold an election (a recovering higher id bullies).
        node.start_election(ctx, out);
        node
    }

    fn on_message(&mut self, ctx: &BCtx<'_>, from: NodeId, msg: BullyMsg, out: &mut Out<Self>) {
        self.observe_epoch(msg.epoch(), out);
        let guard = ctx.config.quorum_guard;
        match msg {
            BullyMsg::Election { epoch } => {
                if from >= self.id {
                    return; // Elections only go upwards.
                }
                out.send(from, BullyMsg::Answer { epoch: self.epoch });
                match self.phase {
                    // Garcia-Molina: hold an election unless already holding one. An
                    // Election no newer than our leader's announcement is a late echo of an
                    // election that announcement already settled (its sender is among the
                    // lower ids the Coordinator went to): answering is enough. Without this,
                    // a simultaneous start-up re-triggers followers over and over (~n^3).
                    Phase::Follower if self.leader.is_some() && epoch <= self.followed_epoch => {}
                    Phase::Follower => self.start_election(ctx, out),
                    Phase::Electing | Phase::Waiting => {}
                    Phase::Claiming | Phase::Leader => {
                        out.send(from, BullyMsg::Coordinator { epoch: self.epoch })
                    }
                }
            }
            BullyMsg::Answer { .. } => {
                if self.phase == Phase::Electing && from > self.id {
                    out.cancel_timer(BullyTimer::Answer);
                    self.phase = Phase::Waiting;
                    out.set_timer(
                        BullyTimer::Coordinator,
                        Delay::Fixed(ctx.config.coordinator_timeout),
                    );
                }
            }
            BullyMsg::Coordinator { epoch } => {
                if from > self.id {
                    self.follow(ctx, from, out);
                    self.followed_epoch = epoch;
                    if guard {
                        out.send(from, BullyMsg::CoordinatorAck { epoch: self.epoch });
                    }
                } else if from < self.id {
                    self.bully(ctx, out);
                }
            }
            BullyMsg::CoordinatorAck { .. } => match self.phase {
                Phase::Claiming => {
                    self.record_ack(ctx, from);
                    if self.majority_since(ctx, SimTime::ZERO) {
                        self.become_leader(ctx, out);
                    }
                }
                Phase::Leader => self.record_ack(ctx, from),
                _ => {}
            },
            BullyMsg::Heartbeat { epoch } => {
                if from < self.id {
                    return self.bully(ctx, out);
                }
                let adopt = match self.phase {
                    Phase::Follower => self.leader.is_none_or(|l| l <= from),
                    // A live higher coordinator exists: stop electing or leading.
                    Phase::Electing | Phase::Waiting | Phase::Claiming | Phase::Leader => true,
                };
                if !adopt {
                    return; // Our (higher) coordinator will bully `from`.
                }
                if self.leader == Some(from) && self.phase == Phase::Follower {
                    self.detector.heartbeat(&ctx.config.detector, ctx.now);
                    self.arm_detector(ctx, out);
                } else {
                    self.follow(ctx, from, out);
                }
                self.followed_epoch = epoch;
                if guard {
                    out.send(from, BullyMsg::HeartbeatAck { epoch: self.epoch });
                }
            }
            BullyMsg::HeartbeatAck { .. } => {
                if self.phase == Phase::Leader {
                    self.record_ack(ctx, from);
                }
            }
            BullyMsg::SuspectQuery { leader, round, .. } => {
                let misses = leader != self.id
                    && self.detector.misses(
                        leader,
                        self.leader,
                        ctx.now,
                        ctx.config.heartbeat_timeout_min,
                    );
                out.send(
                    from,
                    BullyMsg::SuspectReply {
                        epoch: self.epoch,
                        round,
                        misses,
                    },
                );
            }
            BullyMsg::SuspectReply { round, misses, .. } => {
                if self.phase == Phase::Follower
                    && self.detector.reply(round, from, misses, ctx.nodes)
                {
                    out.cancel_timer(BullyTimer::SuspectQuery);
                    self.start_election(ctx, out);
                }
            }
        }
    }

    fn on_timer(&mut self, ctx: &BCtx<'_>, timer: BullyTimer, out: &mut Out<Self>) {
        match (timer, self.phase) {
            (BullyTimer::Detector, Phase::Follower) => self.on_detector(ctx, out),
            (BullyTimer::SuspectQuery, Phase::Follower) if self.detector.query().is_some() => {
                // No majority confirmed the suspicion: keep the leader, look again later.
                self.detector.close_query();
                self.arm_detector(ctx, out);
            }
            (BullyTimer::Answer, Phase::Electing) => self.claim(ctx, out),
            (BullyTimer::Coordinator, Phase::Waiting) => self.start_election(ctx, out),
            (BullyTimer::Claim, Phase::Claiming) => self.step_down(ctx, out),
            (BullyTimer::Heartbeat, Phase::Leader) => {
                out.broadcast(BullyMsg::Heartbeat { epoch: self.epoch });
                out.set_timer(BullyTimer::Heartbeat, Delay::Fixed(ctx.config.heartbeat));
            }
            (BullyTimer::QuorumCheck, Phase::Leader) => {
                // Sliding window: acks from a majority within the last heartbeat timeout.
                self.record_ack(ctx, self.id);
                let since = SimTime(ctx.now.0.saturating_sub(ctx.config.heartbeat_timeout_min.0));
                if self.majority_since(ctx, since) {
                    out.set_timer(BullyTimer::QuorumCheck, Delay::Fixed(ctx.config.heartbeat));
                } else {
                    self.step_down(ctx, out);
                }
            }
            _ => {} // A timer of a phase the node has left.
        }
    }

    fn status(&self) -> NodeStatus {
        let role = match self.phase {
            Phase::Follower => Role::Follower,
            Phase::Electing | Phase::Waiting | Phase::Claiming => Role::Candidate,
            Phase::Leader => Role::Leader,
        };
        NodeStatus {
            role,
            term: self.epoch,
            leader: self.leader,
            voted_for: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::testkit::{self, sent};
    use crate::sim::{Effect, SimTime};

    fn ctx(id: NodeId, cfg: &BullyConfig) -> Ctx<'_, BullyConfig> {
        testkit::ctx(id, 5, 0, SimTime(0), cfg)
    }

    fn boot(id: NodeId, cfg: &BullyConfig) -> (Bully, Out<Bully>) {
        testkit::boot(&ctx(id, cfg))
    }

    /// Drive node `id` to follow `leader` (a Coordinator from it).
    fn follower(id: NodeId, leader: NodeId, cfg: &BullyConfig) -> Bully {
        let (mut n, _) = boot(id, cfg);
        let mut out = Out::default();
        n.on_message(
            &ctx(id, cfg),
            leader,
            BullyMsg::Coordinator { epoch: 1 },
            &mut out,
        );
        assert_eq!(n.phase, Phase::Follower);
        n
    }

    #[test]
    fn election_goes_to_higher_ids_only() {
        // Garcia-Molina 1982: an electing node sends Election to every node with a higher id.
        let cfg = BullyConfig::default();
        let (n, out) = boot(2, &cfg);
        assert_eq!(n.phase, Phase::Electing);
        assert_eq!(
            sent(&out),
            vec![
                (Some(3), BullyMsg::Election { epoch: 1 }),
                (Some(4), BullyMsg::Election { epoch: 1 })
            ]
        );
        assert_eq!(n.status().role, Role::Candidate);
    }

    #[test]
    fn highest_id_claims_at_once_and_announces_to_lower_ids() {
        let cfg = BullyConfig::default();
        let (n, out) = boot(4, &cfg);
        assert_eq!(n.phase, Phase::Leader);
        let coords: Vec<_> = sent(&out).into_iter().map(|(to, _)| to.unwrap()).collect();
        assert_eq!(coords, vec![0, 1, 2, 3]);
        assert_eq!(
            n.status(),
            NodeStatus {
                role: Role::Leader,
                term: 1,
                leader: Some(4),
                voted_for: None
            }
        );
    }

    #[test]
    fn a_late_election_older_than_the_leaders_announcement_is_only_answered() {
        // Node 0 started an election at epoch 1 before it could know that 4 won it (4's
        // Coordinator, epoch 1, goes to node 0 as well): node 2 answers, holds no new one.
        let cfg = BullyConfig::default();
        let mut n = follower(2, 4, &cfg);
        let mut out = Out::default();
        n.on_message(&ctx(2, &cfg), 0, BullyMsg::Election { epoch: 1 }, &mut out);
        assert_eq!(sent(&out), vec![(Some(0), BullyMsg::Answer { epoch: 1 })]);
        assert_eq!((n.phase, n.leader), (Phase::Follower, Some(4)));
    }

    #[test]
    fn receiver_answers_and_holds_one_election() {
        // Every receiver of an Election from a lower id answers it and holds one election.
        let cfg = BullyConfig::default();
        // Node 2 follows 4 (announced at epoch 1); node 0, which also followed 4, detected
        // its failure and campaigns in a newer epoch.
        let mut n = follower(2, 4, &cfg);
        let mut out = Out::default();
        n.on_message(&ctx(2, &cfg), 0, BullyMsg::Election { epoch: 2 }, &mut out);
        let msgs = sent(&out);
        assert_eq!(msgs[0], (Some(0), BullyMsg::Answer { epoch: 2 }));
        assert_eq!(
            msgs[1..],
            [
                (Some(3), BullyMsg::Election { epoch: 3 }),
                (Some(4), BullyMsg::Election { epoch: 3 })
            ]
        );
        // A second Election while electing is answered but starts nothing new.
        let mut out = Out::default();
        n.on_message(&ctx(2, &cfg), 1, BullyMsg::Election { epoch: 2 }, &mut out);
        assert_eq!(sent(&out), vec![(Some(1), BullyMsg::Answer { epoch: 3 })]);
    }

    #[test]
    fn answer_then_no_coordinator_restarts_the_election() {
        let cfg = BullyConfig::default();
        let (mut n, _) = boot(1, &cfg);
        let mut out = Out::default();
        n.on_message(&ctx(1, &cfg), 3, BullyMsg::Answer { epoch: 1 }, &mut out);
        assert_eq!(n.phase, Phase::Waiting);
        assert!(out.effects.contains(&Effect::CancelTimer {
            key: BullyTimer::Answer
        }));
        // The (cancelled) answer timer would be ignored in this phase.
        let mut out = Out::default();
        n.on_timer(&ctx(1, &cfg), BullyTimer::Answer, &mut out);
        assert!(out.effects.is_empty());
        n.on_timer(&ctx(1, &cfg), BullyTimer::Coordinator, &mut out);
        assert_eq!(n.phase, Phase::Electing);
        assert_eq!(n.epoch, 2);
    }

    #[test]
    fn no_answer_means_claim() {
        let cfg = BullyConfig::default();
        let (mut n, _) = boot(3, &cfg);
        let mut out = Out::default();
        n.on_timer(&ctx(3, &cfg), BullyTimer::Answer, &mut out);
        assert_eq!(n.phase, Phase::Leader);
        assert_eq!(sent(&out).len(), 3, "Coordinator to 0, 1, 2");
    }

    #[test]
    fn lower_coordinator_is_bullied() {
        let cfg = BullyConfig::default();
        let mut n = follower(3, 4, &cfg);
        let mut out = Out::default();
        n.on_message(
            &ctx(3, &cfg),
            1,
            BullyMsg::Coordinator { epoch: 5 },
            &mut out,
        );
        assert_eq!(n.phase, Phase::Electing);
        assert_eq!(n.epoch, 6, "adopts the higher epoch, then bumps it");
        // A leader re-announces itself to lower ids instead.
        let (mut l, _) = boot(4, &cfg);
        let mut out = Out::default();
        l.on_message(&ctx(4, &cfg), 1, BullyMsg::Heartbeat { epoch: 1 }, &mut out);
        assert_eq!(l.phase, Phase::Leader);
        assert_eq!(sent(&out).len(), 4);
    }

    #[test]
    fn heartbeat_timeout_starts_an_election_only_on_detectors() {
        let cfg = BullyConfig::default();
        let mut n = follower(1, 4, &cfg);
        let mut out = Out::default();
        n.on_timer(&ctx(1, &cfg), BullyTimer::Detector, &mut out);
        assert_eq!(n.phase, Phase::Electing);
        let cfg = BullyConfig {
            detectors: Some(vec![0]),
            ..BullyConfig::default()
        };
        let (mut n, _) = boot(1, &cfg);
        let mut out = Out::default();
        n.on_message(
            &ctx(1, &cfg),
            4,
            BullyMsg::Coordinator { epoch: 1 },
            &mut out,
        );
        assert!(!out.effects.iter().any(|e| matches!(
            e,
            Effect::SetTimer {
                key: BullyTimer::Detector,
                ..
            }
        )));
    }

    #[test]
    fn quorum_guard_needs_a_majority_of_acks() {
        let cfg = BullyConfig {
            quorum_guard: true,
            ..BullyConfig::default()
        };
        let (mut n, _) = boot(2, &cfg);
        let mut out = Out::default();
        n.on_timer(&ctx(2, &cfg), BullyTimer::Answer, &mut out);
        assert_eq!(n.phase, Phase::Claiming);
        assert_eq!(n.status().role, Role::Candidate);
        n.on_message(
            &ctx(2, &cfg),
            0,
            BullyMsg::CoordinatorAck { epoch: 1 },
            &mut out,
        );
        n.on_message(
            &ctx(2, &cfg),
            0,
            BullyMsg::CoordinatorAck { epoch: 1 },
            &mut out,
        );
        assert_eq!(
            n.phase,
            Phase::Claiming,
            "a duplicate ack counts once: 2 of 5"
        );
        n.on_message(
            &ctx(2, &cfg),
            1,
            BullyMsg::CoordinatorAck { epoch: 1 },
            &mut out,
        );
        assert_eq!(n.phase, Phase::Leader);
        // Minority claimant: the claim times out and the node steps down.
        let (mut m, _) = boot(1, &cfg);
        let mut out = Out::default();
        m.on_timer(&ctx(1, &cfg), BullyTimer::Answer, &mut out);
        m.on_message(
            &ctx(1, &cfg),
            0,
            BullyMsg::CoordinatorAck { epoch: 1 },
            &mut out,
        );
        m.on_timer(&ctx(1, &cfg), BullyTimer::Claim, &mut out);
        assert_eq!(
            m.status(),
            NodeStatus {
                role: Role::Follower,
                term: 1,
                leader: None,
                voted_for: None
            }
        );
    }

    #[test]
    fn quorum_guard_leader_steps_down_without_majority() {
        // A leader needs acks from a majority within the last heartbeat timeout (150 ms).
        let cfg = BullyConfig {
            quorum_guard: true,
            ..BullyConfig::default()
        };
        let at = |ms: u64| Ctx {
            id: 4,
            nodes: 5,
            service: 0,
            now: SimTime(ms * 1_000_000),
            config: &cfg,
        };
        let (mut n, _) = boot(4, &cfg);
        let mut out = Out::default();
        for f in [0, 1] {
            n.on_message(&at(1), f, BullyMsg::CoordinatorAck { epoch: 1 }, &mut out);
        }
        assert_eq!(n.phase, Phase::Leader);
        n.on_timer(&at(50), BullyTimer::QuorumCheck, &mut out);
        assert_eq!(n.phase, Phase::Leader, "claim acks at 1 ms are recent");
        n.on_message(&at(120), 3, BullyMsg::HeartbeatAck { epoch: 1 }, &mut out);
        n.on_timer(&at(150), BullyTimer::QuorumCheck, &mut out);
        assert_eq!(n.phase, Phase::Leader, "0, 1 (1 ms), 3 (120 ms) and itself");
        n.on_timer(&at(160), BullyTimer::QuorumCheck, &mut out);
        assert_eq!(
            n.phase,
            Phase::Follower,
            "at 160 ms only node 3 acked within 150 ms: 2 of 5 with itself"
        );
    }

    #[test]
    fn validate_names_fields() {
        let raw = RawBully {
            heartbeat_timeout: Some([SimDuration::from_millis(10), SimDuration::from_millis(20)]),
            ..RawBully::default()
        };
        assert_eq!(raw.validate(5).unwrap_err().field, "heartbeat_timeout");
        let raw = RawBully {
            detectors: Some(vec![0, 7]),
            ..RawBully::default()
        };
        assert_eq!(raw.validate(5).unwrap_err().field, "detectors.1");
        assert_eq!(
            RawBully::default().validate(5).unwrap(),
            BullyConfig::default()
        );
    }
}
