//! The storage and CPU model (`[storage]`, `[cpu]`): when a handler's messages leave, what a
//! busy node does with arriving messages and expiring timers, and where latencies are drawn.

mod common;
use common::scenario_from_text;

use electsim::runner;
use electsim::sim::network::{DelayDist, LinkModel, Network};
use electsim::sim::{
    Ctx, Delay, FaultAction, Message, MsgClass, NodeId, NodeStatus, Observer, Out, Protocol,
    Resources, Role, Sim, SimConfig, SimDuration, SimTime, Target, TimerKey, TraceEvent, WriteMode,
};
use std::cell::RefCell;
use std::rc::Rc;

const MS: u64 = 1_000_000;

/// Node 0 broadcasts `pings` Pings at 100 ms (persisting first when `writer0`); every other
/// node persists on each Ping and answers with a Pong. Node 1 also sets a `Wake` timer for
/// 105 ms at boot.
#[derive(Debug, Clone)]
struct Writer;

#[derive(Debug, Clone, PartialEq)]
enum Msg {
    Ping,
    Pong,
}

impl Message for Msg {
    const KINDS: &'static [&'static str] = &["Ping", "Pong"];
    fn kind(&self) -> usize {
        match self {
            Msg::Ping => 0,
            Msg::Pong => 1,
        }
    }
    fn class(&self) -> MsgClass {
        MsgClass::Other
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum T {
    Tick,
    Wake,
}

impl TimerKey for T {
    fn name(&self) -> &'static str {
        match self {
            T::Tick => "tick",
            T::Wake => "wake",
        }
    }
}

#[derive(Debug, Clone)]
struct Cfg {
    pings: usize,
    writer0: bool,
    /// Node 0 ticks again every 100 ms.
    repeat: bool,
}

impl Protocol for Writer {
    type Msg = Msg;
    type Timer = T;
    type Durable = ();
    type Config = Cfg;
    fn boot(ctx: &Ctx<'_, Cfg>, _d: Option<&()>, out: &mut Out<Self>) -> Self {
        if ctx.id == 0 {
            out.set_timer(T::Tick, Delay::Fixed(SimDuration::from_millis(100)));
        }
        if ctx.id == 1 {
            out.set_timer(T::Wake, Delay::Fixed(SimDuration::from_millis(105)));
        }
        Writer
    }
    fn on_message(&mut self, _ctx: &Ctx<'_, Cfg>, from: NodeId, msg: Msg, out: &mut Out<Self>) {
        if msg == Msg::Ping {
            out.persist(());
            out.send(from, Msg::Pong);
        }
    }
    fn on_timer(&mut self, ctx: &Ctx<'_, Cfg>, t: T, out: &mut Out<Self>) {
        if t == T::Tick {
            if ctx.config.writer0 {
                out.persist(());
            }
            for _ in 0..ctx.config.pings {
                out.broadcast(Msg::Ping);
            }
            if ctx.config.repeat {
                out.set_timer(T::Tick, Delay::Fixed(SimDuration::from_millis(100)));
            }
        }
    }
    fn status(&self) -> NodeStatus {
        NodeStatus {
            role: Role::Follower,
            term: 0,
            leader: None,
            voted_for: None,
        }
    }
}

/// "time_ms kind from->to" for sends, deliveries and drops; "time_ms timer node" for timers.
#[derive(Default, Clone)]
struct Log(Rc<RefCell<Vec<String>>>);

impl Observer for Log {
    fn observe(&mut self, ev: &TraceEvent<'_>) {
        let fmt = |at: SimTime| format!("{}", at.0 as f64 / MS as f64);
        let line = match *ev {
            TraceEvent::Send { at, msg } => {
                format!(
                    "{} send {} {}->{}",
                    fmt(at),
                    msg.kind_name,
                    msg.from,
                    msg.to
                )
            }
            TraceEvent::Deliver { at, msg } => {
                format!(
                    "{} deliver {} {}->{}",
                    fmt(at),
                    msg.kind_name,
                    msg.from,
                    msg.to
                )
            }
            TraceEvent::Drop { at, msg, reason } => format!(
                "{} drop {} {}->{} {}",
                fmt(at),
                msg.kind_name,
                msg.from,
                msg.to,
                reason.as_str()
            ),
            TraceEvent::Timer { at, node, name } => format!("{} timer {name} {node}", fmt(at)),
            _ => return,
        };
        self.0.borrow_mut().push(line);
    }
}

impl Log {
    fn lines(&self) -> Vec<String> {
        self.0.borrow().clone()
    }
    fn matching(&self, pat: &str) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|l| l.contains(pat))
            .collect()
    }
}

