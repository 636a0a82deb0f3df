//! tikv/raft-rs (crate `raft` 0.7, the Rust port of etcd-io/raft) run unmodified on
//! electsim's network: one `RawNode<MemStorage>` per node. See docs/production-raft.md.
//!
//! - **Ticks** are a timer on the node's local clock (`tick`), so drift and pauses act on
//!   them as on a real node.
//! - **Ready loop**, raft-rs's documented order, after every tick and step: send
//!   `messages`; append `entries` and set `hs` in the node's `MemStorage` and write both to
//!   electsim's durable storage (one `Persist` per Ready); send `persisted_messages`;
//!   `advance`; send the light Ready's messages; `advance_apply` (nothing is applied: the
//!   only entries are leaders' empty ones). electsim holds every message of a handler that
//!   writes until the write completes, so with a nonzero `[storage] write` a leader's
//!   `messages` leave with the persisted ones (a stated difference).
//! - **Crash** drops the `RawNode`; restart rebuilds it from the durable log and HardState.
//! - **Determinism.** raft-rs redraws its randomized election timeout from
//!   `rand::thread_rng()` on every reset (becoming follower, pre-candidate, candidate or
//!   leader). After every call into raft-rs that may have reset, electsim overwrites the
//!   draw (`set_randomized_election_timeout`) with one from the node's seeded stream, so the
//!   thread RNG never decides anything (tests/production_raft.rs checks it).
//! - raft ids are electsim node ids + 1 (raft-rs reserves 0 for "none").

mod config;
mod msg;

pub use config::{PARAMS, RaftRsConfig, RawRaftRs};
pub use msg::RaftRsMsg;

use crate::sim::rng::{SimRng, Stream};
use crate::sim::{Ctx, Delay, NodeId, NodeStatus, Out, Protocol, Role, TimerKey};
use raft::eraftpb::{ConfState, Entry, HardState, Message};
use raft::storage::MemStorage;
use raft::{GetEntriesContext, RawNode, StateRole, Storage};
use std::fmt;

/// The node's only timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RaftRsTimer {
    /// The next `RawNode::tick`.
    Tick,
}

impl TimerKey for RaftRsTimer {
    fn name(&self) -> &'static str {
        "tick"
    }
}

/// What survives a crash: raft-rs's HardState and log, as last written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RaftRsDurable {
    /// Term, vote and commit index.
    pub hard_state: HardState,
    /// The log from index 1 (never compacted: the only entries are leaders' empty ones).
    pub entries: Vec<Entry>,
}

/// One raft-rs node.
pub struct RaftRs {
    node: RawNode<MemStorage>,
    /// The node's own draws of the randomized election timeout (forked from its seeded
    /// stream at boot).
    rng: SimRng,
    /// The randomized election timeout electsim last set, in ticks.
    timeout: usize,
}

/// What a call into raft-rs is compared against to tell whether it reset the node (and so
/// drew a timeout from the thread RNG).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Before {
    state: StateRole,
    term: u64,
}

impl RaftRs {
    /// The randomized election timeout in force, in ticks (for tests).
    pub fn randomized_election_timeout(&self) -> usize {
        self.node.raft.randomized_election_timeout()
    }

    /// The raft-rs node (for tests and the bench).
    pub fn raw_node(&self) -> &RawNode<MemStorage> {
        &self.node
    }

    fn before(&self) -> Before {
        Before {
            state: self.node.raft.state,
            term: self.node.raft.term,
        }
    }

    /// Replace raft-rs's thread-RNG draw with one from the node's stream when the last call
    /// reset the node: its role or term changed (every `become_*` but a pre-candidate's
    /// restart does), `campaigned` (a tick reached the timeout: `become_pre_candidate` again
    /// changes neither), or the timeout no longer is the one electsim set.
    fn own_timeout(&mut self, c: &RaftRsConfig, before: Before, campaigned: bool) {
        let reset = before != self.before()
            || campaigned
            || self.node.raft.randomized_election_timeout() != self.timeout;
        if reset {
            self.draw_timeout(c);
        }
    }

    fn draw_timeout(&mut self, c: &RaftRsConfig) {
        let (min, max) = (c.effective_min() as u64, c.effective_max() as u64);
        let t = self.rng.range_inclusive(min, max - 1) as usize;
        self.node.raft.set_randomized_election_timeout(t);
        self.timeout = t;
    }

    /// Run raft-rs's Ready loop until it has nothing ready.
    fn drain_ready(&mut self, out: &mut Out<Self>) {
        while self.node.has_ready() {
            let mut rd = self.node.ready();
            send(rd.take_messages(), out);
            let mut wrote = false;
            if !rd.snapshot().is_empty() {
                let snap = rd.snapshot().clone();
                self.node
                    .mut_store()
                    .wl()
                    .apply_snapshot(snap)
                    .expect("snapshot applies");
                wrote = true;
            }
            if !rd.entries().is_empty() {
                self.node
                    .mut_store()
                    .wl()
                    .append(rd.entries())
                    .expect("log is contiguous");
                wrote = true;
            }
            if let Some(hs) = rd.hs() {
                self.node.mut_store().wl().set_hardstate(hs.clone());
                wrote = true;
            }
            if wrote {
                out.persist(self.durable());
            }
            send(rd.take_persisted_messages(), out);
            let mut light = self.node.advance(rd);
            if let Some(commit) = light.commit_index() {
                self.node.mut_store().wl().mut_hard_state().commit = commit;
            }
            send(light.take_messages(), out);
            self.node.advance_apply();
        }
    }

