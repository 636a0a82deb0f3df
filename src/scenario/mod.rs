//! Scenario files: TOML text -> [`RawScenario`] (schema) -> [`Scenario`] (validated).
//!
//! Overrides (`--set key=value`) and sweep-axis values are applied to the parsed TOML table
//! before validation, so any key of the file can be overridden or swept, and every error is
//! reported against where the bad value came from: a file position, a `--set`, or an axis.

// Scenario errors carry the file path, the located origin and the source line so they can
// be printed without the file at hand; they are produced once per invocation (cold path),
// so their size does not matter.
#![allow(clippy::result_large_err)]

mod error;
pub mod raw;
mod validate;
mod variants;

pub use error::{FieldError, Origin, ScenarioError, line_col, locate, nearest};
pub use raw::RawScenario;
pub use validate::{DEFAULT_ALGORITHM, MAX_NODES, fault_action, validate};
pub use variants::Variant;

use crate::plugin::{ConfiguredAlgorithm, Registry};
use crate::sim::{LocalClock, Network, RandomFault, Resources, ScriptedFault, SimDuration};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A validated experiment: one algorithm, one cluster size, fixed settings.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Scenario name (`"unnamed"` when absent), used in output paths and reports.
    pub name: String,
    /// Free-text description (empty when absent).
    pub description: String,
    /// The algorithm every participant runs, with its validated parameters.
    pub algorithm: ConfiguredAlgorithm,
    /// Participants (ids `0..nodes`), from 2 to [`MAX_NODES`]; service replicas
    /// are counted separately.
    pub nodes: u32,
    /// Virtual length of every run.
    pub duration: SimDuration,
    /// Scenario seed: run seeds of a sweep derive from it.
    pub seed: u64,
    /// Replications per sweep point.
    pub runs: u32,
    /// Bound on processed events per run (see [`crate::sim::SimConfig::max_events`]).
    pub max_events: u64,
    /// Bound on messages in flight per run (see [`crate::sim::SimConfig::max_in_flight`]).
    pub max_in_flight: u64,
    /// Default link model and per-link overrides (`[network]`).
    pub network: Network,
    /// Write latency, write mode and CPU time (`[storage]`, `[cpu]`).
    pub resources: Resources,
    /// Initial local clock per participant.
    pub clocks: Vec<LocalClock>,
    /// Scripted faults (`[[fault]]`), in file order.
    pub faults: Vec<ScriptedFault>,
    /// Poisson fault processes (`[[random_fault]]`).
    pub random_faults: Vec<RandomFault>,
}

/// One `key=value` assignment (from `--set` or a sweep point).
#[derive(Clone, Debug, PartialEq)]
pub struct Assignment {
    /// Dotted scenario key, e.g. `raft.heartbeat`.
    pub key: String,
    /// The value, as TOML.
    pub value: toml::Value,
    /// Where it came from, for error messages.
    pub origin: Origin,
}

impl Assignment {
    /// Parse `key=value` as given to `--set`. The value is read as a TOML value, and as a
    /// plain string when it is not one (`--set duration=10s`).
    pub fn parse_set(text: &str) -> Result<Assignment, String> {
        // A newline would end the value early when it is read as TOML, and the printed
        // replay command would lose the rest: control characters are refused by position.
        if let Some((i, c)) = text.char_indices().find(|(_, c)| c.is_control()) {
            return Err(format!(
                "`--set {}`: control character {c:?} at character {}; a --set value is one line of printable text (write a multi-line or tab value in the scenario file)",
                text.escape_debug(),
                text[..i].chars().count() + 1
            ));
        }
        let (key, value) = text.split_once('=').ok_or_else(|| {
            format!("`--set {text}`: expected KEY=VALUE, e.g. --set network.loss=0.05")
        })?;
        let key = key.trim();
        if key.is_empty() || key.split('.').any(str::is_empty) {
            return Err(format!(
                "`--set {text}`: `{key}` is not a dotted key like `raft.pre_vote`"
            ));
        }
        let depth = key.split('.').count();
        if depth > MAX_KEY_SEGMENTS {
            return Err(format!(
                "`--set {}...`: a key of {depth} segments; scenario keys have at most {MAX_KEY_SEGMENTS}",
                text.chars().take(60).collect::<String>()
            ));
        }
        Ok(Assignment {
            key: key.to_string(),
            value: parse_value(value.trim()),
            origin: Origin::Override(format!("--set {text}")),
        })
    }
}

