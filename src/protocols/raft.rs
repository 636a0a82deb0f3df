//! Raft leader election (Ongaro & Ousterhout 2014, §5.2 and §5.4.1; dissertation ch. 9).
//!
//! Modelled: follower / pre-candidate / candidate / leader; a randomized election timeout
//! redrawn at every reset; RequestVote with the election restriction (§5.4.1: vote only for
//! candidates whose log is at least as up-to-date); heartbeats as empty AppendEntries; term
//! and vote persisted before answering (an fsync latency delays the answer); options
//! `pre_vote` (§9.6) and `check_quorum` (etcd-io/raft: a leader steps down when it has not
//! heard from a majority for an election timeout, and followers that heard from a leader
//! recently ignore disruptive RequestVotes).
//!
//! Not modelled: log replication. Each node's log is an initial condition summarised by its
//! last (term, index); `stale_nodes` start with a shorter log and so cannot win an election
//! against up-to-date voters, which is what the Raft paper's Figure 16 experiment needs.
//!
//! Election timer rules (the same as the `raft-churn` peers): (re)started at boot, on
//! becoming (pre-)candidate, on granting a vote, on accepting a heartbeat, and when a leader
//! steps down; *not* when a follower merely adopts a higher term.

use crate::field_error::FieldError;
use crate::protocols::Param;
use crate::protocols::detector::{Detector, DetectorConfig, DetectorKind, RawDetector};
use crate::protocols::stabilizer::{Stabilizer, StabilizerConfig};
use crate::sim::symmetry::rename_indexed;
use crate::sim::{
    Ctx, Delay, Message, MsgClass, NodeId, NodeStatus, Out, Protocol, Role, SimDuration, SimTime,
    Symmetric, TimerKey,
};

/// Raft options (scenario table `[raft]`).
#[derive(Clone, Debug, PartialEq)]
pub struct RaftConfig {
    /// Election timeout range, redrawn uniformly at every reset. Default 150ms..300ms.
    pub election_timeout_min: SimDuration,
    /// Upper bound of the election timeout range.
    pub election_timeout_max: SimDuration,
    /// Leader heartbeat interval. Default 50ms.
    pub heartbeat: SimDuration,
    /// Pre-vote phase before disrupting the cluster with a new term. Default false.
    pub pre_vote: bool,
    /// Leader steps down without a majority; followers in a leader lease ignore votes. Default false.
    pub check_quorum: bool,
    /// Persist term and vote (turning this off injects a classic bug). Default true.
    pub persist_vote: bool,
    /// Nodes that start with a shorter log (cannot win against up-to-date voters). Default none.
    pub stale_nodes: Vec<NodeId>,
    /// Adopting a higher term is a durable write of its own, before the vote is decided
    /// (LogCabin's `stepDown`), so a granted RequestVote that raised the term costs two
    /// writes. Default false: one write per handler carries term and vote together (etcd's
    /// one HardState per Ready).
    pub persist_term_adoption: bool,
    /// Election timeouts are drawn in whole multiples of this (LogCabin: 1 ms). Default
    /// zero: continuous (nanosecond) draws.
    pub timeout_resolution: SimDuration,
    /// Followers' failure detector: `timeout` (the default) or `phi`.
    pub detector: DetectorConfig,
    /// The `[stabilizer]` table. Default off.
    pub stabilizer: StabilizerConfig,
}

impl Default for RaftConfig {
    fn default() -> Self {
        RaftConfig {
            election_timeout_min: SimDuration::from_millis(150),
            election_timeout_max: SimDuration::from_millis(300),
            heartbeat: SimDuration::from_millis(50),
            pre_vote: false,
            check_quorum: false,
            persist_vote: true,
            stale_nodes: Vec::new(),
            persist_term_adoption: false,
            timeout_resolution: SimDuration::ZERO,
            detector: DetectorConfig::default(),
            stabilizer: StabilizerConfig::default(),
        }
    }
}

/// Parameters of the `[raft]` scenario table.
pub const PARAMS: &[Param] = &[
    Param {
        key: "raft.election_timeout",
        default: "[\"150ms\", \"300ms\"]",
        doc: "election timeout range [min, max], redrawn uniformly at every reset",
    },
    Param {
        key: "raft.heartbeat",
        default: "\"50ms\"",
        doc: "leader heartbeat (empty AppendEntries) interval; below election_timeout's min",
    },
    Param {
        key: "raft.pre_vote",
        default: "false",
        doc: "pre-vote phase before starting a real election (dissertation §9.6)",
    },
    Param {
        key: "raft.check_quorum",
        default: "false",
        doc: "leader steps down without a majority; followers in a leader lease drop higher-term RequestVote/PreVote unanswered",
    },
    Param {
        key: "raft.persist_vote",
        default: "true",
        doc: "persist term and vote; false injects a classic bug (double votes after restart)",
    },
    Param {
        key: "raft.persist_term_adoption",
        default: "false",
        doc: "adopting a higher term is its own durable write (LogCabin); false: term and vote share one write per handler (etcd)",
    },
    Param {
        key: "raft.timeout_resolution",
        default: "\"0s\"",
        doc: "draw election timeouts in whole multiples of this, e.g. \"1ms\" as LogCabin does; 0s = continuous",
    },
    Param {
        key: "raft.stale_nodes",
        default: "[]",
        doc: "node ids that start with a shorter log (not electable against up-to-date voters)",
    },
    Param {
        key: "raft.detector",
        default: "\"timeout\"",
        doc: "followers' failure detector: \"timeout\" (the election timeout) or \"phi\" (φ-accrual on the leader's heartbeats, plus the timeout range's width as jitter)",
    },
    DETECTOR_PARAMS[1],
    DETECTOR_PARAMS[2],
    DETECTOR_PARAMS[3],
    DETECTOR_PARAMS[4],
];

