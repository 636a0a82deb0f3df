//! Coverage: how often a run reached the situations a scenario is usually written to
//! exercise. Like every metric, the counts come from the trace-event stream only (message
//! kinds, their terms and [`MsgRef::refused`], status changes, timers), never from counters
//! a protocol keeps about itself. The definitions (also in the README's "Metrics" section and
//! `docs/metrics.md`):
//!
//! * **split votes**: terms in which a participant became candidate and no participant became
//!   leader before some participant reached a higher term (algorithms whose kinds include
//!   `RequestVote` or raft-rs's `MsgRequestVote`). A term still open at the end of the run
//!   is not counted.
//! * **pre-vote rejections**: `PreVoteResponse` (raft-rs: `MsgRequestPreVoteResponse`)
//!   messages sent that do not grant.
//! * **check-quorum step-downs**: a participant leaving role leader for a live role inside
//!   the handler of its `check_quorum` timer (raft-rs: of its `tick`, where a leader steps
//!   down only by its quorum check).
//! * **lease expiries** (coordination-service recipes): firings of a replica's `expire` timer
//!   whose handler sent a message or changed the replica's status. Every keepalive re-arms the
//!   timer for a whole TTL and a firing before the TTL only re-arms it (invisibly), so a
//!   visible effect means a session or lease was expired. An expiry with no visible effect
//!   (a session that owned nothing, on an unreplicated service) is not counted.
//! * **watch notifications** (recipes): `WatchEvent` messages sent.
//! * **fencing rejections** (recipes): [`STALE_REJECTED_KIND`] messages sent.
//! * **Bully answers from higher ids**: `Answer` messages sent by a node with a higher id than
//!   their receiver (algorithms whose kinds include `Answer` and `Coordinator`).
//! * **ring token skips**: `Election` or `Elected` tokens sent to a node other than the
//!   sender's successor in the ring order ([`super::protocol::Protocol::ring_order`]), i.e.
//!   passed around a node the sender suspects.

use super::metrics::STALE_REJECTED_KIND;
use super::observe::{MsgRef, Observer, TraceEvent};
use super::protocol::{NodeId, NodeStatus, Role};
use serde::Serialize;
use std::collections::BTreeSet;

/// The coverage column names (`coverage_<name>` in `runs.csv` and `summary.csv`), in the
/// order of [`Coverage::values`].
pub const COVERAGE_NAMES: [&str; 8] = [
    "split_votes",
    "pre_vote_rejections",
    "check_quorum_step_downs",
    "lease_expiries",
    "watch_notifications",
    "fencing_rejections",
    "bully_higher_answers",
    "ring_token_skips",
];

/// How often a run reached each situation (see the module documentation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Raft terms with a candidate and no leader before a higher term began.
    pub split_votes: u64,
    /// Pre-vote responses that did not grant.
    pub pre_vote_rejections: u64,
    /// Leaders that stepped down in their `check_quorum` timer.
    pub check_quorum_step_downs: u64,
    /// Session/lease expiries at the coordination service.
    pub lease_expiries: u64,
    /// Watch notifications the service sent.
    pub watch_notifications: u64,
    /// Actions by a non-holder that fencing refused.
    pub fencing_rejections: u64,
    /// Bully `Answer`s sent from a higher id to a lower one.
    pub bully_higher_answers: u64,
    /// Ring tokens sent past the sender's ring successor.
    pub ring_token_skips: u64,
}

impl Coverage {
    /// Add another run's counts (totals over several runs).
    pub fn add(&mut self, other: &Coverage) {
        self.split_votes += other.split_votes;
        self.pre_vote_rejections += other.pre_vote_rejections;
        self.check_quorum_step_downs += other.check_quorum_step_downs;
        self.lease_expiries += other.lease_expiries;
        self.watch_notifications += other.watch_notifications;
        self.fencing_rejections += other.fencing_rejections;
        self.bully_higher_answers += other.bully_higher_answers;
        self.ring_token_skips += other.ring_token_skips;
    }

