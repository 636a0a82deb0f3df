//! Bully and Ring checked against the message counts of the literature, and the split-brain
//! difference the quorum guard makes under a 2+3 partition.
//!
//! Every count below comes from the trace-derived `messages_by_kind` (sent), never from a
//! protocol counter. Network: constant 1 ms delay, no loss, no faults unless stated.

use electsim::protocols::bully::{Bully, BullyConfig};
use electsim::protocols::ring::{Initiators, Ring, RingConfig, Variant};
use electsim::runner;
use electsim::scenario::{Assignment, Origin, Scenario, ScenarioFile};
use electsim::sim::metrics::RunMetrics;
use electsim::sim::rng::{SimRng, Stream};
use electsim::sim::{
    DelayDist, FaultAction, NodeId, Observer, Role, Sim, SimConfig, SimDuration, SimTime, Target,
    TraceEvent,
};
use std::cell::Cell;
use std::path::Path;
use std::rc::Rc;

fn reliable(nodes: u32, end: SimDuration) -> SimConfig {
    let mut cfg = SimConfig::new(nodes, 1, SimTime::ZERO + end);
    cfg.network.default.delay = DelayDist::Constant(SimDuration::from_millis(1));
    cfg
}

fn sent(m: &RunMetrics, kind: &str) -> u64 {
    m.messages_by_kind
        .get(kind)
        .unwrap_or_else(|| panic!("no message kind {kind}"))
        .sent
}

// ----- Ring -----

/// One all-initiating ring election on `order`; returns the run's metrics.
fn ring_election(order: Vec<NodeId>, variant: Variant) -> RunMetrics {
    let n = order.len() as u32;
    let cfg = RingConfig {
        order: order.clone(),
        variant,
        initiators: Initiators::All,
        ..RingConfig::default()
    };
    let mut sim = Sim::<Ring>::new(reliable(n, SimDuration::from_millis(300)), cfg);
    sim.run_until(SimTime::ZERO + SimDuration::from_millis(300))
        .expect("run");
    let winner = n - 1;
    for i in 0..n {
        let s = sim.status(i);
        let want = if i == winner {
            Role::Leader
        } else {
            Role::Follower
        };
        assert_eq!(
            (s.role, s.leader),
            (want, Some(winner)),
            "node {i} on ring {order:?}"
        );
    }
    sim.finish().metrics
}

fn harmonic(n: u32) -> f64 {
    (1..=n).map(|k| 1.0 / f64::from(k)).sum()
}

/// A uniformly random ring placement (Fisher–Yates on a seeded stream).
fn random_order(n: u32, rng: &mut SimRng) -> Vec<NodeId> {
    let mut v: Vec<NodeId> = (0..n).collect();
    for i in (1..v.len()).rev() {
        let j = rng.index(i + 1);
        v.swap(i, j);
    }
    v
}

const RING_SIZES: &[u32] = &[3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 16, 32];

#[test]
fn chang_roberts_best_placement_is_2n_minus_1() {
    // Chang & Roberts 1979, all processes initiating: when ids increase along the direction
    // of travel every id but the largest is swallowed after one hop: (n-1) + n = 2n-1
    // Election messages. Counted: Election tokens only; the Elected lap is n more (asserted
    // apart), Acks are heartbeat-class receipts, one per token.
    for &n in RING_SIZES {
        let m = ring_election((0..n).collect(), Variant::ChangRoberts);
        let n64 = u64::from(n);
        assert_eq!(
            sent(&m, "Election"),
            2 * n64 - 1,
            "Chang-Roberts best case, n={n}"
        );
        assert_eq!(sent(&m, "Elected"), n64, "Elected lap, n={n}");
        assert_eq!(sent(&m, "Ack"), 3 * n64 - 1, "one Ack per token, n={n}");
    }
}

#[test]
fn chang_roberts_worst_placement_is_n_n_plus_1_over_2() {
    // Chang & Roberts 1979 worst case: ids decreasing along the direction of travel; id k
    // travels k+1 hops, the largest n hops: n(n+1)/2 Election messages (+ n Elected).
    for &n in RING_SIZES {
        let m = ring_election((0..n).rev().collect(), Variant::ChangRoberts);
        let n64 = u64::from(n);
        assert_eq!(
            sent(&m, "Election"),
            n64 * (n64 + 1) / 2,
            "Chang-Roberts worst case, n={n}"
        );
        assert_eq!(sent(&m, "Elected"), n64, "Elected lap, n={n}");
    }
}

