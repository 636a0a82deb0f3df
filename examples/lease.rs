//! # Tutorial: bring your own election algorithm
//!
//! This example adds a sixth algorithm to electsim, written only against the public API, and
//! runs electsim's whole command line with it: `list`, `validate`, `run` (with `--trace`),
//! `sweep` (an `algorithm` axis may mix it with the built-ins), `explore` and `check`.
//!
//! ```sh
//! cargo run --release --example lease -- list
//! cargo run --release --example lease -- run examples/lease.toml --seed 3
//! cargo run --release --example lease -- sweep examples/lease.toml --out /tmp/lease
//! cargo run --release --example lease -- explore examples/lease.toml --property liveness --runs 200
//! cargo run --release --example lease -- check examples/lease.toml
//! ```
//!
//! ## The algorithm: lowest live id, with leases
//!
//! Every node broadcasts a `Beat` every `heartbeat`. A node counts a peer as *live* while its
//! last beat is younger than `lease` (on the node's own, possibly drifting, clock). The leader
//! is the **lowest live id**, and only while it sees a **majority** live (itself included):
//! a node cut off in a minority steps down when its leases lapse, so the majority side can
//! elect its own lowest id. A node that just booted waits one `lease` before it may lead, so
//! it has heard from every lower live node first. Becoming leader starts a new term (one more
//! than the highest seen) and is announced at once with `Elected`; terms survive crashes.
//!
//! It is a small cousin of Garcia-Molina's Bully (lowest instead of highest id, leases
//! instead of Election/Answer rounds). Failover after a leader crash takes about
//! `lease + heartbeat`: the survivors' leases of the old leader lapse, the next-lowest id
//! notices at its next tick. Without fencing, a lapsing minority leader and the new majority
//! leader may overlap briefly; the split-brain metrics measure exactly that.
//!
//! ## How an algorithm plugs in
//!
//! 1. A [`Protocol`]: a pure state machine. Handlers read a [`Ctx`] (own id, cluster size,
//!    own clock, config) and push **effects** into an [`Out`] buffer: `send`, `broadcast`,
//!    `set_timer` (a [`Delay`]: the engine draws random delays from the node's seeded stream;
//!    a protocol never owns an RNG or a clock), `cancel_timer`, `persist`. The engine applies
//!    them, so handlers are testable without an engine (see the tests below).
//! 2. [`Protocol::status`]: what the node believes (role, term, leader). The engine diffs it
//!    around every handler and **every metric is computed from those changes**: a node is
//!    leader when its role is [`Role::Leader`]; a follower counts towards a leader's majority
//!    when its role is `Follower` and `leader` names that node.
//! 3. An [`Algorithm`]: the name a scenario selects it by, its scenario table (`[lease]`,
//!    parsed with electsim's located errors), validation, and documentation for `list`.
//! 4. `main`: the built-in registry plus this algorithm, handed to electsim's command line.

use electsim::plugin::{Algorithm, FieldError, Param, Registry};
use electsim::sim::{
    Ctx, Delay, Message, MsgClass, NodeId, NodeStatus, Out, Protocol, Role, SimDuration, SimTime,
    TimerKey,
};
use serde::Deserialize;

/// electsim's command line, with `lease` registered after the five built-ins.
fn main() {
    std::process::exit(electsim::cli::main_with(registry()));
}

/// The registry this binary runs: every built-in, then ours.
fn registry() -> Registry {
    Registry::builtin().with::<Lease>()
}

// ---------------------------------------------------------------------------------------
// Configuration: the `[lease]` table, as written and as validated.
// ---------------------------------------------------------------------------------------

/// Validated parameters (what every handler sees as `ctx.config`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LeaseConfig {
    /// How often every node broadcasts a `Beat`.
    pub heartbeat: SimDuration,
    /// How long a beat keeps its sender live. At least twice `heartbeat`, so one lost beat
    /// does not expire a live node.
    pub lease: SimDuration,
}

impl Default for LeaseConfig {
    fn default() -> Self {
        LeaseConfig {
            heartbeat: SimDuration::from_millis(50),
            lease: SimDuration::from_millis(200),
        }
    }
}

/// `[lease]` as written: every key optional (defaults live in [`Lease::config`]), unknown
/// keys rejected, so a typo gets a located error with a "did you mean" hint.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLease {
    /// `heartbeat = "50ms"`: durations are strings with a unit.
    pub heartbeat: Option<SimDuration>,
    /// `lease = "200ms"`.
    pub lease: Option<SimDuration>,
}

