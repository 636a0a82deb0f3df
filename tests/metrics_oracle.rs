//! Agreement between electsim's metrics and an independent second implementation of their
//! definitions (`tests/oracle`), over random fault plans (issue 12).
//!
//! `cargo test --release --test metrics_oracle` runs 500 plans; `ELECTSIM_ORACLE_CASES=N`
//! runs N. A disagreement prints every metric that differs, the scenario TOML and the seed:
//! save the text as `x.toml` and `electsim run x.toml --seed S --format json` reproduces it.
//!
//! `ELECTSIM_ORACLE_CASES=2000 cargo test --release --test metrics_oracle -- --ignored survey
//! --nocapture` runs plans without stopping at the first disagreement and prints, per metric,
//! how many plans disagreed and the shortest repro.

mod oracle;

use electsim::runner;
use electsim::scenario::ScenarioFile;
use oracle::{KnownDefects, Oracle, OracleMetrics, Tap, compare};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;

/// Run `text` with `seed`; the disagreements, if any.
fn disagreements(text: &str, seed: u64) -> Vec<String> {
    disagreements_with(text, seed, None).0
}

/// The disagreements with the oracle and with an oracle that reproduces the `known` defects,
/// and the oracle's metrics.
type Compared = (Vec<String>, Vec<String>, OracleMetrics);

fn disagreements_with(text: &str, seed: u64, known: Option<KnownDefects>) -> Compared {
    let file = ScenarioFile::from_text(Path::new("oracle.toml"), text.to_string())
        .unwrap_or_else(|e| panic!("generated scenario does not parse: {e}\n{text}"));
    let sc = file
        .instantiate(&[])
        .unwrap_or_else(|e| panic!("generated scenario is invalid: {e}\n{text}"));
    let oracle = Rc::new(RefCell::new(Oracle::new(sc.nodes)));
    let legacy = Rc::new(RefCell::new(Oracle::with_known_defects(
        sc.nodes,
        known.unwrap_or_default(),
    )));
    let mut observers: Vec<Box<dyn electsim::sim::Observer>> = vec![Box::new(Tap(oracle.clone()))];
    if known.is_some() {
        observers.push(Box::new(Tap(legacy.clone())));
    }
    let outcome =
        runner::run(&sc, seed, observers).unwrap_or_else(|e| panic!("run failed: {e}\n{text}"));
    let ours = oracle.borrow();
    let ours = ours.result().expect("the oracle saw the End event");
    let strict = compare(ours, &outcome.metrics);
    let known = match known {
        Some(_) => compare(legacy.borrow().result().expect("End"), &outcome.metrics),
        None => Vec::new(),
    };
    (strict, known, ours.clone())
}

fn report(text: &str, seed: u64, diffs: &[String]) -> String {
    format!(
        "the metrics oracle and electsim disagree (seed {seed}):\n  {}\n--- scenario (electsim run x.toml --seed {seed} --format json) ---\n{text}",
        diffs.join("\n  ")
    )
}

/// A small deterministic generator (splitmix64) so that one `u64` from proptest is a plan.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next() as usize % items.len()]
    }
}

/// A node target: an id or `"leader"`.
fn target(g: &mut Gen, nodes: u64) -> String {
    if g.chance(0.4) {
        "\"leader\"".into()
    } else {
        g.range(0, nodes - 1).to_string()
    }
}

fn heal_after(g: &mut Gen) -> String {
    if g.chance(0.6) {
        format!("heal_after = \"{}ms\"\n", g.range(50, 4000))
    } else {
        String::new()
    }
}

