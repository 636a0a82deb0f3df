//! Kubernetes Lease-lock election (`k8s`) against hand-computed timings.
//!
//! Notation: `d` one-way delay, `RP` retry period, `RD` renew deadline, `LD` lease duration,
//! `W = RP * (1 + jitter)` the longest poll wait. With a constant delay and no jitter every
//! run is a fixed schedule; with jitter the tests assert bounds derived below.

use electsim::runner;
use electsim::scenario::ScenarioFile;
use electsim::sim::metrics::RunMetrics;
use std::path::Path;

const D_MS: f64 = 1.0;
const RP_MS: f64 = 2000.0;
const RD_MS: f64 = 10_000.0;
const LD_MS: f64 = 15_000.0;

/// Run a `k8s` scenario: `body` follows the header (tables, faults).
fn run(nodes: u32, duration: &str, body: &str, seed: u64) -> RunMetrics {
    let text = format!(
        "name = \"k8s-test\"\nalgorithm = \"k8s\"\nnodes = {nodes}\nduration = \"{duration}\"\n{body}"
    );
    let sc = ScenarioFile::from_text(Path::new("<k8s>"), text)
        .unwrap()
        .instantiate(&[])
        .unwrap();
    let o = runner::run(&sc, seed, Vec::new()).unwrap();
    assert_eq!(o.violation_count, 0, "seed {seed}: {:?}", o.violations);
    o.metrics
}

/// Constant 1 ms delay, no jitter: a fixed schedule.
const EXACT: &str = "[network]\ndelay = { constant = \"1ms\" }\n[k8s]\njitter_factor = 0.0\n";

#[test]
fn first_leader_is_elected_at_six_delays_plus_one_retry_period() {
    // t=0 every candidate reads (404) -> 2d creates -> 3d node 0's create wins, the others
    // get AlreadyExists -> 4d node 0 leads; the others wait RP, read at 4d + RP and follow
    // node 0 from 6d + RP: then a majority follows it.
    for nodes in [3, 5, 9] {
        let m = run(nodes, "10s", EXACT, 1);
        let first = &m.election_log[0];
        assert_eq!(first.leader, 0, "n={nodes}");
        assert_eq!(first.duration_ms, 6.0 * D_MS + RP_MS, "n={nodes}");
        assert_eq!(m.elections, 1, "n={nodes}: no leader change without faults");
    }
    // The scaled variant: RP = 200 ms.
    let scaled = format!(
        "{EXACT}lease_duration = \"1500ms\"\nrenew_deadline = \"1s\"\nretry_period = \"200ms\"\n"
    );
    let m = run(3, "5s", &scaled, 1);
    assert_eq!(m.election_log[0].duration_ms, 6.0 * D_MS + 200.0);
}

#[test]
fn failover_after_a_leader_crash_follows_the_fixed_schedule() {
    // Leader 0 renews every RP + 2d = 2002 ms, applied at 5 + 2002k ms; the last before the
    // crash at 20 s is 18 023 ms. Followers read at 2005 + 2002k ms: the read at 20 023 ms
    // sees that renewal (observed at 20 024 ms). Attempts start at 2004 + 2002k ms; the
    // first with 20 024 + LD <= start is 36 038 ms; its write is applied at 36 041 and node
    // 1 leads at 36 042 ms. Node 2 wrote too, lost (Conflict at 36 042), reads again at
    // 38 042 and follows node 1 from 38 044 ms. Failover = 38 044 - 20 000.
    let body = format!("{EXACT}[[fault]]\nat = \"20s\"\ncrash = \"leader\"\n");
    let m = run(3, "60s", &body, 1);
    assert_eq!(m.failover_ms.count, 1);
    assert_eq!(m.failover_ms.max, Some(18_044.0));
    // Detection: the takeover write, sent at 36 040 ms.
    assert_eq!(m.detect_ms.max, Some(16_040.0));
    assert_eq!(m.split_brain_ms, 0.0);
    assert_eq!(m.lease_overlap_ms, 0.0);
}

