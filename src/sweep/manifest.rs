//! `sweep.json`: a small manifest next to the results that says which sweep they belong to,
//! so `--resume` and `merge` can refuse to mix results of different scenarios.
//!
//! Its content is deterministic (no timestamps, no host names): a merged set of shards has
//! the same manifest as the same sweep run on one machine.

use super::shard::Shard;
use serde::{Deserialize, Serialize};

/// The manifest format tag; bump when the meaning of the files changes.
pub const FORMAT: &str = "electsim-sweep/1";

/// What a results directory holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Manifest format tag ([`FORMAT`]); a directory with another tag is not resumed or merged.
    pub format: String,
    /// `CARGO_PKG_VERSION` of the electsim that wrote the directory.
    pub electsim_version: String,
    /// Scenario name (from the file).
    pub scenario: String,
    /// The scenario path as given on the command line (it appears in every `replay` cell).
    pub scenario_path: String,
    /// FNV-1a 64 of the scenario path, the file text and every override, see [`scenario_hash`].
    pub scenario_hash: String,
    /// Overrides in the order given (`--set`, `--runs`), for people reading the manifest.
    pub overrides: Vec<String>,
    /// Sweep points (the axes' cartesian product).
    pub points: u64,
    /// Runs of the whole sweep (all shards).
    pub runs_total: u64,
    /// The slice held here, or `None` for a whole sweep.
    pub shard: Option<Shard>,
}

impl Manifest {
    /// Pretty-printed JSON with a trailing newline (the `sweep.json` text).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("manifest serializes") + "\n"
    }

    /// Parse a `sweep.json` text; the error is serde's message.
    pub fn from_json(text: &str) -> Result<Manifest, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    /// Why `other` (found on disk) does not belong to the same sweep as `self`, if it doesn't.
    /// The shard is not compared.
    pub fn mismatch(&self, other: &Manifest) -> Option<String> {
        if other.format != self.format {
            return Some(format!(
                "it has format `{}`, this electsim writes `{}`",
                other.format, self.format
            ));
        }
        if other.electsim_version != self.electsim_version {
            return Some(format!(
                "it was written by electsim {}, this is {}",
                other.electsim_version, self.electsim_version
            ));
        }
        if other.scenario_hash != self.scenario_hash
            && other.scenario_path == self.scenario_path
            && other.overrides == self.overrides
        {
            return Some(format!(
                "the scenario file `{}` changed since these results were written (hash {}, now {})",
                self.scenario_path, other.scenario_hash, self.scenario_hash
            ));
        }
        if other.scenario_hash != self.scenario_hash {
            return Some(format!(
                "it holds scenario `{}` from `{}` with overrides [{}] (hash {}), not `{}` from `{}` with overrides [{}] (hash {})",
                other.scenario,
                other.scenario_path,
                other.overrides.join(" "),
                other.scenario_hash,
                self.scenario,
                self.scenario_path,
                self.overrides.join(" "),
                self.scenario_hash
            ));
        }
        if other.runs_total != self.runs_total || other.points != self.points {
            return Some(format!(
                "it has {} points / {} runs, expected {} / {}",
                other.points, other.runs_total, self.points, self.runs_total
            ));
        }
        None
    }
}

/// FNV-1a, 64 bit.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The identity of a sweep: path as given, file text and overrides, each NUL-terminated.
pub fn scenario_hash(path: &str, text: &str, overrides: &[String]) -> String {
    let mut bytes = Vec::with_capacity(text.len() + 256);
    for part in [FORMAT, path, text]
        .into_iter()
        .chain(overrides.iter().map(String::as_str))
    {
        bytes.extend_from_slice(part.as_bytes());
        bytes.push(0);
    }
    format!("fnv1a64:{:016x}", fnv1a64(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_known_answers() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn hash_separates_parts() {
        assert_ne!(scenario_hash("a", "bc", &[]), scenario_hash("ab", "c", &[]));
        assert_ne!(
            scenario_hash("a", "b", &["x=1".into()]),
            scenario_hash("a", "b", &["x=2".into()])
        );
    }
}
