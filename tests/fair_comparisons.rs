//! Fair comparisons (issue 26, part A): `[[variant]]` axes and per-algorithm axes
//! (`[sweep.raft]`) never run an algorithm under another algorithm's parameters; a blind
//! cross-product is refused with both fixes named; axes come out in file order; Raft refuses
//! a heartbeat that is not below its election timeout; case slips get a did-you-mean;
//! `compare` takes several baselines, a variant name and `--where`; `summary` pivots
//! summary.csv. Expectations are written out by hand.

mod common;

use common::{assert_exit, electsim, fresh_dir, ok, read, stderr};
use std::path::Path;

/// Write `text` as `dir/name` and return the path as a string.
fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

/// The `param_*` header cells and the `param_*` cells of every row of a CSV file.
fn params(csv: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = csv.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let cols: Vec<usize> = (0..head.len())
        .filter(|&i| head[i].starts_with("param_"))
        .collect();
    let rows = lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            cols.iter().map(|&i| cells[i].to_string()).collect()
        })
        .collect();
    (cols.iter().map(|&i| head[i].to_string()).collect(), rows)
}

const PER_ALGORITHM: &str = r#"name = "per"
duration = "2s"
runs = 1
[sweep]
nodes = [7, 5]
algorithm = ["bully", "raft"]
[sweep.raft]
pre_vote = [false, true]
check_quorum = [true, false]
"#;

#[test]
fn per_algorithm_axes_cross_only_their_algorithm_in_file_order() {
    let dir = fresh_dir("fair", "per");
    let f = write(&dir, "per.toml", PER_ALGORITHM);
    let out = dir.join("out");
    ok(&electsim(&[
        "sweep",
        &f,
        "--out",
        out.to_str().unwrap(),
        "-q",
        "--no-charts",
    ]));
    let (head, rows) = params(&read(&out.join("summary.csv")));
    // File order, not alphabetical (which would be algorithm, nodes, raft.check_quorum, ...).
    assert_eq!(
        head,
        [
            "param_nodes",
            "param_algorithm",
            "param_raft_pre_vote",
            "param_raft_check_quorum"
        ]
    );
    // nodes slowest, then algorithm; bully once per size (raft's axes do not apply: empty),
    // raft 2 x 2 times, check_quorum fastest in its written order (true before false).
    let want = [
        ["7", "bully", "", ""],
        ["7", "raft", "false", "true"],
        ["7", "raft", "false", "false"],
        ["7", "raft", "true", "true"],
        ["7", "raft", "true", "false"],
        ["5", "bully", "", ""],
        ["5", "raft", "false", "true"],
        ["5", "raft", "false", "false"],
        ["5", "raft", "true", "true"],
        ["5", "raft", "true", "false"],
    ];
    assert_eq!(rows, want.map(|r| r.map(String::from).to_vec()).to_vec());
    // The replay of a bully point sets no raft key.
    let runs = read(&out.join("runs.csv"));
    let bully = runs.lines().nth(1).unwrap();
    assert!(
        bully.contains("--set nodes=7 --set algorithm=bully --seed"),
        "{bully}"
    );
    let o = electsim(&["validate", &f]);
    ok(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("bully, raft with 5 or 7 nodes"), "{text}");
    assert!(text.contains("10 sweep point(s)"), "{text}");
}

#[test]
fn a_blind_cross_product_is_refused_naming_both_fixes() {
    let dir = fresh_dir("fair", "blind");
    let f = write(
        &dir,
        "blind.toml",
        "name = \"blind\"\nduration = \"2s\"\nruns = 1\n[sweep]\nalgorithm = [\"bully\", \"ring\", \"raft\"]\n\"raft.pre_vote\" = [false, true]\n",
    );
    let out = dir.join("out");
    let o = electsim(&["sweep", &f, "--out", out.to_str().unwrap(), "-q"]);
    assert_exit(&o, 2);
    let e = stderr(&o);
    for want in [
        "blind.toml:6:1",
        "`sweep.raft.pre_vote`: [false, true]",
        "read by raft only",
        "also runs bully, ring",
        "each would run 2 times",
        "`[sweep.raft]` `pre_vote = [false, true]`",
        "[[variant]]",
        "algorithm = \"raft\"",
    ] {
        assert!(e.contains(want), "missing {want:?} in {e}");
    }
    assert!(!out.exists(), "nothing is written");
    // A per-algorithm axis of an algorithm the sweep does not run is an error too.
    let f = write(
        &dir,
        "none.toml",
        "duration = \"2s\"\n[sweep]\nalgorithm = [\"bully\", \"ring\"]\n[sweep.raft]\npre_vote = [false, true]\n",
    );
    let o = electsim(&["validate", &f]);
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("no point runs one that reads [raft]"),
        "{}",
        stderr(&o)
    );
}

