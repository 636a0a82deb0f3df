//! The output-path policy of every command (docs/data-safety.md, "Outputs"): streams are
//! written, never replaced; an output that is an input, another output, or a file electsim
//! did not write is refused before any work (exit 2, nothing written); writers whose
//! directories nest exclude each other; a `kill -9` at the worst moment of a swap or an
//! install loses nothing, and the next command finishes the job.

mod common;
use common::{assert_exit, electsim_in, fresh_dir, names, ok, read, snapshot, stderr};

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SHORT: &str = "duration = \"2s\"\n";

/// A sweep long enough (2000 runs of 20 s) to be caught running.
const BIG: &str = r#"
name = "big"
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

const SMALL: &str = r#"
name = "small"
algorithm = "raft"
duration = "2s"
runs = 2

[sweep]
nodes = [3, 5]
"#;

fn electsim_cmd(d: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_electsim"));
    c.args(args).current_dir(d);
    c
}

/// `--trace /dev/stdout >> app.log` (and `/dev/stderr` with `2>>`) appends to the log through
/// the caller's descriptor: the old lines, the trace and the report are all there, in order.
#[test]
fn a_trace_to_an_appended_stream_keeps_the_log() {
    let d = fresh_dir("data_safety", "append");
    std::fs::write(d.join("s.toml"), SHORT).unwrap();
    for (dev, to_stderr) in [("/dev/stdout", false), ("/dev/stderr", true), ("-", false)] {
        let log = d.join("app.log");
        std::fs::write(&log, "first line\n").unwrap();
        let f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        let mut c = electsim_cmd(&d, &["run", "s.toml", "--trace", dev]);
        if to_stderr {
            c.stderr(f).stdout(Stdio::null());
        } else {
            c.stdout(f).stderr(Stdio::null());
        }
        assert!(c.status().unwrap().success(), "{dev}");
        let text = read(&log);
        assert!(
            text.starts_with("first line\n{\"seq\":0,"),
            "{dev}: {text:.200}"
        );
        let records = text.lines().filter(|l| l.starts_with("{\"seq\":")).count();
        assert!(records > 100, "{dev}: {records} trace records");
        if !to_stderr {
            // The run's report follows the trace.
            assert!(text.trim_end().ends_with("--seed 1"), "{dev}: {text:.200}");
        }
    }
}

/// Aliases of an input or of another output, a caller's redirected stdout under its own
/// name, and a file electsim did not write: exit 2 before the run, nothing changed.
#[test]
fn outputs_that_alias_inputs_streams_or_foreign_files_are_refused() {
    let d = fresh_dir("data_safety", "alias");
    std::fs::write(d.join("s.toml"), SHORT).unwrap();
    std::os::unix::fs::symlink("s.toml", d.join("link.jsonl")).unwrap();
    std::fs::write(d.join("notes.txt"), "mine\n").unwrap();
    let before = snapshot(&d);
    for (args, msg) in [
        (
            vec!["run", "s.toml", "--trace", "s.toml"],
            "that is the scenario `s.toml`, an input",
        ),
        (
            vec!["run", "s.toml", "--trace", "link.jsonl"],
            "an input of this command",
        ),
        (
            vec!["run", "s.toml", "--trace", "x.svg", "--timeline", "x.svg"],
            "are the same file",
        ),
        (
            vec!["run", "s.toml", "--trace", "t.svg", "--timeline", "./t.svg"],
            "are the same file",
        ),
        (
            vec!["run", "s.toml", "--trace", "notes.txt"],
            "electsim did not write it; pass --force",
        ),
        (
            vec!["run", "s.toml", "--trace", "/dev/stdin"],
            "standard input",
        ),
        (
            vec!["run", "s.toml", "--trace", "/dev/fd/9"],
            "file descriptor 9 is not open",
        ),
    ] {
        let o = electsim_in(&d, &args);
        assert_exit(&o, 2);
        assert!(stderr(&o).contains(msg), "{args:?}: {}", stderr(&o));
        assert_eq!(snapshot(&d), before, "{args:?} wrote something");
    }
    // The log a caller redirects stdout into, named as a file: refused, the log kept.
    let log = d.join("app.log");
    std::fs::write(&log, "kept\n").unwrap();
    let f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    let o = electsim_cmd(&d, &["run", "s.toml", "--trace", "app.log"])
        .stdout(f)
        .output()
        .unwrap();
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("this command's standard output"),
        "{}",
        stderr(&o)
    );
    assert_eq!(read(&log), "kept\n");
    // --force replaces a foreign file; electsim's own trace is replaced without it.
    ok(&electsim_in(
        &d,
        &["run", "s.toml", "--trace", "notes.txt", "--force"],
    ));
    assert!(read(&d.join("notes.txt")).starts_with("{\"seq\":0,"));
    ok(&electsim_in(&d, &["run", "s.toml", "--trace", "notes.txt"]));
    // Timelines carry electsim's mark, so a rerun replaces them, a user's picture not.
    ok(&electsim_in(&d, &["run", "s.toml", "--timeline", "t.svg"]));
    ok(&electsim_in(&d, &["run", "s.toml", "--timeline", "t.svg"]));
    std::fs::write(
        d.join("mine.svg"),
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
    )
    .unwrap();
    assert_exit(
        &electsim_in(&d, &["run", "s.toml", "--timeline", "mine.svg"]),
        2,
    );
    ok(&electsim_in(&d, &["run", "s.toml", "--timeline", "t.png"]));
    ok(&electsim_in(&d, &["run", "s.toml", "--timeline", "t.png"]));
}

