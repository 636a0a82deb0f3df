//! `Sim<P>`: the deterministic event loop. It owns the queue, the network, the nodes and the
//! observers; it calls protocol handlers and applies the effects they return.
//!
//! Determinism: every random draw comes from a named stream of the run seed; ties in time
//! pop in scheduling order; no hash-map iteration, wall clock or thread is involved.

use super::faults::{FaultAction, Target};
use super::invariants::{Invariants, Violation};
use super::metrics::{Metrics, RunMetrics};
use super::network::Network;
use super::observe::{Digest, DropReason, MsgRef, Observer, TraceEvent};
use super::protocol::{
    Ctx, Delay, Effect, Message, NodeId, NodeStatus, Out, Protocol, Role, TimerKey,
};
use super::queue::EventQueue;
use super::rng::{SimRng, Stream};
use super::storage::{Resources, WriteMode};
use super::time::{LocalClock, SimDuration, SimTime};
use std::collections::VecDeque;

/// Engine settings for one run (everything but the protocol's own config).
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Participants (`0..nodes`).
    pub nodes: u32,
    /// Master seed: every random stream of the run (network, faults, nodes) derives from it.
    pub seed: u64,
    /// Virtual end of the run: events at or after it are not processed.
    pub end: SimTime,
    /// Hard bound on processed events; exceeding it fails the run.
    pub max_events: u64,
    /// Hard bound on messages in flight (queued for delivery or held by a paused node).
    pub max_in_flight: u64,
    /// Link models and the link state that partitions, cuts and isolations change.
    pub network: Network,
    /// Write latency, write mode and handler CPU time of the nodes (default: all free).
    pub resources: Resources,
    /// Initial local clocks of participants (missing entries: perfect clocks).
    pub clocks: Vec<LocalClock>,
    /// The expanded fault plan, sorted by time.
    pub plan: Vec<(SimTime, FaultAction)>,
}

impl SimConfig {
    /// A configuration with free resources, perfect clocks, no faults, the default network and
    /// generous event and in-flight bounds; callers set the rest field by field.
    pub fn new(nodes: u32, seed: u64, end: SimTime) -> Self {
        SimConfig {
            nodes,
            seed,
            end,
            max_events: 200_000_000,
            max_in_flight: 10_000_000,
            network: Network::default(),
            resources: Resources::default(),
            clocks: Vec::new(),
            plan: Vec::new(),
        }
    }
}

/// A run that had to stop.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// The run processed more events than allowed.
    #[error(
        "the run exceeded max_events = {limit} at virtual time {at}; raise it with `--set max_events=N` or shorten `duration`"
    )]
    EventLimit {
        /// The configured `max_events`.
        limit: u64,
        /// Virtual time the limit was hit.
        at: SimTime,
    },
    /// Too many messages were in flight at once.
    #[error(
        "more than max_in_flight = {limit} messages were in flight at virtual time {at}; raise it with `--set max_in_flight=N` or reduce load"
    )]
    InFlightLimit {
        /// The configured `max_in_flight`.
        limit: u64,
        /// Virtual time the limit was hit.
        at: SimTime,
    },
}

/// The result of a finished run.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Metrics derived from the run's trace events.
    pub metrics: RunMetrics,
    /// Events popped from the queue (including stale timers), the kernel's unit of work.
    pub events: u64,
    /// Hex digest of the canonical event stream ([`super::observe::Digest`]): equal digests
    /// mean the runs saw the same events at the same times (the determinism check).
    pub trace_digest: String,
    /// Invariant violations observed, all counted (more than `violations` holds).
    pub violation_count: u64,
    /// The first violations in detail (capped; the first of each property is always kept).
    pub violations: Vec<Violation>,
}

/// Messages waiting in held mode, oldest first.
type Held<M> = Vec<(M, Route)>;

/// What [`Sim::release_held`] does with a held message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Release {
    /// Deliver it now, as any delivery (lost if the receiver is down or the link is cut).
    Deliver,
    /// Lose it (traced as a loss).
    Drop,
    /// Keep it and queue a copy at the back of the held messages.
    Duplicate,
}

/// Identity of a queued message: send sequence number, sender, receiver.
#[derive(Clone, Copy, Debug)]
struct Route {
    id: u64,
    from: NodeId,
    to: NodeId,
}

fn msg_ref<M: Message>(msg: &M, r: Route) -> MsgRef {
    let kind = msg.kind();
    MsgRef {
        id: r.id,
        from: r.from,
        to: r.to,
        kind,
        kind_name: M::KINDS[kind],
        class: msg.class(),
        term: msg.term(),
        refused: msg.refused(),
    }
}

enum Event<M, T> {
    /// A message in transit; its trace reference is rebuilt from `msg` on delivery so the
    /// queued payload stays small.
    Deliver {
        msg: M,
        r: Route,
    },
    Timer {
        node: NodeId,
        incarnation: u32,
        key: T,
        /// Stale unless it matches the timer slot's token.
        token: u64,
    },
    Fault(FaultAction),
    Resume {
        node: NodeId,
        incarnation: u32,
    },
    /// A handler's messages leave its node, after its CPU time and writes.
    Leave {
        from: NodeId,
        incarnation: u32,
        sends: Vec<Outgoing<M>>,
    },
    /// A node's CPU work or blocking write ends: it handles what queued meanwhile.
    Free {
        node: NodeId,
        incarnation: u32,
    },
}