/// Most dot-separated segments in a `--set` key (the deepest scenario key, `fault.N.partition.G.I`,
/// has five).
pub const MAX_KEY_SEGMENTS: usize = 16;

/// The text of an integer literal too large for TOML (which [`parse_value`] keeps as a
/// string), and the representable value nearest to it.
fn overflowing_integer(v: &toml::Value) -> Option<(String, i64)> {
    let toml::Value::String(s) = v else {
        return None;
    };
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    let is_int = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_')
        && s.replace('_', "").parse::<i64>().is_err();
    is_int.then(|| {
        let nearest = if s.starts_with('-') {
            i64::MIN
        } else {
            i64::MAX
        };
        (s.clone(), nearest)
    })
}

/// A TOML value from command-line text, falling back to a string.
pub fn parse_value(text: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {text}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(text.to_string()))
}

/// A sweep axis: a dotted key and the values it takes, in file order.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// Dotted scenario key the axis varies (`variant` for the `[[variant]]` axis).
    pub key: String,
    /// The values, in file order.
    pub values: Vec<toml::Value>,
    /// `Some(table)` for a per-algorithm axis, written in a sub-table of `[sweep]` named
    /// after an algorithm's table (`[sweep.raft]`): it is crossed only with the points whose
    /// algorithm reads that table.
    pub table: Option<String>,
}

/// A scenario file read from disk, checked against the schema, ready to be instantiated
/// with overrides and sweep points.
#[derive(Clone, Debug)]
pub struct ScenarioFile {
    /// The file read (for messages and output).
    pub path: PathBuf,
    /// Its full text (for error excerpts and run manifests).
    pub text: String,
    table: toml::Table,
    /// The algorithms `algorithm = "..."` resolves against, and whose tables the file may hold.
    registry: Arc<Registry>,
}

/// Hard bound on sweep points (axes' cartesian product).
pub const MAX_SWEEP_POINTS: usize = 100_000;

impl ScenarioFile {
    /// Read and schema-check a file (syntax, unknown keys, types), with positions, against
    /// the process-wide registry ([`crate::plugin::registry`]).
    pub fn read(path: &Path) -> Result<ScenarioFile, ScenarioError> {
        Self::read_in(path, crate::plugin::registry())
    }

    /// [`ScenarioFile::read`] against `registry`.
    pub fn read_in(path: &Path, registry: Arc<Registry>) -> Result<ScenarioFile, ScenarioError> {
        let text = read_scenario_text(path)?;
        let file = Self::from_text_in(path, text, registry)?;
        // An empty file would run with every default, silently: almost surely a mistake.
        if file.table.is_empty() {
            return Err(ScenarioError::Parse {
                path: path.to_path_buf(),
                message: "the file has no settings: every value would be a default; write at least one key (e.g. algorithm = \"raft\"), see the README's scenario reference".into(),
                origin: Origin::Unlocated,
            });
        }
        Ok(file)
    }

    /// Same as [`ScenarioFile::read`] from text already in memory (`path` names it in errors).
    pub fn from_text(path: &Path, text: String) -> Result<ScenarioFile, ScenarioError> {
        Self::from_text_in(path, text, crate::plugin::registry())
    }

