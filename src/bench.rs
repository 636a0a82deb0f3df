//! `electsim bench`: whole-run throughput. Runs each sweep point of a scenario (e.g.
//! `scenarios/bench-raft-churn.toml`) on one thread and reports events per CPU-second,
//! runs per second and peak memory. Wall-clock time is read here, outside the kernel, and
//! never influences a result.

use crate::runner;
use crate::scenario::Scenario;
use std::time::Instant;

/// Measurements of one scenario instance.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BenchRow {
    /// What was measured: the scenario name, or the sweep point's `key=value` assignments.
    pub label: String,
    /// Participants.
    pub nodes: u32,
    /// Runs measured (the best is kept).
    pub repeats: u32,
    /// Kernel events of one run.
    pub events: u64,
    /// Best (minimum) wall seconds of one run over the repeats.
    pub wall_s: f64,
    /// Best thread CPU seconds of one run (from /proc/thread-self/schedstat; = wall elsewhere).
    pub cpu_s: f64,
    /// `events / cpu_s`: the kernel's throughput.
    pub events_per_cpu_s: f64,
    /// `1 / cpu_s`: whole runs per CPU-second.
    pub runs_per_cpu_s: f64,
    /// Peak resident set size of the process so far, in MiB (VmHWM; 0 where unknown).
    pub peak_rss_mib: f64,
    /// Why the run failed (e.g. it exceeded `max_events`); timings are then of the failed run.
    pub error: Option<String>,
}

/// CPU time consumed by the calling thread, in seconds, if the OS tells us.
pub fn thread_cpu_s() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

/// Peak RSS of this process in MiB (Linux VmHWM), 0 when unavailable.
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| status_mib(&s, "VmHWM:"))
        .unwrap_or(0.0)
}

/// A `kB` field of a Linux `/proc/PID/status` text (e.g. `VmHWM:`), in MiB.
pub fn status_mib(status: &str, field: &str) -> Option<f64> {
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// Run `sc` `repeats` times with seed `seed` and keep the best timing.
pub fn bench_one(label: &str, sc: &Scenario, seed: u64, repeats: u32) -> BenchRow {
    let mut best_wall = f64::INFINITY;
    let mut best_cpu = f64::INFINITY;
    let mut events = 0;
    let mut error = None;
    for _ in 0..repeats.max(1) {
        let cpu0 = thread_cpu_s();
        let t0 = Instant::now();
        let result = runner::run(sc, seed, Vec::new());
        let wall = t0.elapsed().as_secs_f64();
        // The thread clock ticks coarsely on some kernels (4 ms here): a shorter run reads
        // as 0 CPU-seconds, so fall back to wall time rather than divide by zero.
        let cpu = match (cpu0, thread_cpu_s()) {
            (Some(a), Some(b)) if b > a => b - a,
            _ => wall,
        };
        best_wall = best_wall.min(wall);
        best_cpu = best_cpu.min(cpu);
        match result {
            Ok(o) => events = o.events,
            Err(e) => {
                // A failed point is a measurement too (what does not fit); don't repeat it.
                error = Some(e.to_string());
                break;
            }
        }
    }
    BenchRow {
        label: label.to_string(),
        nodes: sc.nodes,
        repeats: repeats.max(1),
        events,
        wall_s: best_wall,
        cpu_s: best_cpu,
        events_per_cpu_s: events as f64 / best_cpu,
        runs_per_cpu_s: 1.0 / best_cpu,
        peak_rss_mib: peak_rss_mib(),
        error,
    }
}
