//! MATRIX.md from the fixture sweeps: the growth fit, key cells, "not measured" cells,
//! matrix.toml parsing, and byte-identical output.

use electsim::report::matrix::{
    MatrixEntry, Role, fit_power, read_matrix_toml, render_matrix, write_matrix,
};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn entries() -> Vec<MatrixEntry> {
    let e = |name: &str, role| MatrixEntry {
        name: name.into(),
        file: PathBuf::from(format!("scenarios/{name}.toml")),
        role,
    };
    vec![
        e("cluster-size", Role::Sizes),
        e("partition", Role::Partition),
        e("lossy", Role::Lossy),
        e("raft-figure16", Role::Figure16),
    ]
}

#[test]
fn power_fit_of_exact_square_law_is_two() {
    let pts: Vec<(f64, f64)> = [3.0, 5.0, 9.0, 17.0, 33.0, 65.0]
        .iter()
        .map(|n| (*n, 0.7 * n * n))
        .collect();
    let f = fit_power(&pts).expect("fit");
    assert_eq!(format!("{:.2}", f.exponent), "2.00");
    assert_eq!(format!("{:.3}", f.r2), "1.000");
    assert!((f.coefficient - 0.7).abs() < 1e-9, "{}", f.coefficient);
    assert_eq!(f.points, 6);
}

#[test]
fn power_fit_needs_two_distinct_sizes() {
    assert!(fit_power(&[(5.0, 10.0)]).is_none());
    assert!(fit_power(&[(5.0, 10.0), (5.0, 12.0)]).is_none());
    // Zero values cannot be on a log scale: they are left out, not fitted as -inf.
    let f = fit_power(&[(3.0, 0.0), (5.0, 5.0), (9.0, 9.0)]).expect("fit");
    assert_eq!(format!("{:.2}", f.exponent), "1.00");
}

#[test]
fn matrix_from_fixtures_matches_the_committed_expectation() {
    let text = render_matrix(&fixtures(), &entries()).expect("matrix");
    let expected_path = fixtures().join("MATRIX.expected.md");
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        std::fs::write(&expected_path, &text).unwrap();
    }
    let expected =
        std::fs::read_to_string(&expected_path).expect("tests/fixtures/MATRIX.expected.md");
    assert_eq!(
        text, expected,
        "MATRIX.md changed; rerun with UPDATE_EXPECTED=1 and review the diff"
    );
}

#[test]
fn matrix_key_cells() {
    let text = render_matrix(&fixtures(), &entries()).expect("matrix");
    let row = |alg: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("| {alg} |")))
            .unwrap_or_else(|| panic!("no row for {alg}"))
            .to_string()
    };
    // Bully's synthetic messages per crash failover and at boot are 0.5 n^2 + n: model
    // selection must say O(n²) for both and link its sources.
    let bully = row("bully");
    assert!(bully.contains("[O(n²) (O(n²))]"), "{bully}");
    assert!(
        bully.contains("(cluster-size/charts/messages-by-kind.svg)"),
        "{bully}"
    );
    // Every cell names the sweep point it came from.
    assert!(
        bully.contains("<sup>[point 1: n=5](cluster-size/summary.csv#L"),
        "{bully}"
    );
    assert!(
        bully.contains("(partition/charts/split-brain.svg)"),
        "{bully}"
    );
    assert!(bully.contains("(lossy/charts/stability.svg)"), "{bully}");
    // Raft is ~2.6(n-1): O(n). ZooKeeper's boot is exactly 97 + 8n: O(n), never O(log n).
    let raft = row("raft");
    assert!(raft.contains("[O(n) (O(n))]"), "{raft}");
    assert!(
        row("zookeeper").contains(" (O(n))]"),
        "{}",
        row("zookeeper")
    );
    assert!(
        text.contains("The boot election, apart: O(n): 97 + 8·n, leave-one-out error 0.0 %"),
        "{text}"
    );
    // Paragraphs compare with the textbook claims.
    assert!(
        text.contains("**ring.** The seed document claims O(n); Chang–Roberts averages n·H_n"),
        "{text}"
    );
    assert!(
        text.contains("**bully.**") && text.contains("— agrees with the claim."),
        "{text}"
    );
    // The Figure 16 section quotes the paper.
    assert!(
        text.contains("| 150-155ms |") && text.contains("median 287 ms"),
        "{text}"
    );
}

