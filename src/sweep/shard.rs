//! `--shard K/N`: the K-th of N deterministic slices of a sweep.
//!
//! Runs are numbered in output order — sweep point by sweep point, replication by
//! replication — starting at 0. Shard `K/N` (1-based `K`) takes the runs whose number `i`
//! satisfies `i mod N == K - 1`. Striping (rather than contiguous blocks) spreads expensive
//! points (large clusters) evenly over the machines.

use std::fmt;
use std::str::FromStr;

/// One slice of a sweep: `index` is 1-based, `1 <= index <= count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    /// This slice's 1-based number.
    pub index: u32,
    /// Number of slices the sweep is split into.
    pub count: u32,
}

impl Shard {
    /// Whether run number `run` (0-based, in output order) belongs to this shard.
    pub fn contains(self, run: u64) -> bool {
        run % u64::from(self.count) == u64::from(self.index - 1)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad =
            |why: &str| format!("`{s}`: {why}; expected K/N with 1 <= K <= N, e.g. --shard 1/4");
        let (k, n) = s.split_once('/').ok_or_else(|| bad("no `/`"))?;
        let num = |t: &str, name: &str| -> Result<u32, String> {
            let t = t.trim();
            match t.parse::<u64>() {
                Ok(v) => {
                    u32::try_from(v).map_err(|_| bad(&format!("{name} is at most {}", u32::MAX)))
                }
                Err(_) => Err(bad(&format!("{name} is not a positive integer"))),
            }
        };
        let k = num(k, "K")?;
        let n = num(n, "N")?;
        if n == 0 {
            return Err(bad("N must be at least 1"));
        }
        if k == 0 || k > n {
            return Err(bad(&format!(
                "K must be between 1 and {n} (shards are numbered from 1)"
            )));
        }
        Ok(Shard { index: k, count: n })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        for bad in ["3/2", "0/2", "1/0", "1", "a/2", "1/b", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn shards_partition_the_runs() {
        for n in 1..5u32 {
            for run in 0..50u64 {
                let owners = (1..=n)
                    .filter(|&k| Shard { index: k, count: n }.contains(run))
                    .count();
                assert_eq!(owners, 1);
            }
        }
    }
}