#[test]
fn chang_roberts_average_is_n_h_n() {
    // Chang & Roberts 1979, average over random placements with all initiating: n·H_n
    // Election messages (H_n the n-th harmonic number), Elected lap not included.
    for (n, seed) in [(8u32, 8u64), (32, 32)] {
        let mut rng = SimRng::new(seed, Stream::Explore);
        let runs = 2000;
        let mut total = 0u64;
        let n64 = u64::from(n);
        for _ in 0..runs {
            let order = random_order(n, &mut rng);
            let m = ring_election(order.clone(), Variant::ChangRoberts);
            let e = sent(&m, "Election");
            assert!(
                (2 * n64 - 1..=n64 * (n64 + 1) / 2).contains(&e),
                "{e} outside [best, worst] on {order:?}"
            );
            assert_eq!(sent(&m, "Elected"), n64);
            total += e;
        }
        let mean = total as f64 / f64::from(runs);
        let expected = f64::from(n) * harmonic(n);
        let rel = (mean - expected).abs() / expected;
        eprintln!(
            "Chang-Roberts n={n}: mean {mean:.2} over {runs} placements, n·H_n = {expected:.2} ({:.2}% off)",
            rel * 100.0
        );
        assert!(
            rel < 0.03,
            "Chang-Roberts average n={n}: mean {mean:.2} vs n·H_n {expected:.2}"
        );
    }
}

#[test]
fn lelann_is_n_squared() {
    // LeLann 1977: every id travels the whole ring: n² Election messages, no Elected lap.
    let mut rng = SimRng::new(7, Stream::Explore);
    for &n in RING_SIZES {
        let n64 = u64::from(n);
        for order in [
            (0..n).collect(),
            (0..n).rev().collect(),
            random_order(n, &mut rng),
        ] {
            let m = ring_election(order, Variant::Lcr);
            assert_eq!(sent(&m, "Election"), n64 * n64, "LeLann n={n}");
            assert_eq!(sent(&m, "Elected"), 0, "LeLann has no Elected lap, n={n}");
        }
    }
}

#[test]
fn ring_skips_a_crashed_successor_mid_election() {
    // Tanenbaum & van Steen §6.5: a node whose successor does not acknowledge skips it.
    // Ring 0..5, node 2 crashes just before the first election; 1's token to 2 times out.
    let n = 5;
    let cfg = RingConfig {
        initiators: Initiators::One,
        ..RingConfig::default()
    };
    let mut sim = Sim::<Ring>::new(reliable(n, SimDuration::from_secs(1)), cfg);
    sim.apply_fault(FaultAction::Crash {
        target: Target::Node(2),
        restart_after: None,
    });
    sim.run_until(SimTime::ZERO + SimDuration::from_secs(1))
        .unwrap();
    for i in [0, 1, 3] {
        assert_eq!(sim.status(i).leader, Some(4), "node {i}");
    }
    assert_eq!(sim.status(4).role, Role::Leader);
    let m = sim.finish().metrics;
    assert_eq!(
        m.messages_by_kind["Election"].dropped, 1,
        "one token to the dead node"
    );
}

// ----- Bully -----

/// Boot `n` nodes, let n-1 lead, crash it, and count what the given detectors cause.
fn bully_crash_highest(n: u32, detectors: Vec<NodeId>) -> (RunMetrics, RunMetrics, Sim<Bully>) {
    let cfg = BullyConfig {
        detectors: Some(detectors),
        ..BullyConfig::default()
    };
    let mut sim = Sim::<Bully>::new(reliable(n, SimDuration::from_secs(3)), cfg);
    sim.run_until(SimTime::ZERO + SimDuration::from_secs(1))
        .unwrap();
    for i in 0..n {
        assert_eq!(
            sim.status(i).leader,
            Some(n - 1),
            "steady state before the crash, n={n}"
        );
    }
    let before = sim.metrics_now();
    sim.apply_fault(FaultAction::Crash {
        target: Target::Node(n - 1),
        restart_after: None,
    });
    sim.run_until(SimTime::ZERO + SimDuration::from_secs(3))
        .unwrap();
    for i in 0..n - 1 {
        let want = if i == n - 2 {
            Role::Leader
        } else {
            Role::Follower
        };
        assert_eq!(
            (sim.status(i).role, sim.status(i).leader),
            (want, Some(n - 2)),
            "node {i}, n={n}"
        );
    }
    let after = sim.finish().metrics;
    (before, after, sim)
}