    /// [`ScenarioFile::from_text`] against `registry`.
    pub fn from_text_in(
        path: &Path,
        text: String,
        registry: Arc<Registry>,
    ) -> Result<ScenarioFile, ScenarioError> {
        let unlocated = |message: String| ScenarioError::Parse {
            path: path.to_path_buf(),
            message,
            origin: Origin::Unlocated,
        };
        check_tables(&registry).map_err(unlocated)?;
        let parse_err = |e: toml::de::Error| {
            let span = e.span().or_else(|| {
                e.message()
                    .contains("recursion")
                    .then(|| deepest_key(&text))
                    .flatten()
            });
            let origin = span.map_or(Origin::Unlocated, |s| {
                let (line, column, source_line) = line_col(&text, s.start);
                Origin::File {
                    line,
                    column,
                    source_line,
                }
            });
            ScenarioError::Parse {
                path: path.to_path_buf(),
                message: with_hint(&with_tables(e.message(), &registry), key_of(&origin)),
                origin,
            }
        };
        let table: toml::Table = toml::from_str(&text).map_err(parse_err)?;
        // The schema checks keep the spans of the text: the core schema sees the document
        // without the algorithms' tables, each algorithm only its own tables.
        let doc = toml::de::DeTable::parse(&text).map_err(parse_err)?;
        let tables = registry.tables();
        let mut core = doc.clone();
        crate::plugin::keep_keys(&mut core, |k| !tables.contains(&k));
        RawScenario::deserialize(toml::de::Deserializer::from(core)).map_err(parse_err)?;
        registry.check_document(&doc).map_err(parse_err)?;
        Ok(ScenarioFile {
            path: path.to_path_buf(),
            text,
            table,
            registry,
        })
    }

    /// The registry this file resolves algorithm names against.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The sweep axes in the order the file gives them (nested keys flattened to dotted
    /// paths), with the `[[variant]]` names as the axis `variant` where the first variant is.
    pub fn axes(&self) -> Result<Vec<Axis>, ScenarioError> {
        let mut axes = Vec::new();
        if let Some(toml::Value::Table(t)) = self.table.get("sweep") {
            let tables = self.registry.tables();
            for (k, v) in t {
                let table = match v {
                    toml::Value::Table(_) if tables.contains(&k.as_str()) => Some(k.as_str()),
                    _ => None,
                };
                flatten_axes(k.clone(), v, table, &mut axes);
            }
        }
        let variants = self.variants()?;
        if !variants.is_empty() {
            if axes.iter().any(|a| a.key == "variant") {
                return Err(ScenarioError::Field {
                    path: self.path.clone(),
                    origin: locate(&self.text, "sweep.variant").unwrap_or(Origin::Unlocated),
                    error: FieldError::new(
                        "sweep.variant",
                        "an axis",
                        "no `variant` axis in [sweep]: the [[variant]] tables are that axis",
                    ),
                });
            }
            axes.push(Axis {
                key: "variant".into(),
                values: variants
                    .into_iter()
                    .map(|v| toml::Value::String(v.name))
                    .collect(),
                table: None,
            });
        }
        // The parsed tables are sorted by key: the text gives the file order.
        let offsets = variants::axis_offsets(&self.text);
        axes.sort_by_key(|a| {
            offsets
                .iter()
                .find(|(k, _)| *k == a.key)
                .map_or(usize::MAX, |o| o.1)
        });
        for (i, a) in axes.iter().enumerate() {
            let bad = |expected: &str, value: String| ScenarioError::Field {
                path: self.path.clone(),
                origin: locate(&self.text, &format!("sweep.{}", a.key))
                    .unwrap_or(Origin::Unlocated),
                error: FieldError::new(format!("sweep.{}", a.key), value, expected),
            };
            if a.key == "sweep" || a.key.starts_with("sweep.") {
                return Err(bad("a scenario key, not `sweep` itself", a.key.clone()));
            }
            if a.values.is_empty() {
                return Err(bad("a non-empty list of values", "[]".into()));
            }
            for (j, v) in a.values.iter().enumerate() {
                if a.values[..j].contains(v) {
                    return Err(bad("a list without repeated values", v.to_string()));
                }
            }
            if axes[..i].iter().any(|b| b.key == a.key) {
                return Err(bad("each key once", a.key.clone()));
            }
        }
        let points: usize = axes
            .iter()
            .map(|a| a.values.len())
            .try_fold(1usize, |acc, n| acc.checked_mul(n))
            .unwrap_or(usize::MAX);
        if points > MAX_SWEEP_POINTS {
            return Err(ScenarioError::Field {
                path: self.path.clone(),
                origin: locate(&self.text, "sweep").unwrap_or(Origin::Unlocated),
                error: FieldError::new(
                    "sweep",
                    format!("{points} points"),
                    format!("at most {MAX_SWEEP_POINTS} sweep points"),
                ),
            });
        }
        Ok(axes)
    }

