//! The network model: per-message delay distributions, loss, duplication, per-link
//! overrides, and link state (partitions, one-way cuts, isolation).

use super::protocol::NodeId;
use super::rng::SimRng;
use super::time::SimDuration;
use serde::Serialize;
use std::collections::BTreeMap;

/// One-way message delay distribution.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DelayDist {
    /// Always the same delay.
    Constant(SimDuration),
    /// Uniform in `[min, max]`.
    Uniform {
        /// Shortest delay.
        min: SimDuration,
        /// Longest delay.
        max: SimDuration,
    },
    /// Normal, truncated at zero (negative draws become 0).
    Normal {
        /// Mean of the normal law.
        mean: SimDuration,
        /// Standard deviation of the normal law.
        sd: SimDuration,
    },
    /// `floor + Exp(mean)`.
    Exponential {
        /// Minimum delay added to every draw (propagation time).
        floor: SimDuration,
        /// Mean of the exponential part above the floor.
        mean: SimDuration,
    },
    /// Log-normal with the given median and shape `sigma` (long tail for sigma >~ 1).
    LogNormal {
        /// Median delay.
        median: SimDuration,
        /// Shape: standard deviation of the underlying normal (dimensionless).
        sigma: f64,
    },
}

impl DelayDist {
    /// Draw one delay from `rng` (the network or node stream).
    #[inline]
    pub fn sample(&self, rng: &mut SimRng) -> SimDuration {
        match *self {
            DelayDist::Constant(d) => d,
            DelayDist::Uniform { min, max } => SimDuration(rng.range_inclusive(min.0, max.0)),
            DelayDist::Normal { mean, sd } => {
                let v = mean.0 as f64 + sd.0 as f64 * rng.std_normal();
                SimDuration(clamp_ns(v))
            }
            DelayDist::Exponential { floor, mean } => {
                floor + SimDuration(clamp_ns(rng.exponential(mean.0 as f64)))
            }
            DelayDist::LogNormal { median, sigma } => {
                let v = median.0 as f64 * (sigma * rng.std_normal()).exp();
                SimDuration(clamp_ns(v))
            }
        }
    }

    /// Expected value in nanoseconds (used by estimates and docs, not by the simulation).
    pub fn mean_ns(&self) -> f64 {
        match *self {
            DelayDist::Constant(d) => d.0 as f64,
            DelayDist::Uniform { min, max } => (min.0 as f64 + max.0 as f64) / 2.0,
            DelayDist::Normal { mean, .. } => mean.0 as f64,
            DelayDist::Exponential { floor, mean } => floor.0 as f64 + mean.0 as f64,
            DelayDist::LogNormal { median, sigma } => median.0 as f64 * (sigma * sigma / 2.0).exp(),
        }
    }
}

/// Cap draws at one virtual day: a bounded tail keeps every run finite.
fn clamp_ns(v: f64) -> u64 {
    const DAY_NS: f64 = 86_400e9;
    if v.is_nan() || v <= 0.0 {
        0
    } else {
        v.min(DAY_NS) as u64
    }
}

/// Delay, loss and duplication of a link.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LinkModel {
    /// One-way delay law of the link.
    pub delay: DelayDist,
    /// Probability a message is lost in transit.
    pub loss: f64,
    /// Probability a message is delivered twice (the copy gets its own delay).
    pub duplicate: f64,
}

impl Default for LinkModel {
    fn default() -> Self {
        LinkModel {
            delay: DelayDist::Uniform {
                min: SimDuration::from_millis(1),
                max: SimDuration::from_millis(10),
            },
            loss: 0.0,
            duplicate: 0.0,
        }
    }
}

/// Which directed links are up. Shared by the engine (to route) and the metrics (to judge
/// whether a leader can reach a majority), so both read the same topology.
///
/// Network faults compose: every partition, cut and isolation applied is kept as an active
/// fault with a run-wide number (0, 1, 2, ... in the order applied), and a link is up iff no
/// active fault cuts it. [`Links::heal_fault`] undoes one fault (a fault's `heal_after`);
/// [`Links::heal`] undoes all of them (the `heal` verb).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Links {
    /// Active network faults with their numbers, in the order applied.
    active: Vec<(u32, LinkFault)>,
    /// Number the next applied fault gets.
    next_fault: u32,
}

/// One network fault, as the links see it.
#[derive(Clone, Debug, PartialEq)]
enum LinkFault {
    /// Partition group per node id; ids past the end are in no group (`u32::MAX`).
    Partition(Vec<u32>),
    /// The directed link `from -> to`.
    Cut(NodeId, NodeId),
    /// Every link of one node.
    Isolate(NodeId),
}

impl LinkFault {
    fn cuts(&self, from: NodeId, to: NodeId) -> bool {
        match self {
            LinkFault::Partition(group) => {
                let g = |n: NodeId| group.get(n as usize).copied().unwrap_or(u32::MAX);
                g(from) != g(to)
            }
            LinkFault::Cut(f, t) => *f == from && *t == to,
            LinkFault::Isolate(n) => *n == from || *n == to,
        }
    }
}

impl Links {
    /// True when nothing is partitioned, cut or isolated (the common fast path).
    pub fn all_up(&self) -> bool {
        self.active.is_empty()
    }

