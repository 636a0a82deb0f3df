//! The `replay` column of runs.csv reproduces its run: same seed, same trace digest —
//! through the library and through the `electsim run` binary.

mod common;
use common::{fresh_dir, ok, sweep_options};

use electsim::scenario::{Assignment, ScenarioFile};
use electsim::sweep::run_sweep;
use std::path::PathBuf;
use std::process::Command;

const SCENARIO: &str = r#"
name = "replay it's"
algorithm = "raft"
duration = "3s"
seed = 3
runs = 3

[sweep]
nodes = [3, 5]
network.delay = [{ uniform = ["1ms", "10ms"] }, { constant = "5ms" }]
raft.election_timeout = [["150ms", "300ms"]]

[[fault]]
at = "1s"
every = "1s"
crash = "leader"
restart_after = "300ms"
"#;

/// Split a POSIX shell command line as `cli::shell_quote` writes it (plain words and
/// single-quoted words with `'\''` escapes).
fn shell_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    cur.push(q);
                }
            }
            '\\' => {
                in_word = true;
                cur.extend(chars.next());
            }
            ' ' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

struct Replay {
    path: PathBuf,
    sets: Vec<String>,
    seed: u64,
}

fn parse_replay(cmd: &str) -> Replay {
    let w = shell_words(cmd);
    assert_eq!((w[0].as_str(), w[1].as_str()), ("electsim", "run"), "{cmd}");
    let mut r = Replay {
        path: PathBuf::from(&w[2]),
        sets: Vec::new(),
        seed: 0,
    };
    let mut i = 3;
    while i < w.len() {
        match w[i].as_str() {
            "--set" => r.sets.push(w[i + 1].clone()),
            "--seed" => r.seed = w[i + 1].parse().unwrap(),
            other => panic!("unexpected word `{other}` in {cmd}"),
        }
        i += 2;
    }
    r
}

#[test]
fn shell_words_undoes_shell_quote() {
    for s in ["plain", "a b", "it's", "x='y'", "[\"1ms\", \"2ms\"]"] {
        let line = format!("electsim {}", electsim::cli::shell_quote(s));
        assert_eq!(shell_words(&line), ["electsim", s]);
    }
}

#[test]
fn every_replay_cell_reproduces_its_digest() {
    let d = fresh_dir("sweep_replay", "library");
    let sc = d.join("replay it's.toml");
    std::fs::write(&sc, SCENARIO).unwrap();
    let mut o = sweep_options(&sc, &d.join("out"));
    // An override that is not an axis must be part of the replay too.
    o.sets = vec![Assignment::parse_set("raft.heartbeat=40ms").unwrap()];
    run_sweep(&o).unwrap();
    let runs = std::fs::read_to_string(d.join("out").join("runs.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(runs.as_bytes());
    let h = rdr.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let (seed_c, digest_c, replay_c) = (col("seed"), col("trace_digest"), col("replay"));
    let mut n = 0;
    for row in rdr.records() {
        let row = row.unwrap();
        let r = parse_replay(&row[replay_c]);
        assert_eq!(r.seed.to_string(), &row[seed_c]);
        assert!(
            r.sets.iter().any(|s| s == "raft.heartbeat=40ms"),
            "{:?}",
            r.sets
        );
        let file = ScenarioFile::read(&r.path).unwrap();
        let sets: Vec<Assignment> = r
            .sets
            .iter()
            .map(|s| Assignment::parse_set(s).unwrap())
            .collect();
        let scenario = file.instantiate(&sets).unwrap();
        let outcome = electsim::runner::run(&scenario, r.seed, Vec::new()).unwrap();
        assert_eq!(
            outcome.trace_digest, &row[digest_c],
            "replay of {}",
            &row[replay_c]
        );
        n += 1;
    }
    assert_eq!(n, 12);
}

#[test]
fn replay_through_the_binary() {
    let d = fresh_dir("sweep_replay", "binary");
    let sc = d.join("replay it's.toml");
    std::fs::write(&sc, SCENARIO).unwrap();
    run_sweep(&sweep_options(&sc, &d.join("out"))).unwrap();
    let runs = std::fs::read_to_string(d.join("out").join("runs.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(runs.as_bytes());
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let h: Vec<String> = runs
        .lines()
        .next()
        .unwrap()
        .split(',')
        .map(String::from)
        .collect();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    // The last row: the most axis values (a quoted inline table among them).
    for row in [&rows[0], &rows[rows.len() - 1]] {
        let words = shell_words(&row[col("replay")]);
        let out = Command::new(env!("CARGO_BIN_EXE_electsim"))
            .args(&words[1..])
            .args(["--format", "json"])
            .output()
            .unwrap();
        ok(&out);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            json["trace_digest"].as_str().unwrap(),
            &row[col("trace_digest")]
        );
        assert_eq!(
            json["seed"].as_u64().unwrap().to_string(),
            &row[col("seed")]
        );
        assert_eq!(
            json["events"].as_u64().unwrap().to_string(),
            &row[col("events")]
        );
    }
}
