//! Regression scenarios found by `electsim explore` for the lease-based recipes (see
//! docs/reproduce.md, "Bug hunts"). Each file is self-contained: scripted faults and a seed.

use electsim::runner;
use electsim::scenario::ScenarioFile;
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
    assert!(
        file.text
            .contains(&format!("trace digest {}", o.trace_digest)),
        "the repro's trace changed (digest {})",
        o.trace_digest
    );
}
