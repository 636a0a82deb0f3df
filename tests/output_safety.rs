//! Issue 16: a results directory is never lost or mixed. A sweep refuses to overwrite
//! another sweep's or someone else's files without `--force`, keeps the old results until the
//! new ones are complete, clears stale charts it owns, and refuses a concurrent sweep into
//! the same directory at once.

mod common;
use common::{assert_exit, electsim_in, fresh_dir, names, ok, snapshot, stderr};

use electsim::sweep::Plan;
use electsim::sweep::outdir::stage_path;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SMALL: &str = r#"
name = "safe"
algorithm = "raft"
duration = "2s"
runs = 3

[sweep]
nodes = [3, 5]

[[fault]]
at = "1s"
crash = "leader"
restart_after = "300ms"
"#;

/// Long enough (2000 runs of 20 virtual seconds, seconds of work) to be interrupted in the middle.
const BIG: &str = r#"
name = "safe"
algorithm = "raft"
duration = "20s"
runs = 1000

[sweep]
nodes = [3, 5]

[[fault]]
at = "1s"
every = "1s"
crash = "leader"
restart_after = "400ms"
"#;

#[test]
fn default_out_refuses_to_replace_another_sweep() {
    let d = fresh_dir("output_safety", "default");
    std::fs::write(d.join("safe.toml"), SMALL).unwrap();
    ok(&electsim_in(&d, &["sweep", "safe.toml", "-q"]));
    let res = d.join("results/safe");
    let before = snapshot(&res);
    assert!(before.iter().any(|(p, _)| p.starts_with("charts")));
    // The issue's case: a quick sweep with the default --out over finished results.
    let o = electsim_in(
        &d,
        &["sweep", "safe.toml", "--runs", "2", "--no-charts", "-q"],
    );
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("refusing to overwrite `results/safe`")
            && stderr(&o).contains("another sweep")
            && stderr(&o).contains("--force"),
        "{}",
        stderr(&o)
    );
    assert_eq!(snapshot(&res), before, "refused: not a byte changed");
    assert_eq!(names(&d.join("results")), ["safe"], "no lock or stage left");
    // With --force it is replaced whole: the old charts do not stay beside new CSVs.
    ok(&electsim_in(
        &d,
        &[
            "sweep",
            "safe.toml",
            "--runs",
            "2",
            "--no-charts",
            "-q",
            "--force",
        ],
    ));
    assert_eq!(
        names(&res),
        ["elections.csv", "runs.csv", "summary.csv", "sweep.json"]
    );
    assert_eq!(
        std::fs::read_to_string(res.join("runs.csv"))
            .unwrap()
            .lines()
            .count(),
        1 + 4
    );
}

#[test]
fn foreign_files_are_refused_and_kept() {
    let d = fresh_dir("output_safety", "foreign");
    std::fs::write(d.join("safe.toml"), SMALL).unwrap();
    let mine = d.join("mine");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("runs.csv"), "my,own\n1,2\n").unwrap();
    std::fs::write(mine.join("summary.csv"), "my summary\n").unwrap();
    std::fs::write(mine.join("notes.txt"), "keep me\n").unwrap();
    let before = snapshot(&mine);
    let o = electsim_in(&d, &["sweep", "safe.toml", "--out", "mine", "-q"]);
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("runs.csv, summary.csv but no valid sweep.json"),
        "{}",
        stderr(&o)
    );
    assert_eq!(snapshot(&mine), before);
    // --force replaces the results files, never a file electsim does not write.
    ok(&electsim_in(
        &d,
        &[
            "sweep",
            "safe.toml",
            "--out",
            "mine",
            "-q",
            "--no-charts",
            "--force",
        ],
    ));
    assert_eq!(
        names(&mine),
        [
            "elections.csv",
            "notes.txt",
            "runs.csv",
            "summary.csv",
            "sweep.json"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(mine.join("notes.txt")).unwrap(),
        "keep me\n"
    );
    // merge follows the same rule.
    ok(&electsim_in(
        &d,
        &["sweep", "safe.toml", "--out", "s1", "--shard", "1/1", "-q"],
    ));
    std::fs::create_dir_all(d.join("m")).unwrap();
    std::fs::write(d.join("m/summary.csv"), "x\n").unwrap();
    let o = electsim_in(&d, &["merge", "s1", "--out", "m", "--no-charts"]);
    assert_exit(&o, 2);
    assert_eq!(
        std::fs::read_to_string(d.join("m/summary.csv")).unwrap(),
        "x\n"
    );
    ok(&electsim_in(
        &d,
        &["merge", "s1", "--out", "m", "--no-charts", "--force"],
    ));
    assert_eq!(
        std::fs::read(d.join("m/runs.csv")).unwrap(),
        std::fs::read(d.join("mine/runs.csv")).unwrap()
    );
}

