//! Determinism contract: same scenario + seed => same trace digest and identical output.

mod common;
use common::{electsim, ok};

use electsim::runner;
use electsim::scenario::ScenarioFile;
use std::path::Path;

#[test]
fn same_seed_twice_prints_identical_json() {
    let args = [
        "run",
        "scenarios/raft-leader-crash.toml",
        "--seed",
        "7",
        "--format",
        "json",
    ];
    let a = electsim(&args);
    let b = electsim(&args);
    ok(&a);
    assert_eq!(a.stdout, b.stdout);
    let v: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    for key in [
        "algorithm",
        "nodes",
        "seed",
        "events",
        "elections",
        "election_ms",
        "detect_ms",
        "converge_ms",
        "messages_sent",
        "messages_delivered",
        "messages_dropped",
        "messages_per_election",
        "split_brain_incidents",
        "split_brain_ms",
        "same_term_leaders",
        "leader_changes",
        "availability",
        "invariant_violations",
        "trace_digest",
    ] {
        assert!(v.get(key).is_some(), "JSON contract is missing `{key}`");
    }
    for key in ["mean", "p50", "p99", "max"] {
        assert!(
            v["election_ms"].get(key).is_some(),
            "election_ms.{key} missing"
        );
    }
}

#[test]
fn different_seeds_give_different_digests_and_same_seed_the_same() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = ScenarioFile::read(&root.join("scenarios/raft-lossy.toml")).unwrap();
    let sc = file.instantiate(&[]).unwrap();
    let d = |seed| runner::run(&sc, seed, Vec::new()).unwrap().trace_digest;
    assert_eq!(d(1), d(1));
    let digests: std::collections::BTreeSet<String> = (1..=20).map(d).collect();
    assert_eq!(digests.len(), 20, "20 seeds should give 20 distinct traces");
}

#[test]
fn a_fault_plan_does_not_shift_the_network_stream() {
    // Independent streams: adding a fault that never fires (a heal at the very end) must not
    // change a single network draw, so the trace up to that point is identical.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = ScenarioFile::read(&root.join("scenarios/raft-lossy.toml")).unwrap();
    let base = file.instantiate(&[]).unwrap();
    let mut with_fault = base.clone();
    with_fault
        .random_faults
        .push(electsim::sim::RandomFault::Crashes {
            rate_per_s: 1e-9,
            mean_downtime: electsim::sim::SimDuration::from_secs(1),
        });
    let a = runner::run(&base, 5, Vec::new()).unwrap();
    let b = runner::run(&with_fault, 5, Vec::new()).unwrap();
    assert_eq!(a.trace_digest, b.trace_digest);
}

#[test]
fn bench_reports_finite_rates_even_for_tiny_runs() {
    // A run shorter than the thread clock's resolution must not report infinite speed.
    let out = electsim(&[
        "bench",
        "scenarios/bench-raft-churn.toml",
        "--set",
        "nodes=5",
        "--set",
        "duration=3s",
        "--repeats",
        "1",
        "--format",
        "json",
    ]);
    ok(&out);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(
        rows.len(),
        1,
        "--set on the axis key collapses the nodes axis"
    );
    for key in ["events_per_cpu_s", "runs_per_cpu_s", "cpu_s"] {
        let v = rows[0][key].as_f64().unwrap_or(f64::NAN);
        assert!(v.is_finite() && v > 0.0, "{key} = {v}");
    }
}
