//! `electsim run --trace/--timeline` through the binary: files appear (atomically, also for
//! a failed run), limits warn, bad paths are usage errors.

mod common;
use common::{electsim, fresh_dir, ok};

use serde_json::Value;

#[test]
fn run_writes_trace_and_timeline_matching_the_report() {
    let d = fresh_dir("trace_cli", "ok");
    let (trace, png) = (d.join("t.jsonl"), d.join("t.png"));
    let out = electsim(&[
        "run",
        "scenarios/raft-leader-crash.toml",
        "--set",
        "duration=6s",
        "--seed",
        "3",
        "--format",
        "json",
        "--trace",
        trace.to_str().unwrap(),
        "--timeline",
        png.to_str().unwrap(),
    ]);
    ok(&out);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = std::fs::read_to_string(&trace).unwrap();
    let sends = text
        .lines()
        .filter(|l| l.contains("\"kind\":\"send\""))
        .count() as u64;
    assert_eq!(sends, report["messages_sent"].as_u64().unwrap());
    assert_eq!(&std::fs::read(&png).unwrap()[..4], b"\x89PNG");
    // Issue 12 defect 8: two quantities, two names. The note counts trace records (one per
    // line of the file); `events` in the JSON counts kernel pops, a different number.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let records = text.lines().count();
    assert!(
        stderr.contains(&format!("{records} trace records")),
        "{stderr}"
    );
    assert_ne!(report["events"].as_u64().unwrap(), records as u64);
    assert!(!stderr.contains(" events)"), "{stderr}");
    // The format follows the file name.
    let json = d.join("t.json");
    let log = d.join("t.log");
    assert!(
        electsim(&[
            "run",
            "scenarios/raft-lossy.toml",
            "--set",
            "duration=2s",
            "--trace",
            json.to_str().unwrap()
        ])
        .status
        .success()
    );
    assert!(
        electsim(&[
            "run",
            "scenarios/raft-lossy.toml",
            "--set",
            "duration=2s",
            "--trace",
            log.to_str().unwrap()
        ])
        .status
        .success()
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(doc["traceEvents"].is_array());
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .starts_with("(?<host>")
    );
    let leftovers: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind");
}

#[test]
fn failed_run_still_writes_its_trace() {
    let d = fresh_dir("trace_cli", "fail");
    let trace = d.join("t.jsonl");
    let out = electsim(&[
        "run",
        "scenarios/raft-leader-crash.toml",
        "--set",
        "max_events=300",
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("max_events") && err.contains("replay with: electsim run"),
        "{err}"
    );
    let lines = std::fs::read_to_string(&trace).unwrap().lines().count();
    assert!(lines >= 300, "{lines} lines");
}

#[test]
fn trace_limit_truncates_with_a_warning() {
    let d = fresh_dir("trace_cli", "limit");
    let trace = d.join("t.jsonl");
    let out = electsim(&[
        "run",
        "scenarios/raft-lossy.toml",
        "--set",
        "duration=3s",
        "--trace",
        trace.to_str().unwrap(),
        "--trace-limit",
        "50",
    ]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("warning: the trace keeps only the first 50 of")
    );
    let text = std::fs::read_to_string(&trace).unwrap();
    assert_eq!(text.lines().count(), 51);
    assert!(
        text.lines()
            .last()
            .unwrap()
            .contains("\"kind\":\"truncated\"")
    );
}

#[test]
fn bad_timeline_extension_is_a_usage_error_and_writes_nothing() {
    let d = fresh_dir("trace_cli", "bad");
    let trace = d.join("t.jsonl");
    let out = electsim(&[
        "run",
        "scenarios/raft-lossy.toml",
        "--trace",
        trace.to_str().unwrap(),
        "--timeline",
        d.join("t.txt").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(".svg or .png"));
    assert!(!trace.exists());
}

#[test]
fn strict_violation_still_writes_trace_and_timeline() {
    let d = fresh_dir("trace_cli", "strict");
    let (trace, svg) = (d.join("t.json"), d.join("t.svg"));
    let out = electsim(&[
        "run",
        "tests/repro/raft-persist-vote.toml",
        "--strict",
        "--trace",
        trace.to_str().unwrap(),
        "--timeline",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invariant violation(s)"));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&trace).unwrap()).unwrap();
    assert!(!doc["traceEvents"].as_array().unwrap().is_empty());
    assert!(std::fs::read_to_string(&svg).unwrap().contains("term 2"));
}

/// Issue 17: the script-step axis of held replays must not touch `electsim run`'s
/// timeline. tests/fixtures/timeline/bully-partition.svg is the output of the code before
/// that change (commit 240dbba); results/ charts and the docs depend on these bytes.
#[test]
fn run_timeline_svg_is_byte_identical_to_the_committed_one() {
    let d = fresh_dir("trace_cli", "bytes");
    let svg = d.join("t.svg");
    ok(&electsim(&[
        "run",
        "scenarios/bully-partition.toml",
        "--timeline",
        svg.to_str().unwrap(),
    ]));
    let want = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/timeline/bully-partition.svg");
    let (got, want) = (std::fs::read(&svg).unwrap(), std::fs::read(&want).unwrap());
    assert!(
        got == want,
        "`electsim run --timeline` output changed ({} bytes, committed {})",
        got.len(),
        want.len()
    );
}