/// A message held until its sender's write completes; `to: None` is a broadcast.
struct Outgoing<M> {
    to: Option<NodeId>,
    msg: M,
}

/// A pending timer. Re-arming a timer to a later deadline does not push a queue entry: the
/// entry already queued wakes up first and re-queues itself at the new deadline. Followers
/// re-arm their election timer on every heartbeat, so this removes most stale timer events.
struct TimerSlot<T> {
    key: T,
    deadline: SimTime,
    /// Token of the queue entry that is still valid, and its time (None: nothing queued).
    token: u64,
    queued_at: Option<SimTime>,
}

struct Node<P: Protocol> {
    state: Option<P>,
    durable: Option<P::Durable>,
    status: NodeStatus,
    incarnation: u32,
    clock: LocalClock,
    rng: SimRng,
    /// Pending timers.
    timers: Vec<TimerSlot<P::Timer>>,
    paused: bool,
    /// Events that arrived while paused, in arrival order.
    stash: Vec<Event<P::Msg, P::Timer>>,
    /// Write-latency and CPU-time streams (see `storage`), made on first use: most runs
    /// model neither, and two generators per node cost memory and start-up at 10^5 nodes.
    /// A stream's draws depend only on (seed, stream), so when it is made does not matter.
    disk_rng: Option<Box<SimRng>>,
    cpu_rng: Option<Box<SimRng>>,
    /// The node handles nothing before this time (CPU work, blocking write).
    busy_until: SimTime,
    /// Deliveries and timers that arrived while busy, in arrival order.
    backlog: VecDeque<Event<P::Msg, P::Timer>>,
}

/// The observers every run has, plus optional extra ones (trace exporters).
struct Observers {
    metrics: Metrics,
    invariants: Invariants,
    digest: Digest,
    extra: Vec<Box<dyn Observer>>,
}

impl Observers {
    /// Always inlined: every call site passes a constant event kind, so the observers'
    /// matches fold away and the event is never built in memory (one emit per message sent
    /// and per message delivered is the kernel's hottest path).
    #[inline(always)]
    fn emit(&mut self, ev: TraceEvent<'_>) {
        self.metrics.observe(&ev);
        // Safety properties only change with a status change.
        if matches!(ev, TraceEvent::Status { .. }) {
            self.invariants.observe(&ev);
        }
        self.digest.observe(&ev);
        for o in &mut self.extra {
            o.observe(&ev);
        }
    }
}

/// A simulation of protocol `P`.
pub struct Sim<P: Protocol> {
    now: SimTime,
    cfg: SimConfig,
    pcfg: P::Config,
    total: u32,
    queue: EventQueue<Event<P::Msg, P::Timer>>,
    nodes: Vec<Node<P>>,
    net_rng: SimRng,
    obs: Observers,
    out: Out<P>,
    events: u64,
    in_flight: u64,
    next_msg_id: u64,
    next_token: u64,
    failure: Option<SimError>,
    ended: bool,
    /// No handler costs CPU time or write latency (the default): `handler_cost` is skipped.
    resources_free: bool,
    /// Held mode (golden-script `deliver`/`fire`, `verify` counterexamples): messages wait
    /// here instead of in the queue until released by hand. None in ordinary runs.
    held: Option<Box<Held<P::Msg>>>,
}

impl<P: Protocol> Sim<P> {
    /// Build the simulation and boot every node at t=0 in id order.
    pub fn new(cfg: SimConfig, pcfg: P::Config) -> Self {
        Self::with_observers(cfg, pcfg, Vec::new())
    }

    /// Build with extra observers (trace recorders) that see every event, boot included.
    pub fn with_observers(cfg: SimConfig, pcfg: P::Config, extra: Vec<Box<dyn Observer>>) -> Self {
        Self::build(cfg, pcfg, extra, false)
    }

    /// Build in held mode: nothing happens unless released by hand. Messages wait in a
    /// list ([`Sim::held_messages`], [`Sim::release_held`]); timers are armed for the
    /// earliest deadline their delay allows (no random draw) and fire only through
    /// [`Sim::fire_held`], which moves the clock to the deadline. The fault plan is not
    /// queued. This replays `verify` counterexamples with the ordinary engine.
    pub fn with_observers_held(
        cfg: SimConfig,
        pcfg: P::Config,
        extra: Vec<Box<dyn Observer>>,
    ) -> Self {
        Self::build(cfg, pcfg, extra, true)
    }

