//! Kernel benchmarks (criterion): the bare event queue, network routing, one Raft handler
//! step, and whole raft-churn runs. `cargo bench --bench kernel`; throughput is reported in
//! elements (events) per second. The bare-queue "hold" loop runs at the pending-event counts
//! the raft-churn workload sees, so the report shows how close a full simulation comes to
//! the queue's own ceiling.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use electsim::protocols::raft::{LOG_UP_TO_DATE, Raft, RaftConfig, RaftMsg};
use electsim::scenario::{Assignment, Origin, ScenarioFile, parse_value};
use electsim::sim::network::{DelayDist, Links};
use electsim::sim::queue::EventQueue;
use electsim::sim::rng::{SimRng, Stream};
use electsim::sim::{Ctx, Out, Protocol, SimDuration, SimTime};
use std::hint::black_box;
use std::path::Path;

/// Hold model: pop the earliest event, push one new event 1..10 ms later.
fn queue_hold(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue_hold");
    const OPS: u64 = 100_000;
    g.throughput(Throughput::Elements(OPS));
    for pending in [100usize, 1_000, 10_000] {
        g.bench_function(format!("pending_{pending}"), |b| {
            b.iter_batched(
                || {
                    let mut q = EventQueue::new();
                    let mut rng = SimRng::new(1, Stream::Network);
                    for _ in 0..pending {
                        q.push(SimTime(rng.range_inclusive(0, 10_000_000)), [0u64; 6]);
                    }
                    (q, rng)
                },
                |(mut q, mut rng)| {
                    for _ in 0..OPS {
                        let (t, e) = q.pop().unwrap();
                        q.push(SimTime(t.0 + rng.range_inclusive(1_000_000, 10_000_000)), e);
                    }
                    black_box(q.len())
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

fn network_routing(c: &mut Criterion) {
    let mut g = c.benchmark_group("network");
    const N: u64 = 10_000;
    g.throughput(Throughput::Elements(N));
    let mut links = Links::default();
    links.partition(51, &[vec![0, 1, 2], vec![3, 4, 5]]);
    let dist = DelayDist::Uniform {
        min: SimDuration::from_millis(1),
        max: SimDuration::from_millis(10),
    };
    g.bench_function("route_and_sample_delay", |b| {
        let mut rng = SimRng::new(2, Stream::Network);
        b.iter(|| {
            let mut acc = 0u64;
            for i in 0..N {
                let (from, to) = ((i % 51) as u32, ((i * 7) % 51) as u32);
                if links.is_up(from, to) {
                    acc = acc.wrapping_add(dist.sample(&mut rng).0);
                }
            }
            black_box(acc)
        })
    });
    g.finish();
}

fn raft_step(c: &mut Criterion) {
    let cfg = RaftConfig::default();
    let ctx = Ctx {
        id: 0,
        nodes: 5,
        service: 0,
        now: SimTime(0),
        config: &cfg,
    };
    let mut g = c.benchmark_group("raft");
    g.throughput(Throughput::Elements(1));
    g.bench_function("on_message_heartbeat", |b| {
        let mut out = Out::default();
        let mut node = Raft::boot(&ctx, None, &mut out);
        b.iter(|| {
            out.clear();
            node.on_message(&ctx, 1, RaftMsg::AppendEntries { term: 1 }, &mut out);
            black_box(out.effects.len())
        })
    });
    g.bench_function("on_message_request_vote", |b| {
        let mut out = Out::default();
        b.iter_batched(
            || Raft::boot(&ctx, None, &mut Out::default()),
            |mut node| {
                out.clear();
                node.on_message(
                    &ctx,
                    2,
                    RaftMsg::RequestVote {
                        term: 2,
                        last_log: LOG_UP_TO_DATE,
                    },
                    &mut out,
                );
                black_box(out.effects.len())
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn whole_runs(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = ScenarioFile::read(&root.join("scenarios/bench-raft-churn.toml")).unwrap();
    let mut g = c.benchmark_group("raft_churn_60s");
    g.sample_size(10);
    for n in [5u32, 51] {
        let set = |k: &str, v: &str| Assignment {
            key: k.into(),
            value: parse_value(v),
            origin: Origin::Unlocated,
        };
        let sc = file
            .instantiate(&[set("nodes", &n.to_string()), set("duration", "\"60s\"")])
            .unwrap();
        let events = electsim::runner::run(&sc, 1, Vec::new()).unwrap().events;
        g.throughput(Throughput::Elements(events));
        g.bench_function(format!("n{n}"), |b| {
            b.iter(|| black_box(electsim::runner::run(&sc, 1, Vec::new()).unwrap().events))
        });
    }
    g.finish();
}

criterion_group!(benches, queue_hold, network_routing, raft_step, whole_runs);
criterion_main!(benches);
