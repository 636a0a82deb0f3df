//! The LeadershipStabilizer and the failure detectors (issue 18, parts 2 and 3), checked on
//! single handlers (no engine) and on whole runs. Every expected value is worked out by hand
//! in the comment above its assertion.

mod common;
use common::{electsim, ok};

use electsim::protocols::bully::{Bully, BullyConfig, BullyMsg, BullyTimer, Phase};
use electsim::protocols::detector::{DetectorConfig, DetectorKind};
use electsim::protocols::raft::{LOG_UP_TO_DATE, Raft, RaftConfig, RaftMsg, RaftTimer};
use electsim::protocols::ring::{Ring, RingConfig, RingMsg, RingTimer};
use electsim::protocols::stabilizer::StabilizerConfig;
use electsim::sim::{Ctx, Delay, Effect, NodeId, Out, Protocol, Role, SimDuration, SimTime};

fn ms(v: u64) -> SimDuration {
    SimDuration::from_millis(v)
}

fn ctx<C>(id: NodeId, now_ms: u64, config: &C) -> Ctx<'_, C> {
    Ctx {
        id,
        nodes: 5,
        service: 0,
        now: SimTime::ZERO + ms(now_ms),
        config,
    }
}

const FIVE_S: StabilizerConfig = StabilizerConfig {
    min_leadership: SimDuration::from_secs(5),
};

fn timer_set<P: Protocol>(out: &Out<P>, key: P::Timer) -> Option<Delay>
where
    P::Timer: PartialEq,
{
    out.effects.iter().rev().find_map(|e| match e {
        Effect::SetTimer { key: k, delay } if *k == key => Some(*delay),
        _ => None,
    })
}

// ----- Bully -----

/// Node `id` boots at t=0 and accepts node 4's Coordinator (epoch 1) at t=0.
fn bully_follower(id: NodeId, cfg: &BullyConfig) -> Bully {
    let mut out = Out::default();
    let mut n = Bully::boot(&ctx(id, 0, cfg), None, &mut out);
    n.on_message(
        &ctx(id, 0, cfg),
        4,
        BullyMsg::Coordinator { epoch: 1 },
        &mut out,
    );
    assert_eq!((n.phase(), n.status().leader), (Phase::Follower, Some(4)));
    n
}

#[test]
fn bully_stabilizer_holds_a_suspicion_inside_the_window_and_acts_after_it() {
    // Leader 4 accepted at t=0; window 5 s. The detector firing at t=1 s is held: no
    // election, the detector is re-armed for the 4 s left. At t=5 s it may act.
    let cfg = BullyConfig {
        stabilizer: FIVE_S,
        ..BullyConfig::default()
    };
    let mut n = bully_follower(1, &cfg);
    let mut out = Out::default();
    n.on_timer(&ctx(1, 1000, &cfg), BullyTimer::Detector, &mut out);
    assert_eq!(n.phase(), Phase::Follower, "held inside the window");
    assert!(out.sent().is_empty(), "no Election sent");
    assert_eq!(
        timer_set(&out, BullyTimer::Detector),
        Some(Delay::Fixed(ms(4000)))
    );
    let mut out = Out::default();
    n.on_timer(&ctx(1, 5000, &cfg), BullyTimer::Detector, &mut out);
    assert_eq!(n.phase(), Phase::Electing, "the window is over at 5 s");
    assert_eq!(out.sent().len(), 3, "Election to 2, 3 and 4");
}

#[test]
fn bully_stabilizer_off_elects_at_once() {
    let cfg = BullyConfig::default();
    let mut n = bully_follower(1, &cfg);
    let mut out = Out::default();
    n.on_timer(&ctx(1, 1000, &cfg), BullyTimer::Detector, &mut out);
    assert_eq!(n.phase(), Phase::Electing);
}