fn run(nodes: u32, cfg: Cfg, tweak: impl FnOnce(&mut SimConfig)) -> Log {
    let mut sc = SimConfig::new(nodes, 1, SimTime(1_000 * MS));
    sc.network = Network {
        default: LinkModel {
            delay: DelayDist::Constant(SimDuration::from_millis(1)),
            loss: 0.0,
            duplicate: 0.0,
        },
        ..Network::default()
    };
    tweak(&mut sc);
    let log = Log::default();
    let sim = Sim::<Writer>::with_observers(sc, cfg, vec![Box::new(log.clone())]);
    sim.run().unwrap();
    log
}

fn write(ms: u64, mode: WriteMode) -> Resources {
    Resources {
        write: DelayDist::Constant(SimDuration::from_millis(ms)),
        mode,
        ..Resources::default()
    }
}

fn once(pings: usize, writer0: bool) -> Cfg {
    Cfg {
        pings,
        writer0,
        repeat: false,
    }
}

/// Issue 12, defect 6: a message is sent (traced, and checked against the links) when it
/// leaves, i.e. after its handler's write, not when the handler ran.
#[test]
fn messages_leave_after_the_write_and_are_checked_against_the_links_then() {
    let log = run(2, once(1, true), |c| {
        c.resources = write(10, WriteMode::Overlapped);
        // 0 -> 1 is cut from 95 ms to 105 ms: down when the handler runs at 100 ms, up again
        // when the Ping leaves at 110 ms.
        c.plan = vec![(
            SimTime(95 * MS),
            FaultAction::Cut {
                from: Target::Node(0),
                to: Target::Node(1),
                heal_after: Some(SimDuration::from_millis(10)),
            },
        )];
    });
    assert_eq!(
        log.matching("Ping"),
        ["110 send Ping 0->1", "111 deliver Ping 0->1"],
        "{:#?}",
        log.lines()
    );
    // Node 1 writes for 10 ms before its Pong leaves.
    assert_eq!(
        log.matching("Pong"),
        ["121 send Pong 1->0", "122 deliver Pong 1->0"]
    );
}

#[test]
fn a_message_held_by_a_write_is_never_sent_if_its_sender_crashes_first() {
    let log = run(2, once(1, true), |c| {
        c.resources = write(10, WriteMode::Overlapped);
        c.plan = vec![(
            SimTime(105 * MS),
            FaultAction::Crash {
                target: Target::Node(0),
                restart_after: None,
            },
        )];
    });
    assert!(log.matching("Ping").is_empty(), "{:#?}", log.lines());
}

#[test]
fn a_blocking_write_queues_messages_and_timers_in_arrival_order() {
    // Two Pings reach node 1 at 101 ms. Each makes it write for 10 ms. Its Wake timer
    // expires at 105 ms, during the first write.
    let blocking = run(2, once(2, false), |c| {
        c.resources = write(10, WriteMode::Blocking);
    });
    assert_eq!(
        blocking.lines(),
        [
            "100 timer tick 0",
            "100 send Ping 0->1",
            "100 send Ping 0->1",
            "101 deliver Ping 0->1",
            "111 send Pong 1->0",
            "111 deliver Ping 0->1",
            "112 deliver Pong 1->0",
            "121 send Pong 1->0",
            "121 timer wake 1",
            "122 deliver Pong 1->0",
        ],
        "{:#?}",
        blocking.lines()
    );
    // Overlapped: the node keeps handling while it writes; only its Pongs wait.
    let overlapped = run(2, once(2, false), |c| {
        c.resources = write(10, WriteMode::Overlapped);
    });
    assert_eq!(
        overlapped.lines(),
        [
            "100 timer tick 0",
            "100 send Ping 0->1",
            "100 send Ping 0->1",
            "101 deliver Ping 0->1",
            "101 deliver Ping 0->1",
            "105 timer wake 1",
            "111 send Pong 1->0",
            "111 send Pong 1->0",
            "112 deliver Pong 1->0",
            "112 deliver Pong 1->0",
        ],
        "{:#?}",
        overlapped.lines()
    );
}

