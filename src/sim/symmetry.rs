//! Renaming nodes: the hook exhaustive checking uses to treat states that differ only by
//! which node is which as one state (symmetry reduction in [`crate::verify`]).
//!
//! An algorithm is symmetric when its behaviour never depends on the value of an id, only
//! on which ids are equal: no "lowest id wins", no node 0 with a special part, no per-node
//! configuration. Renaming every id inside a reachable state then gives a reachable state,
//! and the same properties hold in both. An algorithm opts in by implementing
//! [`Symmetric`]; the renaming must reach every field that stores an id (votes, leaders,
//! per-peer vectors, ids inside messages and timer keys), or the reduction is unsound.

use super::protocol::{NodeId, Protocol};

/// An algorithm whose participants can be renamed (see the module docs).
///
/// `map` sends old id `i` to new id `map[i]`; it is a permutation of `0..map.len()` that
/// moves participants among themselves and leaves service replicas where they are.
pub trait Symmetric: Protocol {
    /// Under `config`, participants of equal colour (one entry per participant) are
    /// interchangeable; `Err` says why no renaming is sound for this configuration.
    fn interchangeable(config: &Self::Config, nodes: u32) -> Result<Vec<u32>, String>;
    /// Rename every node id the state holds, including its own.
    fn rename(&mut self, map: &[NodeId]);
    /// Rename the node ids inside a message payload (sender and receiver are not part of it).
    fn rename_msg(msg: &mut Self::Msg, map: &[NodeId]);
    /// Rename the node ids inside a timer key.
    fn rename_timer(timer: &mut Self::Timer, map: &[NodeId]);
    /// Rename the node ids inside durable state.
    fn rename_durable(durable: &mut Self::Durable, map: &[NodeId]);
}

/// A per-node vector (indexed by id) after renaming: entry `i` moves to `map[i]`. The
/// vector must be empty or cover a prefix of ids that `map` keeps among themselves (the
/// participants), as per-peer vectors do.
pub fn rename_indexed<T: Clone>(v: &[T], map: &[NodeId]) -> Vec<T> {
    let mut out = v.to_vec();
    for (i, x) in v.iter().enumerate() {
        out[map[i] as usize] = x.clone();
    }
    out
}