    /// Instantiate with assignments applied in order (later ones win).
    pub fn instantiate(&self, assignments: &[Assignment]) -> Result<Scenario, ScenarioError> {
        match self.build(assignments) {
            Err(ScenarioError::Parse { message, .. }) if !assignments.is_empty() => {
                Err(self.blame(assignments, message))
            }
            other => other,
        }
    }

    /// A schema error (wrong type) after assignments: the file itself was checked when it
    /// was read, so the first assignment whose prefix no longer reads is the culprit. An
    /// integer beyond TOML's range (kept as a string by [`parse_value`]) is reported with
    /// the field's own valid range, found by trying the nearest representable value.
    fn blame(&self, assignments: &[Assignment], message: String) -> ScenarioError {
        let schema_fails =
            |a: &[Assignment]| matches!(self.build(a), Err(ScenarioError::Parse { .. }));
        let Some(i) = (1..=assignments.len()).find(|&n| schema_fails(&assignments[..n])) else {
            return ScenarioError::Parse {
                path: self.path.clone(),
                message,
                origin: Origin::Unlocated,
            };
        };
        let a = &assignments[i - 1];
        let Some((text, nearest)) = overflowing_integer(&a.value) else {
            return ScenarioError::Parse {
                path: self.path.clone(),
                message,
                origin: a.origin.clone(),
            };
        };
        let mut probe = assignments[..i].to_vec();
        probe[i - 1].value = toml::Value::Integer(nearest);
        let expected = match self.build(&probe) {
            Err(ScenarioError::Field { error, .. }) if error.field == a.key => error.expected,
            Ok(_) => format!(
                "an integer from {} to {} (TOML's range)",
                i64::MIN,
                i64::MAX
            ),
            Err(_) => {
                return ScenarioError::Parse {
                    path: self.path.clone(),
                    message,
                    origin: a.origin.clone(),
                };
            }
        };
        ScenarioError::Field {
            path: self.path.clone(),
            error: FieldError::new(a.key.clone(), text, expected),
            origin: a.origin.clone(),
        }
    }

