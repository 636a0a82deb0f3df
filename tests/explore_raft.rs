//! Explore + shrink on Raft, and the committed regression repro for the injected
//! `raft.persist_vote = false` bug (term and vote forgotten across a restart).
//!
//! Bully's split brain under a partition and the etcd recipe's lease overlap under a pause
//! are not tested here: both algorithms are skeletons in this branch (they never elect).

mod common;
use common::assert_pinned_digest;

use electsim::explore::repro::ReproSpec;
use electsim::explore::{
    Base, Judge, Property, Settings, evaluate, search, shrink_finding, still_fails, write_repro,
};
use electsim::protocols::raft::Raft;
use electsim::runner;
use electsim::scenario::{Assignment, ScenarioFile};
use electsim::sim::invariants::ELECTION_SAFETY;
use electsim::sim::{DelayDist, FaultAction, ScriptedFault, SimDuration, SimTime, Target};
use std::path::Path;

const REPRO: &str = "tests/repro/raft-persist-vote.toml";

fn sets(list: &[&str]) -> Vec<Assignment> {
    list.iter()
        .map(|s| Assignment::parse_set(s).unwrap())
        .collect()
}

fn safety() -> Judge {
    Judge {
        property: Property::ElectionSafety,
        within: SimDuration::from_secs(3),
    }
}

#[test]
fn committed_repro_still_has_two_leaders_in_one_term() {
    let file = ScenarioFile::read(Path::new(REPRO)).unwrap();
    let sc = file.instantiate(&[]).unwrap();
    let raft = sc.algorithm.config::<Raft>().expect("a Raft repro");
    assert!(!raft.persist_vote, "the repro injects the bug");
    assert!(
        sc.faults.len() <= 5,
        "shrunk to a handful of faults, got {}",
        sc.faults.len()
    );
    let o = runner::run(&sc, sc.seed, Vec::new()).unwrap();
    assert!(
        o.metrics.same_term_leaders >= 1,
        "Raft §5.2 Election Safety violation no longer reproduces"
    );
    assert!(
        o.violations.iter().any(|v| v.property == ELECTION_SAFETY),
        "{:?}",
        o.violations
    );
    // The header records the digest it replays with.
    assert_pinned_digest(&file.text, &o.trace_digest);
}

#[test]
fn committed_repro_is_safe_with_persisted_votes() {
    let file = ScenarioFile::read(Path::new(REPRO)).unwrap();
    let sc = file
        .instantiate(&sets(&["raft.persist_vote=true"]))
        .unwrap();
    let o = runner::run(&sc, sc.seed, Vec::new()).unwrap();
    assert_eq!(o.metrics.same_term_leaders, 0);
    assert_eq!(o.violation_count, 0, "{:?}", o.violations);
}

fn persist_vote_base() -> Base {
    let file = ScenarioFile::read(Path::new("scenarios/raft-leader-crash.toml")).unwrap();
    Base::new(
        &file,
        &sets(&["raft.persist_vote=false", "duration=10s"]),
        SimDuration::from_secs(3),
        8,
    )
    .unwrap()
}

