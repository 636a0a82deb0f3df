//! Seed sweep over every shipped Bully and Ring scenario, shortened to 10 s: no panic, no
//! event-limit (or other run) error, elections happen, and scripted crashes are followed by
//! failovers. A failure names the scenario, the seed and the command that replays it.

use electsim::runner;
use electsim::scenario::{Assignment, Origin, ScenarioFile};
use std::path::Path;

const SEEDS: u64 = 200;
const SCENARIOS: &[&str] = &[
    "bully-leader-crash",
    "bully-partition",
    "bully-lossy",
    "ring-leader-crash",
    "ring-partition",
    "ring-lossy",
];

#[test]
fn every_bully_and_ring_scenario_survives_200_seeds() {
    for name in SCENARIOS {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{name}.toml"));
        let file = ScenarioFile::read(&path).unwrap_or_else(|e| panic!("{e}"));
        let set = Assignment::parse_set("duration=10s").unwrap();
        let guard = Assignment {
            key: "max_events".into(),
            value: toml::Value::Integer(2_000_000),
            origin: Origin::Override("max_events=2000000".into()),
        };
        let sc = file
            .instantiate(&[set, guard])
            .unwrap_or_else(|e| panic!("{e}"));
        let mut failovers = 0;
        for seed in 1..=SEEDS {
            let replay =
                format!("electsim run scenarios/{name}.toml --seed {seed} --set duration=10s");
            let o = match runner::run(&sc, seed, Vec::new()) {
                Ok(o) => o,
                Err(e) => panic!("{name} seed {seed}: {e}\n  replay: {replay}"),
            };
            let m = &o.metrics;
            assert!(
                m.elections >= 1 && m.elections_started >= 1,
                "{name} seed {seed}: no election\n  replay: {replay}"
            );
            assert!(
                m.availability > 0.5,
                "{name} seed {seed}: availability {}\n  replay: {replay}",
                m.availability
            );
            failovers += m.failover_ms.count;
        }
        if name.ends_with("leader-crash") {
            // Crashes at 2, 4, 6, 8 s: every one must be followed by a new election.
            assert!(
                failovers >= 4 * SEEDS,
                "{name}: only {failovers} failovers over {SEEDS} seeds"
            );
        }
    }
}
