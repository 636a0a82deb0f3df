//! Regression scenarios found by `electsim explore` for Bully and the lease-based recipes
//! (see docs/reproduce.md, "Bug hunts"; the Raft one is in explore_raft.rs). Each file is
//! self-contained: scripted faults and a seed.

mod common;
use common::assert_pinned_digest;

use electsim::runner;
use electsim::scenario::{Assignment, Origin, ScenarioFile, parse_value};
use std::path::Path;

const ETCD_OVERLAP: &str = "tests/repro/etcd-lease-overlap.toml";

#[test]
fn etcd_loss_burst_lets_the_old_leader_outlive_its_lease() {
    let file = ScenarioFile::read(Path::new(ETCD_OVERLAP)).unwrap();
    let sc = file.instantiate(&[]).unwrap();
    assert!(
        sc.faults.len() <= 2,
        "shrunk to a handful of faults, got {}",
        sc.faults.len()
    );
    let o = runner::run(&sc, sc.seed, Vec::new()).unwrap();
    // The leader's keepalives are lost; the service expires its lease and another contender
    // takes over while the old leader still trusts its own (later) estimate of the expiry.
    assert!(
        o.metrics.lease_overlap_ms > 0.0,
        "the overlap no longer reproduces: {:?}",
        o.metrics
    );
    assert_pinned_digest(&file.text, &o.trace_digest);
}

const BULLY_SPLIT: &str = "tests/repro/bully-split-brain.toml";

#[test]
fn bully_partition_elects_a_leader_on_each_side_unless_guarded() {
    // Garcia-Molina's Bully assumes a reliable, synchronous network: a partition makes the
    // cut-off node's Election go unanswered, so it crowns itself while the other side keeps
    // its coordinator.
    let file = ScenarioFile::read(Path::new(BULLY_SPLIT)).unwrap();
    let sc = file.instantiate(&[]).unwrap();
    assert_eq!(sc.faults.len(), 1, "shrunk to one partition");
    let o = runner::run(&sc, sc.seed, Vec::new()).unwrap();
    assert!(
        o.metrics.split_brain_incidents >= 1 && o.metrics.split_brain_ms > 0.0,
        "{:?}",
        o.metrics
    );
    assert_pinned_digest(&file.text, &o.trace_digest);
    // The seed document's fix, a quorum guard, removes it on the same fault plan.
    let guard = Assignment {
        key: "bully.quorum_guard".into(),
        value: parse_value("true"),
        origin: Origin::Unlocated,
    };
    let guarded = runner::run(&file.instantiate(&[guard]).unwrap(), sc.seed, Vec::new()).unwrap();
    assert_eq!(
        (
            guarded.metrics.split_brain_incidents,
            guarded.metrics.split_brain_ms
        ),
        (0, 0.0)
    );
}