/// The scenario tables this algorithm reads: just `[lease]`.
#[derive(Debug, Default, Deserialize)]
pub struct LeaseTables {
    /// `[lease]`, absent when the file does not set it.
    pub lease: Option<RawLease>,
}

/// `electsim list` shows these.
const PARAMS: &[Param] = &[
    Param {
        key: "lease.heartbeat",
        default: "\"50ms\"",
        doc: "every node broadcasts a Beat this often",
    },
    Param {
        key: "lease.lease",
        default: "\"200ms\"",
        doc: "a Beat keeps its sender live this long (at least 2 x heartbeat)",
    },
];

// ---------------------------------------------------------------------------------------
// Messages and timers.
// ---------------------------------------------------------------------------------------

/// What nodes say to each other.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LeaseMsg {
    /// "I am alive", every `heartbeat`: renews the sender's lease at the receiver. Carries
    /// the sender's term and whether it leads, so followers learn both.
    Beat { term: u64, leader: bool },
    /// "I lead in `term`", sent once when a node becomes leader, so followers switch at once
    /// instead of at the next beat.
    Elected { term: u64 },
}

impl Message for LeaseMsg {
    // Kind names become `msgs_*` columns in runs.csv and labels in traces.
    const KINDS: &'static [&'static str] = &["Beat", "Elected"];
    fn kind(&self) -> usize {
        match self {
            LeaseMsg::Beat { .. } => 0,
            LeaseMsg::Elected { .. } => 1,
        }
    }
    /// Beats are steady-state overhead (`heartbeats_per_s`); `Elected` is election traffic,
    /// which is what `detect_ms` and `messages_per_election` count.
    fn class(&self) -> MsgClass {
        match self {
            LeaseMsg::Beat { .. } => MsgClass::Heartbeat,
            LeaseMsg::Elected { .. } => MsgClass::Election,
        }
    }
    fn term(&self) -> Option<u64> {
        match *self {
            LeaseMsg::Beat { term, .. } | LeaseMsg::Elected { term } => Some(term),
        }
    }
}

/// One timer: setting it again replaces the pending one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LeaseTimer {
    /// Beat, then re-evaluate who leads.
    Tick,
}

impl TimerKey for LeaseTimer {
    fn name(&self) -> &'static str {
        "tick"
    }
}

// ---------------------------------------------------------------------------------------
// The state machine.
// ---------------------------------------------------------------------------------------

/// One node's state. Everything here is lost in a crash except what it `persist`s (the
/// [`Protocol::Durable`] type: here the highest term seen, so a restarted node never reuses a
/// term it has led in).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Lease {
    id: NodeId,
    role: Role,
    /// Highest term seen (and persisted).
    term: u64,
    /// Who this node believes leads (itself when leader).
    leader: Option<NodeId>,
    /// Per participant: when (own clock) its last message arrived, and whether it then
    /// claimed to lead. Indexed by node id; this node's own slot stays `None`.
    heard: Vec<Option<(SimTime, bool)>>,
    /// When (own clock) this incarnation booted: it may lead only one `lease` later.
    booted_at: SimTime,
}

/// Handlers see the validated config through the context.
type LCtx<'a> = Ctx<'a, LeaseConfig>;

impl Lease {
    /// Whether `p`'s lease is current at `now`.
    fn live(&self, ctx: &LCtx<'_>, p: NodeId) -> bool {
        p == self.id
            || self.heard[p as usize].is_some_and(|(at, _)| ctx.now.since(at) < ctx.config.lease)
    }

    /// Decide the role from the leases: the rule of the algorithm, in one place.
    fn evaluate(&mut self, ctx: &LCtx<'_>, out: &mut Out<Self>) {
        let live: Vec<NodeId> = (0..ctx.nodes).filter(|&p| self.live(ctx, p)).collect();
        let lowest = live[0]; // never empty: a node is live to itself
        let settled = ctx.now.since(self.booted_at) >= ctx.config.lease;
        let quorum = live.len() as u32 >= ctx.majority();
        if lowest == self.id && quorum && settled {
            if self.role != Role::Leader {
                self.become_leader(ctx, out);
            }
            return;
        }
        // Not (or no longer) the leader: follow the lowest live node if it says it leads.
        self.role = Role::Follower;
        self.leader = match self.heard[lowest as usize] {
            Some((_, true)) if lowest != self.id => Some(lowest),
            _ => None,
        };
    }

