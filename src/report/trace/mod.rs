//! Trace recording and export.
//!
//! A [`Recorder`] is an [`Observer`] that keeps an owned copy of every trace event of a run
//! (up to a limit), so the run can be written afterwards in one of three formats:
//!
//! * [`jsonl`]: one JSON object per event; the stable, documented format (`docs/traces.md`).
//! * [`perfetto`]: Chrome Trace Event JSON for ui.perfetto.dev and chrome://tracing.
//! * [`shiviz`]: a vector-clock log with its parser regex, for ShiViz space-time diagrams.
//!
//! Recording happens outside the kernel: the engine only calls `observe`. The recorder is
//! shared (`Rc<RefCell<..>>`) so the caller still holds it when the engine (and the boxed
//! observer handed to it) is gone, including when the run failed.

pub mod intervals;
pub mod jsonl;
pub mod perfetto;
pub mod shiviz;

use crate::fsutil::write_atomic_with;
use crate::sim::{
    DropReason, FaultAction, MsgRef, NodeId, NodeStatus, Observer, SimTime, Target, TraceEvent,
};
use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

/// Default cap on recorded events (`--trace-limit`): about 3 million events, a few hundred
/// MB of memory at most. A 60 s five-node Raft run has about 15 thousand.
pub const DEFAULT_TRACE_LIMIT: u64 = 3_000_000;

/// An owned trace event (the kernel's [`TraceEvent`] borrows its fault action).
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A message was handed to the network.
    Send {
        /// The message.
        msg: MsgRef,
    },
    /// A message was delivered.
    Deliver {
        /// The message.
        msg: MsgRef,
    },
    /// A message was lost.
    Drop {
        /// The message.
        msg: MsgRef,
        /// Why it was lost.
        reason: DropReason,
    },
    /// A timer fired.
    Timer {
        /// The node whose timer fired.
        node: NodeId,
        /// The timer's name.
        name: &'static str,
    },
    /// A node's status changed.
    Status {
        /// The node.
        node: NodeId,
        /// Status before the change.
        old: NodeStatus,
        /// Status after the change.
        new: NodeStatus,
    },
    /// A fault was applied.
    Fault {
        /// The fault, targets resolved.
        action: FaultAction,
    },
    /// A paused node resumed.
    Resume {
        /// The node.
        node: NodeId,
    },
    /// The run ended.
    End,
}

/// One recorded event with its virtual time.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// Virtual time of the event.
    pub at: SimTime,
    /// What happened.
    pub event: Event,
}

impl Record {
    /// An owned copy of a kernel event.
    pub fn from_event(ev: &TraceEvent<'_>) -> Record {
        let event = match *ev {
            TraceEvent::Send { msg, .. } => Event::Send { msg },
            TraceEvent::Deliver { msg, .. } => Event::Deliver { msg },
            TraceEvent::Drop { msg, reason, .. } => Event::Drop { msg, reason },
            TraceEvent::Timer { node, name, .. } => Event::Timer { node, name },
            TraceEvent::Status { node, old, new, .. } => Event::Status { node, old, new },
            TraceEvent::Fault { action, .. } => Event::Fault {
                action: action.clone(),
            },
            TraceEvent::Resume { node, .. } => Event::Resume { node },
            TraceEvent::End { .. } => Event::End,
        };
        Record { at: ev.at(), event }
    }

    /// The node an event belongs to: the sender of a send, the addressee of a delivery or
    /// drop, the target of a node fault; `None` for network-wide faults and the end.
    pub fn node(&self) -> Option<NodeId> {
        match &self.event {
            Event::Send { msg } => Some(msg.from),
            Event::Deliver { msg } | Event::Drop { msg, .. } => Some(msg.to),
            Event::Timer { node, .. } | Event::Status { node, .. } | Event::Resume { node } => {
                Some(*node)
            }
            Event::Fault { action } => fault_node(action),
            Event::End => None,
        }
    }

