//! The famous lease failure, reproduced from the shipped scenarios: a leader paused for
//! longer than its session/lease timeout wakes up believing it still leads after the service
//! has expired it and elected a successor. Fencing must keep every stale action out.

use electsim::runner;
use electsim::scenario::{Assignment, Scenario, ScenarioFile};
use electsim::sim::metrics::RunMetrics;
use std::path::Path;

fn load(file: &str, sets: &[&str]) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    let f = ScenarioFile::read(&path).unwrap();
    let sets: Vec<Assignment> = sets
        .iter()
        .map(|s| Assignment::parse_set(s).unwrap())
        .collect();
    f.instantiate(&sets).unwrap()
}

fn runs(sc: &Scenario, seeds: u64) -> Vec<RunMetrics> {
    (1..=seeds)
        .map(|s| runner::run(sc, s, Vec::new()).unwrap().metrics)
        .collect()
}

#[test]
fn paused_etcd_leader_with_a_slow_clock_overlaps_its_successor() {
    let sc = load("etcd-pause.toml", &["etcd.fencing=false"]);
    for (i, m) in runs(&sc, 50).iter().enumerate() {
        let seed = i + 1;
        assert!(
            m.lease_overlap_ms > 0.0,
            "seed {seed}: lease overlap {}",
            m.lease_overlap_ms
        );
        assert!(
            m.split_brain_ms > 0.0,
            "seed {seed}: split brain {}",
            m.split_brain_ms
        );
        assert!(
            m.stale_actions_accepted >= 1,
            "seed {seed}: a stale write got through"
        );
        assert_eq!(
            m.stale_actions_rejected, 0,
            "seed {seed}: nothing rejects without fencing"
        );
        // The old leader learns from its first keepalive after waking: one round trip.
        assert!(
            m.lease_overlap_ms < 25.0,
            "seed {seed}: overlap {}",
            m.lease_overlap_ms
        );
        assert_eq!(m.leader_changes, 1, "seed {seed}");
    }
}

#[test]
fn fencing_removes_stale_accepted_actions_to_zero() {
    let sc = load("etcd-pause.toml", &["etcd.fencing=true"]);
    let ms = runs(&sc, 50);
    for (i, m) in ms.iter().enumerate() {
        assert_eq!(m.stale_actions_accepted, 0, "seed {}", i + 1);
        assert!(
            m.stale_actions_rejected >= 1,
            "seed {}: the stale action was tried and refused",
            i + 1
        );
    }
    // Fencing does not shorten the belief much (the rejection comes back as fast as the
    // keepalive answer), but no stale write is applied.
    assert!(ms.iter().all(|m| m.lease_overlap_ms > 0.0));
    // Same for ZooKeeper with its sequence number as token, with a client that ignores
    // disconnection.
    let sc = load(
        "gc-pause.toml",
        &[
            "algorithm=zookeeper",
            "zookeeper.client_step_down=false",
            "zookeeper.fencing=true",
        ],
    );
    for (i, m) in runs(&sc, 20).iter().enumerate() {
        assert_eq!(m.stale_actions_accepted, 0, "zookeeper seed {}", i + 1);
        assert!(m.stale_actions_rejected >= 1, "zookeeper seed {}", i + 1);
    }
}

#[test]
fn accurate_clocks_and_client_deadlines_prevent_the_overlap_under_a_plain_pause() {
    // gc-pause: 4 s pauses, longer than ZooKeeper's 2 s session and etcd's 3 s lease. A
    // client that checks its deadline on an accurate clock gives up the moment it wakes.
    for alg in ["zookeeper", "etcd"] {
        let sc = load("gc-pause.toml", &[&format!("algorithm={alg}")]);
        for (i, m) in runs(&sc, 30).iter().enumerate() {
            let seed = i + 1;
            assert_eq!(m.lease_overlap_ms, 0.0, "{alg} seed {seed}");
            assert_eq!(m.split_brain_ms, 0.0, "{alg} seed {seed}");
            assert_eq!(m.stale_actions_accepted, 0, "{alg} seed {seed}");
            assert_eq!(
                m.leader_changes, 2,
                "{alg} seed {seed}: both pauses cost the leadership"
            );
            assert!(!m.leaderless_at_end, "{alg} seed {seed}");
        }
    }
}

#[test]
fn zookeeper_client_that_ignores_disconnection_acts_after_its_session_expired() {
    let sc = load(
        "gc-pause.toml",
        &["algorithm=zookeeper", "zookeeper.client_step_down=false"],
    );
    for (i, m) in runs(&sc, 30).iter().enumerate() {
        let seed = i + 1;
        assert!(m.lease_overlap_ms > 0.0, "seed {seed}");
        assert!(m.split_brain_ms > 0.0, "seed {seed}");
        assert_eq!(m.lease_overlap_incidents, 2, "seed {seed}: one per pause");
        assert!(
            m.stale_actions_accepted >= 2,
            "seed {seed}: {}",
            m.stale_actions_accepted
        );
    }
}

#[test]
fn shipped_recipe_scenarios_run_and_elect() {
    for (file, alg) in [
        ("zookeeper-leader-crash.toml", "zookeeper"),
        ("zookeeper-herd.toml", "zookeeper"),
        ("etcd-leader-crash.toml", "etcd"),
        ("etcd-pause.toml", "etcd"),
        ("gc-pause.toml", "zookeeper"),
        ("gc-pause.toml", "etcd"),
        ("gc-pause.toml", "raft"),
    ] {
        let sc = load(file, &[&format!("algorithm={alg}")]);
        let o = runner::run(&sc, sc.seed, Vec::new()).unwrap();
        assert!(
            o.metrics.elections >= 2,
            "{file}/{alg}: {:?}",
            o.metrics.elections
        );
        assert_eq!(o.violation_count, 0, "{file}/{alg}");
    }
}
