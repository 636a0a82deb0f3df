//! Symmetry reduction: worlds that differ only by a renaming of interchangeable nodes are
//! one state for deduplication.
//!
//! A renaming is a permutation of the participants that keeps every node's colour
//! ([`Symmetric::interchangeable`]); service replicas stay put. The seen-set key of a world
//! is the smallest fingerprint among its candidate renamed copies ([`Symmetry::key`];
//! candidates below), so every world of one orbit has the same key. The search keeps
//! expanding the real world it reached first, which is why counterexamples stay concrete
//! schedules that replay as they are.
//!
//! Renaming touches everything that carries an id: the order of the node slots, each
//! protocol state, durable state and timer key (through the protocol's own renaming), the
//! messages in flight (sender, receiver, payload; re-sorted into canonical order, which
//! keeps send order within a link under FIFO), the cut links, and the property histories.
//! The fault budget holds counts only, and the clock has no id.
//!
//! Not every renaming is tried: renamings map nodes sorted by an id-free signature (role,
//! term, liveness, timer deadlines) onto the ids sorted the same way, so only nodes with
//! equal signatures are shuffled. The signature is the same for a node and its image under
//! any renaming, so the candidate set of a renamed world is the candidate set of the world
//! composed with that renaming, and the minimum is the same. The number of distinct copies
//! among the candidates also gives the orbit's size, which the report sums up as the states
//! the search would have stored without symmetry.

use super::search::fingerprint;
use super::state::{Checkable, InFlight, Model, Slot, World};
use crate::sim::{NodeId, Symmetric};

/// Most participants symmetry reduction handles: 5! = 120 renamings in the worst case
/// (all nodes alike) for every state stored.
pub const MAX_SYMMETRIC_NODES: u32 = 5;

type Rename<T> = fn(&mut T, &[NodeId]);

/// The renamings of one model, and the protocol's hooks to apply them.
#[derive(Clone, Debug)]
pub struct Symmetry<P: Checkable> {
    /// Colour of each participant: equal colours are interchangeable.
    colours: Vec<u32>,
    /// Participant ids sorted by (colour, id): the slots a sorted order is mapped onto.
    targets: Vec<NodeId>,
    /// Renamings in the group (the product of the colour classes' factorials).
    group: u64,
    state: Rename<P>,
    msg: Rename<P::Msg>,
    timer: Rename<P::Timer>,
    durable: Rename<P::Durable>,
}

impl<P: Checkable> Symmetry<P> {
    /// The renamings `P` allows under `config`, or why there are none worth using (fewer
    /// than two interchangeable nodes, too many participants, or the protocol's reason).
    pub fn of(config: &P::Config, nodes: u32) -> Result<Symmetry<P>, String>
    where
        P: Symmetric,
    {
        if nodes > MAX_SYMMETRIC_NODES {
            return Err(format!(
                "at most {MAX_SYMMETRIC_NODES} participants (up to {} renamings per state); this model has {nodes}",
                (1..=u64::from(MAX_SYMMETRIC_NODES)).product::<u64>()
            ));
        }
        let colours = P::interchangeable(config, nodes)?;
        if colours.len() != nodes as usize {
            return Err(format!(
                "the protocol gave {} colours for {nodes} participants",
                colours.len()
            ));
        }
        let group: u64 = class_sizes(&colours)
            .iter()
            .map(|&k| (1..=k).product::<u64>())
            .product();
        if group < 2 {
            return Err("no two participants are configured alike".into());
        }
        let mut targets: Vec<NodeId> = (0..nodes).collect();
        targets.sort_by_key(|&i| (colours[i as usize], i));
        Ok(Symmetry {
            colours,
            targets,
            group,
            state: P::rename,
            msg: P::rename_msg,
            timer: P::rename_timer,
            durable: P::rename_durable,
        })
    }

    /// How many renamings the group has (1 is the identity alone).
    pub fn group_size(&self) -> u64 {
        self.group
    }

