//! `electsim compare DIR --baseline KEY=VALUE`: paired differences (same replication, same
//! seed) with 95% Student-t intervals, checked against hand-computed values; bad baselines and
//! unpaired seeds are input errors (exit 2).

mod common;

use common::{electsim, fresh_dir, ok};

const HEADER: &str = "scenario,point,replication,seed,param_algorithm,param_network_loss,algorithm,nodes,leader_changes,failover_ms_mean\n";

/// A point: id, algorithm, loss, leader changes and failover times of its three runs.
type PointRows = (
    u32,
    &'static str,
    &'static str,
    [&'static str; 3],
    [&'static str; 3],
);

/// Four points: raft and bully at loss 0 and 0.2, three replications each.
fn runs(seed_of_bully_02_rep2: u64) -> String {
    let mut s = HEADER.to_string();
    let rows: [PointRows; 4] = [
        (0, "raft", "0", ["1", "2", "3"], ["10", "20", "30"]),
        (1, "raft", "0.2", ["2", "4", "9"], ["15", "26", ""]),
        (2, "bully", "0", ["0", "0", "0"], ["", "", ""]),
        (3, "bully", "0.2", ["1", "1", "1"], ["", "", ""]),
    ];
    for (point, alg, loss, lc, fo) in rows {
        for r in 0..3 {
            let seed = if point == 3 && r == 2 {
                seed_of_bully_02_rep2
            } else {
                100 + r as u64
            };
            s.push_str(&format!(
                "t,{point},{r},{seed},{alg},{loss},{alg},5,{},{}\n",
                lc[r], fo[r]
            ));
        }
    }
    s
}

#[test]
fn paired_differences_match_hand_computed_values() {
    let dir = fresh_dir("compare", "hand");
    std::fs::write(dir.join("runs.csv"), runs(102)).unwrap();
    let d = dir.to_str().unwrap();
    let o = electsim(&[
        "compare",
        d,
        "--baseline",
        "network.loss=0",
        "--metric",
        "leader_changes",
        "--metric",
        "failover_ms_mean",
    ]);
    ok(&o);
    let csv = std::fs::read_to_string(dir.join("compare-network_loss-0.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "baseline,point,label,baseline_point,metric,pairs,baseline_mean,point_mean,diff_mean,diff_sd,diff_ci95_lo,diff_ci95_hi,significant"
    );
    // raft 0.2 vs raft 0: differences 1, 2, 6: mean 3, sd sqrt(7) = 2.645751,
    // t(0.975, 2) = 4.302653, half-width 4.302653 * sqrt(7) / sqrt(3) = 6.572411.
    assert_eq!(
        lines[1],
        "network_loss = 0,1,raft network_loss=0.2 n=5,0,leader_changes,3,2,5,3,2.645751,-3.572411,9.572411,false"
    );
    // Failover: replication 2 has no value at loss 0.2, so two pairs: 5, 6 -> mean 5.5,
    // sd 0.707107, t(0.975, 1) = 12.706205, half-width 6.353103: the interval holds 0.
    assert_eq!(
        lines[2],
        "network_loss = 0,1,raft network_loss=0.2 n=5,0,failover_ms_mean,2,15,20.5,5.5,0.707107,-0.853103,11.853103,false"
    );
    // bully: 1 - 0 every replication: no spread, a significant +1.
    assert_eq!(
        lines[3],
        "network_loss = 0,3,bully network_loss=0.2 n=5,2,leader_changes,3,0,1,1,0,1,1,true"
    );
    // No failover values at all: no pairs, empty cells.
    assert_eq!(
        lines[4],
        "network_loss = 0,3,bully network_loss=0.2 n=5,2,failover_ms_mean,0,,,,,,,false"
    );
    assert_eq!(lines.len(), 5);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("+3 [-3.57, 9.57]"), "{table}");
    assert!(table.contains("+1 [1, 1] *"), "{table}");
    let md = std::fs::read_to_string(dir.join("compare-network_loss-0.md")).unwrap();
    assert!(
        md.contains(
            "| raft network_loss=0.2 n=5 (1) | 0 | leader_changes | 3 | 2 | 5 | +3 [-3.57, 9.57] |"
        ),
        "{md}"
    );
}

#[test]
fn bad_baselines_and_unpaired_seeds_are_input_errors() {
    let dir = fresh_dir("compare", "bad");
    std::fs::write(dir.join("runs.csv"), runs(102)).unwrap();
    let d = dir.to_str().unwrap();
    let err = |args: &[&str]| {
        let o = electsim(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        String::from_utf8_lossy(&o.stderr).to_string()
    };
    let e = err(&["compare", d, "--baseline", "raft.pre_vote=true"]);
    assert!(
        e.contains("`raft_pre_vote` is not a swept key")
            && e.contains("swept: algorithm, nodes, network_loss"),
        "{e}"
    );
    let e = err(&["compare", d, "--baseline", "network.loss=0.5"]);
    assert!(e.contains("its values: 0, 0.2"), "{e}");
    let e = err(&["compare", d, "--baseline", "loss"]);
    assert!(e.contains("expected KEY=VALUE"), "{e}");
    let e = err(&[
        "compare",
        d,
        "--baseline",
        "algorithm=raft",
        "--metric",
        "nope",
    ]);
    assert!(e.contains("--metric nope: no such column"), "{e}");
    // A replication whose seeds differ between the two points cannot be paired.
    std::fs::write(dir.join("runs.csv"), runs(999)).unwrap();
    let e = err(&["compare", d, "--baseline", "network.loss=0"]);
    assert!(
        e.contains("replication 2 of point 3 has seed 999") && e.contains("paired seeds"),
        "{e}"
    );
    assert!(e.contains("runs.csv:13:"), "{e}");
}
