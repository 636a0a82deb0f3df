//! The plug-in contract between the engine and an election algorithm.
//!
//! A protocol is a pure state machine: handlers read a [`Ctx`] (identity, membership, the
//! node's own clock reading, config) and push effects into an [`Out`] buffer. They never own
//! an RNG, a clock or a socket — the engine samples timer jitter from the node's stream and
//! applies every effect. That makes every handler unit-testable without an engine.

use super::rng::SimRng;
use super::time::{SimDuration, SimTime};
use serde::Serialize;
use std::fmt::Debug;

/// A node identifier. Participants are `0..nodes`; service replicas (coordination-service
/// recipes) follow at `nodes..nodes + service_nodes`.
pub type NodeId = u32;

/// Role a node reports through [`Protocol::status`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Crashed (set by the engine, never by a protocol).
    Down,
    /// Follows (or waits for) a leader; the initial role.
    #[default]
    Follower,
    /// Raft's pre-vote phase (or any "probing before disrupting" phase).
    PreCandidate,
    /// Campaigning for leadership.
    Candidate,
    /// Believes itself leader.
    Leader,
    /// A coordination-service replica: not a participant in the election metrics.
    Service,
}

impl Role {
    /// Snake-case name used in traces and exports.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Down => "down",
            Role::Follower => "follower",
            Role::PreCandidate => "pre_candidate",
            Role::Candidate => "candidate",
            Role::Leader => "leader",
            Role::Service => "service",
        }
    }
}

/// What a node believes about itself; the engine diffs it around every handler call and
/// emits a status-change trace event, from which all metrics are derived.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NodeStatus {
    /// The node's current role.
    pub role: Role,
    /// Raft term, Bully/Ring election epoch, ZooKeeper sequence number, etcd create revision.
    pub term: u64,
    /// The node this node believes is leader (itself when leader).
    pub leader: Option<NodeId>,
    /// The vote cast in `term`, where the algorithm votes (checked by the vote-once invariant).
    pub voted_for: Option<NodeId>,
}

impl NodeStatus {
    /// The status of a crashed node.
    pub const DOWN: NodeStatus = NodeStatus {
        role: Role::Down,
        term: 0,
        leader: None,
        voted_for: None,
    };
}

/// Traffic class of a message, for accounting steady-state overhead apart from elections.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MsgClass {
    /// Part of electing a leader (votes, Election/Answer/Coordinator, ring tokens, ...).
    Election,
    /// Steady-state liveness traffic: heartbeats, keepalives, session pings and their acks.
    Heartbeat,
    /// Everything else (e.g. client requests to a coordination service).
    Other,
}

/// Message kinds that reports (the JSON `messages_by_kind`, CSV `msg_*` columns) list only
/// when some message of the kind was sent or the configuration can send one: the optional
/// failure-detector queries, so results of runs without them keep their shape.
pub const LISTED_WHEN_USED: &[&str] = &["SuspectQuery", "SuspectReply"];

/// A protocol message type.
pub trait Message: Clone + Debug {
    /// The names of all message kinds; `kind()` indexes into it.
    const KINDS: &'static [&'static str];
    /// Index into [`Message::KINDS`].
    fn kind(&self) -> usize;
    /// Traffic class, for overhead accounting.
    fn class(&self) -> MsgClass;
    /// The term/epoch the message carries, if any (for traces).
    fn term(&self) -> Option<u64> {
        None
    }
    /// Whether the message is a reply that refuses what was asked (a vote or pre-vote not
    /// granted). The engine copies it into the trace ([`crate::sim::MsgRef::refused`]) so
    /// coverage can count rejections that share a kind with grants; it is not hashed into
    /// the trace digest.
    fn refused(&self) -> bool {
        false
    }
}

/// A timer key: setting a key again replaces its pending deadline.
pub trait TimerKey: Copy + Eq + Debug {
    /// Name of the timer, for traces.
    fn name(&self) -> &'static str;
}

