//! A per-run timeline picture (SVG or PNG): nodes on the y axis, virtual time on the x
//! axis, each node's row coloured by role; crashes (dark), pauses (purple hatching over the
//! row) and network faults (yellow background) shaded; elections marked with a triangle;
//! split-brain intervals (two or more live leaders) highlighted in red across all rows.
//!
//! Built from a recorded trace ([`Recording`]), so it shows exactly what the run did.

use super::charts::fmt_exact;
use super::font::{FAMILY, encode_png, ensure_registered};
pub use super::trace::intervals::Timeline;
use super::trace::{Recording, TraceMeta};
use crate::fsutil::write_atomic;
use crate::sim::Role;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

const FOLLOWER: RGBColor = RGBColor(158, 190, 230);
const PRE_CANDIDATE: RGBColor = RGBColor(250, 220, 120);
const CANDIDATE: RGBColor = RGBColor(240, 140, 40);
const LEADER: RGBColor = RGBColor(30, 140, 60);
const DOWN: RGBColor = RGBColor(70, 70, 70);
const PAUSED: RGBColor = RGBColor(140, 40, 170);
const LINK_FAULT: RGBColor = RGBColor(255, 215, 0);
const SPLIT: RGBColor = RGBColor(220, 0, 0);

fn role_color(r: Role) -> RGBColor {
    match r {
        Role::Follower => FOLLOWER,
        Role::PreCandidate => PRE_CANDIDATE,
        Role::Candidate => CANDIDATE,
        Role::Leader => LEADER,
        Role::Down => DOWN,
        Role::Service => RGBColor(200, 200, 200),
    }
}

/// Picture size for `nodes` rows.
fn size(nodes: u32) -> (u32, u32) {
    (1400, (170 + 34 * nodes).clamp(420, 2400))
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    tl: &Timeline,
    meta: &TraceMeta,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let (_, h) = root.dim_in_pixel();
    let (upper, legend) = root.split_vertically(h - 44);
    let (scale, unit) = if tl.end_ns - tl.from_ns.min(tl.end_ns) >= 2_000_000_000 {
        (1e9, "s")
    } else {
        (1e6, "ms")
    };
    let x = |ns: u64| ns as f64 / scale;
    let xmin = x(tl.from_ns.min(tl.end_ns));
    let xmax = x(tl.end_ns.max(1));
    let n = tl.nodes as f64;
    let title = format!(
        "{} — {}, {} nodes, seed {} (virtual time {}–{} {unit})",
        meta.scenario,
        meta.algorithm,
        meta.nodes,
        meta.seed,
        fmt_exact(xmin),
        fmt_exact(xmax)
    );
    let mut chart = ChartBuilder::on(&upper)
        .caption(title, (FAMILY, 22))
        .margin(12)
        .x_label_area_size(46)
        .y_label_area_size(78)
        .build_cartesian_2d(xmin..xmax, (n - 0.5)..-0.5f64)
        .map_err(err)?;
    let every = (tl.nodes / 24).max(1);
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc(format!("virtual time ({unit})"))
        .y_desc("node")
        .y_labels((tl.nodes as usize).min(40) + 1)
        .y_label_formatter(&|v| {
            let r = v.round();
            if (v - r).abs() < 1e-6
                && r >= 0.0
                && (r as u32) < tl.nodes
                && (r as u32).is_multiple_of(every)
            {
                format!("node {r}")
            } else {
                String::new()
            }
        })
        // Rounded: a tick at 0.6 must not read 0.6000000000000001.
        .x_label_formatter(&|v| fmt_exact((v * 1e6).round() / 1e6))
        .label_style((FAMILY, 15))
        .axis_desc_style((FAMILY, 16))
        .draw()
        .map_err(err)?;
    let half = 0.36;
    // Background: network faults, then split brain.
    chart
        .draw_series(tl.link_faults.iter().map(|(s, e, _)| {
            Rectangle::new(
                [(x(*s), -0.5), (x(*e), n - 0.5)],
                LINK_FAULT.mix(0.25).filled(),
            )
        }))
        .map_err(err)?;
    chart
        .draw_series(tl.split_brain.iter().map(|(s, e)| {
            Rectangle::new([(x(*s), -0.5), (x(*e), n - 0.5)], SPLIT.mix(0.28).filled())
        }))
        .map_err(err)?;
    // Role bars.
    chart
        .draw_series(tl.roles.iter().map(|(node, s, e, r, _)| {
            let y = f64::from(*node);
            Rectangle::new(
                [(x(*s), y - half), (x(*e), y + half)],
                role_color(*r).filled(),
            )
        }))
        .map_err(err)?;
    // Terms on leader bars wide enough to hold the label (same-term leaders stand out).
    let label = (FAMILY, 13).into_font().color(&WHITE);
    for (node, s, e, _, term) in tl.roles.iter().filter(|r| r.3 == Role::Leader) {
        let y = f64::from(*node);
        let (x0, _) = chart.backend_coord(&(x(*s), y));
        let (x1, _) = chart.backend_coord(&(x(*e), y));
        if x1 - x0 >= 64 {
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("term {term}"),
                    (x(*s), y - 0.12),
                    label.clone(),
                )))
                .map_err(err)?;
        }
    }
    // Pauses: a purple band over the row.
    chart
        .draw_series(tl.pauses.iter().map(|(node, s, e)| {
            let y = f64::from(*node);
            Rectangle::new(
                [(x(*s), y - half), (x(*e), y + half)],
                PAUSED.mix(0.55).filled(),
            )
        }))
        .map_err(err)?;
    // Split brain: a solid red strip at the top edge too, so short intervals stay visible.
    chart
        .draw_series(tl.split_brain.iter().map(|(s, e)| {
            let w = (x(*e) - x(*s)).max((xmax - xmin) / 400.0);
            Rectangle::new([(x(*s), -0.5), (x(*s) + w, -0.42)], SPLIT.filled())
        }))
        .map_err(err)?;
    // Elections and crashes.
    chart
        .draw_series(tl.elections.iter().map(|(node, t)| {
            TriangleMarker::new((x(*t), f64::from(*node) - half - 0.06), 7, BLACK.filled())
        }))
        .map_err(err)?;
    chart
        .draw_series(
            tl.crashes
                .iter()
                .map(|(node, t)| Cross::new((x(*t), f64::from(*node)), 7, RED.stroke_width(3))),
        )
        .map_err(err)?;

    // Legend strip.
    let items: [(&str, RGBAColor); 9] = [
        ("follower", FOLLOWER.to_rgba()),
        ("pre-candidate", PRE_CANDIDATE.to_rgba()),
        ("candidate", CANDIDATE.to_rgba()),
        ("leader", LEADER.to_rgba()),
        ("down (crashed)", DOWN.to_rgba()),
        ("paused", PAUSED.mix(0.55)),
        ("network fault", LINK_FAULT.mix(0.5)),
        ("split brain", SPLIT.mix(0.6)),
        ("", BLACK.to_rgba()),
    ];
    let style = (FAMILY, 15).into_font().color(&BLACK);
    let mut px = 90i32;
    let py = 14i32;
    for (label, color) in items.iter().filter(|(l, _)| !l.is_empty()) {
        legend
            .draw(&Rectangle::new(
                [(px, py), (px + 18, py + 16)],
                color.filled(),
            ))
            .map_err(err)?;
        legend
            .draw(&Rectangle::new(
                [(px, py), (px + 18, py + 16)],
                BLACK.stroke_width(1),
            ))
            .map_err(err)?;
        legend
            .draw(&Text::new(label.to_string(), (px + 24, py), style.clone()))
            .map_err(err)?;
        px += 30 + 8 * label.len() as i32 + 18;
    }
    legend
        .draw(&TriangleMarker::new((px + 8, py + 8), 7, BLACK.filled()))
        .map_err(err)?;
    legend
        .draw(&Text::new(
            "became leader".to_string(),
            (px + 22, py),
            style.clone(),
        ))
        .map_err(err)?;
    px += 150;
    legend
        .draw(&Cross::new((px + 8, py + 8), 7, RED.stroke_width(3)))
        .map_err(err)?;
    legend
        .draw(&Text::new("crash".to_string(), (px + 22, py), style))
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

