//! A second, independent implementation of the metric definitions (README, "Metrics: precise
//! definitions", and issue 12), used as a test oracle for `electsim::sim::metrics`.
//!
//! It is written from the definitions' text and shares no code with `src/sim/metrics.rs`: it
//! reads only the trace-event stream through the public [`Observer`] trait and keeps its own
//! copy of everything it needs (node statuses, pauses, the set of active network faults).
//!
//! Definitions implemented here:
//! * participants are ids `< nodes`; higher ids are service replicas, used only for the
//!   lease-overlap holder. A participant is *live* iff its role is not `Down` and it is not
//!   paused (a `Pause` fault until its `Resume`; a crash also ends a pause).
//! * links: every partition / cut / isolate fault event gets a run-wide number 0, 1, 2, ... in
//!   trace order. A link `a -> b` is up iff no *active* network fault cuts it. `Heal`
//!   deactivates all of them; `HealFault { fault }` (serialized as `heal_fault`) only one.
//! * *elected*: some live participant `L` in role leader such that `L` plus the live
//!   participants in role follower with `leader == L`, connected to `L` both ways, form a
//!   strict majority of all participants (lowest such id if several). Evaluated after every
//!   status, fault and resume event.
//! * causes (docs/causes.md): the interval at t = 0 is `boot`; a later one is named by the
//!   event that ended "elected by L": L down -> `leader_crash`; L paused -> `leader_pause`;
//!   another leader qualifies at once -> `hand_over`; a network fault -> `leader_cut_off`;
//!   L's own status change -> `hand_over` if its term rose or another live participant
//!   leads or campaigns, else `step_down`; a follower's status change -> `hand_over` if it
//!   now leads, campaigns or follows someone else, else `followers_lost`; else
//!   `followers_lost`.
//! * leaderless intervals, elections, election/failover/detect/converge samples, message
//!   accounting, split brain, same-term leaders, leader changes, candidacies, availability,
//!   tenure and lease overlap: see the comments at each field below.

#![allow(dead_code)]

use electsim::sim::{FaultAction, MsgClass, NodeId, NodeStatus, Observer, Role, SimTime, Target};
use electsim::sim::{TraceEvent, metrics::RunMetrics};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// Whether a change of the qualifying leader within one event (no instant without an
/// elected leader) counts as a loss plus an election of length zero. The README's "the moment
/// elected stops holding (... or its followers left it)" reads so; electsim does the same.
pub const SWITCH_IS_ELECTION: bool = true;

/// Summary of a sample: count, mean, nearest-rank p50/p90/p99, max.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    pub count: u64,
    pub mean: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
}

impl Summary {
    pub fn from_samples(samples: &[f64]) -> Summary {
        if samples.is_empty() {
            return Summary::default();
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(|a, b| a.partial_cmp(b).expect("no NaN samples"));
        let n = sorted.len();
        // Value at 1-based rank ceil(q * n), computed in integers where possible.
        let rank = |pct: usize| -> f64 {
            let r = (pct * n).div_ceil(100).max(1);
            sorted[r - 1]
        };
        let mut total = 0.0;
        for v in &sorted {
            total += v;
        }
        Summary {
            count: n as u64,
            mean: Some(total / n as f64),
            p50: Some(rank(50)),
            p90: Some(rank(90)),
            p99: Some(rank(99)),
            max: Some(sorted[n - 1]),
        }
    }
}

/// Per-kind message counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PerKind {
    pub sent: u64,
    pub delivered: u64,
    pub dropped: u64,
}