    /// A new term, persisted before it is announced.
    fn become_leader(&mut self, ctx: &LCtx<'_>, out: &mut Out<Self>) {
        self.term += 1;
        self.role = Role::Leader;
        self.leader = Some(self.id);
        out.persist(self.term);
        out.broadcast(LeaseMsg::Elected { term: self.term });
        let _ = ctx;
    }

    fn beat(&self, out: &mut Out<Self>) {
        out.broadcast(LeaseMsg::Beat {
            term: self.term,
            leader: self.role == Role::Leader,
        });
    }
}

impl Protocol for Lease {
    type Msg = LeaseMsg;
    type Timer = LeaseTimer;
    /// The highest term seen.
    type Durable = u64;
    type Config = LeaseConfig;

    /// Start, or restart after a crash with the last persisted term.
    fn boot(ctx: &LCtx<'_>, durable: Option<&u64>, out: &mut Out<Self>) -> Self {
        // The first tick is drawn uniformly from one heartbeat, so nodes that boot together
        // do not beat in lockstep. The engine draws it from this node's seeded stream: the
        // same seed gives the same draw.
        out.set_timer(
            LeaseTimer::Tick,
            Delay::Uniform {
                min: SimDuration::ZERO,
                max: ctx.config.heartbeat,
            },
        );
        Lease {
            id: ctx.id,
            role: Role::Follower,
            term: durable.copied().unwrap_or(0),
            leader: None,
            heard: vec![None; ctx.nodes as usize],
            booted_at: ctx.now,
        }
    }

    fn on_message(&mut self, ctx: &LCtx<'_>, from: NodeId, msg: LeaseMsg, out: &mut Out<Self>) {
        let (term, leads) = match msg {
            LeaseMsg::Beat { term, leader } => (term, leader),
            LeaseMsg::Elected { term } => (term, true),
        };
        if let Some(slot) = self.heard.get_mut(from as usize) {
            *slot = Some((ctx.now, leads));
        }
        if term > self.term {
            self.term = term;
            out.persist(term);
        }
        self.evaluate(ctx, out);
    }

    fn on_timer(&mut self, ctx: &LCtx<'_>, timer: LeaseTimer, out: &mut Out<Self>) {
        match timer {
            LeaseTimer::Tick => {
                self.evaluate(ctx, out);
                self.beat(out);
                out.set_timer(LeaseTimer::Tick, Delay::Fixed(ctx.config.heartbeat));
            }
        }
    }

    /// The metrics' view of this node: role, term, believed leader. No votes are cast, so
    /// `voted_for` stays `None` (the vote-once invariant then has nothing to check).
    fn status(&self) -> NodeStatus {
        NodeStatus {
            role: self.role,
            term: self.term,
            leader: self.leader,
            voted_for: None,
        }
    }
}

// ---------------------------------------------------------------------------------------
// The registration: name, table, validation, documentation.
// ---------------------------------------------------------------------------------------

impl Algorithm for Lease {
    const NAME: &'static str = "lease";
    const SUMMARY: &'static str =
        "example plug-in: lowest live id leads while it holds a majority of leases";
    const PARAMS: &'static [Param] = PARAMS;
    const TABLES: &'static [&'static str] = &["lease"];
    // CLAIMS stays `Claims::NONE`: two nodes can lead in one term across a one-way cut, so
    // `explore` checks split_brain, invariants or liveness on it, not election_safety.
    type Tables = LeaseTables;

    /// Defaults, then checks; a field path from the root (`lease.lease`) lets electsim point
    /// at the line of the file, the `--set` or the sweep axis the bad value came from.
    fn config(tables: LeaseTables, _nodes: u32) -> Result<LeaseConfig, FieldError> {
        let raw = tables.lease.unwrap_or_default();
        let d = LeaseConfig::default();
        let heartbeat = raw.heartbeat.unwrap_or(d.heartbeat);
        if heartbeat == SimDuration::ZERO {
            return Err(FieldError::new(
                "lease.heartbeat",
                format!("\"{heartbeat}\""),
                "a positive duration, e.g. \"50ms\"",
            ));
        }
        let lease = raw.lease.unwrap_or(d.lease);
        if lease.0 < heartbeat.0.saturating_mul(2) {
            return Err(FieldError::new(
                "lease.lease",
                format!("\"{lease}\""),
                format!("at least twice lease.heartbeat ({heartbeat}), e.g. \"200ms\""),
            ));
        }
        Ok(LeaseConfig { heartbeat, lease })
    }
}

