//! The client side: a contender running the recipe against the service (session, key,
//! watch on the predecessor, leading and stepping down).

use super::*;

/// Where a contender is in the recipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Opening a session / granting a lease.
    Connecting,
    /// Creating its key.
    Creating,
    /// Listing the prefix.
    Listing,
    /// Setting / holding a deletion watch on the next-lower key.
    Watching {
        /// Revision of the next-lower key, whose deletion makes this contender the holder.
        key: u64,
        /// The service confirmed the watch (`WatchArmed` with the key still present).
        armed: bool,
    },
    /// Holding a prefix watch (`herd`).
    Waiting,
    /// Holds the smallest key: leads and acts on the protected resource.
    Leading,
}

/// A contender (a ZooKeeper / etcd client running the election recipe).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Client {
    pub(super) id: NodeId,
    pub(super) phase: Phase,
    pub(super) session: Option<u64>,
    pub(super) nonce_base: u64,
    pub(super) nonce: u64,
    pub(super) rev: Option<u64>,
    pub(super) holder: Option<NodeId>,
    /// Replica the requests go to (index into the group).
    pub(super) target: u32,
    /// Local time at which the session/lease is believed to expire.
    pub(super) deadline: Option<SimTime>,
    pub(super) awaiting_pong: bool,
    /// A prefix change was notified while a listing was in flight.
    pub(super) relist: bool,
}

impl Client {
    pub(super) fn boot<P: Recipe>(env: &Env<'_>, out: &mut Out<P>) -> Self {
        let mut c = Client {
            id: env.id,
            phase: Phase::Connecting,
            session: None,
            // A restarted process must not be handed its previous session back.
            nonce_base: env.now.0.wrapping_mul(1 << 12),
            nonce: 0,
            rev: None,
            holder: None,
            target: 0,
            deadline: None,
            awaiting_pong: false,
            relist: false,
        };
        c.connect(env, out);
        c
    }

    pub(super) fn to_service<P: Recipe>(&self, env: &Env<'_>, m: Wire, out: &mut Out<P>) {
        out.send(env.replica_id(self.target), P::wrap(m));
    }

    pub(super) fn connect<P: Recipe>(&mut self, env: &Env<'_>, out: &mut Out<P>) {
        self.phase = Phase::Connecting;
        self.nonce = self.nonce.wrapping_add(1);
        self.send_pending(env, out);
    }

    /// (Re)send the request of the current phase and arm the retry timer.
    pub(super) fn send_pending<P: Recipe>(&mut self, env: &Env<'_>, out: &mut Out<P>) {
        let session = self.session.unwrap_or(0);
        let m = match self.phase {
            Phase::Connecting => Wire::Open {
                nonce: self.nonce_base.wrapping_add(self.nonce),
            },
            Phase::Creating => Wire::Create { session },
            Phase::Listing => Wire::List {
                session,
                watch: env.recipe.herd,
            },
            Phase::Watching { key, armed: false } => Wire::WatchKey { session, key },
            _ => {
                out.cancel_timer(CoordTimer::Retry);
                return;
            }
        };
        self.to_service(env, m, out);
        out.set_timer(CoordTimer::Retry, Delay::Fixed(env.recipe.ping_interval));
    }

    /// The session is gone (expired at the service, or believed expired locally): stop
    /// leading and start over with a new session.
    pub(super) fn lose_session<P: Recipe>(&mut self, env: &Env<'_>, out: &mut Out<P>) {
        self.session = None;
        self.rev = None;
        self.holder = None;
        self.deadline = None;
        self.awaiting_pong = false;
        self.relist = false;
        out.cancel_timer(CoordTimer::Act);
        out.cancel_timer(CoordTimer::Deadline);
        out.cancel_timer(CoordTimer::Ping);
        self.connect(env, out);
    }

    pub(super) fn refresh_deadline<P: Recipe>(&mut self, env: &Env<'_>, out: &mut Out<P>) {
        if env.recipe.client_deadline {
            self.deadline = Some(env.now + env.recipe.ttl);
            out.set_timer(CoordTimer::Deadline, Delay::Fixed(env.recipe.ttl));
        }
    }

    /// Evaluated before every handler: past the local deadline the session is given up.
    pub(super) fn check_deadline<P: Recipe>(&mut self, env: &Env<'_>, out: &mut Out<P>) {
        if self.session.is_some() && self.deadline.is_some_and(|d| env.now >= d) {
            self.lose_session(env, out);
        }
    }

    pub(super) fn list<P: Recipe>(&mut self, env: &Env<'_>, out: &mut Out<P>) {
        self.phase = Phase::Listing;
        self.relist = false;
        self.send_pending(env, out);
    }

    pub(super) fn on_children<P: Recipe>(
        &mut self,
        env: &Env<'_>,
        view: ListView,
        out: &mut Out<P>,
    ) {
        let Some(rev) = self.rev else { return };
        if self.relist {
            return self.list(env, out);
        }
        if view.own != Some(rev) {
            // Our key is gone although the session lives: create it again.
            self.rev = None;
            self.phase = Phase::Creating;
            return self.send_pending(env, out);
        }
        self.holder = view.holder.map(|e| e.1);
        if view.holder.is_some_and(|h| h.0 == rev) {
            self.phase = Phase::Leading;
            self.holder = Some(self.id);
            out.cancel_timer(CoordTimer::Retry);
            out.set_timer(CoordTimer::Act, Delay::Fixed(env.recipe.action_interval));
        } else if env.recipe.herd {
            self.phase = Phase::Waiting;
            out.cancel_timer(CoordTimer::Retry);
        } else {
            let pred = view
                .predecessor
                .expect("not the smallest, so a smaller key exists");
            self.phase = Phase::Watching {
                key: pred,
                armed: false,
            };
            self.send_pending(env, out);
        }
    }

