//! The public plug-in path (`electsim::plugin`): a tiny algorithm registered beside the
//! built-ins is parsed, validated, listed, run and swept like them. (`examples/lease.rs` is the
//! full tutorial algorithm; its own tests run with `cargo test` too.)

use electsim::plugin::{Algorithm, FieldError, Param, Registry};
use electsim::scenario::ScenarioFile;
use electsim::sim::{
    Ctx, Delay, Message, MsgClass, NodeId, NodeStatus, Out, Protocol, Role, SimDuration, TimerKey,
};
use std::path::Path;
use std::sync::{Arc, Once};

/// Node 0 leads from the start and pings the others every `fixed.period`; nobody ever
/// changes their mind.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Fixed {
    id: NodeId,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Ping;

impl Message for Ping {
    const KINDS: &'static [&'static str] = &["FixedPing"];
    fn kind(&self) -> usize {
        0
    }
    fn class(&self) -> MsgClass {
        MsgClass::Heartbeat
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Tick;

impl TimerKey for Tick {
    fn name(&self) -> &'static str {
        "tick"
    }
}

impl Protocol for Fixed {
    type Msg = Ping;
    type Timer = Tick;
    type Durable = ();
    type Config = SimDuration;
    fn boot(ctx: &Ctx<'_, SimDuration>, _: Option<&()>, out: &mut Out<Self>) -> Self {
        if ctx.id == 0 {
            out.set_timer(Tick, Delay::Fixed(*ctx.config));
        }
        Fixed { id: ctx.id }
    }
    fn on_message(&mut self, _: &Ctx<'_, SimDuration>, _: NodeId, _: Ping, _: &mut Out<Self>) {}
    fn on_timer(&mut self, ctx: &Ctx<'_, SimDuration>, _: Tick, out: &mut Out<Self>) {
        out.broadcast(Ping);
        out.set_timer(Tick, Delay::Fixed(*ctx.config));
    }
    fn status(&self) -> NodeStatus {
        NodeStatus {
            role: if self.id == 0 {
                Role::Leader
            } else {
                Role::Follower
            },
            term: 1,
            leader: Some(0),
            voted_for: None,
        }
    }
}

#[derive(Debug, Default, serde::Deserialize)]
struct FixedTables {
    fixed: Option<RawFixed>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFixed {
    period: Option<SimDuration>,
}

impl Algorithm for Fixed {
    const NAME: &'static str = "fixed";
    const SUMMARY: &'static str = "test plug-in: node 0 always leads";
    const PARAMS: &'static [Param] = &[Param {
        key: "fixed.period",
        default: "\"100ms\"",
        doc: "ping interval",
    }];
    const TABLES: &'static [&'static str] = &["fixed"];
    type Tables = FixedTables;
    fn config(t: FixedTables, nodes: u32) -> Result<SimDuration, FieldError> {
        let period = t
            .fixed
            .and_then(|f| f.period)
            .unwrap_or(SimDuration::from_millis(100));
        if period == SimDuration::ZERO {
            return Err(FieldError::new(
                "fixed.period",
                format!("\"{period}\" with {nodes} nodes"),
                "a positive duration",
            ));
        }
        Ok(period)
    }
}

/// A plug-in whose table would hide a key of the scenario schema.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Squatter;

