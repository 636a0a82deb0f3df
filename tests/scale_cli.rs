//! `electsim scale` (issue 15's cost chart): the CSV-to-chart path on hand-made CSV files
//! (every algorithm named, unfinished points listed, bad cells named by line and column,
//! nothing written on bad input), and the measuring command on tiny clusters (one row per
//! (algorithm, nodes), each measured in its own process) and with a budget that stops a run.

mod common;
use common::{electsim, fresh_dir, stderr};

use electsim::scale::{self, Outcome};
use std::path::Path;

const HEADER: &str =
    "algorithm,nodes,outcome,events,cpu_s,run_cpu_s,wall_s,peak_rss_mib,load_avg_1m,detail\n";

fn write_csv(dir: &Path, rows: &str) {
    std::fs::write(dir.join("scale.csv"), format!("{HEADER}{rows}")).unwrap();
}

#[test]
fn charts_from_a_hand_made_csv_name_every_algorithm_and_every_unfinished_point() {
    let dir = fresh_dir("scale_cli", "hand_made");
    write_csv(
        &dir,
        "bully,10,finished,1000,0.004,0.001,0.01,7.0,1.50,\n\
         bully,1000,finished,2000000,0.6,0.5,0.7,60.0,1.50,\n\
         bully,100000,error,5000000,0.9,0.8,1.0,708.0,1.60,run failed: more than max_in_flight = 10000000 messages in flight\n\
         raft,10,finished,300,0.004,0.001,0.01,7.0,1.50,\n\
         raft,1000,timeout,,60.2,,61.0,12.0,1.50,killed at the 60 s CPU budget after 61.0 s wall\n\
         raft,100000,skipped,,,,,,1.70,n=1000 was stopped (over the CPU budget)\n\
         ring,10,finished,300,0.004,0.001,0.01,7.0,1.50,\n\
         ring,1000,timeout,,60.1,,80.0,300.0,1.50,killed at the 60 s CPU budget after 80.0 s wall\n",
    );
    let files = scale::report(&dir).expect("a valid CSV draws");
    for stem in ["scale-peak-rss", "scale-cpu"] {
        for ext in ["png", "svg"] {
            let f = dir.join(format!("{stem}.{ext}"));
            assert!(
                files.contains(&f),
                "{} not reported as written",
                f.display()
            );
            assert!(
                std::fs::metadata(&f).unwrap().len() > 1000,
                "{}",
                f.display()
            );
        }
        let svg = std::fs::read_to_string(dir.join(format!("{stem}.svg"))).unwrap();
        for name in ["bully", "raft", "ring", "did not finish"] {
            assert!(svg.contains(name), "{stem}.svg does not name {name}");
        }
        for note in [
            "bully 100k: max_in_flight error",
            "raft 1k: over the CPU budget",
            "raft 100k: skipped",
            "ring 1k: over the CPU budget",
        ] {
            assert!(svg.contains(note), "{stem}.svg does not list `{note}`");
        }
        assert!(
            !svg.contains("bully 1k:"),
            "a finished point is listed as unfinished"
        );
    }
    let md = std::fs::read_to_string(dir.join("scale.md")).unwrap();
    assert!(
        md.contains(
            "| bully | 0.004 s, 7 MiB | 0.600 s, 60 MiB | 0.900 s, 708 MiB: max_in_flight error |"
        ),
        "{md}"
    );
    assert!(
        md.contains("| raft | 0.004 s, 7 MiB | 60.200 s, 12 MiB: over the CPU budget | skipped |"),
        "{md}"
    );
    assert!(
        md.contains("load average while measuring: 1.50–1.70"),
        "{md}"
    );
    // The CSV reads back as written.
    let points = scale::read_csv(&dir.join("scale.csv")).unwrap();
    assert_eq!(points.len(), 8);
    assert_eq!(points[2].outcome, Outcome::Error);
    assert_eq!(points[5].cpu_s, None);
    assert_eq!(scale::read_csv(&dir.join("scale.csv")).unwrap(), points);
}

