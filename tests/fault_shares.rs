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
