//! The checker's state and its transitions.
//!
//! A [`World`] is every node's protocol state, the messages in flight, the pending timers,
//! the links that are cut, what is left of the fault budget, a logical clock and the
//! history the safety properties need. A transition ([`Action`]) delivers one message,
//! fires one timer or injects one fault. Handlers are the protocols' own `boot`,
//! `on_message` and `on_timer`, called with the same [`Ctx`] the engine builds; their
//! effects are applied as the engine applies them (see [`World::apply_effects`]).
//!
//! **Time.** The model is untimed: any pending timer may fire next, and a message may be
//! delivered at any moment. Protocols still read `ctx.now` (leases, check-quorum, session
//! deadlines), so the world carries a logical clock: a timer is armed for
//! `now + delay.earliest()` (no random draw), and firing it moves the clock to
//! `max(now, deadline)`. Deliveries and faults take no time. Clocks are perfect (no drift).

use super::properties::History;
use crate::sim::{Ctx, Effect, NodeId, NodeStatus, Out, Protocol, SimTime};
use std::hash::Hash;

/// A protocol the checker can explore: its state, messages, timers and durable state can
/// be cloned, compared and hashed (timers are also ordered, for a canonical state).
pub trait Checkable:
    Protocol<Msg: Hash + Eq, Timer: Hash + Ord, Durable: Hash + Eq> + Clone + Hash + Eq
{
}

impl<P> Checkable for P where
    P: Protocol<Msg: Hash + Eq, Timer: Hash + Ord, Durable: Hash + Eq> + Clone + Hash + Eq
{
}

/// Most nodes (participants plus service replicas) a world can hold: links are a bit set.
pub const MAX_TOTAL_NODES: u32 = 8;

/// What is left of the fault budget: how many of each fault may still be injected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Budget {
    /// Crash a live node (its durable state survives).
    pub crash: u32,
    /// Restart a crashed node from its durable state.
    pub restart: u32,
    /// Isolate one node from every other (both directions); `heal` undoes it for free.
    pub partition: u32,
    /// Cut one directed link; `heal` undoes it for free.
    pub cut: u32,
    /// Lose one message in flight.
    pub drop: u32,
    /// Duplicate one message in flight.
    pub duplicate: u32,
}

impl Budget {
    /// Parse `crash=1,partition=1,...` (missing kinds are 0).
    pub fn parse(text: &str) -> Result<Budget, String> {
        let mut b = Budget::default();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (k, v) = item.split_once('=').ok_or_else(|| {
                format!("`{item}`: expected KIND=COUNT, e.g. --faults crash=1,restart=1")
            })?;
            let n: u32 = v
                .trim()
                .parse()
                .map_err(|_| format!("`{item}`: COUNT must be a whole number"))?;
            let slot = match k.trim() {
                "crash" => &mut b.crash,
                "restart" => &mut b.restart,
                "partition" => &mut b.partition,
                "cut" => &mut b.cut,
                "drop" => &mut b.drop,
                "duplicate" => &mut b.duplicate,
                other => {
                    return Err(format!(
                        "unknown fault kind `{other}`; use crash, restart, partition, cut, drop or duplicate"
                    ));
                }
            };
            *slot = n;
        }
        Ok(b)
    }

    /// `crash=1,restart=1` (kinds with a zero count left out; `none` when empty).
    pub fn describe(&self) -> String {
        let kinds = [
            ("crash", self.crash),
            ("restart", self.restart),
            ("partition", self.partition),
            ("cut", self.cut),
            ("drop", self.drop),
            ("duplicate", self.duplicate),
        ];
        let parts: Vec<String> = kinds
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| format!("{k}={n}"))
            .collect();
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(",")
        }
    }

    /// Whether any fault can still be injected.
    pub fn any(&self) -> bool {
        *self != Budget::default()
    }
}

/// A message in flight.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct InFlight<M> {
    /// Sender.
    pub from: NodeId,
    /// Recipient.
    pub to: NodeId,
    /// The message itself.
    pub msg: M,
}

