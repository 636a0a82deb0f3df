//! Breadth-first (shortest counterexample) and depth-bounded depth-first search over
//! [`World`]s, with fingerprint deduplication, bounds and a progress line.
//!
//! Determinism: successors are generated in a fixed order, the visited set is only asked
//! for membership (never iterated), and the search is single-threaded, so the same
//! arguments give the same result and the same counterexample. A counterexample is kept as
//! the list of successor indices from the initial world and re-executed to print it.

use super::properties::{Broken, Property, check_state};
use super::state::{Action, Checkable, Model, World};
use crate::sim::Protocol;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// A fixed-key 64-bit hasher for state fingerprints (no `RandomState`: the same state has
/// the same fingerprint in every run). Two distinct states collide with probability about
/// 2^-64 per pair; a collision can only hide a state, never invent a violation.
#[derive(Clone, Copy, Debug)]
pub struct Fingerprinter {
    a: u64,
    b: u64,
}

impl Default for Fingerprinter {
    fn default() -> Self {
        Fingerprinter {
            a: 0x243f_6a88_85a3_08d3,
            b: 0x1319_8a2e_0370_7344,
        }
    }
}

impl Fingerprinter {
    #[inline]
    fn mix(&mut self, v: u64) {
        self.a = (self.a ^ v)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29);
        self.b = (self.b.rotate_left(23) ^ self.a).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    }
}

impl Hasher for Fingerprinter {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.mix(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(buf) ^ ((rest.len() as u64) << 59));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.mix(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.mix(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.mix(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.mix(i as u64);
    }
    fn finish(&self) -> u64 {
        // murmur3's finalizer over both lanes.
        let mut x = self.a ^ self.b.rotate_left(32);
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^ (x >> 33)
    }
}

/// The fingerprint of a value.
pub fn fingerprint<T: Hash + ?Sized>(x: &T) -> u64 {
    let mut h = Fingerprinter::default();
    x.hash(&mut h);
    h.finish()
}

/// A set keyed by fingerprints (already hashes: the identity would do, this is cheap).
type FpSet = HashSet<u64, BuildHasherDefault<Fingerprinter>>;
type FpMap<V> = HashMap<u64, V, BuildHasherDefault<Fingerprinter>>;

/// Search order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Strategy {
    /// Breadth-first: the first counterexample found is a shortest one.
    #[default]
    Bfs,
    /// Depth-first, bounded by the depth limit: less memory, longer counterexamples.
    Dfs,
}

/// Limits on a search. Hitting one stops the search; the result names it.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// Longest schedule explored (transitions from the initial state).
    pub depth: u32,
    /// Most distinct states stored.
    pub max_states: u64,
    /// Wall-clock budget (bounds the search, not its results: a result always says which
    /// bound stopped it).
    pub time: Option<Duration>,
    /// Liveness: steps allowed to elect a leader once faults stop.
    pub liveness_steps: u32,
}

/// Why a search ended without a violation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Every state reachable within the depth bound was explored, and no state at the
    /// bound had successors: the whole (finite) state space is covered.
    Exhausted,
    /// Every state within the depth bound was explored; deeper states exist.
    Depth,
    /// The state bound was hit first.
    MaxStates,
    /// The time bound was hit first.
    Time,
}

impl Stop {
    /// Name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Stop::Exhausted => "exhausted",
            Stop::Depth => "depth",
            Stop::MaxStates => "max_states",
            Stop::Time => "time",
        }
    }
}

/// Counters of a search.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// Transitions taken (successor states generated, duplicates included).
    pub explored: u64,
    /// Distinct states (by fingerprint; with symmetry, by orbit key).
    pub distinct: u64,
    /// The distinct worlds the stored states stand for: the sum of their orbit sizes
    /// (equal to `distinct` without symmetry; with it, what a search without symmetry
    /// would store, when the search ran to its depth bound).
    pub represented: u64,
    /// Deepest level reached.
    pub depth: u32,
    /// Wall-clock time the search took.
    pub elapsed: Duration,
}

