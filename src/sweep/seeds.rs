//! Run seeds for paired comparisons (common random numbers).
//!
//! Replication `r` of *every* sweep point runs with the same seed, derived from the scenario
//! seed and `r` only — never from the axis values or the point's position. Since a run seed
//! fixes the network stream, the fault stream and every node's stream, replication `r` of
//! Raft and replication `r` of Bully meet the same fault plan and the same network draws
//! (as far as the topology allows), so differences between points are differences between
//! configurations, not between luck.
//!
//! The mixing function is SplitMix64 (Steele, Lea, Flood 2014): replication `r` takes the
//! `(r + 1)`-th output of a SplitMix64 generator whose state starts at the scenario seed.
//! It is pinned: changing it changes every published seed.

/// The SplitMix64 golden-ratio increment.
const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// SplitMix64's output function (a bijection on `u64`).
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The seed of replication `replication` of a scenario whose `seed` is `scenario_seed`.
pub fn run_seed(scenario_seed: u64, replication: u32) -> u64 {
    mix64(scenario_seed.wrapping_add(GAMMA.wrapping_mul(u64::from(replication) + 1)))
}

/// The inverse of [`mix64`] (each step of SplitMix64's output function undone in reverse).
fn unmix64(mut z: u64) -> u64 {
    z ^= (z >> 31) ^ (z >> 62);
    z = z.wrapping_mul(0x3196_42b2_d24d_8ec3);
    z ^= (z >> 27) ^ (z >> 54);
    z = z.wrapping_mul(0x96de_1b17_3f11_9089);
    z ^ (z >> 30) ^ (z >> 60)
}

/// The scenario seed that [`run_seed`] maps to `seed` for `replication` (it is a bijection
/// for each replication), so a row's seed can be checked without the scenario.
pub fn scenario_seed_of(seed: u64, replication: u32) -> u64 {
    unmix64(seed).wrapping_sub(GAMMA.wrapping_mul(u64::from(replication) + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_known_answers() {
        // Reference outputs of SplitMix64 seeded with 0 (from the published C code).
        assert_eq!(run_seed(0, 0), 0xe220_a839_7b1d_cdaf);
        assert_eq!(run_seed(0, 1), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(run_seed(0, 2), 0x06c4_5d18_8009_454f);
    }

    #[test]
    fn scenario_seed_of_inverts_run_seed() {
        for s in [0, 1, 42, u64::MAX, 0x1234_5678_9abc_def0] {
            for r in [0, 1, 7, u32::MAX] {
                assert_eq!(scenario_seed_of(run_seed(s, r), r), s, "seed {s} r {r}");
            }
        }
        assert_ne!(scenario_seed_of(run_seed(1, 0), 1), 1);
    }

    #[test]
    fn seeds_differ_across_replications_and_scenario_seeds() {
        let a: Vec<u64> = (0..100).map(|r| run_seed(1, r)).collect();
        let mut sorted = a.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), a.len());
        assert_ne!(run_seed(1, 0), run_seed(2, 0));
    }
}