/// One node: its protocol state (None while crashed), durable state and pending timers
/// (sorted by key, with their deadlines on the logical clock).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Slot<P: Checkable> {
    /// The protocol state; `None` while the node is crashed.
    pub state: Option<P>,
    /// What the node last persisted (`Effect::Persist`); survives a crash and is handed
    /// to `boot` on restart. `None` until the first write.
    pub durable: Option<P::Durable>,
    /// Pending timers, sorted by key, each with its deadline on the logical clock
    /// (armed at `now + delay.earliest()`). Cleared by a crash.
    pub timers: Vec<(P::Timer, SimTime)>,
}

/// The fixed part of a model: cluster shape, protocol config and search semantics.
#[derive(Clone, Debug)]
pub struct Model<P: Checkable> {
    /// Participants (`0..nodes`).
    pub nodes: u32,
    /// Service replicas (`nodes..nodes + service`).
    pub service: u32,
    /// The protocol configuration every handler sees through [`Ctx`].
    pub config: P::Config,
    /// Deliver messages of one link in send order only.
    pub fifo: bool,
    /// Fire timers one at a time in (deadline, node id, key) order (default: any pending
    /// timer may fire next). Ties go to the lower id: with zero-time messages a client's
    /// deadline (armed when its request left) ties with the service's (armed when it
    /// arrived), and participants have lower ids than service replicas.
    pub timer_order: bool,
    /// Synchronous rounds: no timer fires while a message is in flight (every message is
    /// delivered or lost first), the bounded-delay assumption of Bully and Ring.
    pub sync: bool,
    /// Which histories to keep (only what the selected properties read).
    pub track: super::properties::Track,
    /// Deduplicate worlds up to a renaming of interchangeable nodes (`None`: exact worlds).
    pub symmetry: Option<super::symmetry::Symmetry<P>>,
}

impl<P: Checkable> Model<P> {
    /// Participants plus service replicas.
    pub fn total(&self) -> u32 {
        self.nodes + self.service
    }

    /// The seen-set key of `w` and how many distinct worlds it stands for: its fingerprint
    /// and 1, or with symmetry its orbit's key and size.
    pub fn key(&self, w: &World<P>) -> (u64, u64) {
        match &self.symmetry {
            Some(s) => s.key(self, w),
            None => (super::search::fingerprint(w), 1),
        }
    }
}

/// One transition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action<M, T> {
    /// Deliver a message (to a crashed node or over a cut link it is lost, as in the engine).
    Deliver {
        /// Sender.
        from: NodeId,
        /// Recipient.
        to: NodeId,
        /// The message, removed from flight.
        msg: M,
    },
    /// Fire a pending timer.
    Fire {
        /// The node whose timer fires.
        node: NodeId,
        /// Which of its pending timers (the clock advances to its deadline if later).
        timer: T,
    },
    /// Lose a message in flight (fault budget `drop`).
    Drop {
        /// Sender.
        from: NodeId,
        /// Recipient.
        to: NodeId,
        /// The message lost.
        msg: M,
    },
    /// Duplicate a message in flight (fault budget `duplicate`).
    Duplicate {
        /// Sender.
        from: NodeId,
        /// Recipient.
        to: NodeId,
        /// The message copied (both copies stay in flight).
        msg: M,
    },
    /// Crash a live node: its state and timers are lost, its durable state kept (fault
    /// budget `crash`).
    Crash {
        /// The node that crashes.
        node: NodeId,
    },
    /// Boot a crashed node again from its durable state (fault budget `restart`).
    Restart {
        /// The node that restarts.
        node: NodeId,
    },
    /// Cut every link of one node, both ways (fault budget `partition`).
    Isolate {
        /// The node cut off.
        node: NodeId,
    },
    /// Cut the directed link `from -> to` (fault budget `cut`).
    Cut {
        /// Sender side of the cut link.
        from: NodeId,
        /// Receiver side of the cut link.
        to: NodeId,
    },
    /// Undo every network fault.
    Heal,
}

impl<M, T> Action<M, T> {
    /// Whether this transition is a fault (the liveness check runs without them; `heal`
    /// counts as the end of faults, not as one).
    pub fn is_fault(&self) -> bool {
        !matches!(
            self,
            Action::Deliver { .. } | Action::Fire { .. } | Action::Heal
        )
    }
}

/// A status change a transition caused, for the history properties.
#[derive(Clone, Copy, Debug)]
pub struct Change {
    /// The node whose status changed.
    pub node: NodeId,
    /// Its status before the transition.
    pub old: NodeStatus,
    /// Its status after (`NodeStatus::DOWN` on a crash).
    pub new: NodeStatus,
}

