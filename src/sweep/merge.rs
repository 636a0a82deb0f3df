//! `electsim merge`: combine the output directories of `sweep --shard K/N` runs.
//!
//! Every shard directory holds its rows in `runs.csv`, sorted by (point, replication), and a
//! `sweep.json` naming the sweep and the shard. Merging checks that the shards belong to
//! the same sweep and that all `N` are present exactly once, then interleaves the sorted
//! files (a k-way merge, one line per shard in memory) into the same `runs.csv`,
//! `summary.csv` and `sweep.json` a single machine would have written.

use super::csv::{parse_line, row_key};
use super::manifest::Manifest;
use super::outdir::{OutDir, Replace};
use super::output::{self, JOURNAL, MANIFEST, RUNS_CSV, SUMMARY_CSV, io_err};
use super::{SweepError, SweepResult, charts_hook, check_out_dir};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What to merge.
#[derive(Clone, Debug)]
pub struct MergeOptions {
    /// Shard output directories, in any order.
    pub dirs: Vec<PathBuf>,
    /// Directory the merged `runs.csv`, `summary.csv` and manifest are written to.
    pub out: PathBuf,
    /// Also render the charts of the merged results.
    pub charts: bool,
    /// What `out` may already hold (see [`super::outdir`]).
    pub replace: Replace,
}

fn read_manifest(dir: &Path) -> Result<Manifest, SweepError> {
    let path = dir.join(MANIFEST);
    let text =
        crate::input::read_text(&path, crate::input::Kind::Manifest).map_err(|e| match e {
            crate::input::InputError::Io { source, .. }
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                SweepError::Usage(format!(
                    "`{}` is not a sweep output directory (no {MANIFEST})",
                    dir.display()
                ))
            }
            crate::input::InputError::Io { source, .. } => SweepError::Io {
                path: path.clone(),
                source,
            },
            other => output::corrupt(&path, 1, &other.to_string()),
        })?;
    Manifest::from_json(&text).map_err(|m| output::corrupt(&path, 1, &m))
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// One shard's sorted rows, with the key of the current line.
struct Cursor<I> {
    path: PathBuf,
    shard: super::shard::Shard,
    lines: I,
    head: Option<(u64, u32, String)>,
    lineno: u64,
}

impl<I: Iterator<Item = Result<String, SweepError>>> Cursor<I> {
    fn advance(&mut self) -> Result<(), SweepError> {
        let prev = self.head.as_ref().map(|(p, r, _)| (*p, *r));
        self.head = match self.lines.next() {
            None => None,
            Some(line) => {
                let line = line?;
                self.lineno += 1;
                let cells =
                    parse_line(&line).map_err(|m| output::corrupt(&self.path, self.lineno, &m))?;
                let (p, r) = row_key(&cells).ok_or_else(|| {
                    output::corrupt(&self.path, self.lineno, "no point/replication numbers")
                })?;
                if prev.is_some_and(|k| k >= (p, r)) {
                    return Err(output::corrupt(
                        &self.path,
                        self.lineno,
                        "rows are not sorted by (point, replication)",
                    ));
                }
                Some((p, r, line))
            }
        };
        Ok(())
    }
}