#[test]
fn failover_with_client_go_jitter_stays_within_the_derived_bound() {
    // Delays uniform in [1, 10] ms (D = 10), jitter 1.2: W = 4.4 s. The last renewal
    // applied before the crash, L, is at most RP + 2D before it; nobody takes over before
    // L + LD, so failover >= LD - RP - 2D. A follower observes L at most W + 2D later,
    // attempts at most W + 2D after that observation expires, needs 4D for read + write;
    // the remaining followers learn the new holder within one more poll (W + 4D, a loser
    // of the write race included): failover <= LD + 3W + 12D.
    let (d_max, w) = (10.0, RP_MS * 2.2);
    let body = "[network]\ndelay = { uniform = [\"1ms\", \"10ms\"] }\n\
                [[fault]]\nat = \"20s\"\njitter = \"3s\"\ncrash = \"leader\"\n";
    let (lo, hi) = (LD_MS - RP_MS - 2.0 * d_max, LD_MS + 3.0 * w + 12.0 * d_max);
    let mut seen = Vec::new();
    for seed in 1..=60 {
        let m = run(5, "60s", body, seed);
        assert_eq!(m.failover_ms.count, 1, "seed {seed}");
        let f = m.failover_ms.max.unwrap();
        assert!(
            f >= lo && f <= hi,
            "seed {seed}: failover {f} ms not in [{lo}, {hi}]"
        );
        // The takeover write (detection) happens at least LD - RP - 2D after the crash.
        let det = m.detect_ms.max.unwrap();
        assert!(
            det >= lo && det <= LD_MS + 2.0 * (w + 2.0 * d_max),
            "seed {seed}: {det}"
        );
        assert_eq!(m.split_brain_ms, 0.0, "seed {seed}");
        assert_eq!(m.lease_overlap_ms, 0.0, "seed {seed}");
        seen.push(f);
    }
    // Jitter spreads the failovers: not one fixed value.
    seen.sort_by(f64::total_cmp);
    assert!(seen[seen.len() - 1] - seen[0] > 1000.0, "{seen:?}");
}

/// The leader's clock runs at `1 + ppm / 1e6` from 10 s; it is cut off from everyone (the
/// service included) at 20 s and healed at 50 s.
fn drifted_isolation(ppm: i64, body: &str, seed: u64) -> RunMetrics {
    let body = format!(
        "{body}[[fault]]\nat = \"10s\"\nclock_drift = \"leader\"\ndrift_ppm = {ppm}.0\n\
         [[fault]]\nat = \"20s\"\nisolate = \"leader\"\nheal_after = \"30s\"\n"
    );
    run(3, "60s", &body, seed)
}

#[test]
fn a_slow_leader_clock_overlaps_only_beyond_the_skew_tolerance() {
    // Let S be the leader's last successful renewal. Its next round starts RP after S on
    // its clock and gives up RD later: it stops at S + (RP + RD) / r (rate r). Followers
    // observed that renewal no earlier than S - d and take over no earlier than S - d + LD:
    // no overlap while (RP + RD) / r <= LD - d, i.e. r >= 12 / 14.999 (about 0.8). They take
    // over at the latest S + (RP + 2d) + LD + (RP + 2d) + 2d = S + 19 006 ms: overlap of at
    // least (RP + RD) / r - 19 006 ms when that is positive (r = 0.6: 20 000 ms).
    for ppm in [0, -100_000, -190_000] {
        let m = drifted_isolation(ppm, EXACT, 1);
        assert_eq!(m.split_brain_ms, 0.0, "ppm {ppm}");
        assert_eq!(m.lease_overlap_ms, 0.0, "ppm {ppm}");
        assert_eq!(m.failover_ms.count, 1, "ppm {ppm}");
    }
    let r = 0.6;
    let stop = (RP_MS + RD_MS) / r;
    let m = drifted_isolation(-400_000, EXACT, 1);
    let latest_takeover = LD_MS + 2.0 * (RP_MS + 2.0 * D_MS) + 2.0 * D_MS;
    let earliest_takeover = LD_MS - D_MS;
    assert_eq!(m.split_brain_incidents, 1);
    assert!(
        m.split_brain_ms >= stop - latest_takeover && m.split_brain_ms <= stop - earliest_takeover,
        "overlap {} ms",
        m.split_brain_ms
    );
    assert!(m.lease_overlap_ms >= m.split_brain_ms, "{m:?}");
    // Jitter and variable delays do not move the safe side: r = 0.9 gives
    // (RP + RD) / r = 13.3 s < LD - D = 14.99 s for every seed.
    let jittered = "[network]\ndelay = { uniform = [\"1ms\", \"10ms\"] }\n";
    for seed in 1..=30 {
        let m = drifted_isolation(-100_000, jittered, seed);
        assert_eq!(m.split_brain_ms, 0.0, "seed {seed}");
        assert_eq!(m.lease_overlap_ms, 0.0, "seed {seed}");
    }
}