/// The failure-detector keys of `[raft]` (`quorum_wait` does not apply).
const DETECTOR_PARAMS: [Param; 6] = crate::detector_params!("raft");

/// The `[raft]` table as written.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRaft {
    /// `raft.election_timeout` as `[min, max]`: see [`RaftConfig::election_timeout_min`].
    pub election_timeout: Option<[SimDuration; 2]>,
    /// `raft.heartbeat`: see [`RaftConfig::heartbeat`].
    pub heartbeat: Option<SimDuration>,
    /// `raft.pre_vote`: see [`RaftConfig::pre_vote`].
    pub pre_vote: Option<bool>,
    /// `raft.check_quorum`: see [`RaftConfig::check_quorum`].
    pub check_quorum: Option<bool>,
    /// `raft.persist_vote`: see [`RaftConfig::persist_vote`].
    pub persist_vote: Option<bool>,
    /// `raft.stale_nodes`: node ids, checked against `0..nodes` by [`RawRaft::validate`].
    pub stale_nodes: Option<Vec<i64>>,
    /// `raft.persist_term_adoption`: see [`RaftConfig::persist_term_adoption`].
    pub persist_term_adoption: Option<bool>,
    /// `raft.timeout_resolution`: see [`RaftConfig::timeout_resolution`].
    pub timeout_resolution: Option<SimDuration>,
    /// `raft.detector`: see [`DetectorConfig::kind`].
    pub detector: Option<DetectorKind>,
    /// `raft.phi_threshold`: see [`DetectorConfig::phi_threshold`]; above 0 and at most
    /// [`MAX_PHI_THRESHOLD`](crate::protocols::detector::MAX_PHI_THRESHOLD).
    pub phi_threshold: Option<f64>,
    /// `raft.phi_window`: see [`DetectorConfig::phi_window`] (samples); from 1 to
    /// [`MAX_PHI_WINDOW`](crate::protocols::detector::MAX_PHI_WINDOW).
    pub phi_window: Option<i64>,
    /// `raft.phi_min_std`: see [`DetectorConfig::phi_min_std`]; must be positive.
    pub phi_min_std: Option<SimDuration>,
    /// `raft.phi_acceptable_pause`: see [`DetectorConfig::phi_acceptable_pause`].
    pub phi_acceptable_pause: Option<SimDuration>,
}

impl RawRaft {
    /// Apply defaults and check values; field paths are relative to `[raft]`.
    pub fn validate(&self, nodes: u32) -> Result<RaftConfig, FieldError> {
        let d = RaftConfig::default();
        let [min, max] = self
            .election_timeout
            .unwrap_or([d.election_timeout_min, d.election_timeout_max]);
        if min.0 == 0 || min > max {
            return Err(FieldError::new(
                "election_timeout",
                format!("[\"{min}\", \"{max}\"]"),
                "[min, max] with 0 < min <= max, e.g. [\"150ms\", \"300ms\"]",
            ));
        }
        let heartbeat = self.heartbeat.unwrap_or(d.heartbeat);
        if heartbeat.0 == 0 {
            return Err(FieldError::new(
                "heartbeat",
                format!("\"{heartbeat}\""),
                "a positive duration, usually well below the election timeout",
            ));
        }
        if heartbeat >= min {
            // Blame the key the file (or a --set) gave; both values are in the message.
            let (field, value) = if self.heartbeat.is_some() {
                ("heartbeat", format!("\"{heartbeat}\""))
            } else {
                ("election_timeout", format!("[\"{min}\", \"{max}\"]"))
            };
            return Err(FieldError::new(
                field,
                value,
                format!(
                    "heartbeat below the minimum election timeout, but heartbeat = \"{heartbeat}\" and election_timeout = [\"{min}\", \"{max}\"]: a follower would time out between two heartbeats of a live leader and start an election (Raft's rule is heartbeat << election timeout, e.g. \"50ms\" with [\"150ms\", \"300ms\"])"
                ),
            ));
        }
        let timeout_resolution = self.timeout_resolution.unwrap_or(d.timeout_resolution);
        if timeout_resolution.0 > 0
            && min.0.div_ceil(timeout_resolution.0) * timeout_resolution.0 > max.0
        {
            return Err(FieldError::new(
                "timeout_resolution",
                format!("\"{timeout_resolution}\""),
                format!(
                    "a step with a whole multiple inside election_timeout [\"{min}\", \"{max}\"], e.g. \"1ms\", or \"0s\" for continuous draws"
                ),
            ));
        }
        let mut stale_nodes = Vec::new();
        for (i, &n) in self.stale_nodes.iter().flatten().enumerate() {
            if n < 0 || n >= i64::from(nodes) {
                return Err(FieldError::new(
                    format!("stale_nodes.{i}"),
                    n,
                    format!("a node id in 0..{nodes}"),
                ));
            }
            if let Some(j) = stale_nodes.iter().position(|&s| s == n as NodeId) {
                return Err(FieldError::new(
                    format!("stale_nodes.{i}"),
                    n,
                    format!("each node id once: stale_nodes.{j} already names node {n}"),
                ));
            }
            stale_nodes.push(n as NodeId);
        }
        if self.detector == Some(DetectorKind::Quorum) {
            return Err(FieldError::new(
                "detector",
                "\"quorum\"",
                "\"timeout\" or \"phi\" (the quorum detector is offered for bully and ring; Raft's pre_vote asks the peers already)",
            ));
        }
        let detector = RawDetector {
            detector: self.detector,
            phi_threshold: self.phi_threshold,
            phi_window: self.phi_window,
            phi_min_std: self.phi_min_std,
            phi_acceptable_pause: self.phi_acceptable_pause,
            quorum_wait: None,
        }
        .validate()?;
        Ok(RaftConfig {
            election_timeout_min: min,
            election_timeout_max: max,
            heartbeat,
            pre_vote: self.pre_vote.unwrap_or(d.pre_vote),
            check_quorum: self.check_quorum.unwrap_or(d.check_quorum),
            persist_vote: self.persist_vote.unwrap_or(d.persist_vote),
            stale_nodes,
            persist_term_adoption: self
                .persist_term_adoption
                .unwrap_or(d.persist_term_adoption),
            timeout_resolution,
            detector,
            stabilizer: d.stabilizer,
        })
    }
}