#[test]
fn bully_an_election_under_way_is_joined_inside_the_window() {
    // Positively known gone: node 0 campaigns in epoch 2 (newer than the epoch 1 under
    // which node 2 accepted leader 4), so 4 has been given up by someone who saw it fail.
    // Node 2 answers and holds its own election at once, stabilizer or not.
    let cfg = BullyConfig {
        stabilizer: FIVE_S,
        ..BullyConfig::default()
    };
    let mut n = bully_follower(2, &cfg);
    let mut out = Out::default();
    n.on_message(
        &ctx(2, 300, &cfg),
        0,
        BullyMsg::Election { epoch: 2 },
        &mut out,
    );
    assert_eq!(n.phase(), Phase::Electing);
    let sent = out.sent();
    assert_eq!(sent[0], (Some(0), &BullyMsg::Answer { epoch: 2 }));
    assert_eq!(sent.len(), 3, "Answer to 0, Election to 3 and 4");
}

fn quorum_bully() -> BullyConfig {
    BullyConfig {
        detector: DetectorConfig {
            kind: DetectorKind::Quorum,
            ..DetectorConfig::default()
        },
        ..BullyConfig::default()
    }
}

#[test]
fn bully_quorum_detector_does_not_elect_while_a_majority_hears_the_leader() {
    // Five nodes: node 1's timeout fires at 300 ms. It asks the others; node 0 also misses
    // 4, nodes 2 and 3 do not: 2 of 5 (with itself) is no majority. The query ends
    // (quorum_wait) and node 1 keeps its leader and re-arms its detector.
    let cfg = quorum_bully();
    let mut n = bully_follower(1, &cfg);
    let mut out = Out::default();
    n.on_timer(&ctx(1, 300, &cfg), BullyTimer::Detector, &mut out);
    assert_eq!(n.phase(), Phase::Follower);
    let round = match out.sent()[..] {
        [
            (
                None,
                &BullyMsg::SuspectQuery {
                    leader: 4, round, ..
                },
            ),
        ] => round,
        ref other => panic!("expected one SuspectQuery broadcast, got {other:?}"),
    };
    assert_eq!(
        timer_set(&out, BullyTimer::SuspectQuery),
        Some(Delay::Fixed(ms(50)))
    );
    let reply = |misses| BullyMsg::SuspectReply {
        epoch: 1,
        round,
        misses,
    };
    let mut out = Out::default();
    n.on_message(&ctx(1, 310, &cfg), 0, reply(true), &mut out);
    n.on_message(&ctx(1, 311, &cfg), 2, reply(false), &mut out);
    n.on_message(&ctx(1, 312, &cfg), 3, reply(false), &mut out);
    assert_eq!(n.phase(), Phase::Follower, "2 of 5 miss the leader");
    let mut out = Out::default();
    n.on_timer(&ctx(1, 350, &cfg), BullyTimer::SuspectQuery, &mut out);
    assert_eq!((n.phase(), n.status().leader), (Phase::Follower, Some(4)));
    assert!(
        timer_set(&out, BullyTimer::Detector).is_some(),
        "the detector looks again later"
    );
    assert!(out.sent().is_empty());
}

#[test]
fn bully_quorum_detector_elects_when_a_majority_misses_the_leader() {
    // Nodes 0 and 2 confirm: 3 of 5 with node 1 itself, a strict majority -> election.
    let cfg = quorum_bully();
    let mut n = bully_follower(1, &cfg);
    let mut out = Out::default();
    n.on_timer(&ctx(1, 300, &cfg), BullyTimer::Detector, &mut out);
    let round = 1;
    let reply = BullyMsg::SuspectReply {
        epoch: 1,
        round,
        misses: true,
    };
    let mut out = Out::default();
    n.on_message(&ctx(1, 310, &cfg), 0, reply.clone(), &mut out);
    assert_eq!(n.phase(), Phase::Follower, "2 of 5 so far");
    n.on_message(&ctx(1, 311, &cfg), 2, reply, &mut out);
    assert_eq!(n.phase(), Phase::Electing, "3 of 5");
}

