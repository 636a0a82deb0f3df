//! Kernel behaviour with a tiny test protocol (no election logic): every semantic promise
//! the engine makes about delivery, pauses, crashes, drift and bounds.

use electsim::sim::network::{DelayDist, LinkModel, Network};
use electsim::sim::{
    Ctx, Delay, FaultAction, LocalClock, Message, MsgClass, NodeId, NodeStatus, Observer, Out,
    Protocol, Role, Sim, SimConfig, SimDuration, SimError, SimTime, Target, TimerKey, TraceEvent,
};
use std::cell::RefCell;
use std::rc::Rc;

const MS: u64 = 1_000_000;

/// Node 0 sends one `Ping` to every peer at each `Tick` (period configurable); receivers
/// count pings in their status term. A `Wake` timer records when it fired.
#[derive(Debug, Clone)]
struct Pinger {
    received: u64,
}

#[derive(Debug, Clone, PartialEq)]
enum PingMsg {
    Ping,
}

impl Message for PingMsg {
    const KINDS: &'static [&'static str] = &["Ping"];
    fn kind(&self) -> usize {
        0
    }
    fn class(&self) -> MsgClass {
        MsgClass::Other
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum T {
    Tick,
}

impl TimerKey for T {
    fn name(&self) -> &'static str {
        "tick"
    }
}

#[derive(Debug, Clone)]
struct Cfg {
    period: SimDuration,
    /// Node 0 keeps ticking only while this is true.
    repeat: bool,
}

impl Protocol for Pinger {
    type Msg = PingMsg;
    type Timer = T;
    type Durable = ();
    type Config = Cfg;
    fn boot(ctx: &Ctx<'_, Cfg>, _d: Option<&()>, out: &mut Out<Self>) -> Self {
        if ctx.id == 0 {
            out.set_timer(T::Tick, Delay::Fixed(ctx.config.period));
        }
        Pinger { received: 0 }
    }
    fn on_message(
        &mut self,
        _ctx: &Ctx<'_, Cfg>,
        _from: NodeId,
        _msg: PingMsg,
        _out: &mut Out<Self>,
    ) {
        self.received += 1;
    }
    fn on_timer(&mut self, ctx: &Ctx<'_, Cfg>, _t: T, out: &mut Out<Self>) {
        out.broadcast(PingMsg::Ping);
        if ctx.config.repeat {
            out.set_timer(T::Tick, Delay::Fixed(ctx.config.period));
        }
    }
    fn status(&self) -> NodeStatus {
        NodeStatus {
            role: Role::Follower,
            term: self.received,
            leader: None,
            voted_for: None,
        }
    }
}

/// Records (time, node) of deliveries and timer firings, and drop reasons.
#[derive(Default, Clone)]
struct Log(Rc<RefCell<Vec<String>>>);

impl Observer for Log {
    fn observe(&mut self, ev: &TraceEvent<'_>) {
        let line = match *ev {
            TraceEvent::Deliver { at, msg } => {
                format!("{} deliver {}->{}", at.0 / MS, msg.from, msg.to)
            }
            TraceEvent::Drop { at, msg, reason } => format!(
                "{} drop {}->{} {}",
                at.0 / MS,
                msg.from,
                msg.to,
                reason.as_str()
            ),
            TraceEvent::Timer { at, node, .. } => format!("{} timer {node}", at.0 / MS),
            _ => return,
        };
        self.0.borrow_mut().push(line);
    }
}

fn sim(
    nodes: u32,
    delay_ms: u64,
    repeat: bool,
    tweak: impl FnOnce(&mut SimConfig),
) -> (Sim<Pinger>, Log) {
    let mut cfg = SimConfig::new(nodes, 1, SimTime(10_000 * MS));
    cfg.network = Network {
        default: LinkModel {
            delay: DelayDist::Constant(SimDuration::from_millis(delay_ms)),
            loss: 0.0,
            duplicate: 0.0,
        },
        ..Network::default()
    };
    tweak(&mut cfg);
    let log = Log::default();
    let s = Sim::with_observers(
        cfg,
        Cfg {
            period: SimDuration::from_millis(100),
            repeat,
        },
        vec![Box::new(log.clone())],
    );
    (s, log)
}

fn at(ms: u64) -> SimTime {
    SimTime(ms * MS)
}

#[test]
fn constant_delay_delivers_on_time() {
    let (mut s, log) = sim(3, 5, false, |_| {});
    s.run_until(at(200)).unwrap();
    assert_eq!(
        *log.0.borrow(),
        vec!["100 timer 0", "105 deliver 0->1", "105 deliver 0->2"]
    );
}

