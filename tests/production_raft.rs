//! tikv/raft-rs as the built-in algorithm `raft-rs`: elections under leader crashes,
//! electsim owning every randomized election timeout (the thread RNG never decides), the
//! Ready loop's persistence across crashes, located config errors, and the commands that run
//! it (sweep mixing it with `raft`, explore, verify's refusal, check).

mod common;
use common::{electsim, fresh_dir, ok, read, stderr};

use electsim::protocols::raft_rs::{RaftRs, RaftRsConfig};
use electsim::runner;
use electsim::scenario::{Assignment, Scenario, ScenarioFile};
use electsim::sim::rng::{SimRng, Stream};
use electsim::sim::{Ctx, FaultAction, NodeStatus, Out, Protocol, Role, SimTime, Target};
use std::path::Path;

const SCENARIO: &str = "scenarios/raft-rs-leader-crash.toml";

fn scenario(sets: &[&str]) -> Scenario {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sets: Vec<Assignment> = sets
        .iter()
        .map(|s| Assignment::parse_set(s).unwrap())
        .collect();
    ScenarioFile::read(&root.join(SCENARIO))
        .unwrap()
        .instantiate(&sets)
        .unwrap()
}

fn ctx(id: u32, nodes: u32, config: &RaftRsConfig) -> Ctx<'_, RaftRsConfig> {
    Ctx {
        id,
        nodes,
        service: 0,
        now: SimTime::ZERO,
        config,
    }
}

/// The draws a node booted on `stream` must use: boot forks its own stream from one word of
/// the node's, then draws uniformly in [min, max) ticks.
fn expected_draws(seed: u64, id: u32, c: &RaftRsConfig, k: usize) -> Vec<usize> {
    let mut node_stream = SimRng::new(seed, Stream::Node(id));
    let mut own = SimRng::new(node_stream.next_u64(), Stream::Node(id));
    let (min, max) = (c.effective_min() as u64, c.effective_max() as u64);
    (0..k)
        .map(|_| own.range_inclusive(min, max - 1) as usize)
        .collect()
}

/// Tick `node` alone (a 3-node cluster whose peers never answer) until its status changes;
/// returns the number of ticks and the new status.
fn ticks_until_change(node: &mut RaftRs, c: &RaftRsConfig) -> (usize, NodeStatus) {
    let before = node.status();
    let mut out = Out::default();
    for n in 1..=1000 {
        node.on_timer(
            &ctx(0, 3, c),
            electsim::protocols::raft_rs::RaftRsTimer::Tick,
            &mut out,
        );
        out.clear();
        if node.status() != before {
            return (n, node.status());
        }
    }
    panic!("no campaign in 1000 ticks");
}

/// raft-rs draws from `thread_rng` at every reset; electsim must overwrite each draw with its
/// own. If a thread-RNG draw survived, the campaign would start after raft-rs's tick count,
/// not electsim's: over 20 seeds x 3 resets that would be noticed (a chance agreement is
/// 1/20 per reset).
#[test]
fn every_election_timeout_is_the_one_drawn_from_the_nodes_seeded_stream() {
    let c = RaftRsConfig::default();
    for seed in 1..=20 {
        let want = expected_draws(seed, 0, &c, 4);
        let mut rng = SimRng::new(seed, Stream::Node(0));
        let mut node = RaftRs::boot_seeded(&ctx(0, 3, &c), None, &mut Out::default(), &mut rng);
        assert_eq!(
            node.randomized_election_timeout(),
            want[0],
            "seed {seed}: boot"
        );
        // Follower -> candidate (term 1) after exactly want[0] ticks, then candidate ->
        // candidate (term 2) after want[1]: each reset drew the next value of the stream.
        let (n, s) = ticks_until_change(&mut node, &c);
        assert_eq!(
            (n, s.role, s.term),
            (want[0], Role::Candidate, 1),
            "seed {seed}"
        );
        assert_eq!(node.randomized_election_timeout(), want[1], "seed {seed}");
        let (n, s) = ticks_until_change(&mut node, &c);
        assert_eq!(
            (n, s.role, s.term),
            (want[1], Role::Candidate, 2),
            "seed {seed}"
        );
        assert_eq!(node.randomized_election_timeout(), want[2], "seed {seed}");
    }
}

