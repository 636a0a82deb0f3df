//! The intervals a trace describes: each node's role over time, pauses, network faults
//! until healed, elections, crashes and split-brain incidents. The timeline picture draws
//! them and the Perfetto export marks split brain from them; they live here, with the trace,
//! so that drawing depends on the trace and never the other way round.

use super::{Event, Recording, describe_fault, fault_node};
use crate::sim::{FaultAction, Role};

/// Time intervals and marks extracted from a trace.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    /// Participants (rows); service replicas are not drawn.
    pub nodes: u32,
    /// Virtual end of the run, in ns (open intervals end here).
    pub end_ns: u64,
    /// (node, start, end, role, term)
    pub roles: Vec<(u32, u64, u64, Role, u64)>,
    /// (node, start, end)
    pub pauses: Vec<(u32, u64, u64)>,
    /// (start, end, description) of network faults (partition, cut, isolate) until healed.
    pub link_faults: Vec<(u64, u64, String)>,
    /// (node, time): a node became leader.
    pub elections: Vec<(u32, u64)>,
    /// (node, time): a node crashed.
    pub crashes: Vec<(u32, u64)>,
    /// (start, end): two or more live nodes were leader.
    pub split_brain: Vec<(u64, u64)>,
    /// Start of the drawn window (`--from`; 0 = the run start). The window ends at `end_ns`.
    pub from_ns: u64,
}

impl Timeline {
    /// Extract the picture's content from a recording.
    pub fn from_recording(rec: &Recording, nodes: u32) -> Timeline {
        let n = nodes as usize;
        let end = rec.end().0;
        let mut t = Timeline {
            nodes,
            end_ns: end,
            ..Timeline::default()
        };
        let mut role: Vec<(u64, Role, u64)> = vec![(0, Role::Down, 0); n];
        let mut paused: Vec<Option<u64>> = vec![None; n];
        let mut links: Option<(u64, Vec<String>, u32)> = None;
        let mut split_since: Option<u64> = None;
        for r in &rec.records {
            let at = r.at.0;
            match &r.event {
                Event::Status { node, old, new } if (*node as usize) < n => {
                    let i = *node as usize;
                    if at > role[i].0 {
                        t.roles.push((*node, role[i].0, at, role[i].1, role[i].2));
                    }
                    role[i] = (at, new.role, new.term);
                    if new.role == Role::Leader && old.role != Role::Leader {
                        t.elections.push((*node, at));
                    }
                    if new.role == Role::Down
                        && let Some(p) = paused[i].take()
                    {
                        t.pauses.push((*node, p, at));
                    }
                }
                Event::Fault { action } => match action {
                    FaultAction::Pause { .. } => {
                        if let Some(nd) = fault_node(action).filter(|&x| (x as usize) < n) {
                            paused[nd as usize] = Some(at);
                        }
                    }
                    FaultAction::Crash { .. } => {
                        if let Some(nd) = fault_node(action).filter(|&x| (x as usize) < n) {
                            t.crashes.push((nd, at));
                        }
                    }
                    FaultAction::Partition { .. }
                    | FaultAction::Cut { .. }
                    | FaultAction::Isolate { .. } => {
                        let band = links.get_or_insert_with(|| (at, Vec::new(), 0));
                        band.1.push(describe_fault(action));
                        band.2 += 1;
                    }
                    // One shaded band per stretch with any network fault active.
                    FaultAction::HealFault { .. } => {
                        if let Some(band) = links.as_mut() {
                            band.2 -= 1;
                            if band.2 == 0
                                && let Some((s, what, _)) = links.take()
                            {
                                t.link_faults.push((s, at, what.join("; ")));
                            }
                        }
                    }
                    FaultAction::Heal => {
                        if let Some((s, what, _)) = links.take() {
                            t.link_faults.push((s, at, what.join("; ")));
                        }
                    }
                    _ => {}
                },
                Event::Resume { node } if (*node as usize) < n => {
                    if let Some(p) = paused[*node as usize].take() {
                        t.pauses.push((*node, p, at));
                    }
                }
                _ => {}
            }
            let live_leaders = (0..n)
                .filter(|&i| role[i].1 == Role::Leader && paused[i].is_none())
                .count();
            match (live_leaders >= 2, split_since) {
                (true, None) => split_since = Some(at),
                (false, Some(s)) => {
                    if at > s {
                        t.split_brain.push((s, at));
                    }
                    split_since = None;
                }
                _ => {}
            }
        }
        for (i, (s, r, term)) in role.into_iter().enumerate() {
            if end > s {
                t.roles.push((i as u32, s, end, r, term));
            }
        }
        for (i, p) in paused.into_iter().enumerate() {
            if let Some(p) = p {
                t.pauses.push((i as u32, p, end));
            }
        }
        if let Some((s, what, _)) = links {
            t.link_faults.push((s, end, what.join("; ")));
        }
        if let Some(s) = split_since
            && end > s
        {
            t.split_brain.push((s, end));
        }
        t
    }
}

impl Timeline {
    /// Zoom to `[from_ns, to_ns]` (clamped to the run): every interval is clipped to the
    /// window and marks outside it are dropped.
    pub fn window(mut self, from_ns: u64, to_ns: u64) -> Timeline {
        let to = to_ns.min(self.end_ns).max(from_ns.saturating_add(1));
        let from = from_ns.min(to.saturating_sub(1));
        let clip = |s: u64, e: u64| (e > from && s < to).then(|| (s.max(from), e.min(to)));
        self.roles = self
            .roles
            .iter()
            .filter_map(|&(n, s, e, r, t)| clip(s, e).map(|(s, e)| (n, s, e, r, t)))
            .collect();
        self.pauses = self
            .pauses
            .iter()
            .filter_map(|&(n, s, e)| clip(s, e).map(|(s, e)| (n, s, e)))
            .collect();
        self.link_faults = self
            .link_faults
            .iter()
            .filter_map(|(s, e, w)| clip(*s, *e).map(|(s, e)| (s, e, w.clone())))
            .collect();
        self.split_brain = self
            .split_brain
            .iter()
            .filter_map(|&(s, e)| clip(s, e))
            .collect();
        self.elections.retain(|&(_, t)| t >= from && t <= to);
        self.crashes.retain(|&(_, t)| t >= from && t <= to);
        self.from_ns = from;
        self.end_ns = to;
        self
    }
}
