//! Crash tolerance and failure detection of the ring: tokens are acknowledged, a successor
//! that does not acknowledge is suspected and skipped, the heartbeat detector and the guard
//! against a stuck election.

use super::{MAX_PENDING, Pending, RCtx, Ring, RingMsg, RingTimer};
use crate::protocols::detector::DetectorKind;
use crate::sim::{Delay, Message, NodeId, Out, Role, SimDuration};

impl Ring {
    /// Whether the failure detector currently suspects `node` (the ring skips it).
    pub fn suspects(&self, node: NodeId) -> bool {
        self.suspected.contains(&node)
    }

    /// The next node along the ring that is not suspected (never itself).
    pub fn successor(&self, ctx: &RCtx<'_>) -> Option<NodeId> {
        (1..ctx.nodes as usize)
            .map(|k| ctx.config.at(self.pos + k, ctx.nodes))
            .find(|n| !self.suspected.contains(n))
    }

    pub(super) fn arm_detector(ctx: &RCtx<'_>, out: &mut Out<Self>) {
        let c = ctx.config;
        out.set_timer(
            RingTimer::Detector,
            Delay::Uniform {
                min: c.heartbeat_timeout_min,
                max: c.heartbeat_timeout_max,
            },
        );
    }

    /// Arm the detector while following a leader: the timeout range, or with
    /// `detector = "phi"` the moment φ will exceed its threshold.
    pub(super) fn arm_leader_detector(&self, ctx: &RCtx<'_>, out: &mut Out<Self>) {
        let c = &ctx.config.detector;
        match c.kind {
            DetectorKind::Phi => match self.detector.suspect_after(c, ctx.now) {
                Some(d) => out.set_timer(RingTimer::Detector, Delay::Fixed(d)),
                None => Self::arm_detector(ctx, out),
            },
            DetectorKind::Timeout | DetectorKind::Quorum => Self::arm_detector(ctx, out),
        }
    }

    /// The detector fired while following a leader: suspect it (start an election), unless
    /// the stabilizer holds the election back or the quorum detector must ask the peers.
    pub(super) fn on_detector(&mut self, ctx: &RCtx<'_>, out: &mut Out<Self>) {
        let Some(leader) = self.leader else {
            return self.start_election(ctx, out);
        };
        if let Some(wait) = self.stabilizer.hold(&ctx.config.stabilizer, ctx.now) {
            return out.set_timer(RingTimer::Detector, Delay::Fixed(wait));
        }
        if ctx.config.detector.kind == DetectorKind::Quorum {
            let round = self.detector.open_query(leader);
            out.broadcast(RingMsg::SuspectQuery { leader, round });
            return out.set_timer(
                RingTimer::SuspectQuery,
                Delay::Fixed(ctx.config.detector.quorum_wait),
            );
        }
        self.start_election(ctx, out);
    }

    /// While an election runs: a heartbeat timeout plus two laps of the ring (Election and
    /// Elected) at one ack timeout per hop, so large rings can finish before it fires.
    pub(super) fn arm_election_guard(ctx: &RCtx<'_>, out: &mut Out<Self>) {
        let c = ctx.config;
        let laps = SimDuration(c.ack_timeout.0.saturating_mul(2 * u64::from(ctx.nodes)));
        out.set_timer(
            RingTimer::Detector,
            Delay::Uniform {
                min: c.heartbeat_timeout_min + laps,
                max: c.heartbeat_timeout_max + laps,
            },
        );
    }

    /// Send a token to the successor, remembering it until acknowledged.
    pub(super) fn send_token(&mut self, ctx: &RCtx<'_>, msg: RingMsg, out: &mut Out<Self>) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let msg = match msg {
            RingMsg::Election { epoch, id, .. } => RingMsg::Election { epoch, id, seq },
            RingMsg::Elected { epoch, leader, .. } => RingMsg::Elected { epoch, leader, seq },
            other => other,
        };
        let Some(to) = self.successor(ctx) else {
            return self.alone(ctx, &msg, out);
        };
        if self.pending.is_empty() {
            out.set_timer(RingTimer::Ack, Delay::Fixed(ctx.config.ack_timeout));
        }
        if self.pending.len() >= MAX_PENDING {
            self.pending.remove(0);
        }
        self.pending.push(Pending {
            seq,
            to,
            msg: msg.clone(),
        });
        out.send(to, msg);
    }

    /// No reachable successor: an election token means we are the only live node we know of.
    pub(super) fn alone(&mut self, ctx: &RCtx<'_>, msg: &RingMsg, out: &mut Out<Self>) {
        if let RingMsg::Election { epoch, .. } = *msg
            && epoch == self.epoch
            && self.role != Role::Leader
        {
            self.become_leader(ctx, out);
        }
    }

    /// The successor did not acknowledge: skip it and re-send what it did not acknowledge.
    pub(super) fn on_ack_timeout(&mut self, ctx: &RCtx<'_>, out: &mut Out<Self>) {
        let Some(first) = self.pending.first() else {
            return;
        };
        self.suspected.insert(first.to);
        let pending = std::mem::take(&mut self.pending);
        for p in pending {
            if p.msg.term().is_some_and(|e| e < self.epoch) {
                continue; // A token of an older epoch is moot.
            }
            self.send_token(ctx, p.msg, out);
        }
    }
}
