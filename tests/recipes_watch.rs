//! ZooKeeper / etcd recipes: watch fan-out (predecessor watches vs the herd), leadership
//! order by revision, and session expiry, on the full engine.

use electsim::runner::{self, DynSim};
use electsim::scenario::{Assignment, ScenarioFile};
use electsim::sim::{FaultAction, NodeId, Role, SimDuration, SimTime, Target};
use std::path::Path;

fn build(sets: &[String], seed: u64) -> Box<dyn DynSim> {
    let base = "name = \"test\"\nduration = \"1h\"\n[network]\ndelay = { constant = \"5ms\" }\n";
    let file = ScenarioFile::from_text(Path::new("<test>"), base.to_string()).unwrap();
    let sets: Vec<Assignment> = sets
        .iter()
        .map(|s| Assignment::parse_set(s).unwrap())
        .collect();
    let sc = file.instantiate(&sets).unwrap();
    runner::build(&sc, seed, Vec::new()).unwrap()
}

fn ms(v: u64) -> SimTime {
    SimTime(v * 1_000_000)
}

fn sent(sim: &dyn DynSim, kind: &str) -> u64 {
    sim.metrics_now()
        .messages_by_kind
        .get(kind)
        .map_or(0, |k| k.sent)
}

fn crash(sim: &mut dyn DynSim, n: NodeId) {
    sim.apply_fault(FaultAction::Crash {
        target: Target::Node(n),
        restart_after: None,
    });
}

/// Crash the leader of a settled cluster and return (watch notifications caused, old, new leader).
fn leader_crash_notifications(sets: &[String], ttl_ms: u64) -> (u64, NodeId, Option<NodeId>) {
    let mut sim = build(sets, 1);
    sim.run_until(ms(2000)).unwrap();
    let old = sim.current_leader().expect("a leader after 2 s");
    let before = sent(sim.as_ref(), "WatchEvent");
    crash(sim.as_mut(), old);
    sim.run_until(ms(2000 + ttl_ms + 1000)).unwrap();
    (
        sent(sim.as_ref(), "WatchEvent") - before,
        old,
        sim.current_leader(),
    )
}

#[test]
fn predecessor_watches_notify_one_contender_and_the_herd_notifies_all_others() {
    for n in [5u32, 9, 17, 33] {
        for herd in [false, true] {
            let sets = vec![
                "algorithm=zookeeper".to_string(),
                format!("nodes={n}"),
                format!("zookeeper.herd={herd}"),
            ];
            let (notes, old, new) = leader_crash_notifications(&sets, 2000);
            let expected = if herd { u64::from(n) - 1 } else { 1 };
            assert_eq!(
                notes, expected,
                "n={n} herd={herd}: WatchEvents caused by one leader crash"
            );
            assert!(
                new.is_some_and(|l| l != old),
                "n={n} herd={herd}: a new leader, got {new:?}"
            );
        }
        let sets = vec!["algorithm=etcd".to_string(), format!("nodes={n}")];
        let (notes, old, new) = leader_crash_notifications(&sets, 3000);
        assert_eq!(
            notes, 1,
            "etcd n={n}: waitDeletes watches only the key just before"
        );
        assert!(new.is_some_and(|l| l != old));
    }
}

#[test]
fn leadership_passes_in_revision_order() {
    for alg in ["zookeeper", "etcd"] {
        for seed in 1..=5 {
            let sets = vec![
                format!("algorithm={alg}"),
                "nodes=5".to_string(),
                "network.delay={uniform=[\"1ms\",\"20ms\"]}".to_string(),
            ];
            let mut sim = build(&sets, seed);
            sim.run_until(ms(1000)).unwrap();
            // Every contender's term is its revision; the queue order is the revision order.
            let mut queue: Vec<(u64, NodeId)> = (0..5).map(|n| (sim.status(n).term, n)).collect();
            queue.sort_unstable();
            assert!(
                queue.iter().all(|&(t, _)| t > 0),
                "{alg} seed {seed}: all joined: {queue:?}"
            );
            let mut t = 1000;
            for (i, &(rev, n)) in queue.iter().enumerate() {
                let leader = sim.current_leader();
                assert_eq!(
                    leader,
                    Some(n),
                    "{alg} seed {seed}: leader #{i} should hold revision {rev}"
                );
                assert_eq!(sim.status(n).role, Role::Leader);
                crash(sim.as_mut(), n);
                t += 5000;
                sim.run_until(ms(t)).unwrap();
            }
            assert_eq!(sim.current_leader(), None, "{alg}: everyone crashed");
        }
    }
}

