//! summary.csv statistics against hand-computed values, and failed runs.

mod common;
use common::{assert_exit, electsim, fresh_dir, sweep_options};

use electsim::sweep::run_sweep;
use electsim::sweep::summary::{Describe, t975};

fn close(a: Option<f64>, b: f64, what: &str) {
    let a = a.unwrap_or_else(|| panic!("{what}: missing"));
    assert!((a - b).abs() < 1e-6, "{what}: {a} vs hand-computed {b}");
}

#[test]
fn describe_matches_hand_computed_values() {
    // x = 2 4 4 4 5 5 7 9: sum 40, mean 5; squared deviations 9+1+1+1+0+0+4+16 = 32,
    // sample variance 32/7, sd 2.1380899; nearest ranks for n = 8: p10 -> rank 1,
    // p50 -> rank 4, p90 -> rank 8 (ceil 7.2), p99 -> rank 8; t(0.975, 7) = 2.364624,
    // half width 2.364624 * 2.1380899 / sqrt(8) = 1.7874877.
    let d = Describe::of(&[5.0, 2.0, 9.0, 4.0, 4.0, 7.0, 4.0, 5.0]);
    assert_eq!(d.n, 8);
    close(d.mean, 5.0, "mean");
    close(d.sd, 2.138_089_9, "sd");
    close(d.p10, 2.0, "p10");
    close(d.p50, 4.0, "p50");
    close(d.p90, 9.0, "p90");
    close(d.p99, 9.0, "p99");
    close(d.max, 9.0, "max");
    close(d.ci95_lo, 5.0 - 1.787_487_7, "ci95_lo");
    close(d.ci95_hi, 5.0 + 1.787_487_7, "ci95_hi");

    // n = 2: 1 and 3: mean 2, sd sqrt(2) = 1.4142136, t(0.975, 1) = 12.706205,
    // half width 12.706205 * 1.4142136 / sqrt(2) = 12.706205.
    let d = Describe::of(&[3.0, 1.0]);
    close(d.sd, std::f64::consts::SQRT_2, "sd n=2");
    close(d.p10, 1.0, "p10 n=2");
    close(d.p50, 1.0, "p50 n=2");
    close(d.p90, 3.0, "p90 n=2");
    close(d.ci95_lo, 2.0 - 12.706_205, "ci lo n=2");

    // One value: no spread, no interval. No values: nothing at all.
    let d = Describe::of(&[7.5]);
    assert_eq!(
        (d.mean, d.sd, d.ci95_lo, d.max),
        (Some(7.5), None, None, Some(7.5))
    );
    assert_eq!(Describe::of(&[]), Describe::default());
    assert_eq!(
        Describe::of(&[]).cells(),
        std::array::from_fn(|_| String::new())
    );

    // t quantiles: table values and the expansion beyond 30 degrees of freedom.
    assert_eq!(t975(4), 2.776445);
    assert!((t975(100) - 1.983972).abs() < 1e-5);
}

const SCENARIO: &str = r#"
name = "summary"
algorithm = "raft"
duration = "3s"
seed = 9
runs = 7

[sweep]
max_events = [50, 100000000]
nodes = [3, 5]

[raft]
heartbeat = "50ms"

[[fault]]
at = "1s"
every = "1s"
crash = "leader"
restart_after = "300ms"
"#;

fn records(text: &str) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let h = rdr.headers().unwrap().iter().map(String::from).collect();
    (h, rdr.records().map(Result::unwrap).collect())
}

