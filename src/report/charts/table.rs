//! A CSV file held as text cells, with line numbers for error messages.
//!
//! A row is one string holding its unescaped cells back to back plus their end offsets, not a
//! `String` per cell: a sweep's `summary.csv` has ~530 columns, and 100 000 rows as separate
//! strings took ~2 GB; this way a row costs its text plus 4 bytes per cell. The file is read
//! as a stream, never held whole.

use super::ChartError;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// One data row and the 1-based line it started on.
#[derive(Clone, Debug)]
pub struct Row {
    /// 1-based line the row started on, for error messages.
    pub line: u64,
    /// The unescaped cells, concatenated.
    text: Box<str>,
    /// End offset (bytes into `text`) of each cell.
    ends: Box<[u32]>,
}

impl Row {
    /// The text of cell `i` (empty past the last cell).
    pub fn cell(&self, i: usize) -> &str {
        let Some(&end) = self.ends.get(i) else {
            return "";
        };
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start as usize..end as usize]
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True for a row without cells.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// A CSV file: header and rows (every row has as many cells as the header).
#[derive(Clone, Debug)]
pub struct Table {
    /// The file read.
    pub path: PathBuf,
    /// Column names.
    pub headers: Vec<String>,
    /// Data rows, in file order.
    pub rows: Vec<Row>,
}

impl Table {
    /// Read `path`; a missing file, a ragged row or a bad encoding is a [`ChartError::Csv`]
    /// or [`ChartError::Input`] naming the file (and the line).
    pub fn read(path: &Path) -> Result<Table, ChartError> {
        let input = |e: std::io::Error| ChartError::Input {
            path: path.to_path_buf(),
            message: if e.kind() == std::io::ErrorKind::NotFound {
                "file not found".to_string()
            } else {
                e.to_string()
            },
        };
        let mut file = std::fs::File::open(path).map_err(input)?;
        // A file cut off mid-line (a full disk, a killed writer) must not chart silently:
        // electsim writes only complete lines. (Only the last byte is looked at here; the
        // line number is counted only when the check fails.)
        let meta = file.metadata().map_err(input)?;
        let len = meta.len();
        let limit = crate::input::Kind::Csv.limit_bytes();
        if !meta.is_file() {
            // A pipe or device (`/dev/zero`): read at most the limit, then parse that.
            let bytes =
                crate::input::read_bounded(file, path, crate::input::Kind::Csv).map_err(|e| {
                    ChartError::Input {
                        path: path.to_path_buf(),
                        message: e.to_string(),
                    }
                })?;
            return Table::parse_from(path, &bytes[..]).and_then(|t| Table::nonempty(path, t));
        }
        if len > limit {
            return Err(ChartError::Input {
                path: path.to_path_buf(),
                message: format!("larger than {} MiB, the limit for a CSV file", limit >> 20),
            });
        }
        if len > 0 {
            let mut last = [0u8];
            file.seek(SeekFrom::End(-1)).map_err(input)?;
            file.read_exact(&mut last).map_err(input)?;
            if last[0] != b'\n' {
                let bytes = std::fs::read(path).map_err(input)?;
                let line = bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
                return Err(ChartError::Csv {
                    path: path.to_path_buf(),
                    line,
                    message: "the file ends in the middle of a line: it was cut off; regenerate it (electsim sweep --resume, or merge)".into(),
                });
            }
            file.seek(SeekFrom::Start(0)).map_err(input)?;
        }
        let table = Table::parse_from(path, std::io::BufReader::with_capacity(1 << 16, file))?;
        Table::nonempty(path, table)
    }

    fn nonempty(path: &Path, table: Table) -> Result<Table, ChartError> {
        if table.rows.is_empty() {
            return Err(ChartError::Csv {
                path: path.to_path_buf(),
                line: 2,
                message: "no data rows after the header".into(),
            });
        }
        Ok(table)
    }

    /// Parse CSV bytes (`path` is only used in messages).
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Table, ChartError> {
        Table::parse_from(path, bytes)
    }

    /// Parse CSV from a reader, one record at a time (`path` is only used in messages).
    fn parse_from<R: Read>(path: &Path, reader: R) -> Result<Table, ChartError> {
        let csv_err = |line: u64, message: String| ChartError::Csv {
            path: path.to_path_buf(),
            line,
            message,
        };
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(reader);
        let headers: Vec<String> = rdr
            .headers()
            .map_err(|e| csv_err(e.position().map_or(1, |p| p.line()), describe(&e)))?
            .iter()
            .map(str::to_string)
            .collect();
        if headers.is_empty() || headers.iter().all(String::is_empty) {
            return Err(csv_err(1, "empty file: expected a header line".to_string()));
        }
        for (i, h) in headers.iter().enumerate() {
            if headers[..i].contains(h) {
                return Err(csv_err(
                    1,
                    format!("column `{h}` appears twice in the header"),
                ));
            }
        }
        let mut rows = Vec::new();
        let mut rec = csv::StringRecord::new();
        loop {
            match rdr.read_record(&mut rec) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    return Err(csv_err(e.position().map_or(0, |p| p.line()), describe(&e)));
                }
            }
            let line = rec.position().map_or(0, |p| p.line());
            let text = rec.as_slice();
            if u32::try_from(text.len()).is_err() {
                return Err(csv_err(line, "a row longer than 4 GB".to_string()));
            }
            let mut ends = Vec::with_capacity(rec.len());
            let mut end = 0usize;
            for cell in rec.iter() {
                end += cell.len();
                ends.push(end as u32);
            }
            rows.push(Row {
                line,
                text: text.into(),
                ends: ends.into(),
            });
        }
        Ok(Table {
            path: path.to_path_buf(),
            headers,
            rows,
        })
    }

    /// Index of a column, if present.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    /// Index of a column that must be present.
    pub fn require(&self, name: &str) -> Result<usize, ChartError> {
        self.col(name).ok_or_else(|| ChartError::Csv {
            path: self.path.clone(),
            line: 1,
            message: format!("missing column `{name}` in the header"),
        })
    }

    /// The text of a cell.
    pub fn text<'a>(&self, row: &'a Row, col: usize) -> &'a str {
        row.cell(col)
    }

    /// A numeric cell: empty means missing (`None`); `true`/`false` read as 1/0; anything
    /// else that is not a number is an error naming the file, line and column.
    pub fn num(&self, row: &Row, col: usize) -> Result<Option<f64>, ChartError> {
        let s = self.text(row, col).trim();
        match s {
            "" => Ok(None),
            "true" => Ok(Some(1.0)),
            "false" => Ok(Some(0.0)),
            _ => match s.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(Some(v)),
                _ => Err(ChartError::Csv {
                    path: self.path.clone(),
                    line: row.line,
                    message: format!("column `{}`: `{s}` is not a number", self.headers[col]),
                }),
            },
        }
    }

    /// A numeric cell of a named column; a missing column reads as missing values.
    pub fn num_by(&self, row: &Row, name: &str) -> Result<Option<f64>, ChartError> {
        match self.col(name) {
            Some(c) => self.num(row, c),
            None => Ok(None),
        }
    }

    /// Columns whose name starts with `prefix`, in header order.
    pub fn columns_with_prefix(&self, prefix: &str) -> Vec<(usize, String)> {
        self.headers
            .iter()
            .enumerate()
            .filter(|(_, h)| h.starts_with(prefix))
            .map(|(i, h)| (i, h.clone()))
            .collect()
    }
}

fn describe(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("{len} fields, but the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_string(),
        _ => e.to_string(),
    }
}