/// Last log position: (term, index). Compared lexicographically (§5.4.1).
pub type LogPos = (u64, u64);

/// Initial log of up-to-date nodes, and of stale ones.
pub const LOG_UP_TO_DATE: LogPos = (1, 10);
/// Initial log position of nodes listed in `stale_nodes`: behind [`LOG_UP_TO_DATE`].
pub const LOG_STALE: LogPos = (1, 5);

/// Raft's election messages (§5.2, plus the dissertation's pre-vote, §9.6); no log entries
/// are replicated, so AppendEntries is a bare heartbeat.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RaftMsg {
    /// A candidate asks for a vote in `term`.
    RequestVote {
        /// The candidate's term.
        term: u64,
        /// The candidate's last log position, for the up-to-date check.
        last_log: LogPos,
    },
    /// Answer to `RequestVote`.
    VoteResponse {
        /// The voter's current term.
        term: u64,
        /// Whether the vote was granted.
        granted: bool,
    },
    /// Pre-vote request for `term` (the term the sender would campaign in).
    PreVote {
        /// The term the sender would campaign in.
        term: u64,
        /// The sender's last log position.
        last_log: LogPos,
    },
    /// Answer to `PreVote` (does not change the voter's term or vote).
    PreVoteResponse {
        /// The term of the pre-vote answered.
        term: u64,
        /// Whether the voter would grant a vote.
        granted: bool,
    },
    /// An empty AppendEntries (heartbeat).
    AppendEntries {
        /// The leader's term.
        term: u64,
    },
    /// Answer to `AppendEntries`.
    AppendResponse {
        /// The follower's current term.
        term: u64,
        /// False when the leader's term is stale.
        success: bool,
    },
}

impl Message for RaftMsg {
    const KINDS: &'static [&'static str] = &[
        "RequestVote",
        "VoteResponse",
        "PreVote",
        "PreVoteResponse",
        "AppendEntries",
        "AppendResponse",
    ];
    fn kind(&self) -> usize {
        match self {
            RaftMsg::RequestVote { .. } => 0,
            RaftMsg::VoteResponse { .. } => 1,
            RaftMsg::PreVote { .. } => 2,
            RaftMsg::PreVoteResponse { .. } => 3,
            RaftMsg::AppendEntries { .. } => 4,
            RaftMsg::AppendResponse { .. } => 5,
        }
    }
    fn class(&self) -> MsgClass {
        match self {
            RaftMsg::AppendEntries { .. } | RaftMsg::AppendResponse { .. } => MsgClass::Heartbeat,
            _ => MsgClass::Election,
        }
    }
    fn term(&self) -> Option<u64> {
        Some(match *self {
            RaftMsg::RequestVote { term, .. }
            | RaftMsg::VoteResponse { term, .. }
            | RaftMsg::PreVote { term, .. }
            | RaftMsg::PreVoteResponse { term, .. }
            | RaftMsg::AppendEntries { term }
            | RaftMsg::AppendResponse { term, .. } => term,
        })
    }
    /// Vote and pre-vote responses that do not grant.
    fn refused(&self) -> bool {
        matches!(
            self,
            RaftMsg::VoteResponse { granted: false, .. }
                | RaftMsg::PreVoteResponse { granted: false, .. }
        )
    }
}

/// Timer keys of a Raft node (at most one pending timer per key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RaftTimer {
    /// Follower / candidate: no leader heard from in time -> campaign.
    Election,
    /// Leader: send the next round of heartbeats.
    Heartbeat,
    /// check_quorum: the leader's periodic majority check.
    CheckQuorum,
}

impl TimerKey for RaftTimer {
    fn name(&self) -> &'static str {
        match self {
            RaftTimer::Election => "election",
            RaftTimer::Heartbeat => "heartbeat",
            RaftTimer::CheckQuorum => "check_quorum",
        }
    }
}

/// Term and vote: what Raft must keep on stable storage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RaftDurable {
    /// The latest term the node has seen.
    pub term: u64,
    /// The candidate it voted for in `term`, if any.
    pub voted_for: Option<NodeId>,
}

