//! `electsim verify`: the findings docs/verify.md reports, as assertions, and the
//! counterexamples replayed through the ordinary engine. Small bounds keep this fast; the
//! deeper searches of the docs are `#[ignore]`d.

mod common;

use electsim::scenario::{Assignment, ScenarioFile};
use electsim::verify::properties::Property;
use electsim::verify::search::{Stop, Strategy};
use electsim::verify::state::Budget;
use electsim::verify::{VerifyOptions, VerifyReport, report, verify};
use std::path::Path;

fn scenario(path: &str, sets: &[&str]) -> (electsim::scenario::Scenario, Vec<Assignment>) {
    let file = ScenarioFile::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap();
    let sets: Vec<Assignment> = sets
        .iter()
        .map(|s| Assignment::parse_set(s).unwrap())
        .collect();
    (file.instantiate(&sets).unwrap(), sets)
}

fn opts(depth: u32, faults: &str, props: &[Property]) -> VerifyOptions {
    let mut o = VerifyOptions::default();
    o.bounds.depth = depth;
    o.budget = Budget::parse(faults).unwrap();
    o.properties = props.to_vec();
    o
}

fn run(path: &str, sets: &[&str], o: &VerifyOptions) -> (VerifyReport, Vec<Assignment>) {
    let (sc, sets) = scenario(path, sets);
    (verify(&sc, o).unwrap(), sets)
}

const RAFT: &str = "scenarios/raft-leader-crash.toml";

#[test]
fn raft_persisting_the_vote_has_no_violation_within_depth_7() {
    let o = opts(7, "crash=1,restart=1", &[]);
    let (r, _) = run(RAFT, &["nodes=3"], &o);
    assert_eq!(
        r.result.as_ref().err(),
        Some(&Stop::Depth),
        "{:?}",
        r.result
    );
    assert!(r.stats.distinct > 10_000, "{:?}", r.stats);
}

#[test]
fn raft_without_persist_vote_breaks_election_safety_in_8_steps_shortest() {
    let o = opts(12, "crash=1,restart=1", &[Property::ElectionSafety]);
    let (r, sets) = run(RAFT, &["nodes=3", "raft.persist_vote=false"], &o);
    let cx = r.result.as_ref().expect("a counterexample");
    assert_eq!(cx.property, Property::ElectionSafety);
    // Breadth-first: no shorter schedule exists. Elect 0 (fire, request, grant), start 2's
    // campaign, crash and restart 0 (it forgets its vote), 0 votes for 2, 2 leads.
    assert_eq!(cx.steps.len(), 8, "{:#?}", cx.steps);
    assert!(cx.steps.contains(&"crash 0".to_string()), "{:#?}", cx.steps);
    // The script replays through the engine, whose own invariants see the violation.
    let script = report::script(Path::new(RAFT), &sets, &r).unwrap();
    assert!(!script.contains("error:"), "{script}");
    assert!(
        script.contains("election_safety: nodes 0 and 2 were both leader in term 2"),
        "{script}"
    );
}

#[test]
fn raft_without_persist_vote_double_votes_in_5_steps() {
    let o = opts(8, "crash=1,restart=1", &[Property::VoteOnce]);
    let (r, _) = run(RAFT, &["nodes=3", "raft.persist_vote=false"], &o);
    let cx = r.result.as_ref().expect("a counterexample");
    assert_eq!((cx.property, cx.steps.len()), (Property::VoteOnce, 5));
}

#[test]
fn the_counterexample_is_the_same_on_every_run_and_dfs_finds_one_too() {
    let o = opts(9, "crash=1,restart=1", &[Property::ElectionSafety]);
    let sets = ["nodes=3", "raft.persist_vote=false"];
    let a = run(RAFT, &sets, &o).0.result.unwrap();
    let b = run(RAFT, &sets, &o).0.result.unwrap();
    assert_eq!(a, b);
    let mut d = o.clone();
    d.strategy = Strategy::Dfs;
    let c = run(RAFT, &sets, &d)
        .0
        .result
        .expect("DFS finds a violation");
    assert!(c.steps.len() >= a.steps.len() && c.steps.len() <= 9);
}

