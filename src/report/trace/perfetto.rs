//! Chrome Trace Event JSON (the "legacy JSON" format Perfetto and chrome://tracing open).
//!
//! Mapping: pid 1 is the run; tid `n` is node `n`, named by `thread_name` metadata.
//! * Roles are `X` slices (`follower`, `pre_candidate`, `candidate`, `leader`, `down`)
//!   laid end to end on the node's track, with the term in `args`.
//! * Everything a node does at one instant (a delivery and the sends it causes, a timer,
//!   a status change) is one short `X` slice nested inside the role slice, named after
//!   its first event, with all its events listed in `args.events`. Its duration is at most
//!   1 µs and at most half the gap to the node's next instant, so slices always nest.
//! * Each delivered message is a flow arrow: `s` in the sender's slice, `f` (`bp: "e"`)
//!   in the receiver's slice, with a fresh `id` per delivery (duplicates get their own).
//! * Faults and resumes are instant events: thread-scoped on the node they hit,
//!   global for network faults. Messages lost at delivery time are thread instants.
//!
//! * Split-brain incidents (two or more live leaders) are `X` slices on their own track,
//!   "split brain", named after the leaders, with start, end and nodes in `args`.
//!
//! `ts`/`dur` are microseconds (fractions carry the nanoseconds).

use super::{Event, Recording, TraceMeta, describe_fault, fault_node, node_label};
use crate::sim::{NodeId, Role};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;

const PID: u32 = 1;

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

/// Render the recording as a Chrome Trace Event JSON document (in memory; for tests and
/// small runs — files are written with [`write_to`]).
pub fn render(rec: &Recording, meta: &TraceMeta) -> String {
    let mut buf = Vec::new();
    write_to(rec, meta, &mut buf).expect("writing to memory cannot fail");
    String::from_utf8(buf).expect("trace JSON is UTF-8")
}

/// Writes trace events as elements of one JSON array, one event at a time.
struct EventWriter<'w> {
    w: &'w mut dyn Write,
    first: bool,
}

impl EventWriter<'_> {
    fn push(&mut self, ev: Value) -> std::io::Result<()> {
        if !self.first {
            self.w.write_all(b",")?;
        }
        self.first = false;
        serde_json::to_writer(&mut *self.w, &ev).map_err(std::io::Error::other)
    }
}

/// What happens on one node at one instant, waiting for the node's next instant (which
/// bounds its slice's duration).
struct Group {
    at: u64,
    events: Vec<String>,
}

