//! Coverage counts on the command line: the `coverage` object of `run --format json`, the
//! `coverage_*` columns of runs.csv and summary.csv, and the sweep's coverage warnings.
//! (Exact counts on hand-built schedules: `tests/scripts/coverage/*.txt` and the unit tests
//! in `src/sim/coverage.rs`.)

mod common;
use common::{electsim, electsim_in, fresh_dir, ok, stderr};

const NAMES: [&str; 8] = [
    "split_votes",
    "pre_vote_rejections",
    "check_quorum_step_downs",
    "lease_expiries",
    "watch_notifications",
    "fencing_rejections",
    "bully_higher_answers",
    "ring_token_skips",
];

fn run_json(args: &[&str]) -> serde_json::Value {
    let mut a = vec!["run"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["--format", "json"]);
    let o = electsim(&a);
    ok(&o);
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn run_json_has_a_coverage_object_with_exactly_the_eight_counts() {
    let j = run_json(&[
        "scenarios/zookeeper-leader-crash.toml",
        "--set",
        "duration=20s",
    ]);
    let cov = j["coverage"].as_object().expect("coverage object");
    let keys: Vec<&str> = cov.keys().map(String::as_str).collect();
    let mut want = NAMES.to_vec();
    want.sort_unstable();
    let mut got = keys.clone();
    got.sort_unstable();
    assert_eq!(got, want);
    assert!(cov.values().all(|v| v.is_u64()), "{cov:?}");
    // Fencing rejections are the service's StaleActionRejected replies.
    assert_eq!(cov["fencing_rejections"], j["stale_actions_rejected"]);
    assert_eq!(
        cov["watch_notifications"].as_u64().unwrap(),
        j["messages_by_kind"]["WatchEvent"]["sent"]
            .as_u64()
            .unwrap()
    );
    // Raft, Bully and Ring situations cannot happen in a ZooKeeper recipe's participants.
    for k in [
        "split_votes",
        "pre_vote_rejections",
        "check_quorum_step_downs",
        "bully_higher_answers",
        "ring_token_skips",
    ] {
        assert_eq!(cov[k], 0, "{k}");
    }
    // A Bully run: every Answer goes from a higher id to a lower one.
    let b = run_json(&["scenarios/bully-leader-crash.toml"]);
    let answers = b["messages_by_kind"]["Answer"]["sent"].as_u64().unwrap();
    assert!(answers > 0);
    assert_eq!(
        b["coverage"]["bully_higher_answers"].as_u64().unwrap(),
        answers
    );
}

fn sweep(dir: &std::path::Path, toml: &str) -> (String, Vec<String>, Vec<Vec<String>>, String) {
    std::fs::write(dir.join("s.toml"), toml).unwrap();
    let o = electsim_in(dir, &["sweep", "s.toml", "--no-charts", "--out", "out"]);
    ok(&o);
    let runs = std::fs::read_to_string(dir.join("out/runs.csv")).unwrap();
    let mut lines = runs.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    let summary = std::fs::read_to_string(dir.join("out/summary.csv")).unwrap();
    (stderr(&o), header, rows, summary)
}

const LOSSY: &str = r#"
name = "cov"
algorithm = "raft"
nodes = 5
duration = "DURATION"
runs = 3

[network]
loss = LOSS
"#;

#[test]
fn a_lossy_raft_sweep_without_split_votes_warns_once() {
    let d = fresh_dir("coverage", "quiet-loss");
    let toml = LOSSY
        .replace("DURATION", "1s")
        .replace("LOSS", "0.001")
        .replace("runs = 3", "runs = 3\n[sweep]\nnodes = [3, 5]");
    let (err, header, rows, summary) = sweep(&d, &toml);
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let sv = col("coverage_split_votes");
    assert!(rows.iter().all(|r| r[sv] == "0"), "{rows:?}");
    let warnings: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("saw no split vote"))
        .collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(warnings[0].starts_with("warning: coverage: "), "{err}");
    assert!(warnings[0].contains("point(s) 0 (3); 1 (5)"), "{err}");
    // The coverage columns come after the msg_* columns, in a fixed order, and summary.csv
    // summarises each (mean per run among them).
    let first = col("coverage_split_votes");
    for (i, n) in NAMES.iter().enumerate() {
        assert_eq!(header[first + i], format!("coverage_{n}"));
    }
    assert!(header[first - 1].starts_with("msg_"), "{header:?}");
    assert_eq!(header[first + NAMES.len()], "election_log");
    let sh = summary.lines().next().unwrap();
    for n in NAMES {
        assert!(sh.contains(&format!(",coverage_{n}_mean,")), "{sh}");
    }
}

#[test]
fn split_votes_under_heavy_loss_silence_the_warning() {
    let d = fresh_dir("coverage", "heavy-loss");
    let toml = LOSSY.replace("DURATION", "20s").replace("LOSS", "0.3");
    let (err, header, rows, summary) = sweep(&d, &toml);
    let sv = header
        .iter()
        .position(|h| h == "coverage_split_votes")
        .unwrap();
    let total: u64 = rows.iter().map(|r| r[sv].parse::<u64>().unwrap()).sum();
    assert!(total > 0, "{rows:?}");
    assert!(!err.contains("warning: coverage"), "{err}");
    // summary.csv: coverage_split_votes_mean is the mean over the three runs.
    let sh: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = summary.lines().nth(1).unwrap().split(',').collect();
    let mean = sh
        .iter()
        .position(|h| *h == "coverage_split_votes_mean")
        .unwrap();
    let want = total as f64 / 3.0;
    assert!(
        (row[mean].parse::<f64>().unwrap() - want).abs() < 1e-6,
        "{row:?}"
    );
}
