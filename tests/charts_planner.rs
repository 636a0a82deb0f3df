//! The chart planner never drops a sweep point: over random sweeps of three or more axes (one
//! of them numeric and not `nodes`), every `summary.csv` row is drawn in some chart, the bar
//! charts draw every point (or say what they leave out), and `--x` puts any swept numeric
//! key on the x axis of the line charts.

mod common;

use common::{electsim, fresh_dir};
use electsim::report::charts::{ChartOptions, Coverage, Table, chart_coverage};
use std::collections::BTreeSet;
use std::path::Path;

/// A small deterministic generator (no global RNG in tests either).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    /// A non-empty subset of `items` with at least `min` elements, in the original order.
    fn subset<'a>(&mut self, items: &[&'a str], min: usize) -> Vec<&'a str> {
        loop {
            let v: Vec<&str> = items
                .iter()
                .copied()
                .filter(|_| self.next().is_multiple_of(2))
                .collect();
            if v.len() >= min {
                return v;
            }
        }
    }
}

fn list(v: &[&str], quote: bool) -> String {
    let items: Vec<String> = v
        .iter()
        .map(|s| {
            if quote {
                format!("\"{s}\"")
            } else {
                s.to_string()
            }
        })
        .collect();
    format!("[{}]", items.join(","))
}

/// Sweep `scenarios/lossy.toml` with these axes (2 runs of 3 s per point) into `dir`.
fn sweep(dir: &Path, axes: &[(&str, String)]) {
    let out = dir.to_str().unwrap();
    let mut args: Vec<String> = vec![
        "sweep".into(),
        "scenarios/lossy.toml".into(),
        "--out".into(),
        out.into(),
        "--runs".into(),
        "2".into(),
        "-q".into(),
        "--no-charts".into(),
        "--set".into(),
        "duration=3s".into(),
    ];
    for (k, v) in axes {
        args.push("--set".into());
        args.push(format!("sweep.{k}={v}"));
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = electsim(&refs);
    assert!(
        o.status.success(),
        "sweep {axes:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn summary_points(dir: &Path) -> BTreeSet<String> {
    let t = Table::read(&dir.join("summary.csv")).unwrap();
    let c = t.col("point").unwrap();
    t.rows.iter().map(|r| t.text(r, c).to_string()).collect()
}

fn drawn(cov: &[Coverage]) -> BTreeSet<String> {
    cov.iter().flat_map(|c| c.points.iter().cloned()).collect()
}

fn find<'a>(cov: &'a [Coverage], stem: &str) -> &'a Coverage {
    cov.iter()
        .find(|c| c.stem == stem)
        .unwrap_or_else(|| panic!("no chart {stem}: {cov:?}"))
}