/// The oracle's result, one field per metric of the JSON contract.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OracleMetrics {
    pub duration_s: f64,
    pub elections: u64,
    pub election_ms: Summary,
    pub failover_ms: Summary,
    pub detect_ms: Summary,
    pub converge_ms: Summary,
    pub messages_sent: u64,
    pub messages_delivered: u64,
    pub messages_dropped: u64,
    pub messages_by_kind: BTreeMap<String, PerKind>,
    pub messages_per_election: Option<f64>,
    pub election_messages: u64,
    pub heartbeat_messages: u64,
    pub heartbeats_per_s: f64,
    pub split_brain_incidents: u64,
    pub split_brain_ms: f64,
    pub same_term_leaders: u64,
    pub leader_changes: u64,
    pub elections_started: u64,
    pub unnecessary_elections: u64,
    pub availability: f64,
    pub leader_tenure_ms: Summary,
    pub leaderless_at_end: bool,
    pub lease_overlap_ms: f64,
    pub lease_overlap_incidents: u64,
    pub stale_actions_accepted: u64,
    pub stale_actions_rejected: u64,
    /// Per election, in order: the name of the cause that began its interval.
    pub causes: Vec<&'static str>,
    /// Per cause name: (elections, their lengths summed in ns, election messages in them).
    pub by_cause: BTreeMap<&'static str, (u64, u64, u64)>,
}

/// The event the oracle is applying, as the cause rule reads it.
#[derive(Clone, Copy, Debug)]
enum Applying {
    Network,
    Status {
        node: NodeId,
        old: NodeStatus,
        new: NodeStatus,
    },
    Other,
}

/// One network fault as the trace announced it.
#[derive(Clone, Debug)]
enum NetFault {
    Partition(Vec<Vec<NodeId>>),
    Cut(NodeId, NodeId),
    Isolate(NodeId),
}

impl NetFault {
    /// Does this fault cut the directed link `a -> b`?
    fn cuts(&self, a: NodeId, b: NodeId) -> bool {
        match self {
            NetFault::Partition(groups) => {
                let group_of = |x: NodeId| {
                    groups
                        .iter()
                        .position(|g| g.contains(&x))
                        .unwrap_or(groups.len())
                };
                group_of(a) != group_of(b)
            }
            NetFault::Cut(from, to) => *from == a && *to == b,
            NetFault::Isolate(n) => *n == a || *n == b,
        }
    }
}

/// A 0/1 signal over virtual time, piecewise constant between event instants: its value over
/// `[t, next event time)` is its value after the last event at `t`. Collects the maximal
/// intervals of positive length in which it is 1.
#[derive(Clone, Debug, Default)]
struct Signal {
    on_since: Option<SimTime>,
    lengths_ns: Vec<u64>,
}

impl Signal {
    /// The segment `[from, to)` had value `value`.
    fn segment(&mut self, from: SimTime, to: SimTime, value: bool) {
        if to <= from {
            return;
        }
        match (value, self.on_since) {
            (true, None) => self.on_since = Some(from),
            (false, Some(s)) => {
                self.lengths_ns.push(from.0 - s.0);
                self.on_since = None;
            }
            _ => {}
        }
    }

    fn close(&mut self, end: SimTime) {
        if let Some(s) = self.on_since.take() {
            self.lengths_ns.push(end.0 - s.0);
        }
    }
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// Deliberate deviations from the definitions that reproduce electsim's known defects of
/// issue 12 (used only by the survey to tell known disagreements from new ones; the
/// agreement test always uses [`Oracle::new`], which has none of them).
#[derive(Clone, Copy, Debug, Default)]
pub struct KnownDefects {
    /// Defect 4: the boot interval also gives a detect and a converge sample.
    pub boot_samples: bool,
    /// Defect 3: sends of a leaderless interval still open at the end count too.
    pub open_interval_sends: bool,
    /// Defect 5: the lost leader's own election-class messages count as detection.
    pub detect_by_lost_leader: bool,
    /// Defect 5: election-class messages of service replicas (ids >= nodes) count as
    /// detection.
    pub detect_by_service: bool,
    /// Defect 2 (today's engine links): a partition replaces every earlier partition instead
    /// of composing with it.
    pub partition_replaces: bool,
}

/// The reference implementation. Feed it with [`Tap`].
#[derive(Debug)]
pub struct Oracle {
    nodes: u32,
    known: KnownDefects,
    status: BTreeMap<NodeId, NodeStatus>,
    paused: BTreeSet<NodeId>,
    /// Every network fault announced so far, by number, with its active flag.
    net: Vec<(NetFault, bool)>,