/// The state of the whole system.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct World<P: Checkable> {
    /// The logical clock (see the module docs).
    pub now: SimTime,
    /// Per-node slots, indexed by node id (participants, then service replicas).
    pub nodes: Vec<Slot<P>>,
    /// Messages in flight: sorted by (from, to, fingerprint) as a multiset, or by link in
    /// send order under FIFO.
    pub msgs: Vec<InFlight<P::Msg>>,
    /// Cut directed links: bit `from * MAX_TOTAL_NODES + to`.
    pub blocked: u64,
    /// What is left of the fault budget.
    pub budget: Budget,
    /// The histories the selected properties read (see [`Track`](super::properties::Track)).
    pub history: History,
}

fn link_bit(from: NodeId, to: NodeId) -> u64 {
    1u64 << (from * MAX_TOTAL_NODES + to)
}

impl<P: Checkable> World<P> {
    /// Boot every node at time zero in id order, as the engine does.
    pub fn initial(m: &Model<P>, budget: Budget) -> (World<P>, Vec<Change>) {
        let total = m.total();
        let mut w = World {
            now: SimTime::ZERO,
            nodes: (0..total)
                .map(|_| Slot {
                    state: None,
                    durable: None,
                    timers: Vec::new(),
                })
                .collect(),
            msgs: Vec::new(),
            blocked: 0,
            budget,
            history: History::new(m.nodes, m.track),
        };
        let mut changes = Vec::new();
        for id in 0..total {
            w.boot(m, id, &mut changes);
        }
        w.canonicalize(m);
        (w, changes)
    }

