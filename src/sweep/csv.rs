//! The `runs.csv` contract: columns, cell formatting, and row rendering / parsing.
//!
//! Formatting rules (locale-free, identical on every machine):
//! * integers in decimal; booleans as `0` / `1` (so every metric column is numeric);
//! * floats with six decimals, trailing zeros (and a trailing `.`) trimmed, `-0` as `0`:
//!   `194.114473`, `0.5`, `60`. Six decimals of a millisecond is one nanosecond, the
//!   simulator's resolution. Non-finite floats are written as empty cells;
//! * a missing value (`None`, or every metric of a failed run) is an empty cell;
//! * `param_*` cells: strings unquoted, other values as TOML inline text (`5`, `0.05`,
//!   `["150ms", "300ms"]`, `{ uniform = ["1ms", "10ms"] }`);
//! * RFC 4180 quoting where needed (`"` doubled), `\n` line ends, and no cell ever contains
//!   a line break (they are replaced by spaces), so every row is exactly one line.

use crate::report::run::RunReport;
use crate::sim::cause::{CAUSES, Cause};
use crate::sim::metrics::{COVERAGE_NAMES, Stats};

/// Text columns listing a run's elections and split-brain incidents one by one (after the
/// message kinds; `elections.csv` is drawn from the first):
/// * `election_log`: `start_ms:duration_ms:leader:terms_used:messages:election_messages:cause`
///   per election, separated by spaces;
/// * `split_brain_log`: `start_ms:end_ms:nodes` per incident (nodes joined by `+`),
///   separated by spaces.
pub const LOG_COLUMNS: [&str; 2] = ["election_log", "split_brain_log"];