    fn build(
        mut cfg: SimConfig,
        pcfg: P::Config,
        extra: Vec<Box<dyn Observer>>,
        held: bool,
    ) -> Self {
        if held {
            cfg.plan.clear();
        }
        let service = P::service_nodes(&pcfg);
        let total = cfg.nodes + service;
        let nodes = (0..total)
            .map(|i| Node {
                state: None,
                durable: None,
                status: NodeStatus::DOWN,
                incarnation: 0,
                clock: cfg.clocks.get(i as usize).copied().unwrap_or_default(),
                rng: SimRng::new(cfg.seed, Stream::Node(i)),
                timers: Vec::new(),
                paused: false,
                stash: Vec::new(),
                disk_rng: None,
                cpu_rng: None,
                busy_until: SimTime::ZERO,
                backlog: VecDeque::new(),
            })
            .collect();
        let obs = Observers {
            metrics: Metrics::new(cfg.nodes, P::Msg::KINDS)
                .with_ring_order(P::ring_order(&pcfg, cfg.nodes)),
            invariants: Invariants::new(cfg.nodes, P::claims_election_safety(&pcfg)),
            digest: Digest::default(),
            extra,
        };
        let mut sim = Sim {
            now: SimTime::ZERO,
            net_rng: SimRng::new(cfg.seed, Stream::Network),
            queue: EventQueue::new(),
            total,
            nodes,
            obs,
            out: Out::default(),
            events: 0,
            in_flight: 0,
            next_msg_id: 0,
            next_token: 0,
            failure: None,
            ended: false,
            resources_free: cfg.resources.is_free(),
            held: held.then(Box::default),
            pcfg,
            cfg,
        };
        let plan = std::mem::take(&mut sim.cfg.plan);
        for (t, action) in plan {
            sim.queue.push(t, Event::Fault(action));
        }
        for id in 0..total {
            // A limit hit during start-up fails the run; booting the rest would only grow
            // memory past the limit (Bully's simultaneous start-up is O(n^2) messages).
            if sim.failure.is_some() {
                break;
            }
            sim.boot(id);
        }
        sim
    }

    /// Current virtual (global) time: that of the last processed event, or the target of the
    /// last `run_until`.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Number of participants (`0..nodes`), without service replicas.
    pub fn nodes(&self) -> u32 {
        self.cfg.nodes
    }

    /// Participants plus service replicas.
    pub fn total_nodes(&self) -> u32 {
        self.total
    }

    /// What `node` currently believes about itself ([`NodeStatus::DOWN`] while crashed).
    pub fn status(&self, node: NodeId) -> NodeStatus {
        self.nodes[node as usize].status
    }

    /// Whether `node` is inside a pause fault (handles nothing, events queue).
    pub fn is_paused(&self, node: NodeId) -> bool {
        self.nodes[node as usize].paused
    }

    /// The protocol state of a live node.
    pub fn node(&self, node: NodeId) -> Option<&P> {
        self.nodes[node as usize].state.as_ref()
    }

    /// Events processed so far (including stale timers).
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The configuration the run was built from.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// The protocol configuration every node is booted with.
    pub fn protocol_config(&self) -> &P::Config {
        &self.pcfg
    }

    /// Invariant violations observed so far (the first ones of each property in detail).
    pub fn violations(&self) -> &[Violation] {
        self.obs.invariants.violations()
    }

    /// Metrics as if the run ended now (the simulation itself is not changed).
    pub fn metrics_now(&self) -> RunMetrics {
        let mut m = self.obs.metrics.clone();
        m.observe(&TraceEvent::End { at: self.now });
        m.finish()
    }

    // ----- running -----

    /// Process the next event before the end time. Returns `Ok(false)` when there is none.
    pub fn step(&mut self) -> Result<bool, SimError> {
        self.step_before(self.cfg.end)
    }

    fn step_before(&mut self, limit: SimTime) -> Result<bool, SimError> {
        if let Some(e) = &self.failure {
            return Err(e.clone());
        }
        match self.queue.peek_time() {
            Some(t) if t < limit && t < self.cfg.end => {}
            _ => return Ok(false),
        }
        let (t, ev) = self.queue.pop().expect("peeked");
        self.now = t;
        self.events += 1;
        if self.events > self.cfg.max_events {
            let e = SimError::EventLimit {
                limit: self.cfg.max_events,
                at: t,
            };
            self.failure = Some(e.clone());
            return Err(e);
        }
        self.dispatch(ev);
        match &self.failure {
            Some(e) => Err(e.clone()),
            None => Ok(true),
        }
    }

    /// Process every event before `t` (capped at the end time), then set the clock to `t`.
    pub fn run_until(&mut self, t: SimTime) -> Result<(), SimError> {
        while self.step_before(t)? {}
        self.now = self.now.max(t.min(self.cfg.end));
        Ok(())
    }

    /// Run to the end and return the outcome.
    pub fn run(mut self) -> Result<Outcome, SimError> {
        while self.step()? {}
        Ok(self.finish())
    }

