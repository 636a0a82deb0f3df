//! The report of one run: the `run --format json` contract and the table for people.

use crate::scenario::Scenario;
use crate::sim::Outcome;
use crate::sim::invariants::Violation;
use crate::sim::metrics::RunMetrics;
use crate::sim::metrics::Stats as Summary;
use serde::Serialize;
use std::fmt::Write as _;

/// One run's result, as printed by `electsim run --format json` (a stable contract: fields
/// are only ever added).
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// Scenario name.
    pub scenario: String,
    /// Algorithm name.
    pub algorithm: String,
    /// Participants.
    pub nodes: u32,
    /// The run seed.
    pub seed: u64,
    /// Virtual duration of the run, in seconds.
    pub duration_s: f64,
    /// Kernel events processed.
    pub events: u64,
    /// See [`RunMetrics::elections`].
    pub elections: u64,
    /// See [`RunMetrics::election_ms`].
    pub election_ms: Summary,
    /// See [`RunMetrics::failover_ms`].
    pub failover_ms: Summary,
    /// See [`RunMetrics::detect_ms`].
    pub detect_ms: Summary,
    /// See [`RunMetrics::converge_ms`].
    pub converge_ms: Summary,
    /// See [`RunMetrics::messages_sent`].
    pub messages_sent: u64,
    /// See [`RunMetrics::messages_delivered`].
    pub messages_delivered: u64,
    /// See [`RunMetrics::messages_dropped`].
    pub messages_dropped: u64,
    /// See [`RunMetrics::election_messages`].
    pub election_messages: u64,
    /// See [`RunMetrics::heartbeat_messages`].
    pub heartbeat_messages: u64,
    /// See [`RunMetrics::heartbeats_per_s`].
    pub heartbeats_per_s: f64,
    /// See [`RunMetrics::messages_per_election`].
    pub messages_per_election: Option<f64>,
    /// See [`RunMetrics::split_brain_incidents`].
    pub split_brain_incidents: u64,
    /// See [`RunMetrics::split_brain_ms`].
    pub split_brain_ms: f64,
    /// See [`RunMetrics::same_term_leaders`].
    pub same_term_leaders: u64,
    /// See [`RunMetrics::leader_changes`].
    pub leader_changes: u64,
    /// See [`RunMetrics::elections_started`].
    pub elections_started: u64,
    /// See [`RunMetrics::unnecessary_elections`].
    pub unnecessary_elections: u64,
    /// See [`RunMetrics::availability`].
    pub availability: f64,
    /// See [`RunMetrics::leader_tenure_ms`].
    pub leader_tenure_ms: Summary,
    /// See [`RunMetrics::leaderless_at_end`].
    pub leaderless_at_end: bool,
    /// See [`RunMetrics::lease_overlap_ms`].
    pub lease_overlap_ms: f64,
    /// See [`RunMetrics::lease_overlap_incidents`].
    pub lease_overlap_incidents: u64,
    /// See [`RunMetrics::stale_actions_accepted`].
    pub stale_actions_accepted: u64,
    /// See [`RunMetrics::stale_actions_rejected`].
    pub stale_actions_rejected: u64,
    /// Requests the coordination service received per second (0 without a service).
    pub service_requests_per_s: f64,
    /// Invariant violations the run observed, all counted (`violations` keeps only the
    /// first few); a correct algorithm under its assumptions scores 0.
    pub invariant_violations: u64,
    /// The first violations in detail (capped).
    pub violations: Vec<Violation>,
    /// See [`RunMetrics::coverage`].
    pub coverage: crate::sim::metrics::Coverage,
    /// See [`RunMetrics::messages_by_kind`].
    pub messages_by_kind: std::collections::BTreeMap<String, crate::sim::metrics::KindCounts>,
    /// Each split-brain incident: start, end (ms) and the nodes that led during it.
    pub split_brain_log: Vec<crate::sim::metrics::SplitIncident>,
    /// Each election: start, duration (ms), leader, terms used, messages, cause.
    pub election_log: Vec<crate::sim::metrics::ElectionRecord>,
    /// See [`RunMetrics::by_cause`].
    pub by_cause: Vec<crate::sim::metrics::CauseCost>,
    /// Digest of the event stream: equal digests mean identical runs.
    pub trace_digest: String,
    /// The command that reproduces this run.
    pub replay: String,
    /// The algorithm holds leases ([`crate::plugin::Claims::leases`]): the table then shows
    /// lease overlap. Not part of the JSON contract.
    #[serde(skip)]
    pub holds_leases: bool,
}

