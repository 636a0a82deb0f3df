//! Files of a results directory: the append-only journal of finished runs and the final,
//! atomically written `runs.csv` / `summary.csv`.
//!
//! * `runs.partial.csv` (the journal): the `runs.csv` header, then one line per finished run
//!   in completion order, each appended with a single write as soon as the run ends. A kill
//!   loses only runs in progress; a torn last line (no `\n`) is dropped on `--resume`.
//! * `runs.csv` and `summary.csv` are only ever written whole: to a temporary file in the same
//!   directory, synced, then renamed over the target.

use super::SweepError;
use super::csv::{parse_line, row_key};
use super::summary::{Layout, SummaryBuilder};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// File name of the per-run results.
pub const RUNS_CSV: &str = "runs.csv";
/// File name of the per-point summary.
pub const SUMMARY_CSV: &str = "summary.csv";
/// File name of the journal rows are appended to while a sweep runs (resume reads it).
pub const JOURNAL: &str = "runs.partial.csv";
/// File name of the manifest.
pub const MANIFEST: &str = "sweep.json";

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SweepError + '_ {
    move |source| SweepError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A file written through a temporary sibling and renamed into place on `commit`.
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    out: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Start writing `path` through a temporary file next to it.
    pub fn create(path: &Path) -> Result<AtomicFile, SweepError> {
        let tmp = crate::fsutil::temp_path(path);
        let f = File::create(&tmp).map_err(io_err(&tmp))?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            tmp,
            out: Some(BufWriter::new(f)),
        })
    }

    /// Append `s` to the temporary file.
    pub fn write(&mut self, s: &str) -> Result<(), SweepError> {
        let out = self.out.as_mut().expect("not committed");
        out.write_all(s.as_bytes()).map_err(io_err(&self.tmp))
    }

    /// Flush, sync and rename the temporary file over `path`.
    pub fn commit(mut self) -> Result<(), SweepError> {
        let out = self.out.take().expect("not committed");
        let f = out.into_inner().map_err(|e| SweepError::Io {
            path: self.tmp.clone(),
            source: e.into_error(),
        })?;
        f.sync_all().map_err(io_err(&self.tmp))?;
        std::fs::rename(&self.tmp, &self.path).map_err(io_err(&self.path))
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.out.is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// What the final files hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Rows written to `runs.csv`.
    pub rows: u64,
    /// Rows with an `error` cell among them.
    pub failed: u64,
    /// Per sweep point: the successful runs and the sum of each `coverage_*` column over
    /// them, in [`crate::sim::metrics::COVERAGE_NAMES`] order (empty when the header has no
    /// coverage columns).
    pub coverage: std::collections::BTreeMap<u64, (u64, Vec<u64>)>,
}