#[test]
fn missing_inputs_give_not_measured_cells() {
    let dir = std::env::temp_dir().join(format!("electsim-matrix-missing-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("partition")).unwrap();
    for f in ["runs.csv", "summary.csv"] {
        std::fs::copy(
            fixtures().join("partition").join(f),
            dir.join("partition").join(f),
        )
        .unwrap();
    }
    write_matrix(&dir, &entries()).expect("a matrix with holes, not an error");
    let text = std::fs::read_to_string(dir.join("MATRIX.md")).unwrap();
    let bully = text.lines().find(|l| l.starts_with("| bully |")).unwrap();
    assert!(
        bully.contains("| not measured | not measured | not measured |"),
        "{bully}"
    );
    assert!(
        bully.contains("(partition/charts/split-brain.svg)"),
        "{bully}"
    );
    assert!(text.contains("`sizes` (scenarios/cluster-size.toml): [`cluster-size/`](cluster-size/) — not measured (no summary.csv)"), "{text}");
    // Nothing at all: still a document, all cells "not measured".
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let text = render_matrix(&empty, &entries()).unwrap();
    assert!(
        text.lines()
            .filter(|l| l.starts_with("| ") && l.contains("not measured"))
            .count()
            >= 5,
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn malformed_results_csv_is_an_error_naming_file_and_line() {
    let dir = std::env::temp_dir().join(format!("electsim-matrix-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("lossy")).unwrap();
    std::fs::write(
        dir.join("lossy/summary.csv"),
        "scenario,point,algorithm,nodes,leader_changes_mean\nlossy,0,raft,5,1.5\nlossy,1,ring,5\n",
    )
    .unwrap();
    let err = render_matrix(&dir, &entries()).unwrap_err().to_string();
    assert!(err.contains("lossy/summary.csv:3:"), "{err}");
    assert!(err.contains("4 fields, but the header has 5"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn matrix_toml_lists_roles_and_resolves_paths() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/matrix.toml");
    let entries = read_matrix_toml(&path).expect("scenarios/matrix.toml");
    let roles: Vec<Role> = entries.iter().map(|e| e.role).collect();
    assert_eq!(
        roles,
        vec![
            Role::Sizes,
            Role::Partition,
            Role::Lossy,
            Role::Figure16,
            Role::Production
        ]
    );
    let fig = entries.iter().find(|e| e.role == Role::Figure16).unwrap();
    assert_eq!(fig.name, "raft-figure16");
    assert!(
        fig.file.ends_with("scenarios/raft-figure16.toml") && fig.file.is_file(),
        "{}",
        fig.file.display()
    );

    let dir = std::env::temp_dir().join(format!("electsim-matrix-toml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("m.toml");
    std::fs::write(&bad, "[[scenario]]\nfile = \"a.toml\"\nrole = \"sizes\"\n[[scenario]]\nfile = \"b.toml\"\nrole = \"sizes\"\n").unwrap();
    let err = read_matrix_toml(&bad).unwrap_err().to_string();
    assert!(err.contains("role `sizes` appears twice"), "{err}");
    std::fs::write(&bad, "[[scenario]]\nfile = \"a.toml\"\nrole = \"size\"\n").unwrap();
    let err = read_matrix_toml(&bad).unwrap_err().to_string();
    assert!(
        err.contains("m.toml") && err.contains("unknown variant `size`"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn matrix_is_byte_identical_across_invocations() {
    let a = render_matrix(&fixtures(), &entries()).unwrap();
    let b = render_matrix(&fixtures(), &entries()).unwrap();
    assert_eq!(a, b);
}

/// Write `results/<name>/summary.csv` (no runs.csv) and return the entry.
fn synthetic(results: &Path, name: &str, role: Role, file: PathBuf, csv: &str) -> MatrixEntry {
    std::fs::create_dir_all(results.join(name)).unwrap();
    std::fs::write(results.join(name).join("summary.csv"), csv).unwrap();
    MatrixEntry {
        name: name.into(),
        file,
        role,
    }
}

#[test]
fn cells_name_their_point_and_follow_the_scenarios_stated_conditions() {
    let dir = std::env::temp_dir().join(format!("electsim-matrix-points-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // The lossy scenario states loss = 0.05 and sweeps 0.01 and 0.05 (listed first: 0.01).
    let lossy_toml = dir.join("lossy.toml");
    std::fs::write(
        &lossy_toml,
        "name = \"lossy\"\n[sweep]\n\"network.loss\" = [0.01, 0.05]\n[network]\nloss = 0.05\n",
    )
    .unwrap();
    let lossy = synthetic(
        &dir,
        "lossy",
        Role::Lossy,
        lossy_toml,
        "scenario,point,param_algorithm,param_network_loss,algorithm,nodes,leader_changes_mean,availability_mean\n\
         lossy,0,raft,0.01,raft,5,1.5,0.99\n\
         lossy,1,raft,0.05,raft,5,4.25,0.9\n\
         lossy,2,etcd,0.01,etcd,5,2,0.98\n\
         lossy,3,etcd,0.05,etcd,5,6,0.8\n",
    );
    // Partition: raft's worse choice is [[3, 4]] (more split-brain time), etcd's is [[0, 1]].
    let partition = synthetic(
        &dir,
        "partition",
        Role::Partition,
        dir.join("no-such-partition.toml"),
        "scenario,point,param_algorithm,param_fault_0_partition,algorithm,nodes,split_brain_incidents_mean,split_brain_ms_mean\n\
         partition,0,raft,\"[[0, 1]]\",raft,5,1,10\n\
         partition,1,raft,\"[[3, 4]]\",raft,5,2,700\n\
         partition,2,etcd,\"[[0, 1]]\",etcd,5,3,50\n\
         partition,3,etcd,\"[[3, 4]]\",etcd,5,3,40\n",
    );
    // Sizes: election msgs per crash failover and all traffic per election, hand-computed:
    // raft n=5: 30 / 4 = 7.50 election msgs, 1000 / 4 = 250 all traffic; n=9: 90 / 6 = 15.0;
    // n=17: 120 / 4 = 30.0 — exactly 1.875·(n − 1), so O(n) with no boot columns: "(—)".
    let sizes = synthetic(
        &dir,
        "sizes",
        Role::Sizes,
        dir.join("no-such-sizes.toml"),
        "scenario,point,param_algorithm,param_nodes,algorithm,nodes,elections_mean,leader_crash_count_mean,leader_crash_election_messages_mean,messages_sent_mean,messages_per_election_mean\n\
         sizes,0,raft,5,raft,5,4,4,30,1000,99\n\
         sizes,1,raft,9,raft,9,6,6,90,2000,99\n\
         sizes,2,raft,17,raft,17,4,4,120,2000,99\n\
         sizes,3,etcd,5,etcd,5,2,2,10,500,99\n\
         sizes,4,etcd,9,etcd,9,2,2,10,900,99\n",
    );
    let text = render_matrix(&dir, &[sizes, partition, lossy]).expect("matrix");
    let row = |alg: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("| {alg} |")))
            .unwrap_or_else(|| panic!("no row for {alg}: {text}"))
            .to_string()
    };
    let raft = row("raft");
    let cells: Vec<&str> = raft.split(" | ").collect();
    // | raft | claim | elec n=5 | elec n=65 | class | traffic | election | failover | hand-overs | split | lc | av |
    assert!(cells[2].starts_with("[7.50]"), "{raft}");
    assert!(cells[2].contains("<sup>[point 0: n=5]"), "{raft}");
    assert!(cells[5].starts_with("[250]"), "{raft}");
    assert!(cells[4].starts_with("[O(n) (—)]"), "{raft}");
    assert!(
        cells[9].contains("[2.00]")
            && cells[9].contains("[700]")
            && cells[9].contains("point 1: n=5 fault_0_partition=[[3, 4]]"),
        "{raft}"
    );
    assert!(
        cells[10].starts_with("[4.25]") && cells[10].contains("point 1: n=5 network_loss=0.05"),
        "{raft}"
    );
    assert!(cells[11].starts_with("[90.00%]"), "{raft}");
    let etcd = row("etcd");
    assert!(
        etcd.contains("[50.0]") && etcd.contains("point 2: n=5 fault_0_partition=[[0, 1]]"),
        "{etcd}"
    );
    assert!(etcd.contains("[6.00]"), "{etcd}");
    // etcd is not in the seed document's table: no expected exponent, no verdict.
    let para = text
        .lines()
        .find(|l| l.starts_with("**etcd.**"))
        .expect("etcd paragraph");
    assert!(!para.contains("claimed"), "{para}");
    assert!(para.contains("Not in the seed document's table"), "{para}");
    assert!(
        text.contains("the scenario's own value (`network_loss` = 0.05)"),
        "{text}"
    );
}

#[test]
fn a_missing_matrix_file_says_how_to_name_it() {
    let e = read_matrix_toml(Path::new("no/such/matrix.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("no/such/matrix.toml: file not found")
            && e.contains("electsim matrix --matrix PATH/TO/scenarios/matrix.toml"),
        "{e}"
    );
}
