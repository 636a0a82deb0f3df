//! Ring unit tests: handlers driven directly, no engine.
use super::*;
use crate::sim::testkit::{self, sent};
use crate::sim::{Effect, SimTime};

fn ctx(id: NodeId, cfg: &RingConfig) -> Ctx<'_, RingConfig> {
    testkit::ctx(id, 5, 0, SimTime(0), cfg)
}

fn boot(id: NodeId, cfg: &RingConfig) -> (Ring, Out<Ring>) {
    testkit::boot(&ctx(id, cfg))
}

fn election(id: NodeId, seq: u64) -> RingMsg {
    RingMsg::Election { epoch: 1, id, seq }
}

#[test]
fn initiator_sends_own_id_to_successor() {
    // Chang & Roberts 1979: an initiator sends its own id to its neighbour.
    let cfg = RingConfig::default();
    let (n, out) = boot(4, &cfg);
    assert_eq!(
        sent(&out),
        vec![(Some(0), election(4, 0))],
        "the ring wraps around"
    );
    assert_eq!(n.status().role, Role::Candidate);
    let cfg = RingConfig {
        order: vec![3, 1, 4, 0, 2],
        ..RingConfig::default()
    };
    let (_, out) = boot(4, &cfg);
    assert_eq!(sent(&out), vec![(Some(0), election(4, 0))]);
    let (_, out) = boot(2, &cfg);
    assert_eq!(sent(&out), vec![(Some(3), election(2, 0))]);
}

#[test]
fn forwards_larger_swallows_smaller() {
    let cfg = RingConfig::default();
    let (mut n, _) = boot(2, &cfg);
    let mut out = Out::default();
    n.on_message(&ctx(2, &cfg), 1, election(1, 7), &mut out);
    assert_eq!(
        sent(&out),
        vec![(Some(1), RingMsg::Ack { seq: 7 })],
        "smaller id swallowed by a participant"
    );
    let mut out = Out::default();
    n.on_message(&ctx(2, &cfg), 1, election(4, 8), &mut out);
    assert_eq!(
        sent(&out),
        vec![
            (Some(1), RingMsg::Ack { seq: 8 }),
            (Some(3), election(4, 1))
        ]
    );
    assert_eq!(n.status().role, Role::Follower, "our id lost");
    // The same id again in the same epoch: its originator did not stop it; swallow.
    let mut out = Out::default();
    n.on_message(&ctx(2, &cfg), 1, election(4, 9), &mut out);
    assert_eq!(sent(&out), vec![(Some(1), RingMsg::Ack { seq: 9 })]);
}

#[test]
fn non_participant_replaces_smaller_id_with_its_own() {
    let cfg = RingConfig {
        initiators: Initiators::One,
        ..RingConfig::default()
    };
    let (mut n, out) = boot(3, &cfg);
    assert!(sent(&out).is_empty(), "not an initiator");
    let mut out = Out::default();
    n.on_message(&ctx(3, &cfg), 2, election(0, 0), &mut out);
    assert_eq!(
        sent(&out),
        vec![
            (Some(2), RingMsg::Ack { seq: 0 }),
            (Some(4), election(3, 0))
        ]
    );
    assert_eq!(n.status().role, Role::Candidate);
}

#[test]
fn own_id_back_means_leader_and_elected_lap() {
    let cfg = RingConfig::default();
    let (mut n, _) = boot(4, &cfg);
    let mut out = Out::default();
    n.on_message(&ctx(4, &cfg), 3, election(4, 3), &mut out);
    assert_eq!(
        n.status(),
        NodeStatus {
            role: Role::Leader,
            term: 1,
            leader: Some(4),
            voted_for: None
        }
    );
    assert_eq!(
        sent(&out)[1],
        (
            Some(0),
            RingMsg::Elected {
                epoch: 1,
                leader: 4,
                seq: 1
            }
        )
    );
    // Followers forward Elected once; the winner stops it.
    let (mut f, _) = boot(0, &cfg);
    let mut out = Out::default();
    f.on_message(
        &ctx(0, &cfg),
        4,
        RingMsg::Elected {
            epoch: 1,
            leader: 4,
            seq: 1,
        },
        &mut out,
    );
    assert_eq!(f.status().leader, Some(4));
    assert_eq!(
        sent(&out)[1],
        (
            Some(1),
            RingMsg::Elected {
                epoch: 1,
                leader: 4,
                seq: 1
            }
        )
    );
    let mut out = Out::default();
    n.on_message(
        &ctx(4, &cfg),
        3,
        RingMsg::Elected {
            epoch: 1,
            leader: 4,
            seq: 5,
        },
        &mut out,
    );
    assert_eq!(sent(&out), vec![(Some(3), RingMsg::Ack { seq: 5 })]);
}