/// Start a sweep of BIG into `out` and return once its journal has a few rows.
fn start_big(d: &Path, out: &Path) -> std::process::Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_electsim"))
        .arg("sweep")
        .arg(d.join("big.toml"))
        .args(["-q", "-j", "1", "--no-charts", "--out"])
        .arg(out)
        .current_dir(d)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let journal = stage_path(out).unwrap().join("runs.partial.csv");
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        assert!(child.try_wait().unwrap().is_none(), "the sweep ended early");
        let rows = std::fs::read_to_string(&journal)
            .map(|s| s.lines().count())
            .unwrap_or(0);
        if rows > 5 {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child
}

#[test]
fn rerun_keeps_old_results_until_the_new_ones_are_complete() {
    let d = fresh_dir("output_safety", "rerun");
    std::fs::write(d.join("big.toml"), BIG).unwrap();
    // Old results of this very sweep (its manifest), with recognisable bytes.
    let plan = Plan::build(&d.join("big.toml"), &[], None).unwrap();
    let out = d.join("out");
    std::fs::create_dir_all(out.join("charts")).unwrap();
    std::fs::write(out.join("sweep.json"), plan.manifest.to_json()).unwrap();
    std::fs::write(out.join("runs.csv"), "old runs\n").unwrap();
    std::fs::write(out.join("summary.csv"), "old summary\n").unwrap();
    std::fs::write(out.join("charts/old.svg"), "<svg/>").unwrap();
    let before = snapshot(&out);
    // Rerun without --resume, killed in the middle: the old results stay, whole.
    let mut child = start_big(&d, &out);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        snapshot(&out),
        before,
        "a killed rerun leaves the old results"
    );
    // Its journal is kept for --resume, beside (not inside) the results.
    let journal = stage_path(&out).unwrap().join("runs.partial.csv");
    assert!(journal.is_file());
}

#[test]
fn a_concurrent_sweep_is_refused_at_once_and_a_dead_lock_does_not_block() {
    let d = fresh_dir("output_safety", "lock");
    std::fs::write(d.join("big.toml"), BIG).unwrap();
    let mut first = start_big(&d, &d.join("out"));
    let t = Instant::now();
    let o = electsim_in(&d, &["sweep", "big.toml", "--out", "out", "-q"]);
    assert_exit(&o, 2);
    assert!(t.elapsed() < Duration::from_secs(10), "refused at once");
    assert!(
        stderr(&o).contains("`out` is being written by another electsim process (pid")
            && stderr(&o).contains(&first.id().to_string()),
        "{}",
        stderr(&o)
    );
    // kill -9: the lock file stays behind, but the OS released the lock.
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(d.join(".out.electsim-lock").exists());
    let o = electsim_in(
        &d,
        &[
            "sweep",
            "big.toml",
            "--out",
            "out",
            "-q",
            "--runs",
            "2",
            "--no-charts",
        ],
    );
    ok(&o);
    assert_eq!(names(&d), ["big.toml", "out"], "lock and stage are gone");
}