    /// The leader of the current elected state, if elected holds.
    elected: Option<NodeId>,
    /// Start of the current elected period.
    tenure_since: SimTime,
    tenures_ns: Vec<u64>,
    /// The current leaderless interval: start, and the leader whose loss began it (None for
    /// the boot interval).
    leaderless_since: Option<SimTime>,
    lost_leader: Option<NodeId>,
    sends_in_interval: u64,
    sends_in_ended_intervals: u64,
    detected: bool,
    /// Pending convergence after a loss: (loss time, new leader).
    converging: Option<(SimTime, NodeId)>,
    last_election_leader: Option<NodeId>,

    election_ns: Vec<u64>,
    failover_ns: Vec<u64>,
    detect_ns: Vec<u64>,
    converge_ns: Vec<u64>,
    leader_changes: u64,
    elections_started: u64,
    unnecessary_elections: u64,

    sent: u64,
    delivered: u64,
    dropped: u64,
    by_kind: BTreeMap<String, PerKind>,
    election_sends: u64,
    heartbeat_sends: u64,
    stale_accepted: u64,
    stale_rejected: u64,

    leaders_by_term: BTreeMap<u64, BTreeSet<NodeId>>,

    /// Piecewise-constant signals.
    last_at: SimTime,
    split_brain: Signal,
    overlap: Signal,
    /// The holder the coordination service last named (None: nobody).
    holder: Option<NodeId>,

    result: Option<OracleMetrics>,

    applying: Applying,
    /// The cause of the current leaderless interval, and the election sends when it began.
    cause: &'static str,
    election_sends_at_loss: u64,
    causes: Vec<&'static str>,
    by_cause: BTreeMap<&'static str, (u64, u64, u64)>,
}

impl Oracle {
    pub fn new(nodes: u32) -> Oracle {
        Oracle::with_known_defects(nodes, KnownDefects::default())
    }

    /// An oracle that reproduces some of the known defects (see [`KnownDefects`]).
    pub fn with_known_defects(nodes: u32, known: KnownDefects) -> Oracle {
        Oracle {
            nodes,
            known,
            status: BTreeMap::new(),
            paused: BTreeSet::new(),
            net: Vec::new(),
            elected: None,
            tenure_since: SimTime(0),
            tenures_ns: Vec::new(),
            leaderless_since: Some(SimTime(0)),
            lost_leader: None,
            sends_in_interval: 0,
            sends_in_ended_intervals: 0,
            detected: false,
            converging: None,
            last_election_leader: None,
            election_ns: Vec::new(),
            failover_ns: Vec::new(),
            detect_ns: Vec::new(),
            converge_ns: Vec::new(),
            leader_changes: 0,
            elections_started: 0,
            unnecessary_elections: 0,
            sent: 0,
            delivered: 0,
            dropped: 0,
            by_kind: BTreeMap::new(),
            election_sends: 0,
            heartbeat_sends: 0,
            stale_accepted: 0,
            stale_rejected: 0,
            leaders_by_term: BTreeMap::new(),
            last_at: SimTime(0),
            split_brain: Signal::default(),
            overlap: Signal::default(),
            holder: None,
            result: None,
            applying: Applying::Other,
            cause: "boot",
            election_sends_at_loss: 0,
            causes: Vec::new(),
            by_cause: BTreeMap::new(),
        }
    }

    /// The metrics, once the `End` event has been seen.
    pub fn result(&self) -> Option<&OracleMetrics> {
        self.result.as_ref()
    }

    fn role(&self, n: NodeId) -> Role {
        self.status.get(&n).map_or(Role::Down, |s| s.role)
    }

    fn live(&self, n: NodeId) -> bool {
        self.role(n) != Role::Down && !self.paused.contains(&n)
    }