    /// Whether `from -> to` is up: no active fault cuts it (a node always reaches itself).
    #[inline]
    pub fn is_up(&self, from: NodeId, to: NodeId) -> bool {
        from == to || self.active.iter().all(|(_, f)| !f.cuts(from, to))
    }

    /// Both directions up.
    pub fn connected(&self, a: NodeId, b: NodeId) -> bool {
        self.is_up(a, b) && self.is_up(b, a)
    }

    fn push(&mut self, fault: LinkFault) -> u32 {
        let number = self.next_fault;
        self.next_fault += 1;
        self.active.push((number, fault));
        number
    }

    /// Split `total` nodes into `groups`; nodes named in no group form one extra group.
    /// Returns the fault's number.
    pub fn partition(&mut self, total: u32, groups: &[Vec<NodeId>]) -> u32 {
        let rest = groups.len() as u32;
        let mut group = vec![rest; total as usize];
        for (gi, members) in groups.iter().enumerate() {
            for &n in members {
                if let Some(slot) = group.get_mut(n as usize) {
                    *slot = gi as u32;
                }
            }
        }
        self.push(LinkFault::Partition(group))
    }

    /// Cut the directed link `from -> to`. Returns the fault's number.
    pub fn cut(&mut self, from: NodeId, to: NodeId) -> u32 {
        self.push(LinkFault::Cut(from, to))
    }

    /// Cut every link of `node`. Returns the fault's number.
    pub fn isolate(&mut self, node: NodeId) -> u32 {
        self.push(LinkFault::Isolate(node))
    }

    /// Undo network fault number `fault` only; false if it is not active (already healed).
    pub fn heal_fault(&mut self, fault: u32) -> bool {
        let before = self.active.len();
        self.active.retain(|(n, _)| *n != fault);
        self.active.len() != before
    }

    /// Undo every active network fault (numbering continues).
    pub fn heal(&mut self) {
        self.active.clear();
    }
}

/// The whole network: default link model, per-link overrides, and link state.
#[derive(Clone, Debug, Default)]
pub struct Network {
    /// Model of every link without an override.
    pub default: LinkModel,
    /// Per directed link `(from, to)` models that replace the default.
    pub overrides: BTreeMap<(NodeId, NodeId), LinkModel>,
    /// Which links are up (partitions, cuts, isolations in force).
    pub links: Links,
}

impl Network {
    /// The model of the directed link `from -> to` (its override, or the default).
    #[inline]
    pub fn model(&self, from: NodeId, to: NodeId) -> &LinkModel {
        if self.overrides.is_empty() {
            return &self.default;
        }
        self.overrides.get(&(from, to)).unwrap_or(&self.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::Stream;

    #[test]
    fn partition_blocks_across_groups_only() {
        let mut l = Links::default();
        l.partition(5, &[vec![0, 1], vec![2, 3]]);
        assert!(l.is_up(0, 1));
        assert!(!l.is_up(1, 2));
        assert!(!l.is_up(4, 0), "unlisted node 4 is in a group of its own");
        l.heal();
        assert!(l.all_up());
    }

    /// Issue 12 defect 2: healing one fault leaves the others in force.
    #[test]
    fn overlapping_faults_compose_and_heal_one_by_one() {
        let mut l = Links::default();
        let p = l.partition(5, &[vec![3, 4], vec![0, 1, 2]]);
        let c = l.cut(0, 1);
        assert!(!l.is_up(0, 1) && !l.is_up(0, 3) && l.is_up(1, 0));
        assert!(l.heal_fault(c));
        assert!(l.is_up(0, 1), "the cut is undone");
        assert!(!l.is_up(0, 3), "the partition is still in force");
        assert!(!l.heal_fault(c), "healing twice is a no-op");
        let i = l.isolate(2);
        assert!(!l.is_up(1, 2));
        assert!(l.heal_fault(p));
        assert!(l.is_up(0, 3) && !l.is_up(2, 0));
        assert!(l.heal_fault(i));
        assert!(l.all_up());
        assert_eq!(l.cut(1, 2), 3, "numbers are run-wide, in order applied");
    }

    #[test]
    fn cut_is_one_way() {
        let mut l = Links::default();
        l.cut(0, 1);
        assert!(!l.is_up(0, 1));
        assert!(l.is_up(1, 0));
        assert!(!l.connected(0, 1));
    }

    #[test]
    fn normal_is_truncated_at_zero_and_lognormal_has_median() {
        let mut r = SimRng::new(3, Stream::Network);
        let n = DelayDist::Normal {
            mean: SimDuration::from_millis(1),
            sd: SimDuration::from_millis(5),
        };
        let mut zeros = 0;
        for _ in 0..1000 {
            if n.sample(&mut r) == SimDuration::ZERO {
                zeros += 1;
            }
        }
        assert!(
            zeros > 300 && zeros < 500,
            "about 42% of N(1,5) is negative, got {zeros}"
        );
        let ln = DelayDist::LogNormal {
            median: SimDuration::from_millis(10),
            sigma: 1.0,
        };
        let mut v: Vec<u64> = (0..4001).map(|_| ln.sample(&mut r).0).collect();
        v.sort();
        let med = v[2000] as f64 / 1e6;
        assert!((med - 10.0).abs() < 1.0, "median {med}ms");
    }
}