/// Start `args` and return once `ready` holds (or panic after 60 s).
fn start_until(d: &Path, args: &[&str], ready: impl Fn() -> bool) -> std::process::Child {
    let mut child = electsim_cmd(d, args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while !ready() {
        assert!(child.try_wait().unwrap().is_none(), "{args:?} ended early");
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "{args:?} never got going"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

/// A matrix and a sweep whose outputs nest cannot run at once, whichever starts first, and
/// the refused one touches nothing of the other's.
#[test]
fn nested_writers_exclude_each_other() {
    let d = fresh_dir("data_safety", "nested");
    std::fs::write(d.join("big.toml"), BIG).unwrap();
    std::fs::write(
        d.join("m.toml"),
        "[[scenario]]\nfile = \"big.toml\"\nrole = \"sizes\"\n",
    )
    .unwrap();
    let journal = d.join("R/.p.electsim-new/runs.partial.csv");
    // The sweep first.
    let mut sweep = start_until(
        &d,
        &[
            "sweep",
            "big.toml",
            "--out",
            "R/p",
            "-q",
            "-j",
            "1",
            "--no-charts",
        ],
        || journal.is_file(),
    );
    let o = electsim_in(&d, &["matrix", "--matrix", "m.toml", "--out", "R", "-q"]);
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("is writing inside `R`")
            && stderr(&o).contains(&sweep.id().to_string()),
        "{}",
        stderr(&o)
    );
    assert!(journal.is_file(), "the sweep's journal survives");
    assert!(
        sweep.try_wait().unwrap().is_none(),
        "the sweep is still running"
    );
    sweep.kill().unwrap();
    sweep.wait().unwrap();
    // The matrix first.
    let stage = d.join(".R.electsim-new");
    let mut matrix = start_until(
        &d,
        &[
            "matrix", "--matrix", "m.toml", "--out", "R", "-q", "-j", "1",
        ],
        || stage.is_dir(),
    );
    let o = electsim_in(
        &d,
        &["sweep", "big.toml", "--out", "R/big", "-q", "--runs", "1"],
    );
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("is inside"), "{}", stderr(&o));
    assert!(!d.join("R/big").exists(), "nothing written");
    matrix.kill().unwrap();
    matrix.wait().unwrap();
    // The killed sweep's journal is still there to --resume.
    assert!(journal.is_file());
}

/// `--out .` or an ancestor of the working directory would swap the caller's directory away;
/// refused before anything runs.
#[test]
fn the_working_directory_is_never_swapped_away() {
    let d = fresh_dir("data_safety", "cwd");
    std::fs::write(d.join("small.toml"), SMALL).unwrap();
    std::fs::create_dir_all(d.join("w/inner")).unwrap();
    for (cwd, out) in [("w", "."), ("w/inner", ".."), ("w", "")] {
        let out = if out.is_empty() {
            d.join("w").display().to_string()
        } else {
            out.to_string()
        };
        let before = snapshot(&d);
        let o = electsim_in(
            &d.join(cwd),
            &[
                "sweep",
                &d.join("small.toml").display().to_string(),
                "--out",
                &out,
                "-q",
            ],
        );
        assert_exit(&o, 2);
        assert!(stderr(&o).contains("working directory"), "{}", stderr(&o));
        assert_eq!(snapshot(&d), before);
    }
}

/// Killed just after the swap, before the old directory is cleaned: every file of the user's
/// is visible at its own path at that moment, the results are the new ones, and the next
/// command removes the leftover stage.
#[test]
fn a_kill_after_the_swap_hides_no_user_file() {
    let d = fresh_dir("data_safety", "swap");
    std::fs::write(d.join("small.toml"), SMALL).unwrap();
    ok(&electsim_in(
        &d,
        &["sweep", "small.toml", "--out", "out", "-q", "--no-charts"],
    ));
    std::fs::write(d.join("out/notes.md"), "my notes\n").unwrap();
    std::fs::create_dir_all(d.join("out/data/deep")).unwrap();
    for i in 0..300 {
        std::fs::write(d.join(format!("out/data/deep/f{i}.txt")), format!("{i}\n")).unwrap();
    }
    std::os::unix::fs::symlink("notes.md", d.join("out/link")).unwrap();
    let user = |d: &Path| -> Vec<_> {
        snapshot(&d.join("out"))
            .into_iter()
            .filter(|(p, _)| p.starts_with("data") || p.starts_with("notes.md"))
            .collect()
    };
    let mine = user(&d);
    assert_eq!(mine.len(), 301);
    let o = electsim_cmd(
        &d,
        &[
            "sweep",
            "small.toml",
            "--out",
            "out",
            "-q",
            "--runs",
            "3",
            "--force",
        ],
    )
    .env("ELECTSIM_KILL_AT", "swapped")
    .output()
    .unwrap();
    assert_eq!(o.status.code(), None, "killed by a signal: {}", stderr(&o));
    assert_eq!(user(&d), mine, "every user file is at its path");
    assert!(
        read(&d.join("out/runs.csv")).lines().count() == 7,
        "the new results (6 runs)"
    );
    assert_eq!(
        std::fs::read_link(d.join("out/link")).unwrap(),
        Path::new("notes.md")
    );
    assert!(
        d.join(".out.electsim-new").is_dir(),
        "the old directory awaits cleaning"
    );
    // The next command on that directory cleans up and keeps everything.
    ok(&electsim_in(
        &d,
        &[
            "sweep",
            "small.toml",
            "--out",
            "out",
            "-q",
            "--runs",
            "3",
            "--no-charts",
        ],
    ));
    assert_eq!(user(&d), mine);
    assert_eq!(names(&d), ["out", "small.toml"]);
}

/// A special file or a mount point inside --out cannot be carried across the swap: refused
/// before any run, with its path.
#[test]
fn special_files_and_mount_points_inside_out_are_refused() {
    let d = fresh_dir("data_safety", "special");
    std::fs::write(d.join("small.toml"), SMALL).unwrap();
    std::fs::create_dir_all(d.join("out")).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(d.join("out/pipe"))
            .status()
            .unwrap()
            .success()
    );
    let o = electsim_in(&d, &["sweep", "small.toml", "--out", "out", "-q"]);
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("out/pipe` is a special file"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_file(d.join("out/pipe")).unwrap();
    // A mount point, where this machine lets the test mount one (root in CI).
    std::fs::create_dir_all(d.join("out/mnt")).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "none"])
        .arg(d.join("out/mnt"))
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if mounted {
        let o = electsim_in(&d, &["sweep", "small.toml", "--out", "out", "-q"]);
        let _ = Command::new("umount").arg(d.join("out/mnt")).status();
        assert_exit(&o, 2);
        assert!(
            stderr(&o).contains("out/mnt` is a mount point"),
            "{}",
            stderr(&o)
        );
    } else {
        eprintln!("note: cannot mount here (not root); the mount-point case is not exercised");
    }
}

