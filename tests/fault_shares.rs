//! Partitions given as a share of the participants scale with the cluster size: at every n,
//! `{ minority = 0.4, ids = "highest" }` cuts off the same kind of minority (the highest ids,
//! fewer than half), so a partition sweep over `nodes` means the same thing at each size.

mod common;
use common::scenario_from_text;

use electsim::scenario::{Assignment, ScenarioFile};
use electsim::sim::faults::FaultAction;
use std::path::Path;

const BASE: &str = r#"
name = "share"
algorithm = "bully"
nodes = 5
duration = "2s"
seed = 1

[[fault]]
at = "1s"
partition = { minority = 0.4, ids = "highest" }
heal_after = "500ms"
"#;

fn groups(text: &str, nodes: u32) -> Result<Vec<Vec<u32>>, String> {
    let f = ScenarioFile::from_text(Path::new("share.toml"), text.to_string())
        .map_err(|e| e.to_string())?;
    let sets = [Assignment::parse_set(&format!("nodes={nodes}")).unwrap()];
    let sc = f.instantiate(&sets).map_err(|e| e.to_string())?;
    match &sc.faults[0].action {
        FaultAction::Partition { groups, .. } => Ok(groups.clone()),
        other => panic!("not a partition: {other:?}"),
    }
}

#[test]
fn share_partitions_scale_with_n() {
    // floor(0.4 n), at least 1, fewer than half.
    assert_eq!(groups(BASE, 3).unwrap(), vec![vec![2]]);
    assert_eq!(groups(BASE, 5).unwrap(), vec![vec![3, 4]]);
    assert_eq!(groups(BASE, 9).unwrap(), vec![vec![6, 7, 8]]);
    assert_eq!(groups(BASE, 10).unwrap(), vec![vec![6, 7, 8, 9]]);
    let lowest = BASE.replace(r#", ids = "highest""#, "");
    assert_eq!(groups(&lowest, 5).unwrap(), vec![vec![0, 1]]);
    assert_eq!(groups(&lowest, 65).unwrap()[0].len(), 26);
    // Explicit groups still work.
    let fixed = BASE.replace(r#"{ minority = 0.4, ids = "highest" }"#, "[[0, 1]]");
    assert_eq!(groups(&fixed, 5).unwrap(), vec![vec![0, 1]]);
}

#[test]
fn bad_shares_name_the_field_and_what_is_valid() {
    let e = groups(&BASE.replace("0.4", "0.5"), 5).unwrap_err();
    assert!(
        e.contains("partition.minority") && e.contains("below 0.5"),
        "{e}"
    );
    let e = groups(&BASE.replace("\"highest\"", "\"middle\""), 5).unwrap_err();
    assert!(
        e.contains("partition.ids") && e.contains("\"lowest\", \"highest\" or \"leader\""),
        "{e}"
    );
    let e = groups(&BASE.replace("ids =", "side ="), 5).unwrap_err();
    assert!(e.contains("side"), "{e}");
}

/// Records the fault actions a run traces (resolved targets).
struct Faults(std::rc::Rc<std::cell::RefCell<Vec<FaultAction>>>);

impl electsim::sim::Observer for Faults {
    fn observe(&mut self, ev: &electsim::sim::TraceEvent<'_>) {
        if let electsim::sim::TraceEvent::Fault { action, .. } = ev {
            self.0.borrow_mut().push((*action).clone());
        }
    }
}

/// The leader at `at_ms` in a fault-free run of `text` (same seed, same history until then).
fn leader_at(text: &str, at_ms: u64) -> u32 {
    let sc = scenario_from_text(text);
    let mut sim = electsim::runner::build(&sc, 1, Vec::new()).unwrap();
    let t = electsim::sim::SimTime::ZERO + electsim::sim::SimDuration::from_millis(at_ms);
    sim.run_until(t).unwrap();
    sim.current_leader().expect("a leader")
}

fn traced_faults(text: &str, nodes: u32) -> Vec<FaultAction> {
    let f = ScenarioFile::from_text(Path::new("t.toml"), text.to_string()).unwrap();
    let sets = [Assignment::parse_set(&format!("nodes={nodes}")).unwrap()];
    let sc = f.instantiate(&sets).unwrap();
    let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    electsim::runner::run(&sc, 1, vec![Box::new(Faults(log.clone()))]).unwrap();
    log.take()
}

/// `cut = ["leader", k]` and `partition = { minority, ids = "leader" }` name the leader of the
/// moment the fault fires, so the same file means the same thing at every size and seed.
#[test]
fn leader_targets_resolve_when_the_fault_fires() {
    use electsim::sim::Target;
    let raft = "algorithm = \"raft\"\nnodes = 5\nduration = \"4s\"\n";
    let leader = leader_at(raft, 2000);
    let other = (leader + 1) % 5;
    let cut =
        format!("{raft}[[fault]]\nat = \"2s\"\ncut = [\"leader\", {other}]\nheal_after = \"1s\"\n");
    let faults = traced_faults(&cut, 5);
    assert_eq!(
        faults[0],
        FaultAction::Cut {
            from: Target::Node(leader),
            to: Target::Node(other),
            heal_after: Some(electsim::sim::SimDuration::from_secs(1)),
        }
    );
    assert_eq!(faults[1], FaultAction::HealFault { fault: 0 });

    for nodes in [5u32, 9] {
        let base = format!("algorithm = \"raft\"\nnodes = {nodes}\nduration = \"4s\"\n");
        let leader = leader_at(&base, 2000);
        let text = format!(
            "{base}[[fault]]\nat = \"2s\"\npartition = {{ minority = 0.4, ids = \"leader\" }}\nheal_after = \"1s\"\n"
        );
        let FaultAction::Partition { groups, .. } = &traced_faults(&text, nodes)[0] else {
            panic!("a resolved partition");
        };
        let k = (0.4 * f64::from(nodes)).floor() as usize;
        assert_eq!(
            groups[0].len(),
            k,
            "n={nodes}: the leader's side is the minority"
        );
        assert!(
            groups[0].contains(&leader),
            "n={nodes}: {groups:?} vs leader {leader}"
        );
        assert_eq!(groups[0].len() + groups[1].len(), nodes as usize);
    }
}

/// A one-shot leader-side partition at 5 s (k8s's first election takes about 3.3 s) on
/// `algorithm`, 5 nodes, 9 s (`extra`: more tables).
fn leader_side(algorithm: &str, extra: &str, partition: &str) -> String {
    format!(
        "algorithm = \"{algorithm}\"\nnodes = 5\nduration = \"9s\"\nseed = 3\n{extra}\
         [[fault]]\nat = \"5s\"\npartition = {partition}\nheal_after = \"2s\"\n"
    )
}

/// The resolved partitions of a run of `text` and its outcome.
fn resolved_run(text: &str) -> (Vec<FaultAction>, electsim::sim::Outcome) {
    let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let sc = scenario_from_text(text);
    let out = electsim::runner::run(&sc, 3, vec![Box::new(Faults(log.clone()))]).unwrap();
    (log.take(), out)
}

/// `ids = "leader"` is the explicit partition it resolves to, for every registered
/// algorithm (the service ones with one and with three replicas): the resolved groups keep
/// the coordination-service replicas (ids 5..) with the majority, and the explicit partition
/// with those groups gives the same run (same trace digest, same availability). Before, the
/// replicas were in no group: an isolated third side.
#[test]
fn leader_side_equals_its_explicit_groups_for_every_algorithm() {
    let mut with_service = 0;
    for algorithm in electsim::plugin::Registry::builtin().names() {
        for extra in ["", "[service]\nreplicas = 3\n"] {
            let text = leader_side(algorithm, extra, "{ minority = 0.4, ids = \"leader\" }");
            let sc = scenario_from_text(&text);
            let total = electsim::runner::build(&sc, 3, Vec::new())
                .unwrap()
                .total_nodes();
            if !extra.is_empty() && total == 5 {
                continue; // No service: the `[service]` table does not apply.
            }
            with_service += usize::from(total > 5);
            let (faults, by_leader) = resolved_run(&text);
            let Some(FaultAction::Partition { groups, .. }) = faults.first() else {
                panic!("{algorithm}: a resolved partition (is there a leader at 5 s?)");
            };
            assert_eq!(groups.len(), 2, "{algorithm}: {groups:?}");
            assert_eq!(
                groups[0].len(),
                2,
                "{algorithm}: the minority is floor(0.4 * 5)"
            );
            assert_eq!(
                groups[1].len() as u32,
                total - 2,
                "{algorithm}: the other participants and every replica {groups:?}"
            );
            assert!(
                (5..total).all(|r| groups[1].contains(&r)),
                "{algorithm}: {groups:?}"
            );
            let explicit = leader_side(algorithm, extra, &format!("{groups:?}"));
            let (_, by_groups) = resolved_run(&explicit);
            assert_eq!(
                by_leader.trace_digest, by_groups.trace_digest,
                "{algorithm} {extra}"
            );
            assert_eq!(
                by_leader.metrics.availability, by_groups.metrics.availability,
                "{algorithm} {extra}"
            );
        }
    }
    // zookeeper, etcd and k8s, each with 1 and 3 replicas.
    assert_eq!(with_service, 6);
}

/// `service = "minority" | "isolated"` place the replicas as named, in both share forms.
#[test]
fn service_placement_key() {
    let zk = |partition: &str| {
        format!(
            "algorithm = \"zookeeper\"\nnodes = 5\nduration = \"6s\"\n\
             [service]\nreplicas = 3\n[[fault]]\nat = \"2s\"\npartition = {partition}\nheal_after = \"2s\"\n"
        )
    };
    let groups_of = |text: &str| match &scenario_from_text(text).faults[0].action {
        FaultAction::Partition { groups, .. } => groups.clone(),
        other => panic!("not a partition: {other:?}"),
    };
    // `[service] replicas = 3`: ids 5, 6, 7.
    assert_eq!(
        groups_of(&zk("{ minority = 0.4, ids = \"highest\" }")),
        vec![vec![3, 4]]
    );
    assert_eq!(
        groups_of(&zk(
            "{ minority = 0.4, ids = \"highest\", service = \"minority\" }"
        )),
        vec![vec![3, 4, 5, 6, 7], vec![0, 1, 2]]
    );
    assert_eq!(
        groups_of(&zk("{ minority = 0.4, service = \"isolated\" }")),
        vec![vec![0, 1], vec![2, 3, 4]]
    );
    for (service, want) in [("minority", 5usize), ("isolated", 2)] {
        let text = zk(&format!(
            "{{ minority = 0.4, ids = \"leader\", service = \"{service}\" }}"
        ));
        let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        electsim::runner::run(
            &scenario_from_text(&text),
            1,
            vec![Box::new(Faults(log.clone()))],
        )
        .unwrap();
        let FaultAction::Partition { groups, .. } = &log.take()[0] else {
            panic!("a resolved partition");
        };
        assert_eq!(groups[0].len(), want, "service = {service}: {groups:?}");
    }
    let e = groups(&BASE.replace("ids = \"highest\"", "service = \"both\""), 5).unwrap_err();
    assert!(
        e.contains("partition.service") && e.contains("\"isolated\""),
        "{e}"
    );
}

/// The issue's repro: ZooKeeper, 5 nodes, 30 s, seed 3, the leader's side cut off at 5 s every
/// 10 s for 5 s. The three occurrences resolve to the leader of the moment (0, 3, then 2) and
/// the majority side keeps the service (id 5): the run is the one with those three explicit
/// partitions (82.82 % available), where an isolated service gave 49.44 %.
#[test]
fn zookeeper_leader_side_repro_keeps_the_service() {
    let head = "algorithm = \"zookeeper\"\nnodes = 5\nduration = \"30s\"\nseed = 3\n";
    let fault = |at: &str, every: &str, partition: &str| {
        format!("[[fault]]\nat = \"{at}\"\n{every}partition = {partition}\nheal_after = \"5s\"\n")
    };
    let run =
        |text: String| electsim::runner::run(&scenario_from_text(&text), 3, Vec::new()).unwrap();
    let every = "every = \"10s\"\n";
    let leader = run(format!(
        "{head}{}",
        fault("5s", every, "{ minority = 0.4, ids = \"leader\" }")
    ));
    let explicit = run(format!(
        "{head}{}{}{}",
        fault("5s", "", "[[0, 1], [2, 3, 4, 5]]"),
        fault("15s", "", "[[0, 3], [1, 2, 4, 5]]"),
        fault("25s", "", "[[0, 2], [1, 3, 4, 5]]")
    ));
    assert_eq!(leader.trace_digest, explicit.trace_digest);
    assert!(
        (leader.metrics.availability - 0.8282).abs() < 1e-4,
        "{}",
        leader.metrics.availability
    );
    let isolated = run(format!(
        "{head}{}",
        fault(
            "5s",
            every,
            "{ minority = 0.4, ids = \"leader\", service = \"isolated\" }"
        )
    ));
    assert!(
        (isolated.metrics.availability - 0.4944).abs() < 1e-4,
        "{}",
        isolated.metrics.availability
    );
}