impl Stats {
    /// Generated states per wall-clock second.
    pub fn states_per_s(&self) -> f64 {
        self.explored as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// What a search found.
#[derive(Clone, Debug)]
pub enum Found<P: Checkable> {
    /// No violation within the bounds.
    Clean(Stop),
    /// A violation: the schedule from the initial state, and what broke.
    Violation {
        /// The transitions from the initial state to the violating one, in order.
        path: Vec<Action<P::Msg, P::Timer>>,
        /// The property broken and why.
        broken: Broken,
    },
}

/// The world after `action`, with its history updated, and the selected properties it
/// breaks.
pub fn step<P: Checkable>(
    m: &Model<P>,
    props: &[Property],
    w: &World<P>,
    action: &Action<P::Msg, P::Timer>,
) -> (World<P>, Vec<Broken>) {
    let (mut next, changes) = w.apply(m, action);
    let mut broken = Vec::new();
    settle(m, props, &mut next, &changes, &mut broken);
    (next, broken)
}

/// The initial world, with its history, and what it breaks.
pub fn initial<P: Checkable>(
    m: &Model<P>,
    props: &[Property],
    budget: super::state::Budget,
) -> (World<P>, Vec<Broken>) {
    let (mut w, changes) = World::initial(m, budget);
    let mut broken = Vec::new();
    settle(m, props, &mut w, &changes, &mut broken);
    (w, broken)
}

fn settle<P: Checkable>(
    m: &Model<P>,
    props: &[Property],
    w: &mut World<P>,
    changes: &[super::state::Change],
    broken: &mut Vec<Broken>,
) {
    let mut history_broken = Vec::new();
    for c in changes {
        if c.node < m.nodes {
            w.history.observe(c.node, &c.new, &mut history_broken);
        }
    }
    broken.extend(
        history_broken
            .into_iter()
            .filter(|b| props.contains(&b.property)),
    );
    let statuses = w.statuses();
    w.history.update_holder(&statuses[m.nodes as usize..]);
    check_state(props, m.nodes, &statuses, &w.history, broken);
}

/// The progress line on stderr (only when stderr is a terminal).
struct Progress {
    on: bool,
    start: Instant,
    last: Instant,
}

impl Progress {
    fn new() -> Progress {
        let now = Instant::now();
        Progress {
            on: std::io::stderr().is_terminal(),
            start: now,
            last: now,
        }
    }
    fn tick(&mut self, s: &Stats) {
        if !self.on || self.last.elapsed() < Duration::from_secs(1) {
            return;
        }
        self.last = Instant::now();
        let secs = self.start.elapsed().as_secs_f64();
        eprint!(
            "\rverify: depth {}, {} states explored, {} distinct, {:.0} states/s   ",
            s.depth,
            s.explored,
            s.distinct,
            s.explored as f64 / secs.max(1e-9)
        );
    }
    fn done(&self) {
        if self.on && self.last != self.start {
            eprintln!();
        }
    }
}

/// Search for a violation of `props` from the initial world.
pub fn search<P: Checkable>(
    m: &Model<P>,
    props: &[Property],
    budget: super::state::Budget,
    strategy: Strategy,
    bounds: &Bounds,
) -> (Found<P>, Stats) {
    let start = Instant::now();
    let mut stats = Stats::default();
    let mut progress = Progress::new();
    let (w0, broken) = initial(m, props, budget);
    let found = if let Some(b) = broken.into_iter().next() {
        Found::Violation {
            path: Vec::new(),
            broken: b,
        }
    } else {
        match strategy {
            Strategy::Bfs => bfs(m, props, w0, bounds, &mut stats, &mut progress, start),
            Strategy::Dfs => dfs(m, props, w0, bounds, &mut stats, &mut progress, start),
        }
    };
    progress.done();
    stats.elapsed = start.elapsed();
    (found, stats)
}

fn over_time(bounds: &Bounds, start: Instant) -> bool {
    bounds.time.is_some_and(|t| start.elapsed() >= t)
}

/// Re-execute a schedule given as successor indices.
fn replay_indices<P: Checkable>(
    m: &Model<P>,
    w0: &World<P>,
    idx: &[u32],
    faults: bool,
) -> Vec<Action<P::Msg, P::Timer>> {
    let mut w = w0.clone();
    let mut path = Vec::with_capacity(idx.len());
    for &i in idx {
        let a = w
            .actions(m, faults && w.budget.any())
            .swap_remove(i as usize);
        w = w.apply(m, &a).0;
        path.push(a);
    }
    path
}

fn bfs<P: Checkable>(
    m: &Model<P>,
    props: &[Property],
    w0: World<P>,
    bounds: &Bounds,
    stats: &mut Stats,
    progress: &mut Progress,
    start: Instant,
) -> Found<P> {
    // Parent links: fingerprint -> (parent fingerprint, successor index).
    let mut parent: FpMap<(u64, u32)> = FpMap::default();
    let (fp0, orbit0) = m.key(&w0);
    parent.insert(fp0, (fp0, u32::MAX));
    stats.distinct = 1;
    stats.represented = orbit0;
    let mut frontier: VecDeque<(World<P>, u64)> = VecDeque::from([(w0.clone(), fp0)]);
    let mut depth = 0;
    let liveness = props.contains(&Property::Liveness);
    // Successor indices from the initial world to the world with fingerprint `fp`.
    let path_to = |parent: &FpMap<(u64, u32)>, mut fp: u64| {
        let mut idx = Vec::new();
        while let Some(&(p, i)) = parent.get(&fp) {
            if i == u32::MAX {
                break;
            }
            idx.push(i);
            fp = p;
        }
        idx.reverse();
        idx
    };
    while !frontier.is_empty() {
        if depth >= bounds.depth {
            return Found::Clean(Stop::Depth);
        }
        let mut next = VecDeque::new();
        for (w, fp) in frontier {
            if liveness && no_leader_within(m, &w, bounds.liveness_steps).is_some() {
                let path = replay_indices(m, &w0, &path_to(&parent, fp), true);
                return Found::Violation {
                    path,
                    broken: Broken {
                        property: Property::Liveness,
                        detail: format!(
                            "once faults stop (network healed), no schedule of at most {} steps elects a leader",
                            bounds.liveness_steps
                        ),
                    },
                };
            }
            let acts = w.actions(m, w.budget.any());
            for (i, a) in acts.iter().enumerate() {
                let (s, broken) = step(m, props, &w, a);
                stats.explored += 1;
                if let Some(b) = broken.into_iter().next() {
                    stats.depth = depth + 1;
                    let mut idx = path_to(&parent, fp);
                    idx.push(i as u32);
                    return Found::Violation {
                        path: replay_indices(m, &w0, &idx, true),
                        broken: b,
                    };
                }
                let (sfp, orbit) = m.key(&s);
                if parent.contains_key(&sfp) {
                    continue;
                }
                parent.insert(sfp, (fp, i as u32));
                stats.distinct += 1;
                stats.represented += orbit;
                next.push_back((s, sfp));
                if stats.distinct >= bounds.max_states {
                    return Found::Clean(Stop::MaxStates);
                }
            }
            progress.tick(stats);
            if over_time(bounds, start) {
                return Found::Clean(Stop::Time);
            }
        }
        depth += 1;
        stats.depth = depth;
        frontier = next;
    }
    Found::Clean(Stop::Exhausted)
}

/// A depth-first frame: a world, its enabled actions and the next one to take.
type Frame<P> = (
    World<P>,
    Vec<Action<<P as Protocol>::Msg, <P as Protocol>::Timer>>,
    usize,
);

fn dfs<P: Checkable>(
    m: &Model<P>,
    props: &[Property],
    w0: World<P>,
    bounds: &Bounds,
    stats: &mut Stats,
    progress: &mut Progress,
    start: Instant,
) -> Found<P> {
    // Fingerprint -> shallowest depth it was expanded at (a state seen deeper than before
    // is skipped; seen shallower, it is expanded again so the depth bound stays exact).
    let mut seen: FpMap<u32> = FpMap::default();
    let (fp0, orbit0) = m.key(&w0);
    seen.insert(fp0, 0);
    stats.distinct = 1;
    stats.represented = orbit0;
    let liveness = props.contains(&Property::Liveness);
    // Stack of (world, its enabled actions, next action index).
    let acts0 = w0.actions(m, w0.budget.any());
    let mut stack: Vec<Frame<P>> = vec![(w0, acts0, 0)];
    let mut cut_by_depth = false;
    loop {
        let depth = stack.len() as u32;
        let Some((w, acts, i)) = stack.last_mut() else {
            break;
        };
        let depth = depth - 1;
        if *i >= acts.len() {
            stack.pop();
            continue;
        }
        let a = acts[*i].clone();
        *i += 1;
        let (s, broken) = step(m, props, w, &a);
        stats.explored += 1;
        stats.depth = stats.depth.max(depth + 1);
        if let Some(b) = broken.into_iter().next() {
            // Each frame's last taken action leads to the next frame; the top's is `a`.
            let path = stack
                .iter()
                .map(|(_, acts, i)| acts[*i - 1].clone())
                .collect();
            return Found::Violation { path, broken: b };
        }
        if liveness && no_leader_within(m, &s, bounds.liveness_steps).is_some() {
            let path = stack
                .iter()
                .map(|(_, acts, i)| acts[*i - 1].clone())
                .collect();
            return Found::Violation {
                path,
                broken: Broken {
                    property: Property::Liveness,
                    detail: format!(
                        "once faults stop (network healed), no schedule of at most {} steps elects a leader",
                        bounds.liveness_steps
                    ),
                },
            };
        }
        let (sfp, orbit) = m.key(&s);
        let d = depth + 1;
        match seen.get(&sfp) {
            Some(&old) if old <= d => continue,
            Some(_) => {}
            None => {
                stats.distinct += 1;
                stats.represented += orbit;
            }
        }
        seen.insert(sfp, d);
        if stats.distinct >= bounds.max_states {
            return Found::Clean(Stop::MaxStates);
        }
        if d >= bounds.depth {
            cut_by_depth |= !s.actions(m, s.budget.any()).is_empty();
            continue;
        }
        let sa = s.actions(m, s.budget.any());
        stack.push((s, sa, 0));
        if stats.explored.is_multiple_of(1024) {
            progress.tick(stats);
            if over_time(bounds, start) {
                return Found::Clean(Stop::Time);
            }
        }
    }
    Found::Clean(if cut_by_depth {
        Stop::Depth
    } else {
        Stop::Exhausted
    })
}

/// Bounded liveness from `w`: heal the network, then search (no faults) for a state with
/// a live leader within `k` steps. Returns `Some(())` when there is none.
fn no_leader_within<P: Checkable>(m: &Model<P>, w: &World<P>, k: u32) -> Option<()> {
    let has_leader = |w: &World<P>| {
        w.statuses()[..m.nodes as usize]
            .iter()
            .any(|s| s.role == crate::sim::Role::Leader)
    };
    let mut start = w.clone();
    start.blocked = 0;
    if has_leader(&start) {
        return None;
    }
    let mut seen: FpSet = FpSet::default();
    seen.insert(fingerprint(&start));
    let mut frontier = vec![start];
    for _ in 0..k {
        let mut next = Vec::new();
        for w in &frontier {
            for a in w.actions(m, false) {
                let (s, _) = w.apply(m, &a);
                if has_leader(&s) {
                    return None;
                }
                if seen.insert(fingerprint(&s)) {
                    next.push(s);
                }
            }
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    Some(())
}