    /// Close the run at its end time and compute the outcome.
    pub fn finish(&mut self) -> Outcome {
        if !self.ended {
            self.ended = true;
            self.now = self.cfg.end;
            self.obs.emit(TraceEvent::End { at: self.cfg.end });
        }
        Outcome {
            metrics: self.obs.metrics.finish(),
            events: self.events,
            trace_digest: self.obs.digest.hex(),
            violation_count: self.obs.invariants.count(),
            violations: self.obs.invariants.violations().to_vec(),
        }
    }

    fn dispatch(&mut self, ev: Event<P::Msg, P::Timer>) {
        match ev {
            Event::Deliver { msg, r } => self.deliver(msg, r),
            Event::Timer {
                node,
                incarnation,
                key,
                token,
            } => {
                let n = &mut self.nodes[node as usize];
                if n.state.is_none() || n.incarnation != incarnation {
                    return;
                }
                if n.paused {
                    n.stash.push(Event::Timer {
                        node,
                        incarnation,
                        key,
                        token,
                    });
                    return;
                }
                if n.busy_until > self.now || !n.backlog.is_empty() {
                    n.backlog.push_back(Event::Timer {
                        node,
                        incarnation,
                        key,
                        token,
                    });
                    return;
                }
                self.fire_timer(node, incarnation, key, token);
            }
            Event::Fault(action) => self.apply_fault(action),
            Event::Resume { node, incarnation } => {
                let n = &mut self.nodes[node as usize];
                if n.incarnation != incarnation || !n.paused {
                    return;
                }
                n.paused = false;
                let stash = std::mem::take(&mut n.stash);
                let at = self.now;
                self.obs.emit(TraceEvent::Resume { at, node });
                for e in stash {
                    self.queue.push(at, e);
                }
                self.drain_backlog(node);
            }
            Event::Leave {
                from,
                incarnation,
                sends,
            } => self.leave(from, incarnation, sends),
            Event::Free { node, incarnation } => {
                if self.nodes[node as usize].incarnation == incarnation {
                    self.drain_backlog(node);
                }
            }
        }
    }

    /// Handle a due timer entry of a live, idle node.
    fn fire_timer(&mut self, node: NodeId, incarnation: u32, key: P::Timer, token: u64) {
        let n = &mut self.nodes[node as usize];
        let Some(pos) = n
            .timers
            .iter()
            .position(|s| s.key == key && s.token == token)
        else {
            return; // cancelled, or superseded by an earlier deadline
        };
        let slot = &mut n.timers[pos];
        if slot.deadline > self.now {
            // Re-armed to a later deadline after this entry was queued.
            let token = self.next_token;
            self.next_token += 1;
            slot.token = token;
            slot.queued_at = Some(slot.deadline);
            let at = slot.deadline;
            self.queue.push(
                at,
                Event::Timer {
                    node,
                    incarnation,
                    key,
                    token,
                },
            );
            return;
        }
        n.timers.swap_remove(pos);
        let at = self.now;
        self.obs.emit(TraceEvent::Timer {
            at,
            node,
            name: key.name(),
        });
        self.call(node, |p, ctx, out| p.on_timer(ctx, key, out));
    }

    /// Handle, in arrival order, what queued while the node was busy, until it is busy again.
    fn drain_backlog(&mut self, node: NodeId) {
        loop {
            let n = &mut self.nodes[node as usize];
            if n.busy_until > self.now || n.paused || n.state.is_none() {
                return;
            }
            match n.backlog.pop_front() {
                Some(Event::Deliver { msg, r }) => self.deliver_now(msg, r),
                Some(Event::Timer {
                    node,
                    incarnation,
                    key,
                    token,
                }) => {
                    if self.nodes[node as usize].incarnation == incarnation {
                        self.fire_timer(node, incarnation, key, token);
                    }
                }
                Some(_) => debug_assert!(false, "only deliveries and timers are backlogged"),
                None => return,
            }
        }
    }

    /// Messages held by a write leave now, unless their sender crashed meanwhile (then they
    /// were never sent). A paused sender sends them when it resumes.
    fn leave(&mut self, from: NodeId, incarnation: u32, sends: Vec<Outgoing<P::Msg>>) {
        let n = &mut self.nodes[from as usize];
        if n.incarnation != incarnation || n.state.is_none() {
            self.in_flight -= sends.len() as u64;
            return;
        }
        if n.paused {
            n.stash.push(Event::Leave {
                from,
                incarnation,
                sends,
            });
            return;
        }
        self.in_flight -= sends.len() as u64;
        for s in sends {
            match s.to {
                Some(to) => self.transmit(from, to, s.msg),
                None => {
                    for to in 0..self.cfg.nodes {
                        if to != from {
                            self.transmit(from, to, s.msg.clone());
                        }
                    }
                }
            }
        }
    }

    fn deliver(&mut self, msg: P::Msg, route: Route) {
        let at = self.now;
        let n = &mut self.nodes[route.to as usize];
        if n.state.is_none() {
            self.in_flight -= 1;
            self.obs.emit(TraceEvent::Drop {
                at,
                msg: msg_ref(&msg, route),
                reason: DropReason::ReceiverDown,
            });
            return;
        }
        if n.paused {
            n.stash.push(Event::Deliver { msg, r: route });
            return;
        }
        if n.busy_until > at || !n.backlog.is_empty() {
            n.backlog.push_back(Event::Deliver { msg, r: route });
            return;
        }
        self.deliver_now(msg, route);
    }