#[test]
fn matrix_regenerates_in_place_without_a_diff() {
    let base = fresh_dir("output_safety", "matrix");
    let run = || {
        let o = Command::new(env!("CARGO_BIN_EXE_electsim"))
            .args(["matrix", "--runs", "2", "--quiet", "--out"])
            .arg(&base)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        ok(&o);
    };
    run();
    let first = snapshot(&base);
    run();
    assert_eq!(
        snapshot(&base),
        first,
        "a second matrix run changes nothing"
    );
}

/// Item 1: `--trace` writes through a symlink (the link stays), into a FIFO or a character
/// device (never replacing it), and refuses a directory or a missing directory with exit 2.
#[test]
fn trace_never_replaces_a_symlink_fifo_or_device() {
    use std::os::unix::fs::FileTypeExt;
    let d = fresh_dir("output_safety", "trace");
    std::fs::write(d.join("s.toml"), "duration = \"2s\"\n").unwrap();
    std::os::unix::fs::symlink("real.jsonl", d.join("link.jsonl")).unwrap();
    // A dangling link: the file it names is created.
    ok(&electsim_in(
        &d,
        &["run", "s.toml", "--trace", "link.jsonl"],
    ));
    let meta = std::fs::symlink_metadata(d.join("link.jsonl")).unwrap();
    assert!(meta.file_type().is_symlink(), "the link stays a link");
    let first = std::fs::read(d.join("real.jsonl")).unwrap();
    assert!(first.starts_with(b"{\"seq\":0"));
    // An existing target is replaced through the link (a file electsim did not write only
    // with --force).
    std::fs::write(d.join("real.jsonl"), "old").unwrap();
    assert_exit(
        &electsim_in(&d, &["run", "s.toml", "--trace", "link.jsonl"]),
        2,
    );
    assert_eq!(std::fs::read(d.join("real.jsonl")).unwrap(), b"old");
    ok(&electsim_in(
        &d,
        &["run", "s.toml", "--trace", "link.jsonl", "--force"],
    ));
    assert!(
        std::fs::symlink_metadata(d.join("link.jsonl"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read(d.join("real.jsonl")).unwrap(), first);
    // A FIFO is written into, not replaced.
    let fifo = d.join("trace.fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    ok(&electsim_in(
        &d,
        &["run", "s.toml", "--trace", "trace.fifo"],
    ));
    assert_eq!(reader.join().unwrap(), first);
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
    // Character devices: /dev/null takes it; /dev/full fails the write (exit 1) and stays.
    ok(&electsim_in(&d, &["run", "s.toml", "--trace", "/dev/null"]));
    let o = electsim_in(&d, &["run", "s.toml", "--trace", "/dev/full"]);
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("/dev/full"), "{}", stderr(&o));
    for dev in ["/dev/null", "/dev/full"] {
        let m = std::fs::symlink_metadata(dev).unwrap();
        assert!(m.file_type().is_char_device(), "{dev} is still a device");
    }
    // A directory, or a file in a missing directory: bad usage, exit 2, nothing run.
    for (path, msg) in [
        (".", "is not a regular file"),
        ("nodir/t.jsonl", "the directory `nodir` does not exist"),
    ] {
        let o = electsim_in(&d, &["run", "s.toml", "--trace", path]);
        assert_eq!(o.status.code(), Some(2), "{path}: {}", stderr(&o));
        assert!(stderr(&o).contains(msg), "{path}: {}", stderr(&o));
    }
}

