//! The service's replicated state: sessions, the election prefix's keys and the watches.

use super::*;

/// One session / lease.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Session {
    /// The contender that opened the session.
    pub owner: NodeId,
    /// The nonce of the `Open`, so a retry finds this session again.
    pub nonce: u64,
    /// The session's key under the election prefix, if it created one (an index: finding
    /// it by scanning the keys made every create O(n), so start-up O(n^2)).
    pub key: Option<u64>,
}

/// The Kubernetes Lease object's spec (`coordination.k8s.io/v1` Lease, as client-go's
/// `LeaderElectionRecord` reads it). Timestamps are the writer's local clock readings: the
/// service never judges them, and readers only use their *change* (client-go's rule).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LeaseRecord {
    /// `holderIdentity`: the participant that last acquired or renewed the lease ...
    pub holder: NodeId,
    /// ... and its process incarnation: client-go callers use `hostname_<UUID>`, new on
    /// every restart, so a restarted process does not recognise its predecessor's lease.
    pub incarnation: u64,
    /// `acquireTime`, on the holder's clock.
    pub acquire_time: SimTime,
    /// `renewTime`, on the holder's clock.
    pub renew_time: SimTime,
    /// `leaseTransitions`: 0 on creation, +1 whenever a different identity acquires it.
    pub leader_transitions: u64,
}

/// The Lease object as stored: its record and its `resourceVersion`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StoredLease {
    /// The `LeaderElectionRecord` the last successful write stored.
    pub record: LeaseRecord,
    /// `resourceVersion`: the store revision of the last write (etcd's mod revision).
    pub version: u64,
}

/// The replicated state of the service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Store {
    /// Global revision: bumped by every create and delete.
    pub revision: u64,
    pub(super) next_session: u64,
    /// Live sessions by id.
    pub sessions: BTreeMap<u64, Session>,
    /// Index of `sessions` by (owner, nonce), for retried opens.
    pub(super) by_owner: BTreeMap<(NodeId, u64), u64>,
    /// Keys under the election prefix: create revision -> (session, owner).
    pub keys: BTreeMap<u64, (u64, NodeId)>,
    /// One-shot deletion watches: key -> watchers (client node, session).
    pub(super) key_watches: BTreeMap<u64, BTreeSet<(NodeId, u64)>>,
    /// One-shot watches on the whole prefix.
    pub(super) prefix_watches: BTreeSet<(NodeId, u64)>,
    /// The Kubernetes Lease object of the `k8s` recipe (never set by the other recipes).
    pub lease: Option<StoredLease>,
}

/// A notification to send: (to, message).
pub type Notice = (NodeId, Wire);

impl Store {
    /// Open (or find, for a retried request) the session of `owner` with `nonce`.
    pub fn open(&mut self, owner: NodeId, nonce: u64) -> u64 {
        if let Some(&s) = self.by_owner.get(&(owner, nonce)) {
            return s;
        }
        self.next_session += 1;
        let s = self.next_session;
        self.sessions.insert(
            s,
            Session {
                owner,
                nonce,
                key: None,
            },
        );
        self.by_owner.insert((owner, nonce), s);
        s
    }

    /// The key `session` created, if the session exists and has one.
    pub fn key_of(&self, session: u64) -> Option<u64> {
        self.sessions.get(&session).and_then(|s| s.key)
    }

    /// What a `List` reply tells `session`'s client: the holder (smallest key), the
    /// session's own key and the key just below it. This is all the recipes' clients read
    /// of the children list, and it keeps a reply O(1) in size (a full list per reply made
    /// the start-up of n contenders O(n^2) in memory).
    pub fn view(&self, session: u64) -> ListView {
        let own = self.key_of(session);
        ListView {
            holder: self.holder(),
            own,
            predecessor: own.and_then(|k| self.keys.range(..k).next_back().map(|(&p, _)| p)),
        }
    }

    /// The current holder: the smallest key and its owner.
    pub fn holder(&self) -> Option<(u64, NodeId)> {
        self.keys.iter().next().map(|(&k, v)| (k, v.1))
    }

    /// All keys with their owners, ascending by revision.
    pub fn entries(&self) -> Entries {
        self.keys.iter().map(|(&k, v)| (k, v.1)).collect()
    }

    /// Create the session's key (the existing one on a retry); fires prefix watches.
    pub fn create(&mut self, session: u64, notices: &mut Vec<Notice>) -> u64 {
        if let Some(k) = self.key_of(session) {
            return k;
        }
        let entry = self.sessions.get_mut(&session).expect("a live session");
        self.revision += 1;
        let k = self.revision;
        entry.key = Some(k);
        let owner = entry.owner;
        self.keys.insert(k, (session, owner));
        self.fire_prefix(notices);
        k
    }

    pub(super) fn fire_prefix(&mut self, notices: &mut Vec<Notice>) {
        for (to, s) in std::mem::take(&mut self.prefix_watches) {
            notices.push((
                to,
                Wire::Notify {
                    session: s,
                    key: None,
                },
            ));
        }
    }

    /// Expire a session: delete its key (firing the key's and the prefix's watches, in
    /// watcher-id order) and drop the watches it had set.
    pub fn expire(&mut self, session: u64, notices: &mut Vec<Notice>) {
        let Some(gone) = self.sessions.remove(&session) else {
            return;
        };
        self.by_owner.remove(&(gone.owner, gone.nonce));
        for w in self.key_watches.values_mut() {
            w.retain(|&(_, s)| s != session);
        }
        self.prefix_watches.retain(|&(_, s)| s != session);
        if let Some(k) = gone.key {
            self.keys.remove(&k);
            self.revision += 1;
            for (to, s) in self.key_watches.remove(&k).unwrap_or_default() {
                notices.push((
                    to,
                    Wire::Notify {
                        session: s,
                        key: Some(k),
                    },
                ));
            }
            self.fire_prefix(notices);
        }
        self.key_watches.retain(|_, w| !w.is_empty());
    }

    /// Set a one-shot watch on the whole prefix for `session` of node `to`.
    pub fn watch_prefix(&mut self, to: NodeId, session: u64) {
        self.prefix_watches.insert((to, session));
    }

    /// Watch `key` for deletion; false (and no watch) when it does not exist.
    pub fn watch_key(&mut self, to: NodeId, session: u64, key: u64) -> bool {
        if !self.keys.contains_key(&key) {
            return false;
        }
        self.key_watches
            .entry(key)
            .or_default()
            .insert((to, session));
        true
    }

    /// Watches currently set (for tests).
    pub fn watch_count(&self) -> usize {
        self.prefix_watches.len() + self.key_watches.values().map(BTreeSet::len).sum::<usize>()
    }

    /// Write the Lease under optimistic concurrency: `expected` is the `resourceVersion`
    /// the writer read (`None`: create, only while no Lease exists). On a match the record
    /// is stored with a new version (the bumped revision), which is returned; on a mismatch
    /// nothing changes and `None` is returned (HTTP 409 Conflict / AlreadyExists).
    pub fn update_lease(&mut self, expected: Option<u64>, record: LeaseRecord) -> Option<u64> {
        if self.lease.map(|l| l.version) != expected {
            return None;
        }
        self.revision += 1;
        self.lease = Some(StoredLease {
            record,
            version: self.revision,
        });
        Some(self.revision)
    }
}