/// The `election_log` cell of a run.
pub fn election_log_cell(log: &[crate::sim::metrics::ElectionRecord]) -> String {
    log.iter()
        .map(|e| {
            format!(
                "{}:{}:{}:{}:{}:{}:{}",
                fmt_f64(e.start_ms),
                fmt_f64(e.duration_ms),
                e.leader,
                e.terms_used,
                e.messages,
                e.election_messages,
                e.cause.name()
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `split_brain_log` cell of a run.
pub fn split_log_cell(log: &[crate::sim::metrics::SplitIncident]) -> String {
    log.iter()
        .map(|i| {
            let nodes: Vec<String> = i.nodes.iter().map(|n| n.to_string()).collect();
            format!(
                "{}:{}:{}",
                fmt_f64(i.start_ms),
                fmt_f64(i.end_ms),
                nodes.join("+")
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The per-run statistics blocks, in column order.
pub const STAT_METRICS: [&str; 5] = [
    "election_ms",
    "failover_ms",
    "detect_ms",
    "converge_ms",
    "leader_tenure_ms",
];
/// The columns of one cause block (`leader_crash_count`, ...), after the statistics blocks,
/// one block per cause in [`CAUSES`] order: elections whose interval that cause began, their
/// mean length in ms, and the election messages sent during them, summed (so the summary's
/// `_election_messages_mean / _count_mean` is the cost per election of that cause).
pub const CAUSE_PARTS: [&str; 3] = ["count", "ms_mean", "election_messages"];

/// The `runs.csv` column of a cause block's part (`leader_crash_ms_mean`).
pub fn cause_column(cause: Cause, part: &str) -> String {
    format!("{}_{part}", cause.name())
}

/// The columns of one statistics block, in order.
pub const STAT_PARTS: [&str; 6] = ["count", "mean", "p50", "p90", "p99", "max"];
/// Scalar metrics after the statistics blocks, in column order.
pub const SCALAR_METRICS: [&str; 20] = [
    "messages_sent",
    "messages_delivered",
    "messages_dropped",
    "election_messages",
    "heartbeat_messages",
    "heartbeats_per_s",
    "messages_per_election",
    "split_brain_incidents",
    "split_brain_ms",
    "same_term_leaders",
    "leader_changes",
    "elections_started",
    "unnecessary_elections",
    "availability",
    "leaderless_at_end",
    "lease_overlap_incidents",
    "lease_overlap_ms",
    "stale_actions_accepted",
    "stale_actions_rejected",
    "invariant_violations",
];

/// The `param_*` column name of a sweep axis key (`raft.pre_vote` -> `param_raft_pre_vote`).
pub fn param_column(key: &str) -> String {
    format!("param_{}", key.replace('.', "_"))
}

/// The `msg_*_sent` column of a message kind.
pub fn kind_column(kind: &str) -> String {
    format!("msg_{kind}_sent")
}

/// The `coverage_*` column of a coverage situation ([`COVERAGE_NAMES`]).
pub fn coverage_column(name: &str) -> String {
    format!("coverage_{name}")
}

/// The full `runs.csv` header for these axis keys and (sorted, deduplicated) message kinds.
pub fn runs_header(axis_keys: &[String], kinds: &[&str]) -> Vec<String> {
    let mut h: Vec<String> = ["scenario", "point", "replication", "seed"]
        .map(String::from)
        .to_vec();
    h.extend(axis_keys.iter().map(|k| param_column(k)));
    h.extend(["algorithm", "nodes", "duration_s", "events", "elections"].map(String::from));
    for m in STAT_METRICS {
        h.extend(STAT_PARTS.iter().map(|p| format!("{m}_{p}")));
    }
    for c in CAUSES {
        h.extend(CAUSE_PARTS.iter().map(|p| cause_column(c, p)));
    }
    h.extend(SCALAR_METRICS.map(String::from));
    h.extend(kinds.iter().map(|k| kind_column(k)));
    h.extend(COVERAGE_NAMES.iter().map(|c| coverage_column(c)));
    h.extend(LOG_COLUMNS.map(String::from));
    h.extend(["trace_digest", "replay", "error"].map(String::from));
    h
}

/// Render a float by the rules above.
pub fn fmt_f64(x: f64) -> String {
    if !x.is_finite() {
        return String::new();
    }
    let mut s = format!("{x:.6}");
    if s.contains('.') {
        let trimmed = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(trimmed);
    }
    if s == "-0" {
        s = "0".to_string();
    }
    s
}

fn opt_f64(x: Option<f64>) -> String {
    x.map_or_else(String::new, fmt_f64)
}

/// Render an axis value for a `param_*` cell.
pub fn param_value(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Everything in a row that does not come from the run's outcome.
pub struct RowIdentity<'a> {
    /// Scenario name (`scenario` column).
    pub scenario: &'a str,
    /// 0-based sweep point index.
    pub point: usize,
    /// 0-based replication within the point.
    pub replication: u32,
    /// The run's seed, derived from the scenario seed and the replication only (every point's
    /// replication `r` shares it, see [`super::seeds`]).
    pub seed: u64,
    /// Rendered `param_*` cells, in axis order.
    pub params: &'a [String],
    /// Algorithm name.
    pub algorithm: &'a str,
    /// Participants.
    pub nodes: u32,
    /// Shell command that replays this run alone (`replay` column).
    pub replay: &'a str,
}

/// The cells of one row: metrics from `report`, or empty metrics and `error` for a failed run.
pub fn row_cells(
    id: &RowIdentity<'_>,
    kinds: &[&str],
    result: Result<&RunReport, &str>,
) -> Vec<String> {
    let mut c: Vec<String> = vec![
        id.scenario.to_string(),
        id.point.to_string(),
        id.replication.to_string(),
        id.seed.to_string(),
    ];
    c.extend(id.params.iter().cloned());
    c.push(id.algorithm.to_string());
    c.push(id.nodes.to_string());
    let metric_cells = 3
        + STAT_METRICS.len() * STAT_PARTS.len()
        + CAUSES.len() * CAUSE_PARTS.len()
        + SCALAR_METRICS.len()
        + kinds.len()
        + COVERAGE_NAMES.len()
        + LOG_COLUMNS.len()
        + 1;
    match result {
        Ok(r) => {
            c.push(fmt_f64(r.duration_s));
            c.push(r.events.to_string());
            c.push(r.elections.to_string());
            for s in [
                &r.election_ms,
                &r.failover_ms,
                &r.detect_ms,
                &r.converge_ms,
                &r.leader_tenure_ms,
            ] {
                push_stats(&mut c, s);
            }
            for cost in &r.by_cause {
                c.extend([
                    cost.ms.count.to_string(),
                    opt_f64(cost.ms.mean),
                    cost.election_messages.to_string(),
                ]);
            }
            c.extend([
                r.messages_sent.to_string(),
                r.messages_delivered.to_string(),
                r.messages_dropped.to_string(),
                r.election_messages.to_string(),
                r.heartbeat_messages.to_string(),
                fmt_f64(r.heartbeats_per_s),
                opt_f64(r.messages_per_election),
                r.split_brain_incidents.to_string(),
                fmt_f64(r.split_brain_ms),
                r.same_term_leaders.to_string(),
                r.leader_changes.to_string(),
                r.elections_started.to_string(),
                r.unnecessary_elections.to_string(),
                fmt_f64(r.availability),
                u8::from(r.leaderless_at_end).to_string(),
                r.lease_overlap_incidents.to_string(),
                fmt_f64(r.lease_overlap_ms),
                r.stale_actions_accepted.to_string(),
                r.stale_actions_rejected.to_string(),
                r.invariant_violations.to_string(),
            ]);
            for k in kinds {
                c.push(r.messages_by_kind.get(*k).map_or(0, |k| k.sent).to_string());
            }
            c.extend(r.coverage.values().map(|v| v.to_string()));
            c.push(election_log_cell(&r.election_log));
            c.push(split_log_cell(&r.split_brain_log));
            c.push(r.trace_digest.clone());
            c.push(id.replay.to_string());
            c.push(String::new());
        }
        Err(e) => {
            c.extend(std::iter::repeat_n(String::new(), metric_cells));
            c.push(id.replay.to_string());
            c.push(if e.is_empty() {
                "failed".to_string()
            } else {
                e.to_string()
            });
        }
    }
    c
}

fn push_stats(c: &mut Vec<String>, s: &Stats) {
    c.push(s.count.to_string());
    c.extend([s.mean, s.p50, s.p90, s.p99, s.max].map(opt_f64));
}

/// One CSV line (with its `\n`) from cells; line breaks inside cells become spaces.
pub fn csv_line<S: AsRef<str>>(cells: &[S]) -> String {
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let clean = cells.iter().map(|s| s.as_ref().replace(['\r', '\n'], " "));
    w.write_record(clean)
        .expect("writing to memory cannot fail");
    let bytes = w.into_inner().expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("cells are UTF-8")
}

/// Parse one CSV line (as written by [`csv_line`]) into its cells.
pub fn parse_line(line: &str) -> Result<Vec<String>, String> {
    let mut r = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line.as_bytes());
    let mut rec = ::csv::StringRecord::new();
    match r.read_record(&mut rec) {
        Ok(true) => Ok(rec.iter().map(str::to_string).collect()),
        Ok(false) => Err("empty line".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// The `(point, replication)` key of a parsed row.
pub fn row_key(cells: &[String]) -> Option<(u64, u32)> {
    Some((cells.get(1)?.parse().ok()?, cells.get(2)?.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_fixed_and_trimmed() {
        assert_eq!(fmt_f64(194.1144729333333), "194.114473");
        assert_eq!(fmt_f64(60.0), "60");
        assert_eq!(fmt_f64(0.5), "0.5");
        assert_eq!(fmt_f64(-0.0000001), "0");
        assert_eq!(fmt_f64(1e-6), "0.000001");
        assert_eq!(fmt_f64(f64::NAN), "");
        assert_eq!(fmt_f64(1e21), "1000000000000000000000");
    }

    #[test]
    fn lines_round_trip_and_stay_single_line() {
        let cells = ["a,b", "say \"hi\"", "two\nlines", "", "plain"];
        let line = csv_line(&cells);
        assert_eq!(line.matches('\n').count(), 1);
        assert_eq!(
            parse_line(&line).unwrap(),
            vec!["a,b", "say \"hi\"", "two lines", "", "plain"]
        );
    }

    #[test]
    fn params_render_as_toml_inline_text() {
        assert_eq!(param_value(&toml::Value::String("raft".into())), "raft");
        assert_eq!(param_value(&toml::Value::Integer(5)), "5");
        let v: toml::Table = toml::from_str("v = [\"150ms\", \"300ms\"]").unwrap();
        assert_eq!(param_value(&v["v"]), "[\"150ms\", \"300ms\"]");
    }
}
