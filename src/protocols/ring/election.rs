//! The election proper: epochs, initiating, Chang-Roberts and LeLann token handling, and
//! the roles a node takes as ids pass it.

use super::{RCtx, Ring, RingMsg, RingTimer, Variant};
use crate::sim::{Delay, NodeId, Out, Role};

impl Ring {
    /// Join epoch `epoch` with fresh election state (a leader of an older epoch steps down).
    pub(super) fn enter_epoch(&mut self, ctx: &RCtx<'_>, epoch: u64, out: &mut Out<Self>) {
        debug_assert!(epoch > self.epoch, "epochs only grow");
        self.epoch = epoch;
        out.persist(epoch);
        self.participant = false;
        self.forwarded.clear();
        self.elected_forwarded = false;
        self.best_seen = self.id;
        self.suspected.clear();
        if self.role == Role::Leader {
            out.cancel_timer(RingTimer::Heartbeat);
        }
        self.role = Role::Follower;
        self.leader = None;
        Self::arm_election_guard(ctx, out);
    }

    /// Start an election in a new epoch: send our own id.
    pub(super) fn start_election(&mut self, ctx: &RCtx<'_>, out: &mut Out<Self>) {
        self.detector.close_query();
        self.enter_epoch(ctx, self.epoch + 1, out);
        self.initiate(ctx, out);
    }

    /// Take part with our own id in the current epoch.
    pub(super) fn initiate(&mut self, ctx: &RCtx<'_>, out: &mut Out<Self>) {
        self.participant = true;
        self.role = Role::Candidate;
        self.forwarded.insert(self.id);
        self.send_token(
            ctx,
            RingMsg::Election {
                epoch: self.epoch,
                id: self.id,
                seq: 0,
            },
            out,
        );
    }

    pub(super) fn become_leader(&mut self, ctx: &RCtx<'_>, out: &mut Out<Self>) {
        self.role = Role::Leader;
        self.leader = Some(self.id);
        self.stabilizer
            .observe(&ctx.config.stabilizer, self.id, ctx.now);
        self.participant = false;
        out.cancel_timer(RingTimer::Detector);
        out.set_timer(RingTimer::Heartbeat, Delay::Fixed(ctx.config.heartbeat));
    }

    pub(super) fn follow(&mut self, ctx: &RCtx<'_>, leader: NodeId, out: &mut Out<Self>) {
        if self.role == Role::Leader {
            out.cancel_timer(RingTimer::Heartbeat);
        }
        self.role = Role::Follower;
        if self.leader == Some(leader) {
            self.detector.heartbeat(&ctx.config.detector, ctx.now);
        } else {
            self.detector.restart(ctx.now, leader);
            self.stabilizer
                .observe(&ctx.config.stabilizer, leader, ctx.now);
        }
        self.leader = Some(leader);
        self.participant = false;
        self.arm_leader_detector(ctx, out);
    }

    pub(super) fn on_election(&mut self, ctx: &RCtx<'_>, id: NodeId, out: &mut Out<Self>) {
        match ctx.config.variant {
            Variant::ChangRoberts => {
                if id == self.id {
                    // Unless we passed on a larger id, or a larger id already won, in this
                    // epoch: then our token went round a node that was skipped by mistake.
                    let larger_seen = self.forwarded.range(self.id + 1..).next().is_some()
                        || self.leader.is_some_and(|l| l > self.id);
                    if self.role != Role::Leader && !larger_seen {
                        // Our own id made a full lap: it is the largest live id.
                        self.become_leader(ctx, out);
                        self.elected_forwarded = true;
                        self.send_token(
                            ctx,
                            RingMsg::Elected {
                                epoch: self.epoch,
                                leader: self.id,
                                seq: 0,
                            },
                            out,
                        );
                    }
                } else if id > self.id {
                    if !self.forwarded.insert(id) {
                        return; // Second lap: its originator is gone (or a duplicate).
                    }
                    self.participant = true;
                    if self.role == Role::Candidate {
                        self.role = Role::Follower; // Our id lost.
                    }
                    self.send_token(
                        ctx,
                        RingMsg::Election {
                            epoch: self.epoch,
                            id,
                            seq: 0,
                        },
                        out,
                    );
                } else if !self.participant && self.leader.is_none() {
                    self.initiate(ctx, out); // Replace the smaller id with ours.
                }
                // else: swallow the smaller id (we take part, or this epoch is decided).
            }
            Variant::Lcr => {
                if !self.forwarded.contains(&self.id) && self.role != Role::Leader {
                    self.initiate(ctx, out); // Join with our own id before passing others on.
                }
                self.best_seen = self.best_seen.max(id);
                if id == self.id {
                    // Our id made a full lap; on FIFO links we have seen every live id.
                    if self.best_seen == self.id {
                        if self.role != Role::Leader {
                            self.become_leader(ctx, out);
                        }
                    } else {
                        self.follow(ctx, self.best_seen, out);
                    }
                    return;
                }
                if id > self.id {
                    match self.role {
                        Role::Candidate => self.role = Role::Follower,
                        // Decided too early (links reordered tokens): defer to the larger id.
                        Role::Leader => self.follow(ctx, id, out),
                        _ if self.leader.is_some_and(|l| l < id) => self.follow(ctx, id, out),
                        _ => {}
                    }
                }
                if self.forwarded.insert(id) {
                    self.send_token(
                        ctx,
                        RingMsg::Election {
                            epoch: self.epoch,
                            id,
                            seq: 0,
                        },
                        out,
                    );
                }
            }
        }
    }
}