/// Merge shard directories into `opts.out`.
pub fn merge(opts: &MergeOptions) -> Result<SweepResult, SweepError> {
    let started = Instant::now();
    if opts.dirs.is_empty() {
        return Err(SweepError::Usage(
            "merge needs at least one shard directory".into(),
        ));
    }
    check_out_dir(&opts.out)?;
    let mut shards: Vec<(Manifest, PathBuf)> = Vec::new();
    for d in &opts.dirs {
        if same_dir(d, &opts.out) {
            return Err(SweepError::Usage(format!(
                "--out `{}` is one of the shard directories; merge into another directory",
                opts.out.display()
            )));
        }
        let m = read_manifest(d)?;
        if m.shard.is_none() {
            return Err(SweepError::Usage(format!(
                "`{}` holds a whole sweep, not a shard; nothing to merge",
                d.display()
            )));
        }
        shards.push((m, d.clone()));
    }
    let first = shards[0].0.clone();
    let n = first.shard.expect("checked").count;
    for (m, d) in &shards {
        if let Some(why) = first.mismatch(m) {
            return Err(SweepError::Mismatch(format!(
                "`{}` is from another sweep than `{}`: {why}",
                d.display(),
                shards[0].1.display()
            )));
        }
        let s = m.shard.expect("checked");
        if s.count != n {
            return Err(SweepError::Mismatch(format!(
                "`{}` is shard {s}, but `{}` is one of {n}",
                d.display(),
                shards[0].1.display()
            )));
        }
    }
    shards.sort_by_key(|(m, _)| m.shard.map(|s| s.index));
    for w in shards.windows(2) {
        if w[0].0.shard == w[1].0.shard {
            return Err(SweepError::Usage(format!(
                "shard {} is given twice: `{}` and `{}`",
                w[0].0.shard.expect("checked"),
                w[0].1.display(),
                w[1].1.display()
            )));
        }
    }
    let missing: Vec<String> = (1..=n)
        .filter(|k| {
            !shards
                .iter()
                .any(|(m, _)| m.shard.is_some_and(|s| s.index == *k))
        })
        .map(|k| format!("{k}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(SweepError::Usage(format!(
            "missing shard(s) {}; merge needs all {n}",
            missing.join(", ")
        )));
    }

    let mut header: Option<String> = None;
    let mut cursors = Vec::new();
    for (m, d) in &shards {
        let path = d.join(RUNS_CSV);
        if !path.is_file() {
            let hint = if super::outdir::stage_path(d)?.join(JOURNAL).is_file() {
                "; it was interrupted: finish it with `electsim sweep ... --shard K/N --resume`"
            } else {
                ""
            };
            return Err(SweepError::Usage(format!(
                "shard {} in `{}` has no {RUNS_CSV}{hint}",
                m.shard.expect("checked"),
                d.display()
            )));
        }
        let (h, lines) = output::data_lines(&path)?;
        match &header {
            None => header = Some(h),
            Some(h0) if *h0 != h => {
                return Err(output::corrupt(
                    &path,
                    1,
                    "the header differs from the other shards'",
                ));
            }
            Some(_) => {}
        }
        let mut c = Cursor {
            path,
            shard: m.shard.expect("checked"),
            lines,
            head: None,
            lineno: 1,
        };
        c.advance()?;
        cursors.push(c);
    }
    let header = header.expect("at least one shard");
    // Every point has the same number of replications (`runs` cannot be an axis), so run
    // number i is (point i / R, replication i % R).
    let per_point = match first.runs_total.checked_div(first.points) {
        Some(r) if r > 0 && r * first.points == first.runs_total && r <= u64::from(u32::MAX) => r,
        _ => {
            return Err(output::corrupt(
                &shards[0].1.join(MANIFEST),
                1,
                &format!(
                    "{} runs cannot be split evenly over {} points",
                    first.runs_total, first.points
                ),
            ));
        }
    };

    let mut out = OutDir::lock(&opts.out)?;
    let mut manifest = first.clone();
    manifest.shard = None;
    out.check_owner(&manifest, opts.replace)?;
    out.fresh_stage()?;
    let stage = out.stage().to_path_buf();
    let mut count = 0u64;
    let mut failure: Option<SweepError> = None;
    let mut seeds = super::rowcheck::SeedCheck::default();
    let rows = std::iter::from_fn(|| {
        if failure.is_some() {
            return None;
        }
        let best = cursors
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.head.as_ref().map(|(p, r, _)| ((*p, *r), i)))
            .min()?;
        let (key, i) = best;
        // Exactly the runs 0..runs_total, each once, each in the shard that owns it.
        let expected = (count / per_point, (count % per_point) as u32);
        let c = &cursors[i];
        let bad = if key < expected {
            Some("a run that another shard also holds (or a duplicated row)".to_string())
        } else if key > expected {
            Some(format!(
                "run (point {}, replication {}) comes next, but no shard holds run (point {}, replication {}): a row is missing",
                key.0, key.1, expected.0, expected.1
            ))
        } else if !c.shard.contains(count) {
            Some(format!(
                "run (point {}, replication {}) belongs to shard {}/{}, not to this shard {}",
                key.0,
                key.1,
                count % u64::from(c.shard.count) + 1,
                c.shard.count,
                c.shard
            ))
        } else {
            None
        };
        let bad = bad.or_else(|| {
            let line = &c.head.as_ref().expect("has a head").2;
            match parse_line(line) {
                Ok(cells) => seeds.check(key.0, key.1, &cells),
                Err(m) => Some(m),
            }
        });
        if let Some(m) = bad {
            return Some(Err(output::corrupt(&c.path, c.lineno, &m)));
        }
        let (_, _, line) = cursors[i].head.take().expect("has a head");
        if let Err(e) = cursors[i].advance() {
            failure = Some(e);
        }
        count += 1;
        Some(Ok(line))
    });
    let written = output::write_outputs(&stage, &header, rows, true);
    if let Some(e) = failure {
        return Err(e);
    }
    let written = written?;
    if written.rows != first.runs_total {
        return Err(SweepError::Mismatch(format!(
            "the shards hold {} runs, the sweep has {}; were the shard directories complete?",
            written.rows, first.runs_total
        )));
    }
    let mpath = stage.join(MANIFEST);
    crate::fsutil::write_atomic(&mpath, manifest.to_json().as_bytes()).map_err(io_err(&mpath))?;
    let mut files = vec![mpath, stage.join(RUNS_CSV), stage.join(SUMMARY_CSV)];
    files.push(super::elections::write_elections(&stage)?);
    if opts.charts {
        let cols =
            parse_line(&header).map_err(|m| output::corrupt(&stage.join(RUNS_CSV), 1, &m))?;
        files.extend(charts_hook(&stage, &cols)?);
    }
    out.commit()?;
    let files = files
        .into_iter()
        .map(|f| {
            f.strip_prefix(&stage)
                .map_or(f.clone(), |rel| opts.out.join(rel))
        })
        .collect();
    Ok(SweepResult {
        out_dir: opts.out.clone(),
        points: first.points as usize,
        runs_total: first.runs_total,
        runs_selected: first.runs_total,
        runs_executed: 0,
        runs_resumed: 0,
        failed_runs: written.failed,
        events_executed: 0,
        estimated_events: 0.0,
        complete: true,
        files,
        elapsed: started.elapsed(),
    })
}