#[test]
fn handler_cpu_time_makes_a_busy_node_queue() {
    let log = run(2, once(2, false), |c| {
        c.resources = Resources {
            cpu: DelayDist::Constant(SimDuration::from_millis(3)),
            ..Resources::default()
        };
    });
    // Node 0's tick costs 3 ms before its Pings leave; node 1 handles one Ping per 3 ms,
    // and its Wake (due at 105 ms) waits behind the second Ping (handled at 107 ms).
    assert_eq!(
        log.lines(),
        [
            "100 timer tick 0",
            "103 send Ping 0->1",
            "103 send Ping 0->1",
            "104 deliver Ping 0->1",
            "107 send Pong 1->0",
            "107 deliver Ping 0->1",
            "108 deliver Pong 1->0",
            "110 send Pong 1->0",
            "110 timer wake 1",
            "111 deliver Pong 1->0",
        ],
        "{:#?}",
        log.lines()
    );
}

/// Send times of node 0's Pings to node 1 (one per tick).
fn node0_send_times(res: Resources, net_ms: u64, seed: u64) -> Vec<String> {
    let cfg = Cfg {
        pings: 1,
        writer0: true,
        repeat: true,
    };
    let log = run(3, cfg, |c| {
        c.seed = seed;
        c.resources = res;
        c.network.default.delay = DelayDist::Constant(SimDuration::from_millis(net_ms));
    });
    log.matching("send Ping 0->1")
}

#[test]
fn write_latencies_come_from_the_nodes_own_stream() {
    let law = DelayDist::Uniform {
        min: SimDuration::from_millis(1),
        max: SimDuration::from_millis(50),
    };
    let base = Resources {
        write: law.clone(),
        ..Resources::default()
    };
    let a = node0_send_times(base.clone(), 1, 7);
    assert_eq!(a.len(), 9, "{a:?}");
    // Drawn: the nine writes do not all take the same time.
    let offsets: std::collections::BTreeSet<&str> =
        a.iter().map(|l| l.split(' ').next().unwrap()).collect();
    assert!(offsets.len() > 5, "{a:?}");
    // Another node's law, the network and the CPU law do not shift node 0's draws.
    let mut other = base.clone();
    other
        .write_by_node
        .insert(1, DelayDist::Constant(SimDuration::from_millis(3)));
    other.write_by_node.insert(
        2,
        DelayDist::Exponential {
            floor: SimDuration::ZERO,
            mean: SimDuration::from_millis(9),
        },
    );
    other.cpu = DelayDist::Constant(SimDuration::ZERO);
    assert_eq!(node0_send_times(other, 4, 7), a);
    // Its own override does, and so does the seed.
    let mut own = base.clone();
    own.write_by_node
        .insert(0, DelayDist::Constant(SimDuration::from_millis(3)));
    let o = node0_send_times(own, 1, 7);
    assert_eq!(o[0], "103 send Ping 0->1");
    assert_ne!(node0_send_times(base, 1, 8), a);
}

/// Issue 12, defect 6 at the metric level: with a 10 ms write, each RequestVote leaves
/// 10 ms after its candidate's election timer fired, and `detect_ms` measures to then.
#[test]
fn raft_request_votes_leave_after_the_candidates_write_and_detect_ms_includes_it() {
    let text = r#"
algorithm = "raft"
nodes = 5
duration = "4s"
[network]
delay = { constant = "2ms" }
[storage]
fsync = "10ms"
[[fault]]
at = "2s"
crash = "leader"
"#;
    let sc = scenario_from_text(text);
    #[derive(Default, Clone)]
    struct Events(Rc<RefCell<Vec<(u64, String, u32)>>>);
    impl Observer for Events {
        fn observe(&mut self, ev: &TraceEvent<'_>) {
            let e = match *ev {
                TraceEvent::Timer {
                    at,
                    node,
                    name: "election",
                } => (at.0, "election".to_string(), node),
                TraceEvent::Send { at, msg } if msg.kind_name == "RequestVote" => {
                    (at.0, "rv".to_string(), msg.from)
                }
                TraceEvent::Fault { at, .. } => (at.0, "fault".to_string(), 0),
                _ => return,
            };
            self.0.borrow_mut().push(e);
        }
    }
    let ev = Events::default();
    let out = runner::run(&sc, 1, vec![Box::new(ev.clone())]).unwrap();
    let ev = ev.0.borrow();
    let mut rvs = 0;
    for (i, (t, kind, node)) in ev.iter().enumerate() {
        if kind == "rv" {
            rvs += 1;
            let fired = ev[..i]
                .iter()
                .rev()
                .find(|(_, k, n)| k == "election" && n == node)
                .expect("a RequestVote follows its sender's election timeout");
            assert_eq!(*t, fired.0 + 10 * MS, "RequestVote of node {node}: {ev:?}");
        }
    }
    assert!(rvs >= 8, "two elections of 4 RequestVotes each: {ev:?}");
    // detect_ms: one sample, the crash -> the first RequestVote after it (the boot interval
    // is not a loss and gives none).
    let crash = ev.iter().find(|e| e.1 == "fault").unwrap().0;
    let first_rv_after = |t0: u64| ev.iter().find(|e| e.1 == "rv" && e.0 >= t0).unwrap().0;
    let after_crash = (first_rv_after(crash) - crash) as f64 / MS as f64;
    let d = &out.metrics.detect_ms;
    assert_eq!(d.count, 1, "{d:?}");
    let want_mean = after_crash;
    assert!(
        (d.mean.unwrap() - want_mean).abs() < 1e-6,
        "detect_ms {d:?}, want mean {want_mean} (crash sample {after_crash} ms)"
    );
}