/// Write `runs.csv` (header + sorted rows) and, with `summary`, `summary.csv` into `dir`.
/// Rows must come sorted by (point, replication), one `\n`-terminated line each.
pub fn write_outputs(
    dir: &Path,
    header_line: &str,
    rows: impl Iterator<Item = Result<String, SweepError>>,
    summary: bool,
) -> Result<Written, SweepError> {
    let runs_path = dir.join(RUNS_CSV);
    let header = parse_line(header_line).map_err(|m| corrupt(&runs_path, 1, &m))?;
    let width = header.len();
    let layout = Layout::from_runs_header(&header).map_err(|m| corrupt(&runs_path, 1, &m))?;
    let error_col = width - 1;
    let coverage_cols: Vec<usize> = crate::sim::metrics::COVERAGE_NAMES
        .iter()
        .filter_map(|n| {
            let name = super::csv::coverage_column(n);
            header.iter().position(|h| *h == name)
        })
        .collect();
    let point_col = header.iter().position(|h| h == "point");
    let mut runs = AtomicFile::create(&runs_path)?;
    runs.write(header_line)?;
    let mut sum = if summary {
        let s = SummaryBuilder::new(layout);
        let mut f = AtomicFile::create(&dir.join(SUMMARY_CSV))?;
        f.write(&s.header_line())?;
        Some((s, f))
    } else {
        None
    };
    let mut w = Written::default();
    for line in rows {
        let line = line?;
        let cells = parse_line(&line).map_err(|m| corrupt(&runs_path, w.rows + 2, &m))?;
        if cells.len() != width {
            return Err(corrupt(
                &runs_path,
                w.rows + 2,
                &format!("{} cells, the header has {width}", cells.len()),
            ));
        }
        w.rows += 1;
        w.failed += u64::from(!cells[error_col].is_empty());
        if cells[error_col].is_empty()
            && coverage_cols.len() == crate::sim::metrics::COVERAGE_NAMES.len()
            && let Some(point) = point_col.and_then(|c| cells[c].parse::<u64>().ok())
        {
            let (n, sums) = w
                .coverage
                .entry(point)
                .or_insert_with(|| (0, vec![0; coverage_cols.len()]));
            *n += 1;
            for (sum, &c) in sums.iter_mut().zip(&coverage_cols) {
                *sum += cells[c].parse::<u64>().unwrap_or(0);
            }
        }
        runs.write(&line)?;
        if let Some((s, f)) = &mut sum
            && let Some(done) = s
                .push(cells)
                .map_err(|m| corrupt(&runs_path, w.rows + 1, &m))?
        {
            f.write(&done)?;
        }
    }
    if let Some((mut s, mut f)) = sum {
        if let Some(done) = s
            .finish()
            .map_err(|m| corrupt(&runs_path, w.rows + 1, &m))?
        {
            f.write(&done)?;
        }
        f.commit()?;
    }
    runs.commit()?;
    Ok(w)
}

pub(crate) fn corrupt(path: &Path, line: u64, message: &str) -> SweepError {
    SweepError::Corrupt {
        path: path.to_path_buf(),
        line,
        message: message.to_string(),
    }
}

/// One complete row found in a journal or a runs file.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// The row's sweep point.
    pub point: u64,
    /// The row's replication.
    pub replication: u32,
    /// Byte offset of the row in the file.
    pub offset: u64,
    /// Length of the row in bytes.
    pub len: u32,
}

/// A scanned rows file: its header line and every complete row after it.
#[derive(Debug)]
pub struct Scan {
    /// The header line, without its newline.
    pub header_line: String,
    /// Every complete row, in file order.
    pub entries: Vec<Entry>,
    /// Length of the file up to the end of the last complete line.
    pub complete_len: u64,
    /// Total length (greater than `complete_len` when the last line is torn).
    pub file_len: u64,
}

/// Longest line of a runs file or journal: a row is a few hundred bytes; a longer line
/// (or an endless one, `/dev/zero`) is not one electsim wrote and is refused before it
/// fills memory.
pub const MAX_LINE_BYTES: u64 = 1 << 20;

fn long_line(path: &Path, lineno: u64) -> SweepError {
    corrupt(
        path,
        lineno,
        &format!(
            "a line longer than {} MiB (a sweep row is a few hundred bytes); this is not a file electsim wrote",
            MAX_LINE_BYTES >> 20
        ),
    )
}

/// Names what is wrong with a data row, given its (point, replication, cells).
pub type RowCheck<'a> = dyn Fn(u64, u32, &[String]) -> Option<String> + 'a;

