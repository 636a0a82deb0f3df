//! A per-run timeline picture (SVG or PNG): nodes on the y axis, virtual time on the x
//! axis, each node's row coloured by role; crashes (dark), pauses (purple hatching over the
//! row) and network faults (yellow background) shaded; elections marked with a triangle;
//! split-brain intervals (two or more live leaders) highlighted in red across all rows;
//! coordination-service replicas as rows after the participants, partition sides shaded
//! in one colour per side and same-term leaders ringed in red.
//!
//! Built from a recorded trace ([`Recording`]), so it shows exactly what the run did.
//!
//! The x axis is virtual time ([`Axis::VirtualTime`]), except for the replay of a
//! held-schedule script, where steps take no virtual time: there it is the script step
//! ([`Axis::Steps`]), with the timeline's times remapped to step numbers (see
//! [`crate::replay`]).

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
/// Partition sides, in order (the run page uses the same hues).
const SIDES: [RGBColor; 4] = [
    RGBColor(60, 120, 220),
    RGBColor(230, 140, 20),
    RGBColor(40, 170, 90),
    RGBColor(170, 60, 190),
];

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

/// The x axis of a timeline picture.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Axis {
    /// Virtual time in ms or s (`electsim run`, replays of timed scripts).
    #[default]
    VirtualTime,
    /// The script step of a held-schedule replay: the [`Timeline`]'s times are step
    /// numbers times [`STEP_NS`] (step 0: the `new` and the boot). Holds each step's
    /// command (index = step), drawn as a caption row under the axis when it fits.
    Steps(Vec<String>),
}

/// One script step on an [`Axis::Steps`] timeline, in the timeline's time unit: step `k`
/// happens at `k * STEP_NS`, and the records of one step that must stay apart (a node
/// whose status changes twice) at fractions of it.
pub const STEP_NS: u64 = 1_000_000;

/// Height of the caption row of step commands ([`Axis::Steps`]).
const STEP_ROW: u32 = 44;

/// Picture size for `nodes` rows.
fn size(nodes: u32) -> (u32, u32) {
    (1400, (170 + 34 * nodes).clamp(420, 2400))
}

/// Picture size for `nodes` rows on `axis`.
fn size_on(nodes: u32, axis: &Axis) -> (u32, u32) {
    let (w, h) = size(nodes);
    match axis {
        Axis::VirtualTime => (w, h),
        Axis::Steps(_) => (w, h + STEP_ROW),
    }
}

/// A step's command as a caption: `deliver 1 0 VoteResponse { term: 2 }` reads
/// `deliver 1→0 VoteResponse`, and a `new` (its scenario and keys) just `new`.
pub fn short_command(cmd: &str) -> String {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    match words.as_slice() {
        ["new", ..] => "new".into(),
        [verb @ ("deliver" | "drop" | "duplicate"), from, to, msg, ..] => {
            format!("{verb} {from}→{to} {}", msg.trim_end_matches(['{', '(']))
        }
        _ => words.join(" "),
    }
}