/// The one reset that changes neither role nor term: a pre-candidate whose pre-vote timed
/// out becomes pre-candidate again. Its new timeout must still be electsim's.
#[test]
fn a_pre_candidates_restart_draws_from_the_stream_too() {
    let c = RaftRsConfig {
        pre_vote: true,
        ..RaftRsConfig::default()
    };
    for seed in 1..=20 {
        let want = expected_draws(seed, 0, &c, 4);
        let mut rng = SimRng::new(seed, Stream::Node(0));
        let mut node = RaftRs::boot_seeded(&ctx(0, 3, &c), None, &mut Out::default(), &mut rng);
        let (n, s) = ticks_until_change(&mut node, &c);
        assert_eq!(
            (n, s.role, s.term),
            (want[0], Role::PreCandidate, 0),
            "seed {seed}"
        );
        let mut out = Out::default();
        for _ in 0..want[1] {
            node.on_timer(
                &ctx(0, 3, &c),
                electsim::protocols::raft_rs::RaftRsTimer::Tick,
                &mut out,
            );
        }
        assert_eq!(node.status().role, Role::PreCandidate, "seed {seed}");
        assert_eq!(
            node.randomized_election_timeout(),
            want[2],
            "seed {seed}: restart"
        );
    }
}

/// Same seed, same digest: run after run and on four threads at once (each thread has its
/// own `thread_rng`, so a leak would split the digests).
#[test]
fn same_seed_gives_the_same_digest_across_runs_and_threads() {
    let sc = scenario(&["duration=20s"]);
    let digest = |seed| runner::run(&sc, seed, Vec::new()).unwrap().trace_digest;
    let first = digest(3);
    assert_eq!(digest(3), first);
    let threads: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|_| s.spawn(|| digest(3))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        threads.iter().all(|d| *d == first),
        "{threads:?} vs {first}"
    );
    let seeds: std::collections::BTreeSet<String> = (1..=10).map(digest).collect();
    assert_eq!(seeds.len(), 10, "10 seeds should give 10 distinct traces");
}

/// Leader crash every 2 s for 10 s, 200 seeds: a leader is elected after every crash (five
/// elections: the first plus one per crash at 2, 4, 6, 8 s), and no two nodes ever lead the
/// same term.
#[test]
fn leader_crashes_elect_a_new_leader_and_no_term_has_two_leaders() {
    for sets in [
        vec!["duration=10s"],
        vec![
            "duration=10s",
            "raft-rs.pre_vote=true",
            "raft-rs.check_quorum=true",
        ],
    ] {
        let sc = scenario(&sets);
        for seed in 1..=200 {
            let o = runner::run(&sc, seed, Vec::new()).unwrap();
            let m = &o.metrics;
            assert!(
                m.elections >= 5,
                "{sets:?} seed {seed}: {} elections",
                m.elections
            );
            assert_eq!(m.same_term_leaders, 0, "{sets:?} seed {seed}");
            assert_eq!(
                o.violation_count, 0,
                "{sets:?} seed {seed}: {:?}",
                o.violations
            );
        }
    }
}

/// Status maps raft ids (from 1) onto node ids (from 0), and a crash loses only what raft-rs
/// had not written: the restarted node comes back with the term and vote it persisted.
#[test]
fn status_maps_ids_and_restart_rebuilds_from_durable_state() {
    let sc = scenario(&["duration=10s", "fault=[]"]);
    let mut sim = runner::build(&sc, 5, Vec::new()).unwrap();
    sim.run_until(SimTime(1_000_000_000)).unwrap();
    let leader = sim.current_leader().expect("a leader after 1 s");
    assert!(leader < 5);
    let lead = sim.status(leader);
    assert_eq!(
        (lead.role, lead.leader, lead.voted_for),
        (Role::Leader, Some(leader), Some(leader))
    );
    for n in (0..5).filter(|&n| n != leader) {
        let s = sim.status(n);
        assert_eq!(
            (s.role, s.term, s.leader),
            (Role::Follower, lead.term, Some(leader)),
            "node {n}"
        );
        assert!(s.voted_for.is_none_or(|v| v < 5), "node {n}: {s:?}");
    }
    let follower = (leader + 1) % 5;
    let before = sim.status(follower);
    sim.apply_fault(FaultAction::Crash {
        target: Target::Node(follower),
        restart_after: None,
    });
    assert_eq!(sim.status(follower).role, Role::Down);
    sim.apply_fault(FaultAction::Restart {
        target: Target::Node(follower),
    });
    let after = sim.status(follower);
    assert_eq!(
        (after.role, after.term, after.voted_for),
        (Role::Follower, before.term, before.voted_for)
    );
    assert_eq!(after.leader, None, "the leader is volatile");
    sim.run_until(SimTime(2_000_000_000)).unwrap();
    assert_eq!(
        sim.status(follower).leader,
        Some(leader),
        "rejoined the same leader"
    );
}

