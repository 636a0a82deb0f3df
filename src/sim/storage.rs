//! The node resource model: how long a durable write and a handler's CPU work take, and
//! whether a node can do anything else meanwhile.
//!
//! A handler's messages leave after its CPU time and then after each of its writes, one after
//! the other (a write is one `Persist` effect). Under [`WriteMode::Overlapped`] the node keeps
//! handling events while it writes (an asynchronous write path: only the messages wait);
//! under [`WriteMode::Blocking`] it handles nothing until the writes are done (LogCabin holds
//! one mutex across its metadata fsyncs), so arriving messages and expiring timers queue, in
//! arrival order. CPU time always blocks: a busy node queues.
//!
//! Latencies are drawn from streams the node owns (`Stream::Disk(id)`, `Stream::Cpu(id)`),
//! so changing another node's storage, the network, or a protocol's timers does not shift
//! them, and a constant law draws nothing at all.

use super::network::DelayDist;
use super::protocol::NodeId;
use super::time::SimDuration;
use std::collections::BTreeMap;

/// Whether a node handles events while its writes are in progress.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WriteMode {
    /// Writes delay the messages of the handler that wrote; the node keeps working.
    #[default]
    Overlapped,
    /// The node handles nothing until its writes complete; events queue.
    Blocking,
}

/// Storage and CPU costs for every node, with per-node write-latency overrides.
#[derive(Clone, Debug, PartialEq)]
pub struct Resources {
    /// Latency of one durable write (default: constant 0, i.e. free).
    pub write: DelayDist,
    /// Write latency of particular nodes (node id -> law).
    pub write_by_node: BTreeMap<NodeId, DelayDist>,
    /// Whether a node keeps handling events while its writes are in progress.
    pub mode: WriteMode,
    /// CPU time of one handler invocation (default: constant 0).
    pub cpu: DelayDist,
}

impl Default for Resources {
    fn default() -> Self {
        Resources {
            write: DelayDist::Constant(SimDuration::ZERO),
            write_by_node: BTreeMap::new(),
            mode: WriteMode::Overlapped,
            cpu: DelayDist::Constant(SimDuration::ZERO),
        }
    }
}

impl Resources {
    /// The write-latency law of `node`.
    pub fn write_law(&self, node: NodeId) -> &DelayDist {
        if self.write_by_node.is_empty() {
            return &self.write;
        }
        self.write_by_node.get(&node).unwrap_or(&self.write)
    }

    /// True when no handler costs CPU time (the common fast path: nothing to draw).
    pub fn cpu_free(&self) -> bool {
        self.cpu == DelayDist::Constant(SimDuration::ZERO)
    }

    /// True when no handler costs CPU time and every write is instant (the default): then
    /// handlers hold no messages and never make a node busy, and nothing is drawn.
    pub fn is_free(&self) -> bool {
        let zero = DelayDist::Constant(SimDuration::ZERO);
        self.cpu_free() && self.write == zero && self.write_by_node.values().all(|law| *law == zero)
    }
}