/// How long until a timer fires, on the node's local clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delay {
    /// Exactly this long.
    Fixed(SimDuration),
    /// Uniform in `[min, max]`, sampled by the engine from the node's random stream.
    Uniform {
        /// Shortest delay.
        min: SimDuration,
        /// Longest delay.
        max: SimDuration,
    },
    /// Uniform over the whole multiples of `step` in `[min, max]` (a timer library that
    /// counts in whole milliseconds, as LogCabin's does). `step` must be positive; with no
    /// multiple in the range the draw is `min` rounded up to one.
    Steps {
        /// Shortest delay.
        min: SimDuration,
        /// Longest delay.
        max: SimDuration,
        /// Granularity of the timer.
        step: SimDuration,
    },
}

impl Delay {
    /// The smallest delay [`Delay::sample`] can draw. The model checker (`verify`) and the
    /// engine's held mode (golden-script `deliver`/`fire`) arm timers with it, so that both
    /// see the same deadlines without a random draw.
    pub fn earliest(self) -> SimDuration {
        match self {
            Delay::Fixed(d) | Delay::Uniform { min: d, .. } => d,
            Delay::Steps { min, step, .. } => {
                let step = step.0.max(1);
                SimDuration(min.0.div_ceil(step).saturating_mul(step))
            }
        }
    }

    /// Draw the delay (in the node's local time) from the node's stream.
    #[inline]
    pub fn sample(self, rng: &mut SimRng) -> SimDuration {
        match self {
            Delay::Fixed(d) => d,
            Delay::Uniform { min, max } => SimDuration(rng.range_inclusive(min.0, max.0)),
            Delay::Steps { min, max, step } => {
                let step = step.0.max(1);
                let lo = min.0.div_ceil(step);
                let hi = (max.0 / step).max(lo);
                SimDuration(rng.range_inclusive(lo, hi).saturating_mul(step))
            }
        }
    }
}

/// Read-only context handed to every handler.
#[derive(Debug)]
pub struct Ctx<'a, C> {
    /// The node the handler runs on.
    pub id: NodeId,
    /// Number of participants (`0..nodes`).
    pub nodes: u32,
    /// Service replicas (`nodes..nodes + service`).
    pub service: u32,
    /// The node's own clock reading (drift and offset applied).
    pub now: SimTime,
    /// The algorithm's configuration (same for every node).
    pub config: &'a C,
}

impl<C> Ctx<'_, C> {
    /// Other participants, in id order.
    pub fn peers(&self) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.nodes).filter(move |&p| p != self.id)
    }
    /// Smallest number of participants that is a strict majority.
    pub fn majority(&self) -> u32 {
        self.nodes / 2 + 1
    }
    /// Ids of the coordination-service replicas.
    pub fn service_ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.nodes..self.nodes + self.service
    }
}

/// One effect requested by a handler.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect<M, T, D> {
    /// Send one message to one node.
    Send {
        /// Receiver (a participant or a service replica).
        to: NodeId,
        /// The message.
        msg: M,
    },
    /// Send to every other participant (not to service replicas).
    Broadcast {
        /// The message.
        msg: M,
    },
    /// Arm (or re-arm, replacing the pending deadline) a timer.
    SetTimer {
        /// Which timer.
        key: T,
        /// Time until it fires, on the node's local clock.
        delay: Delay,
    },
    /// Disarm a timer; nothing happens if it is not pending.
    CancelTimer {
        /// Which timer.
        key: T,
    },
    /// Replace the node's durable state (survives crashes). With a configured fsync latency,
    /// messages sent by the same handler leave only after the write completes.
    Persist(D),
}

/// The effect buffer a handler writes into.
#[derive(Debug)]
pub struct Out<P: Protocol> {
    /// Effects in the order the handler requested them; the engine applies them in that order.
    pub effects: Vec<Effect<P::Msg, P::Timer, P::Durable>>,
}

impl<P: Protocol> Default for Out<P> {
    fn default() -> Self {
        Out {
            effects: Vec::new(),
        }
    }
}