#[test]
fn a_contender_cut_off_from_the_service_loses_its_session_and_rejoins_at_the_back() {
    for (alg, ttl) in [("zookeeper", 2000), ("etcd", 3000)] {
        let sets = vec![format!("algorithm={alg}"), "nodes=5".to_string()];
        let mut sim = build(&sets, 2);
        sim.run_until(ms(1000)).unwrap();
        let leader = sim.current_leader().unwrap();
        let f = (0..5).find(|&n| n != leader).unwrap();
        let rev_before = sim.status(f).term;
        // Cut f from the service (id 5) only; it still reaches the other contenders.
        sim.apply_fault(FaultAction::Cut {
            from: Target::Node(f),
            to: Target::Node(5),
            heal_after: None,
        });
        sim.apply_fault(FaultAction::Cut {
            from: Target::Node(5),
            to: Target::Node(f),
            heal_after: None,
        });
        sim.run_until(ms(1000 + ttl + 100)).unwrap();
        let s = sim.status(f);
        assert_eq!(
            (s.role, s.leader),
            (Role::Follower, None),
            "{alg}: session given up locally: {s:?}"
        );
        assert_eq!(
            sim.current_leader(),
            Some(leader),
            "{alg}: the leader is unaffected"
        );
        sim.apply_fault(FaultAction::Heal);
        sim.run_until(ms(1000 + 2 * ttl + 500)).unwrap();
        let s = sim.status(f);
        assert_eq!(s.role, Role::Follower, "{alg}: rejoined");
        assert_eq!(
            s.leader,
            Some(leader),
            "{alg}: follows the unchanged leader"
        );
        assert!(
            s.term > rev_before,
            "{alg}: a new key behind everyone ({} -> {})",
            rev_before,
            s.term
        );
        assert_eq!(sim.metrics_now().split_brain_ms, 0.0);
    }
}

#[test]
fn a_leader_cut_off_from_the_service_steps_down_and_is_replaced() {
    for (alg, ttl) in [("zookeeper", 2000u64), ("etcd", 3000)] {
        let sets = vec![format!("algorithm={alg}"), "nodes=5".to_string()];
        let mut sim = build(&sets, 3);
        sim.run_until(ms(1000)).unwrap();
        let old = sim.current_leader().unwrap();
        sim.apply_fault(FaultAction::Partition {
            groups: vec![vec![old]],
            heal_after: None,
        });
        sim.run_until(ms(1000 + ttl + 1000)).unwrap();
        let new = sim.current_leader();
        assert!(
            new.is_some_and(|l| l != old),
            "{alg}: replaced, got {new:?}"
        );
        assert_ne!(
            sim.status(old).role,
            Role::Leader,
            "{alg}: the cut-off leader gave up"
        );
        let m = sim.metrics_now();
        // The client measures its deadline from the last response it received, the service
        // from the last ping it received: the client is late by about one network delay.
        assert!(
            m.lease_overlap_ms > 0.0 && m.lease_overlap_ms < 20.0,
            "{alg}: overlap {}",
            m.lease_overlap_ms
        );
        assert_eq!(
            m.split_brain_ms, 0.0,
            "{alg}: the successor needs a notification and a read first"
        );
    }
}

#[test]
fn replicated_service_survives_the_loss_of_its_primary() {
    for alg in ["zookeeper", "etcd"] {
        for replicas in [3u32, 5] {
            let sets = vec![
                format!("algorithm={alg}"),
                "nodes=5".to_string(),
                format!("service.replicas={replicas}"),
            ];
            let mut sim = build(&sets, 4);
            sim.run_until(ms(2000)).unwrap();
            let leader = sim
                .current_leader()
                .expect("elected through the replicated service");
            let primary = (5..5 + replicas)
                .find(|&r| sim.status(r).term > 0)
                .expect("a primary");
            assert_eq!(sim.status(primary).role, Role::Service);
            assert_eq!(
                sim.status(primary).leader,
                Some(leader),
                "the primary names the leader"
            );
            crash(sim.as_mut(), primary);
            sim.run_until(ms(4000)).unwrap();
            let next = (5..5 + replicas).find(|&r| sim.status(r).term > 0);
            assert!(
                next.is_some_and(|p| p != primary),
                "{alg}/{replicas}: a new primary"
            );
            assert_eq!(
                sim.current_leader(),
                Some(leader),
                "{alg}/{replicas}: sessions survived the failover"
            );
            let m = sim.metrics_now();
            assert_eq!(
                (m.leader_changes, m.split_brain_ms, m.lease_overlap_ms),
                (0, 0.0, 0.0)
            );
        }
    }
}

