//! Coordinator unit tests: store, service and client driven directly, no engine.
use super::*;

#[test]
fn revisions_are_global_and_increase_on_create_and_delete() {
    let mut st = Store::default();
    let mut n = Vec::new();
    let a = st.open(0, 1);
    let b = st.open(1, 1);
    assert_eq!(st.open(0, 1), a, "a retried open returns the same session");
    let ka = st.create(a, &mut n);
    assert_eq!(
        st.create(a, &mut n),
        ka,
        "one key per session (retry-safe create)"
    );
    let kb = st.create(b, &mut n);
    assert!(kb > ka);
    st.expire(a, &mut n);
    let c = st.open(2, 1);
    let kc = st.create(c, &mut n);
    assert_eq!(kc, kb + 2, "the delete of a's key consumed a revision");
    assert_eq!(st.holder(), Some((kb, 1)));
    assert_eq!(st.entries(), vec![(kb, 1), (kc, 2)]);
}

#[test]
fn expiry_fires_key_watchers_then_prefix_watchers_in_id_order() {
    let mut st = Store::default();
    let mut n = Vec::new();
    let s: Vec<u64> = (0..4).map(|i| st.open(i, 7)).collect();
    let k0 = st.create(s[0], &mut n);
    st.watch_key(3, s[3], k0);
    st.watch_key(1, s[1], k0);
    st.watch_prefix(2, s[2]);
    n.clear();
    st.expire(s[0], &mut n);
    let to: Vec<NodeId> = n.iter().map(|(t, _)| *t).collect();
    assert_eq!(to, vec![1, 3, 2]);
    assert_eq!(
        n[0].1,
        Wire::Notify {
            session: s[1],
            key: Some(k0)
        }
    );
    assert_eq!(st.watch_count(), 0, "watches are one-shot");
}

#[test]
fn expired_session_drops_its_watches() {
    let mut st = Store::default();
    let mut n = Vec::new();
    let a = st.open(0, 1);
    let b = st.open(1, 1);
    let ka = st.create(a, &mut n);
    st.watch_key(1, b, ka);
    st.expire(b, &mut n);
    assert_eq!(st.watch_count(), 0);
    assert!(!st.watch_key(1, b, 999), "no watch on a missing key");
}

#[test]
fn service_table_accepts_only_odd_groups() {
    let raw = RawService {
        replicas: Some(2),
        ..RawService::default()
    };
    assert_eq!(raw.validate().unwrap_err().field, "replicas");
    let ok = RawService {
        replicas: Some(3),
        ..RawService::default()
    };
    assert_eq!(ok.validate().unwrap().replicas, 3);
}

/// Drive replica 0 of a 3-replica group to primary by hand and check the commit rule:
/// no reply leaves before a majority acknowledged the store that produced it.
#[test]
fn primary_replies_only_after_a_majority_acknowledged() {
    use crate::protocols::etcd::{Etcd, EtcdConfig};
    use crate::protocols::raft::RaftTimer;
    let cfg = EtcdConfig {
        service: RawService {
            replicas: Some(3),
            ..RawService::default()
        }
        .validate()
        .unwrap(),
        ..EtcdConfig::default()
    };
    const NODES: u32 = 2;
    let ctx = || Ctx {
        id: NODES,
        nodes: NODES,
        service: 3,
        now: SimTime(0),
        config: &cfg,
    };
    let env = |c: &Ctx<'_, EtcdConfig>| Env::from_ctx(c, cfg.recipe(), &cfg.service);
    let sent = |out: &Out<Etcd>| -> Vec<(Option<NodeId>, Wire)> {
        out.sent()
            .into_iter()
            .map(|(to, m)| (to, m.0.clone()))
            .collect()
    };
    let mut out = Out::<Etcd>::default();
    let c = ctx();
    let mut r = CoordNode::boot(&env(&c), None, &mut out);
    let step = |r: &mut CoordNode, from: NodeId, w: Wire| {
        let mut out = Out::<Etcd>::default();
        r.on_message(&env(&c), from, w, &mut out);
        sent(&out)
    };
    let mut out = Out::<Etcd>::default();
    r.on_timer(&env(&c), CoordTimer::Raft(RaftTimer::Election), &mut out);
    let term = match &sent(&out)[0].1 {
        Wire::Raft(RaftMsg::PreVote { term, .. }) => *term,
        other => panic!("{other:?}"),
    };
    step(
        &mut r,
        NODES + 1,
        Wire::Raft(RaftMsg::PreVoteResponse {
            term,
            granted: true,
        }),
    );
    let out = step(
        &mut r,
        NODES + 1,
        Wire::Raft(RaftMsg::VoteResponse {
            term,
            granted: true,
        }),
    );
    assert!(
        out.iter()
            .any(|(to, m)| *to == Some(NODES + 2) && *m == Wire::Recover { epoch: term })
    );
    assert_eq!(r.status().term, 0, "not primary before the recovery round");
    // A client asking now is told to wait elsewhere (no primary yet).
    let out = step(&mut r, 0, Wire::Open { nonce: 5 });
    assert!(matches!(out[0].1, Wire::NotPrimary { .. }));
    step(
        &mut r,
        NODES + 2,
        Wire::RecoverReply {
            epoch: term,
            stamp: (0, 0),
            store: Box::default(),
        },
    );
    assert_eq!(r.status().term, term, "primary after a majority answered");
    let out = step(&mut r, 0, Wire::Open { nonce: 5 });
    assert!(
        out.iter().all(|(to, _)| *to != Some(0)),
        "the reply waits: {out:?}"
    );
    let round = out
        .iter()
        .find_map(|(_, m)| match m {
            Wire::Replicate { round, .. } => Some(*round),
            _ => None,
        })
        .expect("a replication round");
    // An ack of an older round releases nothing; the ack of this round releases the reply.
    assert!(
        step(
            &mut r,
            NODES + 1,
            Wire::ReplicateAck {
                epoch: term,
                round: round - 1
            }
        )
        .is_empty()
    );
    let out = step(&mut r, NODES + 1, Wire::ReplicateAck { epoch: term, round });
    assert!(
        matches!(out.as_slice(), [(Some(0), Wire::Opened { nonce: 5, .. })]),
        "{out:?}"
    );
    // A replica that promised a higher epoch makes this primary resign.
    step(&mut r, NODES + 2, Wire::Recover { epoch: term + 1 });
    assert_eq!(r.status().term, 0);
}