    /// Deliver to a live, idle node.
    fn deliver_now(&mut self, msg: P::Msg, route: Route) {
        let at = self.now;
        self.in_flight -= 1;
        let r = msg_ref(&msg, route);
        if !self.cfg.network.links.is_up(r.from, r.to) {
            self.obs.emit(TraceEvent::Drop {
                at,
                msg: r,
                reason: DropReason::LinkDown,
            });
            return;
        }
        self.obs.emit(TraceEvent::Deliver { at, msg: r });
        self.call(r.to, |p, ctx, out| p.on_message(ctx, r.from, msg, out));
    }

    // ----- nodes -----

    fn boot(&mut self, id: NodeId) {
        let n = &mut self.nodes[id as usize];
        let ctx = Ctx {
            id,
            nodes: self.cfg.nodes,
            service: self.total - self.cfg.nodes,
            now: n.clock.local_at(self.now),
            config: &self.pcfg,
        };
        let mut out = std::mem::take(&mut self.out);
        let state = P::boot_seeded(&ctx, n.durable.as_ref(), &mut out, &mut n.rng);
        self.nodes[id as usize].state = Some(state);
        self.after_handler(id, out);
    }

    /// Run a handler on a live node and apply its effects.
    fn call(&mut self, id: NodeId, f: impl FnOnce(&mut P, &Ctx<'_, P::Config>, &mut Out<P>)) {
        let n = &mut self.nodes[id as usize];
        let Some(state) = n.state.as_mut() else {
            return;
        };
        let ctx = Ctx {
            id,
            nodes: self.cfg.nodes,
            service: self.total - self.cfg.nodes,
            now: n.clock.local_at(self.now),
            config: &self.pcfg,
        };
        let mut out = std::mem::take(&mut self.out);
        f(state, &ctx, &mut out);
        self.after_handler(id, out);
    }

    /// Emit the status change (if any), then apply the effects in order.
    fn after_handler(&mut self, id: NodeId, mut out: Out<P>) {
        let at = self.now;
        let n = &mut self.nodes[id as usize];
        let new = n.state.as_ref().map_or(NodeStatus::DOWN, P::status);
        if new != n.status {
            let old = std::mem::replace(&mut n.status, new);
            self.obs.emit(TraceEvent::Status {
                at,
                node: id,
                old,
                new,
            });
        }
        let (hold, busy) = if self.resources_free {
            (SimDuration::ZERO, SimDuration::ZERO)
        } else {
            self.handler_cost(id, &out)
        };
        let mut held = Vec::new();
        for effect in out.effects.drain(..) {
            match effect {
                Effect::Send { to, msg } if hold > SimDuration::ZERO => {
                    held.push(Outgoing { to: Some(to), msg })
                }
                Effect::Broadcast { msg } if hold > SimDuration::ZERO => {
                    held.push(Outgoing { to: None, msg });
                }
                Effect::Send { to, msg } => self.transmit(id, to, msg),
                Effect::Broadcast { msg } => {
                    for to in 0..self.cfg.nodes {
                        if to != id {
                            self.transmit(id, to, msg.clone());
                        }
                    }
                }
                Effect::SetTimer { key, delay } => self.set_timer(id, key, delay),
                Effect::CancelTimer { key } => {
                    self.nodes[id as usize].timers.retain(|s| s.key != key);
                }
                Effect::Persist(d) => self.nodes[id as usize].durable = Some(d),
            }
        }
        self.out = out;
        let incarnation = self.nodes[id as usize].incarnation;
        if !held.is_empty() {
            self.count_in_flight(held.len() as u64);
            self.queue.push(
                at + hold,
                Event::Leave {
                    from: id,
                    incarnation,
                    sends: held,
                },
            );
        }
        if busy > SimDuration::ZERO {
            self.nodes[id as usize].busy_until = at + busy;
            self.queue.push(
                at + busy,
                Event::Free {
                    node: id,
                    incarnation,
                },
            );
        }
    }

    /// How long a handler's messages are held (its CPU time, then each write in turn) and
    /// how long the node is busy (CPU time, plus the writes when they block).
    fn handler_cost(&mut self, id: NodeId, out: &Out<P>) -> (SimDuration, SimDuration) {
        let res = &self.cfg.resources;
        let seed = self.cfg.seed;
        let n = &mut self.nodes[id as usize];
        let cpu = if res.cpu_free() {
            SimDuration::ZERO
        } else {
            let rng = n
                .cpu_rng
                .get_or_insert_with(|| Box::new(SimRng::new(seed, Stream::Cpu(id))));
            res.cpu.sample(rng)
        };
        let law = res.write_law(id);
        let mut write = SimDuration::ZERO;
        for e in &out.effects {
            if matches!(e, Effect::Persist(_)) {
                let rng = n
                    .disk_rng
                    .get_or_insert_with(|| Box::new(SimRng::new(seed, Stream::Disk(id))));
                write = write + law.sample(rng);
            }
        }
        let busy = match res.mode {
            WriteMode::Overlapped => cpu,
            WriteMode::Blocking => cpu + write,
        };
        (cpu + write, busy)
    }

    fn count_in_flight(&mut self, k: u64) {
        self.in_flight += k;
        if self.in_flight > self.cfg.max_in_flight && self.failure.is_none() {
            self.failure = Some(SimError::InFlightLimit {
                limit: self.cfg.max_in_flight,
                at: self.now,
            });
        }
    }

    fn set_timer(&mut self, id: NodeId, key: P::Timer, delay: Delay) {
        let n = &mut self.nodes[id as usize];
        let local = if self.held.is_some() {
            delay.earliest()
        } else {
            delay.sample(&mut n.rng)
        };
        let deadline = self.now + n.clock.global_span(local);
        self.arm_timer(id, key, deadline);
    }

    /// Arm (or re-arm) timer `key` of node `id` to fire at global time `deadline`.
    fn arm_timer(&mut self, id: NodeId, key: P::Timer, deadline: SimTime) {
        let n = &mut self.nodes[id as usize];
        if self.held.is_some() {
            match n.timers.iter_mut().find(|s| s.key == key) {
                Some(slot) => slot.deadline = deadline,
                None => n.timers.push(TimerSlot {
                    key,
                    deadline,
                    token: 0,
                    queued_at: None,
                }),
            }
            return;
        }
        let incarnation = n.incarnation;
        let slot = match n.timers.iter().position(|s| s.key == key) {
            Some(i) => {
                let slot = &mut n.timers[i];
                slot.deadline = deadline;
                // The queued entry wakes up no later than the new deadline: reuse it.
                if slot.queued_at.is_some_and(|q| q <= deadline) {
                    return;
                }
                slot
            }
            None => {
                n.timers.push(TimerSlot {
                    key,
                    deadline,
                    token: 0,
                    queued_at: None,
                });
                n.timers.last_mut().expect("just pushed")
            }
        };
        let token = self.next_token;
        self.next_token += 1;
        slot.token = token;
        slot.queued_at = Some(deadline);
        self.queue.push(
            deadline,
            Event::Timer {
                node: id,
                incarnation,
                key,
                token,
            },
        );
    }

    /// The message leaves `from` now: traced as sent, checked against the links, then lost,
    /// duplicated or queued for delivery after its network delay.
    fn transmit(&mut self, from: NodeId, to: NodeId, msg: P::Msg) {
        let at = self.now;
        let route = Route {
            id: self.next_msg_id,
            from,
            to,
        };
        let r = msg_ref(&msg, route);
        self.next_msg_id += 1;
        self.obs.emit(TraceEvent::Send { at, msg: r });
        if to >= self.total || !self.cfg.network.links.is_up(from, to) {
            self.obs.emit(TraceEvent::Drop {
                at,
                msg: r,
                reason: DropReason::LinkDown,
            });
            return;
        }
        if let Some(held) = &mut self.held {
            self.in_flight += 1;
            held.push((msg, route));
            return;
        }
        let model = self.cfg.network.model(from, to);
        if self.net_rng.chance(model.loss) {
            self.obs.emit(TraceEvent::Drop {
                at,
                msg: r,
                reason: DropReason::Loss,
            });
            return;
        }
        let copies = if self.net_rng.chance(model.duplicate) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let delay = model.delay.sample(&mut self.net_rng);
            // Inline, not `count_in_flight`: `model` still borrows the network here.
            self.in_flight += 1;
            if self.in_flight > self.cfg.max_in_flight && self.failure.is_none() {
                self.failure = Some(SimError::InFlightLimit {
                    limit: self.cfg.max_in_flight,
                    at,
                });
            }
            self.queue.push(
                at + delay,
                Event::Deliver {
                    msg: msg.clone(),
                    r: route,
                },
            );
        }
    }

