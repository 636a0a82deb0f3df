//! Helpers shared by the integration tests. Each test crate uses a subset, hence the
//! `dead_code` allowance.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Run the `electsim` binary from the package root (where `scenarios/` is), without
/// backtraces in its stderr.
pub fn electsim(args: &[&str]) -> Output {
    electsim_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

/// Run the `electsim` binary in `dir`.
pub fn electsim_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_electsim"))
        .args(args)
        .current_dir(dir)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run electsim")
}

/// An empty directory `<cargo's test tmp dir>/<group>/<name>` (emptied if it exists).
pub fn fresh_dir(group: &str, name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(group)
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A command's stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Assert that a command exited with `code`, showing its stderr otherwise.
pub fn assert_exit(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "{}", stderr(o));
}

/// Assert that a command succeeded (exit 0), showing its stderr otherwise.
pub fn ok(o: &Output) {
    assert_exit(o, 0);
}

/// A file's text; a missing or unreadable file fails the test naming the path.
pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The names of the entries of `dir` (not recursive), sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Every file under `dir`, depth first, each directory's entries in name order.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, &mut v);
    v
}

/// Every file under `dir` (hidden ones included) as (path relative to `dir`, bytes), sorted;
/// empty if `dir` is missing.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    if !dir.is_dir() {
        return Vec::new();
    }
    let mut v: Vec<_> = files_under(dir)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p.strip_prefix(dir).unwrap().to_path_buf(), bytes)
        })
        .collect();
    v.sort();
    v
}

/// The scenario written in `text`, validated with no overrides (it must be valid).
pub fn scenario_from_text(text: &str) -> electsim::scenario::Scenario {
    let file = electsim::scenario::ScenarioFile::from_text(Path::new("test.toml"), text.into())
        .unwrap_or_else(|e| panic!("{e}"));
    file.instantiate(&[]).unwrap_or_else(|e| panic!("{e}"))
}

/// Options for a quiet sweep of `scenario` into `out`; everything else at its default.
pub fn sweep_options(scenario: &Path, out: &Path) -> electsim::sweep::SweepOptions {
    let mut o = electsim::sweep::SweepOptions::new(scenario);
    o.out = Some(out.to_path_buf());
    o.quiet = true;
    o
}

/// Assert that a repro file's `text` records the trace digest its run has now
/// (`trace digest <hex>` in its header).
pub fn assert_pinned_digest(text: &str, digest: &str) {
    assert!(
        text.contains(&format!("trace digest {digest}")),
        "the repro's trace changed (digest {digest})"
    );
}