#[test]
fn bully_under_a_partition_has_split_brain_and_none_without_faults() {
    let mut o = opts(20, "partition=1", &[]);
    o.sync = true;
    o.timer_order = true;
    let (r, sets) = run("scenarios/bully-leader-crash.toml", &["nodes=3"], &o);
    let cx = r.result.as_ref().expect("split brain");
    assert_eq!(cx.property, Property::SplitBrain);
    assert!(cx.steps.iter().any(|s| s.starts_with("isolate")), "{cx:#?}");
    let script = report::script(Path::new("scenarios/bully-leader-crash.toml"), &sets, &r);
    assert!(
        script.unwrap().contains("split_brain_incidents=1"),
        "the engine sees the split brain"
    );
    o.budget = Budget::default();
    let (r, _) = run("scenarios/bully-leader-crash.toml", &["nodes=3"], &o);
    assert!(r.result.is_err(), "{:?}", r.result);
}

#[test]
fn zookeeper_overlaps_only_when_the_client_ignores_its_deadline() {
    let mut o = opts(30, "partition=1", &[]);
    o.sync = true;
    o.timer_order = true;
    let path = "scenarios/zookeeper-leader-crash.toml";
    let (r, sets) = run(path, &["nodes=2", "zookeeper.client_step_down=false"], &o);
    let cx = r.result.as_ref().expect("lease overlap");
    assert_eq!(cx.property, Property::LeaseOverlap);
    let script = report::script(Path::new(path), &sets, &r).unwrap();
    assert!(script.contains("lease_overlap_incidents=1"), "{script}");
    let (r, _) = run(path, &["nodes=2", "zookeeper.client_step_down=true"], &o);
    assert_eq!(
        r.result.as_ref().err(),
        Some(&Stop::Depth),
        "{:?}",
        r.result
    );
}

#[test]
fn liveness_holds_for_raft_after_a_crash() {
    let o = opts(5, "crash=1", &[Property::Liveness]);
    let (r, _) = run(RAFT, &["nodes=3"], &o);
    assert!(r.result.is_err(), "{:?}", r.result);
}

#[test]
fn liveness_fails_when_a_majority_is_down() {
    // Two of three nodes crashed for good: nobody can collect a majority.
    let o = opts(4, "crash=2", &[Property::Liveness]);
    let (r, _) = run(RAFT, &["nodes=3"], &o);
    let cx = r.result.as_ref().expect("no leader reachable");
    assert_eq!(cx.property, Property::Liveness);
    assert_eq!(
        cx.steps.iter().filter(|s| s.starts_with("crash")).count(),
        2
    );
}

#[test]
fn cli_exit_codes_and_files() {
    let dir = common::fresh_dir("verify", "cli");
    let o = common::electsim(&[
        "verify",
        RAFT,
        "--set",
        "nodes=3",
        "--set",
        "raft.persist_vote=false",
        "--faults",
        "crash=1,restart=1",
        "--property",
        "vote_once",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", common::stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("VIOLATION of vote_once after 5 steps"),
        "{stdout}"
    );
    let script = std::fs::read_to_string(dir.join("counterexample.txt")).unwrap();
    assert!(script.starts_with("# electsim verify counterexample"));
    // The written script is a golden script: running it again reproduces it exactly.
    assert_eq!(electsim::script::run_script(&script), script);
    assert!(dir.join("trace.txt").exists() && dir.join("report.txt").exists());

    let o = common::electsim(&["verify", RAFT, "--set", "nodes=3", "--depth", "3"]);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("no violation (depth"));

    for bad in [
        &["--faults", "crash=x"][..],
        &["--faults", "meteor=1"],
        &["--property", "happiness"],
        &["--depth", "0"],
    ] {
        let mut args = vec!["verify", RAFT, "--set", "nodes=3"];
        args.extend_from_slice(bad);
        let o = common::electsim(&args);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", common::stderr(&o));
    }
    let o = common::electsim(&["verify", RAFT, "--set", "nodes=9"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(common::stderr(&o).contains("at most 8 nodes"));
}

/// The deeper search docs/verify.md reports (minutes; run with `--ignored`).
#[test]
#[ignore]
fn raft_persisting_the_vote_has_no_violation_within_depth_9() {
    let mut o = opts(9, "crash=1,restart=1", &[]);
    o.bounds.max_states = 50_000_000;
    let (r, _) = run(RAFT, &["nodes=3"], &o);
    assert_eq!(
        r.result.as_ref().err(),
        Some(&Stop::Depth),
        "{:?}",
        r.result
    );
}