/// Stream the recording as a Chrome Trace Event JSON document. Each trace event is written
/// as soon as its extent is known, never collected into one document first (which took
/// about 4 KB per recorded event); what is kept is one open slice per node and the send
/// time of each recorded message, for its flow arrows.
pub fn write_to(rec: &Recording, meta: &TraceMeta, w: &mut dyn Write) -> std::io::Result<()> {
    let total = rec.total_nodes(meta.nodes);
    let end = rec.end().0;
    w.write_all(b"{\"traceEvents\":[")?;
    let mut out = EventWriter {
        w: &mut *w,
        first: true,
    };
    out.push(json!({"ph": "M", "pid": PID, "name": "process_name",
        "args": {"name": format!("electsim {} ({}, seed {})", meta.scenario, meta.algorithm, meta.seed)}}))?;
    for n in 0..total {
        out.push(json!({"ph": "M", "pid": PID, "tid": n, "name": "thread_name", "args": {"name": node_label(n, meta.nodes)}}))?;
        out.push(json!({"ph": "M", "pid": PID, "tid": n, "name": "thread_sort_index", "args": {"sort_index": n}}))?;
    }

    // Role slices, laid end to end: each closes at the node's next status change.
    let role_slice = |node: NodeId, (start, role, term): (u64, Role, u64), until: u64| {
        // End 1 ns early so float rounding can never make neighbours overlap.
        let stop = if until - start > 2 { until - 1 } else { until };
        json!({"ph": "X", "pid": PID, "tid": node, "name": role.as_str(), "cat": "role",
            "ts": us(start), "dur": us(stop - start), "args": {"term": term}})
    };
    // Handler slices: everything a node does at one instant, closed by its next instant.
    let handler_slice = |node: NodeId, g: &Group, next: u64| {
        let dur = 1000u64.min(next.saturating_sub(g.at) / 2);
        json!({"ph": "X", "pid": PID, "tid": node, "name": g.events[0], "cat": "handler",
            "ts": us(g.at), "dur": us(dur), "args": {"events": g.events}})
    };
    let mut roles: Vec<Option<(u64, Role, u64)>> = vec![None; total as usize];
    let mut groups: Vec<Option<Group>> = (0..total).map(|_| None).collect();
    let mut note = |out: &mut EventWriter, node: NodeId, at: u64, text: String| {
        let slot = &mut groups[node as usize];
        match slot {
            Some(g) if g.at == at => g.events.push(text),
            _ => {
                if let Some(g) = slot.take() {
                    out.push(handler_slice(node, &g, at))?;
                }
                *slot = Some(Group {
                    at,
                    events: vec![text],
                });
            }
        }
        Ok::<(), std::io::Error>(())
    };
    // Send time of each message still in flight; a flow arrow per delivery.
    let mut send_at: BTreeMap<u64, u64> = BTreeMap::new();
    let mut flow_id = 0u64;
    for r in &rec.records {
        let at = r.at.0;
        match &r.event {
            Event::Send { msg } => {
                send_at.insert(msg.id, at);
                note(&mut out, msg.from, at, format!("send {} to {}", msg.kind_name, msg.to))?;
            }
            Event::Deliver { msg } => {
                note(&mut out, msg.to, at, format!("recv {} from {}", msg.kind_name, msg.from))?;
                if let Some(&s) = send_at.get(&msg.id) {
                    out.push(json!({"ph": "s", "pid": PID, "tid": msg.from, "ts": us(s), "id": flow_id, "cat": "msg", "name": msg.kind_name}))?;
                    out.push(json!({"ph": "f", "bp": "e", "pid": PID, "tid": msg.to, "ts": us(at), "id": flow_id, "cat": "msg", "name": msg.kind_name}))?;
                    flow_id += 1;
                }
            }
            Event::Drop { msg, reason } => {
                if send_at.get(&msg.id) == Some(&at) {
                    note(&mut out, msg.from, at, format!(
                        "lost {} to {} ({})",
                        msg.kind_name,
                        msg.to,
                        reason.as_str()
                    ))?;
                } else if msg.to < total {
                    out.push(json!({"ph": "i", "s": "t", "pid": PID, "tid": msg.to, "ts": us(at), "cat": "drop",
                        "name": format!("lost {} from {} ({})", msg.kind_name, msg.from, reason.as_str())}))?;
                }
            }
            Event::Timer { node, name } => note(&mut out, *node, at, format!("timer {name}"))?,
            Event::Status { node, old, new } => {
                note(&mut out, *node, at, format!(
                    "{} -> {} (term {}, leader {})",
                    old.role.as_str(),
                    new.role.as_str(),
                    new.term,
                    new.leader.map_or("none".to_string(), |l| l.to_string())
                ))?;
                if let Some(slot) = roles[*node as usize].take()
                    && at > slot.0
                {
                    out.push(role_slice(*node, slot, at))?;
                }
                roles[*node as usize] = Some((at, new.role, new.term));
            }
            Event::Fault { action } => {
                let name = describe_fault(action);
                out.push(match fault_node(action) {
                    Some(n) => json!({"ph": "i", "s": "t", "pid": PID, "tid": n, "ts": us(at), "cat": "fault", "name": name}),
                    None => json!({"ph": "i", "s": "g", "pid": PID, "tid": 0, "ts": us(at), "cat": "fault", "name": name}),
                })?;
            }
            Event::Resume { node } => out.push(
                json!({"ph": "i", "s": "t", "pid": PID, "tid": node, "ts": us(at), "cat": "fault", "name": "resume"}),
            )?,
            Event::End => {}
        }
    }
    for n in 0..total {
        if let Some(g) = groups[n as usize].take() {
            out.push(handler_slice(n, &g, end))?;
        }
        if let Some(slot) = roles[n as usize].take()
            && end > slot.0
        {
            out.push(role_slice(n, slot, end))?;
        }
    }

    // Split brain: one slice per incident on its own track, naming the leaders.
    let split_tid = total;
    out.push(json!({"ph": "M", "pid": PID, "tid": split_tid, "name": "thread_name", "args": {"name": "split brain"}}))?;
    out.push(json!({"ph": "M", "pid": PID, "tid": split_tid, "name": "thread_sort_index", "args": {"sort_index": split_tid}}))?;
    let tl = super::intervals::Timeline::from_recording(rec, meta.nodes);
    for (s, e) in &tl.split_brain {
        let mut leaders: Vec<u32> = tl
            .roles
            .iter()
            .filter(|(_, rs, re, role, _)| *role == Role::Leader && rs < e && re > s)
            .map(|(n, ..)| *n)
            .collect();
        leaders.sort_unstable();
        leaders.dedup();
        let names: Vec<String> = leaders.iter().map(|n| n.to_string()).collect();
        out.push(
            json!({"ph": "X", "pid": PID, "tid": split_tid, "cat": "split_brain",
            "name": format!("split brain: leaders {}", names.join(", ")),
            "ts": us(*s), "dur": us(e - s),
            "args": {"start_ms": *s as f64 / 1e6, "end_ms": *e as f64 / 1e6, "nodes": leaders}}),
        )?;
    }
    let tail = json!({
        "scenario": meta.scenario, "algorithm": meta.algorithm, "seed": meta.seed, "nodes": meta.nodes,
        "recorded_events": rec.records.len(), "seen_events": rec.seen, "truncated": rec.truncated(),
    });
    w.write_all(b"],\"displayTimeUnit\":\"ns\",\"otherData\":")?;
    serde_json::to_writer(&mut *w, &tail).map_err(std::io::Error::other)?;
    w.write_all(b"}\n")
}