    pub(super) fn on_message<P: Recipe>(
        &mut self,
        env: &Env<'_>,
        from: NodeId,
        msg: Wire,
        out: &mut Out<P>,
    ) {
        self.check_deadline(env, out);
        let current = |s: u64| self.session == Some(s);
        let awaited = self.nonce_base.wrapping_add(self.nonce);
        match msg {
            Wire::Opened { nonce, session }
                if self.phase == Phase::Connecting && nonce == awaited =>
            {
                self.session = Some(session);
                self.target = from.saturating_sub(env.nodes);
                self.refresh_deadline(env, out);
                out.set_timer(CoordTimer::Ping, Delay::Fixed(env.recipe.ping_interval));
                self.phase = Phase::Creating;
                self.send_pending(env, out);
            }
            Wire::Pong { session, holder } if current(session) => {
                self.awaiting_pong = false;
                self.refresh_deadline(env, out);
                if matches!(self.phase, Phase::Watching { .. } | Phase::Waiting) {
                    self.holder = holder;
                }
            }
            Wire::Created { session, rev } if current(session) && self.phase == Phase::Creating => {
                self.rev = Some(rev);
                self.list(env, out);
            }
            Wire::Children { session, view }
                if current(session) && self.phase == Phase::Listing =>
            {
                self.on_children(env, view, out);
            }
            Wire::WatchArmed {
                session,
                key,
                exists,
            } if current(session) && self.phase == (Phase::Watching { key, armed: false }) => {
                if exists {
                    self.phase = Phase::Watching { key, armed: true };
                    out.cancel_timer(CoordTimer::Retry);
                } else {
                    self.list(env, out);
                }
            }
            Wire::Notify { session, key } if current(session) => match (self.phase, key) {
                (Phase::Watching { key: k, .. }, Some(d)) if k == d => self.list(env, out),
                (Phase::Waiting, None) => self.list(env, out),
                (Phase::Listing, None) => self.relist = true,
                _ => {}
            },
            Wire::Expired { session } if current(session) => self.lose_session(env, out),
            Wire::StaleRejected { token } if self.rev == Some(token) => {
                // The fencing check says we no longer hold the lock.
                self.lose_session(env, out);
            }
            Wire::NotPrimary { hint } if env.replicas > 1 => match hint {
                Some(h) if h != from => {
                    // Redirected: resend what was refused to the named primary.
                    self.target = h.saturating_sub(env.nodes) % env.replicas;
                    self.send_pending(env, out);
                    if let (true, Some(session)) = (self.awaiting_pong, self.session) {
                        self.to_service(env, Wire::Ping { session }, out);
                    }
                }
                _ => {
                    // Nobody known to lead the group yet: try the next replica soon.
                    self.target = (self.target + 1) % env.replicas;
                    let backoff = SimDuration(env.recipe.ping_interval.0 / 8);
                    out.set_timer(CoordTimer::Retry, Delay::Fixed(backoff));
                }
            },
            _ => {}
        }
    }

    pub(super) fn on_timer<P: Recipe>(&mut self, env: &Env<'_>, t: CoordTimer, out: &mut Out<P>) {
        self.check_deadline(env, out);
        match t {
            CoordTimer::Retry => {
                if env.replicas > 1 {
                    self.target = (self.target + 1) % env.replicas;
                }
                self.send_pending(env, out);
            }
            CoordTimer::Ping => {
                if let Some(session) = self.session {
                    if self.awaiting_pong && env.replicas > 1 {
                        self.target = (self.target + 1) % env.replicas;
                    }
                    self.awaiting_pong = true;
                    self.to_service(env, Wire::Ping { session }, out);
                    out.set_timer(CoordTimer::Ping, Delay::Fixed(env.recipe.ping_interval));
                }
            }
            CoordTimer::Act => {
                if let (Phase::Leading, Some(session), Some(token)) =
                    (self.phase, self.session, self.rev)
                {
                    self.to_service(env, Wire::Action { session, token }, out);
                    out.set_timer(CoordTimer::Act, Delay::Fixed(env.recipe.action_interval));
                }
            }
            _ => {}
        }
    }

    /// Status mapping: leading -> `Leader` (term = own revision); any other contender ->
    /// `Follower` of the holder the service last named to it (none before its first read
    /// and without a session). Nobody campaigns in these recipes — contenders queue — so
    /// `Candidate` is never reported, and a contender re-reading the prefix after a watch
    /// fired still counts as a follower while its session lives (DESIGN: the service is the
    /// authority on who leads).
    pub(super) fn status(&self) -> NodeStatus {
        let term = self.rev.unwrap_or(0);
        let (role, leader) = match self.phase {
            Phase::Leading => (Role::Leader, Some(self.id)),
            Phase::Connecting => (Role::Follower, None),
            _ => (Role::Follower, self.holder),
        };
        NodeStatus {
            role,
            term,
            leader,
            voted_for: None,
        }
    }

    /// Where the contender is in the recipe.
    pub fn phase(&self) -> Phase {
        self.phase
    }
}