#[test]
fn a_bad_csv_cell_is_an_error_naming_line_and_column_and_nothing_is_drawn() {
    for (name, rows, want) in [
        (
            "nodes",
            "ring,10,finished,300,0.004,0.001,0.01,7.0,1.5,\nring,ten,finished,300,0.004,0.001,0.01,7.0,1.5,\n",
            "scale.csv:3: column `nodes`: `ten` is not a number",
        ),
        (
            "fraction",
            "ring,2.5,finished,300,0.004,0.001,0.01,7.0,1.5,\n",
            "scale.csv:2: column `nodes`: `2.5` is not a positive whole number",
        ),
        (
            "outcome",
            "ring,10,done,300,0.004,0.001,0.01,7.0,1.5,\n",
            "scale.csv:2: column `outcome`: `done` is not one of finished, error, timeout, rss_cap, skipped",
        ),
        (
            "rss",
            "ring,10,finished,300,0.004,0.001,0.01,lots,1.5,\n",
            "scale.csv:2: column `peak_rss_mib`: `lots` is not a number",
        ),
        (
            "missing",
            "ring,10,finished,300,0.004,0.001,0.01,,1.5,\n",
            "scale.csv:2: column `peak_rss_mib`: empty, but a `finished` point was measured",
        ),
    ] {
        let dir = fresh_dir("scale_cli", &format!("bad_{name}"));
        write_csv(&dir, rows);
        let err = scale::report(&dir).expect_err(name).to_string();
        assert!(err.contains(want), "{name}: {err}");
        assert!(
            !dir.join("scale-cpu.svg").exists(),
            "{name}: drew a chart from bad input"
        );
        assert!(
            !dir.join("scale.md").exists(),
            "{name}: wrote a table from bad input"
        );
        // The same through the command line: exit 2, the same message.
        let out = electsim(&["scale", "--charts-only", "--out", dir.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "{name}: {}", stderr(&out));
    }
}

#[test]
fn scale_on_tiny_clusters_writes_one_row_per_algorithm_and_size() {
    let dir = fresh_dir("scale_cli", "tiny");
    let out = electsim(&[
        "scale",
        "scenarios/scale.toml",
        "--set",
        "sweep.nodes=[3,5]",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let points = scale::read_csv(&dir.join("scale.csv")).unwrap();
    let got: Vec<(String, u32)> = points
        .iter()
        .map(|p| (p.algorithm.clone(), p.nodes))
        .collect();
    let mut want = Vec::new();
    for a in ["bully", "ring", "raft", "zookeeper", "etcd", "k8s"] {
        for n in [3, 5] {
            want.push((a.to_string(), n));
        }
    }
    assert_eq!(got, want);
    for p in &points {
        assert_eq!(p.outcome, Outcome::Finished, "{p:?}");
        assert!(p.events.is_some_and(|e| e > 0), "{p:?}");
        assert!(p.peak_rss_mib.is_some_and(|r| r > 0.0), "{p:?}");
        assert!(p.cpu_s.is_some_and(|c| c >= 0.0), "{p:?}");
        assert!(p.detail.is_empty(), "{p:?}");
    }
    // Same scenario and seed in every process: the event counts are a pure function of the
    // point (a second measurement agrees on them, never on timings).
    let again = fresh_dir("scale_cli", "tiny_again");
    let out = electsim(&[
        "scale",
        "scenarios/scale.toml",
        "--set",
        "sweep.nodes=[3,5]",
        "--out",
        again.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let events = |ps: &[scale::ScalePoint]| ps.iter().map(|p| p.events).collect::<Vec<_>>();
    assert_eq!(
        events(&scale::read_csv(&again.join("scale.csv")).unwrap()),
        events(&points)
    );
    for f in ["scale-peak-rss.svg", "scale-cpu.png", "scale.md"] {
        assert!(dir.join(f).exists(), "{f} missing");
    }
}

#[test]
fn a_point_over_the_budget_is_killed_and_larger_sizes_are_skipped() {
    let dir = fresh_dir("scale_cli", "budget");
    let out = electsim(&[
        "scale",
        "scenarios/scale.toml",
        "--set",
        "sweep.algorithm=[\"ring\"]",
        "--set",
        "sweep.nodes=[50000,100000]",
        "--budget-s",
        "0.000001",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let points = scale::read_csv(&dir.join("scale.csv")).unwrap();
    assert_eq!(points.len(), 2, "{points:?}");
    assert_eq!(points[0].outcome, Outcome::Timeout, "{points:?}");
    // Killed at the CPU budget or, before its first clock tick, at the wall-time guard
    // (3 x the budget): either way a timeout, named.
    assert!(points[0].detail.starts_with("killed at the "), "{points:?}");
    assert!(
        points[0].peak_rss_mib.is_some(),
        "a killed point keeps its figures"
    );
    assert_eq!(points[1].outcome, Outcome::Skipped, "{points:?}");
    assert!(
        points[1]
            .detail
            .starts_with("n=50000 was stopped (over the "),
        "{points:?}"
    );
    let svg = std::fs::read_to_string(dir.join("scale-cpu.svg")).unwrap();
    assert!(
        svg.contains("ring 50k: over the "),
        "unfinished point not named"
    );
    assert!(
        svg.contains("ring 100k: skipped"),
        "skipped point not named"
    );
}

#[test]
fn scale_rejects_bad_options_and_other_swept_keys() {
    let dir = fresh_dir("scale_cli", "bad_options");
    let d = dir.to_str().unwrap();
    for (args, want) in [
        (
            vec![
                "scale",
                "scenarios/scale.toml",
                "--budget-s",
                "0",
                "--out",
                d,
            ],
            "for '--budget-s <SECONDS>': 0 is not a number in 0.000001..=86400",
        ),
        (
            vec![
                "scale",
                "scenarios/scale.toml",
                "--rss-cap-mib=-5",
                "--out",
                d,
            ],
            "for '--rss-cap-mib <MIB>': -5 is not a number in 1..=1048576",
        ),
        (
            vec![
                "scale",
                "scenarios/scale.toml",
                "--set",
                "sweep.network.loss=[0,0.1]",
                "--out",
                d,
            ],
            "varies algorithm and nodes only, but `network.loss` is swept too",
        ),
        (vec!["scale", "--charts-only", "--out", d], "scale.csv"),
    ] {
        let out = electsim(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "{args:?}: {}", stderr(&out));
        assert!(!dir.join("scale.csv").exists(), "{args:?} wrote output");
    }
}
