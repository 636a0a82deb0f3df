//! Run metrics, computed only from the trace-event stream (never from counters inside a
//! protocol). The definitions are the ones in the README's "Metrics" section:
//!
//! * **elected**: some live node is leader *and* it plus the live followers that believe in
//!   it and are connected to it both ways form a strict majority of all participants.
//! * **leaderless interval**: from the run start, or the moment "elected" stops holding
//!   (leader crashed, paused, cut off, or its followers left it), to the next moment it holds
//!   again (**election**). `election_ms` is its length; `failover_ms` the same for intervals
//!   that did not start at t=0; `detect_ms` runs to the first election-class message sent;
//!   `converge_ms` to the moment every live node connected to the leader follows it.
//! * **split brain**: a maximal interval with two or more live nodes in role leader.
//! * **lease overlap** (coordination-service recipes): time during which a live participant
//!   is in role leader while the service's authoritative status names a different holder or
//!   none. The authoritative status is the one of the service replica (`Role::Service`) that
//!   reports the highest term above zero — the active primary; its `leader` is the holder.
//!   While no replica is authoritative (the service itself fails over) the holder it last
//!   named stands: an unavailable service has not handed the lease to anyone else.
//! * **service load** (coordination-service recipes): requests delivered to service replicas
//!   from participants, per second of virtual time (replica-to-replica traffic and replies
//!   are not requests).
//! * **stale actions**: replies the service sent to actions by a non-holder, by message kind
//!   ([`STALE_ACCEPTED_KIND`], [`STALE_REJECTED_KIND`]).

use super::cause::{CAUSES, Cause, Loss, Trigger, classify};
use super::coverage::CoverageCounter;
pub use super::coverage::{COVERAGE_NAMES, Coverage};
use super::network::Links;
use super::observe::{Observer, TraceEvent};
use super::protocol::{MsgClass, NodeId, NodeStatus, Role};
use super::time::SimTime;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Message kind of a service reply to an action by a non-holder that was applied anyway.
pub const STALE_ACCEPTED_KIND: &str = "StaleActionAccepted";
/// Message kind of a service reply to an action by a non-holder that fencing refused.
pub const STALE_REJECTED_KIND: &str = "StaleActionRejected";

/// Summary statistics of a sample (nearest-rank percentiles). `None` when empty.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    /// Number of samples.
    pub count: u64,
    /// Arithmetic mean.
    pub mean: Option<f64>,
    /// Median (nearest rank).
    pub p50: Option<f64>,
    /// 90th percentile (nearest rank).
    pub p90: Option<f64>,
    /// 99th percentile (nearest rank).
    pub p99: Option<f64>,
    /// Largest sample.
    pub max: Option<f64>,
}

impl Stats {
    /// Statistics of `samples` (in any unit; the fields keep it); all `None` when empty.
    pub fn of(samples: &[f64]) -> Stats {
        if samples.is_empty() {
            return Stats::default();
        }
        let mut v = samples.to_vec();
        v.sort_by(f64::total_cmp);
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        Stats {
            count: v.len() as u64,
            mean: Some(mean),
            p50: Some(nearest_rank(&v, 0.50)),
            p90: Some(nearest_rank(&v, 0.90)),
            p99: Some(nearest_rank(&v, 0.99)),
            max: v.last().copied(),
        }
    }
}

/// Nearest-rank percentile of sorted data: the value at 1-based rank ceil(q * n).
pub fn nearest_rank(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
    sorted[rank - 1]
}

/// Message counts of one kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct KindCounts {
    /// Messages of this kind handed to the network (a duplicate is not a second send).
    pub sent: u64,
    /// Deliveries, duplicates included.
    pub delivered: u64,
    /// Messages lost: to loss, a link down, or a crashed receiver.
    pub dropped: u64,
}

/// One election: a leaderless interval that ended with an elected leader (one
/// `elections.csv` row).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ElectionRecord {
    /// Virtual time the leaderless interval started (0 for the first election).
    pub start_ms: f64,
    /// Its length (the election time).
    pub duration_ms: f64,
    /// The elected node.
    pub leader: NodeId,
    /// Terms (epochs) the election used: the new leader's term minus the highest term any
    /// participant had when the interval started (0 for algorithms without terms).
    pub terms_used: u64,
    /// Messages sent during the interval, of any class.
    pub messages: u64,
    /// Election-class messages sent during the interval.
    pub election_messages: u64,
    /// What began the interval ([`super::cause`]).
    pub cause: Cause,
}

/// The leaderless intervals of one cause that ended in an election.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CauseCost {
    /// The cause.
    pub cause: Cause,
    /// Their lengths, in ms.
    pub ms: Stats,
    /// Election-class messages sent during them, summed.
    pub election_messages: u64,
}

/// One split-brain incident: a maximal interval of positive length with two or more live
/// leaders.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SplitIncident {
    /// Virtual time the second live leader appeared, in ms.
    pub start_ms: f64,
    /// Virtual time the incident ended (fewer than two live leaders), in ms.
    pub end_ms: f64,
    /// Every node that was a live leader at some moment of the incident, ascending.
    pub nodes: Vec<NodeId>,
}

/// Most elections and split-brain incidents a run lists one by one (the counts and
/// statistics cover all of them).
pub const LOG_LIMIT: usize = 100_000;

