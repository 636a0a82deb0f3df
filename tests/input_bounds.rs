//! Issue 24, part B: every input has a bound and every bad input is a clear error (exit 2,
//! the file, line:col, field, bad value and valid range) that writes nothing. Plus fuzz
//! tests of the scenario, script and CSV readers: arbitrary bytes and mutated valid files
//! never panic.

mod common;
use common::{electsim, electsim_in, fresh_dir, names, stderr};

use proptest::prelude::*;
use std::path::Path;

const RAFT: &str = "algorithm = \"raft\"\nnodes = 3\nduration = \"3s\"\n";

/// Run `args` in `dir`; assert exit 2, every needle in stderr, no panic, and that `dir`
/// holds exactly `files` afterwards (nothing written).
fn refused_in(dir: &Path, args: &[&str], needles: &[&str], files: &[&str]) {
    let o = electsim_in(dir, args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: stderr lacks {n:?}:\n{err}");
    }
    assert_eq!(names(dir), files, "{args:?} wrote something");
}

#[test]
fn oversized_scenarios_and_endless_streams_are_refused_naming_the_file_and_limit() {
    let d = fresh_dir("input_bounds", "size");
    // 17 MiB of comments after one valid key: valid TOML, just too large.
    let mut big = String::from(RAFT);
    let line = format!("# {}\n", "x".repeat(1021));
    while big.len() <= 17 << 20 {
        big.push_str(&line);
    }
    std::fs::write(d.join("big.toml"), big).unwrap();
    for args in [
        &["run", "big.toml", "--trace", "t.jsonl"][..],
        &["validate", "big.toml"],
        &["check", "big.toml"],
    ] {
        refused_in(
            &d,
            args,
            &[
                "big.toml",
                "larger than 16 MiB",
                "limit for a scenario file",
            ],
            &["big.toml"],
        );
    }
    refused_in(
        &d,
        &["run", "/dev/zero", "--trace", "t.jsonl"],
        &["/dev/zero", "larger than 16 MiB"],
        &["big.toml"],
    );
    refused_in(
        &d,
        &["replay", "/dev/zero", "--trace", "t.jsonl"],
        &[
            "/dev/zero",
            "larger than 64 MiB, the limit for a golden script",
        ],
        &["big.toml"],
    );
}

#[test]
fn non_utf8_and_pathologically_nested_files_get_file_line_col() {
    let d = fresh_dir("input_bounds", "encoding");
    std::fs::write(
        d.join("bad.toml"),
        b"algorithm = \"raft\"\nname = \"a\xffb\"\n",
    )
    .unwrap();
    std::fs::write(
        d.join("deep.toml"),
        format!("a = {}{}\n", "[".repeat(100_000), "]".repeat(100_000)),
    )
    .unwrap();
    std::fs::write(
        d.join("deepkey.toml"),
        format!("nodes = 3\na{} = 1\n", ".a".repeat(100_000)),
    )
    .unwrap();
    std::fs::write(
        d.join("s.txt"),
        b"new algorithm=raft nodes=3\n----\nok\n\nrun 1\xfes\n----\n",
    )
    .unwrap();
    let files = ["bad.toml", "deep.toml", "deepkey.toml", "s.txt"];
    refused_in(
        &d,
        &["validate", "bad.toml"],
        &["bad.toml:2:10: not UTF-8 text (byte 0xff)"],
        &files,
    );
    refused_in(
        &d,
        &["validate", "deep.toml"],
        &["deep.toml:1:", "max recursion depth"],
        &files,
    );
    refused_in(
        &d,
        &["validate", "deepkey.toml"],
        &["deepkey.toml:2:1: recursion limit"],
        &files,
    );
    refused_in(
        &d,
        &["replay", "s.txt", "--trace", "t.jsonl"],
        &["s.txt:5: column 6: not UTF-8 text (byte 0xfe)"],
        &files,
    );
}