#[test]
fn raft_rs_config_errors_point_into_the_file_and_exit_2() {
    let dir = fresh_dir("production_raft", "config_error");
    let file = dir.join("bad.toml");
    std::fs::write(
        &file,
        "algorithm = \"raft-rs\"\nnodes = 3\n\n[raft-rs]\nelection_tick = 2\n",
    )
    .unwrap();
    let o = electsim(&["run", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("bad.toml:5:"), "{e}");
    assert!(e.contains("raft-rs.election_tick"), "{e}");
    assert!(
        e.contains("election tick must be greater than heartbeat tick"),
        "{e}"
    );
    assert!(!e.contains("panicked"), "{e}");
}

#[test]
fn list_shows_raft_rs_with_its_parameters() {
    let o = electsim(&["list"]);
    ok(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    for key in [
        "raft-rs.tick",
        "raft-rs.election_tick",
        "raft-rs.heartbeat_tick",
        "raft-rs.min_election_tick",
        "raft-rs.max_election_tick",
        "raft-rs.pre_vote",
        "raft-rs.check_quorum",
    ] {
        assert!(text.contains(key), "`electsim list` lacks {key}");
    }
}

#[test]
fn verify_refuses_raft_rs_and_says_why() {
    let o = electsim(&["verify", SCENARIO, "--set", "nodes=3"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("neither Clone nor Hash"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn check_passes_and_explore_runs_it() {
    ok(&electsim(&["check", SCENARIO, "--set", "duration=10s"]));
    let dir = fresh_dir("production_raft", "explore");
    let o = electsim(&[
        "explore",
        SCENARIO,
        "--set",
        "duration=10s",
        "--runs",
        "50",
        "--property",
        "election_safety",
        "--out",
        dir.to_str().unwrap(),
    ]);
    ok(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("for election_safety: 0 violation(s)"),
        "{text}"
    );
    // Without check_quorum a leader cut off by a partition keeps its role: split brain,
    // found and shrunk to a replayable repro.
    let o = electsim(&[
        "explore",
        SCENARIO,
        "--set",
        "duration=10s",
        "--runs",
        "200",
        "--property",
        "split_brain",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let repro = common::names(&dir)
        .into_iter()
        .find(|n| n.starts_with("repro-") && n.ends_with(".toml"))
        .expect("a repro file");
    let text = read(&dir.join(&repro));
    assert!(text.contains("algorithm = \"raft-rs\""), "{text}");
    ok(&electsim(&["run", dir.join(&repro).to_str().unwrap()]));
}

/// One `algorithm` axis mixing electsim's Raft and raft-rs: byte-identical CSV for 1 and 2
/// jobs, and both algorithms in the rows.
#[test]
fn a_sweep_mixes_raft_and_raft_rs_byte_identically_for_any_jobs() {
    let mut csv = Vec::new();
    for jobs in ["1", "2"] {
        let dir = fresh_dir("production_raft", &format!("sweep-{jobs}"));
        let o = electsim(&[
            "sweep",
            SCENARIO,
            "--set",
            "duration=6s",
            "--set",
            "sweep.algorithm=[\"raft\", \"raft-rs\"]",
            "--runs",
            "4",
            "--jobs",
            jobs,
            "--no-charts",
            "--quiet",
            "--out",
            dir.to_str().unwrap(),
        ]);
        ok(&o);
        csv.push((read(&dir.join("runs.csv")), read(&dir.join("summary.csv"))));
    }
    assert_eq!(csv[0], csv[1]);
    let runs = &csv[0].0;
    assert_eq!(
        runs.lines().filter(|l| l.contains(",raft-rs,")).count(),
        4,
        "{runs}"
    );
    assert_eq!(
        runs.lines().filter(|l| l.contains(",raft,")).count(),
        4,
        "{runs}"
    );
}