#[test]
fn summary_rows_recompute_from_runs_and_failed_runs_are_rows() {
    let d = fresh_dir("sweep_summary", "e2e");
    let sc = d.join("summary.toml");
    std::fs::write(&sc, SCENARIO).unwrap();
    let r = run_sweep(&sweep_options(&sc, &d.join("out"))).unwrap();
    // max_events = 50 cannot finish: those 14 runs fail, the sweep still completes.
    assert_eq!((r.runs_total, r.failed_runs), (28, 14));
    let (rh, runs) = records(&std::fs::read_to_string(d.join("out/runs.csv")).unwrap());
    let (sh, summary) = records(&std::fs::read_to_string(d.join("out/summary.csv")).unwrap());
    let rc = |n: &str| {
        rh.iter()
            .position(|c| c == n)
            .unwrap_or_else(|| panic!("runs.csv: no {n}"))
    };
    let sc_ = |n: &str| {
        sh.iter()
            .position(|c| c == n)
            .unwrap_or_else(|| panic!("summary.csv: no {n}"))
    };
    assert_eq!(
        &sh[..8],
        [
            "scenario",
            "point",
            "param_max_events",
            "param_nodes",
            "algorithm",
            "nodes",
            "runs",
            "failed_runs"
        ]
    );
    assert_eq!(
        &sh[8..17],
        [
            "events_mean",
            "events_sd",
            "events_p10",
            "events_p50",
            "events_p90",
            "events_p99",
            "events_max",
            "events_ci95_lo",
            "events_ci95_hi"
        ]
    );
    assert!(sh.iter().any(|c| c == "msg_RequestVote_sent_p99"));
    assert!(sh.iter().any(|c| c == "election_ms_count_mean"));
    assert!(!sh.iter().any(|c| c.starts_with("duration_s")));
    assert_eq!(summary.len(), 4);

    for row in runs.iter().filter(|r| &r[rc("param_max_events")] == "50") {
        assert!(row[rc("error")].contains("max_events"), "{:?}", row);
        assert!(row[rc("events")].is_empty() && row[rc("trace_digest")].is_empty());
        assert!(row[rc("replay")].contains("--set max_events=50"));
        assert_eq!(&row[rc("algorithm")], "raft");
    }
    for s in &summary {
        let point = &s[sc_("point")];
        let rows: Vec<&csv::StringRecord> =
            runs.iter().filter(|r| &r[rc("point")] == point).collect();
        assert_eq!(s[sc_("runs")].parse::<usize>().unwrap(), rows.len());
        let failed = rows.iter().filter(|r| !r[rc("error")].is_empty()).count();
        assert_eq!(s[sc_("failed_runs")].parse::<usize>().unwrap(), failed);
        if failed == rows.len() {
            assert!(s[sc_("events_mean")].is_empty() && s[sc_("availability_max")].is_empty());
            continue;
        }
        // By hand from runs.csv: mean, sample sd and nearest-rank p50 of `events`.
        let mut ev: Vec<f64> = rows
            .iter()
            .map(|r| r[rc("events")].parse().unwrap())
            .collect();
        let n = ev.len() as f64;
        let mean = ev.iter().sum::<f64>() / n;
        let sd = (ev.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        ev.sort_by(f64::total_cmp);
        let p50 = ev[(0.5 * n).ceil() as usize - 1];
        let half = 2.446912 * sd / n.sqrt(); // t(0.975, 6) for 7 runs
        let cell = |c: &str| s[sc_(c)].parse::<f64>().unwrap();
        assert!((cell("events_mean") - mean).abs() < 1e-6, "point {point}");
        assert!((cell("events_sd") - sd).abs() < 1e-6, "point {point}");
        assert_eq!(cell("events_p50"), p50);
        assert_eq!(cell("events_max"), ev[ev.len() - 1]);
        assert!(
            (cell("events_ci95_lo") - (mean - half)).abs() < 1e-5,
            "point {point}"
        );
        assert!(
            (cell("events_ci95_hi") - (mean + half)).abs() < 1e-5,
            "point {point}"
        );
    }
}

#[test]
fn failed_runs_exit_1_after_writing_everything() {
    let d = fresh_dir("sweep_summary", "cli");
    let sc = d.join("summary.toml");
    std::fs::write(&sc, SCENARIO).unwrap();
    let (sc, out) = (sc.to_str().unwrap(), d.join("out"));
    let out = electsim(&[
        "sweep",
        sc,
        "--out",
        out.to_str().unwrap(),
        "-q",
        "--runs",
        "2",
    ]);
    assert_exit(&out, 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("4 of 8 runs failed"));
    assert!(d.join("out/runs.csv").is_file() && d.join("out/summary.csv").is_file());
}