/// Items 5 and 6: a seed is a u64 everywhere (file, `--set`, repro), and the printed
/// re-explore command reproduces the finding (it carries `--within` and `--max-faults`).
#[test]
fn u64_seeds_and_reexplore_commands_reproduce() {
    let d = fresh_dir("output_safety", "seeds");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sc = root.join("scenarios/bully-partition.toml");
    let sc = sc.to_str().unwrap();
    let explore = |seed: &str, out: &str, extra: &[&str]| {
        let mut args = vec![
            "explore",
            sc,
            "--set",
            "algorithm=bully",
            "--set",
            "duration=20s",
            "--seed",
            seed,
            "--property",
            "split_brain",
            "--faults",
            "partition",
            "--no-shrink",
            "--out",
            out,
        ];
        args.extend_from_slice(extra);
        let o = electsim_in(&d, &args);
        assert_exit(&o, 1);
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let stdout = explore(
        "9223372036854775808",
        "a",
        &["--runs", "20", "--within", "2s", "--max-faults", "3"],
    );
    // The finding line and its re-explore command.
    let line = stdout
        .lines()
        .find(|l| l.contains("re-explore: "))
        .expect("a finding")
        .to_string();
    let (finding, cmd) = line.split_once("; re-explore: ").unwrap();
    assert!(
        cmd.contains("--within 2s") && cmd.contains("--max-faults 3"),
        "{cmd}"
    );
    let seed = cmd
        .split("--seed ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    assert!(seed.parse::<u64>().unwrap() >= 9223372036854775808);
    // The repro loads and replays: its seed is written as a string above i64::MAX.
    let repro = std::fs::read_dir(d.join("a"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "toml"))
        .unwrap();
    let text = std::fs::read_to_string(&repro).unwrap();
    assert!(text.contains(&format!("seed = \"{seed}\"")), "{text}");
    ok(&electsim_in(&d, &["run", repro.to_str().unwrap()]));
    // Re-exploring with the printed flags finds the same thing (run #1 now).
    let again = explore(
        seed,
        "b",
        &["--runs", "1", "--within", "2s", "--max-faults", "3"],
    );
    let detail = finding.split_once(": ").unwrap().1;
    assert!(again.contains(detail), "{detail}\n{again}");
    // The largest seed in a file (as a string), through --set, and the integer's hint.
    std::fs::write(d.join("max.toml"), "seed = \"18446744073709551615\"\n").unwrap();
    ok(&electsim_in(&d, &["validate", "max.toml"]));
    ok(&electsim_in(
        &d,
        &["validate", "max.toml", "--set", "seed=18446744073709551615"],
    ));
    std::fs::write(d.join("int.toml"), "seed = 18446744073709551615\n").unwrap();
    let o = electsim_in(&d, &["validate", "int.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("seed = \"18446744073709551615\""),
        "{}",
        stderr(&o)
    );
}

/// Item 7: `chart` on a CSV file cut off (mid-header or mid-row) fails with exit 2 naming
/// the file, and the existing charts stay.
#[test]
fn chart_refuses_a_cut_off_csv() {
    let d = fresh_dir("output_safety", "cut");
    std::fs::write(d.join("safe.toml"), SMALL).unwrap();
    ok(&electsim_in(
        &d,
        &["sweep", "safe.toml", "--out", "o", "-q"],
    ));
    let summary = std::fs::read(d.join("o/summary.csv")).unwrap();
    let header_len = summary.iter().position(|&b| b == b'\n').unwrap();
    let before = snapshot(&d.join("o/charts"));
    for (cut, line) in [(header_len / 2, 1), (header_len + 5, 2)] {
        std::fs::write(d.join("o/summary.csv"), &summary[..cut]).unwrap();
        let o = electsim_in(&d, &["chart", "o"]);
        assert_exit(&o, 2);
        assert!(
            stderr(&o).contains(&format!("summary.csv:{line}")) && stderr(&o).contains("cut off"),
            "{}",
            stderr(&o)
        );
        assert_eq!(snapshot(&d.join("o/charts")), before);
    }
    // Header only: no data rows.
    std::fs::write(d.join("o/summary.csv"), &summary[..=header_len]).unwrap();
    let o = electsim_in(&d, &["chart", "o"]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("no data rows"), "{}", stderr(&o));
}