/// `s` cut to at most `max` characters, with an ellipsis when cut.
fn fit(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    tl: &Timeline,
    meta: &TraceMeta,
    axis: &Axis,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let (_, h) = root.dim_in_pixel();
    let steps = match axis {
        Axis::VirtualTime => None,
        Axis::Steps(commands) => Some(commands),
    };
    let below = if steps.is_some() { 44 + STEP_ROW } else { 44 };
    let (upper, lower) = root.split_vertically(h - below);
    // Step axis: the caption row of commands, then the legend.
    let legend = match steps {
        Some(_) => lower.split_vertically(STEP_ROW).1,
        None => lower,
    };
    let (scale, unit) = if steps.is_some() {
        (STEP_NS as f64, "step")
    } else if tl.end_ns - tl.from_ns.min(tl.end_ns) >= 2_000_000_000 {
        (1e9, "s")
    } else {
        (1e6, "ms")
    };
    let x = |ns: u64| ns as f64 / scale;
    let xmin = x(tl.from_ns.min(tl.end_ns));
    let xmax = x(tl.end_ns.max(1));
    let rows = tl.lanes.max(tl.nodes);
    let n = f64::from(rows);
    let title = match steps {
        None => format!(
            "{} — {}, {} nodes, seed {} (virtual time {}–{} {unit})",
            meta.scenario,
            meta.algorithm,
            meta.nodes,
            meta.seed,
            fmt_exact(xmin),
            fmt_exact(xmax)
        ),
        Some(_) => format!(
            "{} — {}, {} nodes, seed {} (held schedule: x is the script step, not virtual time)",
            meta.scenario, meta.algorithm, meta.nodes, meta.seed
        ),
    };
    let mut chart = ChartBuilder::on(&upper)
        .caption(title, (FAMILY, 22))
        .margin(12)
        .x_label_area_size(46)
        .y_label_area_size(78)
        .build_cartesian_2d(xmin..xmax, (n - 0.5)..-0.5f64)
        .map_err(err)?;
    let every = (rows / 24).max(1);
    // Step axis: integer ticks only (one per step while they fit).
    let x_label = |v: &f64| match steps {
        // Rounded: a tick at 0.6 must not read 0.6000000000000001.
        None => fmt_exact((v * 1e6).round() / 1e6),
        Some(_) if (v - v.round()).abs() < 1e-6 => format!("{}", v.round() as i64),
        Some(_) => String::new(),
    };
    let mut mesh = chart.configure_mesh();
    if let Some(c) = steps {
        mesh.x_labels((c.len() + 1).clamp(2, 60))
            .x_max_light_lines(0)
            .x_desc("script step (held schedule: steps take no virtual time)");
    } else {
        mesh.x_desc(format!("virtual time ({unit})"));
    }
    mesh.disable_y_mesh()
        .y_desc("node")
        .y_labels((rows as usize).min(40) + 1)
        .y_label_formatter(&|v| {
            let r = v.round();
            if (v - r).abs() < 1e-6
                && r >= 0.0
                && (r as u32) < rows
                && (r as u32).is_multiple_of(every)
            {
                super::trace::node_label(r as u32, tl.nodes)
            } else {
                String::new()
            }
        })
        .x_label_formatter(&x_label)
        .label_style((FAMILY, 15))
        .axis_desc_style((FAMILY, 16))
        .draw()
        .map_err(err)?;
    let half = 0.36;
    // Partition sides: each side's rows in its own colour while the partition holds.
    for (s, e, sides) in &tl.partitions {
        for (k, side) in sides.iter().enumerate() {
            let color = SIDES[k % SIDES.len()].mix(0.25).filled();
            chart
                .draw_series(side.iter().map(|&node| {
                    let y = f64::from(node);
                    Rectangle::new([(x(*s), y - 0.5), (x(*e), y + 0.5)], color)
                }))
                .map_err(err)?;
        }
    }
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

    // Same-term leaders: a red ring and the term on the second leader's row.
    let red = (FAMILY, 13).into_font().color(&SPLIT);
    for (node, t, term, _) in &tl.same_term {
        let y = f64::from(*node);
        chart
            .draw_series([EmptyElement::at((x(*t), y))
                + Circle::new((0, 0), 9, SPLIT.stroke_width(3))
                + Text::new(format!("same term {term}"), (10, -20), red.clone())])
            .map_err(err)?;
    }

    // Step commands: a caption row under the axis, each starting at its step's tick, on
    // two staggered lines when one is too tight; left out when even two are.
    if let Some(commands) = steps {
        let top = (h - below) as i32;
        let font = (FAMILY, 13).into_font().color(&BLACK);
        let px = |k: usize| chart.backend_coord(&(k as f64, n - 0.5)).0;
        let first = xmin.ceil().max(0.0) as usize;
        let last = (xmax.floor() as usize).min(commands.len().saturating_sub(1));
        if first <= last {
            let step_px = (px(first + 1) - px(first)).max(1);
            let rows = if step_px >= 120 { 1 } else { 2 };
            // DejaVu Sans at 13 px: about 7.5 px a character.
            let chars = ((rows * step_px - 8) as f64 / 7.5).floor() as usize;
            if chars >= 6 {
                for (k, command) in commands.iter().enumerate().take(last + 1).skip(first) {
                    let text = fit(&format!("{k} {}", short_command(command)), chars);
                    let y = top + 4 + 19 * (k % rows as usize) as i32;
                    root.draw(&PathElement::new(
                        vec![(px(k), top), (px(k), y + 8)],
                        BLACK.mix(0.4).stroke_width(1),
                    ))
                    .map_err(err)?;
                    root.draw(&Text::new(text, (px(k) + 3, y), font.clone()))
                        .map_err(err)?;
                }
            }
        }
    }

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

/// Render as SVG text (virtual-time axis).
pub fn render_svg(tl: &Timeline, meta: &TraceMeta) -> Result<String, String> {
    render_svg_on(tl, meta, &Axis::VirtualTime)
}

/// Render as PNG bytes (virtual-time axis).
pub fn render_png(tl: &Timeline, meta: &TraceMeta) -> Result<Vec<u8>, String> {
    render_png_on(tl, meta, &Axis::VirtualTime)
}

/// Render as SVG text on `axis`.
pub fn render_svg_on(tl: &Timeline, meta: &TraceMeta, axis: &Axis) -> Result<String, String> {
    ensure_registered()?;
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, size_on(tl.lanes.max(tl.nodes), axis))
            .into_drawing_area();
        draw(root, tl, meta, axis)?;
    }
    Ok(crate::outputs::mark_svg(s))
}

/// Render as PNG bytes on `axis`.
pub fn render_png_on(tl: &Timeline, meta: &TraceMeta, axis: &Axis) -> Result<Vec<u8>, String> {
    ensure_registered()?;
    let (w, h) = size_on(tl.lanes.max(tl.nodes), axis);
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        draw(root, tl, meta, axis)?;
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
    let mut tl = Timeline::from_recording(rec, meta.nodes);
    if let Some((from, to)) = window {
        tl = tl.window(from, to);
    }
    write_timeline(path, &tl, meta, &Axis::VirtualTime)
}

/// Draw a timeline on `axis` to `path` (`.svg` or `.png`), atomically.
pub fn write_timeline(
    path: &Path,
    tl: &Timeline,
    meta: &TraceMeta,
    axis: &Axis,
) -> Result<(), String> {
    check_path(path)?;
    let bytes = if path.extension().and_then(|e| e.to_str()) == Some("png") {
        render_png_on(tl, meta, axis)?
    } else {
        render_svg_on(tl, meta, axis)?.into_bytes()
    };
    write_atomic(path, &bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
