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

const PID: u32 = 1;

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

/// Render the recording as a Chrome Trace Event JSON document.
pub fn render(rec: &Recording, meta: &TraceMeta) -> String {
    let total = rec.total_nodes(meta.nodes);
    let end = rec.end().0;
    let mut out: Vec<Value> = Vec::new();
    out.push(json!({"ph": "M", "pid": PID, "name": "process_name",
        "args": {"name": format!("electsim {} ({}, seed {})", meta.scenario, meta.algorithm, meta.seed)}}));
    for n in 0..total {
        out.push(json!({"ph": "M", "pid": PID, "tid": n, "name": "thread_name", "args": {"name": node_label(n, meta.nodes)}}));
        out.push(json!({"ph": "M", "pid": PID, "tid": n, "name": "thread_sort_index", "args": {"sort_index": n}}));
    }

    // Role slices.
    let mut cur: Vec<Option<(u64, Role, u64)>> = vec![None; total as usize];
    let close = |out: &mut Vec<Value>, node: NodeId, slot: Option<(u64, Role, u64)>, until: u64| {
        if let Some((start, role, term)) = slot
            && until > start
        {
            // End 1 ns early so float rounding can never make neighbours overlap.
            let stop = if until - start > 2 { until - 1 } else { until };
            out.push(
                json!({"ph": "X", "pid": PID, "tid": node, "name": role.as_str(), "cat": "role",
                "ts": us(start), "dur": us(stop - start), "args": {"term": term}}),
            );
        }
    };
    for r in &rec.records {
        if let Event::Status { node, new, .. } = &r.event {
            let slot = cur[*node as usize].take();
            close(&mut out, *node, slot, r.at.0);
            cur[*node as usize] = Some((r.at.0, new.role, new.term));
        }
    }
    for n in 0..total {
        let slot = cur[n as usize].take();
        close(&mut out, n, slot, end);
    }

    // Handler slices: group events by (node, instant).
    let mut groups: BTreeMap<(NodeId, u64), Vec<String>> = BTreeMap::new();
    let mut send_at: BTreeMap<u64, u64> = BTreeMap::new();
    let mut flows: Vec<(NodeId, u64, NodeId, u64, &'static str)> = Vec::new();
    let mut instants: Vec<Value> = Vec::new();
    for r in &rec.records {
        let at = r.at.0;
        match &r.event {
            Event::Send { msg } => {
                send_at.insert(msg.id, at);
                groups.entry((msg.from, at)).or_default().push(format!("send {} to {}", msg.kind_name, msg.to));
            }
            Event::Deliver { msg } => {
                groups.entry((msg.to, at)).or_default().push(format!("recv {} from {}", msg.kind_name, msg.from));
                if let Some(&s) = send_at.get(&msg.id) {
                    flows.push((msg.from, s, msg.to, at, msg.kind_name));
                }
            }
            Event::Drop { msg, reason } => {
                if send_at.get(&msg.id) == Some(&at) {
                    groups.entry((msg.from, at)).or_default().push(format!(
                        "lost {} to {} ({})",
                        msg.kind_name,
                        msg.to,
                        reason.as_str()
                    ));
                } else if (msg.to as usize) < total as usize {
                    instants.push(json!({"ph": "i", "s": "t", "pid": PID, "tid": msg.to, "ts": us(at), "cat": "drop",
                        "name": format!("lost {} from {} ({})", msg.kind_name, msg.from, reason.as_str())}));
                }
            }
            Event::Timer { node, name } => groups.entry((*node, at)).or_default().push(format!("timer {name}")),
            Event::Status { node, old, new } => groups.entry((*node, at)).or_default().push(format!(
                "{} -> {} (term {}, leader {})",
                old.role.as_str(),
                new.role.as_str(),
                new.term,
                new.leader.map_or("none".to_string(), |l| l.to_string())
            )),
            Event::Fault { action } => {
                let name = describe_fault(action);
                instants.push(match fault_node(action) {
                    Some(n) => json!({"ph": "i", "s": "t", "pid": PID, "tid": n, "ts": us(at), "cat": "fault", "name": name}),
                    None => json!({"ph": "i", "s": "g", "pid": PID, "tid": 0, "ts": us(at), "cat": "fault", "name": name}),
                });
            }
            Event::Resume { node } => instants.push(
                json!({"ph": "i", "s": "t", "pid": PID, "tid": node, "ts": us(at), "cat": "fault", "name": "resume"}),
            ),
            Event::End => {}
        }
    }
    let keys: Vec<(NodeId, u64)> = groups.keys().copied().collect();
    for (i, ((node, at), events)) in groups.iter().enumerate() {
        let next = keys
            .get(i + 1)
            .filter(|(n, _)| n == node)
            .map_or(end, |&(_, t)| t);
        let dur = 1000u64.min(next.saturating_sub(*at) / 2);
        out.push(
            json!({"ph": "X", "pid": PID, "tid": node, "name": events[0], "cat": "handler",
            "ts": us(*at), "dur": us(dur), "args": {"events": events}}),
        );
    }
    for (id, (from, s, to, f, kind)) in flows.into_iter().enumerate() {
        out.push(json!({"ph": "s", "pid": PID, "tid": from, "ts": us(s), "id": id, "cat": "msg", "name": kind}));
        out.push(json!({"ph": "f", "bp": "e", "pid": PID, "tid": to, "ts": us(f), "id": id, "cat": "msg", "name": kind}));
    }
    out.extend(instants);

    // Split brain: one slice per incident on its own track, naming the leaders.
    let split_tid = total;
    out.push(json!({"ph": "M", "pid": PID, "tid": split_tid, "name": "thread_name", "args": {"name": "split brain"}}));
    out.push(json!({"ph": "M", "pid": PID, "tid": split_tid, "name": "thread_sort_index", "args": {"sort_index": split_tid}}));
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
        );
    }
    let doc = json!({
        "traceEvents": out,
        "displayTimeUnit": "ns",
        "otherData": {
            "scenario": meta.scenario, "algorithm": meta.algorithm, "seed": meta.seed, "nodes": meta.nodes,
            "recorded_events": rec.records.len(), "seen_events": rec.seen, "truncated": rec.truncated(),
        },
    });
    serde_json::to_string(&doc).expect("trace serializes") + "\n"
}
