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