    fn durable(&self) -> RaftRsDurable {
        let store = self.node.store();
        let last = store.last_index().expect("memory storage");
        let entries = if last == 0 {
            Vec::new()
        } else {
            store
                .entries(1, last + 1, None, GetEntriesContext::empty(false))
                .expect("log from index 1")
        };
        RaftRsDurable {
            hard_state: store.rl().hard_state().clone(),
            entries,
        }
    }
}

/// Hand raft-rs's outgoing messages to electsim (raft id `to` is node `to - 1`).
fn send(msgs: Vec<Message>, out: &mut Out<RaftRs>) {
    for m in msgs {
        let to = (m.to - 1) as NodeId;
        out.send(to, RaftRsMsg(m));
    }
}

/// A MemStorage for `nodes` voters holding `durable`.
fn storage(nodes: u32, durable: Option<&RaftRsDurable>) -> MemStorage {
    let voters: Vec<u64> = (1..=u64::from(nodes)).collect();
    let store = MemStorage::new_with_conf_state(ConfState::from((voters, vec![])));
    if let Some(d) = durable {
        let mut w = store.wl();
        w.append(&d.entries).expect("durable log is contiguous");
        w.set_hardstate(d.hard_state.clone());
    }
    store
}

type RCtx<'a> = Ctx<'a, RaftRsConfig>;

impl Protocol for RaftRs {
    type Msg = RaftRsMsg;
    type Timer = RaftRsTimer;
    type Durable = RaftRsDurable;
    type Config = RaftRsConfig;

    /// Without the engine's stream (handler unit tests): a fixed stream per node.
    fn boot(ctx: &RCtx<'_>, durable: Option<&RaftRsDurable>, out: &mut Out<Self>) -> Self {
        let mut rng = SimRng::new(0, Stream::Node(ctx.id));
        Self::boot_seeded(ctx, durable, out, &mut rng)
    }

    fn boot_seeded(
        ctx: &RCtx<'_>,
        durable: Option<&RaftRsDurable>,
        out: &mut Out<Self>,
        rng: &mut SimRng,
    ) -> Self {
        let c = ctx.config;
        let logger = slog::Logger::root(slog::Discard, slog::o!());
        let node = RawNode::new(
            &c.raft_config(u64::from(ctx.id) + 1),
            storage(ctx.nodes, durable),
            &logger,
        )
        .expect("the configuration passed Config::validate");
        let mut me = RaftRs {
            node,
            rng: SimRng::new(rng.next_u64(), Stream::Node(ctx.id)),
            timeout: 0,
        };
        me.draw_timeout(c);
        out.set_timer(RaftRsTimer::Tick, Delay::Fixed(c.tick));
        me
    }

    fn on_message(&mut self, ctx: &RCtx<'_>, _from: NodeId, msg: RaftRsMsg, out: &mut Out<Self>) {
        let before = self.before();
        // A step error is raft-rs refusing the message (e.g. from an unknown peer): it
        // changes nothing, as on a real node that logs it.
        let _ = self.node.step(msg.0);
        self.own_timeout(ctx.config, before, false);
        self.drain_ready(out);
    }

    fn on_timer(&mut self, ctx: &RCtx<'_>, _timer: RaftRsTimer, out: &mut Out<Self>) {
        let before = self.before();
        let r = &self.node.raft;
        let campaigned = r.state != StateRole::Leader
            && r.election_elapsed + 1 >= r.randomized_election_timeout();
        self.node.tick();
        self.own_timeout(ctx.config, before, campaigned);
        self.drain_ready(out);
        out.set_timer(RaftRsTimer::Tick, Delay::Fixed(ctx.config.tick));
    }

    fn status(&self) -> NodeStatus {
        let r = &self.node.raft;
        let node = |raft_id: u64| (raft_id != raft::INVALID_ID).then(|| (raft_id - 1) as NodeId);
        NodeStatus {
            role: match r.state {
                StateRole::Follower => Role::Follower,
                StateRole::PreCandidate => Role::PreCandidate,
                StateRole::Candidate => Role::Candidate,
                StateRole::Leader => Role::Leader,
            },
            term: r.term,
            leader: node(r.leader_id),
            voted_for: node(r.vote),
        }
    }

    fn claims_election_safety(_config: &RaftRsConfig) -> bool {
        true
    }
}

impl fmt::Debug for RaftRs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.node.raft;
        f.debug_struct("RaftRs")
            .field("id", &r.id)
            .field("state", &r.state)
            .field("term", &r.term)
            .field("vote", &r.vote)
            .field("leader_id", &r.leader_id)
            .field("randomized_election_timeout", &self.timeout)
            .finish()
    }
}
