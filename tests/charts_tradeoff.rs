//! The trade-off chart (`electsim chart DIR... --tradeoff X,Y [--curve KEYS]`) on synthetic
//! summary tables (no simulation): curves, point order, labels and means by hand; bad
//! metrics and keys exit 2 naming the valid ones and write nothing; output is byte-identical.

mod common;
use common::electsim;

use electsim::report::charts::{TradeoffOptions, tradeoff_curves};
use std::path::{Path, PathBuf};

fn tmp(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("electsim-tradeoff-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A summary.csv with a detector axis, a range-valued timeout axis (written out of order)
/// and a loss axis; the means are chosen so each curve's order is checkable by hand.
fn timeout_dir(root: &Path) -> PathBuf {
    let d = root.join("det");
    std::fs::create_dir_all(&d).unwrap();
    let mut s = String::from(
        "scenario,point,param_bully_detector,param_bully_heartbeat_timeout,param_network_loss,algorithm,nodes,runs,detect_ms_mean_mean,unnecessary_elections_mean\n",
    );
    // (detector, timeout, loss, detect mean, false suspicions mean)
    for (id, (det, to, loss, x, y)) in [
        ("timeout", "[\"\"250ms\"\", \"\"400ms\"\"]", "0", 300.0, 0.5),
        ("timeout", "[\"\"100ms\"\", \"\"150ms\"\"]", "0", 110.0, 4.0),
        ("quorum", "[\"\"100ms\"\", \"\"150ms\"\"]", "0", 130.0, 1.0),
        ("quorum", "[\"\"250ms\"\", \"\"400ms\"\"]", "0", 320.0, 0.0),
        (
            "timeout",
            "[\"\"100ms\"\", \"\"150ms\"\"]",
            "0.05",
            115.0,
            9.5,
        ),
        (
            "timeout",
            "[\"\"250ms\"\", \"\"400ms\"\"]",
            "0.05",
            310.0,
            1.25,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        s.push_str(&format!(
            "detectors-bully,{id},{det},\"{to}\",{loss},bully,5,4,{x},{y}\n"
        ));
    }
    std::fs::write(d.join("summary.csv"), s).unwrap();
    d
}

/// A second sweep (the phi detector): thresholds 12, 2, 5 (out of order) at one loss.
fn phi_dir(root: &Path) -> PathBuf {
    let d = root.join("phi");
    std::fs::create_dir_all(&d).unwrap();
    let mut s = String::from(
        "scenario,point,param_bully_phi_threshold,param_network_loss,algorithm,nodes,runs,detect_ms_mean_mean,unnecessary_elections_mean\n",
    );
    for (id, (phi, x, y)) in [(12, 90.0, 0.75), (2, 5.0, 300.0), (5, 20.0, 40.0)]
        .into_iter()
        .enumerate()
    {
        s.push_str(&format!(
            "detectors-bully-phi,{id},{phi},0,bully,5,4,{x},{y}\n"
        ));
    }
    std::fs::write(d.join("summary.csv"), s).unwrap();
    d
}

/// A curve as compared: label, then (point id, point label, x, y) per point.
type Curve = (String, Vec<(String, String, f64, f64)>);

fn opts(curve: Option<&[&str]>) -> TradeoffOptions {
    TradeoffOptions {
        x_metric: "detect_ms_mean".into(),
        y_metric: "unnecessary_elections".into(),
        curve: curve.map(|c| c.iter().map(|k| k.to_string()).collect()),
    }
}

#[test]
fn curves_group_by_the_curve_keys_and_run_along_the_threshold_in_order() {
    let root = tmp("curves");
    let (a, b) = (timeout_dir(&root), phi_dir(&root));
    let curves = tradeoff_curves(
        &[a.clone(), b.clone()],
        &opts(Some(&["bully.detector", "network.loss"])),
    )
    .unwrap();
    let got: Vec<Curve> = curves
        .iter()
        .map(|c| {
            (
                c.label.clone(),
                c.points
                    .iter()
                    .map(|p| (p.point.clone(), p.label.clone(), p.x, p.y))
                    .collect(),
            )
        })
        .collect();
    let p = |id: &str, l: &str, x: f64, y: f64| (id.to_string(), l.to_string(), x, y);
    let want = vec![
        (
            "detectors-bully: bully bully_detector=timeout network_loss=0".to_string(),
            vec![
                p("1", "100-150ms", 110.0, 4.0),
                p("0", "250-400ms", 300.0, 0.5),
            ],
        ),
        (
            "detectors-bully: bully bully_detector=quorum network_loss=0".to_string(),
            vec![
                p("2", "100-150ms", 130.0, 1.0),
                p("3", "250-400ms", 320.0, 0.0),
            ],
        ),
        (
            "detectors-bully: bully bully_detector=timeout network_loss=0.05".to_string(),
            vec![
                p("4", "100-150ms", 115.0, 9.5),
                p("5", "250-400ms", 310.0, 1.25),
            ],
        ),
        (
            "detectors-bully-phi: bully network_loss=0".to_string(),
            vec![
                p("1", "2", 5.0, 300.0),
                p("2", "5", 20.0, 40.0),
                p("0", "12", 90.0, 0.75),
            ],
        ),
    ];
    assert_eq!(got, want);
    // Default curve keys: every swept key but the one with the most values (the phi
    // threshold, 3 values, against network_loss's 1), which the curve runs along.
    let d = tradeoff_curves(std::slice::from_ref(&b), &opts(None)).unwrap();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].label, "bully network_loss=0");
    let labels: Vec<&str> = d[0].points.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(labels, ["2", "5", "12"]);
}

#[test]
fn the_cli_writes_png_and_svg_byte_identically() {
    let root = tmp("cli");
    let (a, b) = (timeout_dir(&root), phi_dir(&root));
    let out = root.join("out");
    let run = || {
        let o = electsim(&[
            "chart",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--tradeoff",
            "detect_ms_mean,unnecessary_elections",
            "--curve",
            "bully.detector,network.loss",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "stderr: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let stem = out.join("tradeoff-unnecessary-elections-vs-detect-ms-mean");
        (
            std::fs::read(stem.with_extension("png")).unwrap(),
            std::fs::read(stem.with_extension("svg")).unwrap(),
        )
    };
    let first = run();
    let second = run();
    assert!(
        first == second,
        "trade-off chart output differs between runs"
    );
    let svg = String::from_utf8(first.1).unwrap();
    for label in [
        "\n100-150ms\n",
        "\n250-400ms\n",
        "\n12\n",
        "bully_detector=quorum",
    ] {
        assert!(svg.contains(label), "svg lacks {label}");
    }
}

#[test]
fn bad_metrics_and_keys_exit_2_naming_the_valid_ones_and_write_nothing() {
    let root = tmp("bad");
    let a = timeout_dir(&root);
    let out = root.join("out");
    for (args, needles) in [
        (
            vec!["--tradeoff", "detect_ms_mean,bogus"],
            vec![
                "bogus",
                "valid metrics",
                "unnecessary_elections",
                "detect_ms_mean",
            ],
        ),
        (
            vec!["--tradeoff", "nope,unnecessary_elections"],
            vec!["nope", "valid metrics", "detect_ms_mean"],
        ),
        (
            vec!["--tradeoff", "detect_ms_mean"],
            vec!["X_METRIC,Y_METRIC"],
        ),
        (
            vec![
                "--tradeoff",
                "detect_ms_mean,unnecessary_elections",
                "--curve",
                "bully.threshold",
            ],
            vec![
                "bully.threshold",
                "valid",
                "bully_heartbeat_timeout",
                "network_loss",
            ],
        ),
    ] {
        let mut full = vec!["chart", a.to_str().unwrap()];
        full.extend(args.iter().copied());
        full.extend(["--out", out.to_str().unwrap()]);
        let o = electsim(&full);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: stderr {err}");
        for n in needles {
            assert!(err.contains(n), "{args:?}: stderr lacks {n:?}: {err}");
        }
        assert!(!out.exists(), "{args:?}: a file was written");
    }
    // Several DIRs without --tradeoff are rejected too.
    let o = electsim(&["chart", a.to_str().unwrap(), a.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn over_budget_curves_and_labels_are_left_out_and_said_so() {
    let root = tmp("budget");
    let d = root.join("big");
    std::fs::create_dir_all(&d).unwrap();
    let mut s = String::from(
        "scenario,point,param_k,param_t,algorithm,nodes,runs,detect_ms_mean_mean,unnecessary_elections_mean\n",
    );
    let mut id = 0;
    for k in 0..100 {
        for t in 0..3 {
            s.push_str(&format!("big,{id},{k},{t},raft,5,1,{},{}\n", 10 + t, 1 + k));
            id += 1;
        }
    }
    std::fs::write(d.join("summary.csv"), s).unwrap();
    let out = root.join("out");
    let o = electsim(&[
        "chart",
        d.to_str().unwrap(),
        "--tradeoff",
        "detect_ms_mean,unnecessary_elections",
        "--curve",
        "k",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "stderr: {err}");
    assert!(
        err.contains("52 curves over the budget of 48 not drawn"),
        "{err}"
    );
    assert!(err.contains("labels left out"), "{err}");
    let svg =
        std::fs::read_to_string(out.join("tradeoff-unnecessary-elections-vs-detect-ms-mean.svg"))
            .unwrap();
    // 48 legend rows, no point labels: the text count stays bounded.
    assert_eq!(svg.matches("raft k=").count(), 48);
    assert!(svg.matches("<text").count() < 48 + 40, "too many texts");
}