    // ----- held mode -----

    /// Messages waiting in held mode: (from, to, message), oldest first.
    pub fn held_messages(&self) -> Vec<(NodeId, NodeId, &P::Msg)> {
        self.held
            .iter()
            .flat_map(|h| h.iter().map(|(m, r)| (r.from, r.to, m)))
            .collect()
    }

    /// Pending timers of a live node in held mode: (key, deadline).
    pub fn held_timers(&self, node: NodeId) -> Vec<(P::Timer, SimTime)> {
        let n = &self.nodes[node as usize];
        match n.state {
            Some(_) => n.timers.iter().map(|s| (s.key, s.deadline)).collect(),
            None => Vec::new(),
        }
    }

    /// Release the oldest held message `from -> to` that `pick` accepts: `Deliver` delivers
    /// it now (lost if its receiver is down or the link is cut, as always), `Drop` loses
    /// it, `Duplicate` adds a second copy. Returns false when no such message is held.
    pub fn release_held(
        &mut self,
        from: NodeId,
        to: NodeId,
        pick: impl Fn(&P::Msg) -> bool,
        how: Release,
    ) -> bool {
        let Some(held) = self.held.as_mut() else {
            return false;
        };
        let Some(i) = held
            .iter()
            .position(|(m, r)| r.from == from && r.to == to && pick(m))
        else {
            return false;
        };
        match how {
            Release::Deliver => {
                let (msg, r) = held.remove(i);
                self.deliver(msg, r);
            }
            Release::Drop => {
                let (msg, r) = held.remove(i);
                self.in_flight -= 1;
                let at = self.now;
                self.obs.emit(TraceEvent::Drop {
                    at,
                    msg: msg_ref(&msg, r),
                    reason: DropReason::Loss,
                });
            }
            Release::Duplicate => {
                let copy = held[i].clone();
                held.push(copy);
                self.in_flight += 1;
            }
        }
        true
    }

