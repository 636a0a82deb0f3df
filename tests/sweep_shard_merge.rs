//! `--shard K/N` slices merged with `electsim merge` equal the single-machine sweep, byte
//! for byte; merge refuses incomplete or mixed shard sets.

mod common;
use common::{assert_exit, electsim, fresh_dir, ok, read, sweep_options};

use electsim::sweep::merge::{MergeOptions, merge};
use electsim::sweep::outdir::Replace;
use electsim::sweep::shard::Shard;
use electsim::sweep::{SweepError, SweepOptions, run_sweep};
use std::path::{Path, PathBuf};

const SMALL: &str = r#"
name = "shards"
algorithm = "raft"
duration = "3s"
seed = 11
runs = 5

[sweep]
nodes = [3, 4, 5]
network.loss = [0.0, 0.05]

[raft]
heartbeat = "50ms"

[[fault]]
at = "1s"
every = "1s"
crash = "leader"
restart_after = "400ms"
"#;

fn opts(scenario: &Path, out: &Path, jobs: usize, shard: Option<Shard>) -> SweepOptions {
    let mut o = sweep_options(scenario, out);
    o.jobs = Some(jobs);
    o.shard = shard;
    o
}

fn setup(name: &str) -> (PathBuf, PathBuf) {
    let d = fresh_dir("sweep_shard_merge", name);
    let sc = d.join("shards.toml");
    std::fs::write(&sc, SMALL).unwrap();
    (d, sc)
}

#[test]
fn merged_shards_equal_the_single_machine_output() {
    let (d, sc) = setup("equal");
    run_sweep(&opts(&sc, &d.join("single"), 2, None)).unwrap();
    let mut dirs = Vec::new();
    let mut rows = 0;
    for k in [3, 1, 2] {
        let out = d.join(format!("shard{k}"));
        let r = run_sweep(&opts(
            &sc,
            &out,
            k as usize,
            Some(Shard { index: k, count: 3 }),
        ))
        .unwrap();
        assert!(!r.complete);
        assert!(!out.join("summary.csv").exists(), "a shard has no summary");
        rows += r.runs_selected;
        dirs.push(out);
    }
    assert_eq!(rows, 30);
    let merged = d.join("merged");
    let r = merge(&MergeOptions {
        dirs,
        out: merged.clone(),
        charts: true,
        replace: Replace::SameSweep,
    })
    .unwrap();
    assert_eq!((r.runs_total, r.failed_runs), (30, 0));
    for f in ["runs.csv", "summary.csv", "elections.csv", "sweep.json"] {
        assert!(
            read(&d.join("single").join(f)) == read(&merged.join(f)),
            "{f}: merged differs from single"
        );
    }
}

#[test]
fn shard_of_one_is_the_whole_sweep() {
    let (d, sc) = setup("one");
    run_sweep(&opts(&sc, &d.join("single"), 1, None)).unwrap();
    run_sweep(&opts(
        &sc,
        &d.join("s1"),
        2,
        Some(Shard { index: 1, count: 1 }),
    ))
    .unwrap();
    assert_eq!(
        read(&d.join("single").join("runs.csv")),
        read(&d.join("s1").join("runs.csv"))
    );
    merge(&MergeOptions {
        dirs: vec![d.join("s1")],
        out: d.join("m"),
        charts: false,
        replace: Replace::SameSweep,
    })
    .unwrap();
    assert_eq!(
        read(&d.join("single").join("summary.csv")),
        read(&d.join("m").join("summary.csv"))
    );
}

#[test]
fn merge_refuses_missing_duplicate_and_foreign_shards() {
    let (d, sc) = setup("refuse");
    let s = |k| Some(Shard { index: k, count: 2 });
    run_sweep(&opts(&sc, &d.join("a1"), 1, s(1))).unwrap();
    run_sweep(&opts(&sc, &d.join("a2"), 1, s(2))).unwrap();
    let other = d.join("other.toml");
    std::fs::write(&other, SMALL.replace("seed = 11", "seed = 12")).unwrap();
    run_sweep(&opts(&other, &d.join("b2"), 1, s(2))).unwrap();

    let m = |dirs: Vec<PathBuf>| {
        merge(&MergeOptions {
            dirs,
            out: d.join("m"),
            charts: false,
            replace: Replace::SameSweep,
        })
    };
    let e = m(vec![d.join("a1")]).unwrap_err();
    assert!(
        matches!(e, SweepError::Usage(ref s) if s.contains("missing shard(s) 2/2")),
        "{e}"
    );
    let e = m(vec![d.join("a1"), d.join("a1"), d.join("a2")]).unwrap_err();
    assert!(e.to_string().contains("given twice"), "{e}");
    let e = m(vec![d.join("a1"), d.join("b2")]).unwrap_err();
    assert!(matches!(e, SweepError::Mismatch(_)), "{e}");
    let e = merge(&MergeOptions {
        dirs: vec![d.join("a1"), d.join("a2")],
        out: d.join("a2"),
        charts: false,
        replace: Replace::SameSweep,
    })
    .unwrap_err();
    assert!(matches!(e, SweepError::Usage(_)), "{e}");
    assert!(!d.join("m").join("runs.csv").exists());
    m(vec![d.join("a2"), d.join("a1")]).unwrap();
}