/// `verify --out`: a user's report.txt is refused (before the search); a clean run after a
/// violation removes the old counterexample; a kill while installing the set is rolled
/// forward by the next command into that directory.
#[test]
fn verify_out_is_one_set_of_files() {
    let d = fresh_dir("data_safety", "verify");
    let root = env!("CARGO_MANIFEST_DIR");
    let sc = format!("{root}/scenarios/raft-leader-crash.toml");
    let bad = [
        "verify",
        &sc,
        "--set",
        "nodes=3",
        "--set",
        "raft.persist_vote=false",
        "--faults",
        "crash=1,restart=1",
        "--property",
        "election_safety",
        "--out",
        "cx",
    ];
    let clean = [
        "verify", &sc, "--set", "nodes=3", "--depth", "3", "--out", "cx",
    ];
    std::fs::create_dir_all(d.join("cx")).unwrap();
    std::fs::write(d.join("cx/report.txt"), "my report\n").unwrap();
    let o = electsim_in(&d, &clean);
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("cx/report.txt: the file exists and electsim did not write it"),
        "{}",
        stderr(&o)
    );
    assert_eq!(read(&d.join("cx/report.txt")), "my report\n");
    std::fs::remove_file(d.join("cx/report.txt")).unwrap();
    assert_exit(&electsim_in(&d, &bad), 1);
    assert_eq!(
        names(&d.join("cx")),
        [
            "counterexample.html",
            "counterexample.jsonl",
            "counterexample.svg",
            "counterexample.txt",
            "report.txt",
            "trace.txt"
        ]
    );
    ok(&electsim_in(&d, &clean));
    assert_eq!(
        names(&d.join("cx")),
        ["report.txt"],
        "the old counterexample went with it"
    );
    // Killed after the first file of the new set was moved into place.
    let o = electsim_cmd(&d, &bad)
        .env("ELECTSIM_KILL_AT", "installing")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), None, "killed: {}", stderr(&o));
    assert!(
        names(&d.join("cx"))
            .iter()
            .any(|n| n.starts_with(".electsim-set-"))
    );
    // The next command into the directory finishes the interrupted set, then writes its own.
    ok(&electsim_in(&d, &clean));
    assert_eq!(names(&d.join("cx")), ["report.txt"]);
}

