//! `elections.csv`: one row per election, consistent with runs.csv (its `elections` count and
//! `election_ms_max`), and each run's split-brain incidents listed with start, end and nodes.

mod common;

use common::{electsim, fresh_dir, ok};
use electsim::report::charts::Table;
use std::collections::BTreeMap;

#[test]
fn one_row_per_election_matching_runs_csv() {
    let dir = fresh_dir("elections_csv", "partition");
    let out = dir.to_str().unwrap();
    let o = electsim(&[
        "sweep",
        "scenarios/partition.toml",
        "--out",
        out,
        "--runs",
        "3",
        "-q",
        "--no-charts",
        "--set",
        "duration=10s",
        "--set",
        r#"sweep.algorithm=["bully","raft"]"#,
    ]);
    ok(&o);
    let runs = Table::read(&dir.join("runs.csv")).unwrap();
    let el = Table::read(&dir.join("elections.csv")).unwrap();
    assert_eq!(
        el.headers,
        [
            "scenario",
            "point",
            "replication",
            "seed",
            "param_algorithm",
            "param_fault_0_partition",
            "algorithm",
            "nodes",
            "election",
            "start_ms",
            "duration_ms",
            "leader",
            "terms_used",
            "messages",
            "election_messages",
            "cause"
        ]
    );
    // Causes: each run's first election is its boot; per run and cause, the rows agree with
    // runs.csv's `<cause>_count` columns; a partition scenario has cut-off leaders.
    let (c, k) = (el.col("cause").unwrap(), el.col("election").unwrap());
    let mut by_cause: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    for row in &el.rows {
        let cause = el.text(row, c).to_string();
        assert_eq!(el.text(row, k) == "0", cause == "boot", "{cause}");
        let key = (
            el.text(row, el.col("point").unwrap()).to_string(),
            el.text(row, el.col("replication").unwrap()).to_string(),
            cause,
        );
        *by_cause.entry(key).or_default() += 1;
    }
    assert!(
        by_cause.keys().any(|k| k.2 == "leader_cut_off"),
        "{by_cause:?}"
    );
    for row in &runs.rows {
        for cause in electsim::sim::cause::CAUSES {
            let key = (
                runs.text(row, runs.col("point").unwrap()).to_string(),
                runs.text(row, runs.col("replication").unwrap()).to_string(),
                cause.name().to_string(),
            );
            let col = format!("{}_count", cause.name());
            let n = runs.num_by(row, &col).unwrap().unwrap() as u64;
            assert_eq!(by_cause.get(&key).copied().unwrap_or(0), n, "{key:?}");
        }
    }
    // Per run (point, replication): count and longest election.
    let mut per_run: BTreeMap<(String, String), (u64, f64, String)> = BTreeMap::new();
    let (p, r, s) = (
        el.col("point").unwrap(),
        el.col("replication").unwrap(),
        el.col("seed").unwrap(),
    );
    let d = el.col("duration_ms").unwrap();
    for row in &el.rows {
        let e = per_run
            .entry((el.text(row, p).into(), el.text(row, r).into()))
            .or_insert((0, 0.0, el.text(row, s).into()));
        e.0 += 1;
        e.1 = e.1.max(el.num(row, d).unwrap().unwrap());
    }
    let mut total = 0;
    for row in &runs.rows {
        let key = (
            runs.text(row, runs.col("point").unwrap()).to_string(),
            runs.text(row, runs.col("replication").unwrap()).to_string(),
        );
        let n = runs.num_by(row, "elections").unwrap().unwrap() as u64;
        total += n;
        let got = per_run
            .get(&key)
            .cloned()
            .unwrap_or((0, 0.0, String::new()));
        assert_eq!(got.0, n, "run {key:?}: elections");
        if n > 0 {
            let max = runs.num_by(row, "election_ms_max").unwrap().unwrap();
            assert!(
                (got.1 - max).abs() < 1e-6,
                "run {key:?}: {} vs {max}",
                got.1
            );
            assert_eq!(got.2, runs.text(row, runs.col("seed").unwrap()), "seed");
        }
        // The split-brain list agrees with the count.
        let log = runs.text(row, runs.col("split_brain_log").unwrap());
        let listed = log.split(' ').filter(|x| !x.is_empty()).count() as u64;
        let count = runs.num_by(row, "split_brain_incidents").unwrap().unwrap() as u64;
        assert_eq!(listed, count, "run {key:?}: {log}");
    }
    assert!(total > 0);
    assert_eq!(el.rows.len() as u64, total);
}

#[test]
fn run_json_and_table_locate_split_brain_in_time() {
    let o = electsim(&[
        "run",
        "scenarios/partition.toml",
        "--set",
        "algorithm=bully",
        "--set",
        "duration=10s",
        "--format",
        "json",
    ]);
    ok(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let log = v["split_brain_log"].as_array().expect("split_brain_log");
    assert_eq!(
        log.len() as u64,
        v["split_brain_incidents"].as_u64().unwrap()
    );
    assert!(!log.is_empty(), "bully splits under partition");
    let total: f64 = log
        .iter()
        .map(|i| i["end_ms"].as_f64().unwrap() - i["start_ms"].as_f64().unwrap())
        .sum();
    assert!((total - v["split_brain_ms"].as_f64().unwrap()).abs() < 1e-3);
    assert!(log[0]["nodes"].as_array().unwrap().len() >= 2);
    let o = electsim(&[
        "run",
        "scenarios/partition.toml",
        "--set",
        "algorithm=bully",
        "--set",
        "duration=10s",
    ]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(
        table.contains(" ms to ") && table.contains("leaders "),
        "{table}"
    );
}

#[test]
fn perfetto_marks_split_brain_and_the_timeline_zooms() {
    let dir = fresh_dir("elections_csv", "perfetto");
    let trace = dir.join("run.json");
    let tl = dir.join("zoom.svg");
    let args = [
        "run",
        "scenarios/partition.toml",
        "--set",
        "algorithm=bully",
        "--set",
        "duration=10s",
        "--format",
        "json",
        "--trace",
        trace.to_str().unwrap(),
        "--timeline",
        tl.to_str().unwrap(),
        "--from",
        "3.1s",
        "--to",
        "3500ms",
    ];
    let o = electsim(&args);
    ok(&o);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&trace).unwrap()).unwrap();
    let events = doc["traceEvents"].as_array().unwrap();
    let slices: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["cat"] == "split_brain")
        .collect();
    let log = report["split_brain_log"].as_array().unwrap();
    assert_eq!(slices.len(), log.len());
    for (s, i) in slices.iter().zip(log) {
        assert_eq!(s["args"]["start_ms"], i["start_ms"]);
        assert_eq!(s["args"]["end_ms"], i["end_ms"]);
        assert_eq!(s["args"]["nodes"], i["nodes"]);
    }
    let tid = slices[0]["tid"].clone();
    assert!(
        events.iter().any(|e| e["name"] == "thread_name"
            && e["tid"] == tid
            && e["args"]["name"] == "split brain"),
        "a track of its own"
    );
    let svg = std::fs::read_to_string(&tl).unwrap();
    assert!(svg.contains("virtual time 3100–3500 ms"), "zoomed title");
    assert!(
        svg.contains("\n3100\n") && svg.contains("\n3500\n"),
        "window ticks"
    );
    // --to before --from is a usage error that writes nothing.
    let bad = dir.join("bad.svg");
    let o = electsim(&[
        "run",
        "scenarios/partition.toml",
        "--timeline",
        bad.to_str().unwrap(),
        "--from",
        "2s",
        "--to",
        "1s",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--to must be after --from"));
    assert!(!bad.exists());
}
