//! Named safety properties, checked after every status change (the only events that can
//! break them). A violation is data: it lands in the run's result with its time and detail;
//! `--strict` turns it into a failed run.

use super::observe::{Observer, TraceEvent};
use super::protocol::{NodeId, Role};
use super::time::SimTime;
use serde::Serialize;
use std::collections::BTreeMap;

/// Property names, as they appear in results.
pub const ELECTION_SAFETY: &str = "election_safety";
/// Property name of "no node casts two different votes in one term".
pub const VOTE_ONCE: &str = "vote_once";

/// One observed violation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Violation {
    /// Which property was violated ([`ELECTION_SAFETY`] or [`VOTE_ONCE`]).
    pub property: &'static str,
    /// Virtual time of the violation, in ns.
    pub at_ns: u64,
    /// Human-readable account: the nodes and term involved.
    pub detail: String,
}

/// Keep about this many violations in detail (all are counted).
const MAX_KEPT: usize = 32;

/// Checks "at most one leader per term" (Raft §5.2 Election Safety, where the algorithm
/// claims it) and "no node votes for two candidates in one term" (always).
#[derive(Debug)]
pub struct Invariants {
    nodes: u32,
    election_safety: bool,
    leader_of_term: BTreeMap<u64, NodeId>,
    /// Per node: term -> vote cast in that term, over the node's whole life (across
    /// restarts, because the property is about what the node did, not what it remembers).
    votes: Vec<BTreeMap<u64, NodeId>>,
    count: u64,
    kept: Vec<Violation>,
}

impl Invariants {
    /// A checker for `nodes` participants; `election_safety` off skips the one-leader-per-term
    /// check (for algorithms whose terms are not Raft terms).
    pub fn new(nodes: u32, election_safety: bool) -> Self {
        Invariants {
            nodes,
            election_safety,
            leader_of_term: BTreeMap::new(),
            votes: vec![BTreeMap::new(); nodes as usize],
            count: 0,
            kept: Vec::new(),
        }
    }

    fn violate(&mut self, property: &'static str, at: SimTime, detail: String) {
        self.count += 1;
        // Keep the first violations, and always the first of each property (so a flood of
        // one kind cannot hide the other).
        if self.kept.len() < MAX_KEPT || !self.kept.iter().any(|v| v.property == property) {
            self.kept.push(Violation {
                property,
                at_ns: at.0,
                detail,
            });
        }
    }

    /// Violations observed, all counted.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The violations kept in detail (at most about 32; the first of each property always).
    pub fn violations(&self) -> &[Violation] {
        &self.kept
    }
}

impl Observer for Invariants {
    fn observe(&mut self, ev: &TraceEvent<'_>) {
        let TraceEvent::Status { at, node, new, .. } = *ev else {
            return;
        };
        if node >= self.nodes {
            return;
        }
        if self.election_safety && new.role == Role::Leader {
            match self.leader_of_term.get(&new.term) {
                Some(&other) if other != node => self.violate(
                    ELECTION_SAFETY,
                    at,
                    format!(
                        "nodes {other} and {node} were both leader in term {}",
                        new.term
                    ),
                ),
                Some(_) => {}
                None => {
                    self.leader_of_term.insert(new.term, node);
                }
            }
        }
        if let Some(v) = new.voted_for {
            match self.votes[node as usize].get(&new.term) {
                Some(&prev) if prev != v => self.violate(
                    VOTE_ONCE,
                    at,
                    format!(
                        "node {node} voted for {prev} and then {v} in term {}",
                        new.term
                    ),
                ),
                Some(_) => {}
                None => {
                    self.votes[node as usize].insert(new.term, v);
                }
            }
        }
    }
}
