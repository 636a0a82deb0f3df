//! `elections.csv`: one row per election of a finished sweep (point, replication, seed,
//! parameters, start, duration, leader, terms used, messages, cause), drawn from the
//! `election_log` column of `runs.csv` — so a resumed or merged sweep gets the same file.

use super::SweepError;
use super::output::{RUNS_CSV, corrupt, io_err};
use crate::report::charts::Table;
use std::path::{Path, PathBuf};

/// The file name.
pub const ELECTIONS_CSV: &str = "elections.csv";

/// Columns after the run's identity (`scenario`, `point`, `replication`, `seed`, `param_*`,
/// `algorithm`, `nodes`).
pub const ELECTION_COLUMNS: [&str; 8] = [
    "election",
    "start_ms",
    "duration_ms",
    "leader",
    "terms_used",
    "messages",
    "election_messages",
    "cause",
];

/// Write `dir/elections.csv` from `dir/runs.csv`; returns its path.
pub fn write_elections(dir: &Path) -> Result<PathBuf, SweepError> {
    let runs_path = dir.join(RUNS_CSV);
    let t = Table::read(&runs_path).map_err(|e| corrupt(&runs_path, 1, &e.to_string()))?;
    let need = |name: &str| {
        t.col(name)
            .ok_or_else(|| corrupt(&runs_path, 1, &format!("no `{name}` column")))
    };
    let (c_nodes, c_log) = (need("nodes")?, need("election_log")?);
    // Identity: every column from `scenario` through `nodes`.
    let ident: Vec<usize> = (0..=c_nodes).collect();
    let mut out = String::new();
    let mut head: Vec<String> = ident.iter().map(|&i| t.headers[i].clone()).collect();
    head.extend(ELECTION_COLUMNS.map(String::from));
    out.push_str(&super::csv::csv_line(&head));
    for row in &t.rows {
        let cell = t.text(row, c_log).trim();
        if cell.is_empty() {
            continue;
        }
        for (k, entry) in cell.split(' ').enumerate() {
            let parts: Vec<&str> = entry.split(':').collect();
            if parts.len() != ELECTION_COLUMNS.len() - 1 {
                return Err(corrupt(
                    &runs_path,
                    row.line,
                    &format!(
                        "election_log entry `{entry}`: expected start_ms:duration_ms:leader:terms_used:messages:election_messages:cause"
                    ),
                ));
            }
            let mut cells: Vec<String> = ident.iter().map(|&i| row.cell(i).to_string()).collect();
            cells.push(k.to_string());
            cells.extend(parts.iter().map(|p| p.to_string()));
            out.push_str(&super::csv::csv_line(&cells));
        }
    }
    let path = dir.join(ELECTIONS_CSV);
    crate::fsutil::write_atomic(&path, out.as_bytes()).map_err(io_err(&path))?;
    Ok(path)
}