#[test]
fn cli_shard_and_merge() {
    let (d, scenario) = setup("cli");
    let sc = scenario.to_str().unwrap();
    let path = |name: &str| d.join(name).to_str().unwrap().to_string();
    let o = electsim(&["sweep", sc, "--out", &path("x"), "--shard", "3/2", "-q"]);
    assert_exit(&o, 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("K must be between 1 and 2"));
    assert!(!d.join("x").exists(), "nothing is written on bad usage");
    for k in 1..=2 {
        let (out, shard) = (path(&format!("s{k}")), format!("{k}/2"));
        ok(&electsim(&[
            "sweep", sc, "--out", &out, "--shard", &shard, "-q", "-j", "1",
        ]));
    }
    ok(&electsim(&[
        "merge",
        &path("s2"),
        &path("s1"),
        "--out",
        &path("m"),
    ]));
    run_sweep(&opts(&scenario, &d.join("single"), 2, None)).unwrap();
    assert_eq!(
        read(&d.join("single").join("runs.csv")),
        read(&d.join("m").join("runs.csv"))
    );
    assert_exit(&electsim(&["merge", &path("s2"), "--out", &path("m2")]), 2);
}

/// Issue 16 item 4: rows moved between shards, duplicated or deleted are refused, naming
/// the file, and nothing is written.
#[test]
fn merge_refuses_tampered_shards() {
    let (d, sc) = setup("tamper");
    let s = |k| Some(Shard { index: k, count: 2 });
    run_sweep(&opts(&sc, &d.join("t1"), 1, s(1))).unwrap();
    run_sweep(&opts(&sc, &d.join("t2"), 1, s(2))).unwrap();
    let lines = |k: u32| -> Vec<String> {
        read(&d.join(format!("t{k}")).join("runs.csv"))
            .lines()
            .map(|l| format!("{l}\n"))
            .collect()
    };
    let (a, b) = (lines(1), lines(2));
    // Copy the pair into fresh directories with tampered runs.csv.
    let case = |name: &str, a: Vec<String>, b: Vec<String>| {
        let (x, y) = (d.join(format!("{name}1")), d.join(format!("{name}2")));
        for (dir, rows, k) in [(&x, &a, 1), (&y, &b, 2)] {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::copy(
                d.join(format!("t{k}")).join("sweep.json"),
                dir.join("sweep.json"),
            )
            .unwrap();
            std::fs::write(dir.join("runs.csv"), rows.concat()).unwrap();
        }
        let out = d.join(format!("{name}-out"));
        let e = merge(&MergeOptions {
            dirs: vec![x, y],
            out: out.clone(),
            charts: false,
            replace: Replace::SameSweep,
        })
        .unwrap_err();
        assert!(!out.exists(), "{name}: nothing is written");
        e.to_string()
    };
    // The last row of shard 1 (run 28) moved into shard 2 where it sorts (before run 29).
    let mut a1 = a.clone();
    let moved = a1.pop().unwrap();
    let mut b1 = b.clone();
    let last = b1.len() - 1;
    b1.insert(last, moved);
    let e = case("moved", a1, b1);
    assert!(e.contains("belongs to shard 1/2"), "{e}");
    assert!(e.contains("moved2/runs.csv"), "{e}");
    // A duplicated row plus a deleted row: the count still matches.
    let mut a2 = a.clone();
    let dup = a2[3].clone();
    a2.insert(3, dup);
    a2.remove(6);
    let e = case("dup", a2, b.clone());
    assert!(e.contains("dup1/runs.csv"), "{e}");
    assert!(
        e.contains("duplicated row") || e.contains("not sorted"),
        "{e}"
    );
    // Shard 1's last row copied into shard 2 where it sorts, one of shard 2's rows deleted.
    let mut b4 = b.clone();
    let last = b4.len() - 1;
    b4.insert(last, a.last().unwrap().clone());
    b4.remove(2);
    let e = case("cross", a.clone(), b4);
    assert!(e.contains("a row is missing"), "{e}");
    // A deleted row alone.
    let mut a3 = a.clone();
    a3.remove(2);
    let e = case("del", a3, b.clone());
    assert!(e.contains("a row is missing"), "{e}");
}
