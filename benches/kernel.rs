//! Kernel benchmarks (criterion): the bare event queue against `std::collections::BinaryHeap`,
//! network routing, one Raft handler step, and whole raft-churn runs.
//! `cargo bench --bench kernel`; throughput is reported in elements (events) per second. The
//! bare-queue "hold" loop runs at the pending-event counts the workloads see, so the report
//! shows how close a full simulation comes to the queue's own ceiling.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use electsim::protocols::raft::{LOG_UP_TO_DATE, Raft, RaftConfig, RaftMsg};
use electsim::scenario::{Assignment, Origin, ScenarioFile, parse_value};
use electsim::sim::network::{DelayDist, Links};
use electsim::sim::queue::EventQueue;
use electsim::sim::rng::{SimRng, Stream};
use electsim::sim::{Ctx, Out, Protocol, SimDuration, SimTime};
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::path::Path;

/// Payload of a queued event in the hold benchmarks: 48 bytes, the size of a kernel
/// message delivery (message, sender, receiver, id).
type Payload = [u64; 6];

/// The baseline the radix queue replaced: a `std::collections::BinaryHeap` entry ordered by
/// (time, sequence number) only, carrying its payload.
struct HeapEntry {
    time: u64,
    seq: u64,
    payload: Payload,
}

impl PartialEq for HeapEntry {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}

impl Eq for HeapEntry {}

impl PartialOrd for HeapEntry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for HeapEntry {
    /// Reversed: `BinaryHeap` is a max-heap and the earliest (time, seq) must pop first.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// Hold model: pop the earliest event, push one new event 1..10 ms later, at the pending
/// counts of raft-churn (100), of a 1000-node run (10^4) and of the 10 000-node Raft storm
/// (10^6). The kernel's radix queue against `std::collections::BinaryHeap` keyed by
/// (time, seq), both with the same 48-byte payload and the same draws.
fn queue_hold(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue_hold");
    g.sample_size(10);
    const OPS: u64 = 100_000;
    g.throughput(Throughput::Elements(OPS));
    for pending in [100usize, 10_000, 1_000_000] {
        g.bench_function(format!("radix_queue/pending_{pending}"), |b| {
            b.iter_batched(
                || {
                    let mut q = EventQueue::new();
                    let mut rng = SimRng::new(1, Stream::Network);
                    for _ in 0..pending {
                        q.push(
                            SimTime(rng.range_inclusive(0, 10_000_000)),
                            Payload::default(),
                        );
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
        g.bench_function(format!("std_binary_heap/pending_{pending}"), |b| {
            b.iter_batched(
                || {
                    let mut q = BinaryHeap::new();
                    let mut rng = SimRng::new(1, Stream::Network);
                    for seq in 0..pending as u64 {
                        let time = rng.range_inclusive(0, 10_000_000);
                        q.push(HeapEntry {
                            time,
                            seq,
                            payload: Payload::default(),
                        });
                    }
                    (q, rng, pending as u64)
                },
                |(mut q, mut rng, mut seq)| {
                    for _ in 0..OPS {
                        let e = q.pop().unwrap();
                        let time = e.time + rng.range_inclusive(1_000_000, 10_000_000);
                        q.push(HeapEntry {
                            time,
                            seq,
                            payload: e.payload,
                        });
                        seq += 1;
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