/// Everything measured about one run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RunMetrics {
    /// Virtual duration of the run in seconds.
    pub duration_s: f64,
    /// Number of leaderless intervals that ended in an election.
    pub elections: u64,
    /// Length of each leaderless interval that ended in an election, in ms (the boot
    /// election included).
    pub election_ms: Stats,
    /// Leaderless intervals that began after t=0 (i.e. real failovers).
    pub failover_ms: Stats,
    /// Failovers only: from the loss of the leader to the first election-class message sent,
    /// in ms (how long failure detection took).
    pub detect_ms: Stats,
    /// Failovers only: from the election to the moment every live node connected to the new
    /// leader follows it, in ms.
    pub converge_ms: Stats,
    /// Messages handed to the network, of every class.
    pub messages_sent: u64,
    /// Messages delivered, duplicates included.
    pub messages_delivered: u64,
    /// Messages lost to loss, a link down or a crashed receiver.
    pub messages_dropped: u64,
    /// Sent messages of class election.
    pub election_messages: u64,
    /// Sent heartbeat/keepalive messages (steady-state overhead).
    pub heartbeat_messages: u64,
    /// `heartbeat_messages` per second of virtual run time.
    pub heartbeats_per_s: f64,
    /// Messages sent inside leaderless intervals that ended in an election / elections (an
    /// interval still open at the end of the run is left out of both).
    pub messages_per_election: Option<f64>,
    /// Sent, delivered and dropped messages per message kind name.
    pub messages_by_kind: BTreeMap<String, KindCounts>,
    /// Split-brain incidents: maximal intervals with two or more live leaders.
    pub split_brain_incidents: u64,
    /// Total virtual time of split brain, in ms.
    pub split_brain_ms: f64,
    /// Terms (epochs) in which two different nodes were leader.
    pub same_term_leaders: u64,
    /// Elections that produced a different leader than the previous one.
    pub leader_changes: u64,
    /// Nodes entering candidacy (from a non-candidate role).
    pub elections_started: u64,
    /// Candidacies started while a leader was elected (supported by a majority).
    pub unnecessary_elections: u64,
    /// Fraction of virtual time with an elected leader.
    pub availability: f64,
    /// How long each leader stayed elected, in ms (an interval still open at the end counts
    /// up to the end).
    pub leader_tenure_ms: Stats,
    /// True when the run ended inside a leaderless interval.
    pub leaderless_at_end: bool,
    /// Service recipes: time a live participant led while the service named another holder
    /// (or none). Zero for algorithms without a service.
    pub lease_overlap_ms: f64,
    /// Maximal intervals of lease overlap of positive length.
    pub lease_overlap_incidents: u64,
    /// Actions by a non-holder that the service applied (no fencing).
    pub stale_actions_accepted: u64,
    /// Actions by a non-holder that the fencing check refused.
    pub stale_actions_rejected: u64,
    /// Messages from participants delivered to service replicas (requests the service
    /// received). Zero for algorithms without a service.
    pub service_requests: u64,
    /// `service_requests` per second of virtual time.
    pub service_requests_per_s: f64,
    /// Each election, in time order (at most [`LOG_LIMIT`]).
    pub election_log: Vec<ElectionRecord>,
    /// Each split-brain incident, in time order (at most [`LOG_LIMIT`]).
    pub split_brain_log: Vec<SplitIncident>,
    /// How often the run reached the situations scenarios are written to exercise.
    pub coverage: Coverage,
    /// Elections split by what began their interval, one entry per cause in
    /// [`CAUSES`] order (boot is the first election's cost; the others are failovers).
    pub by_cause: Vec<CauseCost>,
}

/// The metrics observer.
#[derive(Clone, Debug)]
pub struct Metrics {
    nodes: u32,
    kinds: &'static [&'static str],
    status: Vec<NodeStatus>,
    paused: Vec<bool>,
    links: Links,
    /// Live followers per believed leader (valid on every topology; connectivity is applied
    /// on top when links are not all up).
    followers_of: Vec<u32>,
    live_leaders: BTreeSet<NodeId>,
    elected: Option<NodeId>,
    last_elected: Option<NodeId>,
    leaderless_since: Option<SimTime>,
    elected_since: SimTime,
    elected_ns: u64,
    /// A real loss (not the boot interval) still waits for its first election message.
    detect_pending: bool,
    /// The leader whose loss opened the current leaderless interval (None at boot).
    lost_leader: Option<NodeId>,
    converge_from: Option<SimTime>,
    election_ms: Vec<f64>,
    failover_ms: Vec<f64>,
    detect_ms: Vec<f64>,
    converge_ms: Vec<f64>,
    tenure_ms: Vec<f64>,
    by_kind: Vec<KindCounts>,
    heartbeat_sent: u64,
    election_sent: u64,
    /// Sends inside leaderless intervals that ended in an election.
    leaderless_msgs: u64,
    /// Sends inside the current leaderless interval (counted once it ends in an election).
    interval_msgs: u64,
    split_since: Option<SimTime>,
    split_incidents: u64,
    split_ns: u64,
    term_leader: BTreeMap<u64, NodeId>,
    same_term: BTreeSet<u64>,
    leader_changes: u64,
    elections_started: u64,
    unnecessary: u64,
    end: Option<SimTime>,
    /// Status of each service replica (ids `nodes..`), grown on first sight.
    service: Vec<NodeStatus>,
    /// Holder last named by an authoritative replica (kept while the service fails over).
    authority: Option<NodeId>,
    overlap_since: Option<SimTime>,
    overlap_incidents: u64,
    overlap_ns: u64,
    stale_accepted: u64,
    stale_rejected: u64,
    /// Participant -> service-replica deliveries.
    service_requests: u64,
    /// Per-election and per-incident lists (additive bookkeeping, see [`Log`]).
    log: Log,
    /// The event being applied, for [`classify`].
    trigger: Trigger,
    /// What began the current leaderless interval.
    cause: Cause,
    /// Per cause ([`Cause::index`]): interval lengths in ms, election messages summed.
    cause_ms: Vec<Vec<f64>>,
    cause_election: Vec<u64>,
    coverage: CoverageCounter,
}

