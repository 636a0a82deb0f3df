//! `electsim matrix` (the README's main job) at a small size: it writes every CSV, chart and
//! MATRIX.md, and the bytes do not depend on the number of worker threads.

mod common;
use common::files_under;

use std::path::{Path, PathBuf};
use std::process::Command;

fn matrix(out: &Path, jobs: &str) {
    let _ = std::fs::remove_dir_all(out);
    let o = Command::new(env!("CARGO_BIN_EXE_electsim"))
        .args([
            "matrix",
            "--runs",
            "2",
            "--quiet",
            "--jobs",
            jobs,
            "--out",
            out.to_str().unwrap(),
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "matrix failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn small_matrix_is_byte_identical_for_any_jobs() {
    let base = std::env::temp_dir().join(format!("electsim-matrix-{}", std::process::id()));
    let (a, b) = (base.join("jobs1"), base.join("jobs2"));
    matrix(&a, "1");
    matrix(&b, "2");
    let (fa, fb) = (files_under(&a), files_under(&b));
    let rel = |v: &[PathBuf], root: &Path| {
        v.iter()
            .map(|p| p.strip_prefix(root).unwrap().to_path_buf())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        rel(&fa, &a),
        rel(&fb, &b),
        "the two runs wrote different file sets"
    );
    let names: Vec<String> = rel(&fa, &a)
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    for must in [
        "MATRIX.md",
        "cluster-size/runs.csv",
        "cluster-size/summary.csv",
        "partition/runs.csv",
        "lossy/summary.csv",
        "production-raft/AGREEMENT.md",
        "production-raft/runs.csv",
    ] {
        assert!(names.iter().any(|n| n == must), "missing {must}: {names:?}");
    }
    assert!(names.iter().any(|n| n.ends_with(".png")) && names.iter().any(|n| n.ends_with(".svg")));
    for (pa, pb) in fa.iter().zip(&fb) {
        assert!(
            std::fs::read(pa).unwrap() == std::fs::read(pb).unwrap(),
            "{} differs between --jobs 1 and 2",
            pa.display()
        );
    }
    let md = std::fs::read_to_string(a.join("MATRIX.md")).unwrap();
    for alg in [
        "bully",
        "ring",
        "raft",
        "raft-rs",
        "zookeeper",
        "etcd",
        "k8s",
    ] {
        assert!(
            md.contains(&format!("| {alg} |")),
            "MATRIX.md does not mention {alg}"
        );
    }
    let _ = std::fs::remove_dir_all(&base);
}
