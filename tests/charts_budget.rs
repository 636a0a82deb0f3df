//! Charts of huge sweeps stay within their element budget: from synthetic sweep tables (no
//! simulation) with more series, curves and bars than fit, every chart draws a bounded number
//! of elements, as many for 1440 points as for 360, says that it aggregated, and still
//! covers every `summary.csv` row.

use electsim::report::charts::{
    ChartOptions, MAX_BARS_PER_PANEL, MAX_CDF_CURVES, MAX_SERIES, MAX_X_TICKS, chart_coverage,
    chart_dir,
};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const METRICS: &[&str] = &[
    "split_brain_ms",
    "split_brain_incidents",
    "leader_changes",
    "unnecessary_elections",
    "availability",
    "election_ms_p50",
    "events",
];

/// Write `runs.csv` and `summary.csv` for `algs` x 6 loss values (the x axis) x `series`
/// heartbeat values, two runs per point; returns the directory and the point ids.
fn synthetic(tag: &str, algs: &[&str], series: usize) -> (PathBuf, BTreeSet<String>) {
    let dir = std::env::temp_dir().join(format!(
        "electsim-charts-budget-{tag}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let ident = "scenario,point,param_network_loss,param_raft_heartbeat,algorithm,nodes";
    let mut summary = format!("{ident},runs");
    for m in METRICS {
        for s in ["mean", "p10", "p90", "ci95_lo", "ci95_hi"] {
            write!(summary, ",{m}_{s}").unwrap();
        }
    }
    summary.push('\n');
    let mut runs = format!("{ident},run,election_ms_mean,elections\n");
    let mut ids = BTreeSet::new();
    let mut point = 0;
    for (a, alg) in algs.iter().enumerate() {
        for h in 0..series {
            for l in 0..6 {
                let loss = l as f64 * 0.01;
                let heartbeat = 10 + h;
                let id = point.to_string();
                point += 1;
                let head = format!("big,{id},{loss},{heartbeat}ms,{alg},3");
                write!(summary, "{head},2").unwrap();
                for (k, _) in METRICS.iter().enumerate() {
                    // A value that varies with every key, fractions for availability.
                    let v = (1 + a + k) as f64 * (heartbeat as f64 + 100.0 * loss);
                    let v = if k == 4 { 1.0 / (1.0 + v / 1000.0) } else { v };
                    write!(
                        summary,
                        ",{v},{},{},{},{}",
                        v * 0.9,
                        v * 1.1,
                        v * 0.95,
                        v * 1.05
                    )
                    .unwrap();
                }
                summary.push('\n');
                for r in 0..2 {
                    let ms = 150.0 + heartbeat as f64 + 40.0 * r as f64 + 1000.0 * loss;
                    writeln!(runs, "{head},{r},{ms},{}", 1 + r).unwrap();
                }
                ids.insert(id);
            }
        }
    }
    std::fs::write(dir.join("summary.csv"), summary).unwrap();
    std::fs::write(dir.join("runs.csv"), runs).unwrap();
    (dir, ids)
}

/// Drawn elements of an SVG chart (lines, areas, bars, markers), not text.
fn elements(svg: &str) -> usize {
    [
        "<polyline",
        "<polygon",
        "<rect",
        "<circle",
        "<path",
        "<line",
    ]
    .iter()
    .map(|t| svg.matches(t).count())
    .sum()
}

fn svg(dir: &Path, stem: &str) -> String {
    std::fs::read_to_string(dir.join("charts").join(format!("{stem}.svg")))
        .unwrap_or_else(|e| panic!("{stem}.svg: {e}"))
}

fn png_size(dir: &Path, stem: &str) -> (u32, u32) {
    let f = std::fs::File::open(dir.join("charts").join(format!("{stem}.png"))).unwrap();
    let r = png::Decoder::new(std::io::BufReader::new(f))
        .read_info()
        .unwrap();
    (r.info().width, r.info().height)
}

/// Chart stems and their drawn element counts, after checking every point is covered.
fn draw_and_check(dir: &Path, ids: &BTreeSet<String>) -> Vec<(String, usize)> {
    let cov = chart_coverage(dir, &ChartOptions::default()).unwrap();
    let drawn: BTreeSet<String> = cov.iter().flat_map(|c| c.points.iter().cloned()).collect();
    assert_eq!(&drawn, ids, "every summary row is drawn in some chart");
    chart_dir(dir).unwrap();
    let mut out = Vec::new();
    for c in &cov {
        let text = svg(dir, &c.stem);
        let n = elements(&text);
        // The most a budgeted chart can draw: 48 lines, each with a band, a marker (two
        // elements) at each of up to 24 x values and a legend entry (three), plus the axes;
        // an unbudgeted chart drew a curve or a bar per point.
        let cap = MAX_SERIES * (2 * MAX_X_TICKS + 5) + 200;
        assert!(n <= cap, "{}: {n} elements", c.stem);
        assert!(text.len() < 500_000, "{}: {} bytes", c.stem, text.len());
        let (w, h) = png_size(dir, &c.stem);
        // Lines and CDFs: a legend of at most 48 rows; bars: at most 12 rows of panels.
        let max_h = if c.stem.starts_with("split-brain") && !c.stem.contains("-vs-")
            || c.stem == "stability"
            || c.stem == "messages-by-kind"
        {
            12 * 440 + 100
        } else {
            48 * 22 + 200
        };
        assert!(w <= 4000 && h <= max_h, "{}: {w}x{h}", c.stem);
        out.push((c.stem.clone(), n));
    }
    out
}

#[test]
fn over_budget_charts_aggregate_with_bounded_elements_and_cover_every_point() {
    // 60 heartbeat values > MAX_SERIES lines; 360 points > MAX_CDF_CURVES curves and
    // > MAX_BARS_PER_PANEL bars.
    const { assert!(60 > MAX_SERIES && 360 > MAX_CDF_CURVES && 360 > MAX_BARS_PER_PANEL) };
    let (small, small_ids) = synthetic("small", &["raft"], 60);
    let (big, big_ids) = synthetic("big", &["raft"], 240);
    assert_eq!((small_ids.len(), big_ids.len()), (360, 1440));
    let a = draw_and_check(&small, &small_ids);
    let b = draw_and_check(&big, &big_ids);
    let stems: Vec<&str> = a.iter().map(|(s, _)| s.as_str()).collect();
    for want in [
        "split-brain-time-vs-network-loss",
        "election-cdf-raft",
        "split-brain",
        "stability",
    ] {
        assert!(stems.contains(&want), "no {want} in {stems:?}");
    }
    // Four times the points, the same charts and about as many elements (the value axes,
    // fitted to the data, may gain or lose a tick or two).
    assert_eq!(a.len(), b.len());
    for ((stem, n), (stem_b, n_b)) in a.iter().zip(&b) {
        assert_eq!(stem, stem_b);
        assert!(
            *n <= 100 && n.abs_diff(*n_b) <= 10,
            "{stem}: {n} vs {n_b} elements"
        );
    }

    let line = svg(&small, "split-brain-time-vs-network-loss");
    assert!(line.contains("raft 60 series (envelope)"), "legend entry");
    assert!(line.contains("60 series over the budget of 48 lines drawn as envelopes"));
    let cdf = svg(&big, "election-cdf-raft");
    assert!(cdf.contains("1440 sweep points (pooled, band)"));
    assert!(cdf.contains("the CDF of all 2880 runs pooled"));
    let bars = svg(&big, "split-brain");
    assert!(bars.contains("1440 parameter combinations, over the budget of 200 bars per panel"));
    for d in [small, big] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn the_first_of_the_largest_algorithms_becomes_the_envelope_and_the_others_stay_lines() {
    // bully 40 + raft 40 series = 80 > 48: bully (first on the tie) becomes one envelope,
    // which leaves 41 lines, so raft keeps its 40 lines.
    let (dir, ids) = synthetic("two-algs", &["bully", "raft"], 40);
    draw_and_check(&dir, &ids);
    let line = svg(&dir, "leader-changes-vs-network-loss");
    assert!(
        line.contains("bully 40 series (envelope)"),
        "bully aggregated"
    );
    assert!(!line.contains("raft 40 series (envelope)"));
    assert!(
        line.contains("raft raft_heartbeat=10ms"),
        "raft's first series is a line"
    );
    assert!(
        line.contains("raft raft_heartbeat=49ms"),
        "raft's last series is a line"
    );
    let _ = std::fs::remove_dir_all(dir);
}
