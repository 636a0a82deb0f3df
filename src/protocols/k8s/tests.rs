//! Handler-level tests of the Lease lock: validation (client-go's `NewLeaderElector`
//! checks), the service's optimistic concurrency, and the elector's decisions.

use super::*;
use crate::protocols::coordinator::{LeaseRecord, Store, StoredLease};
use crate::sim::{Effect, Role, SimDuration, SimTime};

const NODES: u32 = 3;
const MS: u64 = 1_000_000;

fn s(text: &str) -> Option<SimDuration> {
    Some(SimDuration::parse(text).unwrap())
}

fn raw(ld: &str, rd: &str, rp: &str, jitter: Option<f64>) -> RawK8s {
    RawK8s {
        lease_duration: s(ld),
        renew_deadline: s(rd),
        retry_period: s(rp),
        jitter_factor: jitter,
    }
}

fn err(r: RawK8s) -> crate::field_error::FieldError {
    r.validate(&Default::default()).unwrap_err()
}

#[test]
fn defaults_are_client_go_s() {
    let c = RawK8s::default().validate(&Default::default()).unwrap();
    assert_eq!(c, K8sConfig::default());
    assert_eq!(c.lease_duration, SimDuration::from_secs(15));
    assert_eq!(c.renew_deadline, SimDuration::from_secs(10));
    assert_eq!(c.retry_period, SimDuration::from_secs(2));
    assert_eq!(c.jitter_permille, 1200);
    // 2 s * 1.2 = 2.4 s of jitter on top of the retry period.
    assert_eq!(
        c.poll_delay(),
        crate::sim::Delay::Uniform {
            min: SimDuration::from_secs(2),
            max: SimDuration::from_millis(4400),
        }
    );
}

#[test]
fn validation_follows_new_leader_elector() {
    // leaseDuration must be greater than renewDeadline.
    let e = err(raw("10s", "10s", "2s", None));
    assert_eq!(e.field, "lease_duration");
    assert_eq!(e.value, "\"10s\"");
    assert!(
        e.expected.contains("greater than renew_deadline (\"10s\")"),
        "{e:?}"
    );
    // renewDeadline must be greater than retryPeriod * JitterFactor: 2 s * 1.2 = 2.4 s.
    let e = err(raw("15s", "2400ms", "2s", None));
    assert_eq!(e.field, "renew_deadline");
    assert!(e.expected.contains("(\"2.4s\")"), "{e:?}");
    assert!(
        raw("15s", "2401ms", "2s", None)
            .validate(&Default::default())
            .is_ok()
    );
    // Without jitter the deadline only has to exceed zero jitter span.
    assert!(
        raw("15s", "2s", "2s", Some(0.0))
            .validate(&Default::default())
            .is_ok()
    );
    // The scaled variant of the matrix.
    assert!(
        raw("1500ms", "1s", "200ms", None)
            .validate(&Default::default())
            .is_ok()
    );
    for (field, r) in [
        ("lease_duration", raw("0s", "10s", "2s", None)),
        ("renew_deadline", raw("15s", "0s", "2s", None)),
        ("retry_period", raw("15s", "10s", "0s", None)),
    ] {
        let e = err(r);
        assert_eq!(e.field, field);
        assert_eq!(e.expected, "a positive duration");
    }
    for bad in [-0.1, f64::NAN, 10.5] {
        let e = err(RawK8s {
            jitter_factor: Some(bad),
            ..RawK8s::default()
        });
        assert_eq!(e.field, "jitter_factor", "{bad}");
    }
}

fn rec(holder: NodeId, renew_ms: u64, transitions: u64) -> LeaseRecord {
    LeaseRecord {
        holder,
        incarnation: 0,
        acquire_time: SimTime(0),
        renew_time: SimTime(renew_ms * MS),
        leader_transitions: transitions,
    }
}