    fn link_up(&self, a: NodeId, b: NodeId) -> bool {
        a == b || !self.net.iter().any(|(f, on)| *on && f.cuts(a, b))
    }

    fn both_ways(&self, a: NodeId, b: NodeId) -> bool {
        self.link_up(a, b) && self.link_up(b, a)
    }

    fn follows(&self, f: NodeId, l: NodeId) -> bool {
        self.status
            .get(&f)
            .is_some_and(|s| s.role == Role::Follower && s.leader == Some(l))
    }

    /// The leader of the elected state now, if it holds.
    fn compute_elected(&self) -> Option<NodeId> {
        (0..self.nodes).find(|&l| {
            if !self.live(l) || self.role(l) != Role::Leader {
                return false;
            }
            let support = 1
                + (0..self.nodes)
                    .filter(|&f| {
                        f != l && self.live(f) && self.follows(f, l) && self.both_ways(l, f)
                    })
                    .count();
            2 * support > self.nodes as usize
        })
    }

    fn live_leaders(&self) -> usize {
        (0..self.nodes)
            .filter(|&n| self.live(n) && self.role(n) == Role::Leader)
            .count()
    }

    fn lease_overlap_now(&self) -> bool {
        // Only runs with a coordination service (replicas have ids >= nodes) have a holder.
        self.status.range(self.nodes..).next().is_some()
            && (0..self.nodes)
                .any(|n| self.live(n) && self.role(n) == Role::Leader && self.holder != Some(n))
    }

    /// Re-read the service's authoritative holder: the replica in role service with the
    /// highest term above zero (lowest id on ties) names it; with none, the last one stands.
    fn update_holder(&mut self) {
        let mut best: Option<(u64, NodeId, Option<NodeId>)> = None;
        for (&id, s) in self.status.range(self.nodes..) {
            if s.role == Role::Service && s.term > 0 && best.is_none_or(|(t, _, _)| s.term > t) {
                best = Some((s.term, id, s.leader));
            }
        }
        if let Some((_, _, leader)) = best {
            self.holder = leader;
        }
    }

    /// Re-evaluate the elected state after a status, fault or resume event at `at`.
    ///
    /// The elected state is "elected *by L*": when the qualifying leader changes from `L` to
    /// `M` within one event (L's followers move over to M), that is a loss of `L` and an
    /// election of `M` at the same instant, i.e. a leaderless interval of length zero. See
    /// [`SWITCH_IS_ELECTION`].
    fn evaluate(&mut self, at: SimTime) {
        let now = self.compute_elected();
        match (self.elected, now) {
            (Some(old), None) => self.loss(at, old, false),
            (None, Some(new)) => self.election(at, new),
            (Some(old), Some(new)) if old != new && SWITCH_IS_ELECTION => {
                self.loss(at, old, true);
                self.election(at, new);
            }
            _ => {}
        }
        self.elected = now;
        if let (Some((since, n)), Some(_)) = (self.converging, self.elected) {
            let all = (0..self.nodes)
                .all(|p| p == n || !self.live(p) || !self.both_ways(p, n) || self.follows(p, n));
            if all {
                self.converge_ns.push(at.0 - since.0);
                self.converging = None;
            }
        }
    }

    /// Elected (by `old`) stops holding: an elected period ends, a leaderless interval begins.
    /// The cause rule of the module docs, for the loss of `old` on the event being applied.
    fn cause_of(&self, old: NodeId, successor: bool) -> &'static str {
        let active = |r: Role| matches!(r, Role::Leader | Role::Candidate | Role::PreCandidate);
        if self.role(old) == Role::Down {
            "leader_crash"
        } else if self.paused.contains(&old) {
            "leader_pause"
        } else if successor {
            "hand_over"
        } else {
            match self.applying {
                Applying::Network => "leader_cut_off",
                Applying::Status {
                    node,
                    old: before,
                    new,
                } if node == old => {
                    let others =
                        (0..self.nodes).any(|p| p != old && self.live(p) && active(self.role(p)));
                    if new.term > before.term || others {
                        "hand_over"
                    } else {
                        "step_down"
                    }
                }
                Applying::Status { new, .. } => {
                    let moved =
                        new.role == Role::Follower && matches!(new.leader, Some(l) if l != old);
                    if active(new.role) || moved {
                        "hand_over"
                    } else {
                        "followers_lost"
                    }
                }
                Applying::Other => "followers_lost",
            }
        }
    }

