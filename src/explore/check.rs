//! The run-twice determinism check behind `electsim check`: record a run's event stream as
//! canonical lines (the JSONL trace lines), run it again on another thread, and name the
//! first event that differs.

use crate::report::trace::{Recorder, Recording, jsonl};
use crate::runner::{self, RunError};
use crate::scenario::Scenario;
use std::fmt;

/// One run's event stream, as canonical lines.
#[derive(Clone, Debug)]
pub struct EventStream {
    /// The recorded events as canonical JSONL trace lines (up to the recording limit).
    pub lines: Vec<String>,
    /// Trace digest of the whole run (every event, not only the recorded ones).
    pub digest: String,
    /// Events observed (more than `lines.len()` when the recording hit its limit).
    pub seen: u64,
}

/// Run once and record the canonical event stream (at most `limit` lines).
pub fn record(sc: &Scenario, seed: u64, limit: u64) -> Result<EventStream, RunError> {
    let rec = Recorder::with_limit(limit);
    let outcome = runner::run(sc, seed, vec![rec.observer()])?;
    Ok(EventStream::new(&rec.take(), outcome.trace_digest))
}

impl EventStream {
    /// The canonical lines of a recording, with the digest of the run it came from.
    pub fn new(rec: &Recording, digest: String) -> EventStream {
        let lines = rec
            .records
            .iter()
            .enumerate()
            .map(|(i, x)| jsonl::line(i as u64, x))
            .collect();
        EventStream {
            lines,
            digest,
            seen: rec.seen,
        }
    }
}

/// The first place two event streams disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// 0-based index of the first differing event.
    pub index: usize,
    /// The event in the first stream (`None`: the stream had ended).
    pub first: Option<String>,
    /// The event in the second stream (`None`: the stream had ended).
    pub second: Option<String>,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |l: &Option<String>| {
            l.clone()
                .unwrap_or_else(|| "(no event: the stream ended)".to_string())
        };
        write!(
            f,
            "first difference at event #{}\n  run 1: {}\n  run 2: {}",
            self.index,
            show(&self.first),
            show(&self.second)
        )
    }
}

/// Compare two streams line by line.
pub fn first_difference(a: &[String], b: &[String]) -> Option<Mismatch> {
    let index = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .or_else(|| (a.len() != b.len()).then(|| a.len().min(b.len())))?;
    Some(Mismatch {
        index,
        first: a.get(index).cloned(),
        second: b.get(index).cloned(),
    })
}

/// Result of a determinism check.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// Both runs produced the same events.
    Same {
        /// The common trace digest.
        digest: String,
        /// Events the run produced.
        events: u64,
    },
    /// The runs diverged; where first.
    Differ(Mismatch),
}

/// Run `sc` with `seed` twice (the second time on a fresh thread) and compare.
pub fn check(sc: &Scenario, seed: u64, limit: u64) -> Result<Verdict, RunError> {
    check_with(|| record(sc, seed, limit))
}

/// Record twice with `record` (the second time on a fresh thread, so thread-local state
/// cannot hide) and compare; `check` for a scenario, `electsim check SCRIPT` for a script.
pub fn check_with<E: Send>(
    record: impl Fn() -> Result<EventStream, E> + Sync,
) -> Result<Verdict, E> {
    let a = record()?;
    let b = std::thread::scope(|s| s.spawn(&record).join().expect("the second run panicked"))?;
    if let Some(m) = first_difference(&a.lines, &b.lines) {
        return Ok(Verdict::Differ(m));
    }
    if a.digest != b.digest || a.seen != b.seen {
        // The streams agree on the recorded prefix but not beyond it.
        return Ok(Verdict::Differ(Mismatch {
            index: a.lines.len(),
            first: Some(format!(
                "(beyond the recorded prefix) {} trace records, digest {}",
                a.seen, a.digest
            )),
            second: Some(format!(
                "(beyond the recorded prefix) {} trace records, digest {}",
                b.seen, b.digest
            )),
        }));
    }
    Ok(Verdict::Same {
        digest: a.digest,
        events: a.seen,
    })
}
