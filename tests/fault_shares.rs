//! Partitions given as a share of the participants scale with the cluster size: at every n,
//! `{ minority = 0.4, ids = "highest" }` cuts off the same kind of minority (the highest ids,
//! fewer than half), so a partition sweep over `nodes` means the same thing at each size.

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
        e.contains("partition.ids") && e.contains("\"lowest\" or \"highest\""),
        "{e}"
    );
    let e = groups(&BASE.replace("ids =", "side ="), 5).unwrap_err();
    assert!(e.contains("side"), "{e}");
}