#[test]
fn replicated_service_without_a_majority_answers_nobody() {
    let sets = vec![
        "algorithm=etcd".to_string(),
        "nodes=3".to_string(),
        "service.replicas=3".to_string(),
    ];
    let mut sim = build(&sets, 5);
    sim.run_until(ms(2000)).unwrap();
    let leader = sim.current_leader().unwrap();
    // Two of three replicas crash: the survivor can neither commit nor elect itself.
    let primary = (3..6).find(|&r| sim.status(r).term > 0).unwrap();
    let other = (3..6).find(|&r| r != primary).unwrap();
    crash(sim.as_mut(), other);
    crash(
        sim.as_mut(),
        (3..6).find(|&r| r != primary && r != other).unwrap(),
    );
    let pongs = sent(sim.as_ref(), "LeaseKeepAliveResponse");
    sim.run_until(ms(2000 + 3000 + 500)).unwrap();
    assert_eq!(
        sent(sim.as_ref(), "LeaseKeepAliveResponse"),
        pongs,
        "no keepalive is answered"
    );
    assert_ne!(
        sim.status(leader).role,
        Role::Leader,
        "the leader's lease ran out locally"
    );
    assert_eq!(sim.current_leader(), None);
    let _ = SimDuration::ZERO;
}

#[test]
fn a_primary_cut_off_from_its_replicas_is_replaced_without_disturbing_the_leader() {
    for alg in ["zookeeper", "etcd"] {
        let sets = vec![
            format!("algorithm={alg}"),
            "nodes=3".to_string(),
            "service.replicas=3".to_string(),
        ];
        let mut sim = build(&sets, 6);
        sim.run_until(ms(2000)).unwrap();
        let leader = sim.current_leader().unwrap();
        let old = (3..6).find(|&r| sim.status(r).term > 0).unwrap();
        let old_epoch = sim.status(old).term;
        sim.apply_fault(FaultAction::Partition {
            groups: vec![vec![old]],
            heal_after: None,
        });
        sim.run_until(ms(5000)).unwrap();
        let new = (3..6).find(|&r| sim.status(r).term > old_epoch);
        assert!(
            new.is_some_and(|p| p != old),
            "{alg}: a new primary in a higher epoch"
        );
        assert_eq!(
            sim.status(old).term,
            0,
            "{alg}: the cut-off primary resigned (check-quorum)"
        );
        assert_eq!(
            sim.current_leader(),
            Some(leader),
            "{alg}: sessions moved to the new primary"
        );
        let m = sim.metrics_now();
        assert_eq!(
            (m.leader_changes, m.split_brain_ms, m.lease_overlap_ms),
            (0, 0.0, 0.0),
            "{alg}"
        );
    }
}

#[test]
fn a_deposed_primary_keeps_its_side_of_a_partition_in_the_dark() {
    // The primary and the leading contender end up in the minority: the primary can no
    // longer commit, so it answers nothing (not even pings); the leader's lease runs out on
    // its own clock before the new primary (which restarted every session clock at takeover)
    // expires it, and a contender on the majority side takes over. No overlap, no split brain.
    for alg in ["zookeeper", "etcd"] {
        let sets = vec![
            format!("algorithm={alg}"),
            "nodes=3".to_string(),
            "service.replicas=3".to_string(),
        ];
        let mut sim = build(&sets, 7);
        sim.run_until(ms(2000)).unwrap();
        let leader = sim.current_leader().unwrap();
        let primary = (3..6).find(|&r| sim.status(r).term > 0).unwrap();
        let answered = |sim: &dyn DynSim| {
            let m = sim.metrics_now();
            ["PingResponse", "LeaseKeepAliveResponse"]
                .iter()
                .map(|k| m.messages_by_kind.get(*k).map_or(0, |c| c.sent))
                .sum::<u64>()
        };
        sim.apply_fault(FaultAction::Partition {
            groups: vec![vec![leader, primary]],
            heal_after: None,
        });
        sim.run_until(ms(2020)).unwrap();
        let before = answered(sim.as_ref());
        sim.run_until(ms(9000)).unwrap();
        let new = sim.current_leader();
        assert!(
            new.is_some_and(|l| l != leader),
            "{alg}: the majority side elected {new:?}"
        );
        assert_ne!(sim.status(leader).role, Role::Leader, "{alg}");
        let m = sim.metrics_now();
        assert_eq!((m.split_brain_ms, m.lease_overlap_ms), (0.0, 0.0), "{alg}");
        assert!(
            answered(sim.as_ref()) > before,
            "{alg}: the new primary answers the majority side"
        );
        assert_eq!(
            sim.status(primary).term,
            0,
            "{alg}: the old primary resigned"
        );
    }
}
