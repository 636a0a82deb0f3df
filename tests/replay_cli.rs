//! `electsim replay` and `electsim check SCRIPT`: a verify counterexample replays through
//! the ordinary engine into a trace and a timeline, deterministically; an edited
//! expectation or a malformed script is reported with its file and line.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The 8-step Raft counterexample of tests/verify.rs (persist_vote=false), written once.
fn counterexample_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = common::fresh_dir("replay", "raft-cx");
        let o = common::electsim(&[
            "verify",
            "scenarios/raft-leader-crash.toml",
            "--set",
            "nodes=3",
            "--set",
            "raft.persist_vote=false",
            "--faults",
            "crash=1,restart=1",
            "--property",
            "election_safety",
            "--out",
            dir.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", common::stderr(&o));
        dir
    })
}

fn text(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The digest at the end of an `ok: ... digest HEX` line.
fn digest(line: &str) -> String {
    line.trim().rsplit("digest ").next().unwrap().to_string()
}

#[test]
fn verify_writes_a_trace_where_two_nodes_lead_term_2() {
    let dir = counterexample_dir();
    let mut leaders = Vec::new();
    for l in text(&dir.join("counterexample.jsonl")).lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        if v["kind"] == "status" && v["new"]["role"] == "leader" {
            leaders.push((
                v["node"].as_u64().unwrap(),
                v["new"]["term"].as_u64().unwrap(),
            ));
        }
    }
    // Node 0 is elected in term 2, crashes, forgets its vote, and votes node 2 into term 2.
    assert_eq!(leaders, vec![(0, 2), (2, 2)]);
    let svg = text(&dir.join("counterexample.svg"));
    assert!(
        svg.starts_with("<svg") && svg.contains("term 2"),
        "{svg:.200}"
    );
    // Held schedule: the picture is on the script-step axis.
    assert!(svg.contains("script step"), "{svg:.200}");
    // The report names the files and the commands that replay the counterexample.
    let report = text(&dir.join("report.txt"));
    let script = dir.join("counterexample.txt");
    assert!(
        report.contains(&format!("check:   electsim check {}", script.display())),
        "{report}"
    );
    assert!(
        report.contains(&format!("replay:  electsim replay {}", script.display())),
        "{report}"
    );
    // The timeline is on the script-step axis and shows every step: no virtual-time window.
    assert!(
        report.contains(&format!(
            "--timeline {} --html {}\n",
            dir.join("counterexample.svg").display(),
            dir.join("counterexample.html").display()
        )),
        "{report}"
    );
    assert!(!report.contains("--from"), "{report}");
    // The run page lists the violation, read off the trace, on the script-step axis.
    let html = text(&dir.join("counterexample.html"));
    assert!(html.contains(r#""unit":"step""#), "{html:.300}");
    assert!(
        html.contains(
            r#""kind":"same-term leaders","detail":"nodes 0 and 2 both leader in term 2""#
        ),
        "{html:.300}"
    );
}

#[test]
fn check_on_the_counterexample_agrees_with_itself_and_with_replay() {
    let script = counterexample_dir().join("counterexample.txt");
    let script = script.to_str().unwrap();
    let a = common::electsim(&["check", script]);
    let b = common::electsim(&["check", script]);
    assert_eq!(a.status.code(), Some(0), "{}", common::stderr(&a));
    let (a, b) = (
        String::from_utf8_lossy(&a.stdout).into_owned(),
        String::from_utf8_lossy(&b.stdout).into_owned(),
    );
    assert!(a.starts_with("ok: two replays of "), "{a}");
    // Boot (3 statuses), 8 steps' sends, deliveries and statuses, and the closing `end`:
    // as many records as counterexample.jsonl has lines.
    let lines = text(&counterexample_dir().join("counterexample.jsonl"))
        .lines()
        .count();
    assert!(
        a.contains(&format!("the same {lines} trace records")),
        "{a}"
    );
    assert_eq!(digest(&a), digest(&b));
    assert_eq!(digest(&a).len(), 16);
    // `replay` reports the same digest: one code path.
    let r = common::electsim(&["replay", script]);
    assert_eq!(r.status.code(), Some(0), "{}", common::stderr(&r));
    let last = common::stderr(&r);
    assert!(last.starts_with("ok: 11 steps of "), "{last}");
    assert_eq!(digest(&last), digest(&a));
    // stdout is the transcript: the script as it replays now, byte for byte.
    assert!(text(Path::new(script)).ends_with(&*String::from_utf8_lossy(&r.stdout)));
    // A script's `new` line fixes its scenario and seed.
    let o = common::electsim(&["check", script, "--seed", "3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(common::stderr(&o).contains("is a golden script"));
}

#[test]
fn replay_writes_a_timeline_and_a_perfetto_trace() {
    let dir = common::fresh_dir("replay", "outputs");
    let script = counterexample_dir().join("counterexample.txt");
    let (svg, json) = (dir.join("x.svg"), dir.join("x.json"));
    let o = common::electsim(&[
        "replay",
        script.to_str().unwrap(),
        "--timeline",
        svg.to_str().unwrap(),
        "--trace",
        json.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    let svg = text(&svg);
    assert!(svg.starts_with("<svg"), "{svg:.200}");
    // The step axis: its label, the title saying so, and the steps' commands.
    for want in [
        "script step",
        "held schedule: x is the script step, not virtual time",
        "3 deliver 1→0 VoteResponse",
        "5 crash 0",
        "8 deliver 0→2 VoteResponse",
    ] {
        assert!(svg.contains(want), "SVG lacks `{want}`");
    }
    assert!(!svg.contains("virtual time ("), "{svg:.400}");
    // The trace keeps the true virtual times: everything after the boot at 150 ms.
    let v: serde_json::Value = serde_json::from_str(&text(&json)).unwrap();
    assert!(v["traceEvents"].as_array().is_some_and(|e| !e.is_empty()));
}

#[test]
fn a_held_replay_refuses_a_virtual_time_window_and_writes_nothing() {
    let dir = common::fresh_dir("replay", "window");
    let script = counterexample_dir().join("counterexample.txt");
    let (svg, json) = (dir.join("x.svg"), dir.join("x.jsonl"));
    let o = common::electsim(&[
        "replay",
        script.to_str().unwrap(),
        "--timeline",
        svg.to_str().unwrap(),
        "--from",
        "149ms",
        "--trace",
        json.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", common::stderr(&o));
    let err = common::stderr(&o);
    assert!(
        err.contains("held schedule") && err.contains("script-step axis"),
        "{err}"
    );
    assert!(!svg.exists() && !json.exists(), "wrote a file");
}

/// The step-axis timeline of the counterexample: node 0 leads term 2 from step 3 (its
/// vote response) until its crash in step 5, and node 2 from step 8 to the end.
#[test]
fn the_counterexample_timeline_is_on_the_script_step_axis() {
    use electsim::report::timeline::{Axis, STEP_NS};
    use electsim::sim::Role;
    let script = counterexample_dir().join("counterexample.txt");
    let r = electsim::replay::replay_file(&script, 1_000_000).unwrap();
    assert!(r.held);
    let (tl, axis) = r.step_timeline().expect("a held schedule");
    let Axis::Steps(commands) = axis else {
        panic!("{axis:?}")
    };
    assert_eq!(commands.len(), 11, "{commands:?}");
    assert!(commands[3].starts_with("deliver 1 0 VoteResponse"));
    assert_eq!(tl.end_ns, 11 * STEP_NS);
    let step = |ns: u64| ns as f64 / STEP_NS as f64;
    let leaders: Vec<(u32, f64, f64, u64)> = tl
        .roles
        .iter()
        .filter(|r| r.3 == Role::Leader)
        .map(|&(n, s, e, _, t)| (n, step(s), step(e), t))
        .collect();
    assert_eq!(leaders, vec![(0, 3.0, 5.0, 2), (2, 8.0, 11.0, 2)]);
    let at_steps =
        |v: &[(u32, u64)]| -> Vec<(u32, f64)> { v.iter().map(|&(n, t)| (n, step(t))).collect() };
    assert_eq!(at_steps(&tl.elections), vec![(0, 3.0), (2, 8.0)]);
    assert_eq!(at_steps(&tl.crashes), vec![(0, 5.0)]);
    // Down from the crash (step 5) to the restart (step 6); a candidate from step 1.
    assert!(
        tl.roles
            .contains(&(0, 5 * STEP_NS, 6 * STEP_NS, Role::Down, 0)),
        "{:?}",
        tl.roles
    );
    assert!(
        tl.roles
            .contains(&(0, STEP_NS, 3 * STEP_NS, Role::Candidate, 2)),
        "{:?}",
        tl.roles
    );
    // The recording itself keeps the true virtual time: every step at 150 ms.
    assert!(
        r.recording
            .records
            .iter()
            .all(|x| x.at.0 == 0 || x.at.0 >= 150_000_000)
    );
}

#[test]
fn an_edited_expectation_fails_naming_its_line() {
    let dir = common::fresh_dir("replay", "edited");
    let original = text(&counterexample_dir().join("counterexample.txt"));
    let wrong = "150.000ms n2 candidate/t2 -> follower/t2";
    let edited = original.replace("150.000ms n2 candidate/t2 -> leader/t2", wrong);
    assert_ne!(edited, original);
    // The command whose expectation was edited: two lines above it.
    let edited_at = edited.lines().position(|l| l == wrong).unwrap() - 2;
    assert!(
        edited
            .lines()
            .nth(edited_at)
            .unwrap()
            .starts_with("deliver 0 2 VoteResponse")
    );
    let script = dir.join("cx.txt");
    std::fs::write(&script, &edited).unwrap();
    let trace = dir.join("cx.jsonl");
    let o = common::electsim(&[
        "replay",
        script.to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", common::stderr(&o));
    let err = common::stderr(&o);
    let at = format!("{}:{}: the replay differs", script.display(), edited_at + 1);
    assert!(err.contains(&at), "{err}");
    assert!(err.contains(&format!("expected:\n    {wrong}")), "{err}");
    assert!(
        err.contains("got:\n    150.000ms n2 candidate/t2 -> leader/t2"),
        "{err}"
    );
    // The trace of what happens now is still written, whole.
    assert!(text(&trace).ends_with("\"kind\":\"end\"}\n"));
}

#[test]
fn a_malformed_script_is_a_located_error_and_writes_nothing() {
    let dir = common::fresh_dir("replay", "malformed");
    let cases = [
        (
            "new algorithm=raft nodes=3\n----\nok\n\nelect 0\n----\n",
            ":5: unknown command `elect`",
        ),
        (
            "new algorithm=raft nodes=3\nstatus\n----\n",
            ":1: `new algorithm=raft nodes=3` has no `----`",
        ),
        (
            "new algorithm=raft nodes=-4\n----\nok\n",
            ":1: `new algorithm=raft nodes=-4`",
        ),
        (
            "new schedule=held scenario=no/such.toml\n----\nok\n",
            ":1: `new schedule=held scenario=no/such.toml`: cannot read scenario file `no/such.toml`",
        ),
    ];
    for (i, (script, want)) in cases.iter().enumerate() {
        let path = dir.join(format!("bad{i}.txt"));
        std::fs::write(&path, script).unwrap();
        let (trace, svg) = (
            dir.join(format!("t{i}.jsonl")),
            dir.join(format!("t{i}.svg")),
        );
        for args in [
            vec![
                "replay",
                path.to_str().unwrap(),
                "--trace",
                trace.to_str().unwrap(),
                "--timeline",
                svg.to_str().unwrap(),
            ],
            vec!["check", path.to_str().unwrap()],
        ] {
            let o = common::electsim(&args);
            let err = common::stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert!(
                err.contains(&format!("{}{want}", path.display())),
                "{args:?}: {err}"
            );
            assert!(!err.contains("panicked"), "{err}");
            assert!(!trace.exists() && !svg.exists(), "{args:?} wrote a file");
        }
    }
}

#[test]
fn every_golden_script_replays_as_recorded() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts");
    let mut n = 0;
    for group in std::fs::read_dir(&root).unwrap() {
        for f in std::fs::read_dir(group.unwrap().path()).unwrap() {
            let f = f.unwrap().path();
            let r = electsim::replay::replay_file(&f, 1_000_000).unwrap();
            assert!(r.mismatches.is_empty(), "{}", r.mismatch_message().unwrap());
            n += 1;
        }
    }
    assert!(n >= 20, "{n} scripts");
}
