//! The properties the checker tests, and the history some of them need.
//!
//! `election_safety` and `vote_once` have the meaning (and the names) of the engine's
//! invariants in [`crate::sim::invariants`]: they are about what happened over the run, so
//! the world carries a history of the leader of each term and of each node's votes (kept
//! across restarts, as the engine's invariants keep it). `split_brain` and `lease_overlap`
//! are about one moment and read the current statuses. In an untimed model a state can
//! last arbitrarily long, so any state in which they hold is a violation (the engine's
//! metrics count intervals of positive length; a replay holds the state for 1 ms).

use crate::sim::invariants::{ELECTION_SAFETY, VOTE_ONCE};
use crate::sim::{NodeId, NodeStatus, Role};
use std::collections::BTreeMap;

/// A property the checker can test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Property {
    /// At most one node is leader in any term, over the whole run (Raft §5.2).
    ElectionSafety,
    /// No node votes for two different candidates in one term, over the whole run.
    VoteOnce,
    /// At most one live participant is in role leader at any moment.
    SplitBrain,
    /// No live participant is leader while the service's authoritative holder is another
    /// node or none (coordination-service recipes; definition as in the metrics).
    LeaseOverlap,
    /// Bounded liveness: from every reachable state, once faults stop (and the network is
    /// healed), some schedule of at most K steps reaches a state with a live leader.
    Liveness,
}

/// Name of the `split_brain` property.
pub const SPLIT_BRAIN: &str = "split_brain";
/// Name of the `lease_overlap` property.
pub const LEASE_OVERLAP: &str = "lease_overlap";
/// Name of the bounded liveness property.
pub const LIVENESS: &str = "liveness";

impl Property {
    /// Every property, in report order.
    pub const ALL: [Property; 5] = [
        Property::ElectionSafety,
        Property::VoteOnce,
        Property::SplitBrain,
        Property::LeaseOverlap,
        Property::Liveness,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Property::ElectionSafety => ELECTION_SAFETY,
            Property::VoteOnce => VOTE_ONCE,
            Property::SplitBrain => SPLIT_BRAIN,
            Property::LeaseOverlap => LEASE_OVERLAP,
            Property::Liveness => LIVENESS,
        }
    }

    /// True when `algorithm` claims the property (as `explore --property` decides): checking
    /// one it does not claim would flag behaviour it never promises.
    pub fn applies_to(self, algorithm: &crate::plugin::ConfiguredAlgorithm) -> bool {
        let claims = algorithm.claims();
        match self {
            Property::ElectionSafety | Property::VoteOnce => claims.one_leader_per_term,
            Property::LeaseOverlap => claims.leases,
            Property::SplitBrain | Property::Liveness => true,
        }
    }

    /// Parse a property name.
    pub fn parse(name: &str) -> Result<Property, String> {
        Property::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| {
                format!(
                    "unknown property `{name}`; use one of: {}",
                    Property::ALL.map(Property::name).join(", ")
                )
            })
    }
}

/// Which histories a search keeps (a history nobody reads would only split states).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Track {
    /// Record the first leader of each term (read by `election_safety`).
    pub leaders: bool,
    /// Record each participant's vote per term (read by `vote_once`).
    pub votes: bool,
    /// Record the lock holder named by the service (read by `lease_overlap`).
    pub holder: bool,
}

impl Track {
    /// What `props` need.
    pub fn for_properties(props: &[Property]) -> Track {
        Track {
            leaders: props.contains(&Property::ElectionSafety),
            votes: props.contains(&Property::VoteOnce),
            holder: props.contains(&Property::LeaseOverlap),
        }
    }
}

/// History variables of a world.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct History {
    track_leaders: bool,
    track_holder: bool,
    /// Term -> the first node seen leading it.
    leader_of_term: BTreeMap<u64, NodeId>,
    /// Per participant (empty when votes are not tracked): term -> vote cast.
    votes: Vec<BTreeMap<u64, NodeId>>,
    /// The holder last named by an authoritative service replica.
    holder: Option<NodeId>,
}

/// A violated property with a human-readable detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broken {
    /// The property that failed.
    pub property: Property,
    /// What broke it, in words (nodes, terms, holders).
    pub detail: String,
}