/// Bookkeeping for [`RunMetrics::election_log`] and [`RunMetrics::split_brain_log`].
#[derive(Clone, Debug, Default)]
struct Log {
    sent: u64,
    max_term: u64,
    /// (messages sent, election messages sent, highest term) when the current leaderless
    /// interval started.
    at_start: (u64, u64, u64),
    elections: Vec<ElectionRecord>,
    split_nodes: BTreeSet<NodeId>,
    splits: Vec<SplitIncident>,
}

impl Metrics {
    /// `nodes` participants; status events of higher ids (service replicas) are ignored.
    pub fn new(nodes: u32, kinds: &'static [&'static str]) -> Self {
        Metrics {
            nodes,
            kinds,
            status: vec![NodeStatus::DOWN; nodes as usize],
            paused: vec![false; nodes as usize],
            links: Links::default(),
            followers_of: vec![0; nodes as usize],
            live_leaders: BTreeSet::new(),
            elected: None,
            last_elected: None,
            leaderless_since: Some(SimTime::ZERO),
            elected_since: SimTime::ZERO,
            elected_ns: 0,
            // The boot interval is not a loss: no detection or convergence sample.
            detect_pending: false,
            lost_leader: None,
            converge_from: None,
            election_ms: Vec::new(),
            failover_ms: Vec::new(),
            detect_ms: Vec::new(),
            converge_ms: Vec::new(),
            tenure_ms: Vec::new(),
            by_kind: vec![KindCounts::default(); kinds.len()],
            heartbeat_sent: 0,
            election_sent: 0,
            leaderless_msgs: 0,
            interval_msgs: 0,
            split_since: None,
            split_incidents: 0,
            split_ns: 0,
            term_leader: BTreeMap::new(),
            same_term: BTreeSet::new(),
            leader_changes: 0,
            elections_started: 0,
            unnecessary: 0,
            end: None,
            service: Vec::new(),
            authority: None,
            overlap_since: None,
            overlap_incidents: 0,
            overlap_ns: 0,
            stale_accepted: 0,
            stale_rejected: 0,
            service_requests: 0,
            log: Log::default(),
            trigger: Trigger::Other,
            cause: Cause::Boot,
            cause_ms: vec![Vec::new(); CAUSES.len()],
            cause_election: vec![0; CAUSES.len()],
            coverage: CoverageCounter::new(nodes, kinds, None),
        }
    }

    /// Count ring-token skips against this ring order
    /// ([`super::protocol::Protocol::ring_order`]); `None` leaves them at zero.
    pub fn with_ring_order(mut self, ring: Option<Vec<NodeId>>) -> Self {
        self.coverage = CoverageCounter::new(self.nodes, self.kinds, ring);
        self
    }

    fn live(&self, n: NodeId) -> bool {
        self.status[n as usize].role != Role::Down && !self.paused[n as usize]
    }

    /// The leader node `n` counts towards, if it is a live follower.
    fn follows(&self, n: NodeId) -> Option<NodeId> {
        let s = &self.status[n as usize];
        if self.live(n) && s.role == Role::Follower {
            s.leader.filter(|&l| l < self.nodes && l != n)
        } else {
            None
        }
    }

    fn support(&self, leader: NodeId) -> u32 {
        if self.links.all_up() {
            return 1 + self.followers_of[leader as usize];
        }
        1 + (0..self.nodes)
            .filter(|&f| self.follows(f) == Some(leader) && self.links.connected(leader, f))
            .count() as u32
    }

    fn compute_elected(&self) -> Option<NodeId> {
        self.live_leaders
            .iter()
            .copied()
            .find(|&l| 2 * self.support(l) > self.nodes)
    }

    /// Wrap a change to node `n` so the follower counters and leader set stay in step.
    fn change_node(&mut self, n: NodeId, f: impl FnOnce(&mut Self)) {
        if let Some(l) = self.follows(n) {
            self.followers_of[l as usize] -= 1;
        }
        self.live_leaders.remove(&n);
        f(self);
        if let Some(l) = self.follows(n) {
            self.followers_of[l as usize] += 1;
        }
        if self.live(n) && self.status[n as usize].role == Role::Leader {
            self.live_leaders.insert(n);
        }
    }

    fn converged(&self, leader: NodeId) -> bool {
        (0..self.nodes).all(|n| {
            n == leader
                || !self.live(n)
                || !self.links.connected(leader, n)
                || self.follows(n) == Some(leader)
        })
    }

    /// Re-evaluate the elected / split-brain state after a status or topology change.
    fn update(&mut self, at: SimTime) {
        let now = self.compute_elected();
        if now != self.elected {
            if let Some(old) = self.elected {
                // Loss of the leader.
                self.elected_ns += at.since(self.elected_since).0;
                self.tenure_ms
                    .push(at.since(self.elected_since).as_ms_f64());
                self.leaderless_since = Some(at);
                self.detect_pending = true;
                self.lost_leader = Some(old);
                self.cause = self.loss_cause(old, now.is_some());
                self.converge_from = None;
                self.interval_msgs = 0;
                self.log.at_start = (self.log.sent, self.election_sent, self.log.max_term);
            }
            if let Some(new) = now {
                let since = self.leaderless_since.take().unwrap_or(at);
                let ms = at.since(since).as_ms_f64();
                self.log_election(since, ms, new);
                self.election_ms.push(ms);
                let c = self.cause.index();
                self.cause_ms[c].push(ms);
                self.cause_election[c] += self.election_sent - self.log.at_start.1;
                if since != SimTime::ZERO {
                    self.failover_ms.push(ms);
                }
                if self.last_elected.is_some_and(|l| l != new) {
                    self.leader_changes += 1;
                }
                self.last_elected = Some(new);
                self.elected_since = at;
                // Convergence is timed from a real loss only, like detection.
                self.converge_from = self.lost_leader.is_some().then_some(since);
                self.detect_pending = false;
                self.lost_leader = None;
                self.leaderless_msgs += std::mem::take(&mut self.interval_msgs);
            }
            self.elected = now;
        }
        if let (Some(l), Some(from)) = (self.elected, self.converge_from)
            && self.converged(l)
        {
            self.converge_ms.push(at.since(from).as_ms_f64());
            self.converge_from = None;
        }
        self.update_overlap(at);
        let split = self.live_leaders.len() >= 2;
        if split {
            self.log
                .split_nodes
                .extend(self.live_leaders.iter().copied());
        }
        match (split, self.split_since) {
            (true, None) => self.split_since = Some(at),
            (false, Some(_)) => self.close_split(at),
            _ => {}
        }
    }

    /// Why elected-by-`old` stopped holding, on the event in [`Metrics::trigger`].
    fn loss_cause(&self, old: NodeId, successor: bool) -> Cause {
        let rival = (0..self.nodes).any(|n| {
            n != old
                && self.live(n)
                && matches!(
                    self.status[n as usize].role,
                    Role::Leader | Role::Candidate | Role::PreCandidate
                )
        });
        let loss = Loss {
            leader: old,
            down: self.status[old as usize].role == Role::Down,
            paused: self.paused[old as usize],
            successor,
            rival,
        };
        classify(&loss, &self.trigger)
    }

    /// The holder named by the authoritative service replica (highest term above zero), or
    /// `None` when no replica is authoritative (the service is failing over).
    fn service_holder(&self) -> Option<Option<NodeId>> {
        self.service
            .iter()
            .enumerate()
            .filter(|(_, s)| s.role == Role::Service && s.term > 0)
            .max_by_key(|&(i, s)| (s.term, std::cmp::Reverse(i)))
            .map(|(_, s)| s.leader)
    }

    /// Close an overlap interval; only intervals of positive length are incidents.
    fn close_overlap(&mut self, since: SimTime, at: SimTime) {
        self.overlap_since = None;
        if at > since {
            self.overlap_ns += at.since(since).0;
            self.overlap_incidents += 1;
        }
    }

    fn update_overlap(&mut self, at: SimTime) {
        if self.service.is_empty() {
            return;
        }
        let holder = self.authority;
        let overlap = self.live_leaders.iter().any(|&l| Some(l) != holder);
        match (overlap, self.overlap_since) {
            (true, None) => self.overlap_since = Some(at),
            (false, Some(s)) => self.close_overlap(s, at),
            _ => {}
        }
    }

    /// End a split-brain interval. Only intervals of positive length count: two status
    /// changes at the same virtual instant (a new leader elected, the old one stepping down)
    /// are an artefact of processing simultaneous events one at a time, not a split brain.
    fn close_split(&mut self, at: SimTime) {
        if let Some(s) = self.split_since.take()
            && at > s
        {
            self.split_incidents += 1;
            self.split_ns += at.since(s).0;
            if self.log.splits.len() < LOG_LIMIT {
                self.log.splits.push(SplitIncident {
                    start_ms: s.0 as f64 / 1e6,
                    end_ms: at.0 as f64 / 1e6,
                    nodes: self.log.split_nodes.iter().copied().collect(),
                });
            }
        }
        if self.split_since.is_none() {
            self.log.split_nodes.clear();
        }
    }

    /// Record an election that ended now, `ms` after `since`, electing `leader`.
    fn log_election(&mut self, since: SimTime, ms: f64, leader: NodeId) {
        if self.log.elections.len() >= LOG_LIMIT {
            return;
        }
        let (sent0, election0, term0) = self.log.at_start;
        let term = self.status[leader as usize].term;
        self.log.elections.push(ElectionRecord {
            start_ms: since.0 as f64 / 1e6,
            duration_ms: ms,
            leader,
            terms_used: term.saturating_sub(term0),
            messages: self.log.sent - sent0,
            election_messages: self.election_sent - election0,
            cause: self.cause,
        });
    }

    fn on_status(&mut self, at: SimTime, n: NodeId, old: NodeStatus, new: NodeStatus) {
        if n >= self.nodes {
            let i = (n - self.nodes) as usize;
            if self.service.len() <= i {
                self.service.resize(i + 1, NodeStatus::DOWN);
            }
            self.service[i] = new;
            if let Some(h) = self.service_holder() {
                self.authority = h;
            }
            self.update_overlap(at);
            return;
        }
        self.log.max_term = self.log.max_term.max(new.term);
        let candidacy = |r: Role| matches!(r, Role::Candidate | Role::PreCandidate);
        if candidacy(new.role) && !candidacy(old.role) {
            self.elections_started += 1;
            if self.elected.is_some() {
                self.unnecessary += 1;
            }
        }
        if new.role == Role::Leader {
            match self.term_leader.get(&new.term) {
                Some(&l) if l != n => {
                    self.same_term.insert(new.term);
                }
                Some(_) => {}
                None => {
                    self.term_leader.insert(new.term, n);
                }
            }
        }
        self.change_node(n, |m| m.status[n as usize] = new);
        self.trigger = Trigger::Status { node: n, old, new };
        self.update(at);
    }

    /// Apply a fault to the metrics' own model of liveness and topology.
    fn on_fault(&mut self, at: SimTime, action: &super::faults::FaultAction) {
        use super::faults::{FaultAction as F, Target};
        let total = self.nodes.max(1);
        match action {
            F::Crash {
                target: Target::Node(n),
                ..
            } if *n < self.nodes => {
                // A crash ends a pause; the crash's status change follows this event.
                let n = *n;
                self.change_node(n, |m| m.paused[n as usize] = false);
            }
            F::Pause {
                target: Target::Node(n),
                ..
            } if *n < self.nodes => {
                let n = *n;
                self.change_node(n, |m| m.paused[n as usize] = true);
            }
            F::Partition { groups, .. } => {
                // Service replicas beyond `nodes` are not modelled here: only participants
                // matter for the majority rule.
                self.links.partition(total.max(max_id(groups) + 1), groups);
            }
            F::Cut {
                from: Target::Node(a),
                to: Target::Node(b),
                ..
            } => {
                self.links.cut(*a, *b);
            }
            F::Isolate {
                target: Target::Node(n),
                ..
            } => {
                self.links.isolate(*n);
            }
            F::Heal => self.links.heal(),
            F::HealFault { fault } => {
                self.links.heal_fault(*fault);
            }
            _ => {}
        }
        self.trigger = match action {
            F::Partition { .. }
            | F::Cut { .. }
            | F::Isolate { .. }
            | F::Heal
            | F::HealFault { .. } => Trigger::Network,
            _ => Trigger::Other,
        };
        self.update(at);
    }

    fn on_resume(&mut self, at: SimTime, n: NodeId) {
        if n < self.nodes {
            self.change_node(n, |m| m.paused[n as usize] = false);
            self.trigger = Trigger::Other;
            self.update(at);
        }
    }

    fn on_end(&mut self, at: SimTime) {
        if self.elected.is_some() {
            self.elected_ns += at.since(self.elected_since).0;
            self.tenure_ms
                .push(at.since(self.elected_since).as_ms_f64());
        }
        self.close_split(at);
        if let Some(s) = self.overlap_since {
            self.close_overlap(s, at);
        }
        self.end = Some(at);
    }

    /// Final metrics; call after the `End` event.
    pub fn finish(&self) -> RunMetrics {
        let end = self.end.unwrap_or(SimTime::ZERO);
        let duration_s = end.0 as f64 / 1e9;
        let elections = self.election_ms.len() as u64;
        let sent: u64 = self.by_kind.iter().map(|k| k.sent).sum();
        RunMetrics {
            duration_s,
            elections,
            election_ms: Stats::of(&self.election_ms),
            failover_ms: Stats::of(&self.failover_ms),
            detect_ms: Stats::of(&self.detect_ms),
            converge_ms: Stats::of(&self.converge_ms),
            messages_sent: sent,
            messages_delivered: self.by_kind.iter().map(|k| k.delivered).sum(),
            messages_dropped: self.by_kind.iter().map(|k| k.dropped).sum(),
            election_messages: self.election_sent,
            heartbeat_messages: self.heartbeat_sent,
            heartbeats_per_s: if duration_s > 0.0 {
                self.heartbeat_sent as f64 / duration_s
            } else {
                0.0
            },
            messages_per_election: (elections > 0)
                .then(|| self.leaderless_msgs as f64 / elections as f64),
            messages_by_kind: self
                .kinds
                .iter()
                .zip(&self.by_kind)
                .filter(|(k, c)| {
                    !crate::sim::protocol::LISTED_WHEN_USED.contains(k)
                        || c.sent + c.delivered + c.dropped > 0
                })
                .map(|(k, c)| (k.to_string(), *c))
                .collect(),
            split_brain_incidents: self.split_incidents,
            split_brain_ms: self.split_ns as f64 / 1e6,
            same_term_leaders: self.same_term.len() as u64,
            leader_changes: self.leader_changes,
            elections_started: self.elections_started,
            unnecessary_elections: self.unnecessary,
            availability: if end.0 > 0 {
                self.elected_ns as f64 / end.0 as f64
            } else {
                0.0
            },
            leader_tenure_ms: Stats::of(&self.tenure_ms),
            leaderless_at_end: self.elected.is_none(),
            lease_overlap_ms: self.overlap_ns as f64 / 1e6,
            lease_overlap_incidents: self.overlap_incidents,
            stale_actions_accepted: self.stale_accepted,
            stale_actions_rejected: self.stale_rejected,
            service_requests: self.service_requests,
            service_requests_per_s: if duration_s > 0.0 {
                self.service_requests as f64 / duration_s
            } else {
                0.0
            },
            election_log: self.log.elections.clone(),
            split_brain_log: self.log.splits.clone(),
            coverage: self.coverage.counts(),
            by_cause: CAUSES
                .iter()
                .map(|&c| CauseCost {
                    cause: c,
                    ms: Stats::of(&self.cause_ms[c.index()]),
                    election_messages: self.cause_election[c.index()],
                })
                .collect(),
        }
    }
}

