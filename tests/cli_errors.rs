//! The bad-input catalogue: every case exits with the documented code and a message that
//! names the file, the line/column where there is one, the field, the bad value and what
//! would be valid. Exit codes: 2 for usage/input errors, 1 for a failed run, 0 otherwise.

mod common;
use common::electsim;

use std::path::PathBuf;
use std::process::Command;

/// Write a scenario into a fresh temporary directory named after the test.
fn scenario(test: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("electsim-cli-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("s.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// Run `validate` (and `run`) on the text; both must fail with exit 2 and mention every needle.
fn rejects(test: &str, text: &str, needles: &[&str]) {
    let p = scenario(test, text);
    for cmd in ["validate", "run"] {
        let out = electsim(&[cmd, p.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{test} ({cmd}): expected exit 2, stderr:\n{err}"
        );
        assert!(
            out.stdout.is_empty(),
            "{test} ({cmd}): nothing may be printed on stdout when input is rejected"
        );
        assert!(!err.contains("panicked"), "{test}: panic:\n{err}");
        for n in needles {
            assert!(
                err.contains(n),
                "{test} ({cmd}): stderr lacks {n:?}:\n{err}"
            );
        }
    }
}

const BASE: &str = "name = \"t\"\nalgorithm = \"raft\"\nnodes = 5\nduration = \"10s\"\n";

#[test]
fn missing_file() {
    let out = electsim(&["run", "scenarios/does-not-exist.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot read scenario file `scenarios/does-not-exist.toml`"),
        "{err}"
    );
}

#[test]
fn not_toml() {
    rejects(
        "not_toml",
        "name = \"t\"\nnodes = = 5\n",
        &["s.toml:2:", "nodes = = 5"],
    );
}

#[test]
fn wrong_type() {
    rejects(
        "wrong_type",
        "nodes = \"five\"\n",
        &["s.toml:1:9", "invalid type: string \"five\""],
    );
}

#[test]
fn unknown_key_suggests_nearest() {
    rejects(
        "unknown_key",
        &format!("{BASE}[raft]\nheartbeet = \"50ms\"\n"),
        &[
            "s.toml:6:1",
            "unknown field `heartbeet`",
            "did you mean `heartbeat`?",
        ],
    );
}

#[test]
fn duration_without_unit() {
    rejects(
        "duration_unit",
        "duration = \"150\"\n",
        &["s.toml:1:12", "`150` is not a duration", "\"150ms\""],
    );
}

#[test]
fn duration_as_bare_number() {
    rejects(
        "duration_number",
        "duration = 150\n",
        &["s.toml:1:12", "a duration string with a unit"],
    );
}

#[test]
fn negative_duration() {
    rejects(
        "negative_duration",
        &format!("{BASE}[raft]\nheartbeat = \"-5ms\"\n"),
        &["s.toml:6:13", "negative"],
    );
}

#[test]
fn loss_above_one() {
    rejects(
        "loss",
        &format!("{BASE}[network]\nloss = 1.5\n"),
        &[
            "s.toml:6:8",
            "`network.loss`: 1.5",
            "probability between 0.0 and 1.0",
        ],
    );
}

#[test]
fn negative_duplicate_probability() {
    rejects(
        "dup",
        &format!("{BASE}[network]\nduplicate = -0.1\n"),
        &["`network.duplicate`: -0.1", "probability"],
    );
}

#[test]
fn delay_min_above_max() {
    rejects(
        "delay",
        &format!("{BASE}[network]\ndelay = {{ uniform = [\"10ms\", \"1ms\"] }}\n"),
        &["s.toml:6:9", "`network.delay`", "min <= max"],
    );
}

#[test]
fn election_timeout_min_above_max() {
    rejects(
        "timeout",
        &format!("{BASE}[raft]\nelection_timeout = [\"300ms\", \"150ms\"]\n"),
        &["s.toml:6:", "`raft.election_timeout`", "min <= max"],
    );
}

#[test]
fn nodes_zero_one_and_too_many() {
    for (i, n) in ["0", "1", "100001", "-3"].iter().enumerate() {
        rejects(
            &format!("nodes{i}"),
            &format!("nodes = {n}\n"),
            &[
                "s.toml:1:9",
                &format!("`nodes`: {n}"),
                "an integer from 2 to 100000",
            ],
        );
    }
}

#[test]
fn unknown_algorithm_lists_valid_ones() {
    rejects(
        "algo",
        "algorithm = \"paxos\"\n",
        &[
            "s.toml:1:13",
            "invalid value for `algorithm`: \"paxos\"",
            "one of the registered algorithms: `bully`, `ring`, `raft`, `raft-rs`, `zookeeper`, `etcd`, `k8s`",
        ],
    );
}

#[test]
fn partition_naming_unknown_node() {
    rejects(
        "partition_unknown",
        &format!("{BASE}[[fault]]\nat = \"1s\"\npartition = [[0, 1], [2, 9]]\n"),
        &[
            "s.toml:7:",
            "`fault.0.partition.1.1`: 9",
            "a node id in 0..5",
        ],
    );
}

#[test]
fn partition_groups_overlap() {
    rejects(
        "partition_overlap",
        &format!("{BASE}[[fault]]\nat = \"1s\"\npartition = [[0, 1], [1, 2]]\n"),
        &["`fault.0.partition.1.0`: 1", "must not overlap"],
    );
}

#[test]
fn fault_after_the_end() {
    rejects(
        "fault_late",
        &format!("{BASE}[[fault]]\nat = \"20s\"\ncrash = \"leader\"\n"),
        &[
            "s.toml:6:6",
            "`fault.0.at`: \"20s\"",
            "before the end of the run (10s)",
        ],
    );
}

#[test]
fn fault_targeting_missing_node() {
    rejects(
        "fault_node",
        &format!("{BASE}[[fault]]\nat = \"1s\"\ncrash = 7\n"),
        &["s.toml:7:9", "`fault.0.crash`: 7", "a node id in 0..5"],
    );
}

#[test]
fn fault_with_two_actions() {
    rejects(
        "fault_two",
        &format!("{BASE}[[fault]]\nat = \"1s\"\ncrash = 1\nheal = true\n"),
        &["`fault.0.heal`", "exactly one of crash"],
    );
}

#[test]
fn pause_without_duration() {
    rejects(
        "pause",
        &format!("{BASE}[[fault]]\nat = \"1s\"\npause = \"leader\"\n"),
        &["`fault.0.duration`", "how long the pause lasts"],
    );
}

#[test]
fn fault_target_name_is_checked() {
    rejects(
        "target_name",
        &format!("{BASE}[[fault]]\nat = \"1s\"\ncrash = \"ledaer\"\n"),
        &["`fault.0.crash`: \"ledaer\"", "\"leader\" or \"random\""],
    );
}

#[test]
fn sweep_axis_empty() {
    rejects(
        "axis_empty",
        &format!("{BASE}[sweep]\nnodes = []\n"),
        &["s.toml:6:9", "`sweep.nodes`", "non-empty list"],
    );
}

#[test]
fn sweep_axis_repeats_a_value() {
    rejects(
        "axis_repeat",
        &format!("{BASE}[sweep]\nnodes = [3, 5, 3]\n"),
        &["`sweep.nodes`: 3", "without repeated values"],
    );
}

#[test]
fn sweep_axis_value_fails_validation() {
    let p = scenario("axis_bad", &format!("{BASE}[sweep]\nnodes = [3, 1]\n"));
    let out = electsim(&["validate", p.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("sweep axis `nodes` = 1") && err.contains("an integer from 2 to 100000"),
        "{err}"
    );
}

#[test]
fn sweep_axis_unknown_key() {
    let p = scenario(
        "axis_unknown",
        &format!("{BASE}[sweep]\n\"raft.heartbeet\" = [\"10ms\"]\n"),
    );
    let out = electsim(&["validate", p.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("unknown field `heartbeet`") && err.contains("did you mean `heartbeat`?"),
        "{err}"
    );
}

#[test]
fn set_with_unknown_key() {
    let out = electsim(&[
        "run",
        "scenarios/raft-lossy.toml",
        "--set",
        "raft.heartbeet=10ms",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--set raft.heartbeet=10ms") && err.contains("did you mean `heartbeat`?"),
        "{err}"
    );
}

#[test]
fn set_with_unparsable_value() {
    let out = electsim(&[
        "run",
        "scenarios/raft-lossy.toml",
        "--set",
        "network.loss=lots",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--set network.loss=lots")
            && err.contains("invalid type: string \"lots\", expected f64"),
        "{err}"
    );
}

#[test]
fn set_value_failing_validation_points_at_the_flag() {
    let out = electsim(&[
        "run",
        "scenarios/raft-lossy.toml",
        "--set",
        "network.loss=2",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("(from --set network.loss=2)")
            && err.contains("probability between 0.0 and 1.0"),
        "{err}"
    );
}

#[test]
fn set_without_equals_is_a_usage_error() {
    let out = electsim(&["run", "scenarios/raft-lossy.toml", "--set", "network.loss"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected KEY=VALUE"));
}

#[test]
fn unknown_subcommand_and_flag_are_usage_errors() {
    assert_eq!(electsim(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        electsim(&["run", "scenarios/raft-lossy.toml", "--frob"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn event_limit_is_a_failed_run_with_the_limit_named() {
    let out = electsim(&[
        "run",
        "scenarios/raft-lossy.toml",
        "--set",
        "max_events=1000",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("max_events = 1000") && err.contains("--set max_events=N"),
        "{err}"
    );
}

#[test]
fn in_flight_limit_is_a_failed_run_with_the_limit_named() {
    let out = electsim(&[
        "run",
        "scenarios/raft-lossy.toml",
        "--set",
        "max_in_flight=3",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("max_in_flight = 3"), "{err}");
}

#[test]
fn strict_fails_on_an_invariant_violation_and_prints_the_replay() {
    // A 3-node Raft without persisted votes under frequent crashes double-votes quickly.
    let p = scenario(
        "strict",
        "name = \"bug\"\nalgorithm = \"raft\"\nnodes = 3\nduration = \"60s\"\n[raft]\npersist_vote = false\n\
         [network]\ndelay = { uniform = [\"1ms\", \"20ms\"] }\n[[random_fault]]\nkind = \"crash\"\nrate_per_s = 5.0\nmean_duration = \"30ms\"\n",
    );
    let mut found = false;
    for seed in 1..=20 {
        let s = seed.to_string();
        let out = electsim(&["run", p.to_str().unwrap(), "--strict", "--seed", &s]);
        if out.status.code() == Some(1) {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains("invariant violation") && err.contains(&format!("--seed {seed}")),
                "{err}"
            );
            found = true;
            break;
        }
        assert_eq!(out.status.code(), Some(0));
    }
    assert!(
        found,
        "persist_vote = false should violate vote_once within 20 seeds"
    );
}

#[test]
fn stdout_closed_early_is_not_an_error() {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_electsim"))
        .args(["list"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // like `| head -0`
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert!(status.success(), "{err}");
}

#[test]
fn flag_overrides_name_the_flag() {
    let out = electsim(&["run", "scenarios/raft-lossy.toml", "--nodes", "0"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("(from --nodes 0)") && err.contains("`nodes`: 0"),
        "{err}"
    );
}

#[test]
fn set_into_a_list_the_file_does_not_have() {
    let out = electsim(&["run", "scenarios/raft-lossy.toml", "--set", "fault.0.at=1s"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("(from --set fault.0.at=1s)")
            && err.contains("no `fault` to index")
            && err.contains("[[fault]]"),
        "{err}"
    );
}

#[test]
fn storage_mode_unknown() {
    rejects(
        "storage-mode",
        &format!("{BASE}[storage]\nmode = \"fast\"\n"),
        &[
            "s.toml:6:8",
            "`storage.mode`: \"fast\"",
            "\"overlapped\"",
            "\"blocking\"",
        ],
    );
}

#[test]
fn storage_fsync_and_write_together() {
    rejects(
        "storage-both",
        &format!("{BASE}[storage]\nfsync = \"1ms\"\nwrite = {{ constant = \"2ms\" }}\n"),
        &["s.toml:6:9", "`storage.fsync`", "not both"],
    );
}

#[test]
fn storage_node_out_of_range() {
    rejects(
        "storage-node",
        &format!("{BASE}[[storage.node]]\nnode = 9\nwrite = {{ constant = \"2ms\" }}\n"),
        &[
            "s.toml:6:8",
            "`storage.node.0.node`: 9",
            "a node id in 0..5",
        ],
    );
}

#[test]
fn timeout_resolution_without_a_whole_step_in_range() {
    rejects(
        "timeout-resolution",
        &format!(
            "{BASE}[raft]\nelection_timeout = [\"150100us\", \"150900us\"]\ntimeout_resolution = \"1ms\"\n"
        ),
        &[
            "s.toml:7:22",
            "`raft.timeout_resolution`: \"1ms\"",
            "whole multiple inside election_timeout",
        ],
    );
}

// ---- Issue 16, items 9-15: validation that is total and one exit-code contract. ----

/// Run the binary in `dir` and expect exit 2 with every needle on stderr, within `secs`.
fn usage_error(args: &[&str], needles: &[&str]) {
    let t = std::time::Instant::now();
    let out = electsim(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: stderr lacks {n:?}:\n{err}");
    }
    assert!(t.elapsed().as_secs() < 10, "{args:?} must fail fast");
}

#[test]
fn runs_cannot_be_a_sweep_axis() {
    // Item 9: `param_runs` would say 2 while every point has 1 replication.
    usage_error(
        &[
            "validate",
            "scenarios/partition.toml",
            "--set",
            "sweep.runs=[1,2]",
        ],
        &["`runs` cannot be a sweep axis"],
    );
    let p = scenario("runs_axis", &format!("{BASE}[sweep]\nruns = [1, 2]\n"));
    usage_error(
        &["validate", p.to_str().unwrap()],
        &["`runs` cannot be a sweep axis"],
    );
}

#[test]
fn duplicate_clock_and_link_entries() {
    // Item 10: the last one won silently; both locations are named.
    rejects(
        "dup_clock",
        &format!(
            "{BASE}[[clock]]\nnode = 1\ndrift_ppm = 5.0\n[[clock]]\nnode = 1\ndrift_ppm = 9.0\n"
        ),
        &["clock.1.node", "s.toml:9:", "clock.0 already sets node 1"],
    );
    rejects(
        "dup_link",
        &format!(
            "{BASE}[[network.link]]\nfrom = 0\nto = 1\nloss = 0.1\n[[network.link]]\nfrom = 1\nto = 0\nloss = 0.2\n"
        ),
        &["network.link.1.from", "network.link.0 already sets 1 -> 0"],
    );
    // Duplicate stale_nodes, like duplicate detectors and ring.order ids.
    rejects(
        "dup_stale",
        &format!("{BASE}[raft]\nstale_nodes = [1, 2, 1]\n"),
        &["raft.stale_nodes.2", "stale_nodes.0 already names node 1"],
    );
    // One-way links in both directions are two different links.
    let p = scenario(
        "oneway_links",
        &format!(
            "{BASE}[[network.link]]\nfrom = 0\nto = 1\nboth_ways = false\n[[network.link]]\nfrom = 1\nto = 0\nboth_ways = false\n"
        ),
    );
    assert_eq!(
        electsim(&["validate", p.to_str().unwrap()]).status.code(),
        Some(0)
    );
}

#[test]
fn empty_scenario_file_is_rejected() {
    // Item 11.
    rejects("empty", "", &["s.toml", "the file has no settings"]);
    rejects(
        "comments_only",
        "# nothing here\n\n",
        &["the file has no settings"],
    );
}

#[test]
fn jitter_past_the_run_and_ignored_axes() {
    // Item 12: a jitter beyond the run made the fault never fire.
    rejects(
        "jitter",
        &format!("{BASE}[[fault]]\nat = \"2s\"\njitter = \"100y\"\ncrash = 0\n"),
        &["fault.0.jitter", "at most 8s"],
    );
    // `run` on a file with [sweep] says the axes are ignored (and not when they are pinned).
    let p = scenario(
        "axes_note",
        &format!("{BASE}duration = \"1s\"\n[sweep]\nnodes = [3, 5]\n")
            .replace("duration = \"10s\"\n", ""),
    );
    let out = electsim(&["run", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ignores the [sweep] axes nodes"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = electsim(&["run", p.to_str().unwrap(), "--set", "nodes=3"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("ignores"));
}

#[test]
fn properties_that_do_not_apply_are_refused() {
    // Item 13.
    for alg in ["raft", "bully", "ring"] {
        usage_error(
            &[
                "explore",
                "scenarios/raft-leader-crash.toml",
                "--algorithm",
                alg,
                "--property",
                "lease_overlap",
                "--runs",
                "1",
            ],
            &["--property lease_overlap does not apply to", "split_brain"],
        );
    }
    usage_error(
        &[
            "explore",
            "scenarios/raft-leader-crash.toml",
            "--algorithm",
            "bully",
            "--runs",
            "1",
        ],
        &[
            "--property election_safety does not apply to bully",
            "use one of split_brain, invariants, liveness",
        ],
    );
}

#[test]
fn one_exit_code_contract() {
    // Item 14: each of these is bad usage, exit 2, and fails fast.
    let dir = std::env::temp_dir().join(format!("electsim-cli-{}-exit", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let sc = "scenarios/raft-leader-crash.toml";
    usage_error(
        &[
            "explore",
            sc,
            "--runs",
            "1",
            "--out",
            file.to_str().unwrap(),
        ],
        &["is not a directory"],
    );
    usage_error(
        &["run", sc, "--trace", "no/such/dir/t.jsonl"],
        &["does not exist"],
    );
    usage_error(&["run", sc, "--trace", "."], &["is not a regular file"]);
    usage_error(
        &["bench", sc, "--repeats", "0"],
        &["--repeats", "0 is not in 1..=1000"],
    );
    usage_error(
        &["check", sc, "--trace-limit", "0"],
        &["--trace-limit", "0 is not in 1..=50000000"],
    );
    usage_error(
        &["explore", sc, "-j", "0"],
        &["--jobs", "0 is not in 1..=1024"],
    );
    let out = dir.join("sweep-out");
    usage_error(
        &[
            "sweep",
            "scenarios/cluster-size.toml",
            "-j",
            "100000",
            "--out",
            out.to_str().unwrap(),
        ],
        &["100000 is not in 1..=1024"],
    );
    assert!(!out.exists(), "nothing written");
}

#[test]
fn clear_messages() {
    // Item 15.
    usage_error(
        &[
            "sweep",
            "scenarios/partition.toml",
            "--shard",
            "1/18446744073709551615",
        ],
        &["N is at most 4294967295"],
    );
    let o = electsim(&[
        "validate",
        "scenarios/partition.toml",
        "--set",
        "sweep.nodes=[]",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("`--set sweep.nodes=[]`") && !err.contains("--set --set"),
        "{err}"
    );
    // A very long line is cut around the column, not echoed whole.
    let long = format!("name = \"t\"\nnodes = [{}\n", "[".repeat(20_000));
    let p = scenario("long_line", &long);
    let out = electsim(&["validate", p.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.len() < 2_000, "{} bytes of error", err.len());
}

#[test]
fn resume_after_editing_the_scenario_says_so() {
    // Item 15: --resume after editing the file names the change.
    let p = scenario(
        "edited",
        &format!("{BASE}duration = \"1s\"\nruns = 2\n").replace("duration = \"10s\"\n", ""),
    );
    let out = p.with_file_name("out");
    let _ = std::fs::remove_dir_all(&out);
    let sweep = |extra: &[&str]| {
        let mut args = vec![
            "sweep",
            p.to_str().unwrap(),
            "-q",
            "--no-charts",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        electsim(&args)
    };
    assert_eq!(sweep(&[]).status.code(), Some(0));
    std::fs::write(
        &p,
        std::fs::read_to_string(&p)
            .unwrap()
            .replace("runs = 2", "runs = 3"),
    )
    .unwrap();
    let o = sweep(&["--resume"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("changed since these results were written"),
        "{err}"
    );
}

/// Issue 13 item 7: a replay command run from another directory says why its relative
/// scenario path is not found and where to run it.
#[test]
fn replay_from_another_directory_explains_relative_paths() {
    let dir = common::fresh_dir("cli_errors", "elsewhere");
    let out = common::electsim_in(
        &dir,
        &["run", "scenarios/raft-leader-crash.toml", "--seed", "3"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("relative path is read from the current directory")
            && err.contains("where the sweep ran"),
        "{err}"
    );
}
