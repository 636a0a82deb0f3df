//! JSONL trace: one JSON object per event, in event order. The schema is documented in
//! `docs/traces.md` and is stable: fields are only ever added.
//!
//! Every line has `seq` (0-based event index), `time_ns` (virtual nanoseconds) and `kind`
//! (`send`, `deliver`, `drop`, `timer`, `status`, `fault`, `resume`, `end`); the other
//! fields appear only where they apply. A truncated recording ends with one extra line of
//! kind `truncated`.

use super::{Event, Record, Recording, fault_node};
use crate::sim::NodeStatus;
use serde::Serialize;

#[derive(Serialize)]
struct Line<'a> {
    seq: u64,
    time_ns: u64,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    node: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    msg_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    msg_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    msg_class: Option<crate::sim::MsgClass>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    term: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timer: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    old: Option<&'a NodeStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new: Option<&'a NodeStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fault: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<&'a crate::sim::FaultAction>,
}

/// One event as a JSON line (no trailing newline). Also the canonical form `check` compares.
pub fn line(seq: u64, r: &Record) -> String {
    let mut l = Line {
        seq,
        time_ns: r.at.0,
        kind: r.kind(),
        node: r.node(),
        msg_id: None,
        msg_type: None,
        msg_class: None,
        from: None,
        to: None,
        term: None,
        reason: None,
        timer: None,
        old: None,
        new: None,
        fault: None,
        action: None,
    };
    match &r.event {
        Event::Send { msg } | Event::Deliver { msg } | Event::Drop { msg, .. } => {
            l.msg_id = Some(msg.id);
            l.msg_type = Some(msg.kind_name);
            l.msg_class = Some(msg.class);
            l.from = Some(msg.from);
            l.to = Some(msg.to);
            l.term = msg.term;
            if let Event::Drop { reason, .. } = &r.event {
                l.reason = Some(reason.as_str());
            }
        }
        Event::Timer { name, .. } => l.timer = Some(name),
        Event::Status { old, new, .. } => {
            l.old = Some(old);
            l.new = Some(new);
            l.term = Some(new.term);
        }
        Event::Fault { action } => {
            l.fault = Some(action.verb());
            l.action = Some(action);
            l.node = fault_node(action);
        }
        Event::Resume { .. } | Event::End => {}
    }
    serde_json::to_string(&l).expect("trace lines serialize")
}

/// The whole recording, one line per event (in memory; files are written with [`write_to`]).
pub fn render(rec: &Recording) -> String {
    let mut buf = Vec::with_capacity(rec.records.len() * 160);
    write_to(rec, &mut buf).expect("writing to memory cannot fail");
    String::from_utf8(buf).expect("trace lines are UTF-8")
}

/// Stream the recording, one line per event.
pub fn write_to(rec: &Recording, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    for (i, r) in rec.records.iter().enumerate() {
        w.write_all(line(i as u64, r).as_bytes())?;
        w.write_all(b"\n")?;
    }
    if rec.truncated() {
        writeln!(
            w,
            "{{\"seq\":{},\"kind\":\"truncated\",\"recorded\":{},\"seen\":{}}}",
            rec.records.len(),
            rec.records.len(),
            rec.seen
        )?;
    }
    Ok(())
}
