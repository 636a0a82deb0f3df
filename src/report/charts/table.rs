//! A CSV file held as text cells, with line numbers for error messages.

use super::ChartError;
use std::path::{Path, PathBuf};

/// One data row and the 1-based line it started on.
#[derive(Clone, Debug)]
pub struct Row {
    /// 1-based line the row started on, for error messages.
    pub line: u64,
    /// The cells, as many as the header has.
    pub cells: Vec<String>,
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
        let bytes = std::fs::read(path).map_err(|e| ChartError::Input {
            path: path.to_path_buf(),
            message: if e.kind() == std::io::ErrorKind::NotFound {
                "file not found".to_string()
            } else {
                e.to_string()
            },
        })?;
        // A file cut off mid-line (a full disk, a killed writer) must not chart silently:
        // electsim writes only complete lines.
        if !bytes.is_empty() && !bytes.ends_with(b"\n") {
            let line = bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            return Err(ChartError::Csv {
                path: path.to_path_buf(),
                line,
                message: "the file ends in the middle of a line: it was cut off; regenerate it (electsim sweep --resume, or merge)".into(),
            });
        }
        let table = Table::parse(path, &bytes)?;
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
        let csv_err = |line: u64, message: String| ChartError::Csv {
            path: path.to_path_buf(),
            line,
            message,
        };
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(bytes);
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
        for rec in rdr.records() {
            let rec =
                rec.map_err(|e| csv_err(e.position().map_or(0, |p| p.line()), describe(&e)))?;
            let line = rec.position().map_or(0, |p| p.line());
            rows.push(Row {
                line,
                cells: rec.iter().map(str::to_string).collect(),
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
        row.cells.get(col).map_or("", String::as_str)
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