/// Render as SVG text.
pub fn render_svg(tl: &Timeline, meta: &TraceMeta) -> Result<String, String> {
    ensure_registered()?;
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, size(tl.nodes)).into_drawing_area();
        draw(root, tl, meta)?;
    }
    Ok(s)
}

/// Render as PNG bytes.
pub fn render_png(tl: &Timeline, meta: &TraceMeta) -> Result<Vec<u8>, String> {
    ensure_registered()?;
    let (w, h) = size(tl.nodes);
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        draw(root, tl, meta)?;
    }
    encode_png(&buf, w, h)
}

/// Check a `--timeline` path before running: it must end in `.svg` or `.png`.
pub fn check_path(path: &Path) -> Result<(), String> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("svg" | "png") => Ok(()),
        _ => Err(format!(
            "--timeline {}: the file name must end in .svg or .png",
            path.display()
        )),
    }
}

/// Draw the timeline of a recording to `path` (`.svg` or `.png`), atomically.
pub fn write(path: &Path, rec: &Recording, meta: &TraceMeta) -> Result<(), String> {
    write_window(path, rec, meta, None)
}

/// [`write()`], zoomed to a `(from_ns, to_ns)` window when given (`--from`/`--to`).
pub fn write_window(
    path: &Path,
    rec: &Recording,
    meta: &TraceMeta,
    window: Option<(u64, u64)>,
) -> Result<(), String> {
    check_path(path)?;
    let mut tl = Timeline::from_recording(rec, meta.nodes);
    if let Some((from, to)) = window {
        tl = tl.window(from, to);
    }
    let bytes = if path.extension().and_then(|e| e.to_str()) == Some("png") {
        render_png(&tl, meta)?
    } else {
        render_svg(&tl, meta)?.into_bytes()
    };
    write_atomic(path, &bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