fn delta(before: &RunMetrics, after: &RunMetrics, kind: &str) -> u64 {
    sent(after, kind) - sent(before, kind)
}

#[test]
fn bully_next_highest_detects_sends_n_minus_2_coordinators() {
    // Garcia-Molina 1982 best case (e.g. Coulouris et al., Distributed Systems §15.3): the
    // highest node fails and the next-highest notices first: it sends Election to the dead
    // node only, hears no Answer, and announces to the n-2 lower nodes.
    for n in 3..=12 {
        let (b, a, _) = bully_crash_highest(n, vec![n - 2]);
        let n64 = u64::from(n);
        assert_eq!(
            delta(&b, &a, "Coordinator"),
            n64 - 2,
            "Coordinator messages, n={n}"
        );
        assert_eq!(
            delta(&b, &a, "Election"),
            1,
            "Election to the dead node, n={n}"
        );
        assert_eq!(delta(&b, &a, "Answer"), 0, "n={n}");
        assert_eq!(
            a.messages_by_kind["Election"].dropped - b.messages_by_kind["Election"].dropped,
            1
        );
    }
}

#[test]
fn bully_lowest_detects_costs_n_squared_minus_n_minus_1() {
    // Garcia-Molina 1982 worst case: only the lowest node notices the crash of the highest.
    // Counting rule: every node holds exactly one election (Election to every higher id,
    // the dead one included: n(n-1)/2), every live receiver answers every Election it gets
    // ((n-1)(n-2)/2 Answers), and the winner n-2 sends Coordinator to every lower id (n-2).
    // Total n² - n - 1. Heartbeats are not counted.
    for n in 3..=12 {
        let (b, a, _) = bully_crash_highest(n, vec![0]);
        let n64 = u64::from(n);
        let (e, ans, c) = (
            delta(&b, &a, "Election"),
            delta(&b, &a, "Answer"),
            delta(&b, &a, "Coordinator"),
        );
        assert_eq!(e, n64 * (n64 - 1) / 2, "Elections, n={n}");
        assert_eq!(ans, (n64 - 1) * (n64 - 2) / 2, "Answers, n={n}");
        assert_eq!(c, n64 - 2, "Coordinators, n={n}");
        assert_eq!(
            e + ans + c,
            n64 * n64 - n64 - 1,
            "Bully worst case total, n={n}"
        );
    }
}

// ----- Partition 2+3 -----

fn scenario(path: &str, sets: &[(&str, toml::Value)]) -> Scenario {
    let file = ScenarioFile::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(path).as_path())
        .expect("scenario file");
    let sets: Vec<Assignment> = sets
        .iter()
        .map(|(k, v)| Assignment {
            key: k.to_string(),
            value: v.clone(),
            origin: Origin::Override(format!("{k}={v}")),
        })
        .collect();
    file.instantiate(&sets).expect("valid scenario")
}

/// Counts moments at which a node of `nodes` becomes leader.
struct LeaderWatch {
    nodes: Vec<NodeId>,
    seen: Rc<Cell<u64>>,
}

impl Observer for LeaderWatch {
    fn observe(&mut self, ev: &TraceEvent<'_>) {
        if let TraceEvent::Status { node, new, .. } = *ev
            && new.role == Role::Leader
            && self.nodes.contains(&node)
        {
            self.seen.set(self.seen.get() + 1);
        }
    }
}

const PARTITION_SEEDS: u64 = 100;

fn partition_runs(path: &str, sets: &[(&str, toml::Value)]) -> Vec<(RunMetrics, u64)> {
    let sc = scenario(path, sets);
    (1..=PARTITION_SEEDS)
        .map(|seed| {
            let seen = Rc::new(Cell::new(0));
            let watch = LeaderWatch {
                nodes: vec![0, 1],
                seen: seen.clone(),
            };
            let o = runner::run(&sc, seed, vec![Box::new(watch)])
                .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            (o.metrics, seen.get())
        })
        .collect()
}