fn max_id(groups: &[Vec<NodeId>]) -> u32 {
    groups.iter().flatten().copied().max().unwrap_or(0)
}

impl Observer for Metrics {
    /// Inlined so the engine's calls with a known event kind compile to that kind's arm.
    #[inline(always)]
    fn observe(&mut self, ev: &TraceEvent<'_>) {
        self.coverage.observe(ev);
        match *ev {
            TraceEvent::Send { at, msg } => {
                self.by_kind[msg.kind].sent += 1;
                self.log.sent += 1;
                if msg.kind_name == STALE_ACCEPTED_KIND {
                    self.stale_accepted += 1;
                } else if msg.kind_name == STALE_REJECTED_KIND {
                    self.stale_rejected += 1;
                }
                match msg.class {
                    MsgClass::Heartbeat => self.heartbeat_sent += 1,
                    MsgClass::Election => {
                        self.election_sent += 1;
                        // Detection: a participant other than the lost leader reacts (the
                        // lost leader restarting, or a service replica, is not detection).
                        if self.detect_pending
                            && msg.from < self.nodes
                            && Some(msg.from) != self.lost_leader
                            && let Some(since) = self.leaderless_since
                        {
                            self.detect_ms.push(at.since(since).as_ms_f64());
                            self.detect_pending = false;
                        }
                    }
                    MsgClass::Other => {}
                }
                if self.elected.is_none() {
                    self.interval_msgs += 1;
                }
            }
            TraceEvent::Deliver { msg, .. } => {
                self.by_kind[msg.kind].delivered += 1;
                if msg.from < self.nodes && msg.to >= self.nodes {
                    self.service_requests += 1;
                }
            }
            TraceEvent::Drop { msg, .. } => self.by_kind[msg.kind].dropped += 1,
            TraceEvent::Status { at, node, old, new } => self.on_status(at, node, old, new),
            TraceEvent::Fault { at, action } => self.on_fault(at, action),
            TraceEvent::Resume { at, node } => self.on_resume(at, node),
            TraceEvent::End { at } => self.on_end(at),
            TraceEvent::Timer { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    //! Metric definitions checked on hand-built traces (no engine involved).
    use super::*;
    use crate::sim::faults::{FaultAction, Target};
    use crate::sim::observe::MsgRef;
    use crate::sim::time::SimDuration;

    const MS: u64 = 1_000_000;

    fn st(role: Role, term: u64, leader: Option<NodeId>) -> NodeStatus {
        NodeStatus {
            role,
            term,
            leader,
            voted_for: None,
        }
    }

    struct Trace {
        m: Metrics,
        status: Vec<NodeStatus>,
    }

    impl Trace {
        fn new(nodes: u32) -> Self {
            let mut t = Trace {
                m: Metrics::new(nodes, &["Vote", "Beat"]),
                status: vec![NodeStatus::DOWN; nodes as usize],
            };
            for n in 0..nodes {
                t.set(0, n, st(Role::Follower, 1, None));
            }
            t
        }
        fn set(&mut self, at_ms: u64, node: NodeId, new: NodeStatus) {
            let old = self.status[node as usize];
            self.status[node as usize] = new;
            self.m.observe(&TraceEvent::Status {
                at: SimTime(at_ms * MS),
                node,
                old,
                new,
            });
        }
        fn elect(&mut self, at_ms: u64, leader: NodeId, term: u64) {
            for n in 0..self.status.len() as NodeId {
                if n == leader {
                    self.set(at_ms, n, st(Role::Leader, term, Some(n)));
                } else if self.status[n as usize].role != Role::Down {
                    self.set(at_ms, n, st(Role::Follower, term, Some(leader)));
                }
            }
        }
        /// Crash `node` at `at_ms` (no restart): the fault, then its status going down.
        fn crash(&mut self, at_ms: u64, node: NodeId) {
            self.fault(
                at_ms,
                FaultAction::Crash {
                    target: Target::Node(node),
                    restart_after: None,
                },
            );
            self.set(at_ms, node, NodeStatus::DOWN);
        }
        fn fault(&mut self, at_ms: u64, action: FaultAction) {
            self.m.observe(&TraceEvent::Fault {
                at: SimTime(at_ms * MS),
                action: &action,
            });
        }
        fn send(&mut self, at_ms: u64, class: MsgClass) {
            self.send_from(at_ms, 1, class);
        }
        fn send_from(&mut self, at_ms: u64, from: NodeId, class: MsgClass) {
            let msg = MsgRef {
                id: 0,
                from,
                to: (from + 1) % self.status.len() as NodeId,
                kind: 0,
                kind_name: "Vote",
                class,
                term: None,
                refused: false,
            };
            self.m.observe(&TraceEvent::Send {
                at: SimTime(at_ms * MS),
                msg,
            });
        }
        fn end(mut self, at_ms: u64) -> RunMetrics {
            self.m.observe(&TraceEvent::End {
                at: SimTime(at_ms * MS),
            });
            self.m.finish()
        }
    }

    #[test]
    fn crash_at_1s_and_new_leader_at_1300ms_is_a_300ms_election() {
        let mut t = Trace::new(5);
        t.elect(100, 0, 2);
        t.crash(1000, 0);
        t.send(1150, MsgClass::Election);
        t.elect(1300, 3, 3);
        let m = t.end(2000);
        assert_eq!(m.elections, 2);
        assert_eq!(m.failover_ms.max, Some(300.0));
        assert_eq!(
            m.election_ms.p50,
            Some(100.0),
            "initial election 0 -> 100 ms"
        );
        assert_eq!(
            m.detect_ms.max,
            Some(150.0),
            "crash -> first election message"
        );
        assert_eq!(m.leader_changes, 1);
        // Elected from 100..1000 and 1300..2000 of 2000 ms.
        assert!((m.availability - 1600.0 / 2000.0).abs() < 1e-12);
    }

    /// Every interval carries the cause the trace shows, and the per-cause costs add up:
    /// boot 0..100 (2 election messages), crash 1000..1300 (1), pause 2000..2200 (0),
    /// a partition 3000..3050 (0), a Bully-style take-over by a restarted higher id at 4000
    /// (the old leader steps down to the new one's term: 0 ms), a check-quorum step-down
    /// 5000..5100 and a follower crash that leaves 2 of 5 at 6000..6400.
    #[test]
    fn each_interval_has_its_cause() {
        let mut t = Trace::new(5);
        t.send(10, MsgClass::Election);
        t.send(20, MsgClass::Election);
        t.elect(100, 0, 2);
        t.crash(1000, 0);
        t.send(1100, MsgClass::Election);
        t.elect(1300, 3, 3);
        t.fault(
            2000,
            FaultAction::Pause {
                target: Target::Node(3),
                duration: SimDuration::from_millis(200),
            },
        );
        t.m.observe(&TraceEvent::Resume {
            at: SimTime(2200 * MS),
            node: 3,
        });
        let groups = vec![vec![3, 4]];
        t.fault(
            3000,
            FaultAction::Partition {
                groups,
                heal_after: None,
            },
        );
        t.fault(3050, FaultAction::Heal);
        // Node 0 restarted and leads term 4 at once; 3 hears of it and follows.
        t.set(4000, 0, st(Role::Leader, 4, Some(0)));
        t.set(4000, 3, st(Role::Follower, 4, Some(0)));
        t.elect(4000, 0, 4);
        t.set(5000, 0, st(Role::Follower, 4, None)); // check-quorum: same term, no rival
        t.elect(5100, 0, 5);
        t.crash(5500, 4);
        t.crash(6000, 3); // 0, 1, 2 remain: still 3 of 5
        t.crash(6000, 2); // 2 of 5: support lost
        t.set(6400, 2, st(Role::Follower, 5, Some(0)));
        let m = t.end(7000);
        let causes: Vec<Cause> = m.election_log.iter().map(|e| e.cause).collect();
        assert_eq!(
            causes,
            [
                Cause::Boot,
                Cause::LeaderCrash,
                Cause::LeaderPause,
                Cause::LeaderCutOff,
                Cause::HandOver,
                Cause::StepDown,
                Cause::FollowersLost,
            ]
        );
        let cost = |c: Cause| &m.by_cause[c.index()];
        assert_eq!(cost(Cause::Boot).ms.mean, Some(100.0));
        assert_eq!(cost(Cause::Boot).election_messages, 2);
        assert_eq!(cost(Cause::LeaderCrash).ms.mean, Some(300.0));
        assert_eq!(cost(Cause::LeaderCrash).election_messages, 1);
        assert_eq!(cost(Cause::LeaderPause).ms.mean, Some(200.0));
        assert_eq!(cost(Cause::LeaderCutOff).ms.mean, Some(50.0));
        assert_eq!(cost(Cause::HandOver).ms.mean, Some(0.0));
        assert_eq!(cost(Cause::StepDown).ms.mean, Some(100.0));
        assert_eq!(cost(Cause::FollowersLost).ms.mean, Some(400.0));
        let counted: u64 = m.by_cause.iter().map(|c| c.ms.count).sum();
        assert_eq!(counted, m.elections);
    }

    /// Issue 12 defect 4: detection and convergence are timed from real losses only; the
    /// boot interval gives no sample. Defect 5: the lost leader's own election traffic (a
    /// restart reconnecting) is not detection.
    #[test]
    fn detect_and_converge_sample_real_losses_only() {
        let mut t = Trace::new(5);
        t.send(50, MsgClass::Election);
        t.elect(100, 0, 2);
        assert!(
            t.m.detect_ms.is_empty() && t.m.converge_ms.is_empty(),
            "boot is no loss"
        );
        t.crash(1000, 0);
        t.set(1100, 0, st(Role::Follower, 2, None)); // restarts
        t.send_from(1100, 0, MsgClass::Election); // ... and reconnects: not detection
        t.send_from(1250, 4, MsgClass::Election); // a survivor reacts
        t.elect(1300, 3, 3);
        let m = t.end(2000);
        assert_eq!(m.detect_ms.count, 1);
        assert_eq!(
            m.detect_ms.max,
            Some(250.0),
            "crash at 1000 -> survivor at 1250"
        );
        assert_eq!(m.converge_ms.count, 1, "the failover only");
        assert_eq!(m.converge_ms.max, Some(300.0), "all follow 3 at 1300");
    }

    /// Issue 12 defect 3: an interval still open at the end counts neither messages nor an
    /// election. 3 sends before the first election, 2 after a loss that never recovers.
    #[test]
    fn messages_per_election_leaves_out_the_unfinished_interval() {
        let mut t = Trace::new(5);
        for at in [10, 20, 30] {
            t.send(at, MsgClass::Election);
        }
        t.elect(100, 0, 2);
        t.send(200, MsgClass::Heartbeat); // elected: not election overhead
        t.crash(1000, 0);
        for n in 1..3 {
            t.set(1000, n, NodeStatus::DOWN);
        }
        t.send_from(1100, 3, MsgClass::Election);
        t.send_from(1200, 4, MsgClass::Election);
        let m = t.end(2000);
        assert_eq!(m.elections, 1);
        assert_eq!(m.messages_per_election, Some(3.0));
    }

    /// Issue 12 defect 2: a fault's heal_after undoes that fault only.
    #[test]
    fn healing_a_cut_leaves_an_overlapping_partition_in_force() {
        let mut t = Trace::new(5);
        t.elect(100, 3, 2);
        t.fault(
            1000,
            FaultAction::Partition {
                groups: vec![vec![3, 4], vec![0, 1, 2]],
                heal_after: Some(SimDuration::from_secs(4)),
            },
        );
        t.fault(
            1500,
            FaultAction::Cut {
                from: Target::Node(0),
                to: Target::Node(1),
                heal_after: Some(SimDuration::from_millis(100)),
            },
        );
        t.fault(1600, FaultAction::HealFault { fault: 1 });
        assert_eq!(t.m.elected, None, "3 is still cut off from 0, 1, 2");
        t.fault(5000, FaultAction::HealFault { fault: 0 });
        assert_eq!(t.m.elected, Some(3));
    }

    #[test]
    fn elections_and_split_brain_incidents_are_listed_one_by_one() {
        let mut t = Trace::new(5);
        t.send(50, MsgClass::Election);
        t.elect(100, 0, 2);
        t.crash(1000, 0);
        t.send(1150, MsgClass::Election);
        t.send(1160, MsgClass::Heartbeat);
        t.send(1170, MsgClass::Election);
        t.elect(1300, 3, 5);
        // A second leader 4 from 1500 to 1517 ms: one 17 ms incident of nodes 3 and 4.
        t.set(1500, 4, st(Role::Leader, 6, Some(4)));
        t.set(1517, 4, st(Role::Follower, 6, Some(3)));
        let m = t.end(2000);
        let e = &m.election_log;
        assert_eq!(e.len(), 2);
        assert_eq!(
            e[0],
            ElectionRecord {
                start_ms: 0.0,
                duration_ms: 100.0,
                leader: 0,
                terms_used: 2,
                messages: 1,
                election_messages: 1,
                cause: Cause::Boot,
            },
            "boot: from term 0 at the run start to term 2, one election message"
        );
        assert_eq!(
            e[1],
            ElectionRecord {
                start_ms: 1000.0,
                duration_ms: 300.0,
                leader: 3,
                terms_used: 3,
                messages: 3,
                election_messages: 2,
                cause: Cause::LeaderCrash,
            },
            "failover: terms 2 -> 5, three messages of which two election-class"
        );
        assert_eq!(
            m.split_brain_log,
            vec![SplitIncident {
                start_ms: 1500.0,
                end_ms: 1517.0,
                nodes: vec![3, 4],
            }]
        );
        assert_eq!(m.split_brain_incidents, 1);
    }

    #[test]
    fn a_leader_needs_a_majority_of_live_followers() {
        let mut t = Trace::new(5);
        // Leader with only one follower: 2 of 5 is not a majority -> not elected.
        t.set(10, 0, st(Role::Leader, 2, Some(0)));
        t.set(10, 1, st(Role::Follower, 2, Some(0)));
        let m = t.m.clone();
        assert_eq!(m.elected, None);
        t.set(20, 2, st(Role::Follower, 2, Some(0)));
        assert_eq!(t.m.elected, Some(0));
        let m = t.end(100);
        assert_eq!(m.election_ms.max, Some(20.0));
    }

    #[test]
    fn a_leader_cut_off_from_its_majority_is_lost() {
        let mut t = Trace::new(5);
        t.elect(100, 0, 2);
        t.fault(
            500,
            FaultAction::Partition {
                groups: vec![vec![0, 1], vec![2, 3, 4]],
                heal_after: None,
            },
        );
        assert_eq!(
            t.m.elected, None,
            "followers 2,3,4 still believe in 0 but cannot reach it"
        );
        t.fault(800, FaultAction::Heal);
        let m = t.end(1000);
        assert_eq!(m.failover_ms.max, Some(300.0));
        assert_eq!(m.leader_changes, 0, "same leader again");
    }

    #[test]
    fn split_brain_is_two_live_leaders_and_same_term_is_counted_once() {
        let mut t = Trace::new(5);
        t.elect(100, 0, 2);
        t.set(400, 4, st(Role::Leader, 3, Some(4)));
        t.set(600, 0, st(Role::Follower, 3, Some(4)));
        t.set(700, 1, st(Role::Leader, 3, Some(1)));
        t.set(750, 1, st(Role::Follower, 3, Some(4)));
        let m = t.end(1000);
        assert_eq!(m.split_brain_incidents, 2);
        assert!(
            (m.split_brain_ms - 250.0).abs() < 1e-9,
            "200 ms + 50 ms, got {}",
            m.split_brain_ms
        );
        assert_eq!(m.same_term_leaders, 1, "nodes 4 and 1 both led term 3");
    }

    #[test]
    fn simultaneous_handover_is_not_split_brain() {
        let mut t = Trace::new(3);
        t.elect(10, 0, 2);
        t.set(50, 1, st(Role::Leader, 3, Some(1)));
        t.set(50, 0, st(Role::Follower, 3, Some(1)));
        let m = t.end(100);
        assert_eq!((m.split_brain_incidents, m.split_brain_ms), (0, 0.0));
    }

    #[test]
    fn a_paused_leader_is_not_live() {
        let mut t = Trace::new(3);
        t.elect(10, 2, 2);
        t.fault(
            100,
            FaultAction::Pause {
                target: Target::Node(2),
                duration: crate::sim::SimDuration::from_millis(50),
            },
        );
        assert_eq!(t.m.elected, None);
        t.m.observe(&TraceEvent::Resume {
            at: SimTime(150 * MS),
            node: 2,
        });
        assert_eq!(t.m.elected, Some(2));
        let m = t.end(200);
        assert_eq!(m.failover_ms.max, Some(50.0));
    }

    #[test]
    fn candidacy_while_a_leader_is_elected_is_unnecessary() {
        let mut t = Trace::new(3);
        t.elect(10, 0, 2);
        t.set(50, 1, st(Role::Candidate, 3, None));
        let m = t.end(100);
        assert_eq!(m.elections_started, 1);
        assert_eq!(m.unnecessary_elections, 1);
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(nearest_rank(&v, 0.5), 5.0);
        assert_eq!(nearest_rank(&v, 0.9), 9.0);
        assert_eq!(nearest_rank(&v, 0.99), 10.0);
        assert_eq!(Stats::of(&[]).mean, None);
    }
}
