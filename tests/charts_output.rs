//! `electsim chart DIR` / `chart_dir`: from the fixture sweeps, every chart exists as PNG and
//! SVG, decodes, names its series, and is byte-identical across invocations; bad inputs
//! give clear errors (file and line) and exit code 2.

use electsim::report::charts::{chart_dir, chart_names};
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Copy a fixture's CSV files into a fresh temporary directory.
fn scratch(name: &str, tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "electsim-charts-{name}-{tag}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["runs.csv", "summary.csv"] {
        std::fs::copy(fixture(name).join(f), dir.join(f)).unwrap();
    }
    dir
}

fn decode_png(path: &Path) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder
        .read_info()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader
        .next_frame(&mut buf)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // Not blank: a chart has both white background and dark ink.
    let px = &buf[..info.buffer_size()];
    assert!(
        px.chunks(3).any(|p| p == [255, 255, 255]),
        "{}: no background",
        path.display()
    );
    assert!(
        px.chunks(3).any(|p| p.iter().all(|c| *c < 80)),
        "{}: no dark text or axes",
        path.display()
    );
    (info.width, info.height)
}

fn svg_text(path: &Path) -> String {
    let s = std::fs::read_to_string(path).unwrap();
    assert!(
        s.starts_with("<svg") && s.trim_end().ends_with("</svg>"),
        "{}: not an SVG document",
        path.display()
    );
    assert_eq!(s.matches("<svg").count(), 1, "{}", path.display());
    s
}

/// The text elements of an SVG document, trimmed.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| Some(t[t.find('>')? + 1..t.find("</text>")?].trim().to_string()))
        .collect()
}

