//! Reading input files with a size bound, so a huge file or an endless stream (`/dev/zero`)
//! is refused with a message naming the file and the limit instead of filling memory.
//!
//! Every reader of user input (scenario files, golden scripts, CSV tables) goes through
//! [`read_text`] with its kind's limit; see docs/data-safety.md ("Inputs").

use std::io::Read;
use std::path::{Path, PathBuf};

/// The kinds of input file and their size bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A scenario (TOML): the shipped ones are a few KiB.
    Scenario,
    /// A golden script (`electsim replay`/`check`, `verify` counterexamples).
    Script,
    /// A CSV table (`merge`, `chart`, `matrix` inputs): a large sweep's runs.csv is tens of MiB.
    Csv,
    /// A sweep's manifest.json (holds the scenario text and the sweep's settings).
    Manifest,
}

impl Kind {
    /// Largest file accepted, in bytes.
    pub const fn limit_bytes(self) -> u64 {
        match self {
            Kind::Scenario => 16 << 20,
            Kind::Script => 64 << 20,
            Kind::Csv => 1 << 30,
            Kind::Manifest => 64 << 20,
        }
    }

    /// How the kind is named in messages.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Scenario => "scenario file",
            Kind::Script => "golden script",
            Kind::Csv => "CSV file",
            Kind::Manifest => "sweep manifest",
        }
    }
}

/// Why an input file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The file could not be opened or read.
    #[error("cannot read {} `{}`: {source}", .kind.name(), .path.display())]
    Io {
        /// The file asked for.
        path: PathBuf,
        /// What it was read as.
        kind: Kind,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is larger than its kind's limit (or an endless stream).
    #[error("{}: larger than {}, the limit for a {}; is this the right file?", .path.display(), mib(.kind.limit_bytes()), .kind.name())]
    TooLarge {
        /// The file asked for.
        path: PathBuf,
        /// What it was read as.
        kind: Kind,
    },
    /// The file is not UTF-8 text.
    #[error("{}:{line}:{column}: not UTF-8 text (byte 0x{byte:02x}); a {} is UTF-8 text", .path.display(), .kind.name())]
    NotUtf8 {
        /// The file asked for.
        path: PathBuf,
        /// What it was read as.
        kind: Kind,
        /// 1-based line of the first bad byte.
        line: usize,
        /// 1-based column (in characters) of the first bad byte.
        column: usize,
        /// The first bad byte.
        byte: u8,
    },
}

fn mib(bytes: u64) -> String {
    format!("{} MiB", bytes >> 20)
}

/// Read at most `kind`'s limit of `reader` (one byte more tells that there is more).
pub fn read_bounded(mut reader: impl Read, path: &Path, kind: Kind) -> Result<Vec<u8>, InputError> {
    let mut bytes = Vec::new();
    reader
        .by_ref()
        .take(kind.limit_bytes() + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| InputError::Io {
            path: path.to_path_buf(),
            kind,
            source,
        })?;
    if bytes.len() as u64 > kind.limit_bytes() {
        return Err(InputError::TooLarge {
            path: path.to_path_buf(),
            kind,
        });
    }
    Ok(bytes)
}

/// Bytes as text, or the position of the first byte that is not UTF-8.
pub fn utf8(bytes: Vec<u8>, path: &Path, kind: Kind) -> Result<String, InputError> {
    String::from_utf8(bytes).map_err(|e| {
        let bad = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let before = std::str::from_utf8(&bytes[..bad]).unwrap_or_default();
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        InputError::NotUtf8 {
            path: path.to_path_buf(),
            kind,
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
            byte: bytes[bad],
        }
    })
}

/// Read `path` as UTF-8 text of at most `kind`'s limit.
pub fn read_text(path: &Path, kind: Kind) -> Result<String, InputError> {
    let file = std::fs::File::open(path).map_err(|source| InputError::Io {
        path: path.to_path_buf(),
        kind,
        source,
    })?;
    utf8(read_bounded(file, path, kind)?, path, kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endless_stream_stops_one_byte_past_the_limit() {
        let p = Path::new("zeros");
        let e = read_bounded(std::io::repeat(0), p, Kind::Scenario).unwrap_err();
        assert_eq!(
            e.to_string(),
            "zeros: larger than 16 MiB, the limit for a scenario file; is this the right file?"
        );
        let exact = vec![b'a'; Kind::Scenario.limit_bytes() as usize];
        assert!(read_bounded(&exact[..], p, Kind::Scenario).is_ok());
    }

    #[test]
    fn bad_byte_is_located_by_line_and_character_column() {
        let e = utf8(
            b"a = 1\n\xc3\xa9b\xff".to_vec(),
            Path::new("s.toml"),
            Kind::Scenario,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "s.toml:2:3: not UTF-8 text (byte 0xff); a scenario file is UTF-8 text"
        );
    }
}