/// The roll-forward on its own: a set killed mid-install is complete after the next
/// command touching its directory, byte for byte what an uninterrupted run writes.
#[test]
fn an_interrupted_set_is_rolled_forward() {
    let d = fresh_dir("data_safety", "rollforward");
    let root = env!("CARGO_MANIFEST_DIR");
    let sc = format!("{root}/scenarios/raft-leader-crash.toml");
    let bad = [
        "verify",
        &sc,
        "--set",
        "nodes=3",
        "--set",
        "raft.persist_vote=false",
        "--faults",
        "crash=1,restart=1",
        "--property",
        "election_safety",
        "--out",
        "b",
    ];
    assert_exit(&electsim_in(&d, &bad), 1);
    let want = snapshot(&d.join("b"));
    std::fs::remove_dir_all(d.join("b")).unwrap();
    let o = electsim_cmd(&d, &bad)
        .env("ELECTSIM_KILL_AT", "installing")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), None);
    assert!(
        snapshot(&d.join("b")) != want,
        "a partial set until a command looks"
    );
    // Any command that checks an output path in that directory rolls the set forward first;
    // this one then fails (there is no scale.csv to redraw from) and writes nothing.
    let o = electsim_in(&d, &["scale", "--charts-only", "--out", "b"]);
    assert_exit(&o, 2);
    // Byte for byte, but for report.txt, which states the search's wall time.
    type Files = Vec<(std::path::PathBuf, Option<Vec<u8>>)>;
    let strip = |s: Vec<(std::path::PathBuf, Vec<u8>)>| -> Files {
        s.into_iter()
            .map(|(p, b)| {
                let keep = (p != Path::new("report.txt")).then_some(b);
                (p, keep)
            })
            .collect()
    };
    let (got, want) = (strip(snapshot(&d.join("b"))), strip(want));
    let names_of =
        |v: &Files| -> Vec<String> { v.iter().map(|(p, _)| p.display().to_string()).collect() };
    assert_eq!(names_of(&got), names_of(&want));
    assert!(
        got == want,
        "the rolled-forward set differs from an uninterrupted one"
    );
}