    fn loss(&mut self, at: SimTime, old: NodeId, successor: bool) {
        self.cause = self.cause_of(old, successor);
        self.election_sends_at_loss = self.election_sends;
        self.tenures_ns.push(at.0 - self.tenure_since.0);
        self.leaderless_since = Some(at);
        self.lost_leader = Some(old);
        self.sends_in_interval = 0;
        self.detected = false;
        self.converging = None;
    }

    /// Elected (by `new`) starts holding: the leaderless interval ends in an election.
    fn election(&mut self, at: SimTime, new: NodeId) {
        let since = self.leaderless_since.take().expect("leaderless");
        self.election_ns.push(at.0 - since.0);
        self.causes.push(self.cause);
        let e = self.by_cause.entry(self.cause).or_default();
        e.0 += 1;
        e.1 += at.0 - since.0;
        e.2 += self.election_sends - self.election_sends_at_loss;
        if self.lost_leader.is_some() {
            self.failover_ns.push(at.0 - since.0);
        }
        if self.lost_leader.is_some() || self.known.boot_samples {
            self.converging = Some((since, new));
        }
        self.sends_in_ended_intervals += self.sends_in_interval;
        self.sends_in_interval = 0;
        if self.last_election_leader.is_some_and(|p| p != new) {
            self.leader_changes += 1;
        }
        self.last_election_leader = Some(new);
        self.tenure_since = at;
    }

    fn on_fault(&mut self, action: &FaultAction) {
        match action {
            FaultAction::Crash {
                target: Target::Node(n),
                ..
            } => {
                self.paused.remove(n);
            }
            FaultAction::Pause {
                target: Target::Node(n),
                ..
            } => {
                self.paused.insert(*n);
            }
            FaultAction::Partition { groups, .. } => {
                if self.known.partition_replaces {
                    for f in &mut self.net {
                        if matches!(f.0, NetFault::Partition(_)) {
                            f.1 = false;
                        }
                    }
                }
                self.net.push((NetFault::Partition(groups.clone()), true));
            }
            FaultAction::Cut {
                from: Target::Node(from),
                to: Target::Node(to),
                ..
            } => self.net.push((NetFault::Cut(*from, *to), true)),
            FaultAction::Isolate {
                target: Target::Node(n),
                ..
            } => self.net.push((NetFault::Isolate(*n), true)),
            FaultAction::Heal => {
                for f in &mut self.net {
                    f.1 = false;
                }
            }
            FaultAction::Restart { .. }
            | FaultAction::SetLoss { .. }
            | FaultAction::SetDelay { .. }
            | FaultAction::ClockDrift { .. } => {}
            other => {
                // Matched by its serialized form so that this file compiles before and after
                // `FaultAction::HealFault { fault }` exists: `{"heal_fault": {"fault": k}}`.
                let v = serde_json::to_value(other).expect("fault actions serialize");
                let Some(k) = v
                    .get("heal_fault")
                    .and_then(|h| h.get("fault"))
                    .and_then(serde_json::Value::as_u64)
                else {
                    panic!("the metrics oracle does not know the fault action {v}; define it");
                };
                let f = self
                    .net
                    .get_mut(k as usize)
                    .unwrap_or_else(|| panic!("heal_fault of unknown network fault {k}"));
                f.1 = false;
            }
        }
    }