#[test]
fn explore_finds_and_shrinks_the_persist_vote_bug_for_any_jobs() {
    let base = persist_vote_base();
    let settings = |jobs| Settings {
        judge: safety(),
        runs: Some(3_000),
        time: None,
        jobs,
        seed: 4_000,
        all: false,
    };
    let r2 = search(&base, &settings(2)).unwrap();
    let r1 = search(&base, &settings(1)).unwrap();
    let f = r2
        .findings
        .first()
        .expect("explore finds the double leader");
    assert_eq!(r2.findings.len(), 1, "stops at the first violation");
    assert_eq!(r2.runs, f.index + 1);
    assert_eq!(
        (r1.runs, r1.findings[0].seed, &r1.findings[0].digest),
        (r2.runs, f.seed, &f.digest),
        "same finding for any --jobs"
    );
    let s = shrink_finding(&base, &safety(), f, 2_000).unwrap();
    assert!(s.evaluation.violated);
    assert!(
        s.spec.faults.len() <= 5 && s.spec.faults.len() < f.faults.len(),
        "{} -> {} faults",
        f.faults.len(),
        s.spec.faults.len()
    );
    assert!(s.spec.nodes <= 5 && s.spec.duration <= SimDuration::from_secs(10));
    assert!(s.stats.tests <= 2_000);
    // Written, parsed back, replayed: same digest, still violating.
    let dir = std::env::temp_dir().join(format!("electsim-explore-{}", std::process::id()));
    let files = write_repro(&dir, &s.spec, &safety(), vec!["test".into()]).unwrap();
    let back = ScenarioFile::read(&files.scenario)
        .unwrap()
        .instantiate(&[])
        .unwrap();
    let e = evaluate(&back, back.seed, &safety()).unwrap();
    assert!(e.violated);
    assert_eq!(e.outcome.trace_digest, files.digest);
    assert!(files.trace.exists() && files.timeline_png.exists() && files.timeline_svg.exists());
    assert_eq!(
        files.command,
        format!("electsim run {}", files.scenario.display())
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn correct_raft_survives_exploration() {
    let file = ScenarioFile::read(Path::new("scenarios/raft-leader-crash.toml")).unwrap();
    let base = Base::new(
        &file,
        &sets(&["duration=10s"]),
        SimDuration::from_secs(3),
        8,
    )
    .unwrap();
    for property in [
        Property::ElectionSafety,
        Property::Invariants,
        Property::Liveness,
    ] {
        let judge = Judge {
            property,
            within: SimDuration::from_secs(3),
        };
        let r = search(
            &base,
            &Settings {
                judge,
                runs: Some(300),
                time: None,
                jobs: 2,
                seed: 1,
                all: true,
            },
        )
        .unwrap();
        assert_eq!(r.runs, 300);
        assert!(
            r.findings.is_empty(),
            "{property:?}: {:?}",
            r.findings.first().map(|f| (&f.detail, f.seed))
        );
        assert!(r.errors.is_empty());
    }
}

#[test]
fn liveness_violation_is_found_and_shrunk() {
    // Elections take 5-6 s but the property demands a leader 1 s after the faults heal.
    let file = ScenarioFile::read(Path::new("scenarios/raft-leader-crash.toml")).unwrap();
    let base = Base::new(
        &file,
        &sets(&["duration=20s", "raft.election_timeout=[\"5s\", \"6s\"]"]),
        SimDuration::from_secs(1),
        4,
    )
    .unwrap();
    let judge = Judge {
        property: Property::Liveness,
        within: SimDuration::from_secs(1),
    };
    let r = search(
        &base,
        &Settings {
            judge,
            runs: Some(200),
            time: None,
            jobs: 2,
            seed: 1,
            all: false,
        },
    )
    .unwrap();
    let f = r
        .findings
        .first()
        .expect("slow elections miss the liveness deadline");
    assert!(f.detail.starts_with("liveness"));
    let s = shrink_finding(&base, &judge, f, 500).unwrap();
    assert!(still_fails(&s.spec, &judge));
    assert!(s.spec.faults.len() <= f.faults.len());
    // The same plan with quick elections is live.
    let mut quick = s.spec.clone();
    quick.base.insert(
        "raft".into(),
        toml::Value::Table(toml::from_str("election_timeout = [\"150ms\", \"300ms\"]").unwrap()),
    );
    quick.duration = SimDuration::from_secs(20);
    assert!(!still_fails(&quick, &judge));
}

#[test]
fn repro_toml_round_trips_every_fault_kind() {
    let file = ScenarioFile::read(Path::new("scenarios/raft-lossy.toml")).unwrap();
    let overrides = sets(&[
        "raft.pre_vote=true",
        "network.loss=0.02",
        "storage.fsync=\"2ms\"",
    ]);
    let base = Base::new(&file, &overrides, SimDuration::from_secs(3), 8).unwrap();
    let f = |ms: u64, action: FaultAction| ScriptedFault {
        at: SimTime(ms * 1_000_000),
        jitter: None,
        every: None,
        until: None,
        action,
    };
    let d = SimDuration::from_millis;
    let faults = vec![
        f(
            1_000,
            FaultAction::Crash {
                target: Target::Leader,
                restart_after: Some(d(300)),
            },
        ),
        f(
            1_500,
            FaultAction::Crash {
                target: Target::Node(1),
                restart_after: None,
            },
        ),
        f(
            1_700,
            FaultAction::Restart {
                target: Target::Node(1),
            },
        ),
        f(
            2_000,
            FaultAction::Pause {
                target: Target::Node(2),
                duration: d(250),
            },
        ),
        f(
            2_500,
            FaultAction::Partition {
                groups: vec![vec![0, 1], vec![2, 3]],
                heal_after: Some(d(400)),
            },
        ),
        f(
            3_000,
            FaultAction::Cut {
                from: Target::Node(3),
                to: Target::Node(4),
                heal_after: None,
            },
        ),
        f(
            3_100,
            FaultAction::Isolate {
                target: Target::Node(0),
                heal_after: Some(d(100)),
            },
        ),
        f(3_300, FaultAction::Heal),
        f(3_400, FaultAction::SetLoss { loss: 0.37 }),
        f(
            3_500,
            FaultAction::SetDelay {
                delay: DelayDist::Constant(d(3)),
            },
        ),
        f(
            3_600,
            FaultAction::SetDelay {
                delay: DelayDist::Uniform {
                    min: d(1),
                    max: d(9),
                },
            },
        ),
        f(
            3_700,
            FaultAction::SetDelay {
                delay: DelayDist::Normal {
                    mean: d(5),
                    sd: d(2),
                },
            },
        ),
        f(
            3_800,
            FaultAction::SetDelay {
                delay: DelayDist::Exponential {
                    floor: d(1),
                    mean: d(4),
                },
            },
        ),
        f(
            3_900,
            FaultAction::SetDelay {
                delay: DelayDist::LogNormal {
                    median: d(5),
                    sigma: 0.75,
                },
            },
        ),
        f(
            4_000,
            FaultAction::ClockDrift {
                target: Target::Node(4),
                drift_ppm: -2500.0,
                offset: d(7),
            },
        ),
        ScriptedFault {
            jitter: Some(d(20)),
            every: Some(SimDuration::from_secs(1)),
            until: Some(SimTime(7_000_000_000)),
            ..f(
                4_500,
                FaultAction::Pause {
                    target: Target::Leader,
                    duration: SimDuration(1_500_000),
                },
            )
        },
    ];
    let spec: ReproSpec = ReproSpec {
        faults: faults.clone(),
        ..base.spec(42, faults.clone())
    };
    let text = spec.to_toml();
    let parsed = ScenarioFile::from_text(Path::new("rt.toml"), text.clone())
        .unwrap()
        .instantiate(&[])
        .unwrap();
    assert_eq!(
        parsed.faults, faults,
        "faults survive the round trip:\n{text}"
    );
    assert_eq!(
        (parsed.seed, parsed.nodes, parsed.duration),
        (42, 5, base.scenario.duration)
    );
    assert!(
        parsed.algorithm.config::<Raft>().unwrap().pre_vote
            && parsed.resources.write == electsim::sim::DelayDist::Constant(d(2))
    );
    assert_eq!(
        parsed.network.default, base.scenario.network.default,
        "--set network.loss carried over"
    );
    // The same scenario built directly (no TOML) replays the same run.
    let mut direct = base.scenario.clone();
    direct.faults = faults;
    let a = runner::run(&parsed, 42, Vec::new()).unwrap();
    let b = runner::run(&direct, 42, Vec::new()).unwrap();
    assert_eq!(a.trace_digest, b.trace_digest);
}

#[test]
fn fewer_nodes_drop_the_faults_that_name_them() {
    let base = persist_vote_base();
    let f = |action: FaultAction| ScriptedFault {
        at: SimTime(1_000_000_000),
        jitter: None,
        every: None,
        until: None,
        action,
    };
    let spec = base.spec(
        1,
        vec![
            f(FaultAction::Crash {
                target: Target::Node(4),
                restart_after: None,
            }),
            f(FaultAction::Crash {
                target: Target::Leader,
                restart_after: None,
            }),
            f(FaultAction::Partition {
                groups: vec![vec![3, 4], vec![0, 2]],
                heal_after: None,
            }),
            f(FaultAction::Cut {
                from: Target::Node(0),
                to: Target::Node(3),
                heal_after: None,
            }),
        ],
    );
    let small = spec.with_nodes(3);
    assert_eq!(small.nodes, 3);
    assert_eq!(
        small
            .faults
            .iter()
            .map(|f| f.action.clone())
            .collect::<Vec<_>>(),
        vec![
            FaultAction::Crash {
                target: Target::Leader,
                restart_after: None
            },
            FaultAction::Partition {
                groups: vec![vec![0, 2]],
                heal_after: None
            },
        ]
    );
    assert!(small.scenario().is_ok());
}