    /// Short kind name (the `kind` field of the JSONL format).
    pub fn kind(&self) -> &'static str {
        match self.event {
            Event::Send { .. } => "send",
            Event::Deliver { .. } => "deliver",
            Event::Drop { .. } => "drop",
            Event::Timer { .. } => "timer",
            Event::Status { .. } => "status",
            Event::Fault { .. } => "fault",
            Event::Resume { .. } => "resume",
            Event::End => "end",
        }
    }
}

/// The node a fault hits, when it targets one node (targets are resolved in the trace).
pub fn fault_node(action: &FaultAction) -> Option<NodeId> {
    match action.target() {
        Some(Target::Node(n)) => Some(n),
        _ => None,
    }
}

/// A one-line human description of a fault, e.g. `crash node 2, restart after 1s`.
pub fn describe_fault(action: &FaultAction) -> String {
    let who = |t: &Target| match t {
        Target::Node(n) => format!("node {n}"),
        Target::Leader => "the leader".to_string(),
        Target::Random => "a random node".to_string(),
    };
    let heal = |h: &Option<crate::sim::SimDuration>| {
        h.map_or(String::new(), |d| format!(", heal after {d}"))
    };
    match action {
        FaultAction::Crash {
            target,
            restart_after,
        } => {
            format!(
                "crash {}{}",
                who(target),
                restart_after.map_or(String::new(), |d| format!(", restart after {d}"))
            )
        }
        FaultAction::Restart { target } => format!("restart {}", who(target)),
        FaultAction::Pause { target, duration } => format!("pause {} for {duration}", who(target)),
        FaultAction::Partition { groups, heal_after } => {
            format!("partition {groups:?}{}", heal(heal_after))
        }
        FaultAction::PartitionLeaderSide {
            size, heal_after, ..
        } => format!(
            "partition the leader's side ({size} nodes) from the rest{}",
            heal(heal_after)
        ),
        FaultAction::Cut {
            from,
            to,
            heal_after,
        } => {
            let end = |t: &Target| match t {
                Target::Node(n) => n.to_string(),
                other => who(other),
            };
            format!("cut {} -> {}{}", end(from), end(to), heal(heal_after))
        }
        FaultAction::Isolate { target, heal_after } => {
            format!("isolate {}{}", who(target), heal(heal_after))
        }
        FaultAction::Heal => "heal all links".to_string(),
        FaultAction::HealFault { fault } => {
            format!("heal network fault #{fault} (its heal_after; other faults stay)")
        }
        FaultAction::SetLoss { loss } => format!("set loss {loss}"),
        FaultAction::SetDelay { delay } => format!("set delay {delay:?}"),
        FaultAction::ClockDrift {
            target,
            drift_ppm,
            offset,
        } => {
            format!(
                "clock drift {} {drift_ppm} ppm, offset +{offset}",
                who(target)
            )
        }
    }
}

/// What a recorder kept.
#[derive(Clone, Debug, Default)]
pub struct Recording {
    /// The records kept, in event order (the first `limit` events).
    pub records: Vec<Record>,
    /// Events observed (kept or not).
    pub seen: u64,
    /// Maximum number of records kept.
    pub limit: u64,
}

impl Recording {
    /// True when events were left out because of the limit.
    pub fn truncated(&self) -> bool {
        self.seen > self.records.len() as u64
    }

    /// Number of node tracks: the highest node id seen plus one (at least `participants`).
    pub fn total_nodes(&self, participants: u32) -> u32 {
        let max = self
            .records
            .iter()
            .filter_map(|r| match &r.event {
                Event::Send { msg } | Event::Deliver { msg } | Event::Drop { msg, .. } => {
                    Some(msg.from.max(msg.to))
                }
                _ => r.node(),
            })
            .max();
        max.map_or(participants, |m| participants.max(m + 1))
    }

    /// Virtual end time (the `End` event, or the last record's time).
    pub fn end(&self) -> SimTime {
        self.records.last().map_or(SimTime::ZERO, |r| r.at)
    }
}