fn check_dir(name: &str, expected: &[(&str, &[&str])]) {
    let dir = scratch(name, "check");
    let files = chart_dir(&dir).unwrap();
    let names = chart_names(&dir).unwrap();
    assert_eq!(files.len(), 2 * names.len());
    for (stem, series) in expected {
        assert!(
            names.iter().any(|n| n == stem),
            "{name}: no chart `{stem}` in {names:?}"
        );
        let png = dir.join("charts").join(format!("{stem}.png"));
        let svg = dir.join("charts").join(format!("{stem}.svg"));
        let (w, h) = decode_png(&png);
        assert!(w >= 800 && h >= 400, "{stem}: {w}x{h}");
        let texts = svg_texts(&svg_text(&svg));
        for s in *series {
            assert!(
                texts.iter().any(|t| t == s),
                "{name}/{stem}.svg lacks the text `{s}` (has {texts:?})"
            );
        }
    }
    for n in &names {
        decode_png(&dir.join("charts").join(format!("{n}.png")));
        svg_text(&dir.join("charts").join(format!("{n}.svg")));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

const ALGS: &[&str] = &["bully", "ring", "raft", "zookeeper", "etcd"];

#[test]
fn cluster_size_charts() {
    let line: &[&str] = &[
        "bully",
        "ring",
        "raft",
        "zookeeper",
        "etcd",
        "cluster size (nodes)",
    ];
    check_dir(
        "cluster-size",
        &[
            ("messages-per-election-vs-nodes", line),
            ("election-time-vs-nodes", line),
            ("failover-vs-nodes", line),
            ("split-brain-time-vs-nodes", line),
            ("availability-vs-nodes", line),
            ("events-vs-nodes", line),
            ("election-cdf-raft", &["n=3", "n=65", "election time (ms)"]),
            ("election-cdf-bully", &["n=5", "n=33"]),
            ("split-brain", &["bully", "etcd", "3 nodes", "65 nodes"]),
            ("stability", ALGS),
            (
                "messages-by-kind",
                &[
                    "raft",
                    "RequestVote",
                    "VoteResponse",
                    "bully",
                    "Election",
                    "Coordinator",
                ],
            ),
        ],
    );
}

#[test]
fn partition_and_lossy_charts() {
    check_dir(
        "partition",
        &[
            ("split-brain", ALGS),
            ("stability", ALGS),
            ("election-cdf", &["bully n=5", "etcd n=5"]),
        ],
    );
    check_dir(
        "lossy",
        &[("stability", &["Leader changes", "Availability", "raft"])],
    );
    // A single cluster size: no lines against size.
    let names = chart_names(&fixture("partition")).unwrap();
    assert!(!names.iter().any(|n| n.ends_with("-vs-nodes")), "{names:?}");
}

#[test]
fn figure16_chart() {
    check_dir(
        "raft-figure16",
        &[(
            "figure16",
            &[
                "150-150ms",
                "150-151ms",
                "150-155ms",
                "150-175ms",
                "150-200ms",
                "150-300ms",
                "12-24ms",
                "25-50ms",
                "50-100ms",
                "100-200ms",
                "time without leader (ms)",
                // The paper's quoted values, marked over the curves.
                "paper 150-155ms: median 287",
                "paper 150-200ms: worst 513",
                "paper 12-24ms: mean 35",
                "paper 12-24ms: worst 152",
                "paper 150-150ms: over 10 s",
                "value quoted by the paper",
            ],
        )],
    );
}

#[test]
fn charts_are_byte_identical_across_invocations() {
    for name in ["cluster-size", "raft-figure16"] {
        let a = scratch(name, "a");
        let b = scratch(name, "b");
        let fa = chart_dir(&a).unwrap();
        let fb = chart_dir(&b).unwrap();
        assert_eq!(fa.len(), fb.len());
        for (x, y) in fa.iter().zip(&fb) {
            assert_eq!(x.file_name(), y.file_name());
            assert!(
                std::fs::read(x).unwrap() == std::fs::read(y).unwrap(),
                "{} differs between runs",
                x.display()
            );
        }
        // Re-drawing in place gives the same bytes too.
        let before: Vec<Vec<u8>> = fa.iter().map(|f| std::fs::read(f).unwrap()).collect();
        chart_dir(&a).unwrap();
        let after: Vec<Vec<u8>> = fa.iter().map(|f| std::fs::read(f).unwrap()).collect();
        assert!(before == after, "{name}: a second draw changed the files");
        let _ = std::fs::remove_dir_all(&a);
        let _ = std::fs::remove_dir_all(&b);
    }
}

fn chart_err(dir: &Path) -> String {
    chart_dir(dir).unwrap_err().to_string()
}

#[test]
fn bad_inputs_name_file_and_line() {
    let dir = scratch("partition", "bad");
    // Ragged row.
    let mut runs = std::fs::read_to_string(dir.join("runs.csv")).unwrap();
    runs.push_str("partition,9,0,1,raft\n");
    std::fs::write(dir.join("runs.csv"), &runs).unwrap();
    let e = chart_err(&dir);
    let line = runs.lines().count();
    assert!(
        e.contains(&format!("runs.csv:{line}:")) && e.contains("fields, but the header has"),
        "{e}"
    );
    // A number that is not one.
    std::fs::copy(fixture("partition").join("runs.csv"), dir.join("runs.csv")).unwrap();
    let summary = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    let mut lines: Vec<String> = summary.lines().map(str::to_string).collect();
    let col = lines[0].split(',').position(|h| h == "nodes").unwrap();
    let mut cells: Vec<String> = lines[2].split(',').map(str::to_string).collect();
    cells[col] = "five".into();
    lines[2] = cells.join(",");
    std::fs::write(dir.join("summary.csv"), lines.join("\n") + "\n").unwrap();
    let e = chart_err(&dir);
    assert!(
        e.contains("summary.csv:3: column `nodes`: `five` is not a number"),
        "{e}"
    );
    // A missing column.
    std::fs::write(
        dir.join("summary.csv"),
        "scenario,algorithm,nodes\nx,raft,5\n",
    )
    .unwrap();
    let e = chart_err(&dir);
    assert!(
        e.contains("summary.csv:1: missing column `point` in the header"),
        "{e}"
    );
    // A missing file.
    std::fs::remove_file(dir.join("summary.csv")).unwrap();
    let e = chart_err(&dir);
    assert!(e.contains("summary.csv: file not found"), "{e}");
    // Not a directory.
    let e = chart_err(&dir.join("nope"));
    assert!(e.contains("nope: not a directory"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cli_chart_exit_codes() {
    let bin = env!("CARGO_BIN_EXE_electsim");
    let dir = scratch("lossy", "cli");
    let out = Command::new(bin)
        .args(["chart"])
        .arg(&dir)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("charts/stability.png") && stdout.contains("charts/stability.svg"),
        "{stdout}"
    );

    std::fs::write(
        dir.join("runs.csv"),
        "scenario,point,algorithm,nodes\nlossy,0,raft\n",
    )
    .unwrap();
    let out = Command::new(bin)
        .args(["chart"])
        .arg(&dir)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: ")
            && stderr.contains("runs.csv:2: 3 fields, but the header has 4"),
        "{stderr}"
    );

    let out = Command::new(bin)
        .args(["chart"])
        .arg(dir.join("missing"))
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a directory"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn timeout_ranges_are_read_from_either_param_form() {
    use electsim::report::charts::timeout_range;
    assert_eq!(timeout_range(r#"["150ms", "155ms"]"#), Some((150.0, 155.0)));
    assert_eq!(
        timeout_range(
            r#"{ election_timeout = ["12ms", "24ms"], heartbeat = "6ms", stale_nodes = [3, 4] }"#
        ),
        Some((12.0, 24.0))
    );
    assert_eq!(timeout_range("raft"), None);
    assert_eq!(timeout_range(r#"["1ms"]"#), None);
}

#[test]
fn figure16_from_a_per_key_timeout_axis() {
    // The sweep contract's other form: an axis over `raft.election_timeout` alone.
    let dir = scratch("raft-figure16", "perkey");
    for f in ["runs.csv", "summary.csv"] {
        let path = dir.join(f);
        let mut rdr = csv::Reader::from_path(&path).unwrap();
        let headers: Vec<String> = rdr
            .headers()
            .unwrap()
            .iter()
            .map(|h| h.replace("param_raft", "param_raft_election_timeout"))
            .collect();
        let col = headers
            .iter()
            .position(|h| h == "param_raft_election_timeout")
            .unwrap();
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(&headers).unwrap();
        for rec in rdr.records() {
            let mut cells: Vec<String> = rec.unwrap().iter().map(str::to_string).collect();
            let (lo, hi) = electsim::report::charts::timeout_range(&cells[col]).unwrap();
            cells[col] = format!(r#"["{lo}ms", "{hi}ms"]"#);
            out.write_record(&cells).unwrap();
        }
        std::fs::write(&path, out.into_inner().unwrap()).unwrap();
    }
    chart_dir(&dir).unwrap();
    let texts = svg_texts(&svg_text(&dir.join("charts/figure16.svg")));
    for s in ["150-150ms", "150-155ms", "12-24ms", "100-200ms"] {
        assert!(texts.iter().any(|t| t == s), "lacks `{s}`: {texts:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