    /// Fire the pending timer of `node` that `pick` accepts, moving the clock to its
    /// deadline when that is later. Returns false when there is none.
    pub fn fire_held(&mut self, node: NodeId, pick: impl Fn(&P::Timer) -> bool) -> bool {
        let n = &self.nodes[node as usize];
        if self.held.is_none() || n.state.is_none() {
            return false;
        }
        let Some(slot) = n.timers.iter().find(|s| pick(&s.key)) else {
            return false;
        };
        let (key, token, deadline, incarnation) =
            (slot.key, slot.token, slot.deadline, n.incarnation);
        self.now = self.now.max(deadline);
        self.fire_timer(node, incarnation, key, token);
        true
    }

    // ----- faults -----

    /// The live leader with the highest term (lowest id on ties), if any.
    pub fn current_leader(&self) -> Option<NodeId> {
        (0..self.cfg.nodes)
            .filter(|&i| {
                let n = &self.nodes[i as usize];
                n.state.is_some() && !n.paused && n.status.role == Role::Leader
            })
            .max_by_key(|&i| (self.nodes[i as usize].status.term, std::cmp::Reverse(i)))
    }

    fn resolve(&self, t: Target) -> Option<NodeId> {
        match t {
            Target::Node(n) if n < self.total => Some(n),
            Target::Node(_) => None,
            Target::Leader => self.current_leader(),
            // Random targets are drawn when the plan is expanded; a stray one hits nobody.
            Target::Random => None,
        }
    }

    /// Apply a fault now (the scripted plan calls this; so do golden scripts and tests).
    pub fn apply_fault(&mut self, action: FaultAction) {
        let at = self.now;
        match action {
            FaultAction::Crash {
                target,
                restart_after,
            } => {
                let Some(id) = self.resolve(target) else {
                    return;
                };
                if self.nodes[id as usize].state.is_none() {
                    return;
                }
                let resolved = FaultAction::Crash {
                    target: Target::Node(id),
                    restart_after,
                };
                self.obs.emit(TraceEvent::Fault {
                    at,
                    action: &resolved,
                });
                self.crash(id);
                if let Some(d) = restart_after {
                    self.queue.push(
                        at + d,
                        Event::Fault(FaultAction::Restart {
                            target: Target::Node(id),
                        }),
                    );
                }
            }
            FaultAction::Restart { target } => {
                let Some(id) = self.resolve(target) else {
                    return;
                };
                if self.nodes[id as usize].state.is_some() {
                    return;
                }
                let resolved = FaultAction::Restart {
                    target: Target::Node(id),
                };
                self.obs.emit(TraceEvent::Fault {
                    at,
                    action: &resolved,
                });
                self.boot(id);
            }
            FaultAction::Pause { target, duration } => {
                let Some(id) = self.resolve(target) else {
                    return;
                };
                let n = &mut self.nodes[id as usize];
                if n.state.is_none() || n.paused {
                    return;
                }
                n.paused = true;
                let incarnation = n.incarnation;
                let resolved = FaultAction::Pause {
                    target: Target::Node(id),
                    duration,
                };
                self.obs.emit(TraceEvent::Fault {
                    at,
                    action: &resolved,
                });
                self.queue.push(
                    at + duration,
                    Event::Resume {
                        node: id,
                        incarnation,
                    },
                );
            }
            FaultAction::Partition {
                ref groups,
                heal_after,
            } => {
                let fault = self.cfg.network.links.partition(self.total, groups);
                self.obs.emit(TraceEvent::Fault {
                    at,
                    action: &action,
                });
                self.schedule_heal(fault, heal_after);
            }
            FaultAction::PartitionLeaderSide {
                size,
                service,
                heal_after,
                ..
            } => {
                let Some(leader) = self.current_leader() else {
                    return;
                };
                let n = self.cfg.nodes;
                let mut side = vec![leader];
                side.extend((0..n).filter(|&i| i != leader).take(size as usize - 1));
                let groups = service.groups(&side, n, self.total);
                let fault = self.cfg.network.links.partition(self.total, &groups);
                let resolved = FaultAction::Partition { groups, heal_after };
                self.obs.emit(TraceEvent::Fault {
                    at,
                    action: &resolved,
                });
                self.schedule_heal(fault, heal_after);
            }
            FaultAction::Cut {
                from,
                to,
                heal_after,
            } => {
                let (Some(a), Some(b)) = (self.resolve(from), self.resolve(to)) else {
                    return;
                };
                if a == b {
                    return; // "cut the leader from itself": nothing to cut.
                }
                let fault = self.cfg.network.links.cut(a, b);
                let resolved = FaultAction::Cut {
                    from: Target::Node(a),
                    to: Target::Node(b),
                    heal_after,
                };
                self.obs.emit(TraceEvent::Fault {
                    at,
                    action: &resolved,
                });
                self.schedule_heal(fault, heal_after);
            }
            FaultAction::Isolate { target, heal_after } => {
                let Some(id) = self.resolve(target) else {
                    return;
                };
                let fault = self.cfg.network.links.isolate(id);
                let resolved = FaultAction::Isolate {
                    target: Target::Node(id),
                    heal_after,
                };
                self.obs.emit(TraceEvent::Fault {
                    at,
                    action: &resolved,
                });
                self.schedule_heal(fault, heal_after);
            }
            FaultAction::Heal => {
                self.cfg.network.links.heal();
                self.obs.emit(TraceEvent::Fault {
                    at,
                    action: &action,
                });
            }
            FaultAction::HealFault { fault } => {
                // Already undone by a `heal`: nothing changes, so nothing is traced.
                if self.cfg.network.links.heal_fault(fault) {
                    self.obs.emit(TraceEvent::Fault {
                        at,
                        action: &action,
                    });
                }
            }
            FaultAction::SetLoss { loss } => {
                self.cfg.network.default.loss = loss;
                for m in self.cfg.network.overrides.values_mut() {
                    m.loss = loss;
                }
                self.obs.emit(TraceEvent::Fault {
                    at,
                    action: &action,
                });
            }
            FaultAction::SetDelay { ref delay } => {
                self.cfg.network.default.delay = delay.clone();
                self.obs.emit(TraceEvent::Fault {
                    at,
                    action: &action,
                });
            }
            FaultAction::ClockDrift {
                target,
                drift_ppm,
                offset,
            } => {
                let Some(id) = self.resolve(target) else {
                    return;
                };
                let step_ns = i64::try_from(offset.0).unwrap_or(i64::MAX);
                self.change_clock(id, drift_ppm, step_ns);
                let resolved = FaultAction::ClockDrift {
                    target: Target::Node(id),
                    drift_ppm,
                    offset,
                };
                self.obs.emit(TraceEvent::Fault {
                    at,
                    action: &resolved,
                });
            }
        }
    }