    fn finish(&mut self, end: SimTime) {
        if self.elected.is_some() {
            self.tenures_ns.push(end.0 - self.tenure_since.0);
        }
        self.split_brain.close(end);
        self.overlap.close(end);
        let secs = end.0 as f64 / 1e9;
        let to_ms = |v: &[u64]| v.iter().map(|&x| ms(x)).collect::<Vec<_>>();
        let elections = self.election_ns.len() as u64;
        let elected_ns: u64 = self.tenures_ns.iter().sum();
        self.result = Some(OracleMetrics {
            duration_s: secs,
            elections,
            election_ms: Summary::from_samples(&to_ms(&self.election_ns)),
            failover_ms: Summary::from_samples(&to_ms(&self.failover_ns)),
            detect_ms: Summary::from_samples(&to_ms(&self.detect_ns)),
            converge_ms: Summary::from_samples(&to_ms(&self.converge_ns)),
            messages_sent: self.sent,
            messages_delivered: self.delivered,
            messages_dropped: self.dropped,
            messages_by_kind: self.by_kind.clone(),
            messages_per_election: (elections > 0).then(|| {
                let open = if self.known.open_interval_sends && self.elected.is_none() {
                    self.sends_in_interval
                } else {
                    0
                };
                (self.sends_in_ended_intervals + open) as f64 / elections as f64
            }),
            election_messages: self.election_sends,
            heartbeat_messages: self.heartbeat_sends,
            heartbeats_per_s: if secs > 0.0 {
                self.heartbeat_sends as f64 / secs
            } else {
                0.0
            },
            split_brain_incidents: self.split_brain.lengths_ns.len() as u64,
            split_brain_ms: ms(self.split_brain.lengths_ns.iter().sum()),
            same_term_leaders: self
                .leaders_by_term
                .values()
                .filter(|s| s.len() >= 2)
                .count() as u64,
            leader_changes: self.leader_changes,
            elections_started: self.elections_started,
            unnecessary_elections: self.unnecessary_elections,
            availability: if end.0 > 0 {
                elected_ns as f64 / end.0 as f64
            } else {
                0.0
            },
            leader_tenure_ms: Summary::from_samples(&to_ms(&self.tenures_ns)),
            leaderless_at_end: self.elected.is_none(),
            lease_overlap_ms: ms(self.overlap.lengths_ns.iter().sum()),
            lease_overlap_incidents: self.overlap.lengths_ns.len() as u64,
            stale_actions_accepted: self.stale_accepted,
            stale_actions_rejected: self.stale_rejected,
            causes: self.causes.clone(),
            by_cause: self.by_cause.clone(),
        });
    }
}