/// Gaps (ms) between each `request` delivered and the `reply` its receiver sends back, in
/// a run of the scenario `text` with `seed`.
fn reply_gaps_ms(text: &str, seed: u64, request: &'static str, reply: &'static str) -> Vec<u64> {
    let sc = scenario_from_text(text);
    #[derive(Clone)]
    struct Gaps {
        request: &'static str,
        reply: &'static str,
        delivered: Rc<RefCell<Vec<(u32, u32, u64)>>>,
        gaps: Rc<RefCell<Vec<u64>>>,
    }
    impl Observer for Gaps {
        fn observe(&mut self, ev: &TraceEvent<'_>) {
            match *ev {
                TraceEvent::Deliver { at, msg } if msg.kind_name == self.request => {
                    self.delivered.borrow_mut().push((msg.from, msg.to, at.0));
                }
                TraceEvent::Send { at, msg } if msg.kind_name == self.reply => {
                    let d = self.delivered.borrow();
                    let (.., t) = d
                        .iter()
                        .rev()
                        .find(|(f, t, _)| *f == msg.to && *t == msg.from)
                        .unwrap_or_else(|| panic!("a {} answers a {}", self.reply, self.request));
                    self.gaps.borrow_mut().push((at.0 - t) / MS);
                }
                _ => {}
            }
        }
    }
    let g = Gaps {
        request,
        reply,
        delivered: Rc::default(),
        gaps: Rc::default(),
    };
    runner::run(&sc, seed, vec![Box::new(g.clone())]).unwrap();
    g.gaps.borrow().clone()
}

/// Gaps (ms) between a RequestVote's delivery and the VoteResponse the voter sends back.
fn vote_answer_gaps_ms(extra: &str) -> Vec<u64> {
    let text = format!(
        r#"
algorithm = "raft"
nodes = 5
duration = "2s"
[network]
delay = {{ constant = "2ms" }}
[storage]
fsync = "10ms"
[raft]
{extra}
"#
    );
    reply_gaps_ms(&text, 3, "RequestVote", "VoteResponse")
}

#[test]
fn term_adoption_persists_separately_when_asked() {
    // Default: term and vote share one 10 ms write.
    let one = vote_answer_gaps_ms("");
    assert!(!one.is_empty() && one.iter().all(|&g| g == 10), "{one:?}");
    // LogCabin: a voter that adopts the candidate's term writes twice before answering.
    let two = vote_answer_gaps_ms("persist_term_adoption = true");
    assert!(two.iter().all(|&g| g == 10 || g == 20), "{two:?}");
    assert!(two.contains(&20), "{two:?}");
}

/// Gaps (ms) between a ServiceReplicate's delivery and the follower's ack.
fn replicate_ack_gaps_ms(storage: &str) -> Vec<u64> {
    let text = format!(
        r#"
algorithm = "zookeeper"
nodes = 3
duration = "3s"
[network]
delay = {{ constant = "1ms" }}
[service]
replicas = 3
{storage}
"#
    );
    reply_gaps_ms(&text, 1, "ServiceReplicate", "ServiceReplicateAck")
}

#[test]
fn service_followers_write_a_changed_store_before_they_ack() {
    // Without a storage model every ack leaves at once.
    let free = replicate_ack_gaps_ms("");
    assert!(!free.is_empty() && free.iter().all(|&g| g == 0), "{free:?}");
    // With 10 ms writes: rounds that change the store (sessions, keys) wait for the write;
    // rounds that only carry ping replies do not.
    let slow = replicate_ack_gaps_ms("[storage]\nwrite = { constant = \"10ms\" }");
    assert!(slow.iter().all(|&g| g == 0 || g == 10), "{slow:?}");
    assert!(slow.contains(&10) && slow.contains(&0), "{slow:?}");
}
