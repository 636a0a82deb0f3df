//! The run page (`--html FILE`): one self-contained HTML file showing a recorded run as a
//! space-time diagram, for a person to move through offline. The page is a fixed template
//! (`page.html`, `page.css`, `page.js`: hand-written, no library, no network) plus the run
//! as one JSON object in a `<script type="application/json">` block, built here from the
//! trace. What the page draws is documented in docs/run-page.md.
//!
//! Size is bounded: at most [`RECORD_LIMIT`] records are embedded one by one (clickable,
//! with their JSONL line) and at most [`ARROW_LIMIT`] message arrows; beyond them the page
//! shows messages as per-lane counts in [`BINS`] time bins and says so. The bound on the
//! whole file is [`MAX_BYTES`] (about 12 MiB).

use super::trace::intervals::{Timeline, sides};
use super::trace::{Event, Recording, TraceMeta, describe_fault, jsonl, node_label};
use crate::fsutil::write_atomic;
use crate::sim::invariants::Violation;
use crate::sim::{FaultAction, MsgClass, NodeId, Role, Target};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Records embedded one by one (clickable, with their JSONL line); later ones are counted.
pub const RECORD_LIMIT: usize = 30_000;
/// Message arrows embedded; later messages are shown only as per-bin counts.
pub const ARROW_LIMIT: usize = 30_000;
/// Time bins of the per-lane message counts drawn when arrows are too many to draw.
pub const BINS: usize = 400;
/// Upper bound on the page's size in bytes that the limits above guarantee (records of a
/// few hundred bytes each, arrows and bars of tens).
pub const MAX_BYTES: usize = 12 << 20;

const TEMPLATE: &str = include_str!("page/page.html");
const STYLE: &str = include_str!("page/page.css");
const SCRIPT: &str = include_str!("page/page.js");

/// One lane of the diagram.
#[derive(Serialize)]
struct Lane {
    label: String,
    service: bool,
}

