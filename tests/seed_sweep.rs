//! Every shipped scenario over many seeds: no run fails, invariants hold, and Raft never
//! shows two leaders in one term (Raft §5.2 Election Safety).
//!
//! The default size (200 seeds, runs capped at 60 s of virtual time) fits CI; the full size
//! (1000 seeds, full durations) runs with `cargo test --release -- --ignored`.

use electsim::runner;
use electsim::scenario::{Assignment, Origin, ScenarioFile, parse_value};
use std::path::{Path, PathBuf};

fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml") && !p.ends_with("matrix.toml"))
        .collect();
    v.sort();
    v
}

fn sweep(seeds: u64, max_duration_s: Option<u64>) {
    let mut checked = 0;
    for path in scenario_files() {
        let file = ScenarioFile::read(&path).unwrap_or_else(|e| panic!("{e}"));
        let mut sets = Vec::new();
        // Cap long scenarios: the invariants are per event, so a shorter horizon with many
        // seeds covers more interleavings per CPU-second than a few long runs.
        if let Some(cap) = max_duration_s {
            let base = file.instantiate(&[]).unwrap_or_else(|e| panic!("{e}"));
            if base.duration.as_secs_f64() > cap as f64 {
                sets.push(Assignment {
                    key: "duration".into(),
                    value: parse_value(&format!("\"{cap}s\"")),
                    origin: Origin::Unlocated,
                });
            }
        }
        let sc = file
            .instantiate(&sets)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for seed in 1..=seeds {
            let o = runner::run(&sc, seed, Vec::new())
                .unwrap_or_else(|e| panic!("{} seed {seed}: run failed: {e}", path.display()));
            assert_eq!(
                o.violation_count,
                0,
                "{} seed {seed}: invariant violated: {:?}\nreplay: electsim run {} --seed {seed}",
                path.display(),
                o.violations,
                path.display()
            );
            if sc.algorithm.name() == "raft" {
                assert_eq!(
                    o.metrics.same_term_leaders,
                    0,
                    "{} seed {seed}: two Raft leaders in one term",
                    path.display()
                );
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 3 * seeds,
        "expected at least the three Raft scenarios"
    );
}

#[test]
fn every_scenario_200_seeds_invariants_hold() {
    sweep(200, Some(60));
}

#[test]
#[ignore = "full size: cargo test --release -- --ignored"]
fn every_scenario_1000_seeds_full_duration() {
    sweep(1000, None);
}
