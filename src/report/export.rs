//! Writing a recorded run's outputs: the trace file (any format) and the timeline picture.
//! It sits above both `trace` and `timeline`, which never call each other upwards.

use super::trace::{Recording, TraceFormat, TraceMeta};
use std::path::Path;

/// Write the requested outputs of a recorded run: a trace file and/or a timeline picture.
/// Returns one note per file written (and a warning when the recording was truncated),
/// for the caller to print on stderr.
pub fn export(
    rec: &Recording,
    meta: &TraceMeta,
    trace: Option<(&Path, TraceFormat)>,
    timeline: Option<&Path>,
) -> Result<Vec<String>, String> {
    export_window(rec, meta, trace, timeline, None)
}

/// [`export`] with the timeline zoomed to a `(from_ns, to_ns)` window.
pub fn export_window(
    rec: &Recording,
    meta: &TraceMeta,
    trace: Option<(&Path, TraceFormat)>,
    timeline: Option<&Path>,
    window: Option<(u64, u64)>,
) -> Result<Vec<String>, String> {
    let mut notes = Vec::new();
    if rec.truncated() {
        notes.push(format!(
            "warning: the trace keeps only the first {} of {} trace records (--trace-limit {}); raise --trace-limit or shorten the run",
            rec.records.len(),
            rec.seen,
            rec.limit
        ));
    }
    if let Some((path, format)) = trace {
        super::trace::write(path, format, rec, meta)
            .map_err(|e| format!("cannot write trace {}: {e}", path.display()))?;
        notes.push(format!(
            "trace: {} ({:?}, {} trace records)",
            path.display(),
            format,
            rec.records.len()
        ));
    }
    if let Some(path) = timeline {
        super::timeline::write_window(path, rec, meta, window)?;
        notes.push(format!("timeline: {}", path.display()));
    }
    Ok(notes)
}
