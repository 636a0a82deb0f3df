//! ShiViz log: line 1 is the parser regex, line 2 is blank (no multi-execution delimiter),
//! then one line per logged event:
//!
//! ```text
//! node1 {"node0":2,"node1":3} t=1500000ns recv RequestVote(term 2) from node0
//! ```
//!
//! Hosts are `node<i>` plus `net` for network-wide faults (partition, cut, heal, loss and
//! delay changes). Logged events: sends, deliveries (`recv`), timers, status changes, node
//! faults and resumes. Drops are not logged (the send line stands for the lost message).
//!
//! Vector clocks follow ShiViz's rules: a host ticks its own entry by exactly 1 per logged
//! event (starting at 1), a send carries the sender's clock, a delivery merges it
//! (element-wise max) before ticking, and zero entries are left out.

use super::{Event, Recording, TraceMeta, describe_fault, fault_node};
use crate::sim::NodeId;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The parser regex (ShiViz's JavaScript syntax), written on line 1 of the log.
pub const REGEX: &str = r"(?<host>\S+) (?<clock>\{.*\}) t=(?<timestamp>\d+)ns (?<event>.*)";

fn host(h: usize, nodes_total: usize) -> String {
    if h == nodes_total {
        "net".to_string()
    } else {
        format!("node{h}")
    }
}

/// Render the recording as a ShiViz log (in memory; files are written with [`write_to`]).
pub fn render(rec: &Recording, meta: &TraceMeta) -> String {
    let mut buf = Vec::new();
    write_to(rec, meta, &mut buf).expect("writing to memory cannot fail");
    String::from_utf8(buf).expect("the log is UTF-8")
}

/// Stream the recording as a ShiViz log, a few tens of KB at a time.
pub fn write_to(
    rec: &Recording,
    meta: &TraceMeta,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let total = rec.total_nodes(meta.nodes) as usize;
    let hosts = total + 1; // + "net"
    let mut clocks: Vec<Vec<u64>> = vec![vec![0; hosts]; hosts];
    let mut sent: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    let mut s = String::with_capacity(1 << 16);
    s.push_str(REGEX);
    s.push_str("\n\n");
    let log =
        |s: &mut String, clocks: &mut Vec<Vec<u64>>, h: usize, at: u64, text: String| -> Vec<u64> {
            clocks[h][h] += 1;
            let c = &clocks[h];
            let _ = write!(s, "{} {{", host(h, total));
            let mut first = true;
            for (i, v) in c.iter().enumerate() {
                if *v > 0 {
                    let _ = write!(
                        s,
                        "{}\"{}\":{v}",
                        if first { "" } else { "," },
                        host(i, total)
                    );
                    first = false;
                }
            }
            let _ = writeln!(s, "}} t={at}ns {text}");
            c.clone()
        };
    let term = |t: Option<u64>| t.map_or(String::new(), |t| format!("(term {t})"));
    for r in &rec.records {
        if s.len() >= 1 << 15 {
            w.write_all(s.as_bytes())?;
            s.clear();
        }
        let at = r.at.0;
        match &r.event {
            Event::Send { msg } => {
                let c = log(
                    &mut s,
                    &mut clocks,
                    msg.from as usize,
                    at,
                    format!("send {}{} to node{}", msg.kind_name, term(msg.term), msg.to),
                );
                sent.insert(msg.id, c);
            }
            Event::Deliver { msg } => {
                let h = msg.to as usize;
                if let Some(c) = sent.get(&msg.id) {
                    for (mine, theirs) in clocks[h].iter_mut().zip(c) {
                        *mine = (*mine).max(*theirs);
                    }
                }
                log(
                    &mut s,
                    &mut clocks,
                    h,
                    at,
                    format!(
                        "recv {}{} from node{}",
                        msg.kind_name,
                        term(msg.term),
                        msg.from
                    ),
                );
            }
            Event::Drop { .. } | Event::End => {}
            Event::Timer { node, name } => {
                log(
                    &mut s,
                    &mut clocks,
                    *node as usize,
                    at,
                    format!("timer {name}"),
                );
            }
            Event::Status { node, old, new } => {
                let leader = new
                    .leader
                    .map_or("none".to_string(), |l: NodeId| format!("node{l}"));
                log(
                    &mut s,
                    &mut clocks,
                    *node as usize,
                    at,
                    format!(
                        "status {} -> {} term {} leader {leader}",
                        old.role.as_str(),
                        new.role.as_str(),
                        new.term
                    ),
                );
            }
            Event::Fault { action } => {
                let h = fault_node(action).map_or(total, |n| n as usize);
                log(
                    &mut s,
                    &mut clocks,
                    h,
                    at,
                    format!("fault {}", describe_fault(action)),
                );
            }
            Event::Resume { node } => {
                log(
                    &mut s,
                    &mut clocks,
                    *node as usize,
                    at,
                    "resume".to_string(),
                );
            }
        }
    }
    w.write_all(s.as_bytes())
}
