//! `electsim explore` through the binary: exit codes, the repro files, the replay command.

mod common;
use common::{assert_exit, electsim, ok};

#[test]
fn a_found_bug_exits_1_and_writes_a_replayable_repro() {
    let dir = std::env::temp_dir().join(format!("electsim-explore-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = electsim(&[
        "explore",
        "scenarios/raft-leader-crash.toml",
        "--set",
        "raft.persist_vote=false",
        "--set",
        "duration=10s",
        "--seed",
        "4000",
        "--runs",
        "3000",
        "--jobs",
        "2",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_exit(&out, 1);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(": 1 violation(s)") && stdout.contains("election_safety"),
        "{stdout}"
    );
    let replay = stdout
        .lines()
        .find_map(|l| l.strip_prefix("replay: "))
        .expect("prints the replay command")
        .to_string();
    let toml = replay.strip_prefix("electsim run ").unwrap();
    let digest = toml
        .rsplit("repro-")
        .next()
        .unwrap()
        .trim_end_matches(".toml")
        .to_string();
    for ext in ["toml", "jsonl", "svg", "png"] {
        assert!(
            dir.join(format!("repro-{digest}.{ext}")).exists(),
            "missing .{ext}"
        );
    }
    let run = electsim(&["run", toml, "--strict"]);
    assert_eq!(
        run.status.code(),
        Some(1),
        "the repro replays the violation under --strict"
    );
    assert!(String::from_utf8_lossy(&run.stdout).contains(&format!("trace digest  {digest}")));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn no_bug_exits_0_and_time_bounds_the_search() {
    let out = electsim(&[
        "explore",
        "scenarios/raft-leader-crash.toml",
        "--set",
        "duration=8s",
        "--time",
        "1s",
        "--jobs",
        "2",
    ]);
    ok(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(": 0 violation(s)"), "{stdout}");
    let short = electsim(&[
        "explore",
        "scenarios/raft-leader-crash.toml",
        "--set",
        "duration=3s",
    ]);
    assert_eq!(short.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&short.stderr).contains("too short"));
}