#[test]
fn a_paused_node_queues_messages_and_its_timers_fire_late() {
    let (mut s, log) = sim(2, 5, false, |_| {});
    s.run_until(at(50)).unwrap();
    s.apply_fault(FaultAction::Pause {
        target: Target::Node(0),
        duration: SimDuration::from_millis(120),
    });
    s.run_until(at(300)).unwrap();
    // The 100 ms tick fires at the resume (170 ms); its ping arrives 5 ms later.
    assert_eq!(*log.0.borrow(), vec!["170 timer 0", "175 deliver 0->1"]);
    let (mut s, log) = sim(2, 5, false, |_| {});
    s.run_until(at(101)).unwrap();
    s.apply_fault(FaultAction::Pause {
        target: Target::Node(1),
        duration: SimDuration::from_millis(50),
    });
    s.run_until(at(300)).unwrap();
    assert_eq!(
        *log.0.borrow(),
        vec!["100 timer 0", "151 deliver 0->1"],
        "held until the receiver resumes"
    );
}

#[test]
fn link_must_be_up_at_send_and_at_delivery() {
    // Down at delivery: partitioned while the message is in flight.
    let (mut s, log) = sim(2, 5, false, |_| {});
    s.run_until(at(102)).unwrap();
    s.apply_fault(FaultAction::Partition {
        groups: vec![vec![0], vec![1]],
        heal_after: None,
    });
    s.run_until(at(200)).unwrap();
    assert_eq!(log.0.borrow().last().unwrap(), "105 drop 0->1 link_down");
    // Down at send, healed before delivery: still dropped.
    let (mut s, log) = sim(2, 5, false, |_| {});
    s.apply_fault(FaultAction::Cut {
        from: Target::Node(0),
        to: Target::Node(1),
        heal_after: Some(SimDuration::from_millis(101)),
    });
    s.run_until(at(200)).unwrap();
    assert_eq!(log.0.borrow().last().unwrap(), "100 drop 0->1 link_down");
    // A one-way cut does not affect the other direction.
    let (mut s, _) = sim(2, 5, false, |_| {});
    s.apply_fault(FaultAction::Cut {
        from: Target::Node(1),
        to: Target::Node(0),
        heal_after: None,
    });
    s.run_until(at(200)).unwrap();
    assert_eq!(s.status(1).term, 1);
}

#[test]
fn messages_to_a_crashed_node_are_lost_and_durable_restart_works() {
    let (mut s, log) = sim(2, 5, true, |_| {});
    s.run_until(at(102)).unwrap();
    s.apply_fault(FaultAction::Crash {
        target: Target::Node(1),
        restart_after: Some(SimDuration::from_millis(50)),
    });
    s.run_until(at(260)).unwrap();
    let l = log.0.borrow();
    assert!(
        l.contains(&"105 drop 0->1 receiver_down".to_string()),
        "{l:?}"
    );
    assert!(
        l.contains(&"205 deliver 0->1".to_string()),
        "restarted at 152 ms: {l:?}"
    );
    assert_eq!(s.status(1).term, 1, "volatile state was lost in the crash");
}

#[test]
fn duplication_delivers_twice() {
    let (mut s, _) = sim(2, 5, false, |c| c.network.default.duplicate = 1.0);
    s.run_until(at(200)).unwrap();
    assert_eq!(s.status(1).term, 2);
}

#[test]
fn loss_one_drops_everything() {
    let (mut s, log) = sim(2, 5, false, |c| c.network.default.loss = 1.0);
    s.run_until(at(200)).unwrap();
    assert_eq!(log.0.borrow().last().unwrap(), "100 drop 0->1 loss");
}

#[test]
fn a_fast_clock_fires_timers_early() {
    let (mut s, log) = sim(2, 5, false, |c| {
        c.clocks = vec![LocalClock::new(0, 250_000.0)]
    });
    s.run_until(at(200)).unwrap();
    assert_eq!(
        log.0.borrow()[0],
        "80 timer 0",
        "100 ms on a clock 25% fast is 80 ms of real time"
    );
}

#[test]
fn event_bound_is_a_clear_error() {
    let (mut s, _) = sim(3, 5, true, |c| c.max_events = 10);
    let err = s.run_until(at(10_000)).unwrap_err();
    assert!(
        matches!(err, SimError::EventLimit { limit: 10, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("max_events = 10"));
}

#[test]
fn in_flight_bound_is_a_clear_error() {
    let (mut s, _) = sim(50, 500, true, |c| c.max_in_flight = 20);
    let err = s.run_until(at(10_000)).unwrap_err();
    assert!(
        matches!(err, SimError::InFlightLimit { limit: 20, .. }),
        "{err}"
    );
}

#[test]
fn leader_target_without_a_leader_is_a_no_op() {
    let (mut s, log) = sim(2, 5, false, |_| {});
    s.apply_fault(FaultAction::Crash {
        target: Target::Leader,
        restart_after: None,
    });
    s.run_until(at(200)).unwrap();
    assert_eq!(
        log.0.borrow().len(),
        2,
        "nobody crashed: {:?}",
        log.0.borrow()
    );
}
