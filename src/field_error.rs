//! The error a configuration value gives before its location in a file is known. It lives
//! below both the scenario schema and the protocols (each protocol validates its own
//! section), so neither has to import the other for it; `scenario` adds the file, line and
//! column when it reports one.

use std::fmt;

/// A semantic problem with one field, before its location is known.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    /// Dotted path from the document root, e.g. `network.loss` or `fault.2.at`.
    pub field: String,
    /// The offending value as the user wrote it (or as we render it).
    pub value: String,
    /// What would be valid.
    pub expected: String,
}

impl FieldError {
    /// An error for `field`: `value` is rejected, `expected` says what would be valid.
    pub fn new(
        field: impl Into<String>,
        value: impl fmt::Display,
        expected: impl Into<String>,
    ) -> Self {
        FieldError {
            field: field.into(),
            value: value.to_string(),
            expected: expected.into(),
        }
    }

    /// Prefix the field path with a section name (`election_timeout` -> `raft.election_timeout`).
    pub fn within(mut self, section: &str) -> Self {
        self.field = if self.field.is_empty() {
            section.to_string()
        } else {
            format!("{section}.{}", self.field)
        };
        self
    }
}