impl Protocol for Squatter {
    type Msg = Ping;
    type Timer = Tick;
    type Durable = ();
    type Config = ();
    fn boot(_: &Ctx<'_, ()>, _: Option<&()>, _: &mut Out<Self>) -> Self {
        Squatter
    }
    fn on_message(&mut self, _: &Ctx<'_, ()>, _: NodeId, _: Ping, _: &mut Out<Self>) {}
    fn on_timer(&mut self, _: &Ctx<'_, ()>, _: Tick, _: &mut Out<Self>) {}
    fn status(&self) -> NodeStatus {
        NodeStatus::default()
    }
}

impl Algorithm for Squatter {
    const NAME: &'static str = "squatter";
    const SUMMARY: &'static str = "reads `network`";
    const PARAMS: &'static [Param] = &[];
    const TABLES: &'static [&'static str] = &["network"];
    type Tables = ();
    fn config((): (), _: u32) -> Result<(), FieldError> {
        Ok(())
    }
}

/// A plug-in whose name is not a lowercase identifier.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct BadName;

impl Protocol for BadName {
    type Msg = Ping;
    type Timer = Tick;
    type Durable = ();
    type Config = ();
    fn boot(_: &Ctx<'_, ()>, _: Option<&()>, _: &mut Out<Self>) -> Self {
        BadName
    }
    fn on_message(&mut self, _: &Ctx<'_, ()>, _: NodeId, _: Ping, _: &mut Out<Self>) {}
    fn on_timer(&mut self, _: &Ctx<'_, ()>, _: Tick, _: &mut Out<Self>) {}
    fn status(&self) -> NodeStatus {
        NodeStatus::default()
    }
}

impl Algorithm for BadName {
    const NAME: &'static str = "My Algo";
    const SUMMARY: &'static str = "a name with a space";
    const PARAMS: &'static [Param] = &[];
    const TABLES: &'static [&'static str] = &["my_algo"];
    type Tables = ();
    fn config((): (), _: u32) -> Result<(), FieldError> {
        Ok(())
    }
}

fn with_fixed() -> Arc<Registry> {
    Arc::new(Registry::builtin().with::<Fixed>())
}

fn read(text: &str, registry: Arc<Registry>) -> Result<ScenarioFile, String> {
    ScenarioFile::from_text_in(Path::new("p.toml"), text.into(), registry)
        .map_err(|e| e.to_string())
}

#[test]
fn builtins_are_one_ordered_list_and_plugins_come_after() {
    assert_eq!(
        Registry::builtin().names(),
        [
            "bully",
            "ring",
            "raft",
            "raft-rs",
            "zookeeper",
            "etcd",
            "k8s"
        ]
    );
    assert_eq!(
        with_fixed().names(),
        [
            "bully",
            "ring",
            "raft",
            "raft-rs",
            "zookeeper",
            "etcd",
            "k8s",
            "fixed"
        ]
    );
    assert_eq!(
        with_fixed().tables(),
        [
            "bully",
            "stabilizer",
            "ring",
            "raft",
            "raft-rs",
            "zookeeper",
            "service",
            "etcd",
            "k8s",
            "fixed"
        ]
    );
    let (name, summary, params) = with_fixed().describe()[7];
    assert_eq!(
        (name, summary, params[0].key),
        ("fixed", "test plug-in: node 0 always leads", "fixed.period")
    );
}

#[test]
fn registering_a_name_twice_is_refused() {
    let twice = Registry::builtin().with::<Fixed>().try_with::<Fixed>();
    assert_eq!(twice.unwrap_err(), "algorithm `fixed` is registered twice");
    let builtin_again = Registry::builtin().try_with::<electsim::protocols::raft::Raft>();
    assert_eq!(
        builtin_again.unwrap_err(),
        "algorithm `raft` is registered twice"
    );
    let bad = Registry::builtin().try_with::<BadName>();
    assert_eq!(
        bad.unwrap_err(),
        "algorithm name `My Algo`: expected a lowercase identifier such as `lease`"
    );
}

#[test]
#[should_panic(expected = "algorithm `fixed` is registered twice")]
fn with_panics_on_a_program_mistake() {
    let _ = Registry::builtin().with::<Fixed>().with::<Fixed>();
}

#[test]
fn a_table_named_like_a_schema_key_is_an_error_not_a_silent_shadow() {
    let r = Arc::new(Registry::builtin().with::<Squatter>());
    let err = read("algorithm = \"raft\"\n", r).unwrap_err();
    assert!(
        err.contains("a registered algorithm reads the table `network`, which is a key of the scenario schema"),
        "{err}"
    );
}

#[test]
fn the_plugin_table_gets_located_errors_and_hints() {
    let err = read("algorithm = \"fixed\"\n[fixed]\nperiod = 5\n", with_fixed()).unwrap_err();
    assert!(err.starts_with("p.toml:3:10: "), "{err}");
    assert!(err.contains("a duration string with a unit"), "{err}");
    let err = read(
        "algorithm = \"fixed\"\n[fixed]\nperiodd = \"5ms\"\n",
        with_fixed(),
    )
    .unwrap_err();
    assert!(
        err.starts_with("p.toml:3:1: unknown field `periodd`"),
        "{err}"
    );
    assert!(err.contains("did you mean `period`?"), "{err}");
    let err = read("algorithm = \"fixed\"\n[fixd]\n", with_fixed()).unwrap_err();
    assert!(
        err.contains("`service`, `etcd`, `k8s`, `fixed`\n  hint: did you mean `fixed`?"),
        "{err}"
    );
    // A semantic error from `Algorithm::config`, located from its dotted field.
    let file = read(
        "algorithm = \"fixed\"\nnodes = 3\n[fixed]\nperiod = \"0s\"\n",
        with_fixed(),
    )
    .unwrap();
    let err = file.instantiate(&[]).unwrap_err().to_string();
    assert!(
        err.starts_with("p.toml:4:10: invalid value for `fixed.period`: \"0s\" with 3 nodes"),
        "{err}"
    );
    // Every registered algorithm's table is validated, whichever algorithm runs.
    let file = read(
        "algorithm = \"raft\"\n[fixed]\nperiod = \"0s\"\n",
        with_fixed(),
    )
    .unwrap();
    assert!(file.instantiate(&[]).is_err());
}

#[test]
fn unknown_names_list_every_registered_algorithm() {
    let file = read("algorithm = \"paxos\"\n", with_fixed()).unwrap();
    let err = file.instantiate(&[]).unwrap_err().to_string();
    assert!(
        err.starts_with("p.toml:1:13: invalid value for `algorithm`: \"paxos\""),
        "{err}"
    );
    assert!(
        err.contains(
            "`bully`, `ring`, `raft`, `raft-rs`, `zookeeper`, `etcd`, `k8s`, `fixed` (see `electsim list`)"
        ),
        "{err}"
    );
    // The built-in registry does not know the plug-in, and says so the same way.
    let file = read("algorithm = \"fixed\"\n", Arc::new(Registry::builtin())).unwrap();
    let err = file.instantiate(&[]).unwrap_err().to_string();
    assert!(
        err.contains("`bully`, `ring`, `raft`, `raft-rs`, `zookeeper`, `etcd`, `k8s` (see"),
        "{err}"
    );
}

#[test]
fn a_plugin_runs_and_its_config_is_reachable() {
    let file = read(
        "algorithm = \"fixed\"\nnodes = 4\nduration = \"2s\"\n[fixed]\nperiod = \"250ms\"\n",
        with_fixed(),
    )
    .unwrap();
    let sc = file.instantiate(&[]).unwrap();
    assert_eq!(sc.algorithm.name(), "fixed");
    assert_eq!(
        sc.algorithm.config::<Fixed>(),
        Some(&SimDuration::from_millis(250))
    );
    assert_eq!(
        sc.algorithm.config::<electsim::protocols::raft::Raft>(),
        None
    );
    let o = electsim::runner::run(&sc, 1, Vec::new()).unwrap();
    // Node 0 pings 3 peers at 250, 500, ..., 1750 ms: 7 rounds (the 2000 ms one is the end).
    assert_eq!(o.metrics.messages_sent, 21);
    assert_eq!(o.metrics.election_ms.count, 1);
    assert_eq!(
        o.metrics.election_ms.max,
        Some(0.0),
        "elected from the first instant"
    );
}

static INSTALL: Once = Once::new();

/// The sweep reads its file through the process-wide registry: install ours once, before any
/// test of this binary reads a scenario through it.
fn install() {
    INSTALL.call_once(|| {
        electsim::plugin::install(Registry::builtin().with::<Fixed>()).expect("first install");
    });
}

#[test]
fn a_sweep_axis_mixes_the_plugin_with_builtins() {
    install();
    let dir = std::env::temp_dir().join(format!("electsim-plugin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mix.toml");
    std::fs::write(
        &path,
        "name = \"mix\"\nnodes = 3\nduration = \"2s\"\nruns = 2\n\
         [network]\ndelay = { constant = \"5ms\" }\n\
         [sweep]\nalgorithm = [\"fixed\", \"raft\"]\n",
    )
    .unwrap();
    let mut o = electsim::sweep::SweepOptions::new(&path);
    o.out = Some(dir.join("out"));
    o.quiet = true;
    o.charts = false;
    o.jobs = Some(2);
    let r = electsim::sweep::run_sweep(&o).unwrap();
    assert_eq!((r.points, r.runs_selected, r.failed_runs), (2, 4, 0));
    let runs = std::fs::read_to_string(dir.join("out/runs.csv")).unwrap();
    let header: Vec<&str> = runs.lines().next().unwrap().split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    let (alg, ping) = (col("algorithm"), col("msg_FixedPing_sent"));
    let rows: Vec<Vec<&str>> = runs
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let algs: Vec<&str> = rows.iter().map(|r| r[alg]).collect();
    assert_eq!(algs, ["fixed", "fixed", "raft", "raft"]);
    // Node 0 pings 2 peers at 100, 200, ..., 1900 ms: 19 rounds; Raft sends none of them.
    let pings: Vec<&str> = rows.iter().map(|r| r[ping]).collect();
    assert_eq!(pings, ["38", "38", "0", "0"]);
    // A second install is refused: the registry is fixed once in use.
    assert!(electsim::plugin::install(Registry::builtin()).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