impl Observer for Oracle {
    fn observe(&mut self, ev: &TraceEvent<'_>) {
        let at = ev.at();
        assert!(at >= self.last_at, "trace time went backwards");
        if at > self.last_at {
            // The state after the last event at `last_at` held until now.
            let sb = self.live_leaders() >= 2;
            let ov = self.lease_overlap_now();
            self.split_brain.segment(self.last_at, at, sb);
            self.overlap.segment(self.last_at, at, ov);
            self.last_at = at;
        }
        match *ev {
            TraceEvent::Send { msg, .. } => {
                self.sent += 1;
                self.by_kind
                    .entry(msg.kind_name.to_string())
                    .or_default()
                    .sent += 1;
                match msg.class {
                    MsgClass::Election => self.election_sends += 1,
                    MsgClass::Heartbeat => self.heartbeat_sends += 1,
                    MsgClass::Other => {}
                }
                match msg.kind_name {
                    "StaleActionAccepted" => self.stale_accepted += 1,
                    "StaleActionRejected" => self.stale_rejected += 1,
                    _ => {}
                }
                if let Some(since) = self.leaderless_since {
                    self.sends_in_interval += 1;
                    let by_other = match self.lost_leader {
                        Some(lost) => msg.from != lost || self.known.detect_by_lost_leader,
                        None => self.known.boot_samples,
                    };
                    if by_other
                        && !self.detected
                        && msg.class == MsgClass::Election
                        && (msg.from < self.nodes || self.known.detect_by_service)
                    {
                        self.detected = true;
                        self.detect_ns.push(at.0 - since.0);
                    }
                }
            }
            TraceEvent::Deliver { msg, .. } => {
                self.delivered += 1;
                self.by_kind
                    .entry(msg.kind_name.to_string())
                    .or_default()
                    .delivered += 1;
            }
            TraceEvent::Drop { msg, .. } => {
                self.dropped += 1;
                self.by_kind
                    .entry(msg.kind_name.to_string())
                    .or_default()
                    .dropped += 1;
            }
            TraceEvent::Timer { .. } => {}
            TraceEvent::Status { node, old, new, .. } => {
                if node < self.nodes {
                    let campaigning = |r: Role| matches!(r, Role::Candidate | Role::PreCandidate);
                    if campaigning(new.role) && !campaigning(old.role) {
                        self.elections_started += 1;
                        if self.elected.is_some() {
                            self.unnecessary_elections += 1;
                        }
                    }
                    if new.role == Role::Leader {
                        self.leaders_by_term
                            .entry(new.term)
                            .or_default()
                            .insert(node);
                    }
                }
                self.status.insert(node, new);
                if node >= self.nodes {
                    self.update_holder();
                }
                self.applying = Applying::Status { node, old, new };
                self.evaluate(at);
            }
            TraceEvent::Fault { action, .. } => {
                self.on_fault(action);
                let net = matches!(
                    action,
                    FaultAction::Partition { .. }
                        | FaultAction::Cut { .. }
                        | FaultAction::Isolate { .. }
                        | FaultAction::Heal
                ) || serde_json::to_value(action)
                    .is_ok_and(|v| v.get("heal_fault").is_some());
                self.applying = if net {
                    Applying::Network
                } else {
                    Applying::Other
                };
                self.evaluate(at);
            }
            TraceEvent::Resume { node, .. } => {
                self.paused.remove(&node);
                self.applying = Applying::Other;
                self.evaluate(at);
            }
            TraceEvent::End { at } => self.finish(at),
        }
    }
}

/// An observer handle the engine can own while the test keeps reading the oracle.
pub struct Tap(pub Rc<RefCell<Oracle>>);

impl Observer for Tap {
    fn observe(&mut self, ev: &TraceEvent<'_>) {
        self.0.borrow_mut().observe(ev);
    }
}