impl RunReport {
    /// The report of run `seed` of `sc` with outcome `o`; `replay` is the command that
    /// reproduces it.
    pub fn new(sc: &Scenario, seed: u64, o: &Outcome, replay: String) -> Self {
        let m: &RunMetrics = &o.metrics;
        RunReport {
            scenario: sc.name.clone(),
            algorithm: sc.algorithm.name().to_string(),
            holds_leases: sc.algorithm.claims().leases,
            nodes: sc.nodes,
            seed,
            duration_s: m.duration_s,
            events: o.events,
            elections: m.elections,
            election_ms: m.election_ms.clone(),
            failover_ms: m.failover_ms.clone(),
            detect_ms: m.detect_ms.clone(),
            converge_ms: m.converge_ms.clone(),
            messages_sent: m.messages_sent,
            messages_delivered: m.messages_delivered,
            messages_dropped: m.messages_dropped,
            election_messages: m.election_messages,
            heartbeat_messages: m.heartbeat_messages,
            heartbeats_per_s: m.heartbeats_per_s,
            messages_per_election: m.messages_per_election,
            split_brain_incidents: m.split_brain_incidents,
            split_brain_ms: m.split_brain_ms,
            same_term_leaders: m.same_term_leaders,
            leader_changes: m.leader_changes,
            elections_started: m.elections_started,
            unnecessary_elections: m.unnecessary_elections,
            availability: m.availability,
            leader_tenure_ms: m.leader_tenure_ms.clone(),
            leaderless_at_end: m.leaderless_at_end,
            lease_overlap_ms: m.lease_overlap_ms,
            lease_overlap_incidents: m.lease_overlap_incidents,
            stale_actions_accepted: m.stale_actions_accepted,
            stale_actions_rejected: m.stale_actions_rejected,
            service_requests_per_s: m.service_requests_per_s,
            invariant_violations: o.violation_count,
            violations: o.violations.clone(),
            coverage: m.coverage,
            messages_by_kind: m.messages_by_kind.clone(),
            split_brain_log: m.split_brain_log.clone(),
            election_log: m.election_log.clone(),
            by_cause: m.by_cause.clone(),
            trace_digest: o.trace_digest.clone(),
            replay,
        }
    }

    /// A short human-readable table.
    pub fn table(&self) -> String {
        let ms = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.1}"));
        let mut s = String::new();
        let _ = writeln!(
            s,
            "scenario      {} ({} nodes, {}, seed {})",
            self.scenario, self.nodes, self.algorithm, self.seed
        );
        let _ = writeln!(
            s,
            "virtual time  {:.1} s, {} kernel events",
            self.duration_s, self.events
        );
        let _ = writeln!(
            s,
            "elections     {}   leader changes {}   availability {:.2}%",
            self.elections,
            self.leader_changes,
            self.availability * 100.0
        );
        let _ = writeln!(
            s,
            "              {:>10} {:>10} {:>10} {:>10}",
            "mean", "p50", "p99", "max"
        );
        for (name, st) in [
            ("election ms", &self.election_ms),
            ("failover ms", &self.failover_ms),
            ("detect ms", &self.detect_ms),
            ("converge ms", &self.converge_ms),
        ] {
            let _ = writeln!(
                s,
                "{name:<13} {:>10} {:>10} {:>10} {:>10}",
                ms(st.mean),
                ms(st.p50),
                ms(st.p99),
                ms(st.max)
            );
        }
        let _ = writeln!(
            s,
            "messages      sent {}  delivered {}  dropped {}  per election {}",
            self.messages_sent,
            self.messages_delivered,
            self.messages_dropped,
            ms(self.messages_per_election)
        );
        let _ = writeln!(s, "heartbeats    {:.1}/s", self.heartbeats_per_s);
        let _ = writeln!(
            s,
            "split brain   {} incidents, {:.1} ms   same-term leaders {}",
            self.split_brain_incidents, self.split_brain_ms, self.same_term_leaders
        );
        for i in &self.split_brain_log {
            let nodes: Vec<String> = i.nodes.iter().map(|n| n.to_string()).collect();
            let _ = writeln!(
                s,
                "  - {:.3} ms to {:.3} ms ({:.3} ms), leaders {}",
                i.start_ms,
                i.end_ms,
                i.end_ms - i.start_ms,
                nodes.join(", ")
            );
        }
        if self.holds_leases {
            let _ = writeln!(
                s,
                "lease overlap {} incidents, {:.1} ms   stale actions accepted {} rejected {}",
                self.lease_overlap_incidents,
                self.lease_overlap_ms,
                self.stale_actions_accepted,
                self.stale_actions_rejected
            );
        }
        if self.algorithm == "k8s" {
            let _ = writeln!(
                s,
                "service load  {:.2} requests/s",
                self.service_requests_per_s
            );
        }
        let _ = writeln!(s, "coverage      {}", self.coverage.describe());
        let _ = writeln!(s, "invariants    {} violations", self.invariant_violations);
        for v in &self.violations {
            let _ = writeln!(
                s,
                "  - {} at {:.3} ms: {}",
                v.property,
                v.at_ns as f64 / 1e6,
                v.detail
            );
        }
        let _ = writeln!(s, "trace digest  {}", self.trace_digest);
        let _ = writeln!(s, "replay        {}", self.replay);
        s
    }
}