    fn ctx<'a>(&self, m: &'a Model<P>, id: NodeId) -> Ctx<'a, P::Config> {
        Ctx {
            id,
            nodes: m.nodes,
            service: m.service,
            now: self.now,
            config: &m.config,
        }
    }

    fn status(&self, id: NodeId) -> NodeStatus {
        self.nodes[id as usize]
            .state
            .as_ref()
            .map_or(NodeStatus::DOWN, P::status)
    }

    /// Cut the directed link `from -> to`.
    pub(crate) fn cut_link(&mut self, from: NodeId, to: NodeId) {
        self.blocked |= link_bit(from, to);
    }

    /// Whether the directed link is up.
    pub fn link_up(&self, from: NodeId, to: NodeId) -> bool {
        self.blocked & link_bit(from, to) == 0
    }

    /// Every node's status (participants first, then service replicas).
    pub fn statuses(&self) -> Vec<NodeStatus> {
        (0..self.nodes.len() as NodeId)
            .map(|i| self.status(i))
            .collect()
    }

    fn boot(&mut self, m: &Model<P>, id: NodeId, changes: &mut Vec<Change>) {
        let old = self.status(id);
        let ctx = self.ctx(m, id);
        let mut out = Out::default();
        let state = P::boot(&ctx, self.nodes[id as usize].durable.as_ref(), &mut out);
        self.nodes[id as usize].state = Some(state);
        self.after_handler(m, id, old, out, changes);
    }

    /// The engine's order: note the status change, then apply the effects in order.
    fn after_handler(
        &mut self,
        m: &Model<P>,
        id: NodeId,
        old: NodeStatus,
        mut out: Out<P>,
        changes: &mut Vec<Change>,
    ) {
        let new = self.status(id);
        if new != old {
            changes.push(Change { node: id, old, new });
        }
        self.apply_effects(m, id, &mut out);
    }

    /// Apply a handler's effects with the engine's semantics: a send to a node that does
    /// not exist or over a cut link is lost at once; a broadcast goes to every other
    /// participant; a timer key set again replaces its deadline; `persist` replaces the
    /// durable state. Write latency and CPU time are not modelled (the model is untimed).
    pub fn apply_effects(&mut self, m: &Model<P>, id: NodeId, out: &mut Out<P>) {
        for effect in out.effects.drain(..) {
            match effect {
                Effect::Send { to, msg } => self.send(m, id, to, msg),
                Effect::Broadcast { msg } => {
                    for to in (0..m.nodes).filter(|&to| to != id) {
                        self.send(m, id, to, msg.clone());
                    }
                }
                Effect::SetTimer { key, delay } => {
                    let deadline = self.now + delay.earliest();
                    let timers = &mut self.nodes[id as usize].timers;
                    match timers.binary_search_by(|(k, _)| k.cmp(&key)) {
                        Ok(i) => timers[i].1 = deadline,
                        Err(i) => timers.insert(i, (key, deadline)),
                    }
                }
                Effect::CancelTimer { key } => {
                    self.nodes[id as usize].timers.retain(|(k, _)| *k != key);
                }
                Effect::Persist(d) => self.nodes[id as usize].durable = Some(d),
            }
        }
    }

    fn send(&mut self, m: &Model<P>, from: NodeId, to: NodeId, msg: P::Msg) {
        if to >= m.total() || !self.link_up(from, to) {
            return;
        }
        self.msgs.push(InFlight { from, to, msg });
    }

    /// Put the messages in canonical order (see [`World::msgs`]).
    pub(crate) fn canonicalize(&mut self, m: &Model<P>) {
        if m.fifo {
            self.msgs.sort_by_key(|f| (f.from, f.to)); // stable: send order within a link
        } else {
            self.msgs
                .sort_by_cached_key(|f| (f.from, f.to, super::search::fingerprint(&f.msg)));
        }
    }

    /// Every transition enabled in this world, in a fixed order: deliveries, timers,
    /// then faults (so a search is deterministic).
    pub fn actions(&self, m: &Model<P>, faults: bool) -> Vec<Action<P::Msg, P::Timer>> {
        let mut acts = Vec::new();
        let mut prev: Option<&InFlight<P::Msg>> = None;
        for (i, f) in self.msgs.iter().enumerate() {
            // Identical copies give identical successors: offer one.
            if prev == Some(f) {
                continue;
            }
            prev = Some(f);
            if m.fifo && i > 0 && {
                let p = &self.msgs[i - 1];
                (p.from, p.to) == (f.from, f.to)
            } {
                continue; // not the oldest message of its link
            }
            acts.push(Action::Deliver {
                from: f.from,
                to: f.to,
                msg: f.msg.clone(),
            });
        }
        let live = |id: usize| self.nodes[id].state.is_some();
        if m.sync && !self.msgs.is_empty() {
            // Synchronous rounds: messages first.
        } else if m.timer_order {
            let first = (0..self.nodes.len())
                .filter(|&id| live(id))
                .flat_map(|id| self.nodes[id].timers.iter().map(move |(k, d)| (*d, id, *k)))
                .min();
            if let Some((_, id, key)) = first {
                acts.push(Action::Fire {
                    node: id as NodeId,
                    timer: key,
                });
            }
        } else {
            for (id, slot) in self.nodes.iter().enumerate().filter(|(id, _)| live(*id)) {
                for (key, _) in &slot.timers {
                    acts.push(Action::Fire {
                        node: id as NodeId,
                        timer: *key,
                    });
                }
            }
        }
        if !faults {
            if self.blocked != 0 {
                acts.push(Action::Heal);
            }
            return acts;
        }
        let b = self.budget;
        let msg_faults = |acts: &mut Vec<_>, dup: bool| {
            let mut prev: Option<&InFlight<P::Msg>> = None;
            for f in &self.msgs {
                if prev == Some(f) {
                    continue;
                }
                prev = Some(f);
                let (from, to, msg) = (f.from, f.to, f.msg.clone());
                acts.push(if dup {
                    Action::Duplicate { from, to, msg }
                } else {
                    Action::Drop { from, to, msg }
                });
            }
        };
        if b.drop > 0 {
            msg_faults(&mut acts, false);
        }
        if b.duplicate > 0 {
            msg_faults(&mut acts, true);
        }
        for id in 0..m.total() {
            let live = self.nodes[id as usize].state.is_some();
            if live && b.crash > 0 {
                acts.push(Action::Crash { node: id });
            }
            if !live && b.restart > 0 {
                acts.push(Action::Restart { node: id });
            }
        }
        if b.partition > 0 {
            for node in 0..m.total() {
                acts.push(Action::Isolate { node });
            }
        }
        if b.cut > 0 {
            for from in 0..m.total() {
                for to in (0..m.total()).filter(|&t| t != from) {
                    if self.link_up(from, to) {
                        acts.push(Action::Cut { from, to });
                    }
                }
            }
        }
        if self.blocked != 0 {
            acts.push(Action::Heal);
        }
        acts
    }

    fn take_msg(&mut self, from: NodeId, to: NodeId, msg: &P::Msg) -> Option<P::Msg> {
        let i = self
            .msgs
            .iter()
            .position(|f| f.from == from && f.to == to && f.msg == *msg)?;
        Some(self.msgs.remove(i).msg)
    }

    /// The world after `action`, and the status changes it caused.
    pub fn apply(
        &self,
        m: &Model<P>,
        action: &Action<P::Msg, P::Timer>,
    ) -> (World<P>, Vec<Change>) {
        let mut w = self.clone();
        let mut changes = Vec::new();
        match action {
            Action::Deliver { from, to, msg } => {
                let msg = w.take_msg(*from, *to, msg).expect("enabled delivery");
                let (from, to) = (*from, *to);
                // As the engine: lost when the receiver is down or the link is cut now.
                if w.link_up(from, to) && w.nodes[to as usize].state.is_some() {
                    let old = w.status(to);
                    let ctx = w.ctx(m, to);
                    let mut out = Out::default();
                    let state = w.nodes[to as usize].state.as_mut().expect("live");
                    state.on_message(&ctx, from, msg, &mut out);
                    w.after_handler(m, to, old, out, &mut changes);
                }
            }
            Action::Fire { node, timer } => {
                let slot = &mut w.nodes[*node as usize];
                let i = slot
                    .timers
                    .iter()
                    .position(|(k, _)| k == timer)
                    .expect("enabled timer");
                let (_, deadline) = slot.timers.remove(i);
                w.now = w.now.max(deadline);
                let old = w.status(*node);
                let ctx = w.ctx(m, *node);
                let mut out = Out::default();
                let state = w.nodes[*node as usize].state.as_mut().expect("live");
                state.on_timer(&ctx, *timer, &mut out);
                w.after_handler(m, *node, old, out, &mut changes);
            }
            Action::Drop { from, to, msg } => {
                w.budget.drop -= 1;
                w.take_msg(*from, *to, msg).expect("enabled drop");
            }
            Action::Duplicate { from, to, msg } => {
                w.budget.duplicate -= 1;
                w.msgs.push(InFlight {
                    from: *from,
                    to: *to,
                    msg: msg.clone(),
                });
            }
            Action::Crash { node } => {
                w.budget.crash -= 1;
                let old = w.status(*node);
                let slot = &mut w.nodes[*node as usize];
                slot.state = None;
                slot.timers.clear();
                changes.push(Change {
                    node: *node,
                    old,
                    new: NodeStatus::DOWN,
                });
            }
            Action::Restart { node } => {
                w.budget.restart -= 1;
                w.boot(m, *node, &mut changes);
            }
            Action::Isolate { node } => {
                w.budget.partition -= 1;
                for other in (0..m.total()).filter(|o| o != node) {
                    w.blocked |= link_bit(*node, other) | link_bit(other, *node);
                }
            }
            Action::Cut { from, to } => {
                w.budget.cut -= 1;
                w.blocked |= link_bit(*from, *to);
            }
            Action::Heal => w.blocked = 0,
        }
        w.canonicalize(m);
        (w, changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Delay, SimDuration};

    #[test]
    fn budgets_parse_and_reject_unknown_kinds() {
        let b = Budget::parse("crash=1, restart=2,cut=1").unwrap();
        assert_eq!((b.crash, b.restart, b.cut, b.drop), (1, 2, 1, 0));
        assert_eq!(b.describe(), "crash=1,restart=2,cut=1");
        assert_eq!(Budget::parse("").unwrap().describe(), "none");
        assert!(Budget::parse("meteor=1").unwrap_err().contains("meteor"));
        assert!(Budget::parse("crash").is_err());
        assert!(Budget::parse("crash=-1").is_err());
    }

    #[test]
    fn timers_are_armed_for_the_earliest_delay() {
        let ms = SimDuration::from_millis;
        assert_eq!(Delay::Fixed(ms(7)).earliest(), ms(7));
        let u = Delay::Uniform {
            min: ms(150),
            max: ms(300),
        };
        assert_eq!(u.earliest(), ms(150));
        // Steps: the smallest whole multiple of the step inside the range.
        let s = Delay::Steps {
            min: SimDuration(150_500_000),
            max: ms(152),
            step: ms(1),
        };
        assert_eq!(s.earliest(), ms(151));
    }
}