/// One Raft node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Raft {
    id: NodeId,
    role: Role,
    term: u64,
    voted_for: Option<NodeId>,
    leader: Option<NodeId>,
    log: LogPos,
    /// Votes (or pre-votes) received in the current campaign, one flag per node.
    votes: Vec<bool>,
    vote_count: u32,
    /// check_quorum: peers heard from since the last check (leader only).
    active: Vec<bool>,
    /// Local time of the last heartbeat accepted from a leader (for leases / pre-vote).
    last_leader_contact: Option<SimTime>,
    /// A term adopted by this handler and not yet written (see `persist_term_adoption`).
    unsaved: bool,
    /// The follower's failure detector (`detector = "phi"`: the heartbeat history).
    detector: Detector,
    /// The last leadership change this node observed (`[stabilizer]`).
    stabilizer: Stabilizer,
}

type RCtx<'a> = Ctx<'a, RaftConfig>;

impl Raft {
    /// The node's current term.
    pub fn term(&self) -> u64 {
        self.term
    }
    /// The node's current role.
    pub fn role(&self) -> Role {
        self.role
    }

    fn reset_election_timer(&self, ctx: &RCtx<'_>, out: &mut Out<Self>) {
        let c = ctx.config;
        let (min, max) = (c.election_timeout_min, c.election_timeout_max);
        let delay = if c.timeout_resolution == SimDuration::ZERO {
            Delay::Uniform { min, max }
        } else {
            Delay::Steps {
                min,
                max,
                step: c.timeout_resolution,
            }
        };
        out.set_timer(RaftTimer::Election, delay);
    }

    /// A follower heard its leader: restart the election timer — the timeout range, or with
    /// `detector = "phi"` the moment φ exceeds its threshold plus a jitter as wide as the
    /// timeout range (so followers do not all campaign at the same instant).
    fn arm_follower_timer(&self, ctx: &RCtx<'_>, out: &mut Out<Self>) {
        let c = ctx.config;
        let phi = match c.detector.kind {
            DetectorKind::Phi => self.detector.suspect_after(&c.detector, ctx.now),
            DetectorKind::Timeout | DetectorKind::Quorum => None,
        };
        match phi {
            Some(d) => out.set_timer(
                RaftTimer::Election,
                Delay::Uniform {
                    min: d,
                    max: d + SimDuration(c.election_timeout_max.0 - c.election_timeout_min.0),
                },
            ),
            None => self.reset_election_timer(ctx, out),
        }
    }

    fn persist(&mut self, ctx: &RCtx<'_>, out: &mut Out<Self>) {
        self.unsaved = false;
        if ctx.config.persist_vote {
            out.persist(RaftDurable {
                term: self.term,
                voted_for: self.voted_for,
            });
        }
    }

    /// Adopt a higher term and become follower (§5.1). Persisted: at once when
    /// `persist_term_adoption`, else with the vote or at the end of the handler.
    fn adopt_term(&mut self, ctx: &RCtx<'_>, term: u64, out: &mut Out<Self>) {
        let was_leader = self.role == Role::Leader;
        self.term = term;
        self.voted_for = None;
        self.role = Role::Follower;
        self.leader = None;
        if ctx.config.persist_term_adoption {
            self.persist(ctx, out);
        } else {
            self.unsaved = true;
        }
        if was_leader {
            self.stop_leading(ctx, out);
        }
    }

    fn stop_leading(&mut self, ctx: &RCtx<'_>, out: &mut Out<Self>) {
        out.cancel_timer(RaftTimer::Heartbeat);
        out.cancel_timer(RaftTimer::CheckQuorum);
        self.reset_election_timer(ctx, out);
    }

    /// Within the leader lease: heard from a leader less than the minimum timeout ago.
    fn in_lease(&self, ctx: &RCtx<'_>) -> bool {
        self.role == Role::Leader
            || self.last_leader_contact.is_some_and(|t| {
                ctx.now.since(t) < ctx.config.election_timeout_min && self.leader.is_some()
            })
    }

    fn log_ok(&self, candidate_log: LogPos) -> bool {
        candidate_log >= self.log
    }

    fn start_campaign(&mut self, ctx: &RCtx<'_>, out: &mut Out<Self>) {
        self.votes = vec![false; ctx.nodes as usize];
        self.votes[self.id as usize] = true;
        self.vote_count = 1;
        self.leader = None;
        // Under pre-vote every timeout (including a pre-vote round that timed out) starts a
        // fresh pre-vote round; only a majority of pre-votes leads to a real candidacy.
        if ctx.config.pre_vote {
            self.role = Role::PreCandidate;
            self.reset_election_timer(ctx, out);
            if 2 * self.vote_count > ctx.nodes {
                return self.become_candidate(ctx, out);
            }
            out.broadcast(RaftMsg::PreVote {
                term: self.term + 1,
                last_log: self.log,
            });
            return;
        }
        self.become_candidate(ctx, out);
    }

    fn become_candidate(&mut self, ctx: &RCtx<'_>, out: &mut Out<Self>) {
        self.role = Role::Candidate;
        self.term += 1;
        self.voted_for = Some(self.id);
        self.leader = None;
        self.votes = vec![false; ctx.nodes as usize];
        self.votes[self.id as usize] = true;
        self.vote_count = 1;
        self.persist(ctx, out);
        self.reset_election_timer(ctx, out);
        if 2 * self.vote_count > ctx.nodes {
            return self.become_leader(ctx, out);
        }
        out.broadcast(RaftMsg::RequestVote {
            term: self.term,
            last_log: self.log,
        });
    }

