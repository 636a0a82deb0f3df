//! Scenario errors that name the file, line and column, the field, the bad value and what
//! would be valid.

use std::path::PathBuf;

pub use crate::field_error::FieldError;

/// Where a bad value came from.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    /// A position in the scenario file (1-based line and column) with the source line.
    File {
        /// 1-based line number.
        line: usize,
        /// 1-based column number.
        column: usize,
        /// The text of that line, for the error excerpt.
        source_line: String,
    },
    /// A command-line override, as typed (`--set key=value`, `--nodes 7`, ...).
    Override(String),
    /// A value of a `[sweep]` axis.
    SweepAxis {
        /// The axis key, as written.
        axis: String,
        /// The offending value, as written.
        value: String,
    },
    /// The field is missing from the file (or could not be located).
    Unlocated,
}

/// Everything that can go wrong loading a scenario.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The scenario file could not be read.
    #[error("cannot read scenario file `{path}`: {source}{}", relative_hint(.path, .source))]
    Io {
        /// The file asked for.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// TOML syntax or schema error (unknown key, wrong type) reported by the parser.
    #[error("{}", render_parse(.path, .message, .origin))]
    Parse {
        /// The scenario file.
        path: PathBuf,
        /// The parser's message.
        message: String,
        /// Where the error is.
        origin: Origin,
    },
    /// A value that parsed but is not valid.
    #[error("{}", render_field(.path, .error, .origin))]
    Field {
        /// The scenario file.
        path: PathBuf,
        /// The field path and what would be valid.
        error: FieldError,
        /// Where the value came from (file position, override or sweep axis).
        origin: Origin,
    },
}

fn location(path: &std::path::Path, origin: &Origin) -> String {
    match origin {
        Origin::File { line, column, .. } => format!("{}:{line}:{column}", path.display()),
        Origin::Override(s) => format!("{} (from {s})", path.display()),
        Origin::SweepAxis { axis, value } => {
            format!("{} (sweep axis `{axis}` = {value})", path.display())
        }
        Origin::Unlocated => format!("{}", path.display()),
    }
}

fn snippet(origin: &Origin) -> String {
    match origin {
        Origin::File {
            line,
            column,
            source_line,
        } => {
            let gutter = line.to_string().len();
            let (shown, caret) = window(source_line, column.saturating_sub(1));
            format!(
                "\n{:gutter$} |\n{line} | {shown}\n{:gutter$} | {}^",
                "",
                "",
                " ".repeat(caret)
            )
        }
        _ => String::new(),
    }
}

/// Most characters of a source line an error echoes; a longer line is cut around the
/// column (a 20 000-character line must not flood the terminal).
const SNIPPET_CHARS: usize = 100;

/// The part of `line` to show and the caret's position in it, for 0-based char `col`.
fn window(line: &str, col: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= SNIPPET_CHARS {
        return (line.to_string(), col);
    }
    let start = col
        .saturating_sub(SNIPPET_CHARS / 2)
        .min(chars.len() - SNIPPET_CHARS);
    let end = start + SNIPPET_CHARS;
    let mut s = String::new();
    let mut caret = col - start;
    if start > 0 {
        s.push_str("...");
        caret += 3;
    }
    s.extend(&chars[start..end]);
    if end < chars.len() {
        s.push_str(&format!("... ({} characters)", chars.len()));
    }
    (s, caret)
}

fn render_parse(path: &std::path::Path, message: &str, origin: &Origin) -> String {
    format!(
        "{}: {}{}",
        location(path, origin),
        message.trim_end(),
        snippet(origin)
    )
}

fn render_field(path: &std::path::Path, e: &FieldError, origin: &Origin) -> String {
    format!(
        "{}: invalid value for `{}`: {}{}\n  expected: {}",
        location(path, origin),
        e.field,
        e.value,
        snippet(origin),
        e.expected
    )
}

/// 1-based line and column of a byte offset, and the text of that line.
pub fn line_col(text: &str, offset: usize) -> (usize, usize, String) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].chars().count() + 1;
    let source_line = text[line_start..].lines().next().unwrap_or("").to_string();
    (line, column, source_line)
}

/// Find the span of a dotted path (`network.loss`, `fault.2.at`) in a TOML document.
pub fn locate(text: &str, field: &str) -> Option<Origin> {
    let doc = toml::de::DeTable::parse(text).ok()?;
    let mut span = doc.span();
    let mut cur: Option<&toml::de::DeValue<'_>> = None;
    let mut table = Some(doc.get_ref());
    for seg in field.split('.') {
        let next = if let Some(t) = table {
            t.iter()
                .find(|(k, _)| k.get_ref().as_ref() == seg)
                .map(|(_, v)| v)
        } else if let (Some(toml::de::DeValue::Array(a)), Ok(i)) = (cur, seg.parse::<usize>()) {
            a.get(i)
        } else {
            None
        };
        let v = next?;
        span = v.span();
        cur = Some(v.get_ref());
        table = v.get_ref().as_table();
    }
    let (line, column, source_line) = line_col(text, span.start);
    Some(Origin::File {
        line,
        column,
        source_line,
    })
}

/// The closest candidate by edit distance, for "did you mean" hints.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    // A case slip (`Raft`, `Pre_Vote`) is the likeliest mistake whatever its edit distance.
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
    if let Some(c) = candidates.iter().find(|c| c.eq_ignore_ascii_case(word)) {
        return Some(c);
    }
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 2).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A relative path that is not found is most often a replay command run from another
/// directory: replay commands name the scenario as the sweep was given it, relative to the
/// directory the sweep ran in (absolute paths would make `runs.csv` differ between machines).
fn relative_hint(path: &std::path::Path, source: &std::io::Error) -> String {
    if source.kind() != std::io::ErrorKind::NotFound || path.is_absolute() {
        return String::new();
    }
    let cwd = std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_else(|_| "?".into());
    format!(
        "\n  a relative path is read from the current directory ({cwd}); replay commands in runs.csv name the scenario relative to where the sweep ran (for results/ and the shipped scenarios: the electsim repository), so run them from there or give the path from here"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_nested_and_array_fields() {
        let text =
            "name = \"x\"\n[network]\nloss = 1.5\n[[fault]]\nat = \"1s\"\n[[fault]]\nat = \"9s\"\n";
        let Some(Origin::File { line, column, .. }) = locate(text, "network.loss") else {
            panic!()
        };
        assert_eq!((line, column), (3, 8));
        let Some(Origin::File { line, .. }) = locate(text, "fault.1.at") else {
            panic!()
        };
        assert_eq!(line, 7);
    }

    #[test]
    fn suggests_nearest_key() {
        assert_eq!(
            nearest("heartbeet", ["heartbeat", "pre_vote"]),
            Some("heartbeat")
        );
        assert_eq!(nearest("zzz", ["heartbeat"]), None);
    }
}