/// Bad output paths are found before the work (exit 2): a file where a directory goes.
#[test]
fn bad_output_directories_are_refused_before_the_work() {
    let d = fresh_dir("data_safety", "outfile");
    std::fs::write(d.join("f"), "x").unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let sc = format!("{root}/scenarios/raft-leader-crash.toml");
    for args in [
        vec!["verify", &sc, "--set", "nodes=3", "--out", "f"],
        vec!["scale", &sc, "--out", "f"],
        vec!["chart", "f", "--tradeoff", "a,b", "--out", "f"],
    ] {
        let t = Instant::now();
        let o = electsim_in(&d, &args);
        assert_exit(&o, 2);
        assert!(
            stderr(&o).contains("not a directory"),
            "{args:?}: {}",
            stderr(&o)
        );
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "{args:?}: refused at once"
        );
        assert_eq!(read(&d.join("f")), "x");
    }
    // An empty matrix list measures nothing: refused, nothing written.
    std::fs::write(d.join("empty.toml"), "").unwrap();
    let o = electsim_in(&d, &["matrix", "--matrix", "empty.toml", "--out", "R"]);
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("lists no [[scenario]]"),
        "{}",
        stderr(&o)
    );
    assert!(!d.join("R").exists());
}

/// `compare` files belong to the results they were computed from: replacing the results
/// removes them, and a user's file of the same name is refused.
#[test]
fn compare_files_go_with_their_results() {
    let d = fresh_dir("data_safety", "compare");
    std::fs::write(d.join("small.toml"), SMALL).unwrap();
    ok(&electsim_in(
        &d,
        &["sweep", "small.toml", "--out", "out", "-q", "--no-charts"],
    ));
    ok(&electsim_in(
        &d,
        &["compare", "out", "--baseline", "nodes=3"],
    ));
    assert!(d.join("out/compare-nodes-3.md").is_file());
    ok(&electsim_in(
        &d,
        &[
            "sweep",
            "small.toml",
            "--out",
            "out",
            "-q",
            "--no-charts",
            "--runs",
            "3",
            "--force",
        ],
    ));
    assert!(
        !d.join("out/compare-nodes-3.md").exists(),
        "stale comparison removed"
    );
    std::fs::write(d.join("out/compare-nodes-3.md"), "mine\n").unwrap();
    let o = electsim_in(&d, &["compare", "out", "--baseline", "nodes=3"]);
    assert_exit(&o, 2);
    assert_eq!(read(&d.join("out/compare-nodes-3.md")), "mine\n");
}

/// A long `run` shows its progress in virtual time on a terminal (here a pseudo-terminal
/// from `script`) and stays quiet when stderr is not one.
#[test]
fn a_long_run_shows_progress_only_on_a_terminal() {
    let d = fresh_dir("data_safety", "progress");
    std::fs::write(d.join("s.toml"), "duration = \"3000s\"\nnodes = 51\n").unwrap();
    let o = electsim_in(&d, &["run", "s.toml"]);
    ok(&o);
    assert!(!stderr(&o).contains("virtual ms"), "{}", stderr(&o));
    let exe = env!("CARGO_BIN_EXE_electsim");
    let o = Command::new("script")
        .args(["-qc", &format!("{exe} run s.toml"), "/dev/null"])
        .current_dir(&d)
        .output()
        .unwrap();
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("/3000000 virtual ms"), "{text:.400}");
}
