//! `electsim sweep` / `merge` on the command line: exit codes, guards, and "nothing is
//! written" when the input or the usage is bad.

mod common;
use common::{assert_exit, electsim_in, fresh_dir, names, ok, stderr};

const OK: &str = r#"
name = "cli"
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

#[test]
fn success_writes_to_the_default_directory() {
    let d = fresh_dir("sweep_cli", "default");
    std::fs::write(d.join("cli.toml"), OK).unwrap();
    let o = electsim_in(&d, &["sweep", "cli.toml", "--no-charts"]);
    ok(&o);
    // The plan line with runs and the estimate comes first, on stderr.
    assert!(
        stderr(&o).contains("2 point(s) x 3 runs = 6 runs"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("estimated ~"), "{}", stderr(&o));
    assert_eq!(
        names(&d.join("results/cli")),
        ["elections.csv", "runs.csv", "summary.csv", "sweep.json"]
    );
    let o = electsim_in(&d, &["sweep", "cli.toml", "--shard", "2/2", "-q"]);
    ok(&o);
    assert_eq!(
        names(&d.join("results/cli/shard-2-of-2")),
        ["runs.csv", "sweep.json"]
    );
}

#[test]
fn bad_usage_exits_2_and_writes_nothing() {
    let d = fresh_dir("sweep_cli", "usage");
    std::fs::write(d.join("cli.toml"), OK).unwrap();
    std::fs::write(d.join("afile"), "x").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["sweep", "cli.toml", "--out", "o", "--shard", "3/2"],
            "K must be between 1 and 2",
        ),
        (
            &["sweep", "cli.toml", "--out", "o", "--shard", "0/2"],
            "K must be between 1 and 2",
        ),
        (
            &["sweep", "cli.toml", "--out", "afile"],
            "is not a directory",
        ),
        (
            &["sweep", "cli.toml", "--out", "o", "--jobs", "0"],
            "for '--jobs <JOBS>': 0 is not in 1..=1024",
        ),
        (
            &["sweep", "cli.toml", "--out", "o", "--runs", "0"],
            "for '--runs <RUNS>': 0 is not in 1..=10000000",
        ),
        (
            &["sweep", "cli.toml", "--out", "o", "--set", "nodes"],
            "expected KEY=VALUE",
        ),
        (
            &["sweep", "missing.toml", "--out", "o"],
            "cannot read scenario file",
        ),
        (
            &["merge", "o", "--out", "m"],
            "not a sweep output directory",
        ),
    ];
    for (args, msg) in cases {
        let o = electsim_in(&d, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(msg), "{args:?}: {}", stderr(&o));
    }
    assert_eq!(names(&d), ["afile", "cli.toml"], "nothing was written");
    assert_eq!(std::fs::read_to_string(d.join("afile")).unwrap(), "x");
}

#[test]
fn bad_axes_are_rejected_before_any_run_with_file_line_and_key() {
    let d = fresh_dir("sweep_cli", "axes");
    let cases = [
        (
            "empty",
            "[sweep]\nnodes = []\n",
            "empty.toml:6:9",
            "sweep.nodes",
        ),
        (
            "unknown",
            "[sweep]\nnodes = [3]\nraft.heartbeet = [\"50ms\"]\n",
            "unknown.toml:7:",
            "heartbeet",
        ),
        (
            "invalid",
            "[sweep]\nalgorithm = [\"raft\"]\nnodes = [3, 1]\n",
            "invalid.toml:7:",
            "`nodes`: 1",
        ),
        (
            "loss",
            "[sweep]\nnetwork.loss = [0.1, 1.5]\n",
            "loss.toml:6:",
            "network.loss",
        ),
        (
            "repeated",
            "[sweep]\nnodes = [3, 3]\n",
            "repeated.toml:6:",
            "without repeated values",
        ),
    ];
    for (name, sweep, location, key) in cases {
        let text = format!("name = \"{name}\"\nduration = \"2s\"\nruns = 2\n\n{sweep}");
        std::fs::write(d.join(format!("{name}.toml")), text).unwrap();
        let o = electsim_in(&d, &["sweep", &format!("{name}.toml"), "--out", "o"]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.contains(location) && e.contains(key),
            "{name}: expected `{location}` and `{key}` in:\n{e}"
        );
        assert!(!d.join("o").exists(), "{name}: nothing may be written");
    }
}

#[test]
fn big_sweeps_need_yes() {
    let d = fresh_dir("sweep_cli", "guard");
    std::fs::write(d.join("cli.toml"), OK).unwrap();
    let o = electsim_in(
        &d,
        &["sweep", "cli.toml", "--out", "o", "--confirm-runs", "5"],
    );
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("6 runs") && stderr(&o).contains("--yes"),
        "{}",
        stderr(&o)
    );
    assert!(!d.join("o").exists(), "nothing is written without --yes");
    let o = electsim_in(
        &d,
        &[
            "sweep",
            "cli.toml",
            "--out",
            "o",
            "--confirm-events",
            "1000",
        ],
    );
    assert_exit(&o, 2);
    assert!(!d.join("o").exists());
    let o = electsim_in(
        &d,
        &[
            "sweep",
            "cli.toml",
            "--out",
            "o",
            "--confirm-runs",
            "5",
            "--yes",
            "-q",
        ],
    );
    ok(&o);
    assert!(d.join("o/runs.csv").is_file());
}

#[test]
fn set_pins_an_axis_and_sweep_set_replaces_it() {
    let d = fresh_dir("sweep_cli", "sets");
    std::fs::write(d.join("cli.toml"), OK).unwrap();
    let o = electsim_in(
        &d,
        &["sweep", "cli.toml", "--out", "a", "-q", "--set", "nodes=4"],
    );
    ok(&o);
    let runs = std::fs::read_to_string(d.join("a/runs.csv")).unwrap();
    assert_eq!(runs.lines().count(), 1 + 3);
    assert!(
        runs.lines()
            .skip(1)
            .all(|l| l.contains(",raft,4,") && l.contains("--set nodes=4 ")),
        "{runs}"
    );
    let o = electsim_in(
        &d,
        &[
            "sweep",
            "cli.toml",
            "--out",
            "b",
            "-q",
            "--set",
            "sweep.nodes=[3,4,5]",
            "--runs",
            "2",
        ],
    );
    ok(&o);
    let summary = std::fs::read_to_string(d.join("b/summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 1 + 3);
}