impl<P: Protocol> Out<P> {
    /// Request [`Effect::Send`].
    pub fn send(&mut self, to: NodeId, msg: P::Msg) {
        self.effects.push(Effect::Send { to, msg });
    }
    /// Request [`Effect::Broadcast`].
    pub fn broadcast(&mut self, msg: P::Msg) {
        self.effects.push(Effect::Broadcast { msg });
    }
    /// Request [`Effect::SetTimer`].
    pub fn set_timer(&mut self, key: P::Timer, delay: Delay) {
        self.effects.push(Effect::SetTimer { key, delay });
    }
    /// Request [`Effect::CancelTimer`].
    pub fn cancel_timer(&mut self, key: P::Timer) {
        self.effects.push(Effect::CancelTimer { key });
    }
    /// Request [`Effect::Persist`].
    pub fn persist(&mut self, durable: P::Durable) {
        self.effects.push(Effect::Persist(durable));
    }
    /// Messages sent (broadcasts counted once), for handler unit tests.
    pub fn sent(&self) -> Vec<(Option<NodeId>, &P::Msg)> {
        self.effects
            .iter()
            .filter_map(|e| match e {
                Effect::Send { to, msg } => Some((Some(*to), msg)),
                Effect::Broadcast { msg } => Some((None, msg)),
                _ => None,
            })
            .collect()
    }
    /// Drop all buffered effects (handler unit tests reuse one buffer).
    pub fn clear(&mut self) {
        self.effects.clear();
    }
}

/// An election algorithm.
pub trait Protocol: Sized + Debug {
    /// The algorithm's message type.
    type Msg: Message;
    /// The algorithm's timer keys.
    type Timer: TimerKey;
    /// State that survives a crash (Raft's term and vote, ...).
    type Durable: Clone + Debug;
    /// The algorithm's configuration (the scenario's algorithm table).
    type Config: Clone + Debug;

    /// Start (or restart, with the durable state saved before the crash).
    fn boot(
        ctx: &Ctx<'_, Self::Config>,
        durable: Option<&Self::Durable>,
        out: &mut Out<Self>,
    ) -> Self;
    /// [`Protocol::boot`] for a protocol that must make random draws of its own (a wrapped
    /// production library that randomizes internally, see `protocols::raft_rs`): `rng` is
    /// the node's seeded stream, so the draws are a function of the seed. The engine boots
    /// every node through this; the default ignores `rng` (draws nothing) and calls `boot`.
    fn boot_seeded(
        ctx: &Ctx<'_, Self::Config>,
        durable: Option<&Self::Durable>,
        out: &mut Out<Self>,
        _rng: &mut SimRng,
    ) -> Self {
        Self::boot(ctx, durable, out)
    }
    /// Handle a message delivered from `from`.
    fn on_message(
        &mut self,
        ctx: &Ctx<'_, Self::Config>,
        from: NodeId,
        msg: Self::Msg,
        out: &mut Out<Self>,
    );
    /// Handle a timer that fired.
    fn on_timer(&mut self, ctx: &Ctx<'_, Self::Config>, timer: Self::Timer, out: &mut Out<Self>);
    /// What the node believes about itself now (diffed by the engine after every handler).
    fn status(&self) -> NodeStatus;

    /// Extra non-participant nodes this algorithm needs (coordination-service replicas).
    fn service_nodes(_config: &Self::Config) -> u32 {
        0
    }
    /// Whether "at most one leader per term" is a safety property this configuration claims
    /// (true for Raft; a violation then counts as an invariant violation).
    fn claims_election_safety(_config: &Self::Config) -> bool {
        false
    }
    /// The ring order of the `nodes` participants (position 0 first), for algorithms that pass
    /// a token around a ring. Coverage counts a token sent to anyone but the sender's ring
    /// successor as a skip. A static property of the configuration, not of a run.
    fn ring_order(_config: &Self::Config, _nodes: u32) -> Option<Vec<NodeId>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::Stream;

    #[test]
    fn steps_draw_whole_multiples_inside_the_range() {
        let ms = SimDuration::from_millis;
        let mut rng = SimRng::new(5, Stream::Node(0));
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let d = Delay::Steps {
                min: ms(150),
                max: ms(151),
                step: ms(1),
            }
            .sample(&mut rng);
            seen.insert(d);
        }
        // LogCabin with a 150 ms timeout draws 150 or 151 whole milliseconds.
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), [ms(150), ms(151)]);
        let half = SimDuration(150_500_000);
        for _ in 0..50 {
            let d = Delay::Steps {
                min: half,
                max: ms(152),
                step: ms(1),
            }
            .sample(&mut rng);
            assert!(d == ms(151) || d == ms(152), "{d}");
        }
    }
}
