//! Interrupt and resume: whatever survives of the journal, `--resume` finishes the sweep
//! with final files equal to an uninterrupted sweep, byte for byte.

mod common;
use common::{assert_exit, electsim, fresh_dir, ok, read, sweep_options};

use electsim::sweep::outdir::stage_path;
use electsim::sweep::{SweepError, SweepOptions, run_sweep};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SMALL: &str = r#"
name = "resume"
algorithm = "raft"
duration = "3s"
seed = 5
runs = 8

[sweep]
nodes = [3, 5]
raft.pre_vote = [false, true]

[raft]
heartbeat = "50ms"

[[fault]]
at = "1s"
every = "1s"
crash = "leader"
restart_after = "400ms"
"#;

fn opts(scenario: &Path, out: &Path, resume: bool) -> SweepOptions {
    let mut o = sweep_options(scenario, out);
    o.jobs = Some(2);
    o.resume = resume;
    o
}

fn assert_same(a: &Path, b: &Path) {
    for f in ["runs.csv", "summary.csv", "sweep.json"] {
        assert!(
            read(&a.join(f)) == read(&b.join(f)),
            "{f} differs after resume"
        );
    }
}

/// Leave `dir` as a kill would: a journal with the header, `keep` finished rows in a
/// scrambled completion order and a torn last line; no final files.
fn interrupt(full: &Path, dir: &Path, keep: usize) {
    let dir = &stage_path(dir).unwrap();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(full.join("sweep.json"), dir.join("sweep.json")).unwrap();
    let runs = read(&full.join("runs.csv"));
    let mut lines: Vec<&str> = runs.lines().collect();
    let header = lines.remove(0);
    // A deterministic scramble (completion order is arbitrary under parallelism).
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by_key(|&i| (i * 7919) % lines.len());
    let mut journal = format!("{header}\n");
    for &i in order.iter().take(keep) {
        journal.push_str(lines[i]);
        journal.push('\n');
    }
    let torn = lines[order[keep]];
    journal.push_str(&torn[..torn.len() / 2]);
    std::fs::write(dir.join("runs.partial.csv"), journal).unwrap();
}

#[test]
fn resume_after_truncated_journal_equals_uninterrupted() {
    let d = fresh_dir("sweep_resume", "truncated");
    let sc = d.join("resume.toml");
    std::fs::write(&sc, SMALL).unwrap();
    let full = d.join("full");
    run_sweep(&opts(&sc, &full, false)).unwrap();
    for keep in [0, 1, 13, 31] {
        let part = d.join(format!("part{keep}"));
        interrupt(&full, &part, keep);
        let r = run_sweep(&opts(&sc, &part, true)).unwrap();
        assert_eq!(
            (r.runs_resumed, r.runs_executed),
            (keep as u64, 32 - keep as u64)
        );
        assert_same(&full, &part);
        assert!(!part.join("runs.partial.csv").exists());
        assert!(!stage_path(&part).unwrap().exists());
    }
}

#[test]
fn resume_of_a_finished_sweep_runs_nothing() {
    let d = fresh_dir("sweep_resume", "finished");
    let sc = d.join("resume.toml");
    std::fs::write(&sc, SMALL).unwrap();
    let full = d.join("full");
    run_sweep(&opts(&sc, &full, false)).unwrap();
    let again = d.join("again");
    run_sweep(&opts(&sc, &again, false)).unwrap();
    let r = run_sweep(&opts(&sc, &again, true)).unwrap();
    assert_eq!((r.runs_resumed, r.runs_executed), (32, 0));
    assert_same(&full, &again);
}

#[test]
fn resume_refuses_another_scenario() {
    let d = fresh_dir("sweep_resume", "foreign");
    let sc = d.join("resume.toml");
    std::fs::write(&sc, SMALL).unwrap();
    let other = d.join("other.toml");
    std::fs::write(&other, SMALL.replace("seed = 5", "seed = 6")).unwrap();
    let out = d.join("out");
    run_sweep(&opts(&sc, &out, false)).unwrap();
    interrupt(&out.clone(), &d.join("part"), 3);
    let journal = stage_path(&d.join("part"))
        .unwrap()
        .join("runs.partial.csv");
    let before = read(&journal);
    let e = run_sweep(&opts(&other, &d.join("part"), true)).unwrap_err();
    assert!(
        matches!(e, SweepError::Mismatch(ref m) if m.contains("refusing to resume")),
        "{e}"
    );
    assert_eq!(read(&journal), before, "a refused resume writes nothing");
    // Overrides are part of the sweep's identity too.
    let mut o = opts(&sc, &d.join("part"), true);
    o.runs = Some(3);
    assert!(matches!(run_sweep(&o), Err(SweepError::Mismatch(_))));
    // Through the CLI: exit 2.
    let (other, part) = (other.to_str().unwrap(), d.join("part"));
    let out = electsim(&[
        "sweep",
        other,
        "--out",
        part.to_str().unwrap(),
        "--resume",
        "-q",
    ]);
    assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to resume"));
}

#[test]
fn killed_cli_sweep_resumes_to_identical_output() {
    let d = fresh_dir("sweep_resume", "killed");
    let sc = d.join("big.toml");
    // Enough work (200 runs of 20 virtual seconds) to be killed in the middle.
    std::fs::write(
        &sc,
        SMALL
            .replace("runs = 8", "runs = 50")
            .replace("duration = \"3s\"", "duration = \"20s\""),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_electsim");
    let part = d.join("part");
    let mut child = Command::new(bin)
        .arg("sweep")
        .arg(&sc)
        .arg("--out")
        .arg(&part)
        .args(["-q", "-j", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let journal = stage_path(&part).unwrap().join("runs.partial.csv");
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        let rows = std::fs::read_to_string(&journal)
            .map(|s| s.lines().count())
            .unwrap_or(0);
        if rows > 20 || child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = child.kill();
    let _ = child.wait();
    // Never a half-written final file: either the sweep finished, or only the journal exists.
    if !part.join("summary.csv").exists() {
        assert!(!part.join("runs.csv").exists());
    }
    let (sc_arg, part_arg) = (sc.to_str().unwrap(), part.to_str().unwrap());
    ok(&electsim(&[
        "sweep", sc_arg, "--out", part_arg, "-q", "--resume",
    ]));
    let full = d.join("full");
    run_sweep(&opts(&sc, &full, false)).unwrap();
    assert_same(&full, &part);
}
