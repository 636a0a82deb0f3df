//! The intervals a trace describes: each node's role over time, pauses, network faults
//! until healed, elections, crashes and split-brain incidents. The timeline picture draws
//! them and the Perfetto export marks split brain from them; they live here, with the trace,
//! so that drawing depends on the trace and never the other way round.

use super::{Event, Recording, describe_fault, fault_node};
use crate::sim::{FaultAction, Role};

/// Time intervals and marks extracted from a trace.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    /// Participants (the first rows).
    pub nodes: u32,
    /// Rows: the participants, then the coordination-service replicas (ids `nodes..`).
    pub lanes: u32,
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
    /// (start, end, sides) of each partition until healed: every row on one side.
    pub partitions: Vec<(u64, u64, Vec<Vec<u32>>)>,
    /// (node, time, term, first leader of the term): a participant became leader of a term
    /// that already had another leader (the `same_term_leaders` metric's rule).
    pub same_term: Vec<(u32, u64, u64, u32)>,
    /// Start of the drawn window (`--from`; 0 = the run start). The window ends at `end_ns`.
    pub from_ns: u64,
}

impl Timeline {
    /// Extract the picture's content from a recording.
    pub fn from_recording(rec: &Recording, nodes: u32) -> Timeline {
        let n = nodes as usize;
        let lanes = rec.total_nodes(nodes);
        let end = rec.end().0;
        let mut t = Timeline {
            nodes,
            lanes,
            end_ns: end,
            ..Timeline::default()
        };
        let mut role: Vec<(u64, Role, u64)> = vec![(0, Role::Down, 0); lanes as usize];
        let mut paused: Vec<Option<u64>> = vec![None; n];
        // Every network fault by run-wide number (what `HealFault` names); partitions keep
        // their start and sides until healed.
        let mut net: Vec<Option<(u64, Vec<Vec<u32>>)>> = Vec::new();
        let mut term_leader: std::collections::BTreeMap<u64, u32> = Default::default();
        let mut links: Option<(u64, Vec<String>, u32)> = None;
        let mut split_since: Option<u64> = None;
        for r in &rec.records {
            let at = r.at.0;
            match &r.event {
                Event::Status { node, old, new } if *node < lanes => {
                    let i = *node as usize;
                    if at > role[i].0 {
                        t.roles.push((*node, role[i].0, at, role[i].1, role[i].2));
                    }
                    role[i] = (at, new.role, new.term);
                    let participant = i < n;
                    if participant && new.role == Role::Leader && old.role != Role::Leader {
                        t.elections.push((*node, at));
                    }
                    if participant && new.role == Role::Leader {
                        match term_leader.get(&new.term) {
                            Some(&l) if l != *node => {
                                t.same_term.push((*node, at, new.term, l));
                            }
                            Some(_) => {}
                            None => {
                                term_leader.insert(new.term, *node);
                            }
                        }
                    }
                    if participant
                        && new.role == Role::Down
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
                        net.push(match action {
                            FaultAction::Partition { groups, .. } => {
                                Some((at, sides(groups, lanes)))
                            }
                            _ => None,
                        });
                    }
                    // One shaded band per stretch with any network fault active.
                    FaultAction::HealFault { fault } => {
                        if let Some((s, sides)) =
                            net.get_mut(*fault as usize).and_then(Option::take)
                        {
                            t.partitions.push((s, at, sides));
                        }
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
                        for (s, sides) in net.iter_mut().filter_map(Option::take) {
                            t.partitions.push((s, at, sides));
                        }
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
        for (s, sides) in net.into_iter().flatten() {
            t.partitions.push((s, end, sides));
        }
        if let Some(s) = split_since
            && end > s
        {
            t.split_brain.push((s, end));
        }
        t
    }
}

/// The sides a partition's groups split `lanes` rows into: each group, then the nodes
/// named nowhere (one more side, as the engine treats them).
pub fn sides(groups: &[Vec<u32>], lanes: u32) -> Vec<Vec<u32>> {
    let mut sides: Vec<Vec<u32>> = groups.to_vec();
    let rest: Vec<u32> = (0..lanes)
        .filter(|n| !groups.iter().any(|g| g.contains(n)))
        .collect();
    if !rest.is_empty() {
        sides.push(rest);
    }
    sides
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
        self.partitions = self
            .partitions
            .iter()
            .filter_map(|(s, e, sides)| clip(*s, *e).map(|(s, e)| (s, e, sides.clone())))
            .collect();
        self.same_term.retain(|&(_, t, _, _)| t >= from && t <= to);
        self.elections.retain(|&(_, t)| t >= from && t <= to);
        self.crashes.retain(|&(_, t)| t >= from && t <= to);
        self.from_ns = from;
        self.end_ns = to;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::trace::Record;
    use crate::sim::{NodeStatus, SimTime};

    fn status(at: u64, node: u32, role: Role, term: u64) -> Record {
        let st = |role| NodeStatus {
            role,
            term,
            leader: None,
            voted_for: None,
        };
        Record {
            at: SimTime(at),
            event: Event::Status {
                node,
                old: st(Role::Follower),
                new: st(role),
            },
        }
    }

    #[test]
    fn replicas_get_rows_partitions_keep_their_sides_and_same_term_leaders_are_marked() {
        let fault = |at, action| Record {
            at: SimTime(at),
            event: Event::Fault { action },
        };
        let rec = Recording {
            records: vec![
                status(0, 3, Role::Service, 0), // the one service replica, id 3
                status(5, 0, Role::Leader, 2),
                fault(
                    10,
                    FaultAction::Partition {
                        groups: vec![vec![0]],
                        heal_after: None,
                    },
                ),
                status(15, 1, Role::Leader, 2), // a second leader of term 2
                fault(20, FaultAction::HealFault { fault: 0 }),
                Record {
                    at: SimTime(30),
                    event: Event::End,
                },
            ],
            seen: 6,
            limit: 10,
        };
        let tl = Timeline::from_recording(&rec, 3);
        assert_eq!((tl.nodes, tl.lanes), (3, 4));
        assert!(tl.roles.contains(&(3, 0, 30, Role::Service, 0)));
        assert_eq!(tl.partitions, vec![(10, 20, vec![vec![0], vec![1, 2, 3]])]);
        assert_eq!(tl.same_term, vec![(1, 15, 2, 0)]);
        assert_eq!(tl.split_brain, vec![(15, 30)]);
        let zoomed = tl.window(12, 18);
        assert_eq!(
            zoomed.partitions,
            vec![(12, 18, vec![vec![0], vec![1, 2, 3]])]
        );
        assert_eq!(zoomed.same_term.len(), 1);
    }
}
