//! `electsim verify`: the findings docs/verify.md reports, as assertions, and the
//! counterexamples replayed through the ordinary engine. Small bounds keep this fast; the
//! deeper searches of the docs are `#[ignore]`d.

mod common;

use electsim::protocols::raft::{Raft, RaftConfig};
use electsim::scenario::{Assignment, ScenarioFile};
use electsim::verify::properties::Property;
use electsim::verify::properties::Track;
use electsim::verify::search::{Stop, Strategy};
use electsim::verify::state::{Budget, Model};
use electsim::verify::symmetry::Symmetry;
use electsim::verify::{VerifyOptions, VerifyReport, report, verify};
use std::collections::BTreeSet;
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
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("symmetry: on (6 renamings"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let o = common::electsim(&[
        "verify",
        RAFT,
        "--set",
        "nodes=3",
        "--depth",
        "3",
        "--symmetry",
        "off",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("symmetry: off (--symmetry off)"));

    for bad in [
        &["--faults", "crash=x"][..],
        &["--faults", "meteor=1"],
        &["--property", "happiness"],
        &["--depth", "0"],
        &["--symmetry", "maybe"],
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

/// Raft n=3 with a crash and a restart, as `verify` builds it (symmetry on or off).
fn raft_model(symmetric: bool) -> Model<Raft> {
    let config = RaftConfig::default();
    Model {
        nodes: 3,
        service: 0,
        symmetry: symmetric.then(|| Symmetry::of(&config, 3).unwrap()),
        config,
        fifo: false,
        timer_order: false,
        sync: false,
        track: Track::for_properties(&[Property::ElectionSafety, Property::VoteOnce]),
    }
}

/// Every world within `depth` steps, deduplicated by `m`'s key: the keys stored, and the
/// symmetric model's key of every world stored.
fn reachable(m: &Model<Raft>, canon: &Model<Raft>, depth: u32) -> (usize, BTreeSet<u64>) {
    let props = [Property::ElectionSafety, Property::VoteOnce];
    let budget = Budget::parse("crash=1,restart=1").unwrap();
    let w0 = electsim::verify::search::initial(m, &props, budget).0;
    let mut seen = BTreeSet::from([m.key(&w0).0]);
    let mut canonical = BTreeSet::from([canon.key(&w0).0]);
    let mut level = vec![w0];
    for _ in 0..depth {
        let mut next = Vec::new();
        for w in &level {
            for a in w.actions(m, w.budget.any()) {
                let (s, broken) = electsim::verify::search::step(m, &props, w, &a);
                assert!(broken.is_empty(), "{broken:?}");
                if seen.insert(m.key(&s).0) {
                    canonical.insert(canon.key(&s).0);
                    next.push(s);
                }
            }
        }
        level = next;
    }
    (seen.len(), canonical)
}

#[test]
fn symmetry_reaches_exactly_the_orbits_of_the_full_search() {
    let depth = 6;
    let (plain, sym) = (raft_model(false), raft_model(true));
    let (n_plain, orbits_plain) = reachable(&plain, &sym, depth);
    let (n_sym, orbits_sym) = reachable(&sym, &sym, depth);
    assert_eq!(
        orbits_sym, orbits_plain,
        "the same orbits, no more, no fewer"
    );
    assert_eq!(n_sym, orbits_sym.len());
    // The search itself stores one state per orbit, and its orbit sizes add up to the
    // states the search without symmetry stores.
    let mut o = opts(depth, "crash=1,restart=1", &[]);
    let (on, _) = run(RAFT, &["nodes=3"], &o);
    o.symmetry = false;
    let (off, _) = run(RAFT, &["nodes=3"], &o);
    assert_eq!(on.symmetry, Ok(6));
    assert_eq!(off.symmetry, Err("--symmetry off".to_string()));
    assert_eq!(on.stats.distinct as usize, n_sym);
    assert_eq!(off.stats.distinct as usize, n_plain);
    assert_eq!(on.stats.represented, off.stats.distinct);
    assert_eq!(off.stats.represented, off.stats.distinct);
    assert!(on.stats.distinct < off.stats.distinct, "{:?}", on.stats);
    assert!(
        6 * on.stats.distinct >= off.stats.distinct,
        "at most n! fewer"
    );
}

#[test]
fn symmetry_keeps_the_shortest_counterexample_and_the_clean_result() {
    let mut o = opts(12, "crash=1,restart=1", &[Property::ElectionSafety]);
    for symmetry in [true, false] {
        o.symmetry = symmetry;
        let (r, sets) = run(RAFT, &["nodes=3", "raft.persist_vote=false"], &o);
        assert_eq!(r.symmetry.is_ok(), symmetry);
        let cx = r.result.as_ref().expect("a counterexample");
        assert_eq!((cx.property, cx.steps.len()), (Property::ElectionSafety, 8));
        // A concrete schedule: it replays through the engine.
        let script = report::script(Path::new(RAFT), &sets, &r).unwrap();
        assert!(!script.contains("error:"), "{script}");
        assert!(script.contains("election_safety: nodes"), "{script}");
    }
    let mut o = opts(7, "crash=1,restart=1", &[]);
    let (on, _) = run(RAFT, &["nodes=3"], &o);
    o.symmetry = false;
    let (off, _) = run(RAFT, &["nodes=3"], &o);
    assert_eq!(on.result.as_ref().err(), Some(&Stop::Depth));
    assert_eq!(off.result.as_ref().err(), Some(&Stop::Depth));
    assert_eq!(on.stats.represented, off.stats.distinct);
}

#[test]
fn symmetry_is_turned_off_where_ids_matter() {
    let o = opts(3, "", &[]);
    let off = |path: &str, sets: &[&str], o: &VerifyOptions| run(path, sets, o).0.symmetry;
    let why = off("scenarios/bully-leader-crash.toml", &["nodes=3"], &o).unwrap_err();
    assert!(why.contains("priorities"), "{why}");
    let mut t = o.clone();
    t.timer_order = true;
    let why = off(RAFT, &["nodes=3"], &t).unwrap_err();
    assert!(why.contains("--timer-order"), "{why}");
    let why = off(RAFT, &["nodes=6"], &o).unwrap_err();
    assert!(why.contains("at most 5"), "{why}");
    // A stale node keeps its id; the other two may swap.
    assert_eq!(off(RAFT, &["nodes=3", "raft.stale_nodes=[1]"], &o), Ok(2));
    assert_eq!(off(RAFT, &["nodes=3"], &o), Ok(6));
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