    fn become_leader(&mut self, ctx: &RCtx<'_>, out: &mut Out<Self>) {
        debug_assert_eq!(
            self.role,
            Role::Candidate,
            "only a candidate becomes leader"
        );
        self.role = Role::Leader;
        self.leader = Some(self.id);
        self.stabilizer
            .observe(&ctx.config.stabilizer, self.id, ctx.now);
        out.cancel_timer(RaftTimer::Election);
        out.broadcast(RaftMsg::AppendEntries { term: self.term });
        out.set_timer(RaftTimer::Heartbeat, Delay::Fixed(ctx.config.heartbeat));
        if ctx.config.check_quorum {
            self.active = vec![false; ctx.nodes as usize];
            out.set_timer(
                RaftTimer::CheckQuorum,
                Delay::Fixed(ctx.config.election_timeout_min),
            );
        }
    }

    fn record_vote(&mut self, ctx: &RCtx<'_>, from: NodeId) -> bool {
        if let Some(v) = self.votes.get_mut(from as usize)
            && !*v
        {
            *v = true;
            self.vote_count += 1;
        }
        2 * self.vote_count > ctx.nodes
    }
}

impl Protocol for Raft {
    type Msg = RaftMsg;
    type Timer = RaftTimer;
    type Durable = RaftDurable;
    type Config = RaftConfig;

    fn boot(ctx: &RCtx<'_>, durable: Option<&RaftDurable>, out: &mut Out<Self>) -> Self {
        let d = durable.copied().unwrap_or_default();
        let stale = ctx.config.stale_nodes.contains(&ctx.id);
        let node = Raft {
            id: ctx.id,
            role: Role::Follower,
            // Logs hold entries of term 1, so the current term starts at least there.
            term: d.term.max(1),
            voted_for: d.voted_for,
            leader: None,
            log: if stale { LOG_STALE } else { LOG_UP_TO_DATE },
            votes: Vec::new(),
            vote_count: 0,
            active: Vec::new(),
            last_leader_contact: None,
            unsaved: false,
            detector: Detector::default(),
            stabilizer: Stabilizer::default(),
        };
        node.reset_election_timer(ctx, out);
        node
    }

    fn on_message(&mut self, ctx: &RCtx<'_>, from: NodeId, msg: RaftMsg, out: &mut Out<Self>) {
        if self.role == Role::Leader
            && let Some(a) = self.active.get_mut(from as usize)
        {
            *a = true;
        }
        let msg_term = msg.term().unwrap_or(0);
        // check_quorum's leader lease, as etcd-io/raft does it: a RequestVote or PreVote for a
        // higher term that arrives within the minimum timeout of hearing from a leader is
        // dropped without a reply, and does not touch the term.
        if ctx.config.check_quorum
            && msg_term > self.term
            && matches!(msg, RaftMsg::RequestVote { .. } | RaftMsg::PreVote { .. })
            && self.in_lease(ctx)
        {
            return;
        }
        // Term rule (§5.1), except for pre-vote traffic, which must not disrupt.
        let carries_real_term = match msg {
            RaftMsg::PreVote { .. } => false,
            RaftMsg::PreVoteResponse { granted, .. } => !granted,
            _ => true,
        };
        if carries_real_term && msg_term > self.term {
            self.adopt_term(ctx, msg_term, out);
        }
        self.handle(ctx, from, msg, out);
        if self.unsaved {
            self.persist(ctx, out);
        }
    }

    fn on_timer(&mut self, ctx: &RCtx<'_>, timer: RaftTimer, out: &mut Out<Self>) {
        self.handle_timer(ctx, timer, out);
    }

    fn status(&self) -> NodeStatus {
        NodeStatus {
            role: self.role,
            term: self.term,
            leader: self.leader,
            voted_for: self.voted_for,
        }
    }

    fn claims_election_safety(_config: &RaftConfig) -> bool {
        true
    }
}

/// Raft never compares ids by value: votes, leaders and per-peer vectors only record which
/// node is which, broadcasts go to every other participant, and ties are settled by
/// message order, not by id. Only `stale_nodes` sets nodes apart (their shorter log), so
/// stale and up-to-date nodes get different colours. The failure detector and stabilizer
/// settings apply to every node alike.
impl Symmetric for Raft {
    fn interchangeable(config: &RaftConfig, nodes: u32) -> Result<Vec<u32>, String> {
        Ok((0..nodes)
            .map(|i| u32::from(config.stale_nodes.contains(&i)))
            .collect())
    }

    fn rename(&mut self, map: &[NodeId]) {
        let id = |i: NodeId| map[i as usize];
        self.id = map[self.id as usize];
        self.voted_for = self.voted_for.map(id);
        self.leader = self.leader.map(id);
        self.votes = rename_indexed(&self.votes, map);
        self.active = rename_indexed(&self.active, map);
        self.detector.rename(map);
        self.stabilizer.rename(map);
    }

    /// Raft messages carry no ids (the sender is the envelope's).
    fn rename_msg(_msg: &mut RaftMsg, _map: &[NodeId]) {}

    fn rename_timer(_timer: &mut RaftTimer, _map: &[NodeId]) {}

    fn rename_durable(durable: &mut RaftDurable, map: &[NodeId]) {
        if let Some(v) = &mut durable.voted_for {
            *v = map[*v as usize];
        }
    }
}

