//! `electsim check`: every shipped scenario replays identically; a mismatch names the
//! first differing event and both versions of it.

use electsim::explore::check::{Verdict, check, first_difference, record};
use electsim::scenario::{Assignment, ScenarioFile};
use std::path::Path;
use std::process::Command;

#[test]
fn check_passes_on_every_shipped_scenario() {
    let mut paths: Vec<_> = std::fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path())
        // matrix.toml lists the matrix scenarios; it is not a scenario itself.
        .filter(|p| p.extension().is_some_and(|e| e == "toml") && !p.ends_with("matrix.toml"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    for p in paths {
        // 5 s of virtual time keeps CI fast; files whose faults come later keep them all.
        let sc = ScenarioFile::read(&p).unwrap().instantiate(&[]).unwrap();
        let last_fault_s = sc
            .faults
            .iter()
            .map(|f| f.at.0 / 1_000_000_000 + 1)
            .max()
            .unwrap_or(0);
        let secs = 5u64
            .max(last_fault_s)
            .min(sc.duration.as_nanos() / 1_000_000_000);
        let duration = format!("duration={secs}s");
        let out = Command::new(env!("CARGO_BIN_EXE_electsim"))
            .args(["check", p.to_str().unwrap(), "--set", &duration])
            .env("RUST_BACKTRACE", "0")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.starts_with("ok: "),
            "electsim check {} --set {duration} failed:\n{stdout}{}",
            p.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("digest "));
    }
}

#[test]
fn check_also_passes_for_every_algorithm() {
    // Bully, Ring and the service recipes may be skeletons in this branch; they must still
    // be deterministic.
    let file = ScenarioFile::read(Path::new("scenarios/raft-partition.toml")).unwrap();
    for alg in ["bully", "ring", "raft", "zookeeper", "etcd"] {
        let sc = file
            .instantiate(&[
                Assignment::parse_set(&format!("algorithm={alg}")).unwrap(),
                Assignment::parse_set("duration=5s").unwrap(),
            ])
            .unwrap();
        match check(&sc, 11, 1_000_000).unwrap() {
            Verdict::Same { events, .. } => assert!(events > 0, "{alg}"),
            Verdict::Differ(m) => panic!("{alg} (seed 11) is nondeterministic: {m}"),
        }
    }
}

#[test]
fn a_mismatch_names_the_first_differing_event() {
    // Two different seeds stand in for a nondeterministic run.
    let file = ScenarioFile::read(Path::new("scenarios/raft-lossy.toml")).unwrap();
    let sc = file
        .instantiate(&[Assignment::parse_set("duration=3s").unwrap()])
        .unwrap();
    let a = record(&sc, 1, 1_000_000).unwrap();
    let b = record(&sc, 2, 1_000_000).unwrap();
    let m = first_difference(&a.lines, &b.lines).expect("different seeds differ");
    assert_eq!(
        a.lines[..m.index],
        b.lines[..m.index],
        "everything before the reported event agrees"
    );
    assert_ne!(m.first, m.second);
    assert_eq!(m.first.as_deref(), Some(a.lines[m.index].as_str()));
    assert_eq!(m.second.as_deref(), Some(b.lines[m.index].as_str()));
    let text = m.to_string();
    assert!(
        text.contains(&format!("event #{}", m.index))
            && text.contains("run 1: {")
            && text.contains("run 2: {"),
        "{text}"
    );
    // Same seed: no difference; a stream that stops early differs where it stops.
    let a2 = record(&sc, 1, 1_000_000).unwrap();
    assert_eq!(first_difference(&a.lines, &a2.lines), None);
    let short = &a.lines[..10];
    let m = first_difference(short, &a.lines).unwrap();
    assert_eq!((m.index, m.first.as_deref()), (10, None));
    assert!(m.to_string().contains("the stream ended"));
}