/// Every disagreement between the oracle and electsim's metrics, one line each.
pub fn compare(o: &OracleMetrics, m: &RunMetrics) -> Vec<String> {
    let mut out = Vec::new();
    let mut count = |name: &str, a: u64, b: u64| {
        if a != b {
            out.push(format!("{name}: oracle {a}, electsim {b}"));
        }
    };
    count("elections", o.elections, m.elections);
    count("messages_sent", o.messages_sent, m.messages_sent);
    count(
        "messages_delivered",
        o.messages_delivered,
        m.messages_delivered,
    );
    count("messages_dropped", o.messages_dropped, m.messages_dropped);
    count(
        "election_messages",
        o.election_messages,
        m.election_messages,
    );
    count(
        "heartbeat_messages",
        o.heartbeat_messages,
        m.heartbeat_messages,
    );
    count(
        "split_brain_incidents",
        o.split_brain_incidents,
        m.split_brain_incidents,
    );
    count(
        "same_term_leaders",
        o.same_term_leaders,
        m.same_term_leaders,
    );
    count("leader_changes", o.leader_changes, m.leader_changes);
    count(
        "elections_started",
        o.elections_started,
        m.elections_started,
    );
    count(
        "unnecessary_elections",
        o.unnecessary_elections,
        m.unnecessary_elections,
    );
    count(
        "lease_overlap_incidents",
        o.lease_overlap_incidents,
        m.lease_overlap_incidents,
    );
    count(
        "stale_actions_accepted",
        o.stale_actions_accepted,
        m.stale_actions_accepted,
    );
    count(
        "stale_actions_rejected",
        o.stale_actions_rejected,
        m.stale_actions_rejected,
    );
    if o.leaderless_at_end != m.leaderless_at_end {
        out.push(format!(
            "leaderless_at_end: oracle {}, electsim {}",
            o.leaderless_at_end, m.leaderless_at_end
        ));
    }
    let mut float = |name: &str, a: f64, b: f64| {
        if !close(a, b) {
            out.push(format!("{name}: oracle {a}, electsim {b}"));
        }
    };
    float("duration_s", o.duration_s, m.duration_s);
    float("heartbeats_per_s", o.heartbeats_per_s, m.heartbeats_per_s);
    float("split_brain_ms", o.split_brain_ms, m.split_brain_ms);
    float("availability", o.availability, m.availability);
    float("lease_overlap_ms", o.lease_overlap_ms, m.lease_overlap_ms);
    match (o.messages_per_election, m.messages_per_election) {
        (None, None) => {}
        (Some(a), Some(b)) if close(a, b) => {}
        (a, b) => out.push(format!(
            "messages_per_election: oracle {a:?}, electsim {b:?}"
        )),
    }
    let stats: [(&str, &Summary, &electsim::sim::metrics::Stats); 5] = [
        ("election_ms", &o.election_ms, &m.election_ms),
        ("failover_ms", &o.failover_ms, &m.failover_ms),
        ("detect_ms", &o.detect_ms, &m.detect_ms),
        ("converge_ms", &o.converge_ms, &m.converge_ms),
        ("leader_tenure_ms", &o.leader_tenure_ms, &m.leader_tenure_ms),
    ];
    for (name, a, b) in stats {
        let same = a.count == b.count
            && opt_close(a.mean, b.mean)
            && opt_close(a.p50, b.p50)
            && opt_close(a.p90, b.p90)
            && opt_close(a.p99, b.p99)
            && opt_close(a.max, b.max);
        if !same {
            out.push(format!(
                "{name}: oracle {{count {}, mean {:?}, p50 {:?}, p90 {:?}, p99 {:?}, max {:?}}}, \
                 electsim {{count {}, mean {:?}, p50 {:?}, p90 {:?}, p99 {:?}, max {:?}}}",
                a.count,
                a.mean,
                a.p50,
                a.p90,
                a.p99,
                a.max,
                b.count,
                b.mean,
                b.p50,
                b.p90,
                b.p99,
                b.max
            ));
        }
    }
    let causes: Vec<&str> = m.election_log.iter().map(|e| e.cause.name()).collect();
    if o.causes != causes {
        out.push(format!(
            "causes: oracle {:?}, electsim {causes:?}",
            o.causes
        ));
    }
    for c in &m.by_cause {
        let (n, ns, msgs) = o.by_cause.get(c.cause.name()).copied().unwrap_or_default();
        let sum_ms = c.ms.mean.map_or(0.0, |x| x * c.ms.count as f64);
        if n != c.ms.count || !close(ms(ns), sum_ms) || msgs != c.election_messages {
            out.push(format!(
                "by_cause {}: oracle ({n}, {} ms, {msgs}), electsim ({}, {sum_ms} ms, {})",
                c.cause.name(),
                ms(ns),
                c.ms.count,
                c.election_messages
            ));
        }
    }
    // Kinds never seen have no entry in the oracle; electsim may list them with zeros.
    let theirs: BTreeMap<&str, PerKind> = m
        .messages_by_kind
        .iter()
        .filter(|(_, k)| k.sent + k.delivered + k.dropped > 0)
        .map(|(name, k)| {
            (
                name.as_str(),
                PerKind {
                    sent: k.sent,
                    delivered: k.delivered,
                    dropped: k.dropped,
                },
            )
        })
        .collect();
    let ours: BTreeMap<&str, PerKind> = o
        .messages_by_kind
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    if ours != theirs {
        out.push(format!(
            "messages_by_kind: oracle {ours:?}, electsim {theirs:?}"
        ));
    }
    out
}

/// Equal up to a relative error of 1e-9 (summation order may differ).
pub fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

fn opt_close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => close(a, b),
        _ => false,
    }
}