#[test]
fn bully_peers_answer_from_their_own_view_of_the_leader() {
    // Node 2 heard leader 4 at 0 ms; the minimum heartbeat timeout is 150 ms. Asked at
    // 100 ms it still hears 4; asked at 150 ms it misses it. The leader never misses itself.
    let cfg = quorum_bully();
    let mut n = bully_follower(2, &cfg);
    for (now, want) in [(100, false), (150, true)] {
        let mut out = Out::default();
        n.on_message(
            &ctx(2, now, &cfg),
            1,
            BullyMsg::SuspectQuery {
                epoch: 1,
                leader: 4,
                round: 7,
            },
            &mut out,
        );
        assert_eq!(
            out.sent(),
            vec![(
                Some(1),
                &BullyMsg::SuspectReply {
                    epoch: 1,
                    round: 7,
                    misses: want
                }
            )],
            "asked at {now} ms"
        );
    }
    let mut out = Out::default();
    let mut leader = Bully::boot(&ctx(4, 0, &cfg), None, &mut out);
    let mut out = Out::default();
    leader.on_message(
        &ctx(4, 9000, &cfg),
        1,
        BullyMsg::SuspectQuery {
            epoch: 1,
            leader: 4,
            round: 1,
        },
        &mut out,
    );
    assert!(matches!(
        out.sent()[..],
        [(Some(1), &BullyMsg::SuspectReply { misses: false, .. })]
    ));
}

#[test]
fn bully_phi_detector_arms_at_the_threshold_crossing() {
    // Heartbeats every 50 ms from t=0: intervals of exactly 50 ms, deviation 0 -> the
    // minimum 10 ms. With threshold 1.642828 (phi at y = 2, see protocols::detector), the
    // leader is suspected 50 + 2 * 10 = 70 ms after the last heartbeat.
    let cfg = BullyConfig {
        detector: DetectorConfig {
            kind: DetectorKind::Phi,
            phi_threshold: 1.642_828,
            ..DetectorConfig::default()
        },
        ..BullyConfig::default()
    };
    let mut n = bully_follower(1, &cfg);
    let mut out = Out::default();
    for k in 1..=4 {
        n.on_message(
            &ctx(1, 50 * k, &cfg),
            4,
            BullyMsg::Heartbeat { epoch: 1 },
            &mut out,
        );
    }
    match timer_set(&out, BullyTimer::Detector) {
        Some(Delay::Fixed(d)) => assert!(d.0.abs_diff(ms(70).0) < 1_000, "{d:?}"),
        other => panic!("expected a fixed phi deadline, got {other:?}"),
    }
}

// ----- Ring -----

/// Ring node `id` (5 nodes) follows leader 4 from t=0 (an Elected token of epoch 1).
fn ring_follower(id: NodeId, cfg: &RingConfig) -> Ring {
    let mut out = Out::default();
    let mut n = Ring::boot(&ctx(id, 0, cfg), None, &mut out);
    n.on_message(
        &ctx(id, 0, cfg),
        (id + 4) % 5,
        RingMsg::Elected {
            epoch: 1,
            leader: 4,
            seq: 0,
        },
        &mut out,
    );
    assert_eq!(n.status().leader, Some(4));
    assert_eq!(n.status().role, Role::Follower);
    n
}

#[test]
fn ring_stabilizer_holds_then_releases() {
    let cfg = RingConfig {
        stabilizer: FIVE_S,
        ..RingConfig::default()
    };
    let mut n = ring_follower(1, &cfg);
    let mut out = Out::default();
    n.on_timer(&ctx(1, 250, &cfg), RingTimer::Detector, &mut out);
    assert_eq!(n.status().role, Role::Follower, "held");
    assert_eq!(
        timer_set(&out, RingTimer::Detector),
        Some(Delay::Fixed(ms(4750)))
    );
    let mut out = Out::default();
    n.on_timer(&ctx(1, 5000, &cfg), RingTimer::Detector, &mut out);
    assert_eq!(n.status().role, Role::Candidate, "5 s after the change");
}