/// A random plan as scenario text: algorithm, 3–7 nodes, network loss / duplication / delay,
/// clock drift, fsync, Raft pre-vote and check-quorum, 0–8 scripted faults of every kind (some
/// repeating with `every`/`until`, network faults often with `heal_after`, so they overlap)
/// and sometimes a random fault process.
fn plan(g: &mut Gen) -> String {
    let algorithm = g.pick(&["raft", "bully", "ring", "zookeeper", "etcd", "k8s"]);
    let nodes = g.range(3, 7);
    let secs = g.range(5, 15);
    let service = matches!(algorithm, "zookeeper" | "etcd" | "k8s");
    let replicas = if service && g.chance(0.4) {
        g.pick(&["3", "5"]).parse::<u64>().unwrap()
    } else {
        1
    };
    let total = nodes + if service { replicas } else { 0 };
    let delay = g.pick(&[
        "{ constant = \"5ms\" }",
        "{ uniform = [\"1ms\", \"10ms\"] }",
        "{ uniform = [\"1ms\", \"40ms\"] }",
        "{ exponential = { floor = \"1ms\", mean = \"5ms\" } }",
    ]);
    let loss = if g.chance(0.3) {
        g.range(1, 100) as f64 / 1000.0
    } else {
        0.0
    };
    let duplicate = if g.chance(0.3) {
        g.range(1, 100) as f64 / 1000.0
    } else {
        0.0
    };
    let mut s = format!(
        "name = \"oracle\"\nalgorithm = \"{algorithm}\"\nnodes = {nodes}\nduration = \"{secs}s\"\n\
         max_events = 20000000\n\n[network]\ndelay = {delay}\nloss = {loss}\nduplicate = {duplicate}\n"
    );
    if g.chance(0.3) {
        s += &format!("\n[storage]\nfsync = \"{}ms\"\n", g.range(1, 20));
    }
    match algorithm {
        "raft" => {
            s += &format!(
                "\n[raft]\npre_vote = {}\ncheck_quorum = {}\n",
                g.chance(0.5),
                g.chance(0.5)
            );
        }
        "bully" => s += &format!("\n[bully]\nquorum_guard = {}\n", g.chance(0.4)),
        "zookeeper" => {
            s += &format!(
                "\n[zookeeper]\nsession_timeout = \"{}ms\"\nherd = {}\nfencing = {}\nclient_step_down = {}\n",
                g.range(600, 2000),
                g.chance(0.3),
                g.chance(0.3),
                g.chance(0.8)
            );
        }
        "etcd" => {
            s += &format!(
                "\n[etcd]\nlease_ttl = \"{}ms\"\nfencing = {}\n",
                g.range(900, 3000),
                g.chance(0.3)
            );
        }
        "k8s" => {
            // client-go's ratios (15 s / 10 s / 2 s) scaled to the plan's seconds.
            let retry_ms = g.range(100, 300);
            let renew_ms = retry_ms * g.range(3, 6);
            s += &format!(
                "\n[k8s]\nlease_duration = \"{}ms\"\nrenew_deadline = \"{renew_ms}ms\"\nretry_period = \"{retry_ms}ms\"\n",
                renew_ms + g.range(retry_ms, 3 * retry_ms)
            );
        }
        _ => {}
    }
    if service && replicas > 1 {
        s += &format!("\n[service]\nreplicas = {replicas}\n");
    }
    let first_clock = g.range(0, nodes - 1);
    for i in 0..g.range(0, 2) {
        s += &format!(
            "\n[[clock]]\nnode = {}\ndrift_ppm = {}.0\noffset = \"{}ms\"\n",
            (first_clock + i) % nodes,
            g.range(0, 200_000) as i64 - 100_000,
            g.range(0, 500)
        );
    }
    let end_ms = secs * 1000;
    let mut faults = Vec::new();
    for _ in 0..g.range(0, 8) {
        let at = g.range(0, end_ms - 1);
        let action = match g.range(0, 13) {
            0 | 1 => format!(
                "crash = {}\nrestart_after = \"{}ms\"\n",
                target(g, nodes),
                g.range(10, 4000)
            ),
            2 => format!("crash = {}\n", target(g, nodes)),
            3 => format!("restart = {}\n", g.range(0, nodes - 1)),
            4 => format!(
                "pause = {}\nduration = \"{}ms\"\n",
                target(g, nodes),
                g.range(10, 4000)
            ),
            5 | 6 => {
                // Each node (replicas included) goes to one of k groups or to none.
                let k = g.range(2, 3);
                let mut groups = vec![Vec::new(); k as usize];
                for n in 0..total {
                    let slot = g.range(0, k);
                    if slot < k {
                        groups[slot as usize].push(n);
                    }
                }
                groups.retain(|gr| !gr.is_empty());
                if groups.is_empty() {
                    groups.push(vec![0]);
                }
                format!("partition = {groups:?}\n{}", heal_after(g))
            }
            7 | 8 => {
                let from = g.range(0, total - 1);
                let to = (from + g.range(1, total - 1)) % total;
                format!("cut = [{from}, {to}]\n{}", heal_after(g))
            }
            9 => format!("isolate = {}\n{}", target(g, nodes), heal_after(g)),
            10 => "heal = true\n".to_string(),
            11 => format!("set_loss = {}\n", g.range(0, 150) as f64 / 1000.0),
            12 => format!(
                "set_delay = {}\n",
                g.pick(&[
                    "{ constant = \"2ms\" }",
                    "{ uniform = [\"5ms\", \"60ms\"] }"
                ])
            ),
            _ => format!(
                "clock_drift = {}\ndrift_ppm = {}.0\noffset = \"{}ms\"\n",
                target(g, nodes),
                g.range(0, 300_000) as i64 - 150_000,
                g.range(0, 300)
            ),
        };
        // Some faults repeat, so that heal_after timers of one fault overlap later copies.
        let repeat = if g.chance(0.15) {
            let every = g.range(300, 3000);
            let until = g.range(at + 1, end_ms);
            format!("every = \"{every}ms\"\nuntil = \"{until}ms\"\n")
        } else {
            String::new()
        };
        faults.push((at, format!("{repeat}{action}")));
    }
    faults.sort();
    for (at, action) in faults {
        s += &format!("\n[[fault]]\nat = \"{at}ms\"\n{action}");
    }
    if g.chance(0.15) {
        s += &format!(
            "\n[[random_fault]]\nkind = \"{}\"\nrate_per_s = {}\nmean_duration = \"{}ms\"\n",
            g.pick(&["crash", "partition", "pause"]),
            g.range(1, 10) as f64 / 10.0,
            g.range(100, 2000)
        );
    }
    s
}

