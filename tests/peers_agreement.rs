//! electsim computes the same thing as the Python peers of `shared/peers/` on the raft-churn
//! workload: message counts, leaders elected and mean election latency agree within
//! sampling error. The peer numbers were produced by
//! `python3 shared/peers/heapq_raft.py --n N --virtual-s 600 --seed S` (S = 1..10) and are
//! stored in `tests/fixtures/peers-heapq-raft-churn-600s.jsonl`.
//!
//! The peers define election latency as "leader crash -> first node becomes leader", which
//! is not electsim's `failover_ms` (that waits for a majority to follow the new leader), so
//! this test measures the peers' definition from electsim's trace with its own observer.

use electsim::runner;
use electsim::scenario::{Assignment, Origin, ScenarioFile, parse_value};
use electsim::sim::{FaultAction, Observer, Role, SimTime, TraceEvent};
use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

#[derive(Default, Debug)]
struct PeerCounts {
    leaders_elected: u64,
    pending_crash: Option<SimTime>,
    samples_ms: Vec<f64>,
}

struct PeerView(Rc<RefCell<PeerCounts>>);

impl Observer for PeerView {
    fn observe(&mut self, ev: &TraceEvent<'_>) {
        let mut c = self.0.borrow_mut();
        match *ev {
            TraceEvent::Fault {
                at,
                action: FaultAction::Crash { .. },
            } => c.pending_crash = Some(at),
            TraceEvent::Status { at, old, new, .. }
                if new.role == Role::Leader && old.role != Role::Leader =>
            {
                c.leaders_elected += 1;
                if let Some(t) = c.pending_crash.take() {
                    c.samples_ms.push(at.since(t).as_ms_f64());
                }
            }
            _ => {}
        }
    }
}

struct Sample {
    sent: f64,
    delivered: f64,
    leaders: f64,
    mean_election_ms: f64,
}

fn ours(n: u32, seed: u64) -> Sample {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = ScenarioFile::read(&root.join("scenarios/bench-raft-churn.toml")).unwrap();
    let set = |k: &str, v: &str| Assignment {
        key: k.into(),
        value: parse_value(v),
        origin: Origin::Unlocated,
    };
    let sc = file
        .instantiate(&[set("nodes", &n.to_string()), set("duration", "\"600s\"")])
        .unwrap();
    let counts = Rc::new(RefCell::new(PeerCounts::default()));
    let o = runner::run(&sc, seed, vec![Box::new(PeerView(counts.clone()))]).unwrap();
    let c = counts.borrow();
    Sample {
        sent: o.metrics.messages_sent as f64,
        delivered: o.metrics.messages_delivered as f64,
        leaders: c.leaders_elected as f64,
        mean_election_ms: c.samples_ms.iter().sum::<f64>() / c.samples_ms.len() as f64,
    }
}

fn peers(n: u32) -> Vec<Sample> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/peers-heapq-raft-churn-600s.jsonl");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["n"].as_u64() == Some(u64::from(n)))
        .map(|v| Sample {
            sent: v["messages_sent"].as_f64().unwrap(),
            delivered: v["messages_delivered"].as_f64().unwrap(),
            leaders: v["leaders_elected"].as_f64().unwrap(),
            mean_election_ms: v["mean_election_ms"].as_f64().unwrap(),
        })
        .collect()
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0);
    (m, var.sqrt())
}

/// Welch z-score of the difference of two means.
fn z(a: &[f64], b: &[f64]) -> f64 {
    let (ma, sa) = mean_sd(a);
    let (mb, sb) = mean_sd(b);
    (ma - mb).abs()
        / (sa * sa / a.len() as f64 + sb * sb / b.len() as f64)
            .sqrt()
            .max(1e-9)
}

fn agree(n: u32) {
    let theirs = peers(n);
    assert_eq!(
        theirs.len(),
        10,
        "fixture should hold seeds 1..10 for n={n}"
    );
    let mine: Vec<Sample> = (1..=10).map(|s| ours(n, s)).collect();
    let pick = |v: &[Sample], f: fn(&Sample) -> f64| v.iter().map(f).collect::<Vec<_>>();
    for (name, f) in [
        ("messages_sent", (|s: &Sample| s.sent) as fn(&Sample) -> f64),
        ("messages_delivered", |s| s.delivered),
        ("leaders_elected", |s| s.leaders),
        ("mean_election_ms", |s| s.mean_election_ms),
    ] {
        let (a, b) = (pick(&mine, f), pick(&theirs, f));
        let zz = z(&a, &b);
        let (ma, mb) = (mean_sd(&a).0, mean_sd(&b).0);
        println!("n={n} {name}: electsim {ma:.1} vs heapq peer {mb:.1} (z = {zz:.2})");
        // |z| < 4: a real difference of a few percent in these counts would show as z >> 4
        // (the seed-to-seed spread is well under 1%), while chance alone exceeds 4 with
        // probability ~6e-5.
        assert!(
            zz < 4.0,
            "n={n} {name}: electsim mean {ma:.2} vs peer mean {mb:.2}, z = {zz:.2}"
        );
    }
}

#[test]
fn raft_churn_agrees_with_heapq_peer_n5() {
    agree(5);
}

#[test]
fn raft_churn_agrees_with_heapq_peer_n51() {
    agree(51);
}