    /// A renamed copy of `w`: old id `i` becomes `map[i]` (`map` covers every node).
    pub fn renamed(&self, m: &Model<P>, w: &World<P>, map: &[NodeId]) -> World<P> {
        let mut nodes: Vec<Slot<P>> = w.nodes.clone();
        for (i, slot) in w.nodes.iter().enumerate() {
            let mut s = slot.clone();
            if let Some(st) = &mut s.state {
                (self.state)(st, map);
            }
            if let Some(d) = &mut s.durable {
                (self.durable)(d, map);
            }
            for (k, _) in &mut s.timers {
                (self.timer)(k, map);
            }
            s.timers.sort_by_key(|t| t.0);
            nodes[map[i] as usize] = s;
        }
        let msgs = w
            .msgs
            .iter()
            .map(|f| {
                let mut msg = f.msg.clone();
                (self.msg)(&mut msg, map);
                InFlight {
                    from: map[f.from as usize],
                    to: map[f.to as usize],
                    msg,
                }
            })
            .collect();
        let total = map.len() as NodeId;
        let mut r = World {
            now: w.now,
            nodes,
            msgs,
            blocked: 0,
            budget: w.budget,
            history: w.history.renamed(map),
        };
        for from in 0..total {
            for to in 0..total {
                if from != to && !w.link_up(from, to) {
                    r.cut_link(map[from as usize], map[to as usize]);
                }
            }
        }
        r.canonicalize(m);
        r
    }

    /// The seen-set key of `w` (the smallest fingerprint over its candidate renamings) and
    /// the size of its orbit (how many distinct worlds share the key).
    pub fn key(&self, m: &Model<P>, w: &World<P>) -> (u64, u64) {
        let n = self.colours.len();
        let sig: Vec<u64> = (0..n).map(|i| signature(w, i)).collect();
        let mut order: Vec<NodeId> = (0..n as NodeId).collect();
        order.sort_by_key(|&i| (self.colours[i as usize], sig[i as usize], i));
        // Runs of equal (colour, signature): the nodes candidates may shuffle.
        let mut blocks = Vec::new();
        let mut start = 0;
        for k in 1..=n {
            let same = |a: NodeId, b: NodeId| {
                (self.colours[a as usize], sig[a as usize])
                    == (self.colours[b as usize], sig[b as usize])
            };
            if k == n || !same(order[k - 1], order[k]) {
                if k - start > 1 {
                    blocks.push((start, k));
                }
                start = k;
            }
        }
        let mut map: Vec<NodeId> = (0..m.total()).collect();
        let mut fps = Vec::new();
        loop {
            for (k, &node) in order.iter().enumerate() {
                map[node as usize] = self.targets[k];
            }
            let identity = map.iter().enumerate().all(|(i, &j)| i as NodeId == j);
            fps.push(if identity {
                fingerprint(w)
            } else {
                fingerprint(&self.renamed(m, w, &map))
            });
            // Odometer over the blocks: advance the first block, carrying on wrap-around.
            let mut carried = true;
            for &(a, b) in &blocks {
                if next_permutation(&mut order[a..b]) {
                    carried = false;
                    break;
                }
            }
            if carried {
                break;
            }
        }
        let candidates = fps.len() as u64;
        fps.sort_unstable();
        fps.dedup();
        // |orbit| = |group| / |stabiliser|, and the stabiliser is the candidates' count
        // divided by the distinct copies among them.
        (fps[0], self.group * fps.len() as u64 / candidates)
    }
}

/// What a node looks like with every id left out: unchanged by any renaming.
fn signature<P: Checkable>(w: &World<P>, i: usize) -> u64 {
    let slot = &w.nodes[i];
    let status = slot.state.as_ref().map(|s| {
        let st = s.status();
        (st.role, st.term)
    });
    let mut deadlines: Vec<_> = slot.timers.iter().map(|(_, d)| *d).collect();
    deadlines.sort_unstable();
    fingerprint(&(status, deadlines))
}

/// Sizes of the colour classes.
fn class_sizes(colours: &[u32]) -> Vec<u64> {
    let mut sorted = colours.to_vec();
    sorted.sort_unstable();
    let mut sizes = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let j = i + sorted[i..].iter().take_while(|&&c| c == sorted[i]).count();
        sizes.push((j - i) as u64);
        i = j;
    }
    sizes
}