fn cases() -> u32 {
    std::env::var("ELECTSIM_ORACLE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500)
}

#[test]
fn oracle_and_metrics_agree_on_random_fault_plans() {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        max_shrink_iters: 0,
        ..Config::default()
    });
    let result = runner.run(&(any::<u64>(), 0u64..10_000), |(plan_seed, seed)| {
        let text = plan(&mut Gen(plan_seed));
        let diffs = disagreements(&text, seed);
        prop_assert!(diffs.is_empty(), "{}", report(&text, seed, &diffs));
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Every plan's disagreements, grouped by metric (not run by default).
#[test]
#[ignore]
fn survey() {
    let mut classes: BTreeMap<String, (u32, String)> = BTreeMap::new();
    let n = cases();
    let mut plans = 0;
    let (mut disagreeing, mut explained) = (0, 0);
    let mut coverage: BTreeMap<&str, u32> = BTreeMap::new();
    // Group only what the known defects 2-5 do not explain, unless asked.
    let show_known = std::env::var("ELECTSIM_ORACLE_SHOW_KNOWN").is_ok();
    // Which known defects to reproduce (default all): a comma list of boot, open, lost,
    // service, partition.
    let list = std::env::var("ELECTSIM_ORACLE_KNOWN")
        .unwrap_or_else(|_| "boot,open,lost,service,partition".into());
    let has = |k: &str| list.split(',').any(|x| x.trim() == k);
    let known = KnownDefects {
        boot_samples: has("boot"),
        open_interval_sends: has("open"),
        detect_by_lost_leader: has("lost"),
        detect_by_service: has("service"),
        partition_replaces: has("partition"),
    };
    for i in 0..n {
        let text = plan(&mut Gen(u64::from(i) * 7919 + 1));
        let seed = u64::from(i) % 97;
        let (strict, unexplained, m) = disagreements_with(&text, seed, Some(known));
        plans += 1;
        for (what, seen) in [
            ("failover", m.failover_ms.count > 0),
            ("detect", m.detect_ms.count > 0),
            ("converge", m.converge_ms.count > 0),
            ("split brain", m.split_brain_incidents > 0),
            ("same-term leaders", m.same_term_leaders > 0),
            ("unnecessary elections", m.unnecessary_elections > 0),
            ("lease overlap", m.lease_overlap_incidents > 0),
            (
                "stale actions",
                m.stale_actions_accepted + m.stale_actions_rejected > 0,
            ),
            ("leaderless at end", m.leaderless_at_end),
        ] {
            *coverage.entry(what).or_default() += u32::from(seen);
        }
        if !strict.is_empty() {
            explained += u32::from(unexplained.is_empty());
            disagreeing += 1;
        }
        let diffs = if show_known { strict } else { unexplained };
        for d in diffs {
            let metric = d.split(':').next().unwrap_or("").to_string();
            let alg = text
                .lines()
                .find(|l| l.starts_with("algorithm"))
                .unwrap_or("")
                .to_string();
            let key = format!("{metric} [{alg}]");
            let e = classes.entry(key).or_insert((0, String::new()));
            e.0 += 1;
            let repro = format!("{d}\nseed {seed}\n{text}");
            if e.1.is_empty() || repro.len() < e.1.len() {
                e.1 = repro;
            }
        }
    }
    println!(
        "{plans} plans, {disagreeing} disagree, {explained} of them only as known defects 2-5 do"
    );
    println!("plans in which the oracle saw: {coverage:?}");
    for (k, (count, repro)) in &classes {
        println!("=== {k}: {count} plans; shortest repro:\n{repro}");
    }
}

/// One scenario file and seed through both implementations (not run by default):
/// `ELECTSIM_ORACLE_FILE=x.toml ELECTSIM_ORACLE_SEED=7 cargo test --release --test
/// metrics_oracle -- --ignored replay --nocapture`.
#[test]
#[ignore]
fn replay() {
    let Ok(path) = std::env::var("ELECTSIM_ORACLE_FILE") else {
        println!("set ELECTSIM_ORACLE_FILE (and ELECTSIM_ORACLE_SEED)");
        return;
    };
    let text = std::fs::read_to_string(&path).expect("read ELECTSIM_ORACLE_FILE");
    let seed = std::env::var("ELECTSIM_ORACLE_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let diffs = disagreements(&text, seed);
    if diffs.is_empty() {
        println!("agree");
    } else {
        println!("{}", report(&text, seed, &diffs));
    }
}

/// Sanity of the oracle itself on a case computed by hand: Raft, 5 nodes, constant 5 ms
/// delay, one leader crash at 2 s without restart.
#[test]
fn oracle_counts_one_failover_for_one_leader_crash() {
    let text = "algorithm = \"raft\"\nnodes = 5\nduration = \"6s\"\n[network]\ndelay = { constant = \"5ms\" }\n\
                [[fault]]\nat = \"2s\"\ncrash = \"leader\"\n";
    let sc = ScenarioFile::from_text(Path::new("x.toml"), text.into())
        .unwrap()
        .instantiate(&[])
        .unwrap();
    assert_eq!(sc.algorithm.name(), "raft");
    let oracle = Rc::new(RefCell::new(Oracle::new(sc.nodes)));
    runner::run(&sc, 3, vec![Box::new(Tap(oracle.clone()))]).unwrap();
    let o = oracle.borrow();
    let r = o.result().unwrap();
    assert_eq!(r.elections, 2, "{r:?}");
    assert_eq!(r.failover_ms.count, 1);
    assert_eq!(
        r.detect_ms.count, 1,
        "no detection sample for the boot interval"
    );
    // Detection takes at least the minimum election timeout minus one heartbeat interval.
    let d = r.detect_ms.max.unwrap();
    assert!((100.0..=300.0).contains(&d), "{d}");
    assert!(r.converge_ms.count <= 1);
    assert_eq!(r.same_term_leaders, 0);
    assert!(!r.leaderless_at_end);
}

// ----- The oracle on hand-built traces (no engine) -----

mod hand {
    use super::oracle::Oracle;
    use electsim::sim::{
        FaultAction, MsgClass, MsgRef, NodeStatus, Observer, Role, SimTime, Target, TraceEvent,
    };

    const MS: u64 = 1_000_000;

    fn t(ms: u64) -> SimTime {
        SimTime(ms * MS)
    }

    fn st(role: Role, term: u64, leader: Option<u32>) -> NodeStatus {
        NodeStatus {
            role,
            term,
            leader,
            voted_for: None,
        }
    }

    /// Drives an oracle, remembering each node's status so events carry a correct `old`.
    struct Feed {
        o: Oracle,
        cur: Vec<NodeStatus>,
        next_id: u64,
    }

    impl Feed {
        fn new(nodes: u32) -> Feed {
            Feed {
                o: Oracle::new(nodes),
                cur: vec![NodeStatus::DOWN; nodes as usize],
                next_id: 0,
            }
        }
        fn status(&mut self, at: u64, node: u32, new: NodeStatus) {
            let old = std::mem::replace(&mut self.cur[node as usize], new);
            self.o.observe(&TraceEvent::Status {
                at: t(at),
                node,
                old,
                new,
            });
        }
        fn fault(&mut self, at: u64, action: FaultAction) {
            self.o.observe(&TraceEvent::Fault {
                at: t(at),
                action: &action,
            });
        }
        fn send(&mut self, at: u64, from: u32, to: u32, class: MsgClass) {
            self.next_id += 1;
            let msg = MsgRef {
                id: self.next_id,
                from,
                to,
                kind: 0,
                kind_name: "K",
                class,
                term: None,
                refused: false,
            };
            self.o.observe(&TraceEvent::Send { at: t(at), msg });
        }
        fn end(&mut self, at: u64) {
            self.o.observe(&TraceEvent::End { at: t(at) });
        }
        /// Boot: node 0 leads term 1, the others follow it, all at t=`at`.
        fn boot(&mut self, nodes: u32, at: u64) {
            self.status(at, 0, st(Role::Leader, 1, Some(0)));
            for n in 1..nodes {
                self.status(at, n, st(Role::Follower, 1, Some(0)));
            }
        }
    }

    /// Leader 0 of 3 crashes at 1000 ms; node 1 campaigns at 1150 ms and wins at 1300 ms,
    /// node 2 follows at 1310 ms. Open interval sends do not count.
    #[test]
    fn one_failover_by_hand() {
        let mut f = Feed::new(3);
        f.send(0, 0, 1, MsgClass::Election); // boot traffic: 1 send in the boot interval
        f.boot(3, 100);
        f.fault(
            1000,
            FaultAction::Crash {
                target: Target::Node(0),
                restart_after: None,
            },
        );
        f.status(1000, 0, NodeStatus::DOWN);
        f.send(1100, 2, 0, MsgClass::Heartbeat);
        f.status(1150, 1, st(Role::Candidate, 2, None));
        f.send(1150, 1, 2, MsgClass::Election);
        f.status(1160, 2, st(Role::Follower, 2, None));
        f.status(1300, 1, st(Role::Leader, 2, Some(1))); // 1 alone is not a majority of 3
        f.status(1310, 2, st(Role::Follower, 2, Some(1))); // now elected: 310 ms
        f.send(1400, 1, 2, MsgClass::Heartbeat); // elected: not in an interval
        f.fault(
            1500,
            FaultAction::Partition {
                groups: vec![vec![1], vec![2]],
                heal_after: None,
            },
        );
        f.send(1600, 1, 2, MsgClass::Election); // open interval at the end: not counted
        f.end(2000);
        let r = f.o.result().unwrap().clone();
        assert_eq!(r.elections, 2);
        assert_eq!(r.election_ms.count, 2);
        assert_eq!(r.election_ms.max, Some(310.0));
        assert_eq!(r.election_ms.p50, Some(100.0));
        assert_eq!(r.failover_ms.count, 1);
        assert_eq!(r.failover_ms.mean, Some(310.0));
        assert_eq!(r.detect_ms.count, 1, "no boot sample");
        assert_eq!(r.detect_ms.mean, Some(150.0));
        assert_eq!(r.converge_ms.count, 1);
        assert_eq!(r.converge_ms.mean, Some(310.0));
        // 1 boot send + 2 in the failover interval, over 2 elections.
        assert_eq!(r.messages_per_election, Some(1.5));
        assert_eq!(r.leader_changes, 1);
        assert_eq!(r.elections_started, 1);
        assert_eq!(r.unnecessary_elections, 0);
        assert_eq!(r.leader_tenure_ms.count, 2);
        assert_eq!(r.leader_tenure_ms.max, Some(900.0));
        assert_eq!(r.leader_tenure_ms.mean, Some(545.0));
        assert!((r.availability - 1090.0 / 2000.0).abs() < 1e-12);
        assert!(r.leaderless_at_end);
        assert_eq!(r.heartbeat_messages, 2);
        assert_eq!(r.heartbeats_per_s, 1.0);
        assert_eq!(r.split_brain_incidents, 0);
    }

    /// Network faults compose: a cut under a partition stays after the partition is
    /// healed only by a global heal; and a split brain of zero length is not one.
    #[test]
    fn faults_compose_and_zero_length_split_brain_is_none() {
        let mut f = Feed::new(3);
        f.boot(3, 0);
        // Cut 2 -> 0: 0 keeps 1, still elected.
        f.fault(
            100,
            FaultAction::Cut {
                from: Target::Node(2),
                to: Target::Node(0),
                heal_after: None,
            },
        );
        // Isolate 1: 0 has nobody connected both ways -> loss at 200.
        f.fault(
            200,
            FaultAction::Isolate {
                target: Target::Node(1),
                heal_after: None,
            },
        );
        f.fault(500, FaultAction::Heal); // everything up again -> election at 500
        // Node 2 claims leadership in term 1 for an instant, hands back at once.
        f.status(700, 2, st(Role::Leader, 1, Some(2)));
        f.status(700, 2, st(Role::Follower, 1, Some(0)));
        // Node 1 leads term 2 next to 0 for 50 ms: a real split brain.
        f.status(800, 1, st(Role::Leader, 2, Some(1)));
        f.status(850, 1, st(Role::Follower, 2, Some(0)));
        f.end(1000);
        let r = f.o.result().unwrap().clone();
        assert_eq!(r.elections, 2);
        assert_eq!(r.failover_ms.mean, Some(300.0));
        assert_eq!(r.split_brain_incidents, 1);
        assert_eq!(r.split_brain_ms, 50.0);
        assert_eq!(r.same_term_leaders, 1, "term 1 had leaders 0 and 2");
        // 2 became leader from follower (not a candidacy); the elected state held on.
        assert_eq!(r.elections_started, 0);
        assert!((r.availability - 0.7).abs() < 1e-12);
        assert_eq!(r.lease_overlap_ms, 0.0, "no coordination service");
    }

    /// A pause makes the leader not live until its Resume; a crash ends a pause.
    #[test]
    fn pause_and_resume() {
        let mut f = Feed::new(3);
        f.boot(3, 0);
        f.fault(
            100,
            FaultAction::Pause {
                target: Target::Node(0),
                duration: electsim::sim::SimDuration(100 * MS),
            },
        );
        f.o.observe(&TraceEvent::Resume {
            at: t(200),
            node: 0,
        });
        f.fault(
            300,
            FaultAction::Pause {
                target: Target::Node(1),
                duration: electsim::sim::SimDuration(500 * MS),
            },
        );
        f.fault(
            400,
            FaultAction::Crash {
                target: Target::Node(1),
                restart_after: None,
            },
        );
        f.status(400, 1, NodeStatus::DOWN);
        f.fault(
            450,
            FaultAction::Restart {
                target: Target::Node(1),
            },
        );
        f.status(450, 1, st(Role::Follower, 1, Some(0))); // live again: not paused any more
        f.end(1000);
        let r = f.o.result().unwrap().clone();
        assert_eq!(r.elections, 2);
        assert_eq!(r.failover_ms.mean, Some(100.0));
        // Elected from 0 to 100 and from 200 to 1000; node 1 being down alone is no loss.
        assert!((r.availability - 0.9).abs() < 1e-12);
        assert_eq!(r.leader_changes, 0);
    }
}