    fn build(&self, assignments: &[Assignment]) -> Result<Scenario, ScenarioError> {
        let mut table = self.table.clone();
        table.remove("sweep");
        table.remove("variant");
        // `variant = NAME` stands for the keys of that variant, applied where it stands.
        let mut applied: Vec<Assignment> = Vec::with_capacity(assignments.len());
        for a in assignments {
            if a.key == "variant" {
                applied.extend(self.variant(&a.value, &a.origin)?.assignments);
            } else {
                applied.push(a.clone());
            }
        }
        let assignments = &applied[..];
        for a in assignments {
            set_path(&mut table, &a.key, a.value.clone()).map_err(|expected| {
                ScenarioError::Field {
                    path: self.path.clone(),
                    error: FieldError::new(a.key.clone(), a.value.to_string(), expected),
                    origin: a.origin.clone(),
                }
            })?;
        }
        // A schema error from `try_into` has no position: `instantiate` blames it on the
        // assignment that caused it.
        let parse_error = |e: toml::de::Error| ScenarioError::Parse {
            path: self.path.clone(),
            message: with_hint(&with_tables(e.message(), &self.registry), None),
            origin: Origin::Unlocated,
        };
        let field_error = |error: FieldError| {
            let origin = assignments
                .iter()
                .rev()
                .find(|a| {
                    error.field == a.key
                        || error.field.starts_with(&format!("{}.", a.key))
                        || a.key.starts_with(&format!("{}.", error.field))
                })
                .map(|a| a.origin.clone())
                .or_else(|| locate(&self.text, &error.field))
                .unwrap_or(Origin::Unlocated);
            ScenarioError::Field {
                path: self.path.clone(),
                error,
                origin,
            }
        };
        let tables = self.registry.tables();
        let core: toml::Table = table
            .iter()
            .filter(|(k, _)| !tables.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let raw: RawScenario = toml::Value::Table(core).try_into().map_err(parse_error)?;
        let nodes = validate::nodes(&raw).map_err(field_error)?;
        let name = raw.algorithm.as_deref().unwrap_or(DEFAULT_ALGORITHM);
        let algorithm = self
            .registry
            .configure(name, &table, nodes)
            .map_err(|e| match e {
                crate::plugin::ConfigError::Schema(e) => parse_error(e),
                crate::plugin::ConfigError::Field(e) => field_error(e),
            })?;
        validate(&raw, algorithm).map_err(field_error)
    }
}

/// The text of a scenario file, bounded in size (see [`crate::input`]); a non-UTF-8 byte is
/// reported at its line and column.
pub fn read_scenario_text(path: &Path) -> Result<String, ScenarioError> {
    use crate::input::{InputError, Kind};
    crate::input::read_text(path, Kind::Scenario).map_err(|e| match e {
        InputError::Io { path, source, .. } => ScenarioError::Io { path, source },
        InputError::TooLarge { ref path, .. } => ScenarioError::Parse {
            path: path.clone(),
            message: format!(
                "the file is larger than {} MiB, the limit for a scenario file; is this the right file?",
                Kind::Scenario.limit_bytes() >> 20
            ),
            origin: Origin::Unlocated,
        },
        InputError::NotUtf8 {
            path,
            line,
            column,
            byte,
            ..
        } => ScenarioError::Parse {
            path,
            message: format!("not UTF-8 text (byte 0x{byte:02x}); a scenario file is UTF-8 text"),
            origin: Origin::File {
                line,
                column,
                source_line: String::new(),
            },
        },
    })
}

/// The span of the line with the most dotted key segments: the parser's "recursion limit"
/// error about a too-deep key (`a.a.a...` 10 000 times) has no position of its own.
fn deepest_key(text: &str) -> Option<std::ops::Range<usize>> {
    let mut best: Option<(usize, usize)> = None; // (dots, line start)
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let key = line.split('=').next().unwrap_or("");
        let dots = key.matches('.').count();
        if best.is_none_or(|(d, _)| dots > d) {
            best = Some((dots, start));
        }
        start += line.len();
    }
    best.filter(|&(d, _)| d > 0).map(|(_, s)| s..s)
}

/// A registry whose algorithm reads a table named like a key of the scenario schema would
/// make that key unreadable: refuse it by name.
fn check_tables(registry: &Registry) -> Result<(), String> {
    let core = raw::root_keys();
    match registry.tables().into_iter().find(|t| core.contains(t)) {
        Some(t) => Err(format!(
            "a registered algorithm reads the table `{t}`, which is a key of the scenario schema; name an algorithm's table after the algorithm"
        )),
        None => Ok(()),
    }
}

/// The core schema's "unknown field `x`, expected one of ..." about a root key also lists
/// the registered algorithms' tables, so the hint can suggest them (`[raf]` -> `raft`). The
/// message is the root's when it lists exactly the root keys.
fn with_tables(message: &str, registry: &Registry) -> String {
    let msg = message.trim_end();
    let root: Vec<String> = raw::root_keys().iter().map(|k| format!("`{k}`")).collect();
    if !(msg.starts_with("unknown field `") && msg.ends_with(&root.join(", "))) {
        return msg.to_string();
    }
    let tables: Vec<String> = registry.tables().iter().map(|t| format!("`{t}`")).collect();
    format!(
        "{msg}, or a registered algorithm's table: {}",
        tables.join(", ")
    )
}