#[test]
fn ring_quorum_detector_needs_a_majority() {
    let cfg = RingConfig {
        detector: DetectorConfig {
            kind: DetectorKind::Quorum,
            ..DetectorConfig::default()
        },
        ..RingConfig::default()
    };
    let mut n = ring_follower(1, &cfg);
    let mut out = Out::default();
    n.on_timer(&ctx(1, 250, &cfg), RingTimer::Detector, &mut out);
    assert!(matches!(
        out.sent()[..],
        [(
            None,
            &RingMsg::SuspectQuery {
                leader: 4,
                round: 1
            }
        )]
    ));
    let mut out = Out::default();
    let yes = RingMsg::SuspectReply {
        round: 1,
        misses: true,
    };
    n.on_message(&ctx(1, 260, &cfg), 2, yes.clone(), &mut out);
    n.on_message(
        &ctx(1, 261, &cfg),
        3,
        RingMsg::SuspectReply {
            round: 1,
            misses: false,
        },
        &mut out,
    );
    assert_eq!(n.status().role, Role::Follower, "2 of 5");
    n.on_message(&ctx(1, 262, &cfg), 0, yes, &mut out);
    assert_eq!(n.status().role, Role::Candidate, "3 of 5: election");
}

// ----- Raft -----

/// Raft node `id` follows leader 4 (term 2) from its heartbeat at t=0.
fn raft_follower(id: NodeId, cfg: &RaftConfig) -> Raft {
    let mut out = Out::default();
    let mut n = Raft::boot(&ctx(id, 0, cfg), None, &mut out);
    n.on_message(
        &ctx(id, 0, cfg),
        4,
        RaftMsg::AppendEntries { term: 2 },
        &mut out,
    );
    assert_eq!(n.status().leader, Some(4));
    n
}

#[test]
fn raft_stabilizer_holds_a_follower_that_still_believes_in_its_leader() {
    let cfg = RaftConfig {
        stabilizer: FIVE_S,
        ..RaftConfig::default()
    };
    let mut n = raft_follower(1, &cfg);
    let mut out = Out::default();
    n.on_timer(&ctx(1, 300, &cfg), RaftTimer::Election, &mut out);
    assert_eq!((n.role(), n.term()), (Role::Follower, 2), "held");
    assert_eq!(
        timer_set(&out, RaftTimer::Election),
        Some(Delay::Fixed(ms(4700)))
    );
    let mut out = Out::default();
    n.on_timer(&ctx(1, 5000, &cfg), RaftTimer::Election, &mut out);
    assert_eq!((n.role(), n.term()), (Role::Candidate, 3));
}

#[test]
fn raft_a_deposed_leader_is_not_protected() {
    // Positively known gone: a RequestVote for term 3 deposes leader 4 (term 2); node 1
    // grants it and no longer believes in a leader, so its next timeout campaigns at once
    // even though leader 4 was accepted only 400 ms ago.
    let cfg = RaftConfig {
        stabilizer: FIVE_S,
        ..RaftConfig::default()
    };
    let mut n = raft_follower(1, &cfg);
    let mut out = Out::default();
    n.on_message(
        &ctx(1, 100, &cfg),
        2,
        RaftMsg::RequestVote {
            term: 3,
            last_log: LOG_UP_TO_DATE,
        },
        &mut out,
    );
    assert_eq!(n.status().leader, None);
    let mut out = Out::default();
    n.on_timer(&ctx(1, 400, &cfg), RaftTimer::Election, &mut out);
    assert_eq!((n.role(), n.term()), (Role::Candidate, 4));
}