fn short() -> (&'static str, toml::Value) {
    ("duration", toml::Value::String("20s".into()))
}

#[test]
fn bully_without_quorum_guard_splits_its_brain_under_a_partition() {
    // Garcia-Molina 1982 assumes no partitions: the minority {0,1} cannot reach the
    // coordinator 4, hears no Answer from 2..4 and elects 1, while 4 keeps leading.
    let runs = partition_runs(
        "scenarios/bully-partition.toml",
        &[short(), ("bully.quorum_guard", false.into())],
    );
    for (seed, (m, minority_leaders)) in (1..).zip(&runs) {
        assert!(
            m.split_brain_incidents >= 1,
            "seed {seed}: no split brain without quorum_guard"
        );
        assert!(
            *minority_leaders >= 1,
            "seed {seed}: the minority never elected a leader"
        );
    }
    let total_ms: f64 = runs.iter().map(|(m, _)| m.split_brain_ms).sum();
    eprintln!(
        "bully partition, no guard: mean split brain {:.1} ms per 20 s run",
        total_ms / runs.len() as f64
    );
}

#[test]
fn bully_with_quorum_guard_keeps_the_minority_leaderless() {
    // The quorum guard (majority acks to claim or keep leadership): the minority side never
    // gathers 3 of 5 acks, so it has no leader and there is no split brain.
    let runs = partition_runs(
        "scenarios/bully-partition.toml",
        &[short(), ("bully.quorum_guard", true.into())],
    );
    let clean = runs
        .iter()
        .filter(|(m, minority)| m.split_brain_ms == 0.0 && *minority == 0)
        .count();
    eprintln!(
        "bully partition, quorum_guard: {clean}/{} seeds with no minority leader and no split brain",
        runs.len()
    );
    assert!(
        clean * 100 >= runs.len() * 99,
        "only {clean} of {} seeds clean",
        runs.len()
    );
    for (seed, (m, _)) in (1..).zip(&runs) {
        assert!(
            m.elections >= 1 && m.availability > 0.5,
            "seed {seed}: the majority must keep a leader: {m:?}"
        );
    }
}

#[test]
fn raft_has_no_same_term_leaders_under_the_same_partition() {
    // Raft §5.2 Election Safety: at most one leader per term, partitions included.
    let runs = partition_runs("scenarios/raft-partition.toml", &[short()]);
    for (seed, (m, _)) in (1..).zip(&runs) {
        assert_eq!(m.same_term_leaders, 0, "seed {seed}");
        assert!(m.elections >= 1, "seed {seed}");
    }
}

#[test]
fn bully_quorum_guard_demotes_a_coordinator_cut_off_in_the_minority() {
    // The guard's other half: coordinator 4 is cut off with 3 (partition [[3,4]] of
    // scenarios/partition.toml, three 5 s partitions in 30 s). Without the guard 4 leads on
    // beside the majority's new coordinator for the whole partition; with it, 4 steps down
    // within a heartbeat timeout, before the majority can elect (rare overlaps of ~1 ms).
    let runs = |guard: bool| -> Vec<RunMetrics> {
        let sc = scenario(
            "scenarios/partition.toml",
            &[
                ("algorithm", "bully".into()),
                (
                    "fault.0.partition",
                    toml::Value::Array(vec![toml::Value::Array(vec![3.into(), 4.into()])]),
                ),
                ("bully.quorum_guard", guard.into()),
            ],
        );
        (1..=50)
            .map(|seed| runner::run(&sc, seed, Vec::new()).unwrap().metrics)
            .collect()
    };
    let mean_split =
        |ms: &[RunMetrics]| ms.iter().map(|m| m.split_brain_ms).sum::<f64>() / ms.len() as f64;
    let (off, on) = (runs(false), runs(true));
    eprintln!(
        "leader in minority: split brain {:.1} ms/run without guard, {:.2} ms/run with",
        mean_split(&off),
        mean_split(&on)
    );
    assert!(
        off.iter().all(|m| m.split_brain_ms > 4000.0),
        "without the guard every partition splits the brain"
    );
    assert!(
        mean_split(&on) < 10.0,
        "guard: mean split brain {:.2} ms per run",
        mean_split(&on)
    );
    assert!(
        on.iter().all(|m| m.split_brain_ms < 50.0),
        "guard: an overlap longer than 50 ms"
    );
}