impl Raft {
    /// The message handler after the term rule.
    fn handle(&mut self, ctx: &RCtx<'_>, from: NodeId, msg: RaftMsg, out: &mut Out<Self>) {
        match msg {
            RaftMsg::RequestVote { term, last_log } => {
                let grant = term == self.term
                    && self.voted_for.is_none_or(|v| v == from)
                    && self.log_ok(last_log);
                if grant {
                    self.voted_for = Some(from);
                    self.persist(ctx, out);
                    self.reset_election_timer(ctx, out);
                }
                out.send(
                    from,
                    RaftMsg::VoteResponse {
                        term: self.term,
                        granted: grant,
                    },
                );
            }
            RaftMsg::VoteResponse { term, granted } => {
                if self.role == Role::Candidate
                    && term == self.term
                    && granted
                    && self.record_vote(ctx, from)
                {
                    self.become_leader(ctx, out);
                }
            }
            RaftMsg::PreVote { term, last_log } => {
                let grant = term > self.term && self.log_ok(last_log) && !self.in_lease(ctx);
                out.send(
                    from,
                    RaftMsg::PreVoteResponse {
                        term: if grant { term } else { self.term },
                        granted: grant,
                    },
                );
            }
            RaftMsg::PreVoteResponse { term, granted } => {
                if self.role == Role::PreCandidate
                    && granted
                    && term == self.term + 1
                    && self.record_vote(ctx, from)
                {
                    self.become_candidate(ctx, out);
                }
            }
            RaftMsg::AppendEntries { term } => {
                if term < self.term {
                    // Reject so a stale leader learns the newer term (§5.1).
                    out.send(
                        from,
                        RaftMsg::AppendResponse {
                            term: self.term,
                            success: false,
                        },
                    );
                    return;
                }
                if self.role == Role::Leader {
                    // Two leaders in one term would violate Election Safety; never adopt.
                    return;
                }
                self.role = Role::Follower;
                if self.leader == Some(from) {
                    self.detector.heartbeat(&ctx.config.detector, ctx.now);
                } else {
                    self.detector.restart(ctx.now, from);
                    self.stabilizer
                        .observe(&ctx.config.stabilizer, from, ctx.now);
                }
                self.leader = Some(from);
                self.last_leader_contact = Some(ctx.now);
                self.arm_follower_timer(ctx, out);
                out.send(
                    from,
                    RaftMsg::AppendResponse {
                        term: self.term,
                        success: true,
                    },
                );
            }
            RaftMsg::AppendResponse { .. } => {}
        }
    }