#[test]
fn raft_phi_detector_adds_the_timeout_width_as_jitter() {
    // Heartbeats every 50 ms: crossing at 70 ms after the last (threshold 1.642828, as for
    // Bully); the draw is uniform in [70 ms, 70 ms + (300 - 150) ms].
    let cfg = RaftConfig {
        detector: DetectorConfig {
            kind: DetectorKind::Phi,
            phi_threshold: 1.642_828,
            ..DetectorConfig::default()
        },
        ..RaftConfig::default()
    };
    let mut n = raft_follower(1, &cfg);
    let mut out = Out::default();
    for k in 1..=3 {
        n.on_message(
            &ctx(1, 50 * k, &cfg),
            4,
            RaftMsg::AppendEntries { term: 2 },
            &mut out,
        );
    }
    match timer_set(&out, RaftTimer::Election) {
        Some(Delay::Uniform { min, max }) => {
            assert!(min.0.abs_diff(ms(70).0) < 1_000, "{min:?}");
            assert_eq!(max.0 - min.0, ms(150).0);
        }
        other => panic!("expected a uniform phi deadline, got {other:?}"),
    }
}

// ----- Whole runs and configuration -----

fn json_run(file: &str, sets: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "run",
        file,
        "--seed",
        "3",
        "--set",
        "duration=10s",
        "--format",
        "json",
    ];
    for s in sets {
        args.push("--set");
        args.push(s);
    }
    let out = electsim(&args);
    ok(&out);
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn explicit_defaults_change_nothing() {
    // detector = "timeout" and a zero window are the defaults: the same trace digest, and
    // no detector message kinds listed.
    let file = "scenarios/bully-leader-crash.toml";
    let plain = json_run(file, &[]);
    let explicit = json_run(
        file,
        &[
            "bully.detector=\"timeout\"",
            "stabilizer.min_leadership=\"0s\"",
        ],
    );
    assert_eq!(plain["trace_digest"], explicit["trace_digest"]);
    assert!(plain["messages_by_kind"].get("SuspectQuery").is_none());
    let quorum = json_run(file, &["bully.detector=\"quorum\""]);
    assert!(quorum["messages_by_kind"]["SuspectQuery"]["sent"].as_u64() > Some(0));
}

#[test]
fn the_stabilizer_slows_failover_after_a_fresh_leader_crashes() {
    // Bully's node 4 claims at boot and the others accept it within 10 ms; it crashes at
    // 1 s. Without the stabilizer a survivor suspects it after a 150-250 ms timeout and the
    // election takes one answer timeout (50 ms) plus delays: well under 500 ms. With a 5 s
    // window nobody may suspect it before 5 s on its own (drift-free) clock: >= 3.99 s.
    let file = "scenarios/stabilizer-failover.toml";
    for alg in ["bully", "ring", "raft"] {
        let a = format!("algorithm={alg}");
        let free = json_run(file, &[&a, "stabilizer.min_leadership=\"0s\""]);
        let held = json_run(file, &[&a, "stabilizer.min_leadership=\"5s\""]);
        let failover = |v: &serde_json::Value| v["failover_ms"]["max"].as_f64().unwrap();
        assert!(failover(&free) < 500.0, "{alg}: {}", failover(&free));
        assert!(failover(&held) >= 3990.0, "{alg}: {}", failover(&held));
        assert!(failover(&held) < 4600.0, "{alg}: {}", failover(&held));
    }
}

#[test]
fn bad_detector_settings_are_clear_errors() {
    let cases: &[(&str, &str)] = &[
        ("bully.detector=\"fuzzy\"", "bully.detector"),
        ("bully.phi_threshold=0", "`bully.phi_threshold`: 0"),
        ("ring.phi_window=0", "`ring.phi_window`: 0"),
        ("ring.quorum_wait=\"0s\"", "`ring.quorum_wait`"),
        ("raft.detector=\"quorum\"", "`raft.detector`: \"quorum\""),
        (
            "stabilizer.min_leadership=\"2days\"",
            "`stabilizer.min_leadership`",
        ),
    ];
    for (set, want) in cases {
        let out = electsim(&[
            "validate",
            "scenarios/bully-leader-crash.toml",
            "--set",
            set,
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{set}: {err}");
        assert!(err.contains(want), "{set}: {err}");
        assert!(!err.contains("panicked"), "{set}: {err}");
    }
}
