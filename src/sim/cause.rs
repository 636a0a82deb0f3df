//! What began a leaderless interval, decided by the metrics from the trace alone (never by
//! the protocol about itself). The rule, applied at the event after which "elected by L"
//! stops holding (docs/causes.md states it for users; `tests/oracle` derives it again):
//!
//! 1. `boot`: the interval that starts the run;
//! 2. `leader_crash`: L is down after the event;
//! 3. `leader_pause`: L is paused;
//! 4. `hand_over`: another leader qualifies at once (the followers moved over);
//! 5. `leader_cut_off`: the event is a network fault (partition, cut, isolation, heal);
//! 6. the event is L's own status change: `hand_over` if L's term rose or another live
//!    participant leads or campaigns, else `step_down` (check-quorum, a lost lease);
//! 7. the event is a follower's status change: `hand_over` if it now leads, campaigns or
//!    follows another node, else `followers_lost`;
//! 8. anything else (a follower paused): `followers_lost`.

use super::protocol::{NodeId, NodeStatus, Role};
use serde::Serialize;

/// What began a leaderless interval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The run's first interval.
    #[default]
    Boot,
    /// The leader crashed.
    LeaderCrash,
    /// The leader was paused (a GC pause).
    LeaderPause,
    /// A partition, cut or isolation cut the leader off from its majority.
    LeaderCutOff,
    /// The leader left its role on its own (check-quorum, a lost lease).
    StepDown,
    /// A higher id or a new candidate took over a live leader.
    HandOver,
    /// Followers crashed, paused or stopped following without a rival.
    FollowersLost,
}

/// Every cause, in column order.
pub const CAUSES: [Cause; 7] = [
    Cause::Boot,
    Cause::LeaderCrash,
    Cause::LeaderPause,
    Cause::LeaderCutOff,
    Cause::StepDown,
    Cause::HandOver,
    Cause::FollowersLost,
];

impl Cause {
    /// The name in CSV files (`leader_crash`).
    pub fn name(self) -> &'static str {
        match self {
            Cause::Boot => "boot",
            Cause::LeaderCrash => "leader_crash",
            Cause::LeaderPause => "leader_pause",
            Cause::LeaderCutOff => "leader_cut_off",
            Cause::StepDown => "step_down",
            Cause::HandOver => "hand_over",
            Cause::FollowersLost => "followers_lost",
        }
    }

    /// Position in [`CAUSES`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The cause named `s`, if any.
    pub fn parse(s: &str) -> Option<Cause> {
        CAUSES.into_iter().find(|c| c.name() == s)
    }
}

/// The trace event after which the elected state was re-evaluated.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Trigger {
    /// A partition, cut, isolation or heal.
    Network,
    /// A participant's status change.
    Status {
        /// The node.
        node: NodeId,
        /// Its status before.
        old: NodeStatus,
        /// Its status after.
        new: NodeStatus,
    },
    /// Any other fault, or a resume.
    #[default]
    Other,
}

/// What the rule needs to know about the moment the leader `leader` stopped being elected.
#[derive(Clone, Copy, Debug)]
pub struct Loss {
    /// The lost leader.
    pub leader: NodeId,
    /// It is down after the event.
    pub down: bool,
    /// It is paused.
    pub paused: bool,
    /// Another leader qualifies right after the event.
    pub successor: bool,
    /// Another live participant is in role leader, candidate or pre-candidate.
    pub rival: bool,
}

fn campaigns(r: Role) -> bool {
    matches!(r, Role::Leader | Role::Candidate | Role::PreCandidate)
}

/// The cause of a loss (rules 2-8 of the module docs; boot is the interval nobody lost).
pub fn classify(loss: &Loss, trigger: &Trigger) -> Cause {
    if loss.down {
        return Cause::LeaderCrash;
    }
    if loss.paused {
        return Cause::LeaderPause;
    }
    if loss.successor {
        return Cause::HandOver;
    }
    match *trigger {
        Trigger::Network => Cause::LeaderCutOff,
        Trigger::Status { node, old, new } if node == loss.leader => {
            if new.term > old.term || loss.rival {
                Cause::HandOver
            } else {
                Cause::StepDown
            }
        }
        Trigger::Status { new, .. } => {
            let elsewhere =
                new.role == Role::Follower && new.leader.is_some_and(|l| l != loss.leader);
            if campaigns(new.role) || elsewhere {
                Cause::HandOver
            } else {
                Cause::FollowersLost
            }
        }
        Trigger::Other => Cause::FollowersLost,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(role: Role, term: u64, leader: Option<NodeId>) -> NodeStatus {
        NodeStatus {
            role,
            term,
            leader,
            voted_for: None,
        }
    }

    const LIVE: Loss = Loss {
        leader: 2,
        down: false,
        paused: false,
        successor: false,
        rival: false,
    };

    #[test]
    fn each_rule() {
        let on = |l: Loss, t: Trigger| classify(&l, &t);
        assert_eq!(
            on(Loss { down: true, ..LIVE }, Trigger::Other),
            Cause::LeaderCrash
        );
        assert_eq!(
            on(
                Loss {
                    paused: true,
                    ..LIVE
                },
                Trigger::Other
            ),
            Cause::LeaderPause
        );
        assert_eq!(
            on(
                Loss {
                    successor: true,
                    ..LIVE
                },
                Trigger::Network
            ),
            Cause::HandOver
        );
        assert_eq!(on(LIVE, Trigger::Network), Cause::LeaderCutOff);
        let own = |old, new| Trigger::Status { node: 2, old, new };
        let lead = st(Role::Leader, 4, Some(2));
        // Check-quorum: same term, nobody else campaigning.
        assert_eq!(
            on(LIVE, own(lead, st(Role::Follower, 4, None))),
            Cause::StepDown
        );
        // A higher term reached the leader.
        assert_eq!(
            on(LIVE, own(lead, st(Role::Follower, 5, None))),
            Cause::HandOver
        );
        assert_eq!(
            on(
                Loss {
                    rival: true,
                    ..LIVE
                },
                own(lead, st(Role::Follower, 4, None))
            ),
            Cause::HandOver
        );
        let other = |new| Trigger::Status {
            node: 0,
            old: st(Role::Follower, 4, Some(2)),
            new,
        };
        assert_eq!(
            on(LIVE, other(st(Role::Candidate, 5, None))),
            Cause::HandOver
        );
        assert_eq!(
            on(LIVE, other(st(Role::Follower, 4, Some(4)))),
            Cause::HandOver
        );
        assert_eq!(on(LIVE, other(NodeStatus::DOWN)), Cause::FollowersLost);
        assert_eq!(
            on(LIVE, other(st(Role::Follower, 4, None))),
            Cause::FollowersLost
        );
        assert_eq!(on(LIVE, Trigger::Other), Cause::FollowersLost);
    }

    #[test]
    fn names_round_trip() {
        for c in CAUSES {
            assert_eq!(Cause::parse(c.name()), Some(c));
            assert_eq!(CAUSES[c.index()], c);
        }
        assert_eq!(Cause::parse("crash"), None);
    }
}
