//! Property tests (proptest). Case counts are set per test; raise them with
//! `PROPTEST_CASES=N cargo test --release --test properties`.
//!
//! 1. The scenario parser and validation never panic, whatever the text: random text,
//!    random mutations of a valid file, and random key/value assignments.
//! 2. The engine, over random *valid* scenarios (algorithm, size, network, fault plan), never
//!    panics, terminates within its event bound, and Raft keeps its invariants.

use electsim::runner;
use electsim::scenario::{Assignment, Origin, ScenarioFile, parse_value};
use proptest::prelude::*;
use std::path::Path;

const VALID: &str = r#"
name = "p"
algorithm = "raft"
nodes = 5
duration = "5s"
[network]
delay = { uniform = ["1ms", "10ms"] }
loss = 0.01
[raft]
election_timeout = ["150ms", "300ms"]
heartbeat = "50ms"
[[fault]]
at = "1s"
every = "1s"
crash = "leader"
restart_after = "300ms"
[[fault]]
at = "2s"
partition = [[0, 1], [2, 3, 4]]
heal_after = "500ms"
"#;

fn parse_never_panics(text: &str) {
    if let Ok(f) = ScenarioFile::from_text(Path::new("fuzz.toml"), text.to_string()) {
        let _ = f.axes();
        let _ = f.instantiate(&[]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn parser_survives_arbitrary_text(text in "\\PC{0,300}") {
        parse_never_panics(&text);
    }

    #[test]
    fn parser_survives_mutations_of_a_valid_file(
        cut in 0usize..VALID.len(),
        len in 0usize..20,
        insert in "[\\[\\]{}=\",.a-z0-9 \\-]{0,12}",
    ) {
        let mut s = VALID.to_string();
        let start = cut.min(s.len());
        let end = (start + len).min(s.len());
        if s.is_char_boundary(start) && s.is_char_boundary(end) {
            s.replace_range(start..end, &insert);
        }
        parse_never_panics(&s);
    }

    #[test]
    fn overrides_never_panic(
        key in prop::sample::select(vec![
            "nodes", "duration", "seed", "runs", "max_events", "network.loss", "network.delay",
            "network.duplicate", "raft.election_timeout", "raft.heartbeat", "raft.stale_nodes",
            "fault.0.at", "fault.0.crash", "fault.1.partition", "fault.9.at", "clock", "sweep.nodes",
            "algorithm", "raft", "network", "storage.fsync", "random_fault",
        ]),
        value in prop::sample::select(vec![
            "0", "1", "-1", "2", "1.5", "-0.5", "1e400", "\"5ms\"", "\"-5ms\"", "\"abc\"", "true",
            "[]", "[1, 2]", "[[0], [0]]", "[\"1ms\", \"0ms\"]", "{ uniform = [\"9ms\", \"1ms\"] }",
            "{ lognormal = { median = \"1ms\", sigma = 99.0 } }", "\"leader\"", "\"raft\"", "\"paxos\"",
            "18446744073709551615", "{}", "\"999999h\"",
        ]),
    ) {
        let f = ScenarioFile::from_text(Path::new("fuzz.toml"), VALID.to_string()).unwrap();
        let a = Assignment { key: key.to_string(), value: parse_value(value), origin: Origin::Override(format!("{key}={value}")) };
        let _ = f.instantiate(&[a]);
    }
}

/// A random valid scenario as TOML text.
fn scenario_text() -> impl Strategy<Value = String> {
    (
        prop::sample::select(electsim::plugin::Registry::builtin().names()),
        2u32..12,
        0u32..3,       // delay model
        0.0f64..0.3,   // loss
        0.0f64..0.1,   // duplicate
        any::<bool>(), // pre_vote
        any::<bool>(), // check_quorum
        prop::collection::vec((0u64..4000, 0u32..6, 0u32..12, 1u64..1500), 0..6),
    )
        .prop_map(|(alg, nodes, delay, loss, dup, pre_vote, check_quorum, faults)| {
            let delay = match delay {
                0 => "{ constant = \"5ms\" }".to_string(),
                1 => "{ uniform = [\"1ms\", \"30ms\"] }".to_string(),
                _ => "{ lognormal = { median = \"5ms\", sigma = 1.5 } }".to_string(),
            };
            let mut s = format!(
                "name = \"prop\"\nalgorithm = \"{}\"\nnodes = {nodes}\nduration = \"5s\"\nmax_events = 5000000\n\
                 [network]\ndelay = {delay}\nloss = {loss}\nduplicate = {dup}\n\
                 [raft]\npre_vote = {pre_vote}\ncheck_quorum = {check_quorum}\n",
                alg
            );
            for (at_ms, kind, node, dur_ms) in faults {
                let node = node % nodes;
                let other = (node + 1) % nodes;
                let action = match kind {
                    0 => format!("crash = {node}\nrestart_after = \"{dur_ms}ms\""),
                    1 => "crash = \"leader\"".to_string(),
                    2 => format!("pause = \"leader\"\nduration = \"{dur_ms}ms\""),
                    3 => format!("partition = [[{node}]]\nheal_after = \"{dur_ms}ms\""),
                    4 => format!("cut = [{node}, {other}]\nheal_after = \"{dur_ms}ms\""),
                    _ => format!("clock_drift = {node}\ndrift_ppm = {}", (dur_ms as f64) * 100.0),
                };
                s.push_str(&format!("[[fault]]\nat = \"{at_ms}ms\"\n{action}\n"));
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn engine_runs_random_valid_scenarios(text in scenario_text(), seed in 0u64..1000) {
        let f = ScenarioFile::from_text(Path::new("prop.toml"), text.clone()).unwrap();
        let sc = f.instantiate(&[]).unwrap_or_else(|e| panic!("generated scenario is invalid: {e}\n{text}"));
        let o = runner::run(&sc, seed, Vec::new());
        let o = o.unwrap_or_else(|e| panic!("run failed: {e}\n{text}"));
        prop_assert!(o.events <= sc.max_events);
        if sc.algorithm.name() == "raft" {
            prop_assert_eq!(o.violation_count, 0, "{:?}\n{}", o.violations, text);
            prop_assert_eq!(o.metrics.same_term_leaders, 0);
        }
        prop_assert!(o.metrics.availability >= 0.0 && o.metrics.availability <= 1.0);
    }
}