/// Scan a journal or runs file: header, then (point, replication, position) of every
/// complete line. A torn last line is reported through `complete_len < file_len`. `check`
/// sees every data row's (point, replication, cells) and names what is wrong with it.
pub fn scan(path: &Path, width: Option<usize>, check: &RowCheck<'_>) -> Result<Scan, SweepError> {
    let f = File::open(path).map_err(io_err(path))?;
    let file_len = f.metadata().map_err(io_err(path))?.len();
    let mut r = BufReader::new(f);
    let mut buf = Vec::new();
    let mut offset = 0u64;
    let mut header: Option<(String, usize)> = None;
    let mut entries = Vec::new();
    let mut lineno = 0u64;
    loop {
        buf.clear();
        let n = (&mut r)
            .take(MAX_LINE_BYTES + 1)
            .read_until(b'\n', &mut buf)
            .map_err(io_err(path))?;
        lineno += 1;
        if n as u64 > MAX_LINE_BYTES {
            return Err(long_line(path, lineno));
        }
        if n == 0 || buf.last() != Some(&b'\n') {
            break; // end, or a torn last line
        }
        let text = std::str::from_utf8(&buf).map_err(|_| corrupt(path, lineno, "not UTF-8"))?;
        let cells = parse_line(text).map_err(|m| corrupt(path, lineno, &m))?;
        match &header {
            None => {
                if width.is_some_and(|w| w != cells.len()) {
                    return Err(corrupt(
                        path,
                        lineno,
                        "the header does not match this sweep's columns",
                    ));
                }
                header = Some((text.to_string(), cells.len()));
            }
            Some((_, w)) => {
                if cells.len() != *w {
                    return Err(corrupt(
                        path,
                        lineno,
                        &format!("{} cells, the header has {w}", cells.len()),
                    ));
                }
                let (point, replication) = row_key(&cells)
                    .ok_or_else(|| corrupt(path, lineno, "no point/replication numbers"))?;
                if let Some(why) = check(point, replication, &cells) {
                    return Err(corrupt(path, lineno, &why));
                }
                entries.push(Entry {
                    point,
                    replication,
                    offset,
                    len: n as u32,
                });
            }
        }
        offset += n as u64;
    }
    let (header_line, _) = header.ok_or_else(|| corrupt(path, 1, "no header line"))?;
    Ok(Scan {
        header_line,
        entries,
        complete_len: offset,
        file_len,
    })
}

/// Read the lines of `entries` (sorted by the caller) from `path`, in that order.
pub fn read_entries(
    path: &Path,
    entries: Vec<Entry>,
) -> Result<impl Iterator<Item = Result<String, SweepError>> + use<>, SweepError> {
    let mut f = File::open(path).map_err(io_err(path))?;
    let path = path.to_path_buf();
    let mut buf = Vec::new();
    Ok(entries.into_iter().map(move |e| {
        buf.resize(e.len as usize, 0);
        f.seek(SeekFrom::Start(e.offset)).map_err(io_err(&path))?;
        f.read_exact(&mut buf).map_err(io_err(&path))?;
        String::from_utf8(buf.clone()).map_err(|_| corrupt(&path, 0, "not UTF-8"))
    }))
}

/// The data lines (after the header) of a sorted runs file, streamed.
pub fn data_lines(
    path: &Path,
) -> Result<
    (
        String,
        impl Iterator<Item = Result<String, SweepError>> + use<>,
    ),
    SweepError,
> {
    let f = File::open(path).map_err(io_err(path))?;
    let mut r = BufReader::new(f);
    let mut header = String::new();
    (&mut r)
        .take(MAX_LINE_BYTES + 1)
        .read_line(&mut header)
        .map_err(io_err(path))?;
    if header.len() as u64 > MAX_LINE_BYTES {
        return Err(long_line(path, 1));
    }
    if !header.ends_with('\n') {
        return Err(corrupt(path, 1, "no complete header line"));
    }
    let path = path.to_path_buf();
    let mut lineno = 1u64;
    let iter = std::iter::from_fn(move || {
        let mut line = String::new();
        lineno += 1;
        match (&mut r).take(MAX_LINE_BYTES + 1).read_line(&mut line) {
            Ok(0) => None,
            Ok(n) if n as u64 > MAX_LINE_BYTES => Some(Err(long_line(&path, lineno))),
            Ok(_) if !line.ends_with('\n') => Some(Err(corrupt(&path, lineno, "torn last line"))),
            Ok(_) => Some(Ok(line)),
            Err(e) => Some(Err(SweepError::Io {
                path: path.clone(),
                source: e,
            })),
        }
    });
    Ok((header, iter))
}