    /// Change node `id`'s clock rate (continuously) and step it by `step_ns`. Pending timers
    /// were armed for a local deadline; they are re-timed so that they still fire when the
    /// local clock reaches it under the new rate and offset.
    fn change_clock(&mut self, id: NodeId, drift_ppm: f64, step_ns: i64) {
        let now = self.now;
        let n = &mut self.nodes[id as usize];
        let before = n.clock;
        n.clock.set_drift_at(now, drift_ppm, step_ns);
        let after = n.clock;
        let local_now = after.local_at(now);
        let retimed: Vec<(P::Timer, SimTime)> = n
            .timers
            .iter()
            .filter(|s| s.deadline > now)
            .map(|s| {
                // The local reading the timer waits for; a forward step may have passed it.
                let local_deadline = before.local_at(s.deadline);
                (
                    s.key,
                    now + after.global_span(local_deadline.since(local_now)),
                )
            })
            .collect();
        for (key, deadline) in retimed {
            self.arm_timer(id, key, deadline);
        }
    }

    /// Schedule the undoing of network fault number `fault` (its `heal_after`).
    fn schedule_heal(&mut self, fault: u32, after: Option<SimDuration>) {
        if let Some(d) = after {
            self.queue
                .push(self.now + d, Event::Fault(FaultAction::HealFault { fault }));
        }
    }

    fn crash(&mut self, id: NodeId) {
        let at = self.now;
        let n = &mut self.nodes[id as usize];
        n.state = None;
        n.incarnation += 1;
        n.timers.clear();
        n.paused = false;
        n.busy_until = SimTime::ZERO;
        let mut stash = std::mem::take(&mut n.stash);
        stash.extend(n.backlog.drain(..));
        let old = std::mem::replace(&mut n.status, NodeStatus::DOWN);
        self.obs.emit(TraceEvent::Status {
            at,
            node: id,
            old,
            new: NodeStatus::DOWN,
        });
        for e in stash {
            match e {
                Event::Deliver { msg, r } => {
                    self.in_flight -= 1;
                    self.obs.emit(TraceEvent::Drop {
                        at,
                        msg: msg_ref(&msg, r),
                        reason: DropReason::ReceiverDown,
                    });
                }
                // Held by a write that the crash interrupted: never sent.
                Event::Leave { sends, .. } => self.in_flight -= sends.len() as u64,
                _ => {}
            }
        }
    }
}