    /// One line for people: every count with its name.
    pub fn describe(&self) -> String {
        format!(
            "split votes {}  pre-vote rejections {}  check-quorum step-downs {}  \
             lease expiries {}  watch notifications {}  fencing rejections {}  \
             higher-id answers {}  ring skips {}",
            self.split_votes,
            self.pre_vote_rejections,
            self.check_quorum_step_downs,
            self.lease_expiries,
            self.watch_notifications,
            self.fencing_rejections,
            self.bully_higher_answers,
            self.ring_token_skips
        )
    }

    /// The counts in [`COVERAGE_NAMES`] order.
    pub fn values(&self) -> [u64; 8] {
        [
            self.split_votes,
            self.pre_vote_rejections,
            self.check_quorum_step_downs,
            self.lease_expiries,
            self.watch_notifications,
            self.fencing_rejections,
            self.bully_higher_answers,
            self.ring_token_skips,
        ]
    }
}

/// The observer that computes [`Coverage`].
#[derive(Clone, Debug)]
pub struct CoverageCounter {
    nodes: u32,
    raft: bool,
    /// raft-rs (its kinds are `Msg...`; its leader steps down in its `tick` handler).
    raft_rs: bool,
    bully: bool,
    /// Ring successor of each participant, when the algorithm passes a ring token.
    successor: Option<Vec<NodeId>>,
    /// Terms with a candidate and (so far) no leader.
    open_campaigns: BTreeSet<u64>,
    /// Terms that had a leader.
    won: BTreeSet<u64>,
    /// The timer whose handler is running (its node and name), and whether its effect on a
    /// service replica was already counted.
    timer: Option<(NodeId, &'static str)>,
    timer_counted: bool,
    counts: Coverage,
}

impl CoverageCounter {
    /// A counter for `nodes` participants of an algorithm with message kinds `kinds` and ring
    /// order `ring` (see [`super::protocol::Protocol::ring_order`]).
    pub fn new(nodes: u32, kinds: &[&str], ring: Option<Vec<NodeId>>) -> Self {
        let has = |k: &str| kinds.contains(&k);
        let successor = ring.filter(|r| !r.is_empty()).map(|order| {
            let mut next = (0..nodes)
                .map(|i| (i + 1) % nodes.max(1))
                .collect::<Vec<_>>();
            for (p, &id) in order.iter().enumerate() {
                if let Some(s) = next.get_mut(id as usize) {
                    *s = order[(p + 1) % order.len()];
                }
            }
            next
        });
        CoverageCounter {
            nodes,
            raft: has("RequestVote") || has("MsgRequestVote"),
            raft_rs: has("MsgRequestVote"),
            bully: has("Answer") && has("Coordinator"),
            successor,
            open_campaigns: BTreeSet::new(),
            won: BTreeSet::new(),
            timer: None,
            timer_counted: false,
            counts: Coverage::default(),
        }
    }

    /// The counts so far.
    pub fn counts(&self) -> Coverage {
        self.counts
    }

    /// A replica's `expire` handler did something visible.
    fn expire_effect(&mut self, node: NodeId) {
        if node >= self.nodes && !self.timer_counted && self.timer == Some((node, "expire")) {
            self.counts.lease_expiries += 1;
            self.timer_counted = true;
        }
    }

    #[inline]
    fn on_send(&mut self, msg: &MsgRef) {
        self.expire_effect(msg.from);
        match msg.kind_name {
            "PreVoteResponse" | "MsgRequestPreVoteResponse" if msg.refused => {
                self.counts.pre_vote_rejections += 1
            }
            "WatchEvent" => self.counts.watch_notifications += 1,
            STALE_REJECTED_KIND => self.counts.fencing_rejections += 1,
            "Answer" if self.bully && msg.from > msg.to => self.counts.bully_higher_answers += 1,
            "Election" | "Elected" => {
                if let Some(next) = &self.successor
                    && next.get(msg.from as usize).is_some_and(|&s| s != msg.to)
                {
                    self.counts.ring_token_skips += 1;
                }
            }
            _ => {}
        }
    }