fn flatten_axes(key: String, v: &toml::Value, table: Option<&str>, out: &mut Vec<Axis>) {
    let table = table.map(str::to_string);
    match v {
        toml::Value::Table(sub) => {
            for (k, v) in sub {
                flatten_axes(format!("{key}.{k}"), v, table.as_deref(), out);
            }
        }
        toml::Value::Array(values) => out.push(Axis {
            key,
            values: values.clone(),
            table,
        }),
        other => out.push(Axis {
            key,
            values: vec![other.clone()],
            table,
        }),
    }
}

/// Set a dotted path in a table, creating tables as needed; numeric segments index arrays.
/// This is how `--set` and sweep axes apply to a scenario.
pub fn set_path(table: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), String> {
    let segs: Vec<&str> = key.split('.').collect();
    let (first, rest) = segs.split_first().ok_or("a non-empty key")?;
    if rest.is_empty() {
        table.insert(first.to_string(), value);
        return Ok(());
    }
    if !table.contains_key(*first) && rest[0].parse::<usize>().is_ok() {
        return Err(missing_list(first, rest[0]));
    }
    let child = table
        .entry(first.to_string())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    set_in(child, &segs, 1, value)
}

fn set_in(
    cur: &mut toml::Value,
    segs: &[&str],
    i: usize,
    value: toml::Value,
) -> Result<(), String> {
    let seg = segs[i];
    let last = i + 1 == segs.len();
    let parent = segs[..i].join(".");
    let slot = match cur {
        toml::Value::Table(t) => {
            if last {
                t.insert(seg.to_string(), value);
                return Ok(());
            }
            if !t.contains_key(seg) && segs[i + 1].parse::<usize>().is_ok() {
                return Err(missing_list(&segs[..=i].join("."), segs[i + 1]));
            }
            t.entry(seg.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        }
        toml::Value::Array(a) => {
            let idx: usize = seg
                .parse()
                .map_err(|_| format!("a numeric index into the list `{parent}`"))?;
            let len = a.len();
            let slot = a
                .get_mut(idx)
                .ok_or_else(|| format!("an index below {len} into `{parent}`"))?;
            if last {
                *slot = value;
                return Ok(());
            }
            slot
        }
        _ => return Err(format!("a key of a table, but `{parent}` is a plain value")),
    };
    set_in(slot, segs, i + 1, value)
}

/// The error for `list.N.key` when `list` does not exist: indexes address existing entries.
fn missing_list(list: &str, index: &str) -> String {
    format!(
        "an existing list element, but there is no `{list}` to index (element {index}); add a `[[{list}]]` entry to the file first"
    )
}

/// Add a "did you mean" hint to serde's unknown-field / unknown-variant messages.
/// The key written at the start of an error's source line (`runs` in `runs = 1e99`).
fn key_of(origin: &Origin) -> Option<&str> {
    match origin {
        Origin::File { source_line, .. } => source_line.split('=').next().map(str::trim),
        _ => None,
    }
}

fn with_hint(message: &str, key: Option<&str>) -> String {
    let msg = message.trim_end().to_string();
    if msg.contains("value was too large") || msg.contains(" as i128") {
        let range = format!("TOML integers are {} to {}", i64::MIN, i64::MAX);
        return match key {
            Some("seed") => format!(
                "{msg}\n  hint: {range}; write a larger seed as a string, e.g. seed = \"18446744073709551615\""
            ),
            Some(k) => format!("the integer for `{k}` is beyond TOML's range\n  hint: {range}"),
            None => format!("{msg}\n  hint: {range}"),
        };
    }
    for marker in ["unknown field `", "unknown variant `"] {
        let Some(start) = msg.find(marker) else {
            continue;
        };
        let rest = &msg[start + marker.len()..];
        let Some(end) = rest.find('`') else { continue };
        let word = &rest[..end];
        let candidates: Vec<&str> = rest[end..].split('`').skip(2).step_by(2).collect();
        if let Some(best) = nearest(word, candidates.iter().copied()) {
            return format!("{msg}\n  hint: did you mean `{best}`?");
        }
    }
    msg
}