impl History {
    /// An empty history for `nodes` participants.
    pub fn new(nodes: u32, track: Track) -> History {
        History {
            track_leaders: track.leaders,
            track_holder: track.holder,
            leader_of_term: BTreeMap::new(),
            votes: if track.votes {
                vec![BTreeMap::new(); nodes as usize]
            } else {
                Vec::new()
            },
            holder: None,
        }
    }

    /// The history with node `i` renamed to `map[i]` (participants only are recorded).
    pub fn renamed(&self, map: &[NodeId]) -> History {
        let id = |i: &NodeId| map[*i as usize];
        let mut votes = vec![BTreeMap::new(); self.votes.len()];
        for (i, v) in self.votes.iter().enumerate() {
            votes[id(&(i as NodeId)) as usize] = v.iter().map(|(t, c)| (*t, id(c))).collect();
        }
        History {
            track_leaders: self.track_leaders,
            track_holder: self.track_holder,
            leader_of_term: self
                .leader_of_term
                .iter()
                .map(|(t, l)| (*t, id(l)))
                .collect(),
            votes,
            holder: self.holder.as_ref().map(id),
        }
    }

    /// Record a status change; returns the history properties it breaks (the engine's
    /// invariants check the same two, the same way).
    pub fn observe(&mut self, node: NodeId, new: &NodeStatus, broken: &mut Vec<Broken>) {
        if self.track_leaders && new.role == Role::Leader {
            match self.leader_of_term.get(&new.term) {
                Some(&other) if other != node => broken.push(Broken {
                    property: Property::ElectionSafety,
                    detail: format!(
                        "nodes {other} and {node} were both leader in term {}",
                        new.term
                    ),
                }),
                Some(_) => {}
                None => {
                    self.leader_of_term.insert(new.term, node);
                }
            }
        }
        if let (Some(v), Some(votes)) = (new.voted_for, self.votes.get_mut(node as usize)) {
            match votes.get(&new.term) {
                Some(&prev) if prev != v => broken.push(Broken {
                    property: Property::VoteOnce,
                    detail: format!(
                        "node {node} voted for {prev} and then {v} in term {}",
                        new.term
                    ),
                }),
                Some(_) => {}
                None => {
                    votes.insert(new.term, v);
                }
            }
        }
    }

    /// Update the service's holder from the replicas' statuses (the active primary is the
    /// service replica with the highest term above zero; lowest id on ties).
    pub fn update_holder(&mut self, service: &[NodeStatus]) {
        if !self.track_holder {
            return;
        }
        if let Some((_, s)) = service
            .iter()
            .enumerate()
            .filter(|(_, s)| s.role == Role::Service && s.term > 0)
            .max_by_key(|&(i, s)| (s.term, std::cmp::Reverse(i)))
        {
            self.holder = s.leader;
        }
    }

    /// The holder last named by the service.
    pub fn holder(&self) -> Option<NodeId> {
        self.holder
    }
}

/// Live participants in role leader.
pub fn live_leaders(participants: &[NodeStatus]) -> Vec<NodeId> {
    participants
        .iter()
        .enumerate()
        .filter(|(_, s)| s.role == Role::Leader)
        .map(|(i, _)| i as NodeId)
        .collect()
}

/// The moment properties selected in `props` that `statuses` break.
pub fn check_state(
    props: &[Property],
    nodes: u32,
    statuses: &[NodeStatus],
    history: &History,
    broken: &mut Vec<Broken>,
) {
    let leaders = live_leaders(&statuses[..nodes as usize]);
    if props.contains(&Property::SplitBrain) && leaders.len() >= 2 {
        broken.push(Broken {
            property: Property::SplitBrain,
            detail: format!(
                "nodes {} are leader at once",
                leaders
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        });
    }
    if props.contains(&Property::LeaseOverlap)
        && statuses.len() > nodes as usize
        && let Some(&l) = leaders.iter().find(|&&l| Some(l) != history.holder())
    {
        broken.push(Broken {
            property: Property::LeaseOverlap,
            detail: format!(
                "node {l} acts as leader while the service names {}",
                history
                    .holder()
                    .map_or("no holder".to_string(), |h| format!("node {h}"))
            ),
        });
    }
}