/// An observer whose state outlives the run (the engine takes boxed observers by value).
#[derive(Debug, Default)]
pub struct Shared<T>(pub Rc<RefCell<T>>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(Rc::clone(&self.0))
    }
}

impl<T: Observer + 'static> Shared<T> {
    /// Share `inner` between the caller and the simulation's observers.
    pub fn new(inner: T) -> Self {
        Shared(Rc::new(RefCell::new(inner)))
    }

    /// A boxed handle for `runner::run` / `Sim::with_observers`.
    pub fn observer(&self) -> Box<dyn Observer> {
        Box::new(self.clone())
    }
}

impl<T: Observer> Observer for Shared<T> {
    fn observe(&mut self, ev: &TraceEvent<'_>) {
        self.0.borrow_mut().observe(ev);
    }
}

impl Observer for Recording {
    fn observe(&mut self, ev: &TraceEvent<'_>) {
        self.seen += 1;
        if (self.records.len() as u64) < self.limit {
            self.records.push(Record::from_event(ev));
        }
    }
}

/// Records a run's events, up to `limit`.
pub type Recorder = Shared<Recording>;

impl Recorder {
    /// A recorder that keeps at most `limit` records.
    pub fn with_limit(limit: u64) -> Recorder {
        Shared::new(Recording {
            records: Vec::new(),
            seen: 0,
            limit,
        })
    }

    /// Take the recording out (leaves an empty one behind).
    pub fn take(&self) -> Recording {
        let limit = self.0.borrow().limit;
        std::mem::replace(
            &mut *self.0.borrow_mut(),
            Recording {
                records: Vec::new(),
                seen: 0,
                limit,
            },
        )
    }
}

/// Trace file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TraceFormat {
    /// One JSON object per line (documented in docs/traces.md).
    Jsonl,
    /// Chrome Trace Event JSON (ui.perfetto.dev, chrome://tracing).
    Perfetto,
    /// ShiViz log with vector clocks (first line: the parser regex).
    Shiviz,
}

impl TraceFormat {
    /// The format a file name suggests: `.json` -> perfetto, `.log`/`.shiviz` -> shiviz,
    /// anything else -> jsonl.
    pub fn from_path(path: &Path) -> TraceFormat {
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => TraceFormat::Perfetto,
            Some("log" | "shiviz") => TraceFormat::Shiviz,
            _ => TraceFormat::Jsonl,
        }
    }
}

/// What a trace says about the run it came from.
#[derive(Clone, Debug)]
pub struct TraceMeta {
    /// Scenario name.
    pub scenario: String,
    /// Algorithm name.
    pub algorithm: String,
    /// Participants (service replicas, if any, follow them).
    pub nodes: u32,
    /// The run seed.
    pub seed: u64,
}

/// Render a recording in a format.
pub fn render(format: TraceFormat, rec: &Recording, meta: &TraceMeta) -> String {
    match format {
        TraceFormat::Jsonl => jsonl::render(rec),
        TraceFormat::Perfetto => perfetto::render(rec, meta),
        TraceFormat::Shiviz => shiviz::render(rec, meta),
    }
}

/// Stream a recording to `path` in a format, atomically: the file appears whole or not at all.
pub fn write(
    path: &Path,
    format: TraceFormat,
    rec: &Recording,
    meta: &TraceMeta,
) -> std::io::Result<()> {
    write_atomic_with(path, |w| match format {
        TraceFormat::Jsonl => jsonl::write_to(rec, w),
        TraceFormat::Perfetto => perfetto::write_to(rec, meta, w),
        TraceFormat::Shiviz => shiviz::write_to(rec, meta, w),
    })
}

/// Node label used by every exporter: participants are `node i`, replicas `service i`.
pub fn node_label(node: NodeId, participants: u32) -> String {
    if node < participants {
        format!("node {node}")
    } else {
        format!("service {node}")
    }
}
