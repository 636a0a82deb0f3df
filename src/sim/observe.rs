//! The trace-event stream. The engine emits one [`TraceEvent`] per thing that happens;
//! metrics, invariants, the trace digest and trace exporters are all observers of it.

use super::faults::FaultAction;
use super::protocol::{MsgClass, NodeId, NodeStatus};
use super::time::SimTime;

/// Why a message was not delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// Random loss on the link.
    Loss,
    /// The link was down (partition, cut, isolation) at send or delivery time.
    LinkDown,
    /// The receiver was crashed at delivery time.
    ReceiverDown,
}

impl DropReason {
    /// Snake-case name used in traces and exports.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Loss => "loss",
            DropReason::LinkDown => "link_down",
            DropReason::ReceiverDown => "receiver_down",
        }
    }
}

/// Identity of a message in the trace (shared by its send, deliveries and drops).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MsgRef {
    /// Sequence number of the send; duplicates share it.
    pub id: u64,
    /// Sender.
    pub from: NodeId,
    /// Receiver.
    pub to: NodeId,
    /// Index into the protocol's `Message::KINDS`.
    pub kind: usize,
    /// `Message::KINDS[kind]`, for traces.
    pub kind_name: &'static str,
    /// Traffic class, for overhead accounting.
    pub class: MsgClass,
    /// Term or epoch the message carries, if any.
    pub term: Option<u64>,
    /// The message refuses what it answers ([`super::protocol::Message::refused`]). Not part
    /// of the digest: it adds nothing to what identifies a run.
    pub refused: bool,
}

/// One event of a run.
#[derive(Clone, Copy, Debug)]
pub enum TraceEvent<'a> {
    /// A node handed a message to the network (once per receiver of a broadcast).
    Send {
        /// Virtual time of the event.
        at: SimTime,
        /// The message.
        msg: MsgRef,
    },
    /// A message reached its receiver, which handled it.
    Deliver {
        /// Virtual time of the event.
        at: SimTime,
        /// The message.
        msg: MsgRef,
    },
    /// A message was lost.
    Drop {
        /// Virtual time of the event.
        at: SimTime,
        /// The message.
        msg: MsgRef,
        /// Why it was lost.
        reason: DropReason,
    },
    /// A timer fired and its handler ran.
    Timer {
        /// Virtual time of the event.
        at: SimTime,
        /// The node whose timer fired.
        node: NodeId,
        /// The timer's name ([`super::protocol::TimerKey::name`]).
        name: &'static str,
    },
    /// A node's status changed (includes crash -> `Down` and restart).
    Status {
        /// Virtual time of the event.
        at: SimTime,
        /// The node.
        node: NodeId,
        /// Status before the change.
        old: NodeStatus,
        /// Status after the change.
        new: NodeStatus,
    },
    /// A fault was applied; node targets are resolved to concrete ids. A pause's end is
    /// reported as `Resume`.
    Fault {
        /// Virtual time of the event.
        at: SimTime,
        /// The fault, targets resolved.
        action: &'a FaultAction,
    },
    /// A paused node resumed handling events.
    Resume {
        /// Virtual time of the event.
        at: SimTime,
        /// The node that resumed.
        node: NodeId,
    },
    /// The run ended at `at` (virtual end time).
    End {
        /// The virtual end time of the run.
        at: SimTime,
    },
}

impl TraceEvent<'_> {
    /// Virtual time of the event, whatever its variant.
    pub fn at(&self) -> SimTime {
        match *self {
            TraceEvent::Send { at, .. }
            | TraceEvent::Deliver { at, .. }
            | TraceEvent::Drop { at, .. }
            | TraceEvent::Timer { at, .. }
            | TraceEvent::Status { at, .. }
            | TraceEvent::Fault { at, .. }
            | TraceEvent::Resume { at, .. }
            | TraceEvent::End { at } => at,
        }
    }
}

/// Something that watches a run.
pub trait Observer {
    /// Called for every event, in the order the engine processes them.
    fn observe(&mut self, event: &TraceEvent<'_>);
}

/// A stable 64-bit hash of the canonical event stream. Two runs with equal digests
/// saw the same events in the same order at the same times.
#[derive(Clone, Debug)]
pub struct Digest {
    state: u64,
    events: u64,
}

impl Default for Digest {
    fn default() -> Self {
        Digest {
            state: 0xcbf2_9ce4_8422_2325,
            events: 0,
        }
    }
}

impl Digest {
    /// Mix one 64-bit word (multiply-rotate, as in FxHash, on top of an FNV-style start):
    /// one multiply per word instead of one per byte keeps the digest off the profile.
    #[inline(always)]
    fn word(&mut self, v: u64) {
        self.state = (self.state.rotate_left(23) ^ v).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn status(&mut self, s: &NodeStatus) {
        self.word(s.role as u64);
        self.word(s.term);
        self.word(s.leader.map_or(u64::MAX, u64::from));
        self.word(s.voted_for.map_or(u64::MAX, u64::from));
    }

    fn msg(&mut self, m: &MsgRef) {
        self.word(m.id);
        self.word(u64::from(m.from) << 32 | u64::from(m.to));
        self.word(m.kind as u64);
        self.word(m.term.unwrap_or(u64::MAX));
    }

    /// Hex rendering, 16 digits.
    pub fn hex(&self) -> String {
        format!("{:016x}", self.state)
    }

    /// Events hashed so far.
    pub fn events(&self) -> u64 {
        self.events
    }
}

impl Observer for Digest {
    /// Inlined so the engine's calls with a known event kind compile to that kind's arm.
    #[inline(always)]
    fn observe(&mut self, ev: &TraceEvent<'_>) {
        self.events += 1;
        self.word(ev.at().0);
        match ev {
            TraceEvent::Send { msg, .. } => {
                self.word(1);
                self.msg(msg);
            }
            // A message's content was hashed at its send; its id identifies it afterwards.
            TraceEvent::Deliver { msg, .. } => {
                self.word(2);
                self.word(msg.id);
            }
            TraceEvent::Drop { msg, reason, .. } => {
                self.word(3);
                self.word(msg.id);
                self.word(*reason as u64);
            }
            TraceEvent::Timer { node, name, .. } => {
                self.word(4);
                self.word(u64::from(*node));
                for b in name.bytes() {
                    self.word(u64::from(b));
                }
            }
            TraceEvent::Status { node, old, new, .. } => {
                self.word(5);
                self.word(u64::from(*node));
                self.status(old);
                self.status(new);
            }
            TraceEvent::Fault { action, .. } => {
                self.word(6);
                // Debug formatting of plain data is stable within a build of this crate.
                for b in format!("{action:?}").bytes() {
                    self.word(u64::from(b));
                }
            }
            TraceEvent::Resume { node, .. } => {
                self.word(7);
                self.word(u64::from(*node));
            }
            TraceEvent::End { .. } => self.word(8),
        }
    }
}
