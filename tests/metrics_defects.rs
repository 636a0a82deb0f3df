//! Issue 12: each metric or model defect an independent recomputation found, as a
//! hand-computed regression case run through the whole engine.

mod common;
use common::scenario_from_text;

use electsim::sim::metrics::RunMetrics;

fn run(text: &str, seed: u64) -> RunMetrics {
    let sc = scenario_from_text(text);
    electsim::runner::run(&sc, seed, Vec::new())
        .unwrap()
        .metrics
}

/// Defect 1: a `clock_drift` fault changes the rate from the moment it fires; the reading
/// does not jump by `t0 x drift` (3 s at 20 s and 150 000 ppm). A 15 % fast leader clock
/// only shortens its own session-timeout judgement; with pings every third of the 2 s
/// timeout it keeps its session, so there is one election (boot) and no failover, as with
/// the same drift from t = 0 or from 2 s.
#[test]
fn clock_drift_fault_is_continuous() {
    let base = r#"
        algorithm = "zookeeper"
        nodes = 5
        duration = "40s"
        [network]
        delay = { constant = "5ms" }
        [zookeeper]
        session_timeout = "2s"
    "#;
    for fault_at in ["2s", "20s"] {
        let text = format!(
            "{base}\n[[fault]]\nat = \"{fault_at}\"\nclock_drift = \"leader\"\ndrift_ppm = 150000.0\n"
        );
        let m = run(&text, 1);
        assert_eq!(m.elections, 1, "drift from {fault_at}: boot election only");
        assert_eq!(m.failover_ms.count, 0, "drift from {fault_at}");
    }
    let from_start = format!("{base}\n[[clock]]\nnode = 0\ndrift_ppm = 150000.0\n");
    assert_eq!(run(&from_start, 1).elections, 1);
}

/// Defect 2: `heal_after` undoes its own fault only. The partition [[3,4],[0,1,2]] lasts
/// from 1 s to 5 s; the 100 ms cut inside it must not heal it. The old leader (in the
/// minority) keeps its role until the heal while the majority elects a new one after one
/// election timeout (150-300 ms): about 4 s - 0.2 s of split brain, not 405 ms.
#[test]
fn heal_after_heals_only_its_own_fault() {
    let text = r#"
        algorithm = "raft"
        nodes = 5
        duration = "10s"
        [network]
        delay = { constant = "5ms" }
        [[fault]]
        at = "1s"
        partition = [[3, 4], [0, 1, 2]]
        heal_after = "4s"
        [[fault]]
        at = "1.5s"
        cut = [0, 1]
        heal_after = "100ms"
    "#;
    let m = run(text, 1);
    assert_eq!(m.split_brain_incidents, 1);
    assert!(
        (3600.0..=3900.0).contains(&m.split_brain_ms),
        "split brain {} ms: the partition lasts until 5 s",
        m.split_brain_ms
    );
}

/// Defect 3: three of five nodes crash at 1 s; the interval that never ends in an election
/// must not add its (unbounded) vote traffic to `messages_per_election`. The one completed
/// election (boot) took 13 messages: a first candidate's 4 RequestVotes and 4 replies, plus
/// 5 messages of a competing candidacy.
#[test]
fn messages_per_election_counts_completed_elections_only() {
    let text = r#"
        algorithm = "raft"
        nodes = 5
        duration = "10s"
        [[fault]]
        at = "1s"
        crash = 0
        [[fault]]
        at = "1s"
        crash = 1
        [[fault]]
        at = "1s"
        crash = 3
    "#;
    let m = run(text, 1);
    assert_eq!(m.elections, 1);
    assert!(m.leaderless_at_end);
    assert_eq!(m.messages_per_election, Some(13.0));
}

/// Defects 4 and 5: one leader crash gives one detection and one convergence sample (the
/// boot interval is not a loss), and for the service recipes detection is the survivors
/// reacting to the expiry, not the crashed leader reconnecting after `restart_after`.
#[test]
fn detect_and_converge_sample_the_loss_only() {
    for (alg, expiry_ms) in [
        ("raft", 0.0),
        ("bully", 0.0),
        ("ring", 0.0),
        ("zookeeper", 2000.0),
        ("etcd", 3000.0),
    ] {
        let text = format!(
            r#"
            algorithm = "{alg}"
            nodes = 5
            duration = "12s"
            [network]
            delay = {{ constant = "2ms" }}
            [[fault]]
            at = "4s"
            crash = "leader"
            restart_after = "1s"
            "#
        );
        let m = run(&text, 3);
        assert_eq!(m.detect_ms.count, 1, "{alg}: one loss, one detection");
        // Bully's restarted highest id pre-empts the interim leader: a second, real loss.
        assert!(
            m.converge_ms.count >= 1 && m.converge_ms.count <= m.failover_ms.count,
            "{alg}: converge {:?} failover {:?}",
            m.converge_ms,
            m.failover_ms
        );
        let detect = m.detect_ms.max.unwrap();
        assert_ne!(detect, 1000.0, "{alg}: detection is not the restart");
        // A survivor learns of the loss no sooner than the session/lease expires (ping
        // cadence: a third of the timeout, so within that of the expiry).
        assert!(
            detect >= expiry_ms * 2.0 / 3.0 && detect <= expiry_ms + 1000.0,
            "{alg}: detect {detect} ms, expiry {expiry_ms} ms"
        );
    }
}