const VARIANTS: &str = r#"name = "var"
duration = "2s"
runs = 1
[[variant]]
name = "raft+pv"
algorithm = "raft"
raft.pre_vote = true
[[variant]]
name = "raft"
algorithm = "raft"
[[variant]]
name = "bully"
algorithm = "bully"
[sweep]
nodes = [5, 7]
[[fault]]
at = "1s"
crash = "leader"
"#;

#[test]
fn variants_are_one_axis_named_in_labels_compare_and_replays() {
    let dir = fresh_dir("fair", "variants");
    let f = write(&dir, "var.toml", VARIANTS);
    let out = dir.join("out");
    let o = out.to_str().unwrap();
    ok(&electsim(&["sweep", &f, "--out", o, "-q", "--no-charts"]));
    let summary = read(&out.join("summary.csv"));
    let (head, rows) = params(&summary);
    // The [[variant]]s come first in the file, so their axis varies slowest.
    assert_eq!(head, ["param_variant", "param_nodes"]);
    let names: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("raft+pv", "5"),
            ("raft+pv", "7"),
            ("raft", "5"),
            ("raft", "7"),
            ("bully", "5"),
            ("bully", "7")
        ]
    );
    let algs: Vec<&str> = summary
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(4).unwrap())
        .collect();
    assert_eq!(algs, ["raft", "raft", "raft", "raft", "bully", "bully"]);
    // Pre-vote runs only in the raft+pv points: PreVote messages there, none elsewhere.
    let runs = read(&out.join("runs.csv"));
    let head: Vec<&str> = runs.lines().next().unwrap().split(',').collect();
    let c = head.iter().position(|h| *h == "msg_PreVote_sent").unwrap();
    let pv: Vec<u64> = runs
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(c).unwrap().parse().unwrap())
        .collect();
    assert!(pv[0] > 0 && pv[1] > 0, "{pv:?}");
    assert_eq!(pv[2..], [0, 0, 0, 0]);
    // The replay names the variant, and reproduces the run's digest.
    let row = runs.lines().nth(1).unwrap();
    let replay = row
        .split(',')
        .find(|c| c.starts_with("electsim run"))
        .unwrap();
    assert!(
        replay.contains("--set variant=raft+pv --set nodes=5 --seed "),
        "{replay}"
    );
    let seed = replay.rsplit(' ').next().unwrap();
    let digest = row.rsplit(',').nth(2).unwrap();
    let o = electsim(&[
        "run",
        &f,
        "--set",
        "variant=raft+pv",
        "--set",
        "nodes=5",
        "--seed",
        seed,
        "--format",
        "json",
    ]);
    ok(&o);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!("\"trace_digest\": \"{digest}\"")),
        "{digest}"
    );
    // compare against a variant by its name; labels are variant names.
    let c = electsim(&[
        "compare",
        o_dir(&out),
        "--baseline",
        "raft",
        "--where",
        "nodes=5",
    ]);
    ok(&c);
    let table = String::from_utf8_lossy(&c.stdout);
    assert!(
        table.contains("against variant = raft (where nodes = 5)"),
        "{table}"
    );
    assert!(
        table.contains("raft+pv n=5 (0)") && table.contains("bully n=5 (4)"),
        "{table}"
    );
    assert!(!table.contains("n=7"), "{table}");
    assert!(out.join("compare-variant-raft-where-nodes-5.md").exists());
}