#[test]
fn every_summary_row_is_drawn_over_random_axis_combinations() {
    let mut rng = Lcg(13);
    for case in 0..6 {
        let algs = rng.subset(&["bully", "ring", "raft", "zookeeper", "etcd"], 1);
        let nodes = rng.subset(&["3", "5", "7"], 1);
        let loss = rng.subset(&["0", "0.05", "0.2"], 2);
        let third: (&str, String) = if rng.next().is_multiple_of(2) {
            // A key every algorithm reads: a plain axis on `raft.*` crossed with other
            // algorithms is refused (tests/fair_comparisons.rs).
            ("storage.mode", r#"["overlapped","blocking"]"#.to_string())
        } else {
            ("network.duplicate", "[0,0.02]".to_string())
        };
        let axes = vec![
            ("algorithm", list(&algs, true)),
            ("nodes", list(&nodes, false)),
            ("network.loss", list(&loss, false)),
            third,
        ];
        let dir = fresh_dir("charts-planner", &format!("case-{case}"));
        sweep(&dir, &axes);
        let want = summary_points(&dir);
        let cov = chart_coverage(&dir, &ChartOptions::default()).unwrap();
        let all_drawn = drawn(&cov);
        let missing: Vec<&String> = want.difference(&all_drawn).collect();
        assert!(
            missing.is_empty(),
            "case {case} {axes:?}: points {missing:?} drawn in no chart; coverage {cov:?}"
        );
        // The bar charts draw every point themselves (here there are at most 6 facets).
        for stem in ["split-brain", "stability"] {
            let c = find(&cov, stem);
            let got: BTreeSet<String> = c.points.iter().cloned().collect();
            assert_eq!(got, want, "case {case} {axes:?}: {stem}");
            assert_eq!(c.omitted, None, "case {case}: {stem}");
        }
        // Loss on the x axis: one line-chart marker per point.
        let by_loss = chart_coverage(
            &dir,
            &ChartOptions {
                x: Some("network.loss".into()),
                metric: Some("split_brain_ms".into()),
            },
        )
        .unwrap();
        let c = find(&by_loss, "split-brain-time-vs-network-loss");
        let got: BTreeSet<String> = c.points.iter().cloned().collect();
        assert_eq!(got, want, "case {case} {axes:?}: split brain vs loss");
        assert!(
            !by_loss.iter().any(|c| c.stem.ends_with("-vs-nodes")),
            "case {case}: --x network.loss still drew charts against nodes"
        );
    }
}

#[test]
fn too_many_facets_are_left_out_out_loud_and_still_drawn_elsewhere() {
    // 2 algorithms x 3 losses x 2 storage modes x 3 duplicate rates: 18 parameter combinations
    // > 12 rows of panels.
    let dir = fresh_dir("charts-planner", "many-facets");
    sweep(
        &dir,
        &[
            ("algorithm", r#"["bully", "raft"]"#.into()),
            ("network.loss", "[0,0.05,0.2]".into()),
            ("storage.mode", r#"["overlapped","blocking"]"#.into()),
            ("network.duplicate", "[0,0.01,0.02]".into()),
        ],
    );
    let want = summary_points(&dir);
    assert_eq!(want.len(), 36);
    let cov = chart_coverage(&dir, &ChartOptions::default()).unwrap();
    let bars = find(&cov, "split-brain");
    assert_eq!(
        bars.points.len(),
        24,
        "12 combinations x 2 algorithms: {bars:?}"
    );
    let note = bars.omitted.as_deref().expect("omission said");
    assert!(
        note.starts_with("6 of 18 parameter combinations not drawn"),
        "{note}"
    );
    assert_eq!(
        drawn(&cov),
        want,
        "the line charts against loss draw the rest"
    );

    // The CLI says it on stderr and names a bad --x with the valid keys (exit 2).
    let out = dir.to_str().unwrap();
    let o = electsim(&["chart", out]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("chart split-brain: 6 of 18 parameter combinations not drawn"),
        "{err}"
    );
    let o = electsim(&["chart", out, "--x", "storage.mode"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--x storage.mode") && err.contains("valid: network_loss, network_duplicate"),
        "{err}"
    );
    let o = electsim(&["chart", out, "--metric", "no_such_metric"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("valid metrics: "));
}

#[test]
fn one_algorithm_puts_the_parameter_combinations_on_the_x_axis() {
    let dir = fresh_dir("charts-planner", "one-algorithm");
    sweep(
        &dir,
        &[
            ("algorithm", r#"["raft"]"#.into()),
            ("network.loss", "[0,0.05,0.2]".into()),
            ("raft.pre_vote", "[true,false]".into()),
            ("network.duplicate", "[0,0.01,0.02]".into()),
        ],
    );
    let want = summary_points(&dir);
    let cov = chart_coverage(&dir, &ChartOptions::default()).unwrap();
    for stem in ["split-brain", "stability"] {
        let c = find(&cov, stem);
        let got: BTreeSet<String> = c.points.iter().cloned().collect();
        assert_eq!(got, want, "{stem}: all 18 combinations in one row of bars");
        assert_eq!(c.omitted, None);
    }
}