// ---------------------------------------------------------------------------------------
// Tests: handlers alone, then whole simulations through the public runner.
// ---------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use electsim::scenario::{Scenario, ScenarioFile};
    use electsim::sim::{Effect, FaultAction, Target};
    use std::path::Path;
    use std::sync::Arc;

    const MS: fn(u64) -> SimDuration = SimDuration::from_millis;

    fn ctx(id: NodeId, nodes: u32, now_ms: u64, config: &LeaseConfig) -> LCtx<'_> {
        Ctx {
            id,
            nodes,
            service: 0,
            now: SimTime::ZERO + MS(now_ms),
            config,
        }
    }

    /// A scenario read against a registry holding the built-ins and `lease`, passed
    /// explicitly (no process-wide install needed in tests).
    fn scenario(text: &str) -> Scenario {
        let file =
            ScenarioFile::from_text_in(Path::new("t.toml"), text.into(), Arc::new(registry()))
                .unwrap_or_else(|e| panic!("{e}"));
        file.instantiate(&[]).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_node_waits_one_lease_before_leading() {
        let cfg = LeaseConfig::default();
        let mut out = Out::default();
        let mut n = Lease::boot(&ctx(0, 3, 0, &cfg), None, &mut out);
        // Node 1 beats at 10 ms: node 0 is lowest with a majority (itself + 1) but has not
        // been up for a lease yet.
        n.on_message(
            &ctx(0, 3, 10, &cfg),
            1,
            LeaseMsg::Beat {
                term: 0,
                leader: false,
            },
            &mut out,
        );
        assert_eq!(n.status().role, Role::Follower);
        n.on_message(
            &ctx(0, 3, 190, &cfg),
            1,
            LeaseMsg::Beat {
                term: 0,
                leader: false,
            },
            &mut out,
        );
        assert_eq!(n.status().role, Role::Follower, "199 ms < lease 200 ms");
        out.clear();
        n.on_timer(&ctx(0, 3, 200, &cfg), LeaseTimer::Tick, &mut out);
        assert_eq!(
            n.status(),
            NodeStatus {
                role: Role::Leader,
                term: 1,
                leader: Some(0),
                voted_for: None
            }
        );
        // Persisted before it is announced; then the tick's beat and the next tick.
        assert_eq!(out.effects[0], Effect::Persist(1));
        assert_eq!(
            out.effects[1],
            Effect::Broadcast {
                msg: LeaseMsg::Elected { term: 1 }
            }
        );
        assert_eq!(
            out.effects[2],
            Effect::Broadcast {
                msg: LeaseMsg::Beat {
                    term: 1,
                    leader: true
                }
            }
        );
    }

    #[test]
    fn no_majority_no_leader_and_a_lower_live_id_wins() {
        let cfg = LeaseConfig::default();
        let mut out = Out::default();
        // Node 1 of 5 hears only node 3: 2 live of 5 is no majority.
        let mut n = Lease::boot(&ctx(1, 5, 0, &cfg), None, &mut out);
        n.on_message(
            &ctx(1, 5, 300, &cfg),
            3,
            LeaseMsg::Beat {
                term: 0,
                leader: false,
            },
            &mut out,
        );
        assert_eq!(n.status().role, Role::Follower);
        // Node 4 too: 3 of 5, node 1 is the lowest live id and leads.
        n.on_message(
            &ctx(1, 5, 310, &cfg),
            4,
            LeaseMsg::Beat {
                term: 0,
                leader: false,
            },
            &mut out,
        );
        assert_eq!((n.status().role, n.status().term), (Role::Leader, 1));
        // Node 0 comes back claiming term 7: node 1 adopts the term and steps down, and
        // follows node 0 because node 0 says it leads.
        n.on_message(
            &ctx(1, 5, 320, &cfg),
            0,
            LeaseMsg::Elected { term: 7 },
            &mut out,
        );
        assert_eq!(
            n.status(),
            NodeStatus {
                role: Role::Follower,
                term: 7,
                leader: Some(0),
                voted_for: None
            }
        );
        // Node 0's lease lapses 200 ms after its last message: node 1 leads again, term 8.
        out.clear();
        n.on_message(
            &ctx(1, 5, 519, &cfg),
            3,
            LeaseMsg::Beat {
                term: 7,
                leader: false,
            },
            &mut out,
        );
        assert_eq!(n.status().role, Role::Follower, "0 is live until 520 ms");
        n.on_message(
            &ctx(1, 5, 520, &cfg),
            4,
            LeaseMsg::Beat {
                term: 7,
                leader: false,
            },
            &mut out,
        );
        assert_eq!((n.status().role, n.status().term), (Role::Leader, 8));
    }

    #[test]
    fn a_restarted_node_keeps_its_term() {
        let cfg = LeaseConfig::default();
        let mut out = Out::default();
        let n = Lease::boot(&ctx(2, 3, 0, &cfg), Some(&5), &mut out);
        assert_eq!(n.status().term, 5);
    }

    #[test]
    fn the_lease_table_is_validated_with_located_errors() {
        let text =
            "algorithm = \"lease\"\nnodes = 3\n[lease]\nheartbeat = \"100ms\"\nlease = \"150ms\"\n";
        let file =
            ScenarioFile::from_text_in(Path::new("t.toml"), text.into(), Arc::new(registry()))
                .unwrap();
        let err = file.instantiate(&[]).unwrap_err().to_string();
        assert!(
            err.starts_with("t.toml:5:9: invalid value for `lease.lease`: \"150ms\""),
            "{err}"
        );
        assert!(
            err.contains("at least twice lease.heartbeat (100ms)"),
            "{err}"
        );
        let typo = "algorithm = \"lease\"\n[lease]\nheartbeet = \"10ms\"\n";
        let err =
            ScenarioFile::from_text_in(Path::new("t.toml"), typo.into(), Arc::new(registry()))
                .unwrap_err()
                .to_string();
        assert!(
            err.starts_with("t.toml:3:1: unknown field `heartbeet`"),
            "{err}"
        );
        assert!(err.contains("did you mean `heartbeat`?"), "{err}");
    }

    const BASE: &str = "algorithm = \"lease\"\nnodes = 5\nduration = \"10s\"\n\
                        [network]\ndelay = { uniform = [\"1ms\", \"10ms\"] }\n";

    #[test]
    fn without_faults_one_leader_the_lowest_id_and_one_term() {
        for seed in 1..=20 {
            let sc = scenario(BASE);
            let o = electsim::runner::run(&sc, seed, Vec::new()).unwrap();
            let m = &o.metrics;
            assert_eq!(m.same_term_leaders, 0, "seed {seed}");
            assert_eq!(m.split_brain_incidents, 0, "seed {seed}");
            // One election, of node 0, and no leader change after it.
            assert_eq!(m.election_ms.count, 1, "seed {seed}");
            // `leader_changes` counts elections of a leader other than the previous one; the
            // first election has no previous leader.
            assert_eq!(m.leader_changes, 0, "seed {seed}");
            // Booting takes one lease (200 ms) plus up to a heartbeat until the tick.
            let e = m.election_ms.max.unwrap();
            assert!((200.0..=261.0).contains(&e), "seed {seed}: {e} ms");
        }
        let mut sim = electsim::runner::build(&scenario(BASE), 1, Vec::new()).unwrap();
        sim.run_until(SimTime::ZERO + SimDuration::from_secs(1))
            .unwrap();
        assert_eq!(sim.current_leader(), Some(0));
    }

    #[test]
    fn after_the_leader_crashes_the_lowest_live_id_leads() {
        let mut sim = electsim::runner::build(&scenario(BASE), 4, Vec::new()).unwrap();
        let at = |ms: u64| SimTime::ZERO + MS(ms);
        sim.run_until(at(1000)).unwrap();
        assert_eq!(sim.current_leader(), Some(0));
        for (crashed, next) in [(0, 1), (1, 2)] {
            sim.apply_fault(FaultAction::Crash {
                target: Target::Node(crashed),
                restart_after: None,
            });
            let now = sim.now();
            // Failover within lease + heartbeat + a delay (200 + 50 + 10 ms): check at 300 ms.
            sim.run_until(now + MS(300)).unwrap();
            assert_eq!(sim.current_leader(), Some(next), "after {crashed} crashed");
            assert_eq!(sim.status(next).role, Role::Leader);
        }
        // Node 0 restarts: after its one-lease wait it is the lowest live id again.
        sim.apply_fault(FaultAction::Restart {
            target: Target::Node(0),
        });
        let now = sim.now();
        sim.run_until(now + MS(400)).unwrap();
        assert_eq!(sim.current_leader(), Some(0));
        let m = sim.finish().metrics;
        assert_eq!(m.same_term_leaders, 0);
        assert_eq!(m.leader_changes, 3, "0, then 1, then 2, then 0 again");
    }
}