    fn on_status(&mut self, node: NodeId, old: NodeStatus, new: NodeStatus) {
        self.expire_effect(node);
        if node >= self.nodes {
            return;
        }
        if old.role == Role::Leader
            && !matches!(new.role, Role::Leader | Role::Down)
            && (self.timer == Some((node, "check_quorum"))
                || self.raft_rs && self.timer == Some((node, "tick")))
        {
            self.counts.check_quorum_step_downs += 1;
        }
        if !self.raft || new.role == Role::Down {
            return;
        }
        // A higher term began: every earlier campaign that nobody won was a split vote.
        let ended: Vec<u64> = self.open_campaigns.range(..new.term).copied().collect();
        for t in ended {
            self.open_campaigns.remove(&t);
            self.counts.split_votes += 1;
        }
        match new.role {
            Role::Leader => {
                self.won.insert(new.term);
                self.open_campaigns.remove(&new.term);
            }
            Role::Candidate if !self.won.contains(&new.term) => {
                self.open_campaigns.insert(new.term);
            }
            _ => {}
        }
    }
}

impl Observer for CoverageCounter {
    #[inline(always)]
    fn observe(&mut self, ev: &TraceEvent<'_>) {
        match *ev {
            TraceEvent::Send { msg, .. } => self.on_send(&msg),
            TraceEvent::Status { node, old, new, .. } => self.on_status(node, old, new),
            TraceEvent::Timer { node, name, .. } => {
                self.timer = Some((node, name));
                self.timer_counted = false;
            }
            TraceEvent::Deliver { .. }
            | TraceEvent::Fault { .. }
            | TraceEvent::Resume { .. }
            | TraceEvent::End { .. } => self.timer = None,
            TraceEvent::Drop { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    //! Definitions checked on hand-built traces (no engine involved).
    use super::*;
    use crate::sim::protocol::MsgClass;
    use crate::sim::time::SimTime;

    const RAFT: &[&str] = &["RequestVote", "VoteResponse", "PreVote", "PreVoteResponse"];

    struct T {
        c: CoverageCounter,
        id: u64,
    }

    impl T {
        fn new(nodes: u32, kinds: &[&str], ring: Option<Vec<NodeId>>) -> T {
            T {
                c: CoverageCounter::new(nodes, kinds, ring),
                id: 0,
            }
        }
        fn send(&mut self, from: NodeId, to: NodeId, kind_name: &'static str, refused: bool) {
            self.id += 1;
            let msg = MsgRef {
                id: self.id,
                from,
                to,
                kind: 0,
                kind_name,
                class: MsgClass::Election,
                term: None,
                refused,
            };
            self.c.observe(&TraceEvent::Send {
                at: SimTime::ZERO,
                msg,
            });
        }
        fn deliver(&mut self) {
            let msg = MsgRef {
                id: 0,
                from: 0,
                to: 1,
                kind: 0,
                kind_name: "X",
                class: MsgClass::Other,
                term: None,
                refused: false,
            };
            self.c.observe(&TraceEvent::Deliver {
                at: SimTime::ZERO,
                msg,
            });
        }
        fn timer(&mut self, node: NodeId, name: &'static str) {
            self.c.observe(&TraceEvent::Timer {
                at: SimTime::ZERO,
                node,
                name,
            });
        }
        fn status(&mut self, node: NodeId, old: (Role, u64), new: (Role, u64)) {
            let st = |(role, term): (Role, u64)| NodeStatus {
                role,
                term,
                leader: None,
                voted_for: None,
            };
            self.c.observe(&TraceEvent::Status {
                at: SimTime::ZERO,
                node,
                old: st(old),
                new: st(new),
            });
        }
    }

    #[test]
    fn a_term_without_a_winner_is_a_split_vote_once_a_higher_term_begins() {
        let mut t = T::new(3, RAFT, None);
        t.status(0, (Role::Follower, 1), (Role::Candidate, 2));
        t.status(1, (Role::Follower, 1), (Role::Candidate, 2));
        assert_eq!(t.c.counts().split_votes, 0, "term 2 is still open");
        // Term 3 is won; term 2 (two candidates) counts once.
        t.status(2, (Role::Follower, 1), (Role::Candidate, 3));
        t.status(2, (Role::Candidate, 3), (Role::Leader, 3));
        // A late candidacy in the won term 3 and one in term 4 that stays open.
        t.status(0, (Role::Candidate, 2), (Role::Candidate, 3));
        t.status(1, (Role::Candidate, 2), (Role::Candidate, 4));
        assert_eq!(t.c.counts().split_votes, 1);
        // Without Raft's kinds nothing is counted.
        let mut b = T::new(3, &["Election", "Answer", "Coordinator"], None);
        b.status(0, (Role::Follower, 1), (Role::Candidate, 2));
        b.status(0, (Role::Candidate, 2), (Role::Candidate, 3));
        assert_eq!(b.c.counts().split_votes, 0);
    }

    #[test]
    fn check_quorum_step_down_happens_inside_the_timer_handler() {
        let mut t = T::new(3, RAFT, None);
        t.timer(0, "check_quorum");
        t.status(0, (Role::Leader, 2), (Role::Follower, 2));
        // A step-down while handling a message, or a crash in the timer, is not one.
        t.deliver();
        t.status(1, (Role::Leader, 3), (Role::Follower, 3));
        t.timer(1, "check_quorum");
        t.status(1, (Role::Leader, 3), (Role::Down, 0));
        assert_eq!(t.c.counts().check_quorum_step_downs, 1);
    }

    #[test]
    fn lease_expiry_is_an_expire_timer_with_a_visible_effect() {
        // Participants 0 and 1, service replica 2.
        let mut t = T::new(2, &["WatchEvent", STALE_REJECTED_KIND], None);
        t.timer(2, "expire");
        t.send(2, 1, "WatchEvent", false);
        t.status(2, (Role::Service, 1), (Role::Service, 1));
        t.send(2, 0, "WatchEvent", false);
        // Re-armed without effect, then a different timer with effect: neither counts.
        t.timer(2, "expire");
        t.deliver();
        t.send(2, 1, STALE_REJECTED_KIND, false);
        t.timer(2, "ping");
        t.send(2, 1, "WatchEvent", false);
        let c = t.c.counts();
        assert_eq!(c.lease_expiries, 1);
        assert_eq!(c.watch_notifications, 3);
        assert_eq!(c.fencing_rejections, 1);
    }

    #[test]
    fn refused_pre_votes_higher_answers_and_ring_skips_are_counted() {
        let mut r = T::new(3, RAFT, None);
        r.send(1, 0, "PreVoteResponse", true);
        r.send(2, 0, "PreVoteResponse", false);
        r.send(2, 0, "VoteResponse", true);
        assert_eq!(r.c.counts().pre_vote_rejections, 1);

        let mut b = T::new(3, &["Election", "Answer", "Coordinator"], None);
        b.send(2, 0, "Answer", false);
        b.send(1, 0, "Answer", false);
        b.send(0, 1, "Answer", false);
        b.send(0, 2, "Election", false);
        assert_eq!(b.c.counts().bully_higher_answers, 2);
        assert_eq!(b.c.counts().ring_token_skips, 0, "Bully has no ring");

        // Ring order 2, 0, 3, 1: successors 2->0, 0->3, 3->1, 1->2.
        let mut g = T::new(4, &["Election", "Elected"], Some(vec![2, 0, 3, 1]));
        g.send(2, 0, "Election", false);
        g.send(0, 1, "Election", false); // skips 3
        g.send(1, 2, "Elected", false);
        g.send(3, 2, "Elected", false); // skips 1
        g.send(0, 3, "Ack", false);
        g.send(0, 2, "Ack", false);
        assert_eq!(g.c.counts().ring_token_skips, 2);
    }
}