#[test]
fn a_partition_from_the_service_alone_causes_no_overlap() {
    // Same clock rates: the leader stops at S + RP + RD = S + 12 s, before anyone may take
    // over (S - D + LD >= S + 14.99 s), for every phase of the jittered schedule.
    let body = "[network]\ndelay = { uniform = [\"1ms\", \"10ms\"] }\n\
                [[fault]]\nat = \"20s\"\njitter = \"3s\"\nisolate = \"leader\"\nheal_after = \"30s\"\n";
    for seed in 1..=30 {
        let m = run(5, "70s", body, seed);
        assert_eq!(m.split_brain_ms, 0.0, "seed {seed}");
        assert_eq!(m.lease_overlap_ms, 0.0, "seed {seed}");
        assert!(!m.leaderless_at_end, "seed {seed}");
    }
}

#[test]
fn a_gc_pause_longer_than_the_lease_lets_the_old_leader_act_for_one_renew_deadline() {
    // The leader's rounds run in [2004 + 2002k, 2006 + 2002k] ms: a pause at 20 s falls
    // between rounds. Paused 12 s: it resumes at 32 s, before anyone may take over (the
    // renewal applied at 18 023 ms is good until 33 022 ms at the earliest), reads its own
    // record and renews: nothing happens.
    let pause = |len: &str| {
        format!("{EXACT}[[fault]]\nat = \"20s\"\npause = \"leader\"\nduration = \"{len}\"\n")
    };
    let m = run(3, "60s", &pause("12s"), 1);
    assert_eq!(m.split_brain_ms, 0.0);
    assert_eq!(m.lease_overlap_ms, 0.0);
    assert_eq!(m.leader_changes, 0);
    // Paused 20 s: node 1 took over at 36 042 ms. At 40 s the overdue round starts, with a
    // fresh deadline; the read shows node 1's valid lease, which does not stop the renew
    // loop: node 0 acts until 40 s + RD.
    let m = run(3, "60s", &pause("20s"), 1);
    assert_eq!(m.split_brain_incidents, 1);
    assert_eq!(m.split_brain_ms, RD_MS);
    assert_eq!(m.split_brain_log[0].start_ms, 40_000.0);
    assert_eq!(m.lease_overlap_ms, RD_MS);
}

#[test]
fn service_load_is_one_request_per_candidate_per_poll() {
    // Fixed schedule: the leader renews every RP + 2d and each follower reads every
    // RP + 2d, one request each: n / 2.002 requests/s. Start-up adds a few (creates, the
    // immediate renewal), at most 2n over the run.
    let secs = 120.0;
    for nodes in [3u32, 9, 33] {
        let m = run(nodes, "120s", EXACT, 1);
        let steady = f64::from(nodes) / ((RP_MS + 2.0 * D_MS) / 1000.0);
        let measured = m.service_requests_per_s;
        assert!(
            measured >= steady - 1.0 / secs && measured <= steady + 2.0 * f64::from(nodes) / secs,
            "n={nodes}: {measured} requests/s, expected about {steady}"
        );
    }
    // With jitter a follower waits RP * (1 + 1.2 / 2) = 3.2 s on average: the load is
    // 1 / 2.002 + (n - 1) / 3.202 requests/s; over 600 s the mean is within 5%.
    let m = run(17, "600s", "[network]\ndelay = { constant = \"1ms\" }\n", 1);
    let expected = 1.0 / 2.002 + 16.0 / 3.202;
    let measured = m.service_requests_per_s;
    assert!(
        (measured - expected).abs() <= 0.05 * expected,
        "{measured} vs {expected}"
    );
}