/// Rearrange `v` into the next permutation in lexicographic order; at the last one, reset
/// it to ascending order and return false.
fn next_permutation(v: &mut [NodeId]) -> bool {
    let Some(i) = (1..v.len()).rev().find(|&i| v[i - 1] < v[i]) else {
        v.reverse();
        return false;
    };
    let j = (i..v.len())
        .rev()
        .find(|&j| v[j] > v[i - 1])
        .expect("v[i] qualifies");
    v.swap(i - 1, j);
    v[i..].reverse();
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::raft::{Raft, RaftConfig, RaftMsg};
    use crate::verify::properties::{Property, Track};
    use crate::verify::search;
    use crate::verify::state::Action;
    use crate::verify::state::Budget;

    fn model(config: RaftConfig) -> Model<Raft> {
        let props = [Property::ElectionSafety, Property::VoteOnce];
        Model {
            nodes: 3,
            service: 0,
            symmetry: Some(Symmetry::of(&config, 3).unwrap()),
            config,
            fifo: false,
            timer_order: false,
            sync: false,
            track: Track::for_properties(&props),
        }
    }

    /// Worlds reachable in `depth` steps with a crash and a restart (a varied sample: cut
    /// links too, so the link bits are renamed).
    fn sample(m: &Model<Raft>, depth: usize) -> Vec<World<Raft>> {
        let props = [Property::ElectionSafety, Property::VoteOnce];
        let budget = Budget::parse("crash=1,restart=1,cut=1").unwrap();
        let mut level = vec![search::initial(m, &props, budget).0];
        let mut all = level.clone();
        for _ in 0..depth {
            level = level
                .iter()
                .flat_map(|w| {
                    w.actions(m, w.budget.any())
                        .iter()
                        .map(|a| search::step(m, &props, w, a).0)
                        .collect::<Vec<_>>()
                })
                .collect();
            level.truncate(400);
            all.extend(level.iter().cloned());
        }
        all
    }

    fn all_maps(n: NodeId) -> Vec<Vec<NodeId>> {
        let mut p: Vec<NodeId> = (0..n).collect();
        let mut maps = vec![p.clone()];
        while next_permutation(&mut p) {
            maps.push(p.clone());
        }
        maps
    }

    #[test]
    fn next_permutation_visits_every_order_once_and_resets() {
        let maps = all_maps(4);
        assert_eq!(maps.len(), 24);
        let mut sorted = maps.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, maps, "lexicographic and without repeats");
        let mut last = maps[23].clone();
        assert!(!next_permutation(&mut last));
        assert_eq!(last, vec![0, 1, 2, 3]);
    }

    #[test]
    fn renaming_and_renaming_back_is_the_identity() {
        let m = model(RaftConfig::default());
        let s = m.symmetry.as_ref().unwrap();
        let worlds = sample(&m, 5);
        let mut moved = 0;
        for w in &worlds {
            for map in all_maps(3) {
                let mut inverse = vec![0; 3];
                for (i, &j) in map.iter().enumerate() {
                    inverse[j as usize] = i as NodeId;
                }
                let r = s.renamed(&m, w, &map);
                moved += usize::from(r != *w);
                assert_eq!(s.renamed(&m, &r, &inverse), *w, "map {map:?}");
            }
        }
        assert!(moved > worlds.len(), "renamings do change worlds");
    }

    #[test]
    fn every_renamed_copy_has_the_same_key_and_orbit() {
        let m = model(RaftConfig::default());
        let s = m.symmetry.as_ref().unwrap();
        let mut keys = std::collections::BTreeSet::new();
        for w in sample(&m, 5) {
            let (key, orbit) = s.key(&m, &w);
            let mut copies: Vec<u64> = all_maps(3)
                .iter()
                .map(|map| search::fingerprint(&s.renamed(&m, &w, map)))
                .collect();
            copies.sort_unstable();
            copies.dedup();
            assert_eq!(orbit, copies.len() as u64, "orbit size");
            // The smallest candidate's fingerprint: one of the copies, not always the
            // smallest of all (only signature-sorting renamings are candidates).
            assert!(copies.binary_search(&key).is_ok(), "the key is a copy's");
            for map in all_maps(3) {
                assert_eq!(s.key(&m, &s.renamed(&m, &w, &map)), (key, orbit));
            }
            keys.insert(key);
        }
        assert!(keys.len() > 100, "a varied sample: {}", keys.len());
    }

    /// The action `a` with its node ids renamed (Raft payloads and timers carry none).
    fn rename_action(
        a: &Action<RaftMsg, crate::protocols::raft::RaftTimer>,
        map: &[NodeId],
    ) -> Action<RaftMsg, crate::protocols::raft::RaftTimer> {
        let r = |i: &NodeId| map[*i as usize];
        match a {
            Action::Deliver { from, to, msg } => Action::Deliver {
                from: r(from),
                to: r(to),
                msg: msg.clone(),
            },
            Action::Drop { from, to, msg } => Action::Drop {
                from: r(from),
                to: r(to),
                msg: msg.clone(),
            },
            Action::Duplicate { from, to, msg } => Action::Duplicate {
                from: r(from),
                to: r(to),
                msg: msg.clone(),
            },
            Action::Fire { node, timer } => Action::Fire {
                node: r(node),
                timer: *timer,
            },
            Action::Crash { node } => Action::Crash { node: r(node) },
            Action::Restart { node } => Action::Restart { node: r(node) },
            Action::Isolate { node } => Action::Isolate { node: r(node) },
            Action::Cut { from, to } => Action::Cut {
                from: r(from),
                to: r(to),
            },
            Action::Heal => Action::Heal,
        }
    }

    /// The soundness condition itself: renaming commutes with every transition (the
    /// renamed world offers the renamed action, which leads to the renamed successor with
    /// the renamed history), so a renamed copy is reachable and breaks the same properties.
    #[test]
    fn transitions_commute_with_renaming() {
        let m = model(RaftConfig::default());
        let s = m.symmetry.as_ref().unwrap();
        let props = [Property::ElectionSafety, Property::VoteOnce];
        let mut checked = 0;
        for w in sample(&m, 4).iter().step_by(7) {
            for map in all_maps(3) {
                let rw = s.renamed(&m, w, &map);
                let offered = rw.actions(&m, rw.budget.any());
                for a in w.actions(&m, w.budget.any()) {
                    let ra = rename_action(&a, &map);
                    assert!(offered.contains(&ra), "{ra:?} not offered");
                    let (next, broken) = search::step(&m, &props, w, &a);
                    let (rnext, rbroken) = search::step(&m, &props, &rw, &ra);
                    assert_eq!(s.renamed(&m, &next, &map), rnext, "{a:?} under {map:?}");
                    assert_eq!(broken.len(), rbroken.len());
                    checked += 1;
                }
            }
        }
        assert!(checked > 1000, "{checked}");
    }

    #[test]
    fn stale_nodes_are_only_swapped_with_stale_nodes() {
        let config = RaftConfig {
            stale_nodes: vec![1],
            ..RaftConfig::default()
        };
        let m = model(config.clone());
        let s = m.symmetry.as_ref().unwrap();
        assert_eq!(s.group_size(), 2, "nodes 0 and 2 swap; node 1 stays");
        assert_eq!(s.targets, vec![0, 2, 1]);
        let all_stale = RaftConfig {
            stale_nodes: vec![0, 1, 2],
            ..RaftConfig::default()
        };
        assert_eq!(Symmetry::<Raft>::of(&all_stale, 3).unwrap().group_size(), 6);
        let two = RaftConfig {
            stale_nodes: vec![0],
            ..RaftConfig::default()
        };
        assert!(Symmetry::<Raft>::of(&two, 2).is_err(), "nothing to swap");
        let err = Symmetry::<Raft>::of(&RaftConfig::default(), 6).unwrap_err();
        assert!(err.contains("at most 5"), "{err}");
        // The stale node keeps its id in every candidate: keys are still orbit-invariant.
        for w in sample(&m, 4) {
            let key = s.key(&m, &w);
            assert_eq!(s.key(&m, &s.renamed(&m, &w, &[2, 1, 0])), key);
        }
    }
}