fn o_dir(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn bad_variants_are_clear_errors() {
    let dir = fresh_dir("fair", "bad-variants");
    let cases: &[(&str, &[&str])] = &[
        (
            "[[variant]]\nname = \"b\"\nalgorithm = \"bully\"\nraft.pre_vote = true\n",
            &[
                "bad.toml:5:",
                "`raft.pre_vote`",
                "variant `b` runs bully",
                "[raft] is read by raft only",
            ],
        ),
        (
            "[[variant]]\nalgorithm = \"raft\"\n",
            &["`variant.0.name`", "a name for the variant"],
        ),
        (
            "[[variant]]\nname = \"x\"\n[[variant]]\nname = \"x\"\n",
            &[
                "bad.toml:5:8",
                "`variant.1.name`",
                "a name no other variant has",
            ],
        ),
        (
            "[[variant]]\nname = \"x\"\nruns = 3\n",
            &["`variant.0.runs`", "apply to the whole sweep"],
        ),
    ];
    for (i, (tail, wants)) in cases.iter().enumerate() {
        let f = write(&dir, "bad.toml", &format!("duration = \"2s\"\n{tail}"));
        let o = electsim(&["validate", &f]);
        assert_exit(&o, 2);
        let e = stderr(&o);
        for w in *wants {
            assert!(e.contains(w), "case {i}: missing {w:?} in {e}");
        }
    }
    let f = write(&dir, "var.toml", VARIANTS);
    let o = electsim(&["run", &f, "--set", "variant=Raft+PV"]);
    assert_exit(&o, 2);
    let e = stderr(&o);
    assert!(
        e.contains("one of the [[variant]] names: raft+pv, raft, bully; did you mean `raft+pv`?"),
        "{e}"
    );
}

#[test]
fn raft_refuses_a_heartbeat_not_below_the_minimum_election_timeout() {
    let o = electsim(&[
        "run",
        "scenarios/raft-leader-crash.toml",
        "--set",
        "raft.heartbeat=500ms",
    ]);
    assert_exit(&o, 2);
    let e = stderr(&o);
    assert!(e.contains("(from --set raft.heartbeat=500ms)"), "{e}");
    assert!(
        e.contains("heartbeat = \"500ms\" and election_timeout = [\"150ms\", \"300ms\"]"),
        "{e}"
    );
    assert!(e.contains("time out between two heartbeats"), "{e}");
    // The boundary: equal is refused, one microsecond below is accepted; the error points
    // at the key the file gives.
    let dir = fresh_dir("fair", "heartbeat");
    let at = |hb: &str| {
        let f = write(
            &dir,
            "hb.toml",
            &format!(
                "algorithm = \"raft\"\nduration = \"1s\"\n[raft]\nelection_timeout = [\"150ms\", \"300ms\"]\nheartbeat = \"{hb}\"\n"
            ),
        );
        electsim(&["validate", &f])
    };
    let o = at("150ms");
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("hb.toml:5:13"), "{}", stderr(&o));
    ok(&at("149999us"));
    // With the default heartbeat (50ms), a short election timeout is the key to blame.
    let f = write(&dir, "et.toml", "algorithm = \"raft\"\nduration = \"1s\"\n");
    let o = electsim(&[
        "validate",
        &f,
        "--set",
        "raft.election_timeout=[\"40ms\", \"80ms\"]",
    ]);
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("invalid value for `raft.election_timeout`: [\"40ms\", \"80ms\"]"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn case_slips_get_a_did_you_mean() {
    let cases: &[(&[&str], &str)] = &[
        (&["-a", "Raft"], "did you mean `raft`?"),
        (&["-a", "ETCD"], "did you mean `etcd`?"),
        (&["--set", "Raft.pre_vote=true"], "did you mean `raft`?"),
        (&["--set", "raft.Pre_Vote=true"], "did you mean `pre_vote`?"),
    ];
    for (args, want) in cases {
        let mut a = vec!["validate", "scenarios/raft-leader-crash.toml"];
        a.extend_from_slice(args);
        let o = electsim(&a);
        assert_exit(&o, 2);
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
    }
}

/// runs.csv of a Raft sweep: pre_vote x check_quorum x two partitions (table values), two
/// replications (seeds 100, 101); leader_changes as given.
fn raft_runs() -> String {
    let mut s = String::from(
        "scenario,point,replication,seed,param_raft_pre_vote,param_raft_check_quorum,param_fault_0_partition,algorithm,nodes,leader_changes\n",
    );
    let lc = [
        [2, 4],
        [3, 7],
        [2, 6],
        [6, 6],
        [9, 9],
        [9, 9],
        [9, 9],
        [9, 9],
    ];
    let mut point = 0;
    for pv in ["false", "true"] {
        for cq in ["false", "true"] {
            for part in [
                "\"{ ids = \"\"leader\"\", minority = 0.4 }\"",
                "\"{ ids = \"\"highest\"\", minority = 0.4 }\"",
            ] {
                // Points in this order: (pv, cq, leader), (pv, cq, highest), ...
                let i = point / 2 + 4 * (point % 2);
                for (r, changes) in lc[i].iter().enumerate() {
                    s.push_str(&format!(
                        "t,{point},{r},{},{pv},{cq},{part},raft,5,{changes}\n",
                        100 + r
                    ));
                }
                point += 1;
            }
        }
    }
    s
}

#[test]
fn compare_takes_several_baselines_and_where_with_natural_values() {
    let dir = fresh_dir("fair", "compare");
    write(&dir, "runs.csv", &raft_runs());
    let d = dir.to_str().unwrap();
    // The partition typed in its natural key order (the cell has the sorted one).
    let o = electsim(&[
        "compare",
        d,
        "--baseline",
        "raft.pre_vote=false",
        "--baseline",
        "raft.check_quorum=false",
        "--where",
        "fault.0.partition={ minority = 0.4, ids = \"leader\" }",
        "--metric",
        "leader_changes",
    ]);
    ok(&o);
    let stem = "compare-raft_pre_vote-false-raft_check_quorum-false-where-fault_0_partition-minority_0.4_ids_leader";
    let csv = read(&dir.join(format!("{stem}.csv")));
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    // Kept: the four "leader" points 0, 2, 4, 6; the baseline is point 0 (lc 2, 4).
    // Point 2 (cq): lc 3, 7 -> differences 1, 3: mean 2, sd sqrt(2) = 1.414214,
    //   95% CI 2 -/+ t(1) * sd / sqrt(2) = 2 -/+ 12.706205 = [-10.706205, 14.706205].
    // Point 4 (pv): lc 2, 6 -> differences 0, 2: mean 1, sd 1.414214.
    // Point 6 (pv, cq): lc 6, 6 -> differences 4, 2: mean 3, sd 1.414214.
    // (Counted from the end: the label before them holds commas.)
    let cells: Vec<(&str, &str, &str, &str, &str)> = rows
        .iter()
        .map(|r| {
            let n = r.len();
            (r[n - 10], r[n - 5], r[n - 4], r[n - 3], r[n - 2])
        })
        .collect();
    assert_eq!(
        cells,
        [
            ("0", "2", "1.414214", "-10.706205", "14.706205"),
            ("0", "1", "1.414214", "-11.706205", "13.706205"),
            ("0", "3", "1.414214", "-9.706205", "15.706205"),
        ]
    );
    let table = String::from_utf8_lossy(&o.stdout);
    let ids: Vec<&str> = table
        .lines()
        .filter_map(|l| l.split(" n=5 (").nth(1))
        .map(|l| l.split(')').next().unwrap())
        .collect();
    assert_eq!(ids, ["2", "4", "6"], "{table}");
    assert!(
        table.contains("raft_pre_vote = false, raft_check_quorum = false (where fault_0_partition = { minority = 0.4, ids = \"leader\" })"),
        "{table}"
    );
    // A --where value no point has is named with the values there are.
    let o = electsim(&[
        "compare",
        d,
        "--baseline",
        "raft.pre_vote=false",
        "--where",
        "raft.check_quorum=maybe",
    ]);
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("no point has raft_check_quorum = maybe; its values: false, true"),
        "{}",
        stderr(&o)
    );
    // Without variants, a bare word is not a baseline.
    let o = electsim(&["compare", d, "--baseline", "raft"]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("expected KEY=VALUE"), "{}", stderr(&o));
}

const SUMMARY: &str = "scenario,point,param_variant,param_nodes,algorithm,nodes,runs,failed_runs,elections_mean,elections_ci95_lo,elections_ci95_hi,availability_mean,availability_ci95_lo,availability_ci95_hi\n\
t,0,raft+pv,5,raft,5,3,0,2,-0.484138,4.484138,0.95,0.9,1\n\
t,1,bully,5,bully,5,1,0,4,,,0.5,,\n";

#[test]
fn summary_pivots_summary_csv() {
    let dir = fresh_dir("fair", "summary");
    write(&dir, "summary.csv", SUMMARY);
    let d = dir.to_str().unwrap();
    let o = electsim(&["summary", d]);
    ok(&o);
    // Default metrics present in the file: elections and availability; one interval has no
    // bounds (one run) and shows the mean alone.
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "mean over runs [95% CI of the mean]\n\
         point            elections         availability\n\
         raft+pv n=5 (0)  2 [-0.484, 4.48]  0.95 [0.9, 1]\n\
         bully n=5 (1)    4                 0.5\n"
    );
    let o = electsim(&[
        "summary",
        d,
        "--where",
        "variant=bully",
        "--format",
        "csv",
        "--metric",
        "availability",
    ]);
    ok(&o);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "point,label,availability_mean,availability_ci95_lo,availability_ci95_hi\n1,bully n=5,0.5,,\n"
    );
    let o = electsim(&["summary", d, "--format", "md", "--metric", "elections"]);
    ok(&o);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "| point | elections |\n|---|---|\n| raft+pv n=5 (0) | 2 [-0.484, 4.48] |\n| bully n=5 (1) | 4 |\n"
    );
    let o = electsim(&["summary", d, "--metric", "nope"]);
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("no column `nope_mean`; metrics: elections, availability"),
        "{}",
        stderr(&o)
    );
}