#[test]
fn own_id_back_after_a_larger_one_passed_is_not_a_win() {
    // A live larger node was skipped by mistake (slow ack): our token made a lap without
    // meeting it, but we forwarded its id, so we cannot be the maximum.
    let cfg = RingConfig::default();
    let (mut n, _) = boot(3, &cfg);
    let mut out = Out::default();
    n.on_message(&ctx(3, &cfg), 2, election(4, 0), &mut out);
    n.on_message(&ctx(3, &cfg), 2, election(3, 1), &mut out);
    assert_eq!(n.status().role, Role::Follower);
    assert!(
        !sent(&out)
            .iter()
            .any(|(_, m)| matches!(m, RingMsg::Elected { .. }))
    );
}

#[test]
fn decided_node_swallows_late_smaller_ids() {
    let cfg = RingConfig::default();
    let (mut n, _) = boot(2, &cfg);
    let mut out = Out::default();
    n.on_message(
        &ctx(2, &cfg),
        1,
        RingMsg::Elected {
            epoch: 1,
            leader: 4,
            seq: 0,
        },
        &mut out,
    );
    let mut out = Out::default();
    n.on_message(&ctx(2, &cfg), 1, election(0, 1), &mut out);
    assert_eq!(sent(&out), vec![(Some(1), RingMsg::Ack { seq: 1 })]);
    assert_eq!(n.status().leader, Some(4));
}

#[test]
fn unacknowledged_token_skips_dead_successor() {
    // Tanenbaum & van Steen §6.5: a crashed successor is skipped.
    let cfg = RingConfig::default();
    let (mut n, _) = boot(1, &cfg);
    let mut out = Out::default();
    n.on_timer(&ctx(1, &cfg), RingTimer::Ack, &mut out);
    assert!(n.suspects(2));
    assert_eq!(sent(&out), vec![(Some(3), election(1, 1))]);
    assert!(out.effects.iter().any(|e| matches!(
        e,
        Effect::SetTimer {
            key: RingTimer::Ack,
            ..
        }
    )));
    // An ack from 3 clears the pending token and the timer.
    let mut out = Out::default();
    n.on_message(&ctx(1, &cfg), 3, RingMsg::Ack { seq: 1 }, &mut out);
    assert!(out.effects.contains(&Effect::CancelTimer {
        key: RingTimer::Ack
    }));
    // Hearing from 2 again un-suspects it.
    n.on_message(&ctx(1, &cfg), 2, RingMsg::Heartbeat { epoch: 1 }, &mut out);
    assert!(!n.suspects(2));
}

#[test]
fn alone_on_the_ring_leads() {
    let cfg = RingConfig::default();
    let (mut n, _) = boot(1, &cfg);
    let mut out = Out::default();
    for _ in 0..4 {
        n.on_timer(&ctx(1, &cfg), RingTimer::Ack, &mut out);
    }
    assert_eq!(n.status().role, Role::Leader);
}

#[test]
fn lelann_forwards_every_id_and_decides_on_return() {
    // LeLann 1977: every id travels the whole ring.
    let cfg = RingConfig {
        variant: Variant::Lcr,
        ..RingConfig::default()
    };
    let (mut n, _) = boot(2, &cfg);
    let mut out = Out::default();
    n.on_message(&ctx(2, &cfg), 1, election(1, 0), &mut out);
    n.on_message(&ctx(2, &cfg), 1, election(4, 1), &mut out);
    let forwarded: Vec<_> = sent(&out)
        .into_iter()
        .filter(|(to, _)| *to == Some(3))
        .collect();
    assert_eq!(forwarded.len(), 2, "smaller ids are forwarded too");
    let mut out = Out::default();
    n.on_message(&ctx(2, &cfg), 1, election(2, 2), &mut out);
    assert_eq!(n.status().leader, Some(4));
    assert_eq!(
        sent(&out),
        vec![(Some(1), RingMsg::Ack { seq: 2 })],
        "no Elected lap"
    );
}

#[test]
fn stale_epoch_tokens_are_dropped_and_newer_reset() {
    let cfg = RingConfig::default();
    let (mut n, _) = boot(2, &cfg);
    let mut out = Out::default();
    n.on_message(
        &ctx(2, &cfg),
        1,
        RingMsg::Election {
            epoch: 3,
            id: 0,
            seq: 0,
        },
        &mut out,
    );
    assert_eq!(n.epoch(), 3);
    assert_eq!(
        sent(&out)[1],
        (
            Some(3),
            RingMsg::Election {
                epoch: 3,
                id: 2,
                seq: 1
            }
        )
    );
    let mut out = Out::default();
    n.on_message(
        &ctx(2, &cfg),
        1,
        RingMsg::Election {
            epoch: 2,
            id: 4,
            seq: 1,
        },
        &mut out,
    );
    assert_eq!(sent(&out).len(), 1, "only the ack");
}

#[test]
fn validate_checks_the_permutation() {
    let raw = RawRing {
        order: Some(vec![0, 1, 1, 2, 3]),
        ..RawRing::default()
    };
    assert_eq!(raw.validate(5).unwrap_err().field, "order.2");
    let raw = RawRing {
        order: Some(vec![0, 1]),
        ..RawRing::default()
    };
    assert_eq!(raw.validate(5).unwrap_err().field, "order");
    assert_eq!(
        RawRing::default().validate(5).unwrap(),
        RingConfig::default()
    );
}