#[test]
fn numeric_flags_are_range_checked_at_parse_time_with_the_range() {
    let d = fresh_dir("input_bounds", "flags");
    std::fs::write(d.join("s.toml"), RAFT).unwrap();
    let max = "18446744073709551615";
    let cases: &[(&[&str], &str)] = &[
        (
            &["explore", "s.toml", "--max-faults", max],
            "for '--max-faults <MAX_FAULTS>': 18446744073709551615 is not in 1..=1000",
        ),
        (
            &["explore", "s.toml", "--runs", "0"],
            "for '--runs <RUNS>': 0 is not in 1..=1000000000",
        ),
        (
            &["explore", "s.toml", "--shrink-budget", "4294967296"],
            "is not in 0..=1000000",
        ),
        (
            &["run", "s.toml", "--trace", "t.jsonl", "--trace-limit", max],
            "for '--trace-limit <N>': 18446744073709551615 is not in 1..=50000000",
        ),
        (
            &["verify", "s.toml", "--max-states", max],
            "for '--max-states <N>': 18446744073709551615 is not in 1..=50000000",
        ),
        (
            &["verify", "s.toml", "--depth", "100000"],
            "for '--depth <DEPTH>': 100000 is not in 1..=10000",
        ),
        (
            &["sweep", "s.toml", "--runs", "10000001"],
            "for '--runs <RUNS>': 10000001 is not in 1..=10000000",
        ),
        (
            &["sweep", "s.toml", "--confirm-events", "nan"],
            "nan is not a number in 0..=1000000000000000000",
        ),
        (
            &["bench", "s.toml", "--repeats", "0"],
            "for '--repeats <REPEATS>': 0 is not in 1..=1000",
        ),
        (
            &["scale", "s.toml", "--budget-s", "inf"],
            "inf is not a number in 0.000001..=86400",
        ),
    ];
    for (args, want) in cases {
        refused_in(&d, args, &[want], &["s.toml"]);
    }
}

#[test]
fn set_refuses_control_characters_and_names_the_right_set_field_and_range() {
    let d = fresh_dir("input_bounds", "set");
    std::fs::write(d.join("s.toml"), RAFT).unwrap();
    let files = ["s.toml"];
    refused_in(
        &d,
        &["run", "s.toml", "--set", "name=a\nb", "--trace", "t.jsonl"],
        &[
            "`--set name=a\\nb`: control character '\\n' at character 7",
            "one line of printable text",
        ],
        &files,
    );
    refused_in(
        &d,
        &["validate", "s.toml", "--set", "name=a\tb"],
        &["control character '\\t'"],
        &files,
    );
    refused_in(
        &d,
        &[
            "validate",
            "s.toml",
            "--set",
            "nodes=3",
            "--set",
            "runs=99999999999999999999",
            "--set",
            "seed=4",
        ],
        &[
            "s.toml (from --set runs=99999999999999999999): invalid value for `runs`: 99999999999999999999",
            "expected: an integer from 1 to 10000000",
        ],
        &files,
    );
    refused_in(
        &d,
        &[
            "validate",
            "s.toml",
            "--set",
            "nodes=-99999999999999999999",
            "--set",
            "runs=3",
        ],
        &[
            "(from --set nodes=-99999999999999999999): invalid value for `nodes`",
            "expected: an integer from 2 to 100000",
        ],
        &files,
    );
    // A key deeper than any scenario key is refused before it is applied.
    let deep = format!("raft{}=1", ".a".repeat(100));
    refused_in(
        &d,
        &["validate", "s.toml", "--set", &deep],
        &["a key of 101 segments; scenario keys have at most 16"],
        &files,
    );
}