#[test]
fn the_store_applies_a_write_only_at_the_version_it_was_read() {
    let mut st = Store::default();
    assert_eq!(
        st.update_lease(Some(0), rec(0, 0, 0)),
        None,
        "no Lease to update"
    );
    let v1 = st.update_lease(None, rec(0, 0, 0)).expect("create");
    assert_eq!(st.update_lease(None, rec(1, 0, 0)), None, "AlreadyExists");
    let v2 = st.update_lease(Some(v1), rec(0, 2000, 0)).expect("renew");
    assert!(v2 > v1);
    // A writer that read v1 lost the race to the renewal.
    assert_eq!(st.update_lease(Some(v1), rec(1, 2000, 1)), None);
    assert_eq!(
        st.lease,
        Some(StoredLease {
            record: rec(0, 2000, 0),
            version: v2
        })
    );
}

fn ctx(id: NodeId, now_ms: u64, cfg: &K8sConfig) -> KCtx<'_> {
    crate::protocols::coordinator::testkit::ctx(id, NODES, now_ms, cfg)
}

fn sent(out: &Out<K8s>) -> Vec<Wire> {
    let sent = crate::protocols::coordinator::testkit::sent(out);
    sent.into_iter().map(|(_, w)| w).collect()
}

fn req_of(w: &Wire) -> u64 {
    match w {
        Wire::LeaseGet { req } | Wire::LeaseUpdate { req, .. } => *req,
        other => panic!("not a request: {other:?}"),
    }
}

/// Node 0 creates the Lease at t=0 and is leader, with version 1 and a renewal round due.
fn leader(cfg: &K8sConfig) -> K8s {
    let mut out = Out::default();
    let mut n = K8s::boot(&ctx(0, 0, cfg), None, &mut out);
    let get = sent(&out)[0].clone();
    assert_eq!(get, Wire::LeaseGet { req: req_of(&get) });
    let mut out = Out::default();
    let got = Wire::LeaseGot {
        req: req_of(&get),
        lease: None,
    };
    n.on_message(&ctx(0, 0, cfg), NODES, K8sMsg(got), &mut out);
    let create = sent(&out)[0].clone();
    let Wire::LeaseUpdate {
        expected: None,
        acquire: true,
        record,
        ..
    } = create
    else {
        panic!("{create:?}")
    };
    assert_eq!(record, rec(0, 0, 0));
    assert_eq!(n.status().role, Role::Candidate);
    let mut out = Out::default();
    let ok = Wire::LeaseUpdated {
        req: req_of(&create),
        version: 1,
        acquire: true,
    };
    n.on_message(&ctx(0, 0, cfg), NODES, K8sMsg(ok), &mut out);
    assert_eq!(n.status().role, Role::Leader);
    assert_eq!(n.status().term, 1, "leaseTransitions 0 + 1");
    // The renew loop's first round starts at once, on the fast path.
    let renew = sent(&out)[0].clone();
    assert!(
        matches!(
            renew,
            Wire::LeaseUpdate {
                expected: Some(1),
                acquire: false,
                ..
            }
        ),
        "{renew:?}"
    );
    assert!(out.effects.contains(&Effect::SetTimer {
        key: CoordTimer::Deadline,
        delay: crate::sim::Delay::Fixed(cfg.renew_deadline)
    }));
    let mut out = Out::default();
    let ok = Wire::LeaseUpdated {
        req: req_of(&renew),
        version: 2,
        acquire: false,
    };
    n.on_message(&ctx(0, 0, cfg), NODES, K8sMsg(ok), &mut out);
    n
}