    fn handle_timer(&mut self, ctx: &RCtx<'_>, timer: RaftTimer, out: &mut Out<Self>) {
        match timer {
            RaftTimer::Election => {
                if self.role == Role::Follower
                    && self.leader.is_some()
                    && let Some(wait) = self.stabilizer.hold(&ctx.config.stabilizer, ctx.now)
                {
                    // A follower that still believes in its leader suspects it too soon
                    // after the last leadership change: look again when the window ends.
                    return out.set_timer(RaftTimer::Election, Delay::Fixed(wait));
                }
                if self.role != Role::Leader {
                    self.start_campaign(ctx, out);
                }
            }
            RaftTimer::Heartbeat => {
                if self.role == Role::Leader {
                    out.broadcast(RaftMsg::AppendEntries { term: self.term });
                    out.set_timer(RaftTimer::Heartbeat, Delay::Fixed(ctx.config.heartbeat));
                }
            }
            RaftTimer::CheckQuorum => {
                if self.role != Role::Leader {
                    return;
                }
                let heard = 1 + self
                    .active
                    .iter()
                    .enumerate()
                    .filter(|&(i, &a)| a && i as u32 != self.id)
                    .count() as u32;
                if 2 * heard <= ctx.nodes {
                    self.role = Role::Follower;
                    self.leader = None;
                    self.stop_leading(ctx, out);
                } else {
                    self.active.iter_mut().for_each(|a| *a = false);
                    out.set_timer(
                        RaftTimer::CheckQuorum,
                        Delay::Fixed(ctx.config.election_timeout_min),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Effect;

    fn ctx(id: NodeId, cfg: &RaftConfig) -> Ctx<'_, RaftConfig> {
        Ctx {
            id,
            nodes: 5,
            service: 0,
            now: SimTime(0),
            config: cfg,
        }
    }

    fn boot(id: NodeId, cfg: &RaftConfig) -> Raft {
        let mut out = Out::default();
        Raft::boot(&ctx(id, cfg), None, &mut out)
    }

    fn responses(out: &Out<Raft>) -> Vec<RaftMsg> {
        out.sent().into_iter().map(|(_, m)| m.clone()).collect()
    }

    #[test]
    fn grants_one_vote_per_term_and_persists_it() {
        // Raft §5.2: each server votes for at most one candidate in a given term.
        let cfg = RaftConfig::default();
        let mut n = boot(0, &cfg);
        let mut out = Out::default();
        n.on_message(
            &ctx(0, &cfg),
            1,
            RaftMsg::RequestVote {
                term: 2,
                last_log: LOG_UP_TO_DATE,
            },
            &mut out,
        );
        assert_eq!(
            responses(&out),
            vec![RaftMsg::VoteResponse {
                term: 2,
                granted: true
            }]
        );
        assert!(out.effects.iter().any(|e| matches!(
            e,
            Effect::Persist(RaftDurable {
                term: 2,
                voted_for: Some(1)
            })
        )));
        let mut out = Out::default();
        n.on_message(
            &ctx(0, &cfg),
            2,
            RaftMsg::RequestVote {
                term: 2,
                last_log: LOG_UP_TO_DATE,
            },
            &mut out,
        );
        assert_eq!(
            responses(&out),
            vec![RaftMsg::VoteResponse {
                term: 2,
                granted: false
            }]
        );
    }

    #[test]
    fn election_restriction_rejects_shorter_log() {
        // Raft §5.4.1: deny the vote if the candidate's log is less up-to-date.
        let cfg = RaftConfig::default();
        let mut n = boot(0, &cfg);
        let mut out = Out::default();
        n.on_message(
            &ctx(0, &cfg),
            3,
            RaftMsg::RequestVote {
                term: 2,
                last_log: LOG_STALE,
            },
            &mut out,
        );
        assert_eq!(
            responses(&out),
            vec![RaftMsg::VoteResponse {
                term: 2,
                granted: false
            }]
        );
        assert_eq!(n.term, 2, "the term is still adopted");
    }

    #[test]
    fn leader_steps_down_on_higher_term() {
        let cfg = RaftConfig::default();
        let mut n = boot(0, &cfg);
        let mut out = Out::default();
        n.on_timer(&ctx(0, &cfg), RaftTimer::Election, &mut out);
        assert_eq!(n.role, Role::Candidate);
        for voter in [1, 2] {
            n.on_message(
                &ctx(0, &cfg),
                voter,
                RaftMsg::VoteResponse {
                    term: n.term,
                    granted: true,
                },
                &mut out,
            );
        }
        assert_eq!(n.role, Role::Leader);
        let mut out = Out::default();
        n.on_message(
            &ctx(0, &cfg),
            4,
            RaftMsg::AppendEntries { term: 9 },
            &mut out,
        );
        assert_eq!(
            n.status(),
            NodeStatus {
                role: Role::Follower,
                term: 9,
                leader: Some(4),
                voted_for: None
            }
        );
        assert!(out.effects.contains(&Effect::CancelTimer {
            key: RaftTimer::Heartbeat
        }));
    }

    #[test]
    fn duplicate_votes_are_counted_once() {
        let cfg = RaftConfig::default();
        let mut n = boot(0, &cfg);
        let mut out = Out::default();
        n.on_timer(&ctx(0, &cfg), RaftTimer::Election, &mut out);
        for _ in 0..3 {
            n.on_message(
                &ctx(0, &cfg),
                1,
                RaftMsg::VoteResponse {
                    term: n.term,
                    granted: true,
                },
                &mut out,
            );
        }
        assert_eq!(
            n.role,
            Role::Candidate,
            "one voter plus self is not a majority of 5"
        );
    }

    #[test]
    fn pre_vote_does_not_raise_terms() {
        // Dissertation §9.6: a pre-candidate only increments its term after a majority of pre-votes.
        let cfg = RaftConfig {
            pre_vote: true,
            ..RaftConfig::default()
        };
        let mut n = boot(0, &cfg);
        let mut out = Out::default();
        n.on_timer(&ctx(0, &cfg), RaftTimer::Election, &mut out);
        assert_eq!((n.role, n.term), (Role::PreCandidate, 1));
        assert_eq!(
            responses(&out),
            vec![RaftMsg::PreVote {
                term: 2,
                last_log: LOG_UP_TO_DATE
            }]
        );
        // A peer that follows a live leader refuses, and keeps its term.
        let mut peer = boot(1, &cfg);
        let mut o = Out::default();
        peer.on_message(&ctx(1, &cfg), 2, RaftMsg::AppendEntries { term: 1 }, &mut o);
        let mut o = Out::default();
        peer.on_message(
            &ctx(1, &cfg),
            0,
            RaftMsg::PreVote {
                term: 2,
                last_log: LOG_UP_TO_DATE,
            },
            &mut o,
        );
        assert_eq!(
            responses(&o),
            vec![RaftMsg::PreVoteResponse {
                term: 1,
                granted: false
            }]
        );
        assert_eq!(peer.term, 1);
        // Two granted pre-votes make a majority of 5 -> real candidacy in term 2.
        for v in [3, 4] {
            n.on_message(
                &ctx(0, &cfg),
                v,
                RaftMsg::PreVoteResponse {
                    term: 2,
                    granted: true,
                },
                &mut out,
            );
        }
        assert_eq!((n.role, n.term), (Role::Candidate, 2));
    }

    #[test]
    fn timed_out_pre_vote_round_does_not_escalate() {
        // Dissertation §9.6: without a majority of pre-votes the term must not move.
        let cfg = RaftConfig {
            pre_vote: true,
            ..RaftConfig::default()
        };
        let mut n = boot(0, &cfg);
        for _ in 0..3 {
            let mut out = Out::default();
            n.on_timer(&ctx(0, &cfg), RaftTimer::Election, &mut out);
            assert_eq!((n.role, n.term), (Role::PreCandidate, 1));
        }
    }

    #[test]
    fn check_quorum_leader_steps_down_alone() {
        let cfg = RaftConfig {
            check_quorum: true,
            ..RaftConfig::default()
        };
        let mut n = boot(0, &cfg);
        let mut out = Out::default();
        n.on_timer(&ctx(0, &cfg), RaftTimer::Election, &mut out);
        for v in [1, 2] {
            n.on_message(
                &ctx(0, &cfg),
                v,
                RaftMsg::VoteResponse {
                    term: n.term,
                    granted: true,
                },
                &mut out,
            );
        }
        assert_eq!(n.role, Role::Leader);
        n.on_message(
            &ctx(0, &cfg),
            1,
            RaftMsg::AppendResponse {
                term: n.term,
                success: true,
            },
            &mut out,
        );
        n.on_timer(&ctx(0, &cfg), RaftTimer::CheckQuorum, &mut out);
        assert_eq!(
            n.role,
            Role::Follower,
            "heard from 1 of 4 peers: no majority"
        );
    }

    /// Issue 12 defect 7: etcd-io/raft drops a disruptive vote request under check_quorum's
    /// lease without replying (raft.go, `Step`: "ignored ... lease is not expired").
    #[test]
    fn check_quorum_lease_drops_disruptive_votes_silently() {
        for pre_vote in [false, true] {
            let cfg = RaftConfig {
                check_quorum: true,
                pre_vote,
                ..RaftConfig::default()
            };
            let mut n = boot(0, &cfg);
            let mut out = Out::default();
            n.on_message(
                &ctx(0, &cfg),
                1,
                RaftMsg::AppendEntries { term: 1 },
                &mut out,
            );
            assert_eq!(n.leader, Some(1));
            for msg in [
                RaftMsg::RequestVote {
                    term: 2,
                    last_log: LOG_UP_TO_DATE,
                },
                RaftMsg::PreVote {
                    term: 2,
                    last_log: LOG_UP_TO_DATE,
                },
            ] {
                let mut out = Out::default();
                n.on_message(&ctx(0, &cfg), 2, msg.clone(), &mut out);
                assert!(
                    out.effects.is_empty(),
                    "{msg:?}: no reply, no timer, no write"
                );
                assert_eq!((n.term, n.role), (1, Role::Follower), "{msg:?}");
            }
        }
        // Without check_quorum a pre-vote inside the lease is still refused with a reply
        // (dissertation §9.6), and a RequestVote still moves the term (§5.1).
        let cfg = RaftConfig {
            pre_vote: true,
            ..RaftConfig::default()
        };
        let mut n = boot(0, &cfg);
        let mut out = Out::default();
        n.on_message(
            &ctx(0, &cfg),
            1,
            RaftMsg::AppendEntries { term: 1 },
            &mut out,
        );
        let mut out = Out::default();
        let pv = RaftMsg::PreVote {
            term: 2,
            last_log: LOG_UP_TO_DATE,
        };
        n.on_message(&ctx(0, &cfg), 2, pv, &mut out);
        assert_eq!(
            responses(&out),
            vec![RaftMsg::PreVoteResponse {
                term: 1,
                granted: false
            }]
        );
    }

    #[test]
    fn restart_without_persisted_vote_forgets_it() {
        let cfg = RaftConfig {
            persist_vote: false,
            ..RaftConfig::default()
        };
        let mut n = boot(0, &cfg);
        let mut out = Out::default();
        n.on_message(
            &ctx(0, &cfg),
            1,
            RaftMsg::RequestVote {
                term: 2,
                last_log: LOG_UP_TO_DATE,
            },
            &mut out,
        );
        assert!(!out.effects.iter().any(|e| matches!(e, Effect::Persist(_))));
    }

    fn writes(out: &Out<Raft>) -> Vec<RaftDurable> {
        out.effects
            .iter()
            .filter_map(|e| match e {
                Effect::Persist(d) => Some(*d),
                _ => None,
            })
            .collect()
    }

    fn vote_request(n: &mut Raft, cfg: &RaftConfig, last_log: LogPos) -> Out<Raft> {
        let mut out = Out::default();
        let msg = RaftMsg::RequestVote { term: 2, last_log };
        n.on_message(&ctx(0, cfg), 1, msg, &mut out);
        out
    }

    #[test]
    fn term_adoption_is_its_own_write_only_when_asked() {
        let d = |voted_for| RaftDurable { term: 2, voted_for };
        // Default (etcd): one write carries the adopted term and the vote.
        let cfg = RaftConfig::default();
        let out = vote_request(&mut boot(0, &cfg), &cfg, LOG_UP_TO_DATE);
        assert_eq!(writes(&out), [d(Some(1))]);
        // LogCabin: stepDown writes the term, then the granted vote is written again.
        let lc = RaftConfig {
            persist_term_adoption: true,
            ..RaftConfig::default()
        };
        let out = vote_request(&mut boot(0, &lc), &lc, LOG_UP_TO_DATE);
        assert_eq!(writes(&out), [d(None), d(Some(1))]);
        // A refused vote (stale log) still makes the adopted term durable, once, either way.
        for c in [&cfg, &lc] {
            let out = vote_request(&mut boot(0, c), c, LOG_STALE);
            assert_eq!(writes(&out), [d(None)], "{c:?}");
            assert_eq!(
                responses(&out),
                [RaftMsg::VoteResponse {
                    term: 2,
                    granted: false
                }]
            );
        }
    }

    #[test]
    fn timeout_resolution_draws_whole_steps() {
        let cfg = RaftConfig {
            timeout_resolution: SimDuration::from_millis(1),
            ..RaftConfig::default()
        };
        let mut out = Out::default();
        Raft::boot(&ctx(0, &cfg), None, &mut out);
        assert_eq!(
            out.effects,
            [Effect::SetTimer {
                key: RaftTimer::Election,
                delay: Delay::Steps {
                    min: SimDuration::from_millis(150),
                    max: SimDuration::from_millis(300),
                    step: SimDuration::from_millis(1),
                },
            }]
        );
        let bad = RawRaft {
            election_timeout: Some([SimDuration(150_100_000), SimDuration(150_900_000)]),
            timeout_resolution: Some(SimDuration::from_millis(1)),
            ..RawRaft::default()
        };
        let e = bad.validate(5).unwrap_err();
        assert!(format!("{e:?}").contains("timeout_resolution"), "{e:?}");
    }
}