#[test]
fn a_too_large_integer_in_a_file_gets_a_hint_about_its_own_key() {
    let d = fresh_dir("input_bounds", "bigint");
    std::fs::write(
        d.join("runs.toml"),
        format!("{RAFT}runs = 9999999999999999999\n"),
    )
    .unwrap();
    std::fs::write(
        d.join("seed.toml"),
        format!("{RAFT}seed = 9999999999999999999\n"),
    )
    .unwrap();
    let files = ["runs.toml", "seed.toml"];
    let o = electsim_in(&d, &["validate", "runs.toml"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("runs.toml:4:8: the integer for `runs` is beyond TOML's range"),
        "{err}"
    );
    assert!(
        !err.contains("seed"),
        "a hint about seeds for `runs`: {err}"
    );
    refused_in(
        &d,
        &["validate", "seed.toml"],
        &["seed.toml:4:8:", "write a larger seed as a string"],
        &files,
    );
}

#[test]
fn a_fault_plan_validate_passes_is_one_every_run_accepts() {
    let d = fresh_dir("input_bounds", "plan");
    // 3 s / 1 us = 3 000 000 repetitions, over the 1 000 000 bound.
    let text = format!("{RAFT}[[fault]]\nat = \"0s\"\nevery = \"1us\"\ncrash = 1\n");
    std::fs::write(d.join("p.toml"), text).unwrap();
    refused_in(
        &d,
        &["validate", "p.toml"],
        &[
            "p.toml:",
            "invalid value for `fault.0.every`: a plan of 3000000 faults",
            "at most 1000000 faults per run",
        ],
        &["p.toml"],
    );
    let random = format!("{RAFT}[[random_fault]]\nkind = \"crash\"\nrate_per_s = 900000\n");
    std::fs::write(d.join("p.toml"), random).unwrap();
    refused_in(
        &d,
        &["run", "p.toml", "--trace", "t.jsonl"],
        &["`random_fault.0.rate_per_s`: a plan of 2700000 faults"],
        &["p.toml"],
    );
    // Just under the bound: validate passes and so does the run's expansion.
    let ok =
        format!("{RAFT}duration = \"1s\"\n[[fault]]\nat = \"0s\"\nevery = \"1ms\"\nheal = true\n");
    std::fs::write(d.join("ok.toml"), ok.replace("duration = \"3s\"\n", "")).unwrap();
    let o = electsim_in(&d, &["validate", "ok.toml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// A one-step script file after `new algorithm=raft nodes=3`.
fn script(dir: &Path, step: &str) {
    std::fs::write(
        dir.join("s.txt"),
        format!("new algorithm=raft nodes=3\n----\nok\n\n{step}\n----\n"),
    )
    .unwrap();
}

#[test]
fn script_steps_are_validated_like_scenario_faults() {
    let d = fresh_dir("input_bounds", "script");
    let cases = [
        (
            "drift 1 NaN",
            "invalid value for `drift_ppm`: NaN; expected a rate error in ppm, above -1000000 and at most 1000000",
        ),
        ("drift 1 5e9", "`drift_ppm`: 5000000000"),
        (
            "partition 0,1 / 2,7",
            "invalid value for `partition.1.1`: 7; expected a node id in 0..3 (0 to 2)",
        ),
        ("partition 0,1 / 1,2", "groups must not overlap"),
        (
            "crash 9",
            "invalid value for `crash`: 9; expected a node id in 0..3",
        ),
        ("pause 1 xs", "`xs` is not a duration"),
        ("deliver 0 5 Ping", "`5` is not a node id in 0..3 (0 to 2)"),
        (
            "run 2h",
            "`run 7200s` would pass the simulation's end at 3600s (now 0s)",
        ),
        ("frobnicate", "unknown command `frobnicate`"),
    ];
    for (step, want) in cases {
        script(&d, step);
        for cmd in ["replay", "check"] {
            let mut args = vec![cmd, "s.txt"];
            if cmd == "replay" {
                args.extend(["--trace", "t.jsonl", "--timeline", "t.svg"]);
            }
            refused_in(&d, &args, &["s.txt:", want], &["s.txt"]);
        }
    }
    // The bound is the stated `duration`: raising it on the `new` line lets `run 2h` run.
    std::fs::write(
        d.join("s.txt"),
        "new algorithm=raft nodes=3 duration=3h\n----\nok\n\nrun 2h\n----\n",
    )
    .unwrap();
    let o = electsim_in(&d, &["replay", "s.txt"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a mismatch, not an error: {}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("the replay differs"), "{}", stderr(&o));
    // A well-formed step the state refuses is engine output (exit 1), as before.
    script(&d, "deliver 0 1 Ping");
    let o = electsim_in(&d, &["replay", "s.txt"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

#[test]
fn verify_refuses_a_property_the_algorithm_does_not_claim() {
    let o = electsim(&[
        "verify",
        "scenarios/raft-leader-crash.toml",
        "--algorithm",
        "bully",
        "--set",
        "nodes=3",
        "--property",
        "election_safety",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--property election_safety does not apply to bully")
            && err.contains("use one of split_brain, liveness"),
        "{err}"
    );
}

const SWEEP: &str = "name = \"rows\"\nalgorithm = \"raft\"\nduration = \"1s\"\nseed = 5\nruns = 2\n[sweep]\nnodes = [3, 4]\n";

/// Replace the seed cell (column 4) of data line `line` (1-based, after the header) of `path`.
fn set_seed(path: &Path, line: usize, seed: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut cells: Vec<&str> = lines[line].splitn(5, ',').collect();
    cells[3] = seed;
    lines[line] = cells.join(",");
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn resume_and_merge_refuse_a_row_whose_seed_is_not_derived_for_it() {
    let d = fresh_dir("input_bounds", "rows");
    std::fs::write(d.join("s.toml"), SWEEP).unwrap();
    let run = |args: &[&str]| {
        let o = electsim_in(&d, args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    };
    run(&["sweep", "s.toml", "--out", "w", "--no-charts", "-q"]);
    let runs = d.join("w/runs.csv");
    set_seed(&runs, 2, "12345");
    let before = std::fs::read(&runs).unwrap();
    let o = electsim_in(
        &d,
        &[
            "sweep",
            "s.toml",
            "--out",
            "w",
            "--resume",
            "--no-charts",
            "-q",
        ],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("runs.csv:3")
            && err.contains("column `seed` is `12345`, this sweep writes `")
            && err.contains("(point 0, replication 1)"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&runs).unwrap(),
        before,
        "resume rewrote runs.csv"
    );

    for k in ["1/2", "2/2"] {
        let out = format!("sh{}", &k[..1]);
        run(&[
            "sweep",
            "s.toml",
            "--out",
            &out,
            "--shard",
            k,
            "--no-charts",
            "-q",
        ]);
    }
    // Shard 1 of 2 holds runs 0 and 2: (point 0, replication 0) and (point 1, replication 0).
    let seed_of_other_point = {
        let t = std::fs::read_to_string(d.join("sh2/runs.csv")).unwrap();
        t.lines()
            .nth(1)
            .unwrap()
            .split(',')
            .nth(3)
            .unwrap()
            .to_string()
    };
    set_seed(&d.join("sh1/runs.csv"), 2, &seed_of_other_point);
    let o = electsim_in(&d, &["merge", "sh1", "sh2", "--out", "m", "--no-charts"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("sh1/runs.csv:3")
            && err.contains(&format!(
                "the replay command does not end with `--seed {seed_of_other_point}`"
            )),
        "{err}"
    );
    assert!(!d.join("m/runs.csv").exists(), "merge wrote runs.csv");
}

#[test]
fn an_endless_line_in_a_shard_is_refused_before_it_fills_memory() {
    let d = fresh_dir("input_bounds", "longline");
    std::fs::write(d.join("s.toml"), SWEEP).unwrap();
    for k in ["1/2", "2/2"] {
        let out = format!("sh{}", &k[..1]);
        let o = electsim_in(
            &d,
            &[
                "sweep",
                "s.toml",
                "--out",
                &out,
                "--shard",
                k,
                "--no-charts",
                "-q",
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let runs = d.join("sh1/runs.csv");
    let mut text = std::fs::read_to_string(&runs).unwrap();
    text.push_str(&"9".repeat(2 << 20));
    text.push('\n');
    std::fs::write(&runs, text).unwrap();
    let o = electsim_in(&d, &["merge", "sh1", "sh2", "--out", "m", "--no-charts"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("sh1/runs.csv:4") && err.contains("a line longer than 1 MiB"),
        "{err}"
    );
    assert!(!d.join("m/runs.csv").exists());
}

// ---- fuzz: the readers never panic ----

fn scenario_reader(bytes: &[u8]) {
    let p = Path::new("fuzz.toml");
    if let Ok(text) = electsim::input::utf8(bytes.to_vec(), p, electsim::input::Kind::Scenario)
        && let Ok(file) = electsim::scenario::ScenarioFile::from_text(p, text)
    {
        let _ = file.axes();
        let _ = file.instantiate(&[]);
    }
}

fn script_reader(text: &str) {
    let p = Path::new("fuzz.txt");
    if electsim::replay::parse(p, text).is_ok() {
        let _ = electsim::replay::replay(p, text, 1_000);
    }
}

const VALID_SCENARIO: &str = "name = \"f\"\nalgorithm = \"raft\"\nnodes = 3\nduration = \"2s\"\n[network]\nloss = 0.1\n[[fault]]\nat = \"1s\"\ncrash = \"leader\"\nrestart_after = \"200ms\"\n[sweep]\nnodes = [3, 5]\n";

const VALID_SCRIPT: &str = "new algorithm=raft nodes=3 duration=2s\n----\nok\n\nrun 300ms\n----\n\ncrash leader\n----\n\npartition 0 / 1,2\n----\n\ndrift 1 50\n----\n\nrun 200ms\n----\n\nstatus\n----\n";

/// `base` with up to a few bytes replaced, inserted or removed at chosen positions.
fn mutated(base: &'static str) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6).prop_map(
        move |edits| {
            let mut b = base.as_bytes().to_vec();
            for (at, byte, op) in edits {
                let i = at.index(b.len() + 1);
                match op {
                    0 if i < b.len() => b[i] = byte,
                    1 => b.insert(i, byte),
                    _ if i < b.len() => {
                        b.remove(i);
                    }
                    _ => {}
                }
            }
            b
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn scenario_reader_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        scenario_reader(&bytes);
    }

    #[test]
    fn scenario_reader_never_panics_on_mutated_files(bytes in mutated(VALID_SCENARIO)) {
        scenario_reader(&bytes);
    }

    #[test]
    fn script_reader_never_panics_on_mutated_scripts(bytes in mutated(VALID_SCRIPT)) {
        script_reader(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn script_reader_never_panics_on_arbitrary_lines(
        lines in prop::collection::vec("[a-z0-9 ,/.=-]{0,24}", 0..8)
    ) {
        let text = format!("new algorithm=raft nodes=3 duration=1s\n----\nok\n\n{}", lines
            .iter()
            .map(|l| format!("{l}\n----\n\n"))
            .collect::<String>());
        script_reader(&text);
    }

    #[test]
    fn csv_readers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(cells) = electsim::sweep::csv::parse_line(&text) {
            let _ = electsim::sweep::csv::row_key(&cells);
        }
        let path = std::env::temp_dir().join(format!("electsim-fuzz-{}.csv", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        let _ = electsim::sweep::output::scan(&path, None, &|_, _, _| None);
        let _ = electsim::report::charts::table::Table::read(&path);
        let _ = std::fs::remove_file(&path);
    }
}