/// A stretch of one node's status: (node, start, end, role, term, believed leader, record).
type Segment = (NodeId, u64, u64, &'static str, u64, Option<NodeId>, usize);

/// A message arrow: (record of the send, from, to, kind, class, sent, ended, how it
/// ended: "deliver", a drop reason, or "" while in flight at the end; record of the end).
type Arrow = (
    usize,
    NodeId,
    NodeId,
    usize,
    usize,
    u64,
    u64,
    &'static str,
    Option<usize>,
);

/// A network fault while in force, with what it cut.
#[derive(Serialize, Clone)]
struct NetFault {
    start: u64,
    end: u64,
    what: String,
    /// Partition sides (every lane on exactly one side); empty for cuts and isolations.
    sides: Vec<Vec<NodeId>>,
    /// Directed links cut (a cut), or the isolated node's id as `(n, n)`.
    links: Vec<(NodeId, NodeId)>,
    record: usize,
}

/// A violation or split-brain interval, for the list on the page.
#[derive(Serialize)]
struct Flag {
    start: u64,
    end: u64,
    kind: String,
    detail: String,
}

/// The run as the page's script reads it (field names are the script's).
#[derive(Serialize)]
struct PageData {
    title: String,
    unit: &'static str,
    end: u64,
    lanes: Vec<Lane>,
    participants: u32,
    seen: u64,
    recorded: usize,
    trace_limit: u64,
    notes: Vec<String>,
    kinds: Vec<&'static str>,
    classes: [&'static str; 3],
    segments: Vec<Segment>,
    /// (node, time, "crash" | "restart" | "pause" | "resume" | "elected", record)
    marks: Vec<(NodeId, u64, &'static str, usize)>,
    pauses: Vec<(NodeId, u64, u64)>,
    arrows: Vec<Arrow>,
    messages: usize,
    /// Messages sent per lane per bin (`bin_ns` wide), all of them, for the aggregate view.
    bin_ns: u64,
    density: Vec<Vec<u32>>,
    net: Vec<NetFault>,
    /// (time, description, record): loss and delay changes.
    link_changes: Vec<(u64, String, usize)>,
    flags: Vec<Flag>,
    /// Virtual times of all embedded records (next/previous event steps through them).
    times: Vec<u64>,
    records: Vec<serde_json::Value>,
}

/// How the page's time axis reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageAxis {
    /// Virtual nanoseconds.
    VirtualTime,
    /// Script steps of a held-schedule replay (times are step numbers times
    /// [`super::timeline::STEP_NS`]).
    Steps,
}

fn class_index(c: MsgClass) -> usize {
    match c {
        MsgClass::Election => 0,
        MsgClass::Heartbeat => 1,
        MsgClass::Other => 2,
    }
}

/// What a network fault cuts, for the shading.
fn net_fault(action: &FaultAction, at: u64, lanes: u32, record: usize) -> NetFault {
    let node = |t: &Target| match t {
        Target::Node(n) => Some(*n),
        _ => None,
    };
    let (sides, links) = match action {
        FaultAction::Partition { groups, .. } => (sides(groups, lanes), Vec::new()),
        FaultAction::Cut { from, to, .. } => {
            (Vec::new(), node(from).zip(node(to)).into_iter().collect())
        }
        FaultAction::Isolate { target, .. } => (
            Vec::new(),
            node(target).map(|n| (n, n)).into_iter().collect(),
        ),
        _ => (Vec::new(), Vec::new()),
    };
    NetFault {
        start: at,
        end: at,
        what: describe_fault(action),
        sides,
        links,
        record,
    }
}

/// Build the page's data from a recording; `violations` are the run's invariant
/// violations when known (a replay knows only its trace).
fn build(rec: &Recording, meta: &TraceMeta, violations: &[Violation], axis: PageAxis) -> PageData {
    let lanes = rec.total_nodes(meta.nodes);
    let end = rec.end().0.max(1);
    let bin_ns = end.div_ceil(BINS as u64).max(1);
    let mut d = PageData {
        title: format!(
            "{} — {}, {} nodes, seed {}",
            meta.scenario, meta.algorithm, meta.nodes, meta.seed
        ),
        unit: match axis {
            PageAxis::VirtualTime => "ns",
            PageAxis::Steps => "step",
        },
        end,
        lanes: (0..lanes)
            .map(|n| Lane {
                label: node_label(n, meta.nodes),
                service: n >= meta.nodes,
            })
            .collect(),
        participants: meta.nodes,
        seen: rec.seen,
        recorded: rec.records.len(),
        trace_limit: rec.limit,
        notes: Vec::new(),
        kinds: Vec::new(),
        classes: ["election", "heartbeat", "other"],
        segments: Vec::new(),
        marks: Vec::new(),
        pauses: Vec::new(),
        arrows: Vec::new(),
        messages: 0,
        bin_ns,
        density: vec![vec![0; BINS]; lanes as usize],
        net: Vec::new(),
        link_changes: Vec::new(),
        flags: Vec::new(),
        times: Vec::new(),
        records: Vec::new(),
    };
    walk(rec, lanes, &mut d);
    flags(rec, meta, violations, &d.segments, &mut d.flags);
    notes(rec, &mut d);
    d
}

/// One pass over the records: segments, marks, arrows, network faults, embedded records.
fn walk(rec: &Recording, lanes: u32, d: &mut PageData) {
    let end = d.end;
    let mut status: Vec<(u64, Role, u64, Option<NodeId>, usize)> =
        vec![(0, Role::Down, 0, None, 0); lanes as usize];
    let mut open: BTreeMap<u64, usize> = BTreeMap::new();
    let mut kinds: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut pauses: BTreeMap<NodeId, u64> = BTreeMap::new();
    let mut net: Vec<Option<NetFault>> = Vec::new();
    for (i, r) in rec.records.iter().enumerate() {
        let at = r.at.0;
        if i < RECORD_LIMIT {
            d.times.push(at);
            let line = jsonl::line(i as u64, r);
            d.records
                .push(serde_json::from_str(&line).expect("a trace line is JSON"));
        }
        match &r.event {
            Event::Send { msg } => {
                d.messages += 1;
                let bin = ((at / d.bin_ns) as usize).min(BINS - 1);
                d.density[msg.from as usize][bin] += 1;
                if d.arrows.len() < ARROW_LIMIT {
                    let n = kinds.len();
                    let kind = *kinds.entry(msg.kind_name).or_insert(n);
                    open.insert(msg.id, d.arrows.len());
                    d.arrows.push((
                        i,
                        msg.from,
                        msg.to,
                        kind,
                        class_index(msg.class),
                        at,
                        end,
                        "",
                        None,
                    ));
                }
            }
            Event::Deliver { msg } | Event::Drop { msg, .. } => {
                let how = match &r.event {
                    Event::Drop { reason, .. } => reason.as_str(),
                    _ => "deliver",
                };
                if let Some(&a) = open.get(&msg.id) {
                    let arrow = d.arrows[a];
                    if arrow.7.is_empty() {
                        d.arrows[a] = (
                            arrow.0,
                            arrow.1,
                            arrow.2,
                            arrow.3,
                            arrow.4,
                            arrow.5,
                            at,
                            how,
                            Some(i),
                        );
                    } else if d.arrows.len() < ARROW_LIMIT {
                        // A duplicate: one more arrow from the same send.
                        d.arrows.push((
                            arrow.0,
                            arrow.1,
                            arrow.2,
                            arrow.3,
                            arrow.4,
                            arrow.5,
                            at,
                            how,
                            Some(i),
                        ));
                    }
                }
            }
            Event::Status { node, old, new } => {
                let n = *node as usize;
                let (s, role, term, leader, ri) = status[n];
                if at > s {
                    d.segments
                        .push((*node, s, at, role.as_str(), term, leader, ri));
                }
                status[n] = (at, new.role, new.term, new.leader, i);
                if new.role == Role::Leader && old.role != Role::Leader {
                    d.marks.push((*node, at, "elected", i));
                }
                if new.role == Role::Down
                    && let Some(p) = pauses.remove(node)
                {
                    d.pauses.push((*node, p, at));
                }
            }
            Event::Resume { node } => {
                if let Some(p) = pauses.remove(node) {
                    d.pauses.push((*node, p, at));
                }
                d.marks.push((*node, at, "resume", i));
            }
            Event::Fault { action } => fault(action, at, i, lanes, &mut pauses, &mut net, d),
            Event::Timer { .. } | Event::End => {}
        }
    }
    for (n, (s, role, term, leader, ri)) in status.into_iter().enumerate() {
        if end > s {
            d.segments
                .push((n as NodeId, s, end, role.as_str(), term, leader, ri));
        }
    }
    for (n, p) in pauses {
        d.pauses.push((n, p, end));
    }
    for mut f in net.into_iter().flatten() {
        f.end = end;
        d.net.push(f);
    }
    let mut names: Vec<(&'static str, usize)> = kinds.into_iter().collect();
    names.sort_by_key(|k| k.1);
    d.kinds = names.into_iter().map(|k| k.0).collect();
}

/// Record one fault: marks for node faults, intervals for network faults.
fn fault(
    action: &FaultAction,
    at: u64,
    i: usize,
    lanes: u32,
    pauses: &mut BTreeMap<NodeId, u64>,
    net: &mut Vec<Option<NetFault>>,
    d: &mut PageData,
) {
    let node = super::trace::fault_node(action).filter(|&n| n < lanes);
    let close = |f: &mut Option<NetFault>, d: &mut PageData| {
        if let Some(mut f) = f.take() {
            f.end = at;
            d.net.push(f);
        }
    };
    match action {
        FaultAction::Crash { .. } => d.marks.extend(node.map(|n| (n, at, "crash", i))),
        FaultAction::Restart { .. } => d.marks.extend(node.map(|n| (n, at, "restart", i))),
        FaultAction::Pause { .. } => {
            if let Some(n) = node {
                pauses.insert(n, at);
                d.marks.push((n, at, "pause", i));
            }
        }
        FaultAction::Partition { .. }
        | FaultAction::PartitionLeaderSide { .. }
        | FaultAction::Cut { .. }
        | FaultAction::Isolate { .. } => net.push(Some(net_fault(action, at, lanes, i))),
        FaultAction::HealFault { fault } => {
            if let Some(f) = net.get_mut(*fault as usize) {
                close(f, d);
            }
        }
        FaultAction::Heal => {
            for f in net.iter_mut() {
                close(f, d);
            }
        }
        FaultAction::SetLoss { .. } | FaultAction::SetDelay { .. } => {
            d.link_changes.push((at, describe_fault(action), i))
        }
        FaultAction::ClockDrift { .. } => {}
    }
}

/// The list of things to jump to: the run's invariant violations, split-brain intervals
/// and terms with two different leaders (both read off the trace, so a replay has them).
fn flags(
    rec: &Recording,
    meta: &TraceMeta,
    violations: &[Violation],
    segments: &[Segment],
    out: &mut Vec<Flag>,
) {
    for v in violations {
        out.push(Flag {
            start: v.at_ns,
            end: v.at_ns,
            kind: v.property.to_string(),
            detail: v.detail.clone(),
        });
    }
    let tl = Timeline::from_recording(rec, meta.nodes);
    for (s, e) in tl.split_brain {
        let leaders: Vec<String> = segments
            .iter()
            .filter(|g| g.0 < meta.nodes && g.3 == "leader" && g.1 < e && g.2 > s)
            .map(|g| format!("{} (term {})", g.0, g.4))
            .collect();
        out.push(Flag {
            start: s,
            end: e,
            kind: "split brain".into(),
            detail: format!("leaders {}", leaders.join(", ")),
        });
    }
    for (node, at, term, first) in tl.same_term {
        out.push(Flag {
            start: at,
            end: at,
            kind: "same-term leaders".into(),
            detail: format!("nodes {first} and {node} both leader in term {term}"),
        });
    }
    out.sort_by_key(|f| (f.start, f.end));
}

fn notes(rec: &Recording, d: &mut PageData) {
    if rec.truncated() {
        d.notes.push(format!(
            "The trace kept only the first {} of {} records (--trace-limit {}).",
            rec.records.len(),
            rec.seen,
            rec.limit
        ));
    }
    if rec.records.len() > RECORD_LIMIT {
        d.notes.push(format!(
            "Aggregated: {} records, of which the first {RECORD_LIMIT} are embedded one by one (click, next/previous); later ones are drawn but not listed.",
            rec.records.len()
        ));
    }
    if d.messages > d.arrows.len() {
        d.notes.push(format!(
            "Aggregated: {} messages; the first {ARROW_LIMIT} are arrows, all are counted per lane in {BINS} time bins (shown where arrows are too many).",
            d.messages
        ));
    }
}

/// JSON made safe inside a `<script>` block: no `<`, `>` or `&` (they occur only inside
/// strings, where `\u003c` etc. mean the same), so no `</script>` or `<!--` can appear.
fn script_json(data: &PageData) -> String {
    serde_json::to_string(data)
        .expect("page data serializes")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The whole page as HTML text.
pub fn render(
    rec: &Recording,
    meta: &TraceMeta,
    violations: &[Violation],
    axis: PageAxis,
) -> String {
    let data = build(rec, meta, violations, axis);
    let title = data
        .title
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    // The template's four slots, in order; filled in one pass so no value is read as a slot.
    let parts: Vec<&str> = TEMPLATE.split("{{}}").collect();
    let values = [title.as_str(), STYLE, &script_json(&data), SCRIPT];
    assert_eq!(parts.len(), values.len() + 1, "page.html has four slots");
    let mut html = String::with_capacity(values.iter().map(|v| v.len()).sum::<usize>() + 4096);
    for (part, value) in parts.iter().zip(values) {
        html.push_str(part);
        html.push_str(value);
    }
    html.push_str(parts[values.len()]);
    html
}

/// Write the page to `path` atomically; returns a note for stderr with its size.
pub fn write(
    path: &Path,
    rec: &Recording,
    meta: &TraceMeta,
    violations: &[Violation],
    axis: PageAxis,
) -> Result<String, String> {
    let html = render(rec, meta, violations, axis);
    write_atomic(path, html.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(format!(
        "html: {} ({:.1} KiB; {} records, {} embedded; bounded by {} MiB)",
        path.display(),
        html.len() as f64 / 1024.0,
        rec.records.len(),
        rec.records.len().min(RECORD_LIMIT),
        MAX_BYTES >> 20
    ))
}

/// Check an `--html` path before running: it must end in `.html` or `.htm`.
pub fn check_path(path: &Path) -> Result<(), String> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html" | "htm") => Ok(()),
        _ => Err(format!(
            "--html {}: the file name must end in .html",
            path.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_json_cannot_close_the_script_block() {
        let rec = Recording::default();
        let meta = TraceMeta {
            scenario: "</script><!--&".into(),
            algorithm: "raft".into(),
            nodes: 3,
            seed: 1,
        };
        let html = render(&rec, &meta, &[], PageAxis::VirtualTime);
        // Once in the template's own closing tag of each of the two script blocks.
        assert_eq!(html.matches("</script>").count(), 2);
        assert!(html.contains("\\u003c/script\\u003e\\u003c!--\\u0026"));
        assert!(html.contains("<title>&lt;/script&gt;&lt;!--&amp; — raft"));
    }

    #[test]
    fn a_partition_splits_every_lane_onto_one_side() {
        assert_eq!(sides(&[vec![0, 1]], 5), vec![vec![0, 1], vec![2, 3, 4]]);
        assert_eq!(sides(&[vec![0], vec![1, 2]], 3), vec![vec![0], vec![1, 2]]);
    }
}
