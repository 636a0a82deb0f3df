//! `--shard K/N` slices merged with `electsim merge` equal the single-machine sweep, byte
//! for byte; merge refuses incomplete or mixed shard sets.

mod common;
use common::fresh_dir;

use electsim::sweep::merge::{MergeOptions, merge};
use electsim::sweep::shard::Shard;
use electsim::sweep::{SweepError, SweepOptions, run_sweep};
use std::path::{Path, PathBuf};
use std::process::Command;

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
    let mut o = SweepOptions::new(scenario);
    o.out = Some(out.to_path_buf());
    o.jobs = Some(jobs);
    o.shard = shard;
    o.quiet = true;
    o
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
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
    })
    .unwrap_err();
    assert!(matches!(e, SweepError::Usage(_)), "{e}");
    assert!(!d.join("m").join("runs.csv").exists());
    m(vec![d.join("a2"), d.join("a1")]).unwrap();
}

#[test]
fn cli_shard_and_merge() {
    let (d, sc) = setup("cli");
    let bin = env!("CARGO_BIN_EXE_electsim");
    let out = d.join("x");
    let o = Command::new(bin)
        .arg("sweep")
        .arg(&sc)
        .arg("--out")
        .arg(&out)
        .args(["--shard", "3/2", "-q"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("K must be between 1 and 2"));
    assert!(!out.exists(), "nothing is written on bad usage");
    for k in 1..=2 {
        let o = Command::new(bin)
            .arg("sweep")
            .arg(&sc)
            .arg("--out")
            .arg(d.join(format!("s{k}")))
            .args(["--shard", &format!("{k}/2"), "-q", "-j", "1"])
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let o = Command::new(bin)
        .arg("merge")
        .arg(d.join("s2"))
        .arg(d.join("s1"))
        .arg("--out")
        .arg(d.join("m"))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    run_sweep(&opts(&sc, &d.join("single"), 2, None)).unwrap();
    assert_eq!(
        read(&d.join("single").join("runs.csv")),
        read(&d.join("m").join("runs.csv"))
    );
    let o = Command::new(bin)
        .arg("merge")
        .arg(d.join("s2"))
        .arg("--out")
        .arg(d.join("m2"))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
