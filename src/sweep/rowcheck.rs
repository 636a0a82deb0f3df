//! Checks of rows read back from a runs file or journal (`--resume`, `merge`): a row is
//! kept only if it is one this sweep would have written for its (point, replication).
//!
//! * `--resume` knows the plan, so a row's identity cells (scenario, seed, `param_*`,
//!   algorithm, nodes, replay command) must equal the ones the plan renders ([`Plan::row_mismatch`]).
//! * `merge` knows only the manifests: the seed must be one [`super::seeds::run_seed`]
//!   derives, the same scenario seed for every replication of a point, and the replay
//!   command must name that seed ([`SeedCheck`]).
//! * Both: a run without an error has a 16-hex-digit trace digest, a failed one none.

use super::Plan;
use super::csv::{RowIdentity, row_cells};
use super::seeds::scenario_seed_of;

/// Column offsets from the end of a row: `trace_digest`, `replay`, `error`.
const DIGEST_FROM_END: usize = 3;
const REPLAY_FROM_END: usize = 2;

/// Why the digest and error cells of `cells` cannot be a row electsim wrote.
pub fn digest_mismatch(cells: &[String]) -> Option<String> {
    let n = cells.len();
    let (digest, error) = (&cells[n - DIGEST_FROM_END], &cells[n - 1]);
    let hex = digest.len() == 16 && digest.bytes().all(|b| b.is_ascii_hexdigit());
    match (error.is_empty(), digest.is_empty()) {
        (true, _) if !hex => Some(format!(
            "trace_digest `{digest}` is not 16 hex digits (a finished run has one)"
        )),
        (false, false) => Some(format!(
            "trace_digest `{digest}` on a failed run (a failed run has none)"
        )),
        _ => None,
    }
}

impl Plan {
    /// Why a row read back for (`point`, `replication`) is not the one this plan writes:
    /// the first identity cell that differs, or a bad digest.
    pub fn row_mismatch(&self, point: u64, replication: u32, cells: &[String]) -> Option<String> {
        let p = self.points.get(point as usize)?;
        let sc = &p.scenario;
        let seed = super::seeds::run_seed(sc.seed, replication);
        let replay = crate::runner::replay_command(&self.file.path, &self.replay_sets(p), seed);
        let id = RowIdentity {
            scenario: &sc.name,
            point: p.index,
            replication,
            seed,
            params: &p.params,
            algorithm: sc.algorithm.name(),
            nodes: sc.nodes,
            replay: &replay,
        };
        let want = row_cells(&id, &self.kinds, Err("x"));
        if want.len() != cells.len() {
            return Some(format!(
                "{} cells, this sweep's rows have {}",
                cells.len(),
                want.len()
            ));
        }
        // Identity cells: scenario .. nodes (before the metrics), and replay.
        let identity = 4 + p.params.len() + 2;
        let replay_at = want.len() - REPLAY_FROM_END;
        for i in (0..identity).chain([replay_at]) {
            if want[i] != cells[i] {
                return Some(format!(
                    "column `{}` is `{}`, this sweep writes `{}` for (point {point}, replication {replication}) (the seed is derived from the scenario seed and the replication)",
                    self.header[i], cells[i], want[i]
                ));
            }
        }
        digest_mismatch(cells)
    }
}

/// `merge`'s seed check over rows in (point, replication) order.
#[derive(Default)]
pub struct SeedCheck {
    /// The point being read and the scenario seed its first row implies.
    point: Option<(u64, u64)>,
}

impl SeedCheck {
    /// Why row `cells` of (`point`, `replication`) has a seed no sweep derives, if it does.
    pub fn check(&mut self, point: u64, replication: u32, cells: &[String]) -> Option<String> {
        let Ok(seed) = cells[3].parse::<u64>() else {
            return Some(format!("seed `{}` is not an integer", cells[3]));
        };
        let implied = scenario_seed_of(seed, replication);
        match self.point {
            Some((p, s)) if p == point && s != implied => {
                return Some(format!(
                    "seed {seed} is not the one derived for replication {replication} of point {point}: the point's other replications derive from scenario seed {s}, this one from {implied}"
                ));
            }
            Some((p, _)) if p == point => {}
            _ => self.point = Some((point, implied)),
        }
        let replay = &cells[cells.len() - REPLAY_FROM_END];
        if !replay.ends_with(&format!(" --seed {seed}")) {
            return Some(format!(
                "the replay command does not end with `--seed {seed}` (the row's seed): `{replay}`"
            ));
        }
        digest_mismatch(cells)
    }
}