#[test]
fn a_leader_that_sees_another_holder_acts_until_its_round_deadline() {
    let cfg = K8sConfig::default();
    let mut n = leader(&cfg);
    // The next round starts at 2 s; the fast-path renewal conflicts (someone took over).
    let mut out = Out::default();
    n.on_timer(&ctx(0, 2000, &cfg), CoordTimer::Retry, &mut out);
    let fast = sent(&out)[0].clone();
    let mut out = Out::default();
    let conflict = Wire::LeaseConflict {
        req: req_of(&fast),
        acquire: false,
    };
    n.on_message(&ctx(0, 2001, &cfg), NODES, K8sMsg(conflict), &mut out);
    // Falls back to reading the Lease: it names node 1 now.
    let get = sent(&out)[0].clone();
    assert_eq!(get, Wire::LeaseGet { req: req_of(&get) });
    let mut out = Out::default();
    let got = Wire::LeaseGot {
        req: req_of(&get),
        lease: Some(StoredLease {
            record: rec(1, 2000, 1),
            version: 3,
        }),
    };
    n.on_message(&ctx(0, 2002, &cfg), NODES, K8sMsg(got), &mut out);
    assert!(
        sent(&out).is_empty(),
        "another holder's fresh lease: no write"
    );
    assert_eq!(n.status().role, Role::Leader, "still acting (client-go)");
    assert_eq!(n.status().term, 1, "its own term, not the new holder's");
    // One nanosecond before the round's deadline (2 s + 10 s) it still leads.
    let mut out = Out::default();
    let mut c = ctx(0, 11_999, &cfg);
    c.now = SimTime(12_000 * MS - 1);
    n.on_timer(&c, CoordTimer::Act, &mut out);
    assert_eq!(n.status().role, Role::Leader);
    let mut out = Out::default();
    n.on_timer(&ctx(0, 12_000, &cfg), CoordTimer::Deadline, &mut out);
    assert_eq!(n.status().role, Role::Follower);
    assert_eq!(
        n.status().leader,
        None,
        "a fresh elector has observed nothing"
    );
    assert_eq!(n.status().term, 0);
}

#[test]
fn a_follower_takes_over_only_after_lease_duration_on_its_own_clock() {
    let cfg = K8sConfig::default();
    let mut out = Out::default();
    let mut n = K8s::boot(&ctx(1, 0, &cfg), None, &mut out);
    assert_eq!(n.status().leader, None);
    let lease = |renew_ms| StoredLease {
        record: rec(0, renew_ms, 0),
        version: renew_ms + 1,
    };
    // Observed at 1 s (renewTime 500 ms on the holder's clock: never compared to ours).
    let mut out2 = Out::default();
    n.on_timer(&ctx(1, 1000, &cfg), CoordTimer::Retry, &mut out2);
    let r = req_of(&sent(&out2)[0]);
    let mut out2 = Out::default();
    n.on_message(
        &ctx(1, 1000, &cfg),
        NODES,
        K8sMsg(Wire::LeaseGot {
            req: r,
            lease: Some(lease(500)),
        }),
        &mut out2,
    );
    assert!(sent(&out2).is_empty());
    assert_eq!(n.status().leader, Some(0));
    // Unchanged at 16 s - 1 ms: still valid (observed 1 s + 15 s > 15.999 s).
    for (at, expect_write) in [(15_999, false), (16_000, true)] {
        let mut o = Out::default();
        n.on_timer(&ctx(1, at, &cfg), CoordTimer::Retry, &mut o);
        let r = req_of(&sent(&o)[0]);
        let mut o = Out::default();
        n.on_message(
            &ctx(1, at, &cfg),
            NODES,
            K8sMsg(Wire::LeaseGot {
                req: r,
                lease: Some(lease(500)),
            }),
            &mut o,
        );
        let w = sent(&o);
        assert_eq!(!w.is_empty(), expect_write, "at {at} ms: {w:?}");
        if expect_write {
            assert_eq!(
                w[0],
                Wire::LeaseUpdate {
                    req: req_of(&w[0]),
                    expected: Some(501),
                    record: LeaseRecord {
                        holder: 1,
                        incarnation: 0,
                        acquire_time: SimTime(16_000 * MS),
                        renew_time: SimTime(16_000 * MS),
                        leader_transitions: 1,
                    },
                    acquire: true,
                }
            );
            assert_eq!(n.status().role, Role::Candidate);
            assert_eq!(n.status().term, 2);
        }
    }
}
